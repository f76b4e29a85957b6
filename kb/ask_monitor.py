"""Answers from the actual values: "2023年孕产妇死亡率是多少" (an actual value) and
"产前筛查率达到目标了吗" (a target's status), cited to the target's clause and the data's
source. ``with_actuals`` rewrites a ``target_value`` answer of ``kb.ask`` when the question
asks for one of these and actuals of its indicators are stored; every other answer passes
through unchanged.
"""
from __future__ import annotations

import re
from typing import Callable

from kb.ask import Answer
from kb.monitor import MonitorRow, target_text, value_text

# A question about progress: 达到目标了吗, 达标了吗, 完成了没有, 进展如何, 是否滞后… (a question
# asking 多少/几 asks for a number instead: 要达到多少).
STATUS_RE = re.compile(r"(?:达到|实现|完成)(?:了)?(?:目标|任务|要求)?(?:了)?(?:吗|没有|没|与否)|达标(?!优良|率)|是否(?:达到|实现|完成)"
                       r"|进展|进度|滞后|落后|完成情况|达成")
# A question about the measured value itself rather than the plan's number.
ACTUAL_RE = re.compile(r"实际|现状|目前|现在|最新|监测(?:值|数据)|统计")
_TARGET_WORDS = re.compile(r"目标|规划|要求|计划")
_YEAR_RE = re.compile(r"(20\d\d)\s*年")


def with_actuals(answer: Answer, question: str, monitor: Callable[..., list[MonitorRow]]) -> Answer:
    """``answer`` restated from the actual values when the question asks for them (see the
    module docstring); ``monitor(year=None)`` gives the knowledge base's monitoring rows as
    of a monitoring year (None: the latest data) and is only called for a ``target_value``
    answer."""
    if answer.kind != "target_value" or not answer.targets:
        return answer
    wanted = {(t.clause_id, t.indicator, t.year or t.year_implied) for t in answer.targets}
    rows = [r for r in monitor() if (r.clause_id, r.indicator, r.target_year) in wanted]
    if not any(r.series for r in rows):
        return answer
    years = [int(y) for y in _YEAR_RE.findall(question)]
    words = question
    for r in rows:  # 达标 inside 学生体质健康标准达标优良率 asks nothing
        words = words.replace(r.indicator, " ")
    if STATUS_RE.search(words) and not re.search(r"多少|几", words):
        due = [r for r in rows if r.target_year in years] or rows
        return _answer(answer, "monitor_status", ";".join(status_sentence(r) for r in due), due)
    target_years = {r.target_year for r in rows}
    if (years and not target_years & set(years) and not _TARGET_WORDS.search(words)) or ACTUAL_RE.search(words):
        if years:  # "2022年是多少": each target's status as of that year, not as of the latest data
            rows = [r for r in monitor(year=max(years)) if (r.clause_id, r.indicator, r.target_year) in wanted]
        return _answer(answer, "actual_value", actual_sentence(rows, years), rows)
    return answer


def _answer(answer: Answer, kind: str, text: str, rows: list[MonitorRow]) -> Answer:
    return Answer(text, kind, answer.hits, answer.targets, confident=answer.confident,
                  confidence=answer.confidence, monitor=rows)


def status_sentence(r: MonitorRow) -> str:
    """产前筛查率 2025年 ≥ 80%: 2023年实际81.2%(来源: …),已达标(妇女/妇女与健康/主要目标/2)."""
    if r.latest is None:
        return f"{r.indicator} {target_text(r.target, r.target_year)}: 暂无监测数据,{r.status_text}({r.short_path})"
    note = f";{r.note}" if r.note else ""
    return (f"{r.indicator} {target_text(r.target, r.target_year)}: {r.latest.year}年实际"
            f"{value_text(r.latest.value, r.unit)}(来源: {r.latest.source}),{r.status_text}{note}({r.short_path})")


def actual_sentence(rows: list[MonitorRow], years: list[int]) -> str:
    """孕产妇死亡率: 2023年实际值 9.8/10万(来源: …);规划目标 2025年 ≤ 1/10000、2030年 ≤ 9/100000(…)."""
    parts = []
    for indicator in dict.fromkeys(r.indicator for r in rows):
        mine = [r for r in rows if r.indicator == indicator]
        points = {p.year: p for r in mine for p in r.series}
        shown = [points[y] for y in years if y in points] or ([points[max(points)]] if points else [])
        actual = "、".join(f"{p.year}年实际值 {p.as_imported}(来源: {p.source})" for p in shown) or "暂无监测数据"
        missing = [y for y in years if y not in points]
        if missing:
            actual = f"未导入{'、'.join(map(str, missing))}年的监测数据;最新 " + actual
        goals = "、".join(f"{target_text(r.target, r.target_year)}({r.short_path},{r.status_text})" for r in mine)
        parts.append(f"{indicator}: {actual};规划目标 {goals}")
    return ";".join(parts)
