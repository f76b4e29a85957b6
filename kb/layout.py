"""The index directory: generations of built artifacts behind an atomic manifest.

::

    index/
      manifest.json          {"generation": "gen-…", "kb_version", "model", "dim",
                              "user_dict_sha256", "corpus_sha256", "built_at", …}
      gen-20261129T101500-1a2b/
        kb.sqlite            the store (documents, nodes, clauses, tags)
        sparse/ dense/       search indexes (built by kb.build)
      kb.sqlite -> gen-…/kb.sqlite   convenience link for sqlite tools

A build writes a complete new generation, then replaces ``manifest.json`` with
``os.replace`` (atomic on POSIX). A crash at any point before that leaves the previous
generation and manifest untouched; readers that opened the old generation keep reading
it until they close.

Readers register on the generation they read (:func:`hold_generation`: a shared ``flock``
on ``gen-…/.readers.lock``, released by the kernel when the reader closes or dies). Pruning
after a commit keeps the committed generation and the previous good one (the one the old
manifest named, whatever the modification times), and any generation a live reader holds;
every other ``gen-*`` (superseded ones, half-built ones left by a killed ingest) is removed.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import zipfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Optional

from kb.errors import IndexMissing, IndexStale

MANIFEST = "manifest.json"
STORE_FILE = "kb.sqlite"
READERS_FILE = ".readers.lock"  # readers hold a shared flock on it (see hold_generation)
TRASH_PREFIX = ".trash-"


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    """The manifest of ``index_dir``; raises IndexMissing when there is no built index."""
    path = Path(index_dir) / MANIFEST
    if not path.exists():
        raise IndexMissing(f"no index at {index_dir}: run `kb ingest corpus/` (or pass --index DIR)")
    with damaged_index(index_dir):
        manifest = json.loads(path.read_text("utf-8"))
        manifest["generation"]
    return manifest


def current_generation(index_dir: str | Path) -> Path:
    """Directory of the generation the manifest points to."""
    gen = Path(index_dir) / read_manifest(index_dir)["generation"]
    if not gen.is_dir():
        raise IndexMissing(f"{gen} is missing: the index is damaged; rebuild it with `kb ingest --rebuild corpus/`")
    return gen


def new_generation(index_dir: str | Path, seed: bool = True) -> Path:
    """Create a generation directory, seeded (``seed=True``) with a copy of the current
    store. Raises IndexStale when the current store is damaged (then ingest with
    ``--rebuild``, which does not seed)."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    gen = root / f"gen-{stamp}-{secrets.token_hex(3)}"
    gen.mkdir()
    (gen / READERS_FILE).touch()
    old = store_path(root) if seed else None
    if old is not None and old.exists():
        try:
            with damaged_index(root):
                copy_sqlite(old, gen / STORE_FILE)
        except IndexStale:
            abandon_generation(gen)
            raise
    return gen


