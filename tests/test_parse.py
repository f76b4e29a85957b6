"""Parser tests on the real seed notice 曾政发〔2022〕8号 and variants of it."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from kb.errors import ParseError
from kb.parse import logical_lines, parse_file, parse_text, plan_key, split_heading
from kb.read import decode_document

from conftest import EVAL, SEED


@pytest.fixture(scope="module")
def structure():
    return json.loads((EVAL / "structure.json").read_text("utf-8"))


def count(doc, plan, section, domain=None):
    return sum(1 for c in doc.clauses if c.plan == plan and c.section == section
               and (domain is None or c.domain == domain))


def test_two_plans_with_titles_and_periods(seed_doc):
    plans = seed_doc.meta["plans"]
    assert [p["key"] for p in plans] == ["妇女", "儿童"]
    assert plans[0]["title"] == "曾都区妇女发展规划(2021—2030年)"
    assert all(p["period"] == [2021, 2030] for p in plans)
    assert plans[1]["scope"] == "本规划所称儿童是指未满十八周岁的未成年人。"


@pytest.mark.parametrize("plan,domains,goals,measures", [("妇女", 8, 78, 83), ("儿童", 7, 67, 81)])
def test_plan_totals(seed_doc, plan, domains, goals, measures):
    assert len({c.domain for c in seed_doc.clauses if c.plan == plan and c.domain}) == domains
    assert count(seed_doc, plan, "主要目标") == goals
    assert count(seed_doc, plan, "策略措施") == measures


def test_every_domain_count_matches_structure(seed_doc, structure):
    for plan in structure["plans"]:
        key = plan["plan"]
        domains = plan["part_二"]["domains"]
        parsed = [n.title for n in seed_doc.nodes if n.kind == "domain" and f".{_code(key)}." in n.id]
        assert parsed == [d["name"] for d in domains]
        for d in domains:
            assert count(seed_doc, key, "主要目标", d["name"]) == d["main_goals_count"], d["name"]
            assert count(seed_doc, key, "策略措施", d["name"]) == d["measures_count"], d["name"]
            headings = [c.heading for c in seed_doc.clauses
                        if c.plan == key and c.domain == d["name"] and c.section == "策略措施"]
            assert headings == d["measure_titles"]


def _code(key):
    return {"妇女": "funv", "儿童": "ertong"}[key]


@pytest.mark.parametrize("plan", ["妇女", "儿童"])
def test_parts_one_three_four(seed_doc, plan):
    assert count(seed_doc, plan, "基本原则") == 5
    clauses = [c for c in seed_doc.clauses if c.plan == plan]
    assert sum(1 for c in clauses if c.part == "组织实施") == 10
    assert sum(1 for c in clauses if c.part == "监测评估") == 5
    first = next(c for c in clauses if c.part == "组织实施")
    assert first.heading == "坚持党的全面领导" and first.number == 1 and first.domain is None
    assert [c.heading for c in clauses if c.section == "基本原则"][0] == "坚持党的全面领导"


def test_metadata(seed_doc):
    m = seed_doc.meta
    assert m["索引号"] == "000014349/2023-01810"
    assert m["主题分类"] == "政务公开"
    assert m["发文单位"] == "曾都区人民政府"
    assert m["发文字号"] == "曾政发〔2022〕8号"
    assert m["效力状态"] == "有效"
    assert m["发布日期"] == "2022-12-30T11:25"
    assert m["成文日期"] == "2022-12-29"
    assert m["主送"] == "各镇人民政府、街道办事处,经济开发区管委会,区政府各部门"
    assert m["title"].startswith("区人民政府关于印发曾都区妇女发展规划(2021—2030年)")
    assert seed_doc.id == "czf-2022-8"


def test_child_safety_measure_3_full_text(seed_doc):
    c = next(c for c in seed_doc.clauses if c.short_path == "儿童/儿童安全/策略措施/3")
    assert c.id == "czf-2022-8.ertong.p2.d2.m3"
    assert c.heading == "预防和控制儿童溺水"
    assert c.text.startswith("预防和控制儿童溺水。加强看护并落实监护责任,保证儿童远离危险水体。")
    assert c.text.endswith("普及儿童游泳及水上安全技能,引导儿童使用安全游泳场所。")
    assert c.path == ["曾都区儿童发展规划(2021—2030年)", "发展领域、主要目标和策略措施", "儿童安全", "策略措施", "3"]
    assert c.line_start == 563


def test_numbers_in_text_are_not_clause_numbers(seed_doc):
    goal8 = next(c for c in seed_doc.clauses if c.short_path == "儿童/儿童与健康/主要目标/8")
    assert goal8.text.startswith("5岁以下儿童贫血患病率和生长迟缓率分别控制在8%和4%以下")
    goal4 = next(c for c in seed_doc.clauses if c.short_path == "儿童/儿童与福利/主要目标/4")
    assert goal4.text.startswith("3岁以下婴幼儿照护服务体系健康发展")
    goal3 = next(c for c in seed_doc.clauses if c.short_path == "儿童/儿童与健康/主要目标/3")
    assert "3.5‰以下" in goal3.text


def test_page_furniture_dropped(seed_doc):
    text = "\n".join(n.text + n.title for n in seed_doc.nodes)
    for junk in ("扫一扫在手机上查看当前页面", "【字体", "打印", "发布时间:"):
        assert junk not in text


def test_ids_unique_and_url_safe(seed_doc):
    ids = [n.id for n in seed_doc.nodes]
    assert len(ids) == len(set(ids))
    assert all(all(ch.isascii() and (ch.isalnum() or ch in ".-") for ch in i) for i in ids)


def _tree(doc):
    return [(n.id, n.kind, n.title, n.number, n.text, n.parent_id) for n in doc.nodes], \
           [(c.id, c.plan, c.domain, c.section, c.number, c.heading, c.text) for c in doc.clauses]


def test_gb18030_gives_identical_tree(seed_doc):
    data = SEED.read_text("utf-8").encode("gb18030")
    doc = parse_text(decode_document(data), source=str(SEED))
    assert _tree(doc) == _tree(seed_doc)


def test_fullwidth_punctuation_gives_identical_tree(seed_doc):
    text = SEED.read_text("utf-8")
    table = str.maketrans({"(": "（", ")": "）", ":": "：", ",": "，", ";": "；", "%": "％"})
    full = "\n".join(_fullwidth_numbering(line.translate(table)) for line in text.split("\n"))
    assert "（一）妇女与健康" in full and "１．" in full
    doc = parse_text(decode_document(full.encode("utf-8")), source=str(SEED))
    assert _tree(doc) == _tree(seed_doc)


def _fullwidth_numbering(line):
    import re

    return re.sub(r"^(\d+)\.", lambda m: "".join(chr(ord(d) + 0xFEE0) for d in m[1]) + "．", line)


def test_bom_crlf_gives_identical_tree(seed_doc):
    data = b"\xef\xbb\xbf" + SEED.read_text("utf-8").replace("\n", "\r\n").encode("utf-8")
    doc = parse_text(decode_document(data), source=str(SEED))
    assert _tree(doc) == _tree(seed_doc)


def test_html_page_gives_identical_tree(seed_doc):
    import html

    lines = SEED.read_text("utf-8").split("\n")
    paras = "\n".join(f"<p>{html.escape(t)}</p>" for t in lines if t.strip())
    page = (f"<!DOCTYPE html><html><head><title>曾都区</title><style>p{{color:red}}</style>"
            f"<script>var menu='一、首页';</script></head><body>"
            f"<nav class='nav'><ul><li>首页</li><li>政务公开</li><li>1.通知公告</li></ul></nav>"
            f"<div class='content'>{paras}</div><div class='footer'>版权所有 曾都区人民政府</div></body></html>")
    doc = parse_text(decode_document(page.encode("utf-8"), html=True), source=str(SEED))
    assert _tree(doc) == _tree(seed_doc)


@pytest.mark.parametrize("blank_lines", [True, False])
def test_hard_wrapped_at_40_gives_identical_tree(seed_doc, blank_lines):
    wrapped = []
    for line in SEED.read_text("utf-8").split("\n"):
        if not line.strip():
            if blank_lines:
                wrapped.append("")
            continue
        wrapped.extend(line[i:i + 40] for i in range(0, len(line), 40))
    doc = parse_text(decode_document("\n".join(wrapped).encode("utf-8")), source=str(SEED))
    assert _tree(doc) == _tree(seed_doc)


def test_logical_lines_rejoin_wraps():
    body = "2.到2025年和2030年,产前筛查率分别达80%以上和82%以上,孕产妇死亡率分别控制到万分之一以下和十万分之九以下。"
    lines = [body[i:i + 20] for i in range(0, len(body), 20)]
    text = "\n".join(["x" * 20, ""] * 12 + lines)
    assert body in [ln.text for ln in logical_lines(text)]


def test_skipped_number_keeps_later_clauses_with_warning():
    text = "某区妇女发展规划(2021—2030年)\n\n一、发展领域\n\n(一)妇女与健康\n\n主要目标:\n\n1.甲。\n\n2.乙。\n\n4.丙。\n\n5.丁。\n"
    doc = parse_text(text)
    assert [(c.number, c.text) for c in doc.clauses] == [(1, "甲。"), (2, "乙。"), (4, "丙。"), (5, "丁。")]
    assert any("numbering skips from 2. to 4." in w for w in doc.warnings)


def test_missing_real_clause_does_not_shift_the_rest(seed_doc):
    text = SEED.read_text("utf-8")
    start = text.index("3.预防和控制儿童溺水。")
    cut = text[:start] + text[text.index("\n", start) + 1:]
    doc = parse_text(cut, source="cut.txt")
    measures = [c for c in doc.clauses if c.domain == "儿童安全" and c.section == "策略措施"]
    assert [c.number for c in measures] == [1, 2, *range(4, 12)]
    assert next(c for c in measures if c.number == 4).heading == "预防和控制儿童道路交通伤害"
    assert any("numbering skips from 2. to 4." in w for w in doc.warnings)


def test_repeated_number_is_text_with_warning():
    text = "某区妇女发展规划(2021—2030年)\n\n一、发展领域\n\n(一)妇女与健康\n\n主要目标:\n\n1.甲。\n\n2.乙。\n\n2.丙。\n"
    doc = parse_text(text)
    assert [c.text for c in doc.clauses] == ["甲。", "乙。\n2.丙。"]
    assert any("'2.' out of sequence" in w for w in doc.warnings)


def test_unnumbered_plan_kept_as_paragraphs():
    text = "某区儿童发展规划(2021—2030年)\n\n保障儿童健康。\n\n加强儿童保护。\n"
    doc = parse_text(text)
    assert [c.text for c in doc.clauses] == ["保障儿童健康。", "加强儿童保护。"]
    assert all(c.number is None for c in doc.clauses)


def test_no_plan_structure_raises_clear_error():
    with pytest.raises(ParseError, match="no plan structure recognised.*--allow-unstructured"):
        parse_text("今天天气很好。\n\n我们去公园散步。\n", source="note.txt")
    doc = parse_text("今天天气很好。\n\n我们去公园散步。\n", source="note.txt", allow_unstructured=True)
    assert len(doc.clauses) == 2 and doc.warnings


def test_plan_key_and_heading():
    assert plan_key("曾都区妇女发展规划(2021—2030年)") == "妇女"
    assert plan_key("湖北省随州市曾都区儿童发展规划") == "儿童"
    assert split_heading("预防和控制儿童溺水。加强看护并落实监护责任。")[0] == "预防和控制儿童溺水"
    assert split_heading("普及健康知识,提高妇女健康素养水平。")[0] is None


def test_reparse_gives_same_ids(seed_doc):
    again = parse_file(SEED)
    assert [n.id for n in again.nodes] == [n.id for n in seed_doc.nodes]
