"""Tests of kb/departments.py and kb/data/departments.yaml on the seed 曾政发〔2022〕8号.

Sentences are checked to be substrings of clause bodies of the seed before use.
"""
from __future__ import annotations


import pytest
from conftest import load_benchmark

from kb.departments import BODY_TYPES, DEFAULT_PATH, Lexicon, tag_departments
from kb.errors import LexiconError

E = load_benchmark("eval_tagging")  # gold scoring shared with benchmarks/eval_tagging.py


@pytest.fixture(scope="session")
def lex():
    return Lexicon.load()


@pytest.fixture(scope="session")
def clauses():
    return E.load_clauses()


def explicit(text, lex):
    return [(t.name, t.role) for t in tag_departments(text, lex) if t.explicit]


def inferred(text, lex):
    return {t.name: t.cue for t in tag_departments(text, lex) if not t.explicit}


# --- gold -------------------------------------------------------------------------------

def test_every_explicitly_named_body_in_gold_is_found(clauses, lex):
    s = E.score_departments(E.load_jsonl(E.GOLD_DIR / "departments.jsonl"), clauses, lex)
    assert s.recall == 1.0, s.misses


def test_gold_canonical_names_all_resolve(lex):
    for row in E.load_jsonl(E.GOLD_DIR / "departments.jsonl"):
        for name in row["departments"]:
            assert lex.expand(name), name


def test_explicit_evidence_offsets(clauses, lex):
    for c in clauses:
        for t in tag_departments(c.text, lex):
            if t.explicit:
                assert c.text[t.start:t.end] == t.evidence
            else:
                assert t.cue and t.evidence is None and t.role == "participant"


# --- explicit tags ------------------------------------------------------------------------

def test_list_of_abbreviations_gives_six_bodies(real, lex):
    text = real("构建完善包含教育、公安、应急、卫健、司法、市场监管等多部门合作的儿童伤害防控工作机制")
    assert [n for n, _ in explicit(text, lex)] == ["区教育局", "区公安分局", "区应急管理局", "区卫生健康局",
                                                   "区司法局", "区市场监督管理局"]


def test_gongjianfasi_expands_to_four(real, lex):
    text = real("进一步深化公检法司、教育、民政、卫健、妇联、团委等儿童关爱保护多部门联合工作机制内涵")
    names = [n for n, _ in explicit(text, lex)]
    assert names[:4] == ["区公安分局", "区检察院", "区法院", "区司法局"]
    assert set(names[4:]) == {"区教育局", "区民政局", "区卫生健康局", "区妇联", "团区委"}


def test_lead_where_text_says_qiantou(real, lex):
    text = real("监测组由区统计局牵头,相关部门负责规划实施统计监测的人员参加")
    assert explicit(text, lex) == [("监测组", "participant"), ("区统计局", "lead")]


def test_lead_for_fuze_and_zuzhi(real, lex):
    text = real("区人民政府负责规划实施工作,区妇儿工委负责组织、协调、指导、督促工作,区妇儿工委办公室负责具体工作")
    assert explicit(text, lex) == [("区人民政府", "lead"), ("区妇儿工委", "lead"), ("区妇儿工委办公室", "lead")]


def test_abbreviation_outside_a_department_list_is_not_a_body(real, lex):
    text = real("广泛开展生态文化宣传教育和实践活动")
    assert explicit(text, lex) == []


def test_alias_in_longer_surface(real, lex):
    assert explicit(real("发挥村(社区)儿童主任和妇联执委作用"), lex) == [("区妇联", "participant")]


# --- inferred tags ------------------------------------------------------------------------

def test_drowning_implies_education_emergency_water(real, lex):
    got = inferred(real("落实预防儿童溺水行动计划"), lex)
    assert {k: v for k, v in got.items() if v == "溺水"} == {
        "区教育局": "溺水", "区应急管理局": "溺水", "区水利和湖泊局": "溺水"}


@pytest.mark.parametrize("sentence,body,cue", [
    ("学校、幼儿园、托育机构的常见病预防保健能力", "区教育局", "学校"),
    ("完善医疗机构产科、新生儿科质量规范化管理体系", "区卫生健康局", "医疗机构"),
    ("提高女职工劳动合同、女职工权益保障专项集体合同签订率", "区人力资源和社会保障局", "劳动合同"),
    ("提高生育保险参保率", "区医疗保障局", "生育保险"),
    ("完善困境儿童分类保障政策,落实孤儿、残疾人、特困供养人员优待政策", "区民政局", "孤儿"),
    ("加强对网络空间涉及未成年人违法犯罪的分析研究", "区委网信办", "网络空间"),
])
def test_inferred_cues(real, lex, sentence, body, cue):
    assert inferred(real(sentence), lex).get(body) == cue


def test_no_inferred_tag_for_an_explicit_body(real, lex):
    text = real("加强学校与交通、交警、应急等部门的沟通和合作")
    tags = tag_departments(text, lex)
    names = [t.name for t in tags]
    assert len(names) == len(set(names))
    assert {t.name for t in tags if t.explicit} == {"区交通运输局", "区公安分局交警大队", "区应急管理局"}
    assert [t for t in tags if t.name == "区教育局"][0].cue == "学校"


# --- lexicon API ---------------------------------------------------------------------------

def test_lexicon_api(lex):
    assert "区教育局" in lex.names and len(lex.names) == len(set(lex.names))
    assert lex.resolve("卫健") == "区卫生健康局"
    assert lex.resolve("教育部门") == "区教育局"
    assert lex.resolve("区教育局") == "区教育局"
    assert lex.resolve("党校（行政学院）") == "区委党校(行政学院)"  # full-width brackets
    assert lex.resolve("公检法司") is None and len(lex.expand("公检法司")) == 4
    assert lex.resolve("不存在的局") is None
    assert "区教育局" in lex.suggest("区教育")
    assert lex.suggest("卫生局", n=3)[0] == "区卫生健康局"
    words = lex.user_words()
    assert {"区教育局", "卫健", "公检法司", "溺水"} <= set(words)
    assert len(lex.sha256) == 64
    assert all(lex.type_of(n) in BODY_TYPES for n in lex.names)


def test_sha256_changes_with_content(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text(DEFAULT_PATH.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    assert Lexicon.load(p).sha256 != Lexicon.load().sha256


# --- broken lexicons ---------------------------------------------------------------------

def test_broken_yaml_names_file_and_line(tmp_path):
    p = tmp_path / "departments.yaml"
    p.write_text("bodies:\n  - name: 区教育局\n    type: government\n   aliases: [教育局\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"departments\.yaml: line 4"):
        Lexicon.load(p)


def test_unknown_type_and_unknown_cue_body(tmp_path):
    p = tmp_path / "d.yaml"
    p.write_text("bodies:\n  - name: 区教育局\n    type: ministry\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="ministry"):
        Lexicon.load(p)
    p.write_text("bodies:\n  - {name: 区教育局, type: government}\ncues:\n  - {terms: [学校], bodies: [教育]}\n",
                 encoding="utf-8")
    with pytest.raises(LexiconError, match="unknown bodies"):
        Lexicon.load(p)


def test_missing_or_empty_file(tmp_path):
    with pytest.raises(LexiconError, match="cannot read"):
        Lexicon.load(tmp_path / "nope.yaml")
    (tmp_path / "e.yaml").write_text("", encoding="utf-8")
    with pytest.raises(LexiconError, match="bodies"):
        Lexicon.load(tmp_path / "e.yaml")
