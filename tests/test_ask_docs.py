"""kb/ask_docs.py and the document fields of hits: each answer kind on the seed plus real
law texts (反家庭暴力法, both versions of 妇女权益保障法), indexed with the stand-in embedder —
these answers come from the tree and the metadata, not from the model."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import SEED

LAWS = Path(os.environ.get("KB_LAWS_DIR", "/work/shared/corpora/laws-cn"))
LAW_FILES = [LAWS / "社会法" / f for f in ("反家庭暴力法(2015-12-27).md", "妇女权益保障法(2022-10-30).md",
                                         "妇女权益保障法(2018-10-26).md")]

pytestmark = pytest.mark.skipif(not all(p.exists() for p in LAW_FILES), reason=f"law texts not found under {LAWS}")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, fake_embedder):
    """KnowledgeBase over the seed and three law texts (hash embedder)."""
    from kb.base import KnowledgeBase
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb-mixed") / "index"
    ingest([SEED, *LAW_FILES], idx, embedder=fake_embedder)
    base = KnowledgeBase.open(idx, embedder=fake_embedder)
    yield base
    base.close()


def test_named_documents_short_full_and_brackets(mixed):
    from kb.query import named_documents

    names = mixed.searcher.doc_names if mixed.warm_up() is None else None
    one = named_documents("反家庭暴力法第二十三条说什么", names)
    assert one == ["fanjiatingbaolifa-2015-12-27"]
    assert named_documents("《中华人民共和国反家庭暴力法》规定了什么", names) == one
    both = named_documents("妇女权益保障法对性骚扰怎么规定", names)
    assert sorted(both) == ["funvquanyibaozhangfa-2018-10-26", "funvquanyibaozhangfa-2022-10-30"]
    assert named_documents("儿童溺水", names) == []


def test_hit_names_document_type_chapter_and_place(mixed):
    hits = mixed.search("人身安全保护令 申请", k=10).hits
    law = next(h for h in hits if h.clause.doc_id.startswith("fanjiatingbaolifa"))
    d = law.to_dict()
    assert d["doc_title"] == "中华人民共和国反家庭暴力法" and d["doc_type"] == "法律"
    assert d["chapter"].startswith("第四章") and d["label"].startswith("第")
    assert d["place"] == f"反家庭暴力法 第四章 {d['label']}"
    plan = next(h for h in mixed.search("儿童溺水", k=10).hits if h.clause.plan)
    assert plan.to_dict()["place"] == plan.clause.short_path and plan.to_dict()["doc_type"] == "通知"


def test_article_question_is_answered_from_the_article(mixed):
    a = mixed.ask("反家庭暴力法第二十三条说什么")
    assert a.kind == "article" and a.hits[0].clause.id == "fanjiatingbaolifa-2015-12-27.a23"
    assert a.answer.startswith("反家庭暴力法 第四章") and "人身安全保护令" in a.answer
    assert a.to_dict()["hits"][0]["doc_type"] == "法律"


@pytest.mark.parametrize("q,held", [
    ("反家庭暴力法第五十条说什么", "《中华人民共和国反家庭暴力法》为第一条至第三十八条,共38条"),
    ("妇女权益保障法第87条", "《中华人民共和国妇女权益保障法》为第一条至第八十六条,共86条"),  # the current version's
])
def test_an_article_the_law_does_not_have_is_said_not_to_exist(mixed, q, held):
    """Never another article in its place: the answer says which articles the law holds
    (反家庭暴力法 has 38; 妇女权益保障法 2022 has 86)."""
    a = mixed.ask(q)
    assert a.kind == "not_found" and not a.confident and a.hits == []
    assert held in a.answer


@pytest.mark.parametrize("q,said", [
    ("反家庭暴力法有多少条", "《中华人民共和国反家庭暴力法》为第一条至第三十八条,共38条"),
    ("妇女权益保障法一共多少条?", "《中华人民共和国妇女权益保障法》为第一条至第八十六条,共86条"),  # the current version
])
def test_how_many_articles_a_law_has(mixed, q, said):
    a = mixed.ask(q)
    assert a.kind == "structure" and said in a.answer


def test_a_count_of_something_else_in_a_law_is_not_its_article_count(mixed):
    assert mixed.ask("反家庭暴力法规定人身安全保护令有几条措施").kind != "structure"


@pytest.mark.parametrize("q,article", [
    ("反家庭暴力法最后一条是什么", "fanjiatingbaolifa-2015-12-27.a38"),       # 38 articles
    ("妇女权益保障法倒数第二条", "funvquanyibaozhangfa-2022-10-30.a85"),     # 86 in the current version
])
def test_an_article_counted_from_the_end(mixed, q, article):
    a = mixed.ask(q)
    assert a.kind == "article" and [h.clause.id for h in a.hits] == [article]


def test_articles_of_one_chapter_are_counted(mixed):
    a = mixed.ask("妇女权益保障法第十章有几条")
    assert a.kind == "structure" and "第十章" in a.answer and "为第八十六条,共1条" in a.answer
    a = mixed.ask("妇女权益保障法第十一章有几条")  # the law has ten
    assert a.kind == "not_found" and a.answer.startswith("没有第十一章")


def test_an_abbreviated_law_name_is_read_as_the_law_and_said_so(mixed):
    a = mixed.ask("反家暴法第二十三条说什么")
    assert a.kind == "article" and a.hits[0].clause.id == "fanjiatingbaolifa-2015-12-27.a23"
    assert a.answer.startswith("「反家暴法」按《中华人民共和国反家庭暴力法》理解")


def test_an_article_of_a_law_not_held_is_not_found(mixed):
    """Never another law's article in its place (劳动法 is not in the knowledge base)."""
    a = mixed.ask("劳动法第十条说什么")
    assert a.kind == "not_found" and a.hits == [] and "知识库中没有《劳动法》" in a.answer


