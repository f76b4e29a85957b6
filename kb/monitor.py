"""Status of every target against the actual values (年度监测): pure functions over targets,
plans and actuals; ``KnowledgeBase.monitor`` feeds them from the index and ``actuals.sqlite``.

The rules come from the plans' 监测评估 parts (曾政发〔2022〕8号, 妇女/儿童发展规划 四): annual
monitoring says which targets are met, on track or behind. One ``MonitorRow`` per target,
with exactly one status, decided in this order:

1. ``no_data`` 无数据 — no actual up to the monitoring year, or only the baseline's (for a
   target with no number: fewer than two);
2. ``achieved`` 已达标 — the latest actual meets the comparator (≥ met from above, ≤ from
   below, 约 within ``SETTINGS["about_tolerance"]`` of the value, a range within its bounds);
3. ``behind`` 滞后 — not achieved and the latest actual is of the target year or later, or it
   is short of the straight path from the baseline (the actual of the plan's base year,
   2020 for 2021—2030, or of the year a target names, 以2020年数据为基数) to the target;
4. ``on_track`` 进展顺利 — at or ahead of that path;
5. ``not_achieved`` 未达标 — not achieved and no baseline to draw a path.

Targets with no number (逐步提高, 持续下降) are ``on_track`` when the last two actuals move the
stated way and ``behind`` when not. ``decrease_by``/``increase_by`` targets (下降20%) turn
into a level only with a baseline: level = baseline × (1 ∓ value/100), or baseline ± value
for 个百分点; without one they are ``not_achieved``. An ``=`` target (达到95%) is met from
the side its baseline starts on (from below when there is no baseline).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Optional

from kb.actuals import RATE_DENOM, Actual, Catalog, IndicatorNames
from kb.plans import PlanInfo
from kb.types import Target

STATUSES = ("no_data", "achieved", "behind", "on_track", "not_achieved")
STATUS_TEXT = {"no_data": "无数据", "achieved": "已达标", "behind": "滞后", "on_track": "进展顺利",
               "not_achieved": "未达标"}
# about_tolerance: a 约 (左右) target is met within this fraction of its value (46% 左右:
# 43.7%–48.3%); our convention, the plans give none.
SETTINGS = {"about_tolerance": 0.05}
_UP = {">=", "increase", "increase_by"}
_DOWN = {"<=", "decrease", "decrease_by"}


@dataclass
class Point:
    """An actual as monitoring uses it: ``value`` in the row's unit; ``as_imported`` the
    value in the unit it was imported in (9.8/10万), for sentences that quote the source."""

    year: int
    value: float
    unit: Optional[str]
    source: str = ""
    as_imported: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MonitorRow:
    """One target with its status. ``to_dict()`` is the ``kb monitor --json`` contract:
    {indicator, doc_id, plan, domain, clause_id, target:{comparator, value, unit, year, …},
    baseline:{value, unit, year}|null, latest:{value, unit, year, source}|null, status}, plus
    ``status_text`` (Chinese), ``short_path``, ``region``, ``expected`` (the path's value in
    the latest actual's year), ``level`` (the value to reach, in ``unit``), ``note`` and
    ``series`` (every actual up to the monitoring year, oldest first)."""

    indicator: str
    doc_id: str
    plan: str
    domain: Optional[str]
    clause_id: str
    short_path: str
    region: str
    target: Target
    target_year: Optional[int]
    unit: Optional[str]
    status: str
    baseline: Optional[Point] = None
    latest: Optional[Point] = None
    level: Optional[float] = None
    expected: Optional[float] = None
    note: str = ""
    series: list[Point] = field(default_factory=list)

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {
            "indicator": self.indicator, "doc_id": self.doc_id, "plan": self.plan, "domain": self.domain,
            "clause_id": self.clause_id, "short_path": self.short_path, "region": self.region,
            "target": {"comparator": t.comparator, "value": t.value, "unit": t.unit, "year": self.target_year,
                       "value_min": t.value_min, "value_max": t.value_max, "baseline_year": t.baseline_year,
                       "display": target_text(t, self.target_year)},
            "baseline": None if self.baseline is None else
            {"value": self.baseline.value, "unit": self.baseline.unit, "year": self.baseline.year},
            "latest": None if self.latest is None else self.latest.to_dict(),
            "status": self.status, "status_text": self.status_text, "level": self.level, "expected": self.expected,
            "unit": self.unit, "note": self.note, "series": [p.to_dict() for p in self.series],
        }


def target_text(t: Target, year: Optional[int]) -> str:
    """2030年 ≤ 9/100000, 2030年 下降 20%(以2020年为基数), 2030年 提高 … for tables and answers."""
    y = f"{year}年 " if year else ""
    base = f"(以{t.baseline_year}年为基数)" if t.baseline_year else ""
    return f"{y}{t.comparator_display()} {t.value_display()}{base}".replace("  ", " ").strip()


def monitor(targets: Iterable[tuple[Target, Any]], plans: list[PlanInfo], actuals: list[Actual],
            names: IndicatorNames, year: Optional[int] = None) -> list[MonitorRow]:
    """One MonitorRow per (target, clause) pair, in the order given.

    ``year`` is the monitoring year: actuals after it are ignored (None: all of them). When
    several sources give one indicator's value for the year judged, the row is judged on
    one of them (the last by source name) and its note names the others and their values.
    ``clause`` needs ``id``, ``doc_id``, ``plan``, ``domain``, ``short_path`` (kb.types.Clause)."""
    by_plan = {(p.doc_id, p.key): p for p in plans}
    series: dict[tuple[str, str], dict[int, Actual]] = {}
    every: dict[tuple[str, str, int], list[Actual]] = {}  # all sources of one indicator, region and year
    for a in sorted(actuals, key=lambda a: (a.year, a.source, a.imported_at)):
        if year is None or a.year <= year:
            series.setdefault((a.indicator, a.region), {})[a.year] = a
            every.setdefault((a.indicator, a.region, a.year), []).append(a)
    rows = []
    for t, c in targets:
        plan = by_plan.get((c.doc_id, c.plan))
        region = plan.area if plan else ""
        key = (names.key_of(t.indicator_norm or t.indicator), region)
        found = series.get(key, {})
        row = target_status(t, c, plan, region, found)
        if row.latest is not None:  # two sources disagree on the year judged: say so, never pick silently
            used = found[row.latest.year]
            others = [a for a in every.get((*key, row.latest.year), []) if a is not used and a.value != used.value]
            if others:
                said = "、".join(f"{a.source or a.file} {value_text(a.value, a.unit)}" for a in others)
                extra = f"{row.latest.year}年另有来源报 {said},按 {used.source or used.file} 判定"
                row.note = f"{row.note};{extra}" if row.note else extra
        rows.append(row)
    return rows


def target_status(t: Target, c: Any, plan: Optional[PlanInfo], region: str, found: dict[int, Actual]) -> MonitorRow:
    """The MonitorRow of one target given its actuals by year (see the module docstring)."""
    target_year = t.year or t.year_implied or (plan.end_year if plan else None)
    unit = _unit(t, found)
    points = [Point(y, v, unit, a.source or a.file, value_text(a.value, a.unit)) for y, a in sorted(found.items())
              if (v := a.in_unit(unit)) is not None]
    base_year = t.baseline_year or (plan.base_year if plan else None)
    baseline = next((p for p in points if p.year == base_year), None)
    latest = points[-1] if points else None
    row = MonitorRow(t.indicator, c.doc_id, c.plan, c.domain, c.id, c.short_path, region, t, target_year, unit,
                     "no_data", baseline, latest, series=points)
    if latest is None:
        row.note = f"无{region}监测数据" if region else "无监测数据"
        return row
    if t.value is None and t.value_min is None:
        return _direction_only(row, t, points)
    if base_year is not None and latest.year <= base_year:
        row.note = f"只有{latest.year}年基数,尚无规划期内的监测数据"
        return row
    goal = _goal(t, baseline)
    if goal is None:
        row.status, row.note = "not_achieved", f"需要{base_year}年基数才能计算目标值"
        return row
    lo, hi, row.level = goal
    if _met(latest.value, lo, hi):
        row.status = "achieved"
        return row
    if target_year is not None and latest.year >= target_year:
        row.status, row.note = "behind", f"{target_year}年目标年份已到而未达标"
        return row
    if baseline is None or target_year is None or target_year <= baseline.year:
        row.status, row.note = "not_achieved", f"无{base_year}年基数,无法判断进度" if base_year else "无基数"
        return row
    goal_value = row.level if row.level is not None else (lo if baseline.value < lo else hi)
    share = min(1.0, max(0.0, (latest.year - baseline.year) / (target_year - baseline.year)))
    row.expected = float(f"{baseline.value + (goal_value - baseline.value) * share:.6g}")
    up = goal_value >= baseline.value
    ahead = latest.value >= row.expected if up else latest.value <= row.expected
    row.status = "on_track" if ahead else "behind"
    row.note = f"按{baseline.year}年基数到{target_year}年目标的直线进度,{latest.year}年应为{row.expected:.4g}"
    return row


def _unit(t: Target, found: dict[int, Actual]) -> Optional[str]:
    """The unit a row is shown and compared in: the target's, or for a target whose value is
    relative (下降20%) or absent, the unit of its latest actual."""
    if t.value is not None and t.comparator not in ("decrease_by", "increase_by") and t.unit != "个百分点":
        return t.unit
    if t.comparator == "range" and t.unit:
        return t.unit
    return found[max(found)].unit if found else t.unit


def _goal(t: Target, baseline: Optional[Point]) -> Optional[tuple[Optional[float], Optional[float], Optional[float]]]:
    """(lower bound, upper bound, level) of the values that meet ``t``; None without the
    baseline a relative target needs."""
    if t.comparator == "range":
        return t.value_min, t.value_max, None
    if t.comparator in ("decrease_by", "increase_by"):
        if baseline is None:
            return None
        sign = -1 if t.comparator == "decrease_by" else 1
        level = baseline.value + sign * t.value if t.unit == "个百分点" else baseline.value * (1 + sign * t.value / 100)
        return (None, level, level) if sign < 0 else (level, None, level)
    v = t.value
    if t.comparator == "<=":
        return None, v, v
    if t.comparator == "~":
        tol = abs(v) * SETTINGS["about_tolerance"]
        return v - tol, v + tol, v
    if t.comparator == "=" and baseline is not None and baseline.value > v:
        return None, v, v
    return v, None, v  # >= and =: reached from below


def _met(x: float, lo: Optional[float], hi: Optional[float]) -> bool:
    eps = 1e-9
    return (lo is None or x >= lo - eps) and (hi is None or x <= hi + eps)


def _direction_only(row: MonitorRow, t: Target, points: list[Point]) -> MonitorRow:
    if len(points) < 2:
        row.status, row.note = "no_data", "方向性目标需要至少两年的监测数据"
        return row
    a, b = points[-2], points[-1]
    up = t.comparator in _UP
    moved = b.value > a.value if up else b.value < a.value
    row.status = "on_track" if moved else "behind"
    row.note = f"{a.year}年{a.value:g}→{b.year}年{b.value:g},目标{'提高' if up else '下降'}"
    return row


def summary(rows: list[MonitorRow]) -> dict[str, int]:
    """Rows per status, in ``STATUSES`` order (every status present, 0 when none)."""
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r.status] += 1
    return counts


def monitor_csv(rows: list[MonitorRow]) -> str:
    """The rows as CSV text (header first) for Excel; write with encoding ``utf-8-sig``."""
    import csv
    import io

    cols = ["short_path", "indicator", "region", "target", "target_year", "unit", "baseline_year", "baseline",
            "latest_year", "latest", "source", "expected", "status", "status_text", "note", "clause_id"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.short_path, r.indicator, r.region, target_text(r.target, r.target_year), r.target_year, r.unit,
                    r.baseline.year if r.baseline else "", _g(r.baseline.value if r.baseline else None),
                    r.latest.year if r.latest else "", _g(r.latest.value if r.latest else None),
                    r.latest.source if r.latest else "", _g(r.expected), r.status, r.status_text, r.note, r.clause_id])
    return buf.getvalue()


def _g(v: Optional[float]) -> str:
    return "" if v is None else f"{v:.6g}"


def value_text(v: Optional[float], unit: Optional[str]) -> str:
    """8.5 1/100000 → 8.5/10万; 0.98 1/10000 → 0.98/万; 81.2 % → 81.2%; None → —."""
    if v is None:
        return "—"
    u = unit or ""
    if u in RATE_DENOM and u.startswith("1/"):
        d = RATE_DENOM[u]
        return f"{v:.4g}/{'' if d == 10000 else d // 10000}万" if d % 10000 == 0 else f"{v:.4g}/{d}"
    return f"{v:.4g}{u}"


# ---------------------------------------------------------------------- over a KnowledgeBase
def catalog(kb) -> Catalog:
    """What an import checks rows against (kb.actuals.Catalog), from ``kb``'s targets."""
    plans = kb.plans()
    by_plan = {(p.doc_id, p.key): p for p in plans}
    pairs = _targets_with_clauses(kb)
    names = IndicatorNames(t.indicator_norm or t.indicator for t, _ in pairs)
    units: dict[tuple[str, str], set[Optional[str]]] = {}
    for t, c in pairs:
        plan = by_plan.get((c.doc_id, c.plan))
        units.setdefault((names.key_of(t.indicator_norm or t.indicator), plan.area if plan else ""), set()).add(
            t.unit if t.comparator not in ("decrease_by", "increase_by") else None)
    return Catalog(plans, names, units)


def import_into(kb, path, plan: Optional[str] = None, **kwargs):
    """``kb.actuals.import_file`` into ``kb``'s index directory, checked against its targets."""
    from kb.actuals import import_file

    return import_file(path, kb.index_dir, catalog(kb), plan, **kwargs)


def monitor_kb(kb, plan: Optional[str] = None, domain: Optional[str] = None,
               year: Optional[int] = None) -> list[MonitorRow]:
    """``monitor`` over ``kb``'s targets (filtered exactly by plan and domain; see
    ``KnowledgeBase.monitor``, which checks the filters) and stored actuals."""
    every = _targets_with_clauses(kb)
    pairs = [(t, c) for t, c in every if (plan is None or c.plan == plan) and (domain is None or c.domain == domain)]
    names = IndicatorNames(t.indicator_norm or t.indicator for t, _ in every)
    return monitor(pairs, kb.plans(), kb.actuals(), names, year)


def _targets_with_clauses(kb) -> list[tuple[Target, Any]]:
    """(target, clause) of the plans' targets in current documents: what is monitored. A
    law article's numbers (a fine of 1万元, an age) are no 目标值, and a superseded version
    (历史版本) is no longer the plan in force."""
    current = kb.doc_ids()  # None: every document is current
    clauses = {c.id: c for c in kb.store.clauses("plan IS NOT NULL", with_tags=False)
               if current is None or c.doc_id in current}
    out = []
    for t in kb.store.targets():
        c = clauses.get(t.clause_id)
        if c is not None:
            t.short_path = c.short_path
            out.append((t, c))
    return out
