"""The default backend: BM25 (kb.sparse, bm25s weights) and FAISS (kb.dense) in files of the
generation directory, searched in-process.

Per generation::

    sparse/     BM25: the sealed score matrix (mapped .npy files), delta.npz, meta.json
    dense/      FAISS: sealed.index (vectors mapped), sealed ids and keys, delta.npz, meta.json
    sentences/  FAISS as dense/, one vector per sentence of the clauses of two sentences or
                more (ids ``clause#n``); the dense list scores a clause by its best vector
                (kb.retrievers.base.best_per_clause). A generation built before it has none
                and scores the clause vectors alone.

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

from kb.retrievers.base import LISTS, Passages, Ranked, RetrievalQuery, Scope, best_per_clause, clause_of

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
    """BM25 + FAISS files under ``gen/sparse``, ``gen/dense`` and ``gen/sentences`` (see the
    module docstring); ``sentences`` is None for a generation built without sentence vectors."""

    def __init__(self, gen: Path, sparse=None, dense=None, sentences=None):
        self.gen = Path(gen)
        self.sparse, self.dense, self.sentences = sparse, dense, sentences
        self._units: Optional[dict[str, list[str]]] = None  # clause id → its sentence ids (_sentence_ids)
        self._scopes: dict[tuple, tuple] = {}  # (allowed, excluded) clause ids → the same as sentence ids

    @classmethod
    def open(cls, gen: Path, config: Optional[dict[str, Any]] = None) -> "EmbeddedRetriever":
        """Load the generation's indexes. Raises IndexMissing / IndexStale (kb.sparse, kb.dense)."""
        from kb.dense import DenseIndex
        from kb.sparse import SparseIndex

        gen = Path(gen)
        sentences = DenseIndex.load(gen / "sentences") if (gen / "sentences").is_dir() else None
        return cls(gen, SparseIndex.load(gen / "sparse"), DenseIndex.load(gen / "dense"), sentences)

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
        self.sentences = DenseIndex.build(passages.sentence_ids, passages.sentence_vectors)
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
        sentences = None  # a generation built before sentence vectors stays without (kb reindex adds them)
        if self.sentences is not None:
            sentences = self.sentences.updated(passages.sentence_ids, passages.sentence_vectors,
                                               self._sentence_ids([*ids, *removed]))
        if max(sparse.pending, dense.pending) > COMPACT_FRACTION * max(len(self.dense.sealed_ids), 1) or (
                sentences is not None and sentences.pending > COMPACT_FRACTION * max(len(sentences.sealed_ids), 1)):
            return None
        out = EmbeddedRetriever(gen, sparse, dense, sentences)
        out._save()
        return out

    def add(self, passages: Passages) -> None:
        """Add new clauses (ids not indexed yet; ValueError otherwise) to the deltas and save."""
        ids = [c.id for c in passages.clauses]
        if any(i in self.dense for i in ids):
            raise ValueError("EmbeddedRetriever.add: clause ids already indexed; remove them first")
        self.sparse = self.sparse.updated(ids, passages.tokens)
        self.dense = self.dense.updated(ids, passages.vectors)
        if self.sentences is not None:
            self.sentences = self.sentences.updated(passages.sentence_ids, passages.sentence_vectors)
        self._forget_units()
        self._save()

    def remove(self, ids: list[str]) -> None:
        """Remove clauses (and their sentence vectors) by id (unknown ids ignored) and save."""
        self.sparse = self.sparse.updated([], [], ids)
        self.dense = self.dense.updated([], [], ids)
        if self.sentences is not None:
            self.sentences = self.sentences.updated([], [], self._sentence_ids(ids))
        self._forget_units()
        self._save()

    def _forget_units(self) -> None:
        self._units = None
        self._scopes = {}

    def _sentence_ids(self, clause_ids) -> list[str]:
        """The live sentence-vector ids of ``clause_ids``. The map is built whole, then
        published (queries run on several threads: none may read half of it)."""
        units = self._units
        if units is None:
            units = {}
            for unit in self.sentences.ids if self.sentences is not None else ():
                units.setdefault(clause_of(unit), []).append(unit)
            self._units = units
        return [u for c in clause_ids for u in units.get(c, ())]

    def _sentence_scope(self, allowed, excluded) -> tuple:
        """``(allowed, excluded)`` clause ids as sentence ids, kept for the searcher's
        precomputed frozensets (the same objects every query), as kb.dense keeps its subsets."""
        key = (allowed, excluded)
        found = self._scopes.get(key)
        if found is None:
            found = tuple(None if s is None else frozenset(self._sentence_ids(s)) for s in key)
            if all(s is None or isinstance(s, frozenset) for s in key):
                if len(self._scopes) >= 16:
                    self._scopes.clear()
                self._scopes[key] = found
        return found

    def search(self, query: RetrievalQuery, k: int, scope: Scope = Scope(),
               lists: tuple[str, ...] = LISTS) -> dict[str, list[Ranked]]:
        """BM25 over ``query.tokens`` and/or FAISS over ``query.vector``, limited to
        ``scope.ids`` and without ``scope.excluded``."""
        out: dict[str, list[Ranked]] = {}  # SparseHit and DenseHit are Ranked-shaped: (id, score)
        dense = "dense" in lists and query.vector is not None
        args = (query.vector, k, scope.ids, scope.excluded)
        # FAISS leaves the GIL while BM25 scores on this thread: ~1 ms of ~2.8 at 68,000 clauses
        pending = _pool().submit(self.search_dense, *args) if dense and "bm25" in lists else None
        if "bm25" in lists:
            out["bm25"] = self.sparse.search(query.tokens, k, scope.ids, scope.excluded)
        if dense:
            out["dense"] = pending.result() if pending is not None else self.search_dense(*args)
        return out

    def search_dense(self, vector, k: int, allowed: Optional[frozenset[str]] = None,
                     excluded: Optional[frozenset[str]] = None) -> list[Ranked]:
        """The dense list: the clause vectors' top ``k`` merged with the sentence vectors' top
        ``k``, each clause scored by its best (kb.retrievers.base.best_per_clause), at most
        ``k``; within ``allowed`` clause ids (None: all) and without ``excluded`` ones."""
        clauses = self.dense.search(vector, k, allowed, excluded)
        if self.sentences is None or not len(self.sentences):
            return clauses
        sentences = self.sentences.search(vector, k, *self._sentence_scope(allowed, excluded))
        return best_per_clause(clauses, sentences, k)

    def close(self) -> None:
        """Nothing to release: the indexes are in memory."""

    def _save(self) -> None:
        self.sparse.save(self.gen / "sparse")
        self.dense.save(self.gen / "dense")
        if self.sentences is not None:
            self.sentences.save(self.gen / "sentences")
