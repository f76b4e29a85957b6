"""Search benchmark: build throughput, warm query latency, memory and cold start, at the
seed corpus size and at a synthesised 100x corpus. Prints figures (not a test).

Run: ``python benchmarks/bench_search.py [--scale 100] [--build-scale 1] [--cold-runs 5]``
(about 5-15 minutes on 2 cores, mostly the embedding of the seed corpus and parsing the
100 copies). Each phase runs in its own process so that peak RSS and cold start are
those of that phase alone; the load average is printed with every phase because the
machine may be shared.

What is measured
  build 1x      ``kb.build.ingest`` of ``corpus/`` into a fresh index with the real
                model (nothing cached): seconds, passages/s, and the embedding share.
  build Nx      ``--build-scale N`` (N > 1) does the same over N copies of the seed with
                real embedding of every copy: the honest build rate (slow: ~N x 1x).
  queries       the 90 dev questions (tests/gold/questions.dev.jsonl), ``--repeats``
                passes after a warm-up pass, through ``KnowledgeBase.search(q, mode=…)``
                for bm25, dense and hybrid; and ``embed_queries([q])`` alone, the floor
                of dense and hybrid. p50/p95 in ms; peak RSS of that process.
  cold start    wall time of ``kb search 儿童溺水 --index … -k 3`` as a new process,
                median of ``--cold-runs``; with the floors: ``python -c pass`` and
                ``import cli.main`` (the CLI's imports).
  100x          ``--scale 100``: the seed copied 100 times into a temp corpus folder
                with the 发文字号 rewritten (曾政发〔2022〕8号 → 〔2022〕1000号, 1001号, …),
                so every copy gets its own document and clause ids. It is ingested with
                the real pipeline (parse, store, BM25, HNSW since > 10,000 vectors) except
                that (a) passage vectors are embedded once per distinct text and reused for
                the copies -- the copies' texts are identical, so these ARE the vectors
                the model would give, but the build time is not a build rate (see build
                Nx) -- and (b) tags (targets, departments) are computed once per distinct
                clause text, for the same reason. Query figures and cold start at 100x
                are then measured on that true-size index.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"
QUESTIONS = ROOT / "tests" / "gold" / "questions.dev.jsonl"
COLD_QUERY = "儿童溺水"
MODES = ("bm25", "dense", "hybrid")


# ---------------------------------------------------------------- helpers
def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))]


def synth_corpus(folder: Path, copies: int) -> Path:
    """``copies`` copies of the seed in ``folder`` with distinct 发文字号 (hence ids)."""
    text = SEED.read_text(encoding="utf-8")
    if "曾政发〔2022〕8号" not in text:
        raise SystemExit("seed has no 发文字号 曾政发〔2022〕8号 to rewrite")
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(copies):
        no = 8 if i == 0 else 1000 + i
        out = text.replace("曾政发〔2022〕8号", f"曾政发〔2022〕{no}号")
        (folder / f"copy-{i:03d}.txt").write_text(out, encoding="utf-8")
    return folder


class TimedEmbedder:
    """Wraps an embedder: same ``name``/``dim``; counts passage-embedding seconds; with
    ``memo`` embeds each distinct passage text once (for the 100x synthetic corpus)."""

    def __init__(self, inner, memo: bool = False):
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.memo = {} if memo else None
        self.seconds, self.embedded = 0.0, 0

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts):
        import numpy as np

        t = time.perf_counter()
        if self.memo is None:
            out = self.inner.embed_passages(texts)
            self.embedded += len(texts)
        else:
            todo = list(dict.fromkeys(x for x in texts if x not in self.memo))
            if todo:
                for x, v in zip(todo, self.inner.embed_passages(todo)):
                    self.memo[x] = v
                self.embedded += len(todo)
            out = np.stack([self.memo[x] for x in texts]) if texts else np.zeros((0, self.dim), np.float32)
        self.seconds += time.perf_counter() - t
        return out


def memoise_tagging() -> None:
    """Tag each distinct clause text once (tags depend only on the text)."""
    import kb.departments as dep
    import kb.targets as tgt

    for mod, name in ((tgt, "extract_targets"), (dep, "tag_departments")):
        fn, cache = getattr(mod, name), {}

        def wrapped(text, *args, _fn=fn, _cache=cache):
            if text not in _cache:
                _cache[text] = _fn(text, *args)
            return copy.deepcopy(_cache[text])

        setattr(mod, name, wrapped)


# ---------------------------------------------------------------- phases (child processes)
def phase_build(corpus: str, index: str, memo: bool) -> dict:
    from kb.build import ingest
    from kb.embed import load_embedder

    if memo:
        memoise_tagging()
    emb = TimedEmbedder(load_embedder(None), memo=memo)
    t = time.perf_counter()
    report = ingest([corpus], index, rebuild=True, embedder=emb)
    seconds = time.perf_counter() - t
    n = report.total_clauses
    return {"seconds": seconds, "clauses": n, "passages_per_s": n / seconds,
            "embed_seconds": emb.seconds, "embedded": emb.embedded,
            "embed_per_s": emb.embedded / emb.seconds if emb.seconds else None,
            "peak_rss_mb": peak_rss_mb()}


def phase_queries(index: str, repeats: int) -> dict:
    from kb.base import KnowledgeBase

    questions = [json.loads(line)["q"] for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]
    t = time.perf_counter()
    kb = KnowledgeBase.open(index)
    kb.warm_up()
    out: dict = {"warm_up_s": time.perf_counter() - t, "queries": len(questions), "repeats": repeats}
    embedder = kb.searcher.embedder

    def timed(fn) -> dict:
        for q in questions[:10]:
            fn(q)
        times = []
        for _ in range(repeats):
            for q in questions:
                t0 = time.perf_counter()
                fn(q)
                times.append((time.perf_counter() - t0) * 1000)
        return {"p50_ms": statistics.median(times), "p95_ms": pct(times, 95), "n": len(times)}

    out["embed"] = timed(lambda q: embedder.embed_queries([q]))
    for mode in MODES:
        out[mode] = timed(lambda q, m=mode: kb.search(q, k=10, mode=m))
    out["peak_rss_mb"] = peak_rss_mb()
    out["clauses"] = len(kb.searcher.retriever.sparse)  # the embedded backend (kb.retrievers.embedded)
    out["dense_kind"] = kb.searcher.retriever.dense.kind
    out["compiled_dictionary"] = bool(getattr(kb.searcher.segmenter, "compiled", False))
    return out


# ---------------------------------------------------------------- parent
def run_phase(name: str, *args: str) -> dict:
    load = load_avg()
    cmd = [sys.executable, __file__, "--_phase", name, *args]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"phase {name} failed:\n{res.stderr[-3000:]}")
    data = json.loads(res.stdout.strip().splitlines()[-1])
    data["load"] = f"{load} → {load_avg()}"
    return data


def wall(cmd: list[str], runs: int) -> dict:
    """Wall and CPU (user + sys) seconds of ``cmd`` as a new process, over ``runs`` runs.
    On a shared machine wall time includes waiting for a core; CPU time does not."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, cwd="/")
        times.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if res.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stderr[-2000:]}")
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "cpu_median_s": statistics.median(cpu), "runs": runs}


