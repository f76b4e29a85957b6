"""BM25 over pre-segmented clause text, as a sealed segment plus a small delta.

Why bm25s rather than SQLite FTS5: the query is a list of tokens, never a string in a
query language, so hostile input (``"``, ``AND(``, ``*``, NUL) cannot become syntax and
needs no escaping; scores are precomputed eagerly into a sparse term × document matrix,
so a query is a few numpy additions and an ``allowed`` filter is a mask; FTS5's
unicode61 tokenizer would also re-split our jieba tokens at its own boundaries.

**Segments** (issue 10: one law changed re-indexed in seconds at 68,054 clauses). A full
build weighs every document with bm25s (Lucene BM25, ``BM25_PARAMS``) into the *sealed*
matrix. :meth:`SparseIndex.updated` then adds documents to a *delta* matrix weighed with the
sealed segment's statistics (document count, document frequency, average length: the same
formula, :func:`lucene_weights`) and *tombstones* the sealed documents removed or replaced,
so a change costs its own documents, not the corpus. The statistics drift from exact as
the delta grows; ``kb.indexes`` builds afresh once delta and tombstones pass
``COMPACT_FRACTION`` of the sealed segment (the way Lucene merges segments).

**Files** (``directory/``): ``meta.json``; the sealed segment as plain ``.npy`` files
(``sealed_*.npy``: CSC score matrix, sorted vocabulary, clause ids) that ``load`` maps
read-only instead of reading (a cold ``kb search`` at the national size read and
CRC-checked ~60 MB of zip before); ``delta.npz`` (small). An update writes only
``delta.npz`` and ``meta.json`` and hard-links the sealed files of the previous
generation. ``load`` also reads the ``sparse.npz`` of indexes built before (format 1).
Importing bm25s costs ~0.8 s: only a full build does.

>>> idx = SparseIndex.build(["a", "b"], [["儿童", "溺水"], ["妇女", "健康"]])
>>> idx.search(["溺水"], k=5)                  # doctest: +ELLIPSIS
[SparseHit(id='a', score=...)]
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Iterable, NamedTuple, Optional

import numpy as np

from kb.errors import IndexMissing, IndexStale

FILENAME = "sparse.npz"  # format 1 (read only)
META_FILE = "meta.json"
DELTA_FILE = "delta.npz"
SEALED = ("data", "indices", "indptr", "terms", "cols", "ids")  # sealed_<name>.npy
FORMAT_VERSION = 2
BM25_PARAMS = {"k1": 1.5, "b": 0.75, "method": "lucene"}


class SparseHit(NamedTuple):
    """One BM25 result: clause ``id`` and its BM25 ``score`` (> 0, unitless)."""

    id: str
    score: float


class Segment:
    """One BM25 matrix in CSC form: for vocabulary column ``j``, rows
    ``indices[indptr[j]:indptr[j+1]]`` (positions into ``ids``) and their weights ``data``
    (float32). ``terms`` (sorted, numpy str) and ``cols`` map a token to its column, so a
    mapped file needs no dictionary built at load."""

    def __init__(self, ids: list[str], terms: np.ndarray, cols: np.ndarray, data: np.ndarray,
                 indices: np.ndarray, indptr: np.ndarray, tf: Optional[np.ndarray] = None):
        self.ids = ids
        self.terms, self.cols = terms, cols
        self.data, self.indices, self.indptr = data, indices, indptr
        self.tf = tf  # term frequencies beside ``data`` (delta segments: re-weighed on the next update)

    @classmethod
    def empty(cls) -> "Segment":
        return cls([], np.array([], dtype="<U1"), np.zeros(0, np.int64), np.zeros(0, np.float32),
                   np.zeros(0, np.int32), np.zeros(1, np.int64))

    @classmethod
    def from_vocab(cls, ids: list[str], vocab: dict[str, int], data, indices, indptr) -> "Segment":
        terms = sorted(t for t in vocab if t)
        return cls(ids, np.array(terms, dtype=str) if terms else np.array([], dtype="<U1"),
                   np.array([vocab[t] for t in terms], dtype=np.int64), np.asarray(data, np.float32),
                   np.asarray(indices, np.int32), np.asarray(indptr, np.int64))

    def column(self, term: str) -> Optional[int]:
        """The vocabulary column of ``term``, None when no document holds it."""
        if not len(self.terms):
            return None
        i = int(np.searchsorted(self.terms, term))
        return int(self.cols[i]) if i < len(self.terms) and self.terms[i] == term else None

    def df(self, term: str) -> int:
        """Documents holding ``term`` (0 if none)."""
        col = self.column(term)
        return 0 if col is None else int(self.indptr[col + 1] - self.indptr[col])

    def add_scores(self, out: np.ndarray, terms: Iterable[str]) -> None:
        """Add the weights of ``terms`` to ``out`` (float32, one per id)."""
        for term in terms:
            col = self.column(term)
            if col is not None:
                start, end = self.indptr[col], self.indptr[col + 1]
                np.add.at(out, self.indices[start:end], self.data[start:end])

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(data=self.data, indices=self.indices, indptr=self.indptr, terms=self.terms, cols=self.cols,
                    ids=np.array(self.ids, dtype=str) if self.ids else np.array([], dtype="<U1"))

    @classmethod
    def of(cls, arrays) -> "Segment":
        return cls(arrays["ids"].tolist(), arrays["terms"], arrays["cols"], arrays["data"], arrays["indices"],
                   arrays["indptr"])


class SparseIndex:
    """BM25 over clause ids: a ``sealed`` :class:`Segment` (bm25s weights at the last full
    build, with its ``stats``: n, avgdl), a ``delta`` segment of documents added since, and
    the sealed ids removed since (``tombstones``). ``ids`` are the live ids, sealed first."""

    def __init__(self, sealed: Segment, stats: dict, delta: Optional[Segment] = None,
                 tombstones: Iterable[str] = (), sealed_dir: Optional[Path] = None):
        self.sealed, self.stats = sealed, dict(stats)
        self.delta = delta or Segment.empty()
        self.tombstones = frozenset(tombstones)
        self.sealed_dir = sealed_dir  # where the sealed files are (hard-linked by save), None when in memory
        n_sealed = len(self.sealed.ids)
        sealed_pos = {cid: i for i, cid in enumerate(self.sealed.ids)}
        delta_pos = {cid: n_sealed + i for i, cid in enumerate(self.delta.ids)}
        if len(sealed_pos) != n_sealed or len(delta_pos) != len(self.delta.ids):
            raise ValueError("SparseIndex: clause ids must be unique")
        if any(c in sealed_pos and c not in self.tombstones for c in delta_pos):
            raise ValueError("SparseIndex: a delta id repeats a live sealed id; tombstone the sealed one")
        self._dead = np.zeros(n_sealed + len(self.delta.ids), dtype=bool)
        self._dead[[sealed_pos[c] for c in self.tombstones if c in sealed_pos]] = True
        self._pos = {**{c: i for c, i in sealed_pos.items() if c not in self.tombstones}, **delta_pos}  # live
        self.ids = [c for c in self.sealed.ids if c not in self.tombstones] + list(self.delta.ids)
        self._masks: dict[tuple, np.ndarray] = {}  # per precomputed id set (see _mask)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def vocab(self) -> "Vocabulary":
        """The tokens any live document holds (``token in vocab``)."""
        return Vocabulary(self.sealed, self.delta)

    @property
    def pending(self) -> int:
        """Delta documents plus tombstones: how far the index is from a fresh build."""
        return len(self.delta.ids) + len(self.tombstones)

    @classmethod
    def build(cls, ids: list[str], token_lists: list[list[str]]) -> "SparseIndex":
        """Index ``token_lists[i]`` (from ``Segmenter.cut``) under clause id ``ids[i]`` with bm25s.

        Raises ``ValueError`` if the lengths differ or ids repeat. Empty token lists are
        allowed (the clause is simply never found by BM25).
        """
        if len(ids) != len(token_lists):
            raise ValueError(f"SparseIndex.build: {len(ids)} ids but {len(token_lists)} token lists")
        stats = {"n": len(ids), "avgdl": (sum(map(len, token_lists)) / len(ids)) if ids else 0.0}
        if not any(token_lists):
            empty = Segment.empty()
            empty.ids = list(ids)
            return cls(empty, stats)
        import bm25s  # lazy: heavy import, needed only to build

        retriever = bm25s.BM25(**BM25_PARAMS)
        retriever.index([list(t) for t in token_lists], show_progress=False)
        s = retriever.scores
        vocab = {t: int(c) for t, c in retriever.vocab_dict.items() if t and c + 1 < len(s["indptr"])}
        return cls(Segment.from_vocab(list(ids), vocab, s["data"], s["indices"], s["indptr"]), stats)

    def updated(self, ids: list[str], token_lists: list[list[str]], removed: Iterable[str] = ()) -> "SparseIndex":
        """A new index: this one without ``removed`` ids and with ``ids[i]`` (new, or
        replacing a live id) indexed from ``token_lists[i]``, weighed with the sealed
        statistics (:func:`lucene_weights`). The sealed segment is shared, not copied.
        Raises ValueError if the lengths differ or ``ids`` repeat."""
        if len(ids) != len(token_lists):
            raise ValueError(f"SparseIndex.updated: {len(ids)} ids but {len(token_lists)} token lists")
        if len(set(ids)) != len(ids):
            raise ValueError("SparseIndex.updated: clause ids must be unique")
        gone = set(removed) | set(ids)
        keep = [(c, t) for c, t in self._delta_tokens() if c not in gone]
        rows = keep + list(zip(ids, token_lists))
        sealed_ids = set(self.sealed.ids)
        tombstones = self.tombstones | {c for c in gone if c in sealed_ids}
        delta = lucene_weights([c for c, _ in rows], [t for _, t in rows], self.sealed, self.stats)
        return SparseIndex(self.sealed, self.stats, delta, tombstones, self.sealed_dir)

    def _delta_tokens(self) -> list[tuple[str, list[str]]]:
        """(id, tokens) of the delta's documents, rebuilt from its matrix (term order is lost,
        term frequency kept through the stored ``tf`` weights: see :func:`lucene_weights`)."""
        if not self.delta.ids:
            return []
        bag: list[list[str]] = [[] for _ in self.delta.ids]
        tf = self.delta.tf
        for term, col in zip(self.delta.terms.tolist(), self.delta.cols.tolist()):
            start, end = self.delta.indptr[col], self.delta.indptr[col + 1]
            for row, n in zip(self.delta.indices[start:end].tolist(), tf[start:end].tolist()):
                bag[row].extend([term] * int(n))
        return list(zip(self.delta.ids, bag))

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every sealed then delta document (float32, tombstones 0)."""
        terms = list(dict.fromkeys(t for t in query_tokens if isinstance(t, str) and t))
        n_sealed = len(self.sealed.ids)
        out = np.zeros(n_sealed + len(self.delta.ids), dtype=np.float32)
        self.sealed.add_scores(out[:n_sealed], terms)
        if self.delta.ids:
            self.delta.add_scores(out[n_sealed:], terms)
        if self.tombstones:
            out[self._dead] = 0.0
        return out

    def search(self, query_tokens: list[str], k: int, allowed: Optional[set[str]] = None,
               excluded: Optional[set[str]] = None) -> list[SparseHit]:
        """Top ``k`` clauses by BM25, best first; only scores > 0; only ids in ``allowed``
        (None: every id) and not in ``excluded`` (None: none).

        An empty ``allowed`` returns ``[]``. Unknown tokens are ignored, a repeated query
        token counts once. Ties break by index order, so results are deterministic.
        """
        if k <= 0 or not self.ids or (allowed is not None and not allowed):
            return []
        scores = self.scores(query_tokens)
        if allowed is not None or excluded:
            scores = np.where(self._mask(allowed, excluded), scores, 0.0).astype(np.float32)
        candidates = np.flatnonzero(scores > 0)
        if candidates.size > k:
            part = np.argpartition(-scores[candidates], k - 1)[:k]
            candidates = candidates[part]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        every = self.sealed.ids
        n_sealed = len(every)
        return [SparseHit(every[i] if i < n_sealed else self.delta.ids[i - n_sealed], float(scores[i]))
                for i in order.tolist()]

    def _mask(self, allowed: Optional[set[str]], excluded: Optional[set[str]]) -> np.ndarray:
        """Positions allowed and not excluded. Kept per pair of frozensets (the searcher's
        precomputed id sets, the same objects every query): at the national size a mask of
        62,000 allowed ids costs ~10 ms, more than the BM25 scoring."""
        key = (allowed, excluded)
        cacheable = all(s is None or isinstance(s, frozenset) for s in key)
        keep = self._masks.get(key) if cacheable else None
        if keep is None:
            if allowed is None:
                keep = ~self._dead
            else:
                keep = np.zeros(len(self._dead), dtype=bool)
                keep[[self._pos[c] for c in allowed if c in self._pos]] = True
            if excluded:
                keep[[self._pos[c] for c in excluded if c in self._pos]] = False
            if cacheable:
                if len(self._masks) >= 16:
                    self._masks.clear()
                self._masks[key] = keep
        return keep

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the index into ``directory`` (files in the module docstring), each file
        atomically; the sealed files are hard-linked from where they were loaded when
        possible (copied across file systems). Returns the meta file's path."""
        from kb.layout import atomic_savez, link_or_copy, npy_bytes, write_atomic

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in SEALED:
            target = directory / f"sealed_{name}.npy"
            source = self.sealed_dir / target.name if self.sealed_dir is not None else None
            if source is not None and source.exists():
                link_or_copy(source, target)
            else:
                write_atomic(target, npy_bytes(self.sealed.arrays()[name]))
        atomic_savez(directory / DELTA_FILE, dict(self.delta.arrays(), tf=_or_empty(self.delta.tf),
                                                  tombstones=np.array(sorted(self.tombstones), dtype=str)
                                                  if self.tombstones else np.array([], dtype="<U1")))
        meta = {"format": FORMAT_VERSION, "bm25": BM25_PARAMS, "n_docs": len(self.ids), "stats": self.stats,
                "delta": len(self.delta.ids), "tombstones": len(self.tombstones)}
        path = directory / META_FILE
        write_atomic(path, json.dumps(meta).encode())
        self.sealed_dir = directory
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "SparseIndex":
        """Read the index in ``directory``, mapping the sealed matrix (read-only).

        Raises ``IndexMissing`` if absent, ``IndexStale`` if written by another format;
        ValueError / OSError for a damaged file (kb.layout.damaged_index says what to do).
        """
        directory = Path(directory)
        if not (directory / META_FILE).exists():
            if (directory / FILENAME).exists():
                return cls._load_v1(directory / FILENAME)
            raise IndexMissing(f"No BM25 index at {directory}: run `kb ingest` first.")
        meta = json.loads((directory / META_FILE).read_text("utf-8"))
        if meta.get("format") != FORMAT_VERSION or meta.get("bm25") != BM25_PARAMS:
            raise IndexStale(f"BM25 index {directory} has format {meta}: rebuild it with `kb ingest`.")
        sealed = Segment.of({n: np.load(directory / f"sealed_{n}.npy", mmap_mode="r", allow_pickle=False)
                             for n in SEALED})
        with np.load(directory / DELTA_FILE, allow_pickle=False) as z:
            delta = Segment.of(z)
            delta.tf = z["tf"]
            tombstones = z["tombstones"].tolist()
        return cls(sealed, meta["stats"], delta, tombstones, directory)

    @classmethod
    def _load_v1(cls, path: Path) -> "SparseIndex":
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != 1 or meta.get("bm25") != BM25_PARAMS:
                raise IndexStale(f"BM25 index {path} has format {meta}: rebuild it with `kb ingest`.")
            ids = z["ids"].tolist()
            sealed = Segment.from_vocab(ids, json.loads(str(z["vocab"])), z["data"], z["indices"], z["indptr"])
        # format 1 kept no average length: every update of such an index builds afresh
        return cls(sealed, {"n": len(ids), "avgdl": None})


