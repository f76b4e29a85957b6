"""The issue 9 bar on the mixed corpus (the seed + the 16 national laws of
tests/gold/laws/README.md) with the real model: plan and law dev sets, negatives, false
refusals and version questions, over the session's one index of the bundled corpus."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb.evaluate import evaluate, load_questions, norm

GOLD = Path(__file__).parent / "gold"
PLAN_DEV = GOLD / "questions.dev.jsonl"
LAW_DEV = GOLD / "laws" / "questions.dev.jsonl"


@pytest.fixture(scope="module")
def mixed_kb(corpus_kb):
    """The session's KnowledgeBase over the bundled corpus (``corpus/``: the seed and the 16
    laws of tests/gold/laws/README.md, copied unchanged from laws-cn), real model."""
    return corpus_kb


@pytest.fixture(scope="module")
def plan_report(mixed_kb):
    return evaluate(mixed_kb, load_questions(PLAN_DEV), modes=("hybrid",))



@pytest.fixture(scope="module")
def law_report(mixed_kb):
    return evaluate(mixed_kb, load_questions(LAW_DEV), modes=("hybrid",))


def test_plan_dev_set_no_worse_in_the_mixed_corpus(plan_report):
    """Issue 9's bar, the seed-only index's R@5 0.949 and MRR@10 0.968. Measured 0.955 and
    0.978 with sentence vectors (kb.indexes.sentence_texts; 0.932, 0.963 before)."""
    o = plan_report.modes["hybrid"].overall
    assert o.recall[5] >= 0.949 and o.mrr >= 0.968, o.to_dict()


def test_law_dev_set_meets_the_bar(law_report):
    """Bar R@5 ≥ 0.90, MRR@10 ≥ 0.85; measured R@5 0.912, MRR@10 0.883, law_topic R@5 0.750
    with sentence vectors (0.900, 0.872 before; 0.833, 0.832, 0.611 before the document-family
    weights)."""
    o = law_report.modes["hybrid"].overall
    assert o.recall[5] >= 0.91 and o.mrr >= 0.88, o.to_dict()
    assert law_report.modes["hybrid"].by_kind["law_topic"].recall[5] >= 0.75


def test_negatives_of_both_dev_sets_at_most_one_answered(plan_report, law_report):
    neg = [plan_report.negatives, law_report.negatives]
    assert sum(n.negatives for n in neg) == 11
    assert sum(n.negatives - n.rejected for n in neg) <= 1, [n.accepted_negatives for n in neg]


def test_law_dev_set_has_no_false_refusal(law_report):
    assert law_report.negatives.false_not_found == []


def test_at_most_one_false_refusal_per_dev_set(plan_report, law_report):
    """Measured: plans 1 (q134), laws 0, at the bundled corpus's threshold (kb.ask.threshold)."""
    for r in (plan_report, law_report):
        assert len(r.negatives.false_not_found) <= 1, r.negatives.false_not_found


def test_version_questions_answered_from_the_version_in_force(mixed_kb):
    """The gold of a version question is in the current text; the first hit of the law
    asked about must be that version's article, never the superseded one's."""
    for q in load_questions(LAW_DEV):
        if q.kind != "version":
            continue
        a = mixed_kb.ask(q.q)
        assert a.kind != "not_found", q.id
        law_hits = [h for h in a.hits if h.clause.doc_id.startswith("funvquanyibaozhangfa")]
        assert law_hits and law_hits[0].clause.doc_id == "funvquanyibaozhangfa-2022-10-30", q.id
        assert any(norm(g) in norm(law_hits[0].clause.text) for g in q.gold), q.id


def test_domestic_violence_answer_puts_plan_measure_beside_law_article(mixed_kb):
    a = mixed_kb.ask("家暴了怎么办")
    assert a.kind == "clauses" and a.answer and "规划措施" in a.answer and "法律依据" in a.answer
    assert {bool(h.clause.plan) for h in a.hits[:2]} == {True, False}


def test_article_and_which_article_questions(mixed_kb):
    a = mixed_kb.ask("反家庭暴力法第二十三条说什么")
    assert a.kind == "article" and a.hits[0].clause.id == "fanjiatingbaolifa-2015-12-27.a23"
    b = mixed_kb.ask("妇女权益保障法哪一条讲性骚扰")
    assert b.kind == "article" and b.hits[0].clause.doc_id == "funvquanyibaozhangfa-2022-10-30"
    assert "性骚扰" in b.hits[0].clause.text


def test_target_value_questions_still_go_to_the_plans(plan_report):
    """All 18 state the value (q048, refused at the fixed threshold 0.86, is answered now)."""
    ok, n = plan_report.answer_accuracy("target_value")
    assert n == 18 and ok == 18, [a.id for a in plan_report.answers if not a.ok]
