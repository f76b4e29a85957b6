"""Monitoring benchmark: import, status and report at a statistics office's scale. Prints
figures (not a test).

Run: ``python benchmarks/bench_monitor.py [--index DIR] [--years 24]`` (about a minute; an
index of the seed is built with a stand-in embedder when ``--index`` is not given, since
monitoring never searches).

What is measured
  import     ``kb.actuals.import_file`` of a synthesised CSV: every indicator of the seed
             with a target, for ``--years`` years (2000…), in its target's unit. Values are
             synthetic (a trend), not statistics. Seconds and rows/s; then the same file
             again (every row replaces one: the re-import path).
  monitor    ``KnowledgeBase.monitor()`` over every target with all those actuals: seconds.
  report     ``kb.report.html_report`` with one inline SVG chart per target with data:
             seconds and MB of HTML.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_index(tmp: Path) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import SEED, HashEmbedder

    from kb.build import ingest

    idx = tmp / "index"
    ingest([SEED], idx, embedder=HashEmbedder())
    return idx


def synth_csv(kb, path: Path, years: int) -> int:
    """One row per (indicator with a numeric target, year); returns the row count."""
    from kb.monitor import catalog

    names = catalog(kb).names
    seen, rows = set(), []
    for t in kb.targets():
        name = t.indicator_norm or t.indicator
        key = names.key_of(name)
        if t.value is None or key in seen or t.comparator in ("decrease_by", "increase_by"):
            continue
        seen.add(key)
        for i in range(years):
            value = t.value * (0.8 + 0.2 * i / max(1, years - 1))
            rows.append([name, 2000 + i, f"{value:.3f}", t.unit or "", "synthetic"])
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["指标", "年份", "数值", "单位", "来源"])
        w.writerows(rows)
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, help="an index to copy (default: build one of the seed)")
    ap.add_argument("--years", type=int, default=24)
    args = ap.parse_args()
    from kb.base import KnowledgeBase
    from kb.report import html_report

    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        tmp = Path(tmp)
        if args.index:
            idx = tmp / "index"
            shutil.copytree(args.index, idx, symlinks=True)
            (idx / "actuals.sqlite").unlink(missing_ok=True)
        else:
            idx = build_index(tmp)
        kb = KnowledgeBase.open(idx)
        data = tmp / "synthetic.csv"
        n = synth_csv(kb, data, args.years)
        print(f"load average {os.getloadavg()[0]:.2f}; {n} rows ({args.years} years)")
        for label in ("import", "re-import"):
            t0 = time.perf_counter()
            report = kb.import_actuals(data)
            dt = time.perf_counter() - t0
            print(f"{label:10s} {dt:6.2f} s  {n / dt:8.0f} rows/s  stored {report.stored}, replaced {report.replaced}")
        t0 = time.perf_counter()
        rows = kb.monitor()
        print(f"monitor    {time.perf_counter() - t0:6.2f} s  {len(rows)} targets, "
              f"{sum(1 for r in rows if r.series)} with data")
        t0 = time.perf_counter()
        page = html_report(rows, 2023)
        print(f"report     {time.perf_counter() - t0:6.2f} s  {len(page.encode()) / 1e6:.1f} MB HTML, "
              f"{page.count('<svg')} charts")


if __name__ == "__main__":
    main()
