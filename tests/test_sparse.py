"""kb/sparse.py: BM25 ranking, filters, persistence, hostile queries."""
from __future__ import annotations

import pytest

from kb.errors import IndexMissing, IndexStale
from kb.sparse import SparseIndex

HOSTILE = ['"', 'AND(', '*', 'NEAR(a b)', '\x00', '溺水' * 5000, '😀🚸', "'; DROP TABLE clauses; --", '']


@pytest.fixture(scope="module")
def index(segmenter, seed_clauses):
    ids = list(seed_clauses)
    return SparseIndex.build(ids, [segmenter.cut(seed_clauses[i]) for i in ids])


def test_drowning_clause_first(index, segmenter):
    hits = index.search(segmenter.cut_query("哪些措施涉及儿童溺水"), k=3)
    assert hits[0].id == "L563"
    assert hits[0].score >= hits[-1].score > 0


def test_partial_term_matches_whole_term(index, segmenter):
    ids = [h.id for h in index.search(segmenter.cut_query("筛查率"), k=10)]
    assert "L52" in ids  # 宫颈癌人群筛查率达70%以上


def test_zero_score_documents_never_returned(index):
    assert index.search(["不存在的词"], k=10) == []
    assert index.search([], k=10) == []
    assert len(index.search(["溺水"], k=500)) < len(index)


def test_allowed_filter(index, segmenter):
    q = segmenter.cut_query("儿童溺水")
    assert [h.id for h in index.search(q, k=5, allowed={"L543", "nope"})] == ["L543"]
    assert index.search(q, k=5, allowed=set()) == []
    assert index.search(q, k=5, allowed={"L52"}) == []  # allowed but no match


def test_k_limits_and_order_is_deterministic(index, segmenter):
    q = segmenter.cut_query("妇女儿童健康")
    hits = index.search(q, k=7)
    assert len(hits) == 7 and hits == index.search(q, k=7)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert index.search(q, k=0) == []


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(index, segmenter, query):
    assert isinstance(index.search(segmenter.cut_query(query), k=5), list)
    assert isinstance(index.search([query, ""], k=5), list)


def test_save_load_roundtrip(index, segmenter, tmp_path):
    path = index.save(tmp_path)
    assert path.name == "sparse.npz" and not list(tmp_path.glob("*.tmp"))
    loaded = SparseIndex.load(tmp_path)
    q = segmenter.cut_query("产前筛查率")
    assert loaded.search(q, k=5) == index.search(q, k=5)
    index.save(tmp_path)  # overwrite in place
    assert SparseIndex.load(tmp_path).ids == index.ids


def test_load_missing_raises(tmp_path):
    with pytest.raises(IndexMissing, match="kb ingest"):
        SparseIndex.load(tmp_path / "nothing")


def test_load_other_format_raises_stale(tmp_path):
    import json

    import numpy as np

    np.savez(tmp_path / "sparse.npz", meta=np.array(json.dumps({"format": 99})))
    with pytest.raises(IndexStale, match="rebuild"):
        SparseIndex.load(tmp_path)


def test_build_validates():
    with pytest.raises(ValueError, match="2 ids but 1"):
        SparseIndex.build(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="unique"):
        SparseIndex.build(["a", "a"], [["x"], ["y"]])
    assert SparseIndex.build([], []).search(["x"], k=3) == []
    assert SparseIndex.build(["a"], [[]]).search(["x"], k=3) == []
