"""The structure grammars (kb/grammars): choice by evidence, laws, notices, plan layouts of
other places and periods, document facts. Real texts: the seed, a sample of the national laws
(tests/data/laws) and real fragments of other plans (tests/gold/fragments)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import EVAL, ROOT, SEED, load_benchmark
from kb.errors import ParseError
from kb.parse import parse_file, parse_text

LAWS = ROOT / "tests" / "data" / "laws"
LAW_FILES = sorted(LAWS.rglob("*.md"))
parse_laws = load_benchmark("parse_laws")


def law(name: str):
    return parse_file(next(p for p in LAW_FILES if p.name.startswith(name)))


# ---------------------------------------------------------------- every article, three forms

@pytest.mark.parametrize("path", LAW_FILES, ids=lambda p: p.stem[:24])
def test_every_article_of_the_source_is_one_clause_in_order(path):
    md = path.read_text("utf-8")
    want = parse_laws.expected_articles(md)
    doc = parse_file(path)
    assert parse_laws.check(doc, want) == (True, "")
    plain = parse_laws.plain_text(md)
    assert parse_laws.check(parse_text(plain, source=str(path)), want) == (True, "")
    from kb.read import decode_document

    page = decode_document(parse_laws.portal_html(plain, path.stem).encode("utf-8"), name=path.name, html=True)
    assert parse_laws.check(parse_text(page, source=str(path)), want) == (True, "")


def test_law_grammar_chosen_and_article_fields():
    doc = law("反家庭暴力法")
    assert (doc.grammar, doc.doc_type, doc.issuer, doc.level) == ("law", "法律", "全国人民代表大会常务委员会", "国家")
    assert doc.grammar_reason.startswith("38 lines open an article")
    assert doc.id == "fanjiatingbaolifa-2015-12-27" and doc.dates["signed"] == "2015-12-27"
    a23 = next(c for c in doc.clauses if c.label == "第二十三条")
    assert a23.number == 23 and a23.id == "fanjiatingbaolifa-2015-12-27.a23"
    assert a23.short_path == "反家庭暴力法/第二十三条"
    assert a23.path == ["中华人民共和国反家庭暴力法", "第四章 人身安全保护令", "第二十三条"]
    assert (a23.plan, a23.part, a23.domain, a23.section) == (None, None, None, None)
    assert a23.text.startswith("当事人因遭受家庭暴力或者面临家庭暴力的现实危险,向人民法院申请人身安全保护令的")
    # 款 and 项 are nodes under the article
    kids = [n for n in doc.nodes if n.parent_id == a23.id]
    assert [n.kind for n in kids] == ["paragraph", "paragraph"] and kids[1].title == "第2款"


def test_items_and_paragraphs_of_an_article():
    doc = law("妇女权益保障法(2022")
    a = next(c for c in doc.clauses if c.label == "第二十五条")
    items = [n for n in doc.nodes if n.kind == "item" and n.id.startswith(a.id + ".")]
    assert [n.title for n in items][:2] == ["(一)", "(二)"]
    assert a.text.count("\n") == len([n for n in doc.nodes if n.parent_id == a.id]) - 1 + len(items)


def test_versions_get_different_ids_and_dates():
    old, new = law("妇女权益保障法(2018"), law("妇女权益保障法(2022")
    assert old.id == "funvquanyibaozhangfa-2018-10-26" and new.id == "funvquanyibaozhangfa-2022-10-30"
    assert new.dates["signed"] == "1992-04-03" and new.dates["amended"][-1] == "2022-10-30"
    assert new.issuer == "全国人民代表大会" and new.doc_type == "法律"


def test_code_part_keeps_the_code_title_with_the_part():
    doc = law("婚姻家庭编")
    assert doc.title == "中华人民共和国民法典 婚姻家庭编" and doc.id == "minfadian-hunyinjiatingbian-2020-05-28"
    c = next(c for c in doc.clauses if c.number == 1042)
    assert c.label == "第一千零四十二条" and c.short_path == "民法典/第一千零四十二条"
    assert c.text.startswith("禁止包办、买卖婚姻")
    assert any(n.kind == "law_section" and n.title == "第一节 夫妻关系" for n in doc.nodes)


def test_article_of_a_numbered_supplement_and_books():
    doc = law("刑法.md")
    a = next(c for c in doc.clauses if c.label == "第一百二十条之一")
    assert a.number == 120 and a.id.endswith(".a120-1")
    assert any(n.kind == "book" and n.title.startswith("第一编") for n in doc.nodes)
    assert doc.id != "" and len({c.id for c in doc.clauses}) == len(doc.clauses)


def test_skipped_article_number_is_a_warning_not_a_rejection():
    doc = law("刑事诉讼法")
    assert any("skip from 127 to 129" in w for w in doc.warnings)
    assert [c.number for c in doc.clauses if parse_laws.is_article(c)][126:128] == [127, 129]


def test_constructed_numbering_faults_and_references():
    text = ("某某条例\n\n第一条 为了规范管理,制定本条例。\n\n第二条 本条例适用于本省。\n\n"
            "第二条 重复的条。\n\n第五条 依照本条例第三条的规定执行。\n\n第三条规定的情形除外。\n")
    doc = parse_text(text, source="x.txt")
    assert [c.label for c in doc.clauses] == ["第一条", "第二条", "第二条", "第五条"]
    assert len({c.id for c in doc.clauses}) == 4
    assert doc.clauses[-1].text == "依照本条例第三条的规定执行。\n第三条规定的情形除外。"
    assert any("repeats" in w for w in doc.warnings) and any("skip from 2 to 5" in w for w in doc.warnings)


def test_local_regulation_in_parentheses_header():
    text = ("湖北省妇女权益保障条例\n(2019年11月29日湖北省第十三届人民代表大会常务委员会第十二次会议通过)\n\n"
            "第一章 总则\n\n第一条 为了保障妇女的合法权益,根据有关法律,结合本省实际,制定本条例。\n\n"
            "第二条 县级以上人民政府负责本行政区域内的妇女权益保障工作。\n")
    doc = parse_text(text, source="hubei.html")
    assert (doc.grammar, doc.doc_type, doc.level) == ("law", "地方性法规", "省")
    assert doc.dates["signed"] == "2019-11-29" and doc.clauses[1].short_path == "湖北省妇女权益保障条例/第二条"


def test_notice_wrapping_rules_keeps_both():
    text = ("某市人民政府关于印发《某市校车安全管理办法》的通知\n某政发〔2023〕5号\n各区人民政府:\n"
            "现将《某市校车安全管理办法》印发给你们,请认真遵照执行。\n2023年3月1日\n"
            "某市校车安全管理办法\n第一条 为了加强校车安全管理,制定本办法。\n第二条 本办法自发布之日起施行。\n")
    doc = parse_text(text, source="notice.txt")
    assert doc.grammar == "law" and doc.doc_number == "某政发〔2023〕5号"
    labels = [c.label for c in doc.clauses]
    assert labels[-2:] == ["第一条", "第二条"]
    assert any("印发给你们" in c.text for c in doc.clauses)  # the notice stays citable


def test_texts_without_articles_are_read_as_notices():
    doc = law("刑法修正案（八）")
    assert doc.grammar == "notice" and doc.clauses
    assert not any(parse_laws.is_article(c) for c in doc.clauses)


# ---------------------------------------------------------------- notices

def test_notice_with_numbered_headings():
    text = ("某县人民政府办公室关于做好2024年防汛工作的通知\n\n各乡镇人民政府:\n\n"
            "一、提高思想认识\n\n防汛工作事关人民群众生命财产安全。\n\n二、落实工作措施\n\n"
            "(一)加强监测预警\n\n1.气象部门要及时发布预警信息。\n\n2.水利部门要加强巡查。\n\n"
            "(二)做好应急准备\n\n各乡镇要储备物资。\n\n某县人民政府办公室\n2024年5月6日\n")
    doc = parse_text(text, source="fx.txt")
    assert (doc.grammar, doc.doc_type) == ("notice", "通知")
    paths = [c.short_path for c in doc.clauses]
    assert "做好2024年防汛工作/落实工作措施/加强监测预警/2" in paths
    assert any(c.text == "各乡镇要储备物资。" for c in doc.clauses)


# ---------------------------------------------------------------- plans of other layouts

def test_fragments_of_other_plans_parse_exactly():
    scores = load_benchmark("eval_fragments").score_dir(EVAL / "fragments")
    assert len(scores) == 4
    for s in scores:
        assert s.core, (s.file, s.missed, s.extras)
        assert not (s.grouping_errors or s.boundary_errors or s.subitem_errors or s.department_errors), s


def test_responsibility_lines_become_tags_not_text():
    text = ("某区儿童发展规划(2021—2030年)\n\n二、发展领域、主要目标和策略措施\n\n(一)儿童与健康。\n\n策略措施:\n\n"
            "1.加强儿童健康服务。完善儿童医疗卫生服务体系。\n牵头单位:区卫健局\n责任单位:区教育局、区医保局\n\n"
            "2.预防儿童近视。开展近视防控。\n牵头单位:区教育局  责任单位:区卫健局\n")
    doc = parse_text(text, source="p.txt")
    c1, c2 = doc.clauses
    assert c1.text == "加强儿童健康服务。完善儿童医疗卫生服务体系。" and "单位" not in c2.text
    assert [(d.name, d.role) for d in c1.departments] == [("区卫健局", "lead"), ("区教育局", "responsible"),
                                                           ("区医保局", "responsible")]
    assert [(d.name, d.role) for d in c2.departments] == [("区教育局", "lead"), ("区卫健局", "responsible")]
    assert c1.domain == "儿童与健康" and c1.section == "策略措施"


def test_table_of_contents_is_skipped():
    text = ("某市妇女发展规划(2021—2030年)\n目录\n一、总体要求\n二、发展领域、主要目标和策略措施\n三、组织实施\n"
            "一、总体要求\n坚持男女平等基本国策。\n二、发展领域、主要目标和策略措施\n(一)妇女与健康\n主要目标:\n"
            "1.妇女人均预期寿命延长。\n三、组织实施\n(一)加强组织领导。各级政府负责。\n")
    doc = parse_text(text, source="toc.txt")
    parts = [n.title for n in doc.nodes if n.kind == "part"]
    assert parts == ["总体要求", "发展领域、主要目标和策略措施", "组织实施"]
    assert [c.text for c in doc.clauses if c.section == "主要目标"] == ["妇女人均预期寿命延长。"]
    assert any("table of contents" in w for w in doc.warnings)


# ---------------------------------------------------------------- choice and facts

def test_seed_facts_and_grammar(seed_doc):
    assert (seed_doc.grammar, seed_doc.doc_type, seed_doc.issuer, seed_doc.level) == ("plan", "通知", "曾都区人民政府", "县区")
    assert seed_doc.doc_number == "曾政发〔2022〕8号" and seed_doc.validity == "有效"
    assert seed_doc.dates == {"signed": "2022-12-29", "published": "2022-12-30T11:25", "effective": None, "amended": []}
    assert "plan title '曾都区妇女发展规划(2021—2030年)'" in seed_doc.grammar_reason


def test_grammar_override_and_unknown_grammar():
    doc = parse_file(SEED, grammar="notice")
    assert doc.grammar == "notice" and doc.grammar_reason == "chosen with --grammar" and doc.clauses
    with pytest.raises(ParseError, match="unknown grammar 'statute'.*plan, law, notice"):
        parse_file(SEED, grammar="statute")


def test_responsibility_table_rows_from_html():
    from kb.read import decode_document

    page = ("<html><body><h1>某区妇女发展规划(2021—2030年)任务分解表</h1><table>"
            "<tr><th>领域</th><th>主要目标</th><th>牵头单位</th><th>责任单位</th></tr>"
            "<tr><td>1.妇女人均预期寿命延长。</td><td>区卫健局</td><td>区医保局、区体育局</td></tr>"
            "<tr><td>2.孕产妇死亡率控制在10/10万以下。</td><td>区卫健局</td><td>区妇联</td></tr>"
            "</table></body></html>")
    doc = parse_text(decode_document(page.encode("utf-8"), name="t.html", html=True), source="t.html")
    c1, c2 = [c for c in doc.clauses if c.number]
    assert c1.text == "妇女人均预期寿命延长。" and c2.text.startswith("孕产妇死亡率控制在10/10万以下")
    assert [d.name for d in c1.departments if d.explicit] == ["区卫健局", "区医保局", "区体育局"]
    assert [d.name for d in c2.departments if d.explicit][:2] == ["区卫健局", "区妇联"]


# ---------------------------------------------------------------- in a knowledge base

@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory, fake_embedder):
    """The seed, a law, a notice-read text and a fragment ingested together (fake embedder)."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("mixed") / "index"
    files = [SEED, next(p for p in LAW_FILES if p.name.startswith("反家庭暴力法")),
             next(p for p in LAW_FILES if p.name.startswith("刑法修正案")),
             EVAL / "fragments" / "05_guangdong_women_plan_2011_2020_responsibility_table.txt"]
    report = ingest(files, idx, embedder=fake_embedder)
    return idx, report


