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
"""
from __future__ import annotations

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
KEEP_GENERATIONS = 2  # the current one and its predecessor (for readers still on it)


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


def commit_generation(index_dir: str | Path, gen: Path, manifest: dict[str, Any]) -> None:
    """Point the index at ``gen``: write the manifest atomically, update the link, prune."""
    root = Path(index_dir)
    manifest = dict(manifest, generation=gen.name)
    write_atomic(root / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"))
    _relink(root / STORE_FILE, Path(gen.name) / STORE_FILE)
    _prune(root, keep=gen.name)


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


def _relink(link: Path, target: Path) -> None:
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(4)}.lnk")
    try:
        os.symlink(target, tmp)
        os.replace(tmp, link)
    except OSError:  # filesystems without symlinks: the manifest is the source of truth
        tmp.unlink(missing_ok=True)


def _prune(root: Path, keep: str) -> None:
    gens = sorted((p for p in root.glob("gen-*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
    old = [p for p in gens if p.name != keep]
    for p in old[: max(0, len(old) - (KEEP_GENERATIONS - 1))]:
        shutil.rmtree(p, ignore_errors=True)


def store_path(index_dir: str | Path) -> Optional[Path]:
    """Path of the current store, or None when no index is built yet."""
    try:
        return current_generation(index_dir) / STORE_FILE
    except IndexMissing:
        return None
