"""Citations between documents (kb/citations.py, issue 9 section 3): the seed and the 16
laws of issue 9 ingested together (stand-in embedder), every form of reference, versions
in force, 被引用, and the CLI/API shapes."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from conftest import ROOT, SEED
from kb.base import KnowledgeBase
from kb.build import ingest, remove_documents
from kb.citations import Catalogue, effective_date, find_citations, find_references, norm_title

LAWS_DIR = ROOT / "tests" / "data" / "laws"
SHARED_LAWS = ROOT.parent / "shared" / "corpora" / "laws-cn"
# The national laws and regulations of issue 9 ("Bundled corpus"), in tests/data/laws.
LAWS = ["民法典/婚姻家庭编.md", "社会法/反家庭暴力法(2015-12-27).md", "社会法/妇女权益保障法(2018-10-26).md",
        "社会法/妇女权益保障法(2022-10-30).md", "社会法/未成年人保护法(2020-10-17).md",
        "社会法/未成年人保护法(2024-04-26).md", "社会法/家庭教育促进法(2021-10-23).md",
        "社会法/预防未成年人犯罪法(2020-12-26).md", "社会法/老年人权益保障法(2018-12-29).md",
        "社会法/残疾人保障法(2018-10-26).md", "行政法/母婴保健法(2017-11-04).md",
        "行政法规/母婴保健法实施办法(2023-07-20).md", "行政法/义务教育法(2018-12-29).md",
        "行政法/学前教育法(2024-11-08).md", "行政法规/女职工劳动保护特别规定(2012-04-28).md",
        "行政法规/校车安全管理条例(2012-04-05).md"]
WOMEN_2018, WOMEN_2022 = "funvquanyibaozhangfa-2018-10-26", "funvquanyibaozhangfa-2022-10-30"
DV_LAW = "fanjiatingbaolifa-2015-12-27"
# A notice dated between the 2022 revision's adoption (2022-10-30) and its effect (2023-01-01)
# that names articles, as county notices implementing a law do.
NOTICE = """某县妇女儿童工作委员会办公室关于学习贯彻妇女权益保障法的通知

各乡镇人民政府，县直有关单位：

一、认真学习法律条文

依照《中华人民共和国妇女权益保障法》第二十三条第二款，用人单位不得歧视妇女。

二、做好反家庭暴力工作

严格执行《反家庭暴力法》第二十三条至第二十五条关于人身安全保护令的规定，落实《湖北省反家庭暴力条例》。