def test_ingest_summary_per_grammar(mixed_index):
    _, report = mixed_index
    rows = {(r["doc_id"], r["unit"]): r for r in report.summary}
    assert rows[("czf-2022-8", "妇女")]["goals"] == 78 and rows[("czf-2022-8", "儿童")]["measures"] == 81
    law_row = rows[("fanjiatingbaolifa-2015-12-27", "反家庭暴力法")]
    assert (law_row["grammar"], law_row["doc_type"], law_row["chapters"], law_row["articles"]) == ("law", "法律", 6, 38)
    assert [p.plan for p in report.plans][:2] == ["妇女", "儿童"]  # the plans of `kb ingest --json` are kept


def test_show_a_law_by_short_path_and_documents_carry_facts(mixed_index, fake_embedder):
    from kb.base import KnowledgeBase

    kb = KnowledgeBase.open(mixed_index[0], embedder=fake_embedder)
    r = kb.show("反家庭暴力法/第二十三条")
    assert r.clause.label == "第二十三条" and [n.title for n in r.breadcrumb][1:] == ["第四章 人身安全保护令", "第二十三条"]
    assert kb.show("反家庭暴力法/23").node.id == r.node.id
    docs = {d["id"]: d for d in kb.documents()}
    law_doc = docs["fanjiatingbaolifa-2015-12-27"]
    assert (law_doc["grammar"], law_doc["doc_type"], law_doc["level"]) == ("law", "法律", "国家")
    assert law_doc["dates"]["signed"] == "2015-12-27"
    assert docs["czf-2022-8"]["doc_number"] == "曾政发〔2022〕8号"
    tagged = [c for c in kb.clauses(doc="05-guangdong-women-plan-2011-2020-responsibility-table") if c.number == 3]
    assert {d.name for d in tagged[0].departments if d.cue == "responsibility line"} == {"省计生委", "省卫生厅"}


