"""Answers over several documents (issue 9 §4): counts, target values, `kb show` paths and
`kb targets` per document when two plan documents hold the same plans, and the document
filters honoured by structure and value answers (kb/ask.py, kb/base.py).

The index holds the seed, a twin of it issued by another county (the seed's text with
曾都区 → 随县 and its own 文号: the same plans, paths and targets in a second document) and
反家庭暴力法, embedded with the stand-in HashEmbedder: structure answers, `kb show` and
`kb targets` read the tree and the tags, not the vectors. Values come from the seed:
妇女与经济 has 10 主要目标 (lines 138–156), 儿童/儿童与健康/主要目标/3 sets 新生儿死亡率
2030年 3‰以下 (line 485), 儿童/儿童安全/策略措施/3 is 预防和控制儿童溺水 (line 563).
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, SEED, SEED_ID, HashEmbedder

TWIN_ID = "szf-2023-3"
SEED_WOMEN = "曾都区妇女发展规划(2021—2030年)"
TWIN_WOMEN = "随县妇女发展规划(2021—2030年)"
runner = CliRunner(env={"COLUMNS": "1000"})


@pytest.fixture(scope="module")
def twin_index(tmp_path_factory):
    from kb.build import ingest

    root = tmp_path_factory.mktemp("twin")
    twin = root / "suixian-plans.txt"
    twin.write_text(SEED.read_text("utf-8").replace("曾都区", "随县").replace("曾政发〔2022〕8号", "随政发〔2023〕3号"),
                    "utf-8")
    law = next((CORPUS / "laws").rglob("*反家庭暴力法*"))
    idx = root / "index"
    ingest([SEED, twin, law], idx, embedder=HashEmbedder())
    return idx


@pytest.fixture(scope="module")
def twin_kb(twin_index):
    from kb.base import KnowledgeBase

    base = KnowledgeBase.open(twin_index, embedder=HashEmbedder())
    yield base
    base.close()


def test_the_twin_is_a_second_document_with_the_same_plans(twin_kb):
    plans = {(p.doc_id, p.key): p.title for p in twin_kb.plans()}
    assert plans[(SEED_ID, "妇女")] == SEED_WOMEN and plans[(TWIN_ID, "妇女")] == TWIN_WOMEN


def test_counts_are_given_per_document_never_added_up(twin_kb):
    a = twin_kb.ask("妇女与经济有几条主要目标")
    assert a.kind == "structure"
    assert a.answer == (f"2份文件分别:{SEED_WOMEN} 妇女与经济: 主要目标10条;{TWIN_WOMEN} 妇女与经济: 主要目标10条")
    assert "20条" not in a.answer


def test_plan_level_counts_per_document(twin_kb):
    a = twin_kb.ask("儿童发展规划的主要目标有多少条")
    assert a.answer.startswith("2份文件分别:曾都区儿童发展规划(2021—2030年)主要目标共67条(")
    assert ";随县儿童发展规划(2021—2030年)主要目标共67条(" in a.answer and "134" not in a.answer


def test_lists_are_given_per_document(twin_kb):
    a = twin_kb.ask("妇女发展规划的基本原则有哪些?")
    assert a.answer.count("基本原则5条:坚持党的全面领导;") == 2 and "10条" not in a.answer
    assert {h.clause.doc_id for h in a.hits} == {SEED_ID, TWIN_ID}


def test_numbered_clause_cited_with_its_document(twin_kb):
    a = twin_kb.ask("儿童安全的策略措施第3条是什么")
    assert f"{SEED_ID}/儿童/儿童安全/策略措施/3: 预防和控制儿童溺水" in a.answer
    assert f"{TWIN_ID}/儿童/儿童安全/策略措施/3: 预防和控制儿童溺水" in a.answer
    for cited in (f"{SEED_ID}/儿童/儿童安全/策略措施/3", f"{TWIN_ID}/儿童/儿童安全/策略措施/3"):
        assert twin_kb.show(cited).clause.heading == "预防和控制儿童溺水"  # the citation is a path `kb show` takes


@pytest.mark.parametrize("filters", [{"doc": SEED_ID}, {"issuer": "曾都区人民政府"}])
def test_structure_answers_honour_document_filters(twin_kb, filters):
    a = twin_kb.ask("妇女与经济有几条主要目标", **filters)
    assert a.answer == "妇女与经济: 主要目标10条"
    assert a.hits and {h.clause.doc_id for h in a.hits} == {SEED_ID}


def test_a_question_naming_the_area_answers_from_that_plan(twin_kb):
    a = twin_kb.ask("随县妇女与经济有几条主要目标")
    assert a.answer == "妇女与经济: 主要目标10条" and {h.clause.doc_id for h in a.hits} == {TWIN_ID}


def test_a_filter_without_plans_gets_no_structure_answer(twin_kb):
    a = twin_kb.ask("妇女与经济有几条主要目标", doc_type="法律")
    assert a.kind != "structure"
    assert all(h.clause.doc_id.startswith("fanjiatingbaolifa") for h in a.hits)


def test_target_values_are_given_per_document(twin_kb):
    a = twin_kb.ask("2030年新生儿死亡率目标是多少")
    assert a.kind == "target_value"
    assert a.answer.startswith("2份文件分别:")
    for doc in (SEED_ID, TWIN_ID):
        assert f"新生儿死亡率: 2030年 ≤ 3‰({doc}/儿童/儿童与健康/主要目标/3)" in a.answer
    assert {twin_kb.store.node(t.clause_id).doc_id for t in a.targets} == {SEED_ID, TWIN_ID}


def test_target_values_honour_document_filters(twin_kb):
    a = twin_kb.ask("2030年新生儿死亡率目标是多少", doc=TWIN_ID)
    assert a.answer == "新生儿死亡率: 2030年 ≤ 3‰(儿童/儿童与健康/主要目标/3)"
    assert [t.clause_id for t in a.targets] == [f"{TWIN_ID}.ertong.p2.d1.g3"]


def test_ambiguous_clause_path_lists_candidates_by_document(twin_kb):
    from kb.errors import NotFound

    with pytest.raises(NotFound, match=rf"matches 2 .*{SEED_ID}: 儿童/儿童安全/策略措施/3; {TWIN_ID}: 儿童/儿童安全/策略措施/3"):
        twin_kb.show("儿童/儿童安全/策略措施/3")
    assert twin_kb.show(f"{TWIN_ID}/儿童/儿童安全/策略措施/3").clause.id == f"{TWIN_ID}.ertong.p2.d2.m3"
    assert twin_kb.show(f"{TWIN_WOMEN}/妇女与经济/主要目标/2").clause.id == f"{TWIN_ID}.funv.p2.d3.g2"


def test_node_paths_show_the_node_or_list_it_by_document(twin_kb):
    from kb.errors import NotFound

    with pytest.raises(NotFound, match=rf"names a node in 2 documents.*{SEED_ID}: .*› 儿童安全; {TWIN_ID}: .*› 儿童安全"):
        twin_kb.show("儿童/儿童安全")
    node = twin_kb.show(f"{SEED_ID}/儿童/儿童安全")
    assert node.node.id == f"{SEED_ID}.ertong.p2.d2" and node.clause is None
    assert [c.title for c in node.children] == ["主要目标", "策略措施"]
    law = twin_kb.show("反家庭暴力法/第四章")
    assert law.node.title == "第四章 人身安全保护令" and law.children[0].title == "第二十三条"


def test_cli_show_and_targets_name_the_document(twin_index):
    from cli.main import app

    r = runner.invoke(app, ["show", "儿童/儿童安全/策略措施/3", "--index", str(twin_index)])
    assert r.exit_code == 1 and f"{SEED_ID}: 儿童/儿童安全/策略措施/3" in r.stderr
    r = runner.invoke(app, ["targets", "--indicator", "新生儿死亡率", "--index", str(twin_index)])
    assert r.exit_code == 0 and "document" in r.stdout
    assert r.stdout.count(SEED_ID) == 2 and r.stdout.count(TWIN_ID) == 2  # 2025 and 2030 in each
    r = runner.invoke(app, ["targets", "--indicator", "新生儿死亡率", "--doc", TWIN_ID, "--json", "--index",
                            str(twin_index)])
    rows = json.loads(r.stdout)
    assert [(t["doc_id"], t["year"], t["value"]) for t in rows] == [(TWIN_ID, 2025, 3.5), (TWIN_ID, 2030, 3.0)]


def test_api_ask_takes_the_document_filters(twin_index):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(index_dir=twin_index), embedder=HashEmbedder())) as c:
        both = c.get("/api/ask", params={"q": "妇女与经济有几条主要目标"}).json()
        one = c.get("/api/ask", params={"q": "妇女与经济有几条主要目标", "doc": TWIN_ID}).json()
    assert both["answer"].startswith("2份文件分别:") and both["kind"] == "structure"
    assert one["answer"] == "妇女与经济: 主要目标10条" and {h["doc_id"] for h in one["hits"]} == {TWIN_ID}
