"""The default backend: BM25 (kb.sparse, bm25s weights) and FAISS (kb.dense) in files of the
generation directory, searched in-process.

Per generation::

    sparse/   BM25: the sealed score matrix (mapped .npy files), delta.npz, meta.json
    dense/    FAISS: sealed.index (vectors mapped), sealed ids and keys, delta.npz, meta.json

A full :meth:`~EmbeddedRetriever.build` seals everything. A change of a few documents
(:meth:`~EmbeddedRetriever.derive`, called by kb.indexes on a new generation) goes to both
indexes' deltas and tombstones, and the sealed files are hard-linked from the previous
generation, so one law changed at the national size costs its own clauses; past
``COMPACT_FRACTION`` of the sealed segment kb.indexes builds afresh.

>>> r = EmbeddedRetriever.open(gen); r.search(RetrievalQuery("溺水", ["溺水"], None), 5, lists=("bm25",))
{'bm25': [SparseHit(id='czf-2022-8.ertong.p2.d7.m3', score=...)]}
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Optional

from kb.retrievers.base import LISTS, Passages, Ranked, RetrievalQuery, Scope

# Delta plus tombstones past this share of the sealed segment: build afresh. The delta is
# searched exactly (~1 ms per 7,000 vectors) and weighed with the sealed BM25 statistics,
# which drift from exact as it grows (kb.sparse); one law is ~0.1% of the national corpus.
COMPACT_FRACTION = 0.10


_POOL: Optional[Any] = None  # ThreadPoolExecutor: the dense searches' threads
_POOL_LOCK = threading.Lock()


def _pool():
    """The threads that run FAISS searches beside BM25, made per process (a forked child,
    a ``kb serve`` worker, inherits no live threads: ``_forget_pool``)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            from concurrent.futures import ThreadPoolExecutor

            _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kb-dense")
        return _POOL


def _forget_pool() -> None:
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()  # the parent's threads (and a held lock) are not the child's


os.register_at_fork(after_in_child=_forget_pool)


class EmbeddedRetriever:
    """BM25 + FAISS files under ``gen/sparse`` and ``gen/dense`` (see the module docstring)."""

    def __init__(self, gen: Path, sparse=None, dense=None):
        self.gen = Path(gen)
        self.sparse, self.dense = sparse, dense

    @classmethod
    def open(cls, gen: Path, config: Optional[dict[str, Any]] = None) -> "EmbeddedRetriever":
        """Load the generation's indexes. Raises IndexMissing / IndexStale (kb.sparse, kb.dense)."""
        from kb.dense import DenseIndex
        from kb.sparse import SparseIndex

        return cls(gen, SparseIndex.load(Path(gen) / "sparse"), DenseIndex.load(Path(gen) / "dense"))

    @property
    def config(self) -> dict[str, Any]:
        """The manifest entry: ``{"name": "embedded"}`` (the files are found by convention)."""
        return {"name": "embedded"}

    @property
    def vocab(self) -> dict[str, int]:
        """The BM25 vocabulary (token → column)."""
        return self.sparse.vocab

    def build(self, passages: Passages) -> None:
        """Build both indexes afresh (sealed, no delta) and save them."""
        from kb.dense import DenseIndex
        from kb.sparse import SparseIndex

        ids = [c.id for c in passages.clauses]
        self.sparse = SparseIndex.build(ids, passages.tokens)
        self.dense = DenseIndex.build(ids, passages.vectors)
        self._save()

    def derive(self, gen: Path, passages: Passages, removed: list[str]) -> Optional["EmbeddedRetriever"]:
        """The indexes of ``gen``: these, without the ``removed`` ids and with ``passages``
        (new or changed clauses) added to the deltas; saved in ``gen``, the sealed files
        hard-linked. None (nothing written) when a fresh build is due: delta plus tombstones
        past ``COMPACT_FRACTION`` of the sealed segment, or a BM25 index too old for deltas."""
        ids = [c.id for c in passages.clauses]
        try:
            sparse = self.sparse.updated(ids, passages.tokens, removed)
        except ValueError:
            return None  # built before delta updates (kb.sparse format 1)
        dense = self.dense.updated(ids, passages.vectors, removed)
        if max(sparse.pending, dense.pending) > COMPACT_FRACTION * max(len(self.dense.sealed_ids), 1):
            return None
        out = EmbeddedRetriever(gen, sparse, dense)
        out._save()
        return out

    def add(self, passages: Passages) -> None:
        """Add new clauses (ids not indexed yet; ValueError otherwise) to the deltas and save."""
        ids = [c.id for c in passages.clauses]
        if any(i in self.dense for i in ids):
            raise ValueError("EmbeddedRetriever.add: clause ids already indexed; remove them first")
        self.sparse = self.sparse.updated(ids, passages.tokens)
        self.dense = self.dense.updated(ids, passages.vectors)
        self._save()

    def remove(self, ids: list[str]) -> None:
        """Remove clauses by id (unknown ids ignored) and save."""
        self.sparse = self.sparse.updated([], [], ids)
        self.dense = self.dense.updated([], [], ids)
        self._save()

    def search(self, query: RetrievalQuery, k: int, scope: Scope = Scope(),
               lists: tuple[str, ...] = LISTS) -> dict[str, list[Ranked]]:
        """BM25 over ``query.tokens`` and/or FAISS over ``query.vector``, limited to
        ``scope.ids`` and without ``scope.excluded``."""
        out: dict[str, list[Ranked]] = {}  # SparseHit and DenseHit are Ranked-shaped: (id, score)
        dense = "dense" in lists and query.vector is not None
        args = (query.vector, k, scope.ids, scope.excluded)
        # FAISS leaves the GIL while BM25 scores on this thread: ~1 ms of ~2.8 at 68,000 clauses
        pending = _pool().submit(self.dense.search, *args) if dense and "bm25" in lists else None
        if "bm25" in lists:
            out["bm25"] = self.sparse.search(query.tokens, k, scope.ids, scope.excluded)
        if dense:
            out["dense"] = pending.result() if pending is not None else self.dense.search(*args)
        return out

    def close(self) -> None:
        """Nothing to release: the indexes are in memory."""

    def _save(self) -> None:
        self.sparse.save(self.gen / "sparse")
        self.dense.save(self.gen / "dense")