def test_article_of_a_law_with_two_versions_comes_from_the_current_one(mixed):
    a = mixed.ask("妇女权益保障法第二十三条是什么")
    assert a.kind == "article" and [h.clause.doc_id for h in a.hits] == ["funvquanyibaozhangfa-2022-10-30"]
    assert a.hits[0].clause.text in a.answer


def test_which_article_searches_within_the_named_law(mixed):
    a = mixed.ask("妇女权益保障法哪一条讲性骚扰")
    assert a.kind == "article", a.answer
    assert all(h.clause.doc_id == "funvquanyibaozhangfa-2022-10-30" for h in a.hits)
    assert "性骚扰" in a.hits[0].clause.text and a.hits[0].place in a.answer


def test_document_number_question(mixed):
    a = mixed.ask("曾政发〔2022〕8号是什么文件")
    assert a.kind == "document"
    assert "曾都区妇女发展规划" in a.answer and "曾都区人民政府" in a.answer


def test_who_issued_the_plan(mixed):
    a = mixed.ask("规划是谁印发的")
    assert a.kind == "document" and "由曾都区人民政府印发" in a.answer


def test_when_was_the_plan_published(mixed):
    a = mixed.ask("规划什么时候发布的")
    assert a.kind == "document" and "2022-12-30" in a.answer


def test_is_the_document_still_valid(mixed):
    a = mixed.ask("这个文件还有效吗")
    assert a.kind == "document" and "有效" in a.answer and "曾政发〔2022〕8号" in a.answer


def test_when_does_a_law_take_effect_without_an_effective_date(mixed):
    """The law files give no effective date; the answer quotes the article that sets it."""
    a = mixed.ask("妇女权益保障法什么时候施行")
    assert a.kind == "document" and "2023年1月1日" in a.answer
    assert a.hits and a.hits[0].clause.doc_id == "funvquanyibaozhangfa-2022-10-30"


def test_the_current_version_of_a_law_is_said_to_be_the_newest_held(mixed):
    """The law's text states no 效力; what the knowledge base knows is that no newer version
    of it is held (妇女权益保障法 2022-10-30 beside its 2018 version)."""
    a = mixed.ask("妇女权益保障法还有效吗")
    assert "最新版本" in a.answer and "2022-10-30" in a.answer and "已有新版本" not in a.answer


def test_old_version_is_said_to_have_a_newer_one(mixed):
    a = mixed.ask("2018年的妇女权益保障法还有效吗")
    assert a.kind == "document" and "funvquanyibaozhangfa-2022-10-30" in a.answer


def test_ordinary_questions_are_not_taken_for_document_questions(mixed):
    from kb.ask_docs import answer_documents

    for q in ("儿童溺水", "残疾人保障法确定的全国助残日是哪一天", "反家庭暴力法里哪些行为算是家庭暴力"):
        assert answer_documents(mixed.searcher, q) is None, q


