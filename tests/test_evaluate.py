"""kb.evaluate: the matching rule, metrics, and the quality bar on the dev set."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb.evaluate import (NAIVE, answer_ok, evaluate, expected_numbers, fixed_chunks, load_questions, norm,
                         score_ranking)

from conftest import SEED

DEV = Path(__file__).parent / "gold" / "questions.dev.jsonl"


def test_norm_unifies_width_space_dashes_quotes():
    assert norm("0—6岁 儿童，“家长”") == norm('0-6岁儿童,"家长"')


def test_score_ranking_recall_mrr_ndcg():
    ranks, first, ndcg = score_ranking(["甲乙", "丙丁"], ["无关", "x甲乙x", "丙丁", "甲乙"])
    assert ranks == [2, 3] and first == 2
    assert 0 < ndcg < 1


def test_score_ranking_nothing_found():
    assert score_ranking(["甲乙"], ["丙"]) == ([None], None, 0.0)


def test_fixed_chunks():
    assert fixed_chunks("a" * 650, 300) == ["a" * 300, "a" * 300, "a" * 50]


def test_answer_ok_numbers_and_year():
    assert expected_numbers("3.5‰以下(2030年3‰以下)", "新生儿死亡率2025年的目标是多少") == ["3.5", "2025"]
    assert answer_ok("38%以下", "q", "小学生近视率: ≤ 38%")
    assert not answer_ok("38%以下", "q", "小学生近视率: ≤ 30%")
    assert not answer_ok("38%以下", "q", None)


def test_load_questions_merges_shared_gold():
    qs = {q.id: q for q in load_questions(DEV)}
    assert "区妇儿工委办公室负责具体工作" in qs["q100"].gold
    assert qs["q142"].negative and qs["q142"].gold == []


@pytest.fixture(scope="module")
def report(kb):
    """The plan dev set over the session's index of the bundled corpus (the seed + 16 laws);
    the naive baseline chunks the seed alone (the laws would add ~400 chunks to embed, and
    without them the baseline has fewer distractors, not more)."""
    from kb.evaluate import NaiveRetriever

    return evaluate(kb, load_questions(DEV), naive=NaiveRetriever([SEED.read_text("utf-8")], kb.searcher.embedder))


def test_hybrid_meets_the_bar(report):
    o = report.modes["hybrid"].overall
    assert o.recall[5] >= 0.90 and o.mrr >= 0.80


def test_hybrid_beats_each_single_mode(report):
    h = report.modes["hybrid"].overall
    for mode in ("bm25", "dense"):
        s = report.modes[mode].overall
        assert h.recall[5] >= s.recall[5] and h.mrr >= s.mrr, mode


def test_structured_clauses_beat_naive_chunks(report):
    h, n = report.modes["hybrid"].overall, report.modes[NAIVE].overall
    d = report.modes["dense"].overall  # same model, structured clauses vs raw chunks
    assert h.recall[5] > n.recall[5] and d.recall[5] > n.recall[5] and d.mrr > n.mrr


# Over the bundled corpus (the session's one index) one plan negative, q142 (高考加分), is
# answered: issue 9's bar is at most one of the 11 negatives (tests/test_evaluate_laws.py).
# Strict, so the suite says so the day it passes.
@pytest.mark.xfail(strict=True, reason="q142 answered over the bundled corpus (seed + 16 laws); docs/evaluation.md")
def test_every_negative_is_not_found(report):
    assert report.negatives.rejected == report.negatives.negatives


def test_target_values_answered(report):
    ok, n = report.answer_accuracy("target_value")
    assert n and ok == n, [a for a in report.answers if not a.ok]


def test_cli_eval_json(corpus_index, monkeypatch):
    import json

    from typer.testing import CliRunner

    from cli.main import app

    res = CliRunner().invoke(app, ["eval", str(DEV), "--mode", "bm25", "--json", "--index", str(corpus_index)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["modes"]["bm25"]["overall"]["recall@5"] > 0.8