某县妇女儿童工作委员会办公室
2022年11月15日
"""


@pytest.fixture(scope="module")
def law_index(tmp_path_factory, fake_embedder):
    """The seed, the 16 laws and the notice above, ingested once; read-only."""
    notice = tmp_path_factory.mktemp("notice") / "notice.txt"
    notice.write_text(NOTICE, "utf-8")
    idx = tmp_path_factory.mktemp("cites") / "index"
    ingest([SEED, notice, *(LAWS_DIR / p for p in LAWS)], idx, embedder=fake_embedder)
    return idx


@pytest.fixture(scope="module")
def lkb(law_index):
    base = KnowledgeBase.open(law_index)
    yield base
    base.close()


def seed_cites(lkb):
    return lkb.cites("czf-2022-8").cites


def by_text(cites, text):
    found = [c for c in cites if c.text == text]
    assert found, f"no citation {text!r} in {[c.text for c in cites]}"
    return found


# ---------------------------------------------------------------------- finding references
def test_references_in_law_text_lists_and_ranges(lkb):
    """妇女权益保障法 (2022) 第八十三条 names two of its own articles with 和."""
    text = lkb.show("funvquanyibaozhangfa-2022-10-30.a83").clause.text
    refs = [r for r in find_references(text)]
    assert [(r.title, r.label) for r in refs] == [(None, "第四十三条"), (None, "第四十八条")]
    assert text[refs[0].start:refs[0].end] == "本法第四十三条和第四十八条"


def test_range_and_arabic_numerals_and_sub_articles():
    """Forms seen in the laws corpus: a range (each article), Arabic numbers (交通警察道路执勤执法工作规范:
    《道路交通安全法》第89条), 之一 articles (刑法), 款 and 项 kept in the text."""
    refs = find_references("严格执行《反家庭暴力法》第二十三条至第二十五条的规定")
    assert [r.label for r in refs] == ["第二十三条", "第二十四条", "第二十五条"]
    law = (LAWS_DIR / "部门规章/公安部/交通警察道路执勤执法工作规范(2018-01-25).md").read_text("utf-8")
    arabic = [r for r in find_references(law) if r.number == 89]
    assert arabic and arabic[0].title == "道路交通安全法" and arabic[0].label == "第八十九条"
    (sub,) = find_references("依照《刑法》第二百八十七条之一第一款第(二)项")
    assert (sub.label, sub.number, sub.sub) == ("第二百八十七条之一", 287, 1)
    assert sub.text == "《刑法》第二百八十七条之一第一款第(二)项"


def test_title_normalisation():
    assert norm_title("中华人民共和国妇女权益保障法") == norm_title("妇女权益保障法") == "妇女权益保障法"
    assert norm_title("曾都区儿童发展规划（2021—2030年）") == norm_title("曾都区儿童发展规划(2021—2030年)")
    assert norm_title("中华人民共和国民法典 婚姻家庭编") == "民法典婚姻家庭编"


# ---------------------------------------------------------------------- resolution, one form each
def test_every_seed_citation_of_a_bundled_law_resolves(lkb):
    """Issue 9 must-show: each 《…》 of the seed whose title is one of the bundled laws (the
    file's '# title' heading or its name) resolves to a document of that title."""
    names = {}
    for p in LAWS:
        f = LAWS_DIR / p
        heading = f.read_text("utf-8").splitlines()[0].lstrip("# ").strip()
        for name in (heading, re.sub(r"\(.*$", "", f.stem)):
            names[norm_title(name)] = heading
    docs = {d["id"]: d for d in lkb.documents()}
    seed_text = SEED.read_text("utf-8")
    named = [t for t in re.findall(r"《([^》]+)》", seed_text) if norm_title(t) in names]
    assert len(named) == 12  # 民法典 ×3, 妇女权益保障法 ×2, 反家庭暴力法 ×3, 未成年人保护法, 老年人…, 女职工…, 校车…
    cites = [c for c in seed_cites(lkb) if c.title in named]
    assert len(cites) == len(named)
    for c in cites:
        assert c.doc_id is not None, c.text
        assert names[norm_title(c.title)].startswith(docs[c.doc_id]["title"].split(" ")[0]), (c.text, c.doc_id)


def test_full_title_resolves(lkb):
    (c, *_) = by_text(seed_cites(lkb), "《中华人民共和国反家庭暴力法》")
    assert (c.doc_id, c.clause_id, c.in_force_doc_id) == (DV_LAW, None, None)
    assert c.short_path == "反家庭暴力法"


def test_short_title_resolves_to_the_code_part(lkb):
    """《民法典》 names the code; of it the bundle holds 婚姻家庭编."""
    for c in by_text(seed_cites(lkb), "《民法典》"):
        assert c.doc_id == "minfadian-hunyinjiatingbian-2020-05-28"
    (c,) = by_text(seed_cites(lkb), "《校车安全管理条例》")
    assert c.doc_id == "xiaocheanquanguanlitiaoli-2012-04-05"


def test_article_resolves_to_the_article(lkb):
    cites = lkb.cites("notice.p2.para1").cites
    dv = [c for c in cites if c.title == "反家庭暴力法"]
    assert [c.clause_id for c in dv] == [f"{DV_LAW}.a23", f"{DV_LAW}.a24", f"{DV_LAW}.a25"]
    assert [c.short_path for c in dv] == ["反家庭暴力法/第二十三条", "反家庭暴力法/第二十四条", "反家庭暴力法/第二十五条"]
    assert "人身安全保护令" in lkb.show(dv[0].clause_id).clause.text


def test_law_not_in_the_knowledge_base_stays_unresolved(lkb):
    for cites in (seed_cites(lkb), lkb.cites("notice").cites):
        (c,) = by_text(cites, "《湖北省反家庭暴力条例》")
        assert (c.doc_id, c.clause_id, c.in_force_doc_id) == (None, None, None)
    unresolved = sorted(c.text for c in seed_cites(lkb) if c.doc_id is None)
    assert unresolved == ["《中华人民共和国宪法》", "《国家学生体质健康标准》", "《妇女儿童权益保护法》", "《湖北省反家庭暴力条例》"]


def test_this_law_article_resolves_within_the_same_version(lkb):
    """本法 in the 2020 text of 未成年人保护法 means the 2020 text, not the current (2024) one."""
    old_id = "weichengnianrenbaohufa-2020-10-17"
    old = [c for c in lkb.cites(old_id).cites if c.title is None]
    assert len(old) >= 10
    assert all(c.doc_id == old_id and c.clause_id.startswith(old_id + ".a") for c in old)
    assert all(c.in_force_doc_id is None for c in old)


def test_seed_plans_named_in_the_notice_resolve_to_the_seed(lkb):
    cites = lkb.cites("czf-2022-8.notice.para2").cites
    assert [(c.title, c.doc_id) for c in cites] == [("曾都区妇女发展规划(2021—2030年)", "czf-2022-8"),
                                                   ("曾都区儿童发展规划(2021—2030年)", "czf-2022-8")]


# ---------------------------------------------------------------------- versions
def test_effective_dates_of_the_versions(lkb):
    """2022 revision: adopted 2022-10-30, 第八十六条 本法自2023年1月1日起施行; the 2018 amendment
    keeps 第六十一条 (1992-10-01), so it took effect when adopted; 未成年人保护法 2020: 2021-06-01."""
    docs = {d["id"]: d for d in lkb.documents()}
    got = {i: effective_date(docs[i], lkb.clauses(doc=i)) for i in
           (WOMEN_2018, WOMEN_2022, "weichengnianrenbaohufa-2020-10-17", "weichengnianrenbaohufa-2024-04-26")}
    assert got == {WOMEN_2018: "2018-10-26", WOMEN_2022: "2023-01-01",
                   "weichengnianrenbaohufa-2020-10-17": "2021-06-01", "weichengnianrenbaohufa-2024-04-26": "2024-04-26"}


def test_seed_cites_the_current_version_and_records_the_one_in_force(lkb):
    """The seed (signed 2022-12-29) cites 妇女权益保障法 days before the 2022 revision took effect."""
    for c in by_text(seed_cites(lkb), "《中华人民共和国妇女权益保障法》"):
        assert (c.doc_id, c.in_force_doc_id) == (WOMEN_2022, WOMEN_2018)
    (c,) = by_text(seed_cites(lkb), "《中华人民共和国未成年人保护法》")
    assert (c.doc_id, c.in_force_doc_id) == ("weichengnianrenbaohufa-2024-04-26", "weichengnianrenbaohufa-2020-10-17")


def test_article_in_force_is_the_same_number_in_the_old_version(lkb):
    (c,) = lkb.cites("notice.p1.para1").cites
    assert (c.clause_id, c.in_force_doc_id, c.in_force_clause_id) == (f"{WOMEN_2022}.a23", WOMEN_2018, f"{WOMEN_2018}.a23")
    assert c.text == "《中华人民共和国妇女权益保障法》第二十三条第二款"


def test_superseded_by_column_decides_the_current_version(lkb):
    """Where the store marks versions (docs9's superseded_by), the unmarked one is current."""
    docs = [dict(d) for d in lkb.documents()]
    for d in docs:
        d["superseded_by"] = WOMEN_2018 if d["id"] == WOMEN_2022 else None  # marked the other way round
    cat = Catalogue(docs, [])
    assert cat.current[norm_title("妇女权益保障法")] == WOMEN_2018


@pytest.mark.skipif(not (SHARED_LAWS / "民法典" / "总则.md").exists(), reason="../shared/corpora/laws-cn absent")
def test_article_number_decides_the_part_of_the_code():
    """最高人民法院…相互认可和执行民商事案件判决的安排 cites 《中华人民共和国民法典》第一百二十三条: 总则."""
    from kb.parse import parse_file

    files = [SHARED_LAWS / "民法典" / "总则.md", SHARED_LAWS / "民法典" / "婚姻家庭编.md",
             SHARED_LAWS / "司法解释" / "最高人民法院关于内地与香港特别行政区法院相互认可和执行民商事案件判决的安排(2024-01-25).md"]
    docs = [parse_file(f) for f in files]
    cits = find_citations([c for d in docs for c in d.clauses], [d.facts() for d in docs])
    (c,) = [c for c in cits if c.label == "第一百二十三条"]
    assert c.doc_id == docs[0].id and c.clause_id == f"{docs[0].id}.a123"
    # 本法第N条 in one part naming an article of another part (婚姻家庭编 → 总则)
    other = [c for c in cits if c.title is None and c.citing_doc_id == docs[1].id and c.doc_id == docs[0].id]
    assert all(c.clause_id.startswith(docs[0].id + ".a") for c in other)


# ---------------------------------------------------------------------- cited_by, store updates
def test_cited_by(lkb):
    r = lkb.show(f"{WOMEN_2022}.a43")
    assert r.cited_by == [f"{WOMEN_2022}.a83"]
    doc = lkb.show(DV_LAW)
    assert {"czf-2022-8.funv.p2.d6.m5", "czf-2022-8.funv.p2.d8.m1", "czf-2022-8.funv.p2.d8.m3",
            "jiatingjiaoyucujinfa-2021-10-23.a53", "notice.p2.para1"} <= set(doc.cited_by)
    # the version in force counts as cited too
    assert "czf-2022-8.funv.p2.d8.m1" in lkb.show(WOMEN_2018).cited_by
    assert lkb.show(f"{WOMEN_2018}.a23").cited_by == ["notice.p1.para1"]


def test_citations_follow_remove_and_ingest(law_index, tmp_path, fake_embedder):
    import shutil

    idx = tmp_path / "index"
    shutil.copytree(law_index, idx, symlinks=True)
    remove_documents([DV_LAW], idx, embedder=fake_embedder)
    with _open(idx) as k:
        (c, *_) = by_text(k.cites("czf-2022-8").cites, "《中华人民共和国反家庭暴力法》")
        assert c.doc_id is None
    ingest([LAWS_DIR / LAWS[1]], idx, embedder=fake_embedder)
    with _open(idx) as k:
        (c, *_) = by_text(k.cites("czf-2022-8").cites, "《中华人民共和国反家庭暴力法》")
        assert c.doc_id == DV_LAW


class _open:
    def __init__(self, idx):
        self.kb = KnowledgeBase.open(idx)

    def __enter__(self):
        return self.kb

    def __exit__(self, *exc):
        self.kb.close()


# ---------------------------------------------------------------------- CLI and API
def test_kb_show_json_and_text(law_index):
    from cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["show", "czf-2022-8.funv.p2.d8.m1", "--index", str(law_index), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [c["doc_id"] for c in data["cites"]] == ["minfadian-hunyinjiatingbian-2020-05-28", WOMEN_2022, DV_LAW]
    assert set(data["cites"][1]) >= {"text", "doc_id", "clause_id", "in_force_doc_id"}
    assert data["cites"][1]["in_force_doc_id"] == WOMEN_2018
    assert data["cited_by"] == []
    res = runner.invoke(app, ["show", "反家庭暴力法/第二十三条", "--index", str(law_index)])
    assert res.exit_code == 0, res.output
    assert "被引用 notice.p2.para1" in res.stdout
    res = runner.invoke(app, ["show", "czf-2022-8.funv.p2.d8.m3", "--index", str(law_index)])
    assert "引用 《湖北省反家庭暴力条例》 → 未收录" in res.stdout


def test_kb_cites(law_index):
    from cli.main import app

    runner = CliRunner()
    res = runner.invoke(app, ["cites", "妇女权益保障法", "--index", str(law_index), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["id"] == WOMEN_2022
    assert {"czf-2022-8.funv.p2.d6.m5", "czf-2022-8.funv.p2.d8.m1", "notice.p1.para1"} <= {
        c["citing_clause_id"] for c in data["cited_by"]}
    res = runner.invoke(app, ["cites", "czf-2022-8.funv.p2.d8.m3", "--index", str(law_index)])
    assert res.exit_code == 0 and "未收录" in res.stdout and "fanjiatingbaolifa-2015-12-27" in res.stdout
    res = runner.invoke(app, ["cites", "没有这部法", "--index", str(law_index)])
    assert res.exit_code == 1 and "nor is it a document title" in " ".join(res.output.split())  # rich wraps long lines


def test_api_clause_and_cites(law_index, fake_embedder):
    from pathlib import Path

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(index_dir=Path(law_index)), embedder=fake_embedder)) as client:
        r = client.get("/api/clauses/notice.p1.para1")
        assert r.status_code == 200
        body = r.json()
        assert body["cites"][0]["clause_id"] == f"{WOMEN_2022}.a23"
        assert body["cites"][0]["in_force_doc_id"] == WOMEN_2018
        assert client.get(f"/api/clauses/{DV_LAW}.a23").json()["cited_by"] == ["notice.p2.para1"]
        r = client.get("/api/cites/反家庭暴力法")
        assert r.status_code == 200 and r.json()["id"] == DV_LAW
        assert client.get("/api/cites/没有这部法").status_code == 404
        schema = client.get("/openapi.json").json()["components"]["schemas"]["ShowResult"]["properties"]
        assert {"cites", "cited_by"} <= set(schema)
