"""Incremental re-ingest (issue 10): a changed or removed document goes to the deltas of the
indexes of the previous generation (kb.indexes.update_search_indexes, kb.sparse, kb.dense),
the sealed files are shared, and the answers are those of a fresh build."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from kb import layout
from kb.base import KnowledgeBase
from kb.build import ingest, reindex, remove_documents
from kb.indexes import sentence_texts
from conftest import ROOT, SEED

LAW = ROOT / "corpus" / "laws" / "社会法" / "反家庭暴力法(2015-12-27).md"
OTHER = ROOT / "corpus" / "laws" / "行政法规" / "校车安全管理条例(2012-04-05).md"
LAW_ID = "fanjiatingbaolifa-2015-12-27"
# 第三十八条 reworded (a made-up text: nothing else in the corpus says 量子通信) and 第三十七条 dropped
OLD_38 = "第三十八条 本法自2016年3月1日起施行。"
NEW_38 = "第三十八条 本法自2016年3月1日起施行，并通过量子通信网络向社会公布。"


@pytest.fixture(scope="module")
def base(tmp_path_factory, fake_embedder):
    idx = tmp_path_factory.mktemp("incr") / "index"
    ingest([SEED, LAW, OTHER], idx, embedder=fake_embedder)
    return idx


@pytest.fixture
def changed_law(tmp_path):
    text = LAW.read_text("utf-8")
    assert OLD_38 in text and "第三十七条" in text
    lines = [line for line in text.replace(OLD_38, NEW_38).splitlines() if not line.startswith("第三十七条")]
    path = tmp_path / LAW.name
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def sealed_inode(index, part="dense", name="sealed.index"):
    return (layout.current_generation(index) / part / name).stat().st_ino


def meta(index, part):
    import json

    return json.loads((layout.current_generation(index) / part / "meta.json").read_text("utf-8"))


def test_one_changed_law_goes_to_the_delta(base, tmp_path, changed_law, fake_embedder):
    idx = tmp_path / "index"
    shutil.copytree(base, idx)
    before = sealed_inode(idx), sealed_inode(idx, "sparse", "sealed_data.npy")
    report = ingest([changed_law], idx, embedder=fake_embedder)
    assert report.replaced == [LAW_ID] and report.unchanged == []
    assert (sealed_inode(idx), sealed_inode(idx, "sparse", "sealed_data.npy")) == before  # linked, not rebuilt
    dense, sparse = meta(idx, "dense"), meta(idx, "sparse")
    # one article changed (in the delta, its sealed version tombstoned), one removed (tombstoned)
    assert (dense["delta"], dense["tombstones"]) == (1, 2) == (sparse["delta"], sparse["tombstones"])
    kb = KnowledgeBase.open(idx, embedder=fake_embedder)
    hits = kb.search("量子通信网络", k=3, mode="bm25").hits
    assert hits[0].clause.doc_id == LAW_ID and "量子通信" in hits[0].clause.text
    top = kb.search(NEW_38, k=1, mode="dense").hits[0]  # its new vector, from the delta
    assert top.clause.label == "第三十八条" and top.clause.doc_id == LAW_ID and "量子通信" in top.clause.text
    assert not any(h.clause.label == "第三十七条" and h.clause.doc_id == LAW_ID
                   for h in kb.search("第三十七条 反家庭暴力", k=50, mode="bm25").hits)
    assert kb.store.count("clauses") == KnowledgeBase.open(base, embedder=fake_embedder).store.count("clauses") - 1


def test_the_same_files_again_are_reported_unchanged(base, tmp_path, fake_embedder):
    idx = tmp_path / "index"
    shutil.copytree(base, idx)
    report = ingest([LAW, OTHER], idx, embedder=fake_embedder)
    assert report.replaced == [LAW_ID, "xiaocheanquanguanlitiaoli-2012-04-05"] == report.unchanged


def test_derived_indexes_answer_as_a_fresh_build(base, tmp_path, changed_law, fake_embedder):
    derived, fresh = tmp_path / "derived", tmp_path / "fresh"
    shutil.copytree(base, derived)
    ingest([changed_law], derived, embedder=fake_embedder)
    shutil.copytree(derived, fresh)
    reindex(fresh, embedder=fake_embedder)  # rebuilt whole from the same store
    assert meta(fresh, "dense")["delta"] == 0 and sealed_inode(fresh) != sealed_inode(derived)
    a, b = KnowledgeBase.open(derived, embedder=fake_embedder), KnowledgeBase.open(fresh, embedder=fake_embedder)
    for q in ("量子通信网络", "家庭暴力告诫书", "校车驾驶人", "预防和控制儿童溺水", "人身安全保护令"):
        da, db = a.search(q, k=10, mode="dense").hits, b.search(q, k=10, mode="dense").hits
        assert [h.clause.id for h in da] == [h.clause.id for h in db], q  # exact vs exact: identical
        ba, bb = a.search(q, k=5, mode="bm25").hits, b.search(q, k=5, mode="bm25").hits
        assert [h.clause.id for h in ba][:1] == [h.clause.id for h in bb][:1], q
        # the delta is weighed with the sealed statistics: within a few per cent of exact
        assert [h.score for h in ba] == pytest.approx([h.score for h in bb], rel=0.05), q


def test_removing_a_document_tombstones_its_clauses(base, tmp_path, fake_embedder):
    idx = tmp_path / "index"
    shutil.copytree(base, idx)
    before = sealed_inode(idx)
    n = len(KnowledgeBase.open(idx, embedder=fake_embedder).store.clauses(f"doc_id = '{LAW_ID}'", with_tags=False))
    remove_documents([LAW_ID], idx, embedder=fake_embedder)
    assert sealed_inode(idx) == before and meta(idx, "dense")["tombstones"] == n
    kb = KnowledgeBase.open(idx, embedder=fake_embedder)
    assert all(h.clause.doc_id != LAW_ID for h in kb.search("家庭暴力 告诫书", k=50).hits)


def test_a_large_change_builds_afresh(base, tmp_path, changed_law, fake_embedder, monkeypatch):
    import kb.retrievers.embedded

    monkeypatch.setattr(kb.retrievers.embedded, "COMPACT_FRACTION", 0.0)
    idx = tmp_path / "index"
    shutil.copytree(base, idx)
    before = sealed_inode(idx)
    ingest([changed_law], idx, embedder=fake_embedder)
    assert sealed_inode(idx) != before and meta(idx, "dense")["delta"] == 0 == meta(idx, "sparse")["tombstones"]
    assert KnowledgeBase.open(idx, embedder=fake_embedder).search("量子通信网络", k=1, mode="bm25").hits[0].clause.doc_id == LAW_ID


def sentence_ids(index, fake_embedder):
    kb = KnowledgeBase.open(index, embedder=fake_embedder)
    kb.warm_up()
    return sorted(kb.searcher.retriever.sentences.ids)


def test_sentence_vectors_follow_their_clauses(base, tmp_path, fake_embedder):
    """A changed article's sentence vectors are replaced in the delta, a removed law's are
    tombstoned, and the derived generation holds those of a fresh build of the same store."""
    text = LAW.read_text("utf-8").replace(OLD_38, "第三十八条 本法自2016年3月1日起施行，由国务院有关部门负责解释。"
                                                  "本法的实施情况通过量子通信网络向社会公布。")
    changed = tmp_path / LAW.name
    changed.write_text(text, "utf-8")
    derived, fresh = tmp_path / "derived", tmp_path / "fresh"
    shutil.copytree(base, derived)
    before = [i for i in sentence_ids(derived, fake_embedder) if i.startswith(LAW_ID + ".a38#")]
    ingest([changed], derived, embedder=fake_embedder)
    assert meta(derived, "sentences")["delta"] == 2 and before == []
    shutil.copytree(derived, fresh)
    reindex(fresh, embedder=fake_embedder)
    assert sentence_ids(derived, fake_embedder) == sentence_ids(fresh, fake_embedder)
    assert [i for i in sentence_ids(derived, fake_embedder) if i.startswith(LAW_ID + ".a38#")] == \
        [f"{LAW_ID}.a38#1", f"{LAW_ID}.a38#2"]
    kb = KnowledgeBase.open(derived, embedder=fake_embedder)
    kb.warm_up()
    second = sentence_texts(kb.store.clause(f"{LAW_ID}.a38"))[1]
    assert second.endswith("\n本法的实施情况通过量子通信网络向社会公布。")
    stored = kb.searcher.retriever.sentences.vectors([f"{LAW_ID}.a38#2"])  # from the delta
    assert np.allclose(stored, fake_embedder.embed_passages([second]))
    law_sentences = [i for i in sentence_ids(derived, fake_embedder) if i.startswith(LAW_ID + ".")]
    remove_documents([LAW_ID], derived, embedder=fake_embedder)
    assert len(law_sentences) > 2 and not any(i.startswith(LAW_ID + ".") for i in sentence_ids(derived, fake_embedder))
