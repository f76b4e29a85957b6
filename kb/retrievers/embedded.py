"""The default backend: BM25 (kb.sparse, bm25s weights) and FAISS (kb.dense) in files of the
generation directory, searched in-process.

Per generation::

    sparse/sparse.npz     BM25 score matrix over the segmenter's tokens
    sparse/tokens.json.gz the token lists it was built from, read only by add/remove
    dense/dense.npz       FAISS index of the passage vectors keyed by clause id

``add``/``remove`` rebuild the BM25 matrix from the kept token lists (BM25's IDF and average
length change with every document, so the weights cannot be patched) and add to / remove from
the FAISS index, then save both; a writer calls them on a new generation's copy only.

>>> r = EmbeddedRetriever.open(gen); r.search(RetrievalQuery("溺水", ["溺水"], None), 5, lists=("bm25",))
{'bm25': [SparseHit(id='czf-2022-8.ertong.p2.d7.m3', score=...)]}
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Optional

import numpy as np

from kb.retrievers.base import LISTS, Passages, Ranked, RetrievalQuery, Scope

TOKENS_FILE = "tokens.json.gz"


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
        """Build and save both indexes and the token lists."""
        from kb.dense import DenseIndex

        ids = [c.id for c in passages.clauses]
        tokens = dict(zip(ids, passages.tokens))
        self._save_sparse(tokens)
        self.dense = DenseIndex.build(ids, passages.vectors)
        self.dense.save(self.gen / "dense")

    def add(self, passages: Passages) -> None:
        """Add new clauses (ids not indexed yet; ValueError otherwise) and save."""
        from kb.dense import DenseIndex

        tokens = self._tokens()
        ids = [c.id for c in passages.clauses]
        if any(i in tokens for i in ids):
            raise ValueError("EmbeddedRetriever.add: clause ids already indexed; remove them first")
        tokens.update(zip(ids, passages.tokens))
        self._save_sparse(tokens)
        old = list(self.dense.ids)
        vectors = np.vstack([self.dense.index.reconstruct_batch(np.array([self.dense._key[i] for i in old], np.int64)),
                             passages.vectors]) if old else passages.vectors
        self.dense = DenseIndex.build(old + ids, vectors)
        self.dense.save(self.gen / "dense")

    def remove(self, ids: list[str]) -> None:
        """Remove clauses by id (unknown ids ignored) and save."""
        from kb.dense import DenseIndex

        gone = set(ids)
        tokens = {i: t for i, t in self._tokens().items() if i not in gone}
        self._save_sparse(tokens)
        keep = [i for i in self.dense.ids if i not in gone]
        vectors = (self.dense.index.reconstruct_batch(np.array([self.dense._key[i] for i in keep], np.int64))
                   if keep else np.zeros((0, self.dense.dim), np.float32))
        self.dense = DenseIndex.build(keep, vectors)
        self.dense.save(self.gen / "dense")

    def search(self, query: RetrievalQuery, k: int, scope: Scope = Scope(),
               lists: tuple[str, ...] = LISTS) -> dict[str, list[Ranked]]:
        """BM25 over ``query.tokens`` and/or FAISS over ``query.vector``, masked to ``scope.ids``."""
        allowed = scope.ids
        out: dict[str, list[Ranked]] = {}
        if "bm25" in lists:
            out["bm25"] = [Ranked(*h) for h in self.sparse.search(query.tokens, k, allowed)]
        if "dense" in lists and query.vector is not None:
            out["dense"] = [Ranked(*h) for h in self.dense.search(query.vector, k, allowed)]
        return out

    def close(self) -> None:
        """Nothing to release: the indexes are in memory."""

    def _tokens(self) -> dict[str, list[str]]:
        with gzip.open(self.gen / "sparse" / TOKENS_FILE, "rt", encoding="utf-8") as f:
            return json.load(f)

    def _save_sparse(self, tokens: dict[str, list[str]]) -> None:
        from kb.layout import write_atomic
        from kb.sparse import SparseIndex

        self.sparse = SparseIndex.build(list(tokens), list(tokens.values()))
        self.sparse.save(self.gen / "sparse")
        write_atomic(self.gen / "sparse" / TOKENS_FILE,
                     gzip.compress(json.dumps(tokens, ensure_ascii=False).encode("utf-8"), mtime=0))
