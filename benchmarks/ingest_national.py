"""Ingest the national corpus (laws-cn: 1,512 texts, 64,665 articles) and measure it.

    nohup python benchmarks/ingest_national.py --index /work/idx-national > national.log 2>&1 &

1. **Embedding floor**: a fixed sample of passages (every ``--stride``-th article of the
   corpus in file order, ``--sample`` of them, cut to the model's window as the ingest cuts
   them) is embedded with the model alone, in the ingest's batch size; its passages/s,
   extrapolated to every passage of the corpus, is the floor: the least time any pipeline
   could take. Those vectors go into the index's cache, so the ingest below does not embed
   them again (the sample counts in the total).
2. **Ingest** with ``kb.build.ingest`` (parse, tag, store, BM25, embed, FAISS), logging every
   ``--log-seconds`` the stage, done/total, rate and ETA, and the process's RSS.
3. Prints and writes (``--out``, JSON) wall and CPU seconds per stage, the floor, the ratio
   end-to-end / floor (issue 10: ≤ 1.15), peak RSS (≤ 2 GB) and the passages embedded.

Resumable: run it again after a kill; vectors already in ``INDEX/cache/embeddings.sqlite``
are not embedded again (``--no-floor`` skips step 1 on a resume: the sample is cached).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpora" / "laws-cn"


def rss_mb() -> float:
    """Current resident set size of this process, MB (from /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sample_passages(files: list[Path], n: int, stride: int, embedder) -> list[str]:
    """Every ``stride``-th article of ``files`` (in order) as the ingest embeds it, ``n`` at most."""
    from kb.indexes import fit_to_window, passage_text
    from kb.parse import parse_file

    out, seen = [], 0
    for f in files:
        for c in parse_file(f).clauses:
            if seen % stride == 0:
                out.append(fit_to_window(embedder, passage_text(c)))
            seen += 1
            if len(out) >= n:
                return out
    return out


def measure_floor(texts: list[str], embedder, index: Path, log) -> dict:
    """Embed ``texts`` with the model alone (batches of EMBED_BATCH_SIZE), caching the
    vectors; returns passages, seconds, passages/s."""
    from kb.embed_cache import VectorCache, cache_path, passage_key
    from kb.indexes import EMBED_BATCH_SIZE

    embedder.warm_up()
    cache = VectorCache(cache_path(index))
    t0, c0 = time.perf_counter(), cpu_seconds()
    for i in range(0, len(texts), EMBED_BATCH_SIZE):
        batch = texts[i:i + EMBED_BATCH_SIZE]
        cache.put_many([passage_key(embedder.name, t) for t in batch], embedder.embed_passages(batch))
        if (i // EMBED_BATCH_SIZE) % 20 == 0:
            log(f"floor: {i + len(batch)}/{len(texts)} passages, {(i + len(batch)) / (time.perf_counter() - t0):.2f}/s")
    cache.close()
    secs = time.perf_counter() - t0
    return {"passages": len(texts), "seconds": round(secs, 1), "cpu_seconds": round(cpu_seconds() - c0, 1),
            "passages_per_s": round(len(texts) / secs, 3)}


class HashEmbedder:
    """Stand-in embedder (character-bigram hashing, 384 dims, not a model): with it the
    ingest's other stages are timed at full size in minutes. Its vectors are cached under
    its own name, never mixed with a model's."""

    name, dim = "bench-hash-bigram-384", 384

    def warm_up(self) -> None:
        pass

    def embed_passages(self, texts: list[str]):
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            cols = [zlib.crc32(t[j:j + 2].encode()) % self.dim for j in range(len(t) - 1)]
            np.add.at(out[i], cols, 1.0)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    embed_queries = embed_passages


class ProgressLog:
    """``progress(stage, done, total)`` for kb.build.ingest that logs a line every
    ``every`` seconds (and at each stage's end) with rate, ETA and RSS."""

    def __init__(self, log, every: float):
        self.log, self.every = log, every
        self.started: dict[str, tuple[float, int]] = {}
        self.last = 0.0
        self.peak = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.peak = max(self.peak, rss_mb())
        if stage not in self.started:
            self.started[stage] = (now, done)
        if now - self.last < self.every and done < total:
            return
        self.last = now
        t0, d0 = self.started[stage]
        rate = (done - d0) / (now - t0) if now > t0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("nan")
        self.log(f"{stage}: {done}/{total} {rate:.2f}/s ETA {eta / 60:.1f} min RSS {rss_mb():.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--sample", type=int, default=2000, help="passages in the floor sample")
    ap.add_argument("--stride", type=int, default=32, help="take every Nth article for the floor sample")
    ap.add_argument("--no-floor", action="store_true", help="skip the floor (e.g. on a resume)")
    ap.add_argument("--log-seconds", type=float, default=60.0)
    ap.add_argument("--out", type=Path, help="write the figures as JSON here")
    ap.add_argument("--hash-embedder", action="store_true",
                    help="embed with a fast hashing stand-in (not a model) to time every other stage at this size")
    args = ap.parse_args()

    from kb.build import collect_paths, ingest
    from kb.embed import load_embedder

    def log(msg: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    embedder = HashEmbedder() if args.hash_embedder else load_embedder(None)
    files = collect_paths([args.corpus])
    log(f"{len(files)} files under {args.corpus}; index {args.index}; load {os.getloadavg()}")
    t0, c0 = time.perf_counter(), cpu_seconds()
    floor = None
    if not args.no_floor:
        texts = sample_passages(files, args.sample, args.stride, embedder)
        floor = measure_floor(texts, embedder, args.index, log)
        log(f"floor: {floor}")
    progress = ProgressLog(log, args.log_seconds)
    t1 = time.perf_counter()
    report = ingest(files, args.index, embedder=embedder, progress=progress)
    wall = time.perf_counter() - t0
    out = {"files": len(files), "clauses": report.total_clauses, "stages_s": report.stages,
           "ingest_wall_s": round(time.perf_counter() - t1, 1), "total_wall_s": round(wall, 1),
           "cpu_s": round(cpu_seconds() - c0, 1), "peak_rss_mb": round(peak_rss_mb(), 0),
           "loadavg_end": os.getloadavg(), "floor": floor}
    if floor:
        floor_s = report.total_clauses / floor["passages_per_s"]
        out.update(floor_extrapolated_s=round(floor_s, 1), ratio_to_floor=round(wall / floor_s, 3))
    log(json.dumps(out, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