def cold_start(index: Path, runs: int) -> dict:
    """Cold-start figures; processes run from /, like ``kb`` from anywhere."""
    kb_exe = shutil.which("kb") or str(Path(sys.executable).with_name("kb"))
    load = load_avg()
    out = {
        "python": wall([sys.executable, "-c", "pass"], runs),
        "import_cli": wall([sys.executable, "-c", "import cli.main"], runs),
        "kb_search": wall([kb_exe, "search", COLD_QUERY, "--index", str(index.resolve()), "-k", "3"], runs),
    }
    out["load"] = f"{load} → {load_avg()}"
    return out


def table(rows: list[tuple[str, str, str]]) -> str:
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    return "\n".join(f"  {a:<{w0}}  {b:>{w1}}  {c}" for a, b, c in rows)


def report(results: dict) -> str:
    rows: list[tuple[str, str, str]] = []
    for key, label in (("build_1x", "build 1x"), ("build_nx", "build Nx")):
        b = results.get(key)
        if b:
            rows += [(f"{label}: ingest ({b['clauses']} passages)", f"{b['seconds']:.1f} s",
                      f"{b['passages_per_s']:.1f} passages/s; embedding {b['embed_seconds']:.1f} s = "
                      f"{b['embed_per_s']:.1f} passages/s; peak RSS {b['peak_rss_mb']:.0f} MB; load {b['load']}")]
    for key, label in (("queries_1x", "1x"), ("queries_100x", "100x")):
        q = results.get(key)
        if not q:
            continue
        rows.append((f"{label}: warm-up (open + load all)", f"{q['warm_up_s']:.2f} s",
                     f"{q['clauses']} clauses, dense={q['dense_kind']}, compiled dict={q['compiled_dictionary']}"))
        for m in ("embed", *MODES):
            name = "query embedding alone" if m == "embed" else f"search mode={m}"
            rows.append((f"{label}: {name} p50", f"{q[m]['p50_ms']:.1f} ms", f"p95 {q[m]['p95_ms']:.1f} ms (n={q[m]['n']})"))
        ratio = q["hybrid"]["p50_ms"] / q["embed"]["p50_ms"]
        rows.append((f"{label}: hybrid p50 / embedding p50", f"{ratio:.2f}x", "aim ≤ 1.5x"))
        rows.append((f"{label}: peak RSS (query process)", f"{q['peak_rss_mb']:.0f} MB", f"load {q['load']}"))
    for key, label in (("cold_1x", "1x"), ("cold_100x", "100x")):
        c = results.get(key)
        if not c:
            continue
        rows += [(f"{label}: cold `kb search {COLD_QUERY}`", f"{c['kb_search']['median_s']:.2f} s",
                  f"median of {c['kb_search']['runs']} (min {c['kb_search']['min_s']:.2f}, max "
                  f"{c['kb_search']['max_s']:.2f}); aim < 1.5 s; load {c['load']}"),
                 (f"{label}:   CPU time (user+sys) of it", f"{c['kb_search']['cpu_median_s']:.2f} s",
                  "median; ≈ wall time on an idle machine"),
                 (f"{label}:   of which python start", f"{c['python']['median_s']:.2f} s",
                  f"CPU {c['python']['cpu_median_s']:.2f} s"),
                 (f"{label}:   of which import cli.main", f"{c['import_cli']['median_s']:.2f} s",
                  f"CPU {c['import_cli']['cpu_median_s']:.2f} s; incl. python start")]
    s = results.get("synth_100x")
    if s:
        rows.append(("100x: synthetic build (vectors/tags reused)", f"{s['seconds']:.1f} s",
                     f"{s['clauses']} clauses; not a build rate; load {s['load']}"))
    return table(rows)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=100, help="copies for the large-corpus queries (0: skip)")
    ap.add_argument("--build-scale", type=int, default=1, help="copies embedded for real to measure build rate")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2, help="passes over the 90 dev questions per mode")
    ap.add_argument("--workdir", type=Path, default=None, help="keep indexes here (default: a temp dir)")
    ap.add_argument("--reuse", action="store_true", help="reuse indexes already built in --workdir")
    ap.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    ap.add_argument("--_phase", help=argparse.SUPPRESS)
    ap.add_argument("args", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a._phase:
        fn = {"build": lambda c, i, m: phase_build(c, i, m == "memo"),
              "queries": lambda i, r: phase_queries(i, int(r))}[a._phase]
        print(json.dumps(fn(*a.args)))
        return

    work = a.workdir or Path(tempfile.mkdtemp(prefix="kb-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"policy-kb search benchmark — {os.cpu_count()} CPUs, load {load_avg()}, work dir {work}", flush=True)
    results: dict = {}
    idx1 = work / "index-1x"
    if not (a.reuse and (idx1 / "manifest.json").exists()):
        print("building 1x with the real model …", flush=True)
        results["build_1x"] = run_phase("build", str(SEED.parent), str(idx1), "real")
    if a.build_scale > 1:
        print(f"building {a.build_scale}x with the real model (slow) …", flush=True)
        corpus = synth_corpus(work / f"corpus-{a.build_scale}x", a.build_scale)
        results["build_nx"] = run_phase("build", str(corpus), str(work / f"index-{a.build_scale}x"), "real")
    print("1x queries and cold start …", flush=True)
    results["queries_1x"] = run_phase("queries", str(idx1), str(a.repeats))
    results["cold_1x"] = cold_start(idx1, a.cold_runs)
    if a.scale > 1:
        idxn = work / f"index-{a.scale}x"
        if not (a.reuse and (idxn / "manifest.json").exists()):
            print(f"synthesising {a.scale}x ({a.scale} copies) …", flush=True)
            corpus = synth_corpus(work / f"corpus-{a.scale}x", a.scale)
            results["synth_100x"] = run_phase("build", str(corpus), str(idxn), "memo")
        print(f"{a.scale}x queries and cold start …", flush=True)
        results["queries_100x"] = run_phase("queries", str(idxn), str(a.repeats))
        results["cold_100x"] = cold_start(idxn, a.cold_runs)
    print()
    print(report(results).replace("100x", f"{a.scale}x") if a.scale != 100 else report(results))
    if a.json:
        print(json.dumps(results, ensure_ascii=False, indent=2))
    if a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
