"""One law changed, added or removed in a big index: seconds per stage (issue 10: ≤ 20 s).

    python benchmarks/bench_incremental.py --index /work/idx-national [--law FILE] [--keep]

Works on a copy of ``--index`` (``cp -a``; the original is not touched). Three writes,
each a new generation as ``kb ingest`` / ``kb remove`` make it:

1. **change**: ``--law`` (default: 反家庭暴力法, in every index of laws-cn) with one
   article's wording changed, re-ingested: only that article is embedded again;
2. **remove** that law;
3. **add** it back (its articles' vectors come from the cache).

Prints wall seconds, passages embedded and the stages (parse, tag, store, bm25, embed,
dense) of each. The embedder is the index's model, or, for an index built by
``ingest_national.py --hash-embedder``, that stand-in (then the embed stage excludes the
model: add the model's time for the changed passages, about 0.1–0.3 s each on 2 cores).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_LAW = ROOT / "corpus" / "laws" / "社会法" / "反家庭暴力法(2015-12-27).md"


class Counting:
    """Wraps an embedder and counts the passages it embeds."""

    def __init__(self, inner):
        self.inner, self.passages = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_passages(self, texts):
        self.passages += len(texts)
        return self.inner.embed_passages(texts)


def index_embedder(manifest: dict):
    spec = importlib.util.spec_from_file_location("ingest_national", ROOT / "benchmarks" / "ingest_national.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if manifest.get("model") == module.HashEmbedder.name:
        return module.HashEmbedder()
    from kb.embed import load_embedder

    return load_embedder(manifest.get("model_spec"))


def changed_copy(law: Path, folder: Path) -> Path:
    """``law`` with the first article's first sentence reworded (同一 id: same title and date)."""
    text = law.read_text("utf-8")
    at = text.index("第一条")
    end = text.index("\n", at)
    out = folder / law.name
    out.write_text(text[:end] + "(本条文字已修改)" + text[end:], "utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--law", type=Path, default=DEFAULT_LAW)
    ap.add_argument("--keep", action="store_true", help="keep the copy (its path is printed)")
    args = ap.parse_args()

    from kb import layout
    from kb.build import ingest, remove_documents

    tmp = Path(tempfile.mkdtemp(prefix="bench-incr-"))
    index = tmp / "index"
    t = time.perf_counter()
    subprocess.run(["cp", "-a", str(args.index), str(index)], check=True)
    print(f"copied {args.index} in {time.perf_counter() - t:.1f} s")
    emb = Counting(index_embedder(layout.read_manifest(index)))
    law = changed_copy(args.law, tmp)
    rows = []
    for what, run in (("change", lambda: ingest([law], index, embedder=emb)),
                      ("remove", lambda: remove_documents([doc_id], index, embedder=emb)),
                      ("add", lambda: ingest([args.law], index, embedder=emb))):
        before = emb.passages
        t = time.perf_counter()
        report = run()
        if what == "change":
            doc_id = report.documents[0]
        rows.append({"what": what, "seconds": round(time.perf_counter() - t, 1), "embedded": emb.passages - before,
                     "clauses": report.total_clauses, "stages": report.stages})
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    if args.keep:
        print(f"kept {index}")
    else:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