def test_side_by_side_names_plan_measure_and_law_article(mixed):
    from kb.ask_docs import SIDE_BY_SIDE_MIN_SHARE, side_by_side
    from kb.search import Hit

    mixed.warm_up()
    clauses = mixed.searcher.clauses
    plan = next(c for c in clauses.values() if c.short_path == "妇女/妇女与法律/策略措施/4")
    other = next(c for c in clauses.values() if c.short_path == "妇女/妇女与法律/策略措施/5")
    law = clauses["fanjiatingbaolifa-2015-12-27.a23"]
    hits = mixed.searcher.describe([Hit(plan, 1.0), Hit(other, 0.9), Hit(law, 0.8)])
    sentence, ordered = side_by_side(hits)
    assert [h.clause.id for h in ordered] == [plan.id, law.id, other.id]
    assert sentence.startswith("规划措施: 妇女/妇女与法律/策略措施/4") and "法律依据: 反家庭暴力法 第四章 第二十三条" in sentence
    weak = mixed.searcher.describe([Hit(plan, 1.0), Hit(other, 0.9), Hit(law, SIDE_BY_SIDE_MIN_SHARE - 0.1)])
    assert side_by_side(weak) is None
    assert side_by_side(hits[:2]) is None


def test_which_article_of_a_topic_the_law_does_not_cover(mixed):
    a = mixed.ask("反家庭暴力法哪一条讲个人所得税")
    assert a.kind == "not_found" and not a.confident


def test_departments_list_plan_clauses_and_law_articles_together(mixed):
    """妇女权益保障法 names 县级以上人民政府民政部门 etc.; the plans name 区民政局: one body."""
    body = mixed.department("民政")
    assert body["name"] == "区民政局"
    units = {c["unit"] for c in body["clauses"] if c["explicit"]}
    assert units == {"clause", "article"}
    law = next(c for c in body["clauses"] if c["unit"] == "article" and c["explicit"])
    assert law["evidence"].endswith("部门") and law["place"].split()[0] in ("反家庭暴力法", "妇女权益保障法")
    assert any(not c["explicit"] for c in body["clauses"])


def test_a_law_names_a_health_body_by_its_function():
    from kb.departments import Lexicon, tag_departments

    lex = Lexicon.load()
    # 母婴保健法 第二十九条 and 反家庭暴力法 第二十三条 wordings
    assert [t.name for t in tag_departments("县级以上地方人民政府卫生行政部门管理本行政区域内的母婴保健工作。", lex)
            if t.explicit] == ["区卫生健康局"]
    assert {t.name for t in tag_departments("其近亲属、公安机关、妇女联合会可以代为申请", lex) if t.explicit} == {
        "区公安分局", "区妇联"}


# ---------------------------------------------------------------- kb show across documents

def test_show_takes_a_document_first(mixed):
    r = mixed.show("funvquanyibaozhangfa-2022-10-30/第二十三条")
    assert r.clause.doc_id == "funvquanyibaozhangfa-2022-10-30" and r.clause.label == "第二十三条"
    assert mixed.show("反家庭暴力法/23").clause.id == "fanjiatingbaolifa-2015-12-27.a23"
    assert mixed.show("czf-2022-8/儿童/儿童安全/策略措施/3").clause.short_path == "儿童/儿童安全/策略措施/3"


def test_an_ambiguous_path_lists_the_candidates_by_document(mixed):
    from kb.errors import NotFound

    with pytest.raises(NotFound, match=r"funvquanyibaozhangfa-2018-10-26: 妇女权益保障法/第二十三条.*"
                                       r"funvquanyibaozhangfa-2022-10-30: 妇女权益保障法/第二十三条"):
        mixed.show("妇女权益保障法/第二十三条")


def test_a_node_path_shows_the_node(mixed):
    r = mixed.show("儿童/儿童安全")
    assert r.clause is None and r.node.kind == "domain" and r.node.title.endswith("儿童安全")
    assert {"主要目标", "策略措施"} <= {c.title for c in r.children}
    chapter = mixed.show("反家庭暴力法/第四章")
    assert chapter.node.title == "第四章 人身安全保护令" and any(c.title == "第二十三条" for c in chapter.children)
