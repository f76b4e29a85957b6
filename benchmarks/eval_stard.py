"""STARD over a national index, mode by mode, with the time each mode took.

    python benchmarks/eval_stard.py --index /work/idx-national [--modes bm25,dense,hybrid]
        [--limit N] [--versions all|current] [--out stard.json]

What ``kb eval --set stard`` reports (kb.evaluate_stard), plus seconds per mode. An index
built by ``benchmarks/ingest_national.py --hash-embedder`` (no model: real parse, tags and
BM25, stand-in vectors) is opened with that stand-in, so its **bm25** figures are real
national-scale figures while its dense and hybrid ones are not.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_STARD = ROOT.parent / "shared" / "eval" / "stard" / "queries.train.jsonl"


def stand_in(manifest: dict):
    """The ingest benchmark's HashEmbedder when the index was built with it, else None."""
    spec = importlib.util.spec_from_file_location("ingest_national", ROOT / "benchmarks" / "ingest_national.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HashEmbedder() if manifest.get("model") == module.HashEmbedder.name else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=DEFAULT_STARD)
    ap.add_argument("--modes", default="bm25,dense,hybrid")
    ap.add_argument("--limit", type=int, help="only the first N questions")
    ap.add_argument("--versions", default="all", choices=("all", "current"))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    from kb import layout
    from kb.base import KnowledgeBase
    from kb.evaluate_stard import evaluate_stard, load_stard

    questions = load_stard(args.questions)[: args.limit]
    kb = KnowledgeBase.open(args.index, embedder=stand_in(layout.read_manifest(args.index)))
    report = evaluate_stard(kb, questions, args.modes.split(","), versions=args.versions)
    data = dict(report.to_dict(), index=str(args.index), model=kb.manifest.get("model"), versions=args.versions)
    print(json.dumps(data, ensure_ascii=False, indent=2))
    if args.out:
        args.out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
