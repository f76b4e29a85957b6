"""No silent loss (kb/guard.py): a shrinking re-ingest or a file repeating a plan is refused
without --force; every ingest reports what it added, replaced and removed; `kb remove`.

The truncated copy is the seed cut after its line 300 (inside 妇女发展规划's 妇女与教育):
121 of its 357 clauses remain. The repeated file is the seed with 儿童发展规划 (from line 449)
pasted three times.
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from conftest import OTHER_DOC, SEED
from kb import guard
from kb.build import ingest, remove_documents
from kb.errors import LossRefused, NotFound
from kb.layout import read_manifest

runner = CliRunner(env={"COLUMNS": "1000"})
LINES = SEED.read_text("utf-8").splitlines()


@pytest.fixture
def fake_cli(monkeypatch, fake_embedder):
    """`kb ingest` / `kb remove` use the hash embedder instead of loading the model."""
    import kb.embed

    monkeypatch.setattr(kb.embed, "load_embedder", lambda spec=None: fake_embedder)


@pytest.fixture
def truncated(tmp_path):
    path = tmp_path / SEED.name  # same name: the same document id czf-2022-8
    path.write_text("\n".join(LINES[:300]) + "\n", "utf-8")
    return path


def clause_count(index, doc_id="czf-2022-8"):
    from kb.base import KnowledgeBase

    kb = KnowledgeBase.open(index)
    try:
        return {d["id"]: d["clauses"] for d in kb.documents()}.get(doc_id)
    finally:
        kb.close()


def test_shrinking_reingest_refused_without_force(fake_index_copy, truncated, fake_cli):
    before = read_manifest(fake_index_copy)["generation"]
    r = runner.invoke(app, ["ingest", str(truncated), "--index", str(fake_index_copy)])
    assert r.exit_code == 1
    assert "would replace czf-2022-8 (357 clauses) with 121 clauses, losing 236 (66%" in r.stderr
    assert "--force" in r.stderr
    assert read_manifest(fake_index_copy)["generation"] == before
    assert clause_count(fake_index_copy) == 357

    r = runner.invoke(app, ["ingest", str(truncated), "--force", "--index", str(fake_index_copy), "--json"])
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["replaced"] == ["czf-2022-8"] and report["added"] == [] and report["removed"] == []
    assert any("losing 236" in w and "(forced)" in w for w in report["warnings"])
    assert clause_count(fake_index_copy) == 121


def test_small_change_passes_the_guard(seed_doc):
    assert guard.problems([seed_doc], {"czf-2022-8": 400}) == []  # 357 of 400: −11 %, within 20 %
    assert guard.problems([seed_doc], {"czf-2022-8": 447})  # 357 of 447: −20.1 %


def test_plan_repeated_in_one_file_refused(tmp_path, fake_index_copy, fake_embedder):
    children = LINES[448:]
    path = tmp_path / "pasted.txt"
    path.write_text("\n".join(LINES[:448] + children * 3) + "\n", "utf-8")
    with pytest.raises(LossRefused, match=r"plan '曾都区儿童发展规划\(2021—2030年\)' appears 3 times in one file"):
        ingest([path], fake_index_copy, embedder=fake_embedder)
    assert clause_count(fake_index_copy) == 357


def test_versions_of_one_plan_are_different_documents(tmp_path, fake_embedder):
    """Two files with the same plan (a revision) are two documents, never repeats."""
    old, new = tmp_path / "plan-2021.txt", tmp_path / "plan-2023.txt"
    old.write_text(OTHER_DOC, "utf-8")
    new.write_text(OTHER_DOC.replace("2.发展老年教育。", "2.发展老年教育。\n\n3.建设老年友好社区。"), "utf-8")
    report = ingest([old, new], tmp_path / "index", embedder=fake_embedder)
    assert report.added == ["plan-2021", "plan-2023"]
    assert report.warnings == [] or not any("appears" in w for w in report.warnings)


def test_ingest_reports_added_replaced_removed(tmp_path, fake_embedder):
    other = tmp_path / "other.txt"
    other.write_text(OTHER_DOC, "utf-8")
    idx = tmp_path / "index"
    assert ingest([SEED], idx, embedder=fake_embedder).added == ["czf-2022-8"]
    r = ingest([SEED, other], idx, embedder=fake_embedder)
    assert (r.added, r.replaced, r.removed) == (["other"], ["czf-2022-8"], [])
    r = ingest([other], idx, embedder=fake_embedder, rebuild=True)
    assert (r.added, r.replaced, r.removed) == ([], ["other"], ["czf-2022-8"])


def test_kb_remove(tmp_path, fake_index_copy, fake_embedder, fake_cli):
    other = tmp_path / "other.txt"
    other.write_text(OTHER_DOC, "utf-8")
    ingest([other], fake_index_copy, embedder=fake_embedder)
    r = runner.invoke(app, ["remove", "other", "--index", str(fake_index_copy)])
    assert r.exit_code == 0, r.stderr
    assert "removed: other" in r.stdout
    assert clause_count(fake_index_copy, "other") is None
    assert clause_count(fake_index_copy) == 357
    assert read_manifest(fake_index_copy)["clauses"] == 357
    r = runner.invoke(app, ["remove", "nope", "--index", str(fake_index_copy)])
    assert r.exit_code == 1
    assert "no document 'nope'; stored: czf-2022-8" in r.stderr
    with pytest.raises(NotFound):
        remove_documents(["other"], fake_index_copy, embedder=fake_embedder)
