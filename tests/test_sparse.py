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
    assert path.name == "meta.json" and not list(tmp_path.glob("*.tmp"))
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


def test_excluded_filter(index, segmenter):
    q = segmenter.cut_query("哪些措施涉及儿童溺水")
    top = [h.id for h in index.search(q, k=3)]
    assert top[0] == "L563"
    without = [h.id for h in index.search(q, k=3, excluded=frozenset({"L563"}))]
    assert "L563" not in without and without[:2] == top[1:]
    assert [h.id for h in index.search(q, k=5, allowed={"L543", "L563"}, excluded={"L563"})] == ["L543"]
    assert index.search(q, k=5, allowed={"L563"}, excluded={"L563"}) == []


def test_delta_weights_are_bm25s_weights(segmenter, seed_clauses):
    """lucene_weights with the sealed statistics gives a document exactly the weights bm25s
    gave it: replacing a clause by itself leaves every score as it was."""
    ids = list(seed_clauses)
    tokens = [segmenter.cut(seed_clauses[i]) for i in ids]
    sealed = SparseIndex.build(ids, tokens)
    same = sealed.updated(["L563", "L52"], [tokens[ids.index("L563")], tokens[ids.index("L52")]])
    for query in ("哪些措施涉及儿童溺水", "宫颈癌筛查率", "妇女儿童健康"):
        q = segmenter.cut_query(query)
        a, b = sealed.search(q, k=20), same.search(q, k=20)
        assert [h.id for h in a] == [h.id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=1e-5)
    assert same.pending == 4 and len(same) == len(sealed)  # 2 in the delta, 2 tombstones


def test_update_adds_replaces_and_removes(index, segmenter, tmp_path):
    index.save(tmp_path / "a")
    base = SparseIndex.load(tmp_path / "a")
    new = base.updated(["new-1", "L52"], [segmenter.cut("防范网络沉迷和电信诈骗,普及量子计算与区块链"), segmenter.cut("完全不同的新文本")],
                       removed=["L563"])
    assert new.search(segmenter.cut_query("电信诈骗"), k=3)[0].id == "new-1"
    assert "L563" not in [h.id for h in new.search(segmenter.cut_query("儿童溺水"), k=50)]
    assert "L52" not in [h.id for h in new.search(segmenter.cut_query("宫颈癌人群筛查率"), k=50)]
    fresh = [t for t in segmenter.cut("量子计算区块链") if t not in base.vocab]
    assert fresh and all(t in new.vocab for t in fresh)
    new.save(tmp_path / "b")
    assert (tmp_path / "b" / "sealed_data.npy").stat().st_ino == (tmp_path / "a" / "sealed_data.npy").stat().st_ino
    again = SparseIndex.load(tmp_path / "b")
    q = segmenter.cut_query("电信诈骗 儿童溺水")
    assert again.search(q, k=10) == new.search(q, k=10) and len(again) == len(index)
    twice = again.updated(["new-2"], [segmenter.cut("电信诈骗")], removed=["new-1"])
    ranked = [h.id for h in twice.search(segmenter.cut_query("电信诈骗"), k=50)]
    assert ranked[0] == "new-2" and "new-1" not in ranked
    assert twice.pending == 2 + 2  # L52 and new-2 in the delta; the sealed L563 and L52 tombstoned


def test_reads_format_1(index, segmenter, tmp_path):
    """An index saved before segments (sparse.npz) still answers; it cannot take a delta."""
    import json

    import numpy as np

    from kb.layout import atomic_savez

    vocab = {str(t): int(c) for t, c in zip(index.sealed.terms.tolist(), index.sealed.cols.tolist())}
    atomic_savez(tmp_path / "sparse.npz", dict(
        data=index.sealed.data, indices=index.sealed.indices, indptr=index.sealed.indptr,
        ids=np.array(index.ids, dtype=str), meta=np.array(json.dumps({"format": 1, "bm25": kb_params()})),
        vocab=np.array(json.dumps(vocab, ensure_ascii=False))))
    old = SparseIndex.load(tmp_path)
    q = segmenter.cut_query("儿童溺水")
    assert old.search(q, k=5) == index.search(q, k=5)
    with pytest.raises(ValueError, match="afresh"):
        old.updated(["x"], [["儿童"]])


def kb_params():
    from kb.sparse import BM25_PARAMS

    return BM25_PARAMS
