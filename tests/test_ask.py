"""`kb ask` with the real model on the real corpus: values, structure, not-found."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kb.ask import NOT_FOUND
from kb.evaluate import answer_ok, load_questions

from conftest import SEED_ID

DEV = Path(__file__).parent / "gold" / "questions.dev.jsonl"


@pytest.mark.parametrize("question", ["你好", "房价", "高考加分"])
def test_uncovered_questions_get_no_confident_answer(kb, question):
    a = kb.ask(question)
    assert a.kind == "not_found" and a.answer == NOT_FOUND and not a.confident
    assert len(a.hits) <= 3
    assert all(h["low_confidence"] for h in a.to_dict()["hits"])




def test_maternal_mortality_target(kb):
    a = kb.ask("2030年孕产妇死亡率目标是多少")
    assert a.kind == "target_value"
    assert "2030" in a.answer
    assert re.search(r"9/100000|十万分之九|1/100000", a.answer) and ("9" in a.answer or "九" in a.answer)
    assert a.hits and a.targets


def test_myopia_target(kb):
    a = kb.ask("小学生近视率要降到多少")
    assert a.kind == "target_value" and "38" in a.answer


@pytest.mark.parametrize("q", [q for q in load_questions(DEV) if q.kind == "target_value"], ids=lambda q: q.id)
def test_dev_target_values(kb, q):
    a = kb.ask(q.q)
    assert a.kind == "target_value", a.answer
    assert answer_ok(q.answer, q.q, a.answer), (q.answer, a.answer)


@pytest.mark.parametrize("q,said", [
    ("2030年儿童近视率目标", "小学生近视率: ≤ 38%"),        # an indicator and 目标, no 多少
    ("婴儿死亡率有什么目标", "2030年 ≤ 4.5‰"),
    ("人工流产率达标了吗", "人工流产率: 下降(妇女/妇女与健康/主要目标/4)"),    # a direction, no number
    ("孕产妇贫血患病率的目标", "孕产妇贫血率: ≤ 7%(妇女/妇女与健康/主要目标/8)"),  # the lexicon's other name
                                                                             # (not 5岁以下儿童贫血患病率)
    ("妇女人均预期寿命达标了吗", "妇女人均预期寿命: 提高(妇女/妇女与健康/主要目标/1)"),
])
def test_an_indicator_and_its_target_word_get_the_target_value(kb, q, said):
    a = kb.ask(q)
    assert a.kind == "target_value" and said in a.answer


def test_domain_count(kb):
    a = kb.ask("妇女发展规划有几个发展领域")
    assert a.kind == "structure" and "8个" in a.answer


@pytest.mark.parametrize("q,path,heading", [
    ("妇女与环境的策略措施最后一条是什么", "妇女/妇女与环境/策略措施/14", "发挥妇联组织在营造男女平等和妇女全面发展环境中的积极作用"),
    ("儿童安全主要目标的最后一项", "儿童/儿童安全/主要目标/8", "全面加强儿童网络保护"),
    ("妇女与环境的策略措施倒数第二条是什么", "妇女/妇女与环境/策略措施/13", "推进妇女领域对外交往"),
])
def test_last_clause_of_a_section(kb, q, path, heading):
    """最后一条 of a 发展领域's section is answered with that clause alone (the seed: 14
    measures under 妇女与环境, 8 goals under 儿童安全)."""
    a = kb.ask(q)
    assert a.kind == "structure" and [h.clause.short_path for h in a.hits] == [path]
    assert heading in a.answer


@pytest.mark.parametrize("q,said", [("儿童安全策略措施第20条", "儿童安全策略措施共11条"),
                                    ("妇女与健康主要目标第30条是什么", "妇女与健康主要目标共11条")])
def test_a_clause_number_beyond_the_section_is_said_not_to_exist(kb, q, said):
    """No other clause in its place: the answer gives the section's size (the seed's counts)."""
    a = kb.ask(q)
    assert a.kind == "not_found" and not a.confident and a.hits == [] and said in a.answer


@pytest.mark.parametrize("q", [q for q in load_questions(DEV) if q.kind == "structure" and q.answer], ids=lambda q: q.id)
def test_dev_structure_answers(kb, q):
    a = kb.ask(q.q)
    assert answer_ok(q.answer, q.q, a.answer, " ".join(h.clause.text for h in a.hits)), (q.answer, a.answer)


def test_negatives_of_dev_set_not_found(kb):
    """The plan dev set's negatives, asked of the plan (``doc``); over the whole mixed corpus
    the bar is issue 9's (at most one of 11 negatives answered, tests/test_evaluate_laws.py)."""
    for q in load_questions(DEV):
        if q.negative:
            assert kb.ask(q.q, doc=SEED_ID).kind == "not_found", q.q


def test_answer_json_shape(kb):
    d = kb.ask("哪些措施涉及儿童溺水").to_dict()
    assert set(d) >= {"answer", "kind", "hits", "targets", "confident", "confidence"}
    json.dumps(d, ensure_ascii=False)


@pytest.mark.parametrize("q", ["*", '"', "🙂🙂", "!?。,"])
def test_junk_questions_are_not_found(kb, q):
    a = kb.ask(q)
    assert a.kind == "not_found" and not a.confident and a.answer == "未找到相关条款"
    assert a.hits == []  # no suggestions for a question without a word


@pytest.mark.parametrize("q,indicator,value", [("婴儿死亡率", "婴儿死亡率", "4.5‰"), ("小学生近视率", "小学生近视率", "38%")])
def test_bare_indicator_gets_its_value(kb, q, indicator, value):
    a = kb.ask(q)
    assert a.kind == "target_value" and indicator in a.answer and value in a.answer


def test_year_without_target_says_so(kb):
    a = kb.ask("2035年孕产妇死亡率目标是多少")
    assert a.kind == "target_value"
    assert a.answer.startswith("规划未设定2035年的目标值") and "十万分之九" in a.answer


def test_department_duties_from_tags(kb):
    a = kb.ask("区统计局负责什么")
    assert a.kind == "department"
    assert {h.clause.short_path for h in a.hits[:4]} == {  # the four that name it as lead, first
        "妇女/监测评估/2", "儿童/监测评估/2", "妇女/监测评估/1", "儿童/监测评估/1"}
    assert a.answer.startswith("区统计局在4条条款中被明确提及") and a.answer.count("(牵头)") == 4


def test_plan_level_section_count(kb):
    a = kb.ask("儿童发展规划的主要目标有多少条")
    assert a.kind == "structure" and "主要目标共67条" in a.answer and "儿童安全8条" in a.answer
