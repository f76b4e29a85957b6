"""BM25 over pre-segmented clause text.

Why bm25s rather than SQLite FTS5: the query is a list of tokens, never a string in a
query language, so hostile input (``"``, ``AND(``, ``*``, NUL) cannot become syntax and
needs no escaping; scores are precomputed eagerly into a sparse term × document matrix,
so a query is a few numpy additions and an ``allowed`` filter is a mask; FTS5's
unicode61 tokenizer would also re-split our jieba tokens at its own boundaries.

bm25s is used only in ``build`` (its Lucene BM25 weighting). The saved index is its
score matrix in CSC form plus the vocabulary and clause ids, in one ``sparse.npz``
written atomically; ``load`` and ``search`` need numpy only (importing bm25s costs
~0.8 s, too much for a cold ``kb search``).

>>> idx = SparseIndex.build(["a", "b"], [["儿童", "溺水"], ["妇女", "健康"]])
>>> idx.search(["溺水"], k=5)                  # doctest: +ELLIPSIS
[SparseHit(id='a', score=...)]
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np

from kb.errors import IndexMissing, IndexStale

FILENAME = "sparse.npz"
FORMAT_VERSION = 1
BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene"}


class SparseHit(NamedTuple):
    """One BM25 result: clause ``id`` and its BM25 ``score`` (> 0, unitless)."""

    id: str
    score: float


class SparseIndex:
    """BM25 score matrix: ``indptr``/``indices``/``data`` give, per vocabulary term, the
    documents (row positions into ``ids``) holding it and their BM25 weights (float32)."""

    def __init__(self, ids: list[str], vocab: dict[str, int], data: np.ndarray,
                 indices: np.ndarray, indptr: np.ndarray):
        if len(set(ids)) != len(ids):
            raise ValueError("SparseIndex: clause ids must be unique")
        self.ids = list(ids)
        self.vocab = vocab
        self.data, self.indices, self.indptr = data, indices, indptr
        self._pos = {cid: i for i, cid in enumerate(self.ids)}
        self._masks: dict[frozenset, np.ndarray] = {}  # per precomputed id set (see _masked)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, ids: list[str], token_lists: list[list[str]]) -> "SparseIndex":
        """Index ``token_lists[i]`` (from ``Segmenter.cut``) under clause id ``ids[i]``.

        Raises ``ValueError`` if the lengths differ or ids repeat. Empty token lists are
        allowed (the clause is simply never found by BM25).
        """
        if len(ids) != len(token_lists):
            raise ValueError(f"SparseIndex.build: {len(ids)} ids but {len(token_lists)} token lists")
        if not any(token_lists):
            return cls(ids, {}, np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(1, np.int64))
        import bm25s  # lazy: heavy import, needed only to build

        retriever = bm25s.BM25(**BM25_PARAMS)
        retriever.index([list(t) for t in token_lists], show_progress=False)
        s = retriever.scores
        vocab = {t: int(c) for t, c in retriever.vocab_dict.items() if t and c + 1 < len(s["indptr"])}
        return cls(ids, vocab, np.asarray(s["data"], np.float32),
                   np.asarray(s["indices"], np.int32), np.asarray(s["indptr"], np.int64))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every document, float32 array of shape (len(ids),).

        Unknown tokens are ignored; a repeated query token counts once.
        """
        out = np.zeros(len(self.ids), dtype=np.float32)
        for term in dict.fromkeys(t for t in query_tokens if isinstance(t, str) and t):
            col = self.vocab.get(term)
            if col is None:
                continue
            start, end = self.indptr[col], self.indptr[col + 1]
            np.add.at(out, self.indices[start:end], self.data[start:end])
        return out

    def search(self, query_tokens: list[str], k: int,
               allowed: Optional[set[str]] = None) -> list[SparseHit]:
        """Top ``k`` clauses by BM25, best first; only scores > 0, only ids in ``allowed``.

        ``allowed=None`` means no filter; an empty set returns ``[]``. Ties break by
        index order, so results are deterministic.
        """
        if k <= 0 or not self.ids or (allowed is not None and not allowed):
            return []
        scores = self.scores(query_tokens)
        if allowed is not None:
            scores = self._masked(scores, allowed)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size > k:
            part = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[part]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [SparseHit(self.ids[i], float(scores[i])) for i in order]

    def _masked(self, scores: np.ndarray, allowed: set[str]) -> np.ndarray:
        """``scores`` with every id outside ``allowed`` set to 0. The mask of a frozenset
        (the searcher's precomputed id set of a document filter, e.g. the current versions,
        the same object every query) is computed once: at the national size building it
        costs ~10 ms, more than the BM25 scoring."""
        keep = self._masks.get(allowed) if isinstance(allowed, frozenset) else None
        if keep is None:
            keep = np.zeros(len(self.ids), dtype=bool)
            keep[[self._pos[c] for c in allowed if c in self._pos]] = True
            if isinstance(allowed, frozenset):
                if len(self._masks) >= 16:
                    self._masks.clear()
                self._masks[allowed] = keep
        return np.where(keep, scores, 0.0).astype(np.float32)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``directory/sparse.npz`` atomically (temp file + ``os.replace``); returns its path."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT_VERSION, "bm25": BM25_PARAMS, "n_docs": len(self.ids)}
        arrays = dict(
            data=self.data, indices=self.indices, indptr=self.indptr,
            ids=np.array(self.ids, dtype=str), meta=np.array(json.dumps(meta)),
            vocab=np.array(json.dumps(self.vocab, ensure_ascii=False)),
        )
        return atomic_savez(directory / FILENAME, arrays)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "SparseIndex":
        """Read ``directory/sparse.npz``.

        Raises ``IndexMissing`` if absent, ``IndexStale`` if written by another format.
        """
        path = Path(directory) / FILENAME
        if not path.exists():
            raise IndexMissing(f"No BM25 index at {path}: run `kb ingest` first.")
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT_VERSION or meta.get("bm25") != BM25_PARAMS:
                raise IndexStale(f"BM25 index {path} has format {meta}: rebuild it with `kb ingest`.")
            vocab = json.loads(str(z["vocab"]))
            return cls(z["ids"].tolist(), vocab, z["data"], z["indices"], z["indptr"])


def atomic_savez(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez`` written atomically (``kb.layout.write_atomic``: temp file, fsync,
    ``os.replace``) with the usual permissions, so a server running as another user can
    read an index an admin built."""
    import io

    from kb.layout import write_atomic

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())
    return path
