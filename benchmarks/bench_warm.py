"""Warm query latency on a built index: hybrid search against the query embedding alone
(issue 10: warm hybrid p50 ≤ 1.3× the query embedding at the national size).

    python benchmarks/bench_warm.py --index /work/idx-national [--questions FILE] [--n 300]

One process opens the index and warms it up (first query), then, for each of ``--n``
questions never asked before in this process (the query-vector cache is off, so every
search embeds its query): the model's ``embed_queries([q])`` alone, then
``KnowledgeBase.search(q, k=10)`` in bm25, dense and hybrid mode. Prints p50/p95 ms of
each, the ratio hybrid p50 / embedding p50, the process's peak RSS and the load average.
Questions: the STARD citizens' questions by default (``../shared/eval/stard``), else the
seed dev set.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STARD = ROOT.parent / "shared" / "eval" / "stard" / "queries.train.jsonl"
SEED_DEV = ROOT / "tests" / "gold" / "questions.dev.jsonl"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))], 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, default=STARD if STARD.exists() else SEED_DEV)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()

    from kb.base import KnowledgeBase
    from kb.search import SETTINGS

    SETTINGS["query_cache_size"] = 0  # every search embeds its query, as for a question never seen
    qs = [json.loads(line)["q"][:200] for line in args.questions.read_text("utf-8").splitlines() if line.strip()]
    qs = list(dict.fromkeys(qs))[: args.n]
    kb = KnowledgeBase.open(args.index)
    t = time.perf_counter()
    kb.search("预热", k=10)
    warm_up = time.perf_counter() - t
    model = kb.searcher.embedder.inner
    lat: dict[str, list[float]] = {"embedding": [], "bm25": [], "dense": [], "hybrid": []}
    for q in qs:
        t = time.perf_counter()
        model.embed_queries([q])
        lat["embedding"].append((time.perf_counter() - t) * 1000)
        for mode in ("bm25", "dense", "hybrid"):
            t = time.perf_counter()
            kb.search(q, k=10, mode=mode)
            lat[mode].append((time.perf_counter() - t) * 1000)
    out = {"index": str(args.index), "questions": len(qs), "warm_up_s": round(warm_up, 2),
           **{f"{m}_p50_ms": pct(v, 0.5) for m, v in lat.items()},
           **{f"{m}_p95_ms": pct(v, 0.95) for m, v in lat.items()},
           "hybrid_over_embedding_p50": round(statistics.median(lat["hybrid"]) / statistics.median(lat["embedding"]), 3),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           "load": round(os.getloadavg()[0], 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
