"""Hybrid settings on STARD, measured fast: every question's ranked lists retrieved once,
then each setting re-fused from them (issue 10: general methods only — fusion, weights).

    python benchmarks/tune_stard.py --index /work/idx-national [--set weight_bm25=0.3 ...]

The first pass runs ``kb.search`` in each mode (bm25, dense, hybrid) for every STARD question, the
retriever's answers and the query vectors remembered; each configuration then re-runs the
Searcher's fusion, boosts and demotions over the remembered lists without the model or the
retriever (~0.15 s a question at the national size, 100 hits each).
Prints recall@5/10/100 and MRR@10 per configuration on the odd and the even question ids
(choose on one half, check on the other), beside bm25 and dense alone.
Configurations: the current SETTINGS, then each ``--set NAME=VALUE[,NAME=VALUE]`` given.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_STARD = ROOT.parent / "shared" / "eval" / "stard" / "queries.train.jsonl"


def parse_set(text: str) -> dict:
    out = {}
    for part in text.split(","):
        name, value = part.split("=", 1)
        value = value.strip()
        number = value.replace(".", "", 1).isdigit()
        out[name.strip()] = None if value == "None" else (int(value) if value.isdigit() else float(value)) if number else value
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--stard", type=Path, default=DEFAULT_STARD)
    ap.add_argument("--set", action="append", default=[], help="NAME=VALUE[,NAME=VALUE]: one configuration")
    ap.add_argument("--limit", type=int, default=0, help="first N questions only")
    args = ap.parse_args()

    from kb.base import KnowledgeBase
    from kb.evaluate_stard import KS, load_stard, score_mode
    from kb.search import SETTINGS

    questions = load_stard(args.stard)[: args.limit or None]
    kb = KnowledgeBase.open(args.index)
    searcher = kb.searcher
    searcher.warm_up()
    remembered: dict = {}
    inner = searcher.retriever.search

    def search(query, k, scope=None, lists=("bm25", "dense")):
        key = (query.text, tuple(query.tokens), tuple(lists), k, id(scope.excluded) if scope else None)
        if key not in remembered:
            remembered[key] = inner(query, k, scope, lists) if scope is not None else inner(query, k, lists=lists)
        return remembered[key]

    searcher.retriever.search = search
    vectors: dict = {}
    embed = searcher.embedder.embed_queries

    def embed_queries(texts):
        import numpy as np

        missing = [t for t in texts if t not in vectors]
        if missing:
            vectors.update(zip(missing, embed(missing)))
        return np.stack([vectors[t] for t in texts])

    searcher.embedder.embed_queries = embed_queries

    def ranker(mode):
        return lambda q: [h.clause.text for h in kb.search(q, k=max(KS), mode=mode, versions="all").hits]

    halves = {"odd": [q for q in questions if int(q.id) % 2], "even": [q for q in questions if not int(q.id) % 2]}
    t = time.perf_counter()
    for mode in ("bm25", "dense", "hybrid"):
        row = {h: score_mode(qs, ranker(mode)).to_dict() for h, qs in halves.items()}
        print(json.dumps({"mode": mode, **row}), flush=True)
    print(f"# first pass {time.perf_counter() - t:.0f} s", flush=True)
    base = dict(SETTINGS)
    for text in args.set:
        SETTINGS.clear()
        SETTINGS.update(base)
        SETTINGS.update(parse_set(text))
        row = {h: score_mode(qs, ranker("hybrid")).to_dict() for h, qs in halves.items()}
        print(json.dumps({"set": text, **row}), flush=True)
    SETTINGS.clear()
    SETTINGS.update(base)


if __name__ == "__main__":
    main()
