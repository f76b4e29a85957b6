"""Run ``kb serve`` in a subprocess and wait until it answers ``/health``: for the tests that
need a real server (the browser tests) and the load benchmark (benchmarks/bench_api.py).

>>> with serve(Path("index")) as (base, proc):
...     httpx.get(f"{base}/api/search", params={"q": "儿童溺水"})
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Mapping, Optional


class ServerDidNotStart(RuntimeError):
    """``kb serve`` exited, or did not answer ``/health`` in time; the message holds its output."""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(base: str) -> bool:
    """Whether the server at ``base`` answers ``GET /health`` with 200."""
    import httpx

    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def serve(index: Path, env: Optional[Mapping[str, str]] = None, log: Optional[IO[bytes]] = None,
          timeout_s: float = 180) -> Iterator[tuple[str, subprocess.Popen]]:
    """``kb serve --index INDEX`` on a free 127.0.0.1 port (the ``kb`` beside this Python, or
    on PATH), with ``env`` (default: this process's); yields (base URL, process) once
    ``/health`` answers, and stops it after. Its output goes to ``log`` (a binary file),
    else is kept for the error. Raises ServerDidNotStart with that output (when no ``log`` is given) when it exits or
    does not answer within ``timeout_s`` seconds."""
    port = free_port()
    exe = Path(sys.executable).with_name("kb")
    cmd = [str(exe) if exe.exists() else "kb", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index", str(index)]
    out = log if log is not None else tempfile.TemporaryFile()  # a file: a pipe left unread fills and blocks it
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                            env=dict(env) if env is not None else dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while not healthy(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                output = ""
                if log is None:
                    out.seek(0)
                    output = out.read().decode("utf-8", "replace")
                raise ServerDidNotStart(f"kb serve did not start{': ' + output if output else ''}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log is None:
            out.close()
