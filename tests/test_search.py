"""Search quality and robustness with the real model on the real corpus (session fixtures)."""
from __future__ import annotations

import re

import pytest

from kb.errors import QueryError
from kb.search import Hit, demote_duplicates, matched_terms


def test_drowning_measure_in_top3(kb):
    ids = [h.clause.id for h in kb.search("哪些措施涉及儿童溺水", k=3).hits]
    assert "czf-2022-8.ertong.p2.d2.m3" in ids


def test_traditional_characters_find_the_same_clause(kb):
    simp = kb.search("儿童近视率的目标是多少", k=3).hits[0].clause.id
    trad = kb.search("兒童近視率的目標是多少", k=3).hits[0].clause.id
    assert simp == trad


def test_colloquial_words_reach_official_terms(kb):
    hits = kb.search("老公打老婆怎么处理", k=5).hits
    assert any("家庭暴力" in h.clause.text for h in hits)


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_modes_return_ranked_hits(kb, mode):
    hits = kb.search("儿童溺水", k=5, mode=mode).hits
    assert 0 < len(hits) <= 5
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filter_matching_nothing_returns_nothing_with_message(kb):
    r = kb.search("儿童溺水", plan="儿童", domain="妇女与健康")
    assert r.hits == [] and "no clause matches" in r.message


def test_exact_filters_hold(kb):
    hits = kb.search("筛查", plan="妇女", section="主要目标", k=10).hits
    assert hits and all(h.clause.plan == "妇女" and h.clause.section == "主要目标" for h in hits)


@pytest.mark.parametrize("filters,said", [
    ({"department": "不存在的局"}, "unknown department"),
    ({"plan": "火星"}, "no clause has plan '火星'; known: 儿童, 妇女"),
    ({"doc": "nosuch"}, "no document 'nosuch'; known:"),
    ({"doc_type": "火星"}, "no document has type '火星'; known: 法律, 行政法规, 通知"),
])
def test_an_unknown_filter_value_is_an_error_listing_the_known_ones(kb, filters, said):
    """As kb clauses / kb docs: exit 1 in the CLI, 422 in the API (README, docs/api.md)."""
    with pytest.raises(QueryError, match=re.escape(said)):
        kb.search("儿童", **filters)
    if set(filters) <= {"doc", "doc_type"}:  # kb.ask takes the document filters
        with pytest.raises(QueryError, match=re.escape(said)):
            kb.ask("儿童溺水", **filters)


def test_bad_mode_and_k(kb):
    with pytest.raises(QueryError, match="unknown mode"):
        kb.search("儿童", mode="fuzzy")
    with pytest.raises(QueryError, match="k must be"):
        kb.search("儿童", k=0)


@pytest.mark.parametrize("query", ['"', "AND(", "*", "a\x00b", "儿童" * 5000, "😀👶", "", "   ", "NEAR(儿童 溺水)", "-", "'; DROP TABLE clauses;--"])
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_hostile_queries_never_crash(kb, query, mode):
    r = kb.search(query, k=5, mode=mode)
    assert isinstance(r.hits, list)


@pytest.mark.parametrize("query", ['"', "AND(", "*", "a\x00b", "儿童" * 5000, "😀", ""])
def test_hostile_questions_never_crash(kb, query):
    assert kb.ask(query).kind in ("not_found", "clauses", "target_value", "structure")


def test_structural_reference_ranks_the_numbered_clause(kb):
    hits = kb.search("儿童与法律保护的策略措施第8条讲的是什么", k=3).hits
    assert hits[0].clause.short_path == "儿童/儿童与法律保护/策略措施/8"


@pytest.mark.parametrize("query,path", [
    ("妇女与环境的策略措施一共有几条?最后一条是什么?", "妇女/妇女与环境/策略措施/14"),  # 14 measures
    ("儿童安全策略措施的最后一项讲什么", "儿童/儿童安全/策略措施/11"),              # 11 measures
    ("儿童与家庭的主要目标最后一条", "儿童/儿童与家庭/主要目标/8"),                 # 8 goals
])
def test_last_clause_of_a_section_ranks_first(kb, query, path):
    """最后一条 of a named 发展领域's section is its last numbered clause (the seed's counts)."""
    assert kb.search(query, k=3).hits[0].clause.short_path == path


def test_ask_says_why_filters_leave_nothing(kb):
    """A type of the vocabulary that no document has (规章) is no error, but the answer says
    why nothing was found."""
    a = kb.ask("儿童溺水", doc_type="规章")
    assert a.kind == "not_found" and a.answer.startswith("未找到相关条款(no document has type '规章'")


def test_demote_duplicates_keeps_distinct_first():
    from kb.types import Clause

    def hit(i, text):
        return Hit(Clause(id=i, doc_id="d", plan=None, part=None, domain=None, section=None, number=None,
                          heading=None, text=text), 1.0)

    out = demote_duplicates([hit("a", "同一 条"), hit("b", "同一条"), hit("c", "别的")])
    assert [h.clause.id for h in out] == ["a", "c", "b"]


def test_matched_terms_longest_first():
    assert matched_terms(["儿童", "溺水", "儿童溺水", "x"], "预防儿童溺水") == ["儿童溺水"]