class Vocabulary:
    """``token in vocab``: held by a sealed or delta document."""

    def __init__(self, *segments: Segment):
        self.segments = segments

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and any(s.column(token) is not None for s in self.segments)


def lucene_weights(ids: list[str], token_lists: list[list[str]], sealed: Segment, stats: dict) -> Segment:
    """A :class:`Segment` of ``token_lists[i]`` under ``ids[i]`` weighed as bm25s's Lucene
    BM25 weighs the sealed documents: for term t, ``idf · tf / (tf + k1 · (1 − b + b · dl /
    avgdl))`` with ``idf = ln(1 + (N − df + 0.5) / (df + 0.5))``, where N, df and avgdl are
    the sealed segment's (``stats``; a term the sealed segment lacks counts its delta
    documents as df). Checked against bm25s in tests/test_sparse.py. The term frequencies
    are kept (``segment.tf``) so that a later update can re-weigh them.
    Raises ValueError when ``stats`` has no average length (an index of format 1)."""
    if stats.get("avgdl") is None:
        raise ValueError("this BM25 index predates delta updates; build it afresh")
    k1, b = BM25_PARAMS["k1"], BM25_PARAMS["b"]
    n, avgdl = max(int(stats["n"]), 1), float(stats["avgdl"]) or 1.0
    postings: dict[str, list[tuple[int, int]]] = {}
    for row, tokens in enumerate(token_lists):
        counts: dict[str, int] = {}
        for t in tokens:
            if t:
                counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():
            postings.setdefault(t, []).append((row, c))
    lengths = [len(t) for t in token_lists]
    terms = sorted(postings)
    data, indices, tfs, indptr = [], [], [], [0]
    for t in terms:
        df = sealed.df(t) or len(postings[t])
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for row, tf in postings[t]:
            data.append(idf * tf / (tf + k1 * (1 - b + b * lengths[row] / avgdl)))
            indices.append(row)
            tfs.append(tf)
        indptr.append(len(data))
    return Segment(list(ids), np.array(terms, dtype=str) if terms else np.array([], dtype="<U1"),
                   np.arange(len(terms), dtype=np.int64), np.array(data, np.float32), np.array(indices, np.int32),
                   np.array(indptr, np.int64), np.array(tfs, np.float32))


def _or_empty(a: Optional[np.ndarray]) -> np.ndarray:
    return np.zeros(0, np.float32) if a is None else a
