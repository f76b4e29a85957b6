"""Resume after a kill: an ingest SIGKILLed half-way through embedding, then run again,
against the same ingest uninterrupted (issue 10: total work ≤ 1.1×).

    python benchmarks/bench_resume.py [FILES...] [--kill-at 0.5]

Each run is ``kb ingest FILES --index DIR`` in a new process with the real model, into a
fresh index. The interrupted one is killed (SIGKILL: no clean-up runs) once the index's
embedding cache holds ``--kill-at`` of the passages, then ``kb ingest`` runs again. Work is
counted two ways, both blind to other processes' load: passages embedded (rows the cache
gained during each run) and CPU seconds (user + sys of the child processes). Prints both
totals and their ratio to the uninterrupted run.
"""
from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAWS = ROOT / "corpus" / "laws"
DEFAULT_FILES = [LAWS / "社会法" / "反家庭暴力法(2015-12-27).md", LAWS / "行政法" / "母婴保健法(2017-11-04).md",
                 LAWS / "行政法规" / "女职工劳动保护特别规定(2012-04-28).md",
                 LAWS / "行政法规" / "校车安全管理条例(2012-04-05).md"]
KB = [sys.executable, "-c", "import sys; from cli.main import app; app(sys.argv[1:], prog_name='kb')"]


def cached(index: Path) -> int:
    """Rows in the index's embedding cache (0 before it exists)."""
    path = index / "cache" / "embeddings.sqlite"
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    except sqlite3.OperationalError:  # created but no table yet
        return 0


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ingest(files: list[Path], index: Path, kill_at: int | None = None) -> tuple[float, int, bool]:
    """Run ``kb ingest``; (CPU seconds, passages embedded, killed?)."""
    before_cpu, before_rows = children_cpu(), cached(index)
    proc = subprocess.Popen([*KB, "ingest", *map(str, files), "--index", str(index), "--json"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    killed = False
    while proc.poll() is None:
        if kill_at is not None and cached(index) >= kill_at:
            proc.kill()
            killed = True
            break
        time.sleep(0.2)
    proc.wait()
    if not killed and proc.returncode != 0:
        raise SystemExit(proc.stderr.read().decode())
    return children_cpu() - before_cpu, cached(index) - before_rows, killed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    ap.add_argument("--kill-at", type=float, default=0.5, help="share of the passages embedded when killed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        whole_cpu, passages, _ = ingest(args.files, Path(tmp) / "whole")
        print(f"uninterrupted: {passages} passages embedded, {whole_cpu:.1f} CPU s")
        index = Path(tmp) / "killed"
        cpu1, done1, killed = ingest(args.files, index, kill_at=int(passages * args.kill_at))
        print(f"killed={killed} after {done1} passages, {cpu1:.1f} CPU s")
        cpu2, done2, _ = ingest(args.files, index)
        print(f"resumed: {done2} passages embedded, {cpu2:.1f} CPU s")
        print(f"total: {done1 + done2} passages ({(done1 + done2) / passages:.3f}x), "
              f"{cpu1 + cpu2:.1f} CPU s ({(cpu1 + cpu2) / whole_cpu:.3f}x the uninterrupted run)")


if __name__ == "__main__":
    main()
