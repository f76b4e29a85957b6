"""One writer at a time per index directory; readers are never blocked.

Every write to an index (``kb ingest``, ``kb remove``, an API upload, an import of actual
values, a search backend's writes) runs inside :func:`writer_lock`. The lock is an
``flock`` on ``INDEX/.writer.lock``; the file also records who holds it
(``{"pid", "started_at", "host", "command"}``) so a waiting writer can say whom it waits
for. The kernel releases an ``flock`` when its holder dies, so a lock left by a killed
process is never stuck: the next writer takes it over and reports the dead holder.

Readers do not take the lock: they read the committed generation through the manifest
(see ``kb.layout``), which a writer replaces atomically only when its generation is complete.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional

from kb.errors import IndexLocked

LOCK_FILE = ".writer.lock"
POLL_SECONDS = 0.2


@dataclass
class Holder:
    """Who holds (or last held) a writer lock: process id, ISO start time, host, command line."""

    pid: int
    started_at: str
    host: str = ""
    command: str = ""

    def describe(self) -> str:
        return f"pid {self.pid} ({self.command or 'unknown command'}, since {self.started_at})"


def read_holder(index_dir: str | Path) -> Optional[Holder]:
    """The holder recorded in the lock file, or None when there is none or it is unreadable."""
    try:
        data = json.loads((Path(index_dir) / LOCK_FILE).read_text("utf-8"))
        return Holder(int(data["pid"]), str(data["started_at"]), str(data.get("host", "")), str(data.get("command", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def writer_lock(index_dir: str | Path, *, wait: bool = True, timeout: Optional[float] = None,
                on_message: Optional[Callable[[str], None]] = None, command: Optional[str] = None) -> Iterator[Holder]:
    """Hold the writer lock of ``index_dir`` for the ``with`` block; yields our Holder.

    ``wait=False`` raises :class:`IndexLocked` at once when another writer holds it;
    otherwise it waits (``timeout`` seconds at most, None = forever), calling ``on_message``
    once with who it waits for. A lock file naming a dead process is taken over, with a
    message. Creates ``index_dir`` when missing. Re-entrant within one process is NOT
    supported (a second ``writer_lock`` on the same directory from the same process waits).
    """
    say = on_message or (lambda msg: None)
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = read_holder(root)
                who = holder.describe() if holder else "another process"
                if not wait:
                    raise IndexLocked(f"{root} is being written by {who}; wait for it to finish, "
                                      "or run again without --no-wait to queue behind it") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise IndexLocked(f"{root} is still being written by {who} after {timeout:g}s; "
                                      "try again later") from None
                if not told:
                    say(f"waiting for the writer lock of {root}: held by {who}")
                    told = True
                time.sleep(POLL_SECONDS)
        previous = read_holder(root)
        if previous and previous.pid != os.getpid() and not _alive(previous.pid):
            say(f"took over a stale writer lock of {root} left by {previous.describe()}, which is no longer running")
        me = Holder(os.getpid(), datetime.now(timezone.utc).isoformat(timespec="seconds"), socket.gethostname(),
                    command or " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:200])
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me.__dict__, ensure_ascii=False).encode("utf-8"), 0)
        os.fsync(fd)
        try:
            yield me
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
