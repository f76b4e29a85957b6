"""Load test of ``GET /api/search``: requests/s and latency p50/p99 at 1, 10 and 50
concurrent clients (httpx async, loopback only, bounded in time).

Starts ``kb serve`` on a free 127.0.0.1 port over ``--index`` (or uses ``--url`` of a
server already running on loopback), then for each level runs that many clients, each
sending its next query as soon as the previous answer arrives, for ``--seconds``.
Queries cycle through the development questions (tests/gold/questions.dev.jsonl).
Client and server share the machine, so the figures are a floor.

``--reingest CORPUS`` (reliability, issue 12): while the clients run, ``kb ingest
CORPUS --force`` re-ingests into the same index again and again in another process, each
run committing a new generation that the server must switch to between requests; a
poller records the generations ``/health`` reports. The row then adds the re-ingests
completed and the generations served. Example, the figure in docs/reliability.md:
``python benchmarks/bench_api.py --index index --clients 50 --seconds 60 --reingest corpus/``

Run: ``python benchmarks/bench_api.py --index index [--seconds 15] [--clients 1 10 50] [--json]``
(``--questions FILE``: another JSONL question file; the server's resident memory, warm and
after the runs, is printed too)
Exit status 1 when any request failed (non-200 or transport error).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "gold" / "questions.dev.jsonl"
FALLBACK_QUERIES = ["儿童溺水", "孕产妇死亡率", "家庭暴力", "区教育局负责哪些工作", "2030年目标", "妇女就业"]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def queries(path: Path = QUESTIONS) -> list[str]:
    """The ``q`` of each line of a JSONL question file (default: the development questions;
    ``--questions ../shared/eval/stard/queries.train.jsonl`` for citizens' questions at the
    national size), at most 200 characters each, or a small fixed set when it is absent."""
    if not path.exists():
        return FALLBACK_QUERIES
    qs = [json.loads(line)["q"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [q[:200] for q in qs] or FALLBACK_QUERIES


def rss_mb(pid: int) -> dict:
    """Resident and peak resident memory of process ``pid`` in MB (Linux /proc), {} elsewhere."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {k: round(int(fields[f].split()[0]) / 1024) for k, f in (("rss_mb", "VmRSS"), ("peak_rss_mb", "VmHWM"))
            if f in fields}


@contextmanager
def kb_serve(index: Path, timeout_s: float = 120) -> Iterator[tuple[str, int]]:
    """Run ``kb serve`` on a free loopback port (api.launch); yields its base URL and process id."""
    from api.launch import ServerDidNotStart, serve

    env = {k: v for k, v in os.environ.items() if k not in ("KB_ADMIN_TOKEN", "KB_CORS_ORIGINS")}
    try:
        with serve(index, env, timeout_s=timeout_s) as (base, proc):
            yield base, proc.pid
    except ServerDidNotStart as e:
        raise SystemExit(str(e))


async def run_level(base: str, clients: int, seconds: float, qs: list[str]) -> dict:
    """``clients`` closed-loop clients for ``seconds``: req/s, p50/p99 ms, errors."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        start = time.perf_counter()
        deadline = start + seconds

        async def client(i: int) -> None:
            nonlocal errors
            n = i
            while time.perf_counter() < deadline:
                q = qs[n % len(qs)]
                n += clients
                t0 = time.perf_counter()
                try:
                    r = await http.get("/api/search", params={"q": q, "k": 10})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        await asyncio.gather(*(client(i) for i in range(clients)))
        elapsed = time.perf_counter() - start
    ms = sorted(x * 1000 for x in latencies)
    return {"clients": clients, "requests": len(ms), "errors": errors, "seconds": round(elapsed, 2),
            "req_per_s": round(len(ms) / elapsed, 1),
            "p50_ms": round(statistics.median(ms), 1) if ms else None,
            "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 1) if ms else None}


def bench(base: str, levels: list[int], seconds: float, reingest: Path | None = None,
          index: Path | None = None, questions: Path = QUESTIONS) -> list[dict]:
    qs = queries(questions)
    asyncio.run(run_level(base, 2, 3, qs))  # warm-up: caches, first-call allocations
    if reingest is None:
        return [asyncio.run(run_level(base, c, seconds, qs)) for c in levels]
    return [_during_reingest(base, c, seconds, qs, reingest, index) for c in levels]


def _during_reingest(base: str, clients: int, seconds: float, qs: list[str], corpus: Path, index: Path) -> dict:
    """One level while ``kb ingest CORPUS --force`` runs in a loop; adds re-ingest and
    generation counts to the row."""
    import threading

    stop = threading.Event()
    runs: list[int] = []
    generations: list[str] = []

    def reingest() -> None:
        exe = Path(sys.executable).with_name("kb")
        while not stop.is_set():
            done = subprocess.run([str(exe) if exe.exists() else "kb", "ingest", str(corpus), "--force",
                                   "--index", str(index)], capture_output=True)
            runs.append(done.returncode)

    def poll() -> None:
        while not stop.is_set():
            try:
                gen = httpx.get(f"{base}/health", timeout=10).json().get("generation")
                if gen and (not generations or generations[-1] != gen):
                    generations.append(gen)
            except (httpx.HTTPError, ValueError):
                pass
            stop.wait(0.5)

    workers = [threading.Thread(target=reingest), threading.Thread(target=poll)]
    for w in workers:
        w.start()
    try:
        row = asyncio.run(run_level(base, clients, seconds, qs))
    finally:
        stop.set()
        for w in workers:
            w.join()
    return dict(row, reingests=len(runs), reingests_failed=sum(1 for r in runs if r != 0),
                generations_served=len(generations))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=Path(os.environ.get("KB_INDEX") or "index"))
    ap.add_argument("--url", help="A running server on loopback (default: start kb serve)")
    ap.add_argument("--seconds", type=float, default=15, help="Duration of each level, seconds")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--json", action="store_true", help="Print the results as JSON")
    ap.add_argument("--reingest", type=Path, help="Re-ingest this corpus into --index in a loop meanwhile")
    ap.add_argument("--questions", type=Path, default=QUESTIONS, help="JSONL file of questions (field q)")
    args = ap.parse_args(argv)
    memory = {}
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        ap.error("--url must be a loopback address (127.0.0.1, localhost, ::1)")
    if args.url:
        rows = bench(args.url.rstrip("/"), args.clients, args.seconds, args.reingest, args.index, args.questions)
    else:
        with kb_serve(args.index) as (base, pid):
            memory["warm_before"] = rss_mb(pid)
            rows = bench(base, args.clients, args.seconds, args.reingest, args.index, args.questions)
            memory["after"] = rss_mb(pid)
    if args.json:
        print(json.dumps({"levels": rows, "server_memory": memory} if memory else rows, indent=2))
    else:
        print(f"GET /api/search (k=10), {os.cpu_count()} CPUs, {args.seconds:g} s per level")
        print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}")
        for r in rows:
            print(f"{r['clients']:>7} {r['requests']:>8} {r['req_per_s']:>7} {r['p50_ms']:>7} {r['p99_ms']:>7} "
                  f"{r['errors']:>6}")
            if "reingests" in r:
                print(f"        during {r['reingests']} re-ingests ({r['reingests_failed']} failed); "
                      f"the server served {r['generations_served']} generations")
        if memory:
            print(f"server memory: warm (after /health) {memory['warm_before']}, after the runs {memory['after']}")
    return 1 if any(r["errors"] or r.get("reingests_failed") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