# ---------------------------------------------------------------- kb parse

def test_kb_parse_json_contract_and_nothing_written(tmp_path, monkeypatch):
    import json

    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.chdir(tmp_path)
    law_file = next(p for p in LAW_FILES if p.name.startswith("反家庭暴力法"))
    r = CliRunner().invoke(app, ["parse", str(SEED), str(law_file), "--json"])
    assert r.exit_code == 0, r.stderr
    seed, law_doc = json.loads(r.stdout)
    for d in (seed, law_doc):
        assert {"id", "title", "grammar", "grammar_reason", "doc_type", "issuer", "doc_number", "dates", "validity",
                "meta", "warnings", "clauses"} <= set(d)
        assert set(d["dates"]) == {"signed", "published", "effective", "amended"}
    assert (seed["grammar"], seed["doc_type"], len(seed["clauses"])) == ("plan", "通知", 357)
    a84 = next(c for c in law_doc["clauses"] if c["number"] == 23)
    assert a84["label"] == "第二十三条" and a84["short_path"] == "反家庭暴力法/第二十三条" and a84["plan"] is None
    assert not any(tmp_path.iterdir())  # parse writes nothing (no index/ created)


def test_kb_parse_reports_bad_files_and_keeps_going(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app

    bad = tmp_path / "prose.txt"
    bad.write_text("今天天气很好。\n\n我们去公园散步。\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["parse", str(SEED), str(bad), "--depth", "1"])
    assert r.exit_code == 1
    assert "prose.txt: no plan structure recognised" in r.stderr and "1 of 2 file(s)" in r.stderr
    assert "曾都区妇女发展规划(2021—2030年)" in r.stdout
    r = CliRunner().invoke(app, ["parse", str(SEED), "--grammar", "statute"])
    assert r.exit_code == 1 and "unknown grammar 'statute'" in r.stderr