@contextmanager
def damaged_index(index_dir: str | Path) -> Iterator[None]:
    """Turn the errors a truncated or corrupted index file raises (SQLite, zip, numpy)
    into IndexStale with what to do."""
    try:
        yield
    except (sqlite3.DatabaseError, zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
        raise IndexStale(f"the index at {index_dir} is damaged ({type(e).__name__}: {e}); "
                         "rebuild it: kb ingest --rebuild corpus/") from e


def copy_sqlite(src: Path, dst: Path) -> None:
    """Consistent copy of a SQLite file with the backup API (safe while others read it)."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as s, sqlite3.connect(dst) as d:
        s.backup(d)
    s.close()
    d.close()


def commit_generation(index_dir: str | Path, gen: Path, manifest: dict[str, Any]) -> list[str]:
    """Point the index at ``gen``: write the manifest atomically (recording the generation
    it replaces as ``previous_generation``), update the link, prune. Call it holding the
    writer lock (``kb.lock``). Returns the names of the generations removed."""
    root = Path(index_dir)
    try:
        previous = read_manifest(root)["generation"]
    except (IndexMissing, IndexStale):
        previous = None
    manifest = dict(manifest, generation=gen.name, previous_generation=previous)
    write_atomic(root / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    _relink(root / STORE_FILE, Path(gen.name) / STORE_FILE)
    return prune(root, keep={gen.name, previous} - {None})


def abandon_generation(gen: Path) -> None:
    """Remove a half-built generation after a failure."""
    shutil.rmtree(gen, ignore_errors=True)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file, fsync and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def npy_bytes(array) -> bytes:
    """The ``.npy`` file of a numpy array (contiguous, no pickles), for :func:`write_atomic`."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def atomic_savez(path: Path, arrays: dict[str, Any]) -> Path:
    """``np.savez`` of ``arrays`` (name → numpy array) written atomically (:func:`write_atomic`:
    temp file, fsync, ``os.replace``) with the usual permissions, so a server running as
    another user can read an index an admin built. Returns ``path``."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())
    return path


def link_or_copy(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` as a hard link (replacing ``target`` atomically), or a
    copy when the two are on different file systems. For the sealed segments of the search
    indexes (kb.sparse, kb.dense), which are never written in place: a generation shares
    them with the one before instead of copying ~150 MB at the national size."""
    import shutil

    if target.exists() and target.samefile(source):
        return
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _relink(link: Path, target: Path) -> None:
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.lnk")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError:  # filesystems without symlinks: the manifest is the source of truth
        tmp.unlink(missing_ok=True)


def prune(root: Path, keep: set[str]) -> list[str]:
    """Remove every ``gen-*`` directory of ``root`` except those named in ``keep`` and those
    a live reader holds; returns the names removed. A removed generation is first renamed
    to ``.trash-…`` while its reader lock is held exclusively, so a reader opening it at
    that moment finds it gone and re-reads the manifest instead of reading a half-deleted
    directory. Call it holding the writer lock."""
    removed = []
    for gen in sorted(p for p in root.glob("gen-*") if p.is_dir() and p.name not in keep):
        fd = _open_readers(gen)
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a reader still answers from it; the next commit retries
            trash = root / f"{TRASH_PREFIX}{gen.name}-{secrets.token_hex(3)}"
            os.replace(gen, trash)
            removed.append(gen.name)
        finally:
            if fd is not None:
                os.close(fd)
        shutil.rmtree(trash, ignore_errors=True)
    for trash in root.glob(TRASH_PREFIX + "*"):  # left by a process killed while deleting
        shutil.rmtree(trash, ignore_errors=True)
    return removed


def _open_readers(gen: Path) -> Optional[int]:
    try:
        return os.open(gen / READERS_FILE, os.O_RDONLY)
    except OSError:  # a generation built before reader registration, a half-built one, or no permission
        return None


class GenerationHold:
    """A reader's registration on one generation (see :func:`hold_generation`); ``release()``
    (idempotent) lets pruning remove the generation."""

    def __init__(self, gen: Path, fd: Optional[int]):
        self.gen = gen
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the shared flock


def hold_generation(index_dir: str | Path, attempts: int = 5) -> tuple[dict[str, Any], GenerationHold]:
    """Read the manifest and register as a reader of its generation: ``(manifest, hold)``.

    The hold is a shared ``flock`` on the generation's ``.readers.lock``; while it is held,
    :func:`prune` leaves the generation alone. When the generation vanishes between reading
    the manifest and taking the hold (a writer committed twice meanwhile), the manifest is
    read again (``attempts`` times at most). Raises IndexMissing / IndexStale like
    :func:`current_generation`."""
    root = Path(index_dir)
    for _ in range(attempts):
        manifest = read_manifest(root)
        gen = root / manifest["generation"]
        fd = _open_readers(gen)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        if (gen / STORE_FILE).exists():
            return manifest, GenerationHold(gen, fd)
        if fd is not None:
            os.close(fd)
    current_generation(root)  # raises the error that says what is wrong
    raise IndexStale(f"the index at {root} keeps changing under the reader; try again")


def store_path(index_dir: str | Path) -> Optional[Path]:
    """Path of the current store, or None when no index is built yet."""
    try:
        return current_generation(index_dir) / STORE_FILE
    except IndexMissing:
        return None
