"""Search backends side by side (kb.retrievers: embedded bm25s + FAISS vs Milvus on
milvus-lite) over one built index. Prints figures (not a test); docs/backends.md and
docs/performance.md quote them.

Run: ``python benchmarks/bench_backends.py --index /work/idx-corpus [--repeats 3] [--cold-runs 3]``
(the index is copied twice, never written; about 3-5 minutes on 2 cores).

What is measured, per backend
  build         ``kb.build.reindex(copy, backend=…)``: a new generation from the store, vectors
                from the embedding cache (nothing embedded), so this is the backend's own
                indexing time plus the shared segmentation of every clause.
  cold search   wall time of ``kb search 儿童溺水 -k 3 --index copy`` as a new process, median
                of ``--cold-runs`` (model load, backend open — for milvus-lite: start its
                server, read the collection, jieba's dictionary — and one query).
  warm search   ``KnowledgeBase.search(q, k=10, mode=hybrid)`` over the seed and law dev
                questions, ``--repeats`` passes after a warm-up pass: p50/p95 ms.
  retriever     ``retriever.search`` alone (both lists, depth 100, the default version filter),
                with the query vector and tokens prepared beforehand: the backend's share.
  recall@5      hybrid, seed dev (90) and law dev (45) questions (kb.evaluate).

``--rows N`` (e.g. 64665, the national corpus' article count) measures instead the two
retrievers alone at N rows: the index's clauses repeated to N (ids suffixed #1, #2, …; texts
as they are; vectors = the real vector plus Gaussian noise σ=0.05, re-normalised, so copies are
near but not equal): build time (``retriever.build``, FAISS HNSW and Milvus HNSW above
kb.dense.HNSW_THRESHOLD), open time of the built retriever, and ``retriever.search`` p50/p95
over the dev questions (depth 100, no filter), both lists and each alone. Synthetic: BM25 posting lists are ~N/1,471 times
longer than real unique texts would make them, so BM25 figures err on the slow side.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED_DEV = ROOT / "tests" / "gold" / "questions.dev.jsonl"
LAW_DEV = ROOT / "tests" / "gold" / "laws" / "questions.dev.jsonl"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def cold(index: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "kb"), "search", "儿童溺水", "-k", "3", "--index", str(index)],
                       check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(name: str, index: Path, embedder, repeats: int, cold_runs: int) -> dict:
    from kb.base import KnowledgeBase
    from kb.evaluate import evaluate, load_questions
    from kb.retrievers import RetrievalQuery
    from kb.search import Filters

    out = {"backend": name}
    out["cold_search_s"] = cold(index, cold_runs)
    base = KnowledgeBase.open(index, embedder=embedder)
    t = time.perf_counter()
    base.warm_up()
    out["warm_up_s"] = time.perf_counter() - t
    questions = [q.q for q in load_questions(SEED_DEV) + load_questions(LAW_DEV)]
    for q in questions:
        base.search(q, k=10)
    lat = []
    for _ in range(repeats):
        for q in questions:
            t = time.perf_counter()
            base.search(q, k=10)
            lat.append((time.perf_counter() - t) * 1000)
    out["hybrid_p50_ms"], out["hybrid_p95_ms"] = pct(lat, 0.5), pct(lat, 0.95)
    s = base.searcher
    scope, _ = s.scope_of(Filters())
    prepared = []
    for q in questions:
        from kb.query import understand

        intent = understand(q, s.plan_keys, s.lexicon, s.indicators, s.domains)
        prepared.append(RetrievalQuery(intent.text, s.query_tokens(q, intent),
                                       s.embedder.embed_queries([intent.dense_text])[0]))
    lat = []
    for _ in range(repeats):
        for p in prepared:
            t = time.perf_counter()
            s.retriever.search(p, 100, scope)
            lat.append((time.perf_counter() - t) * 1000)
    out["retriever_p50_ms"], out["retriever_p95_ms"] = pct(lat, 0.5), pct(lat, 0.95)
    for label, path in (("seed", SEED_DEV), ("law", LAW_DEV)):
        r = evaluate(base, load_questions(path), modes=("hybrid",), answers=False).to_dict()
        out[f"recall@5_{label}"] = r["modes"]["hybrid"]["overall"]["recall@5"]
    base.close()
    return out


def at_rows(index: Path, rows: int, repeats: int) -> None:
    import dataclasses

    import numpy as np

    from kb.base import KnowledgeBase
    from kb.evaluate import load_questions
    from kb.indexes import sparse_text
    from kb.query import understand
    from kb.retrievers import Passages, RetrievalQuery, create_retriever, open_retriever
    from kb.retrievers.milvus import new_config

    base = KnowledgeBase.open(index)
    base.warm_up()
    s = base.searcher
    clauses = base.store.clauses()
    ids = [c.id for c in clauses]
    vectors = s.retriever.dense.index.reconstruct_batch(np.array([s.retriever.dense._key[i] for i in ids], np.int64))
    texts = [sparse_text(c) for c in clauses]
    tokens = [s.segmenter.cut(t) for t in texts]
    rng = np.random.default_rng(0)
    big_c, big_t, big_k, big_v = [], [], [], []
    for n in range(rows):
        i = n % len(clauses)
        copy = n // len(clauses)
        big_c.append(clauses[i] if copy == 0 else dataclasses.replace(clauses[i], id=f"{ids[i]}#{copy}"))
        big_t.append(texts[i])
        big_k.append(tokens[i])
        v = vectors[i] + (rng.normal(0, 0.05, vectors.shape[1]).astype(np.float32) if copy else 0)
        big_v.append(v / np.linalg.norm(v))
    docs = {d["id"]: d for d in base.store.documents()}
    passages = Passages(big_c, big_t, big_k, np.vstack(big_v).astype(np.float32), docs,
                        (s.gen / "user_words.txt").read_text("utf-8").split())
    questions = [q.q for q in load_questions(SEED_DEV) + load_questions(LAW_DEV)]
    prepared = []
    for q in questions:
        intent = understand(q, s.plan_keys, s.lexicon, s.indicators, s.domains)
        prepared.append(RetrievalQuery(intent.text, s.query_tokens(q, intent),
                                       s.embedder.embed_queries([intent.dense_text])[0]))
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("embedded", "milvus"):
            gen = Path(tmp) / name / "gen-bench-rows"
            gen.mkdir(parents=True)
            config = {"name": "embedded"} if name == "embedded" else new_config(gen)
            t = time.perf_counter()
            r = create_retriever(gen, config)
            r.build(passages)
            built = time.perf_counter() - t
            manifest_entry = r.config
            r.close()
            t = time.perf_counter()
            r = open_retriever(gen, {"backend": manifest_entry})
            opened = time.perf_counter() - t
            for p in prepared:
                r.search(p, 100)
            row = {"backend": name, "rows": rows, "build_s": round(built, 1), "open_s": round(opened, 2)}
            for label, lists in (("both", ("bm25", "dense")), ("bm25", ("bm25",)), ("dense", ("dense",))):
                lat = []
                for _ in range(repeats):
                    for p in prepared:
                        t = time.perf_counter()
                        r.search(p, 100, lists=lists)
                        lat.append((time.perf_counter() - t) * 1000)
                row[f"{label}_p50_ms"], row[f"{label}_p95_ms"] = round(pct(lat, 0.5), 1), round(pct(lat, 0.95), 1)
            r.close()
            print(dict(row, load_avg=os.getloadavg()[0]), flush=True)
    base.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("/work/idx-corpus"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--rows", type=int, default=0, help="measure the retrievers alone at this many rows")
    args = ap.parse_args()
    if args.rows:
        return at_rows(args.index, args.rows, args.repeats)
    from kb.build import reindex
    from kb.embed import load_embedder

    embedder = load_embedder(None)
    embedder.warm_up()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("embedded", "milvus"):
            index = Path(tmp) / name
            shutil.copytree(args.index, index, symlinks=True)
            t = time.perf_counter()
            reindex(index, backend=name, embedder=embedder)
            build = time.perf_counter() - t
            row = {"build_s": build, **measure(name, index, embedder, args.repeats, args.cold_runs)}
            row["load_avg"] = os.getloadavg()[0]
            rows.append(row)
            print(row, flush=True)
    keys = ["build_s", "cold_search_s", "warm_up_s", "hybrid_p50_ms", "hybrid_p95_ms", "retriever_p50_ms",
            "retriever_p95_ms", "recall@5_seed", "recall@5_law", "load_avg"]
    print("| figure | " + " | ".join(r["backend"] for r in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for r in rows) + " |")


if __name__ == "__main__":
    main()
