"""Status per target (kb/monitor.py) on the seed's targets and the example values of
``tests/data/actuals-example.csv`` (example values, not real statistics), and the rules
one at a time on real target sentences of the seed."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kb.actuals import RATE_DENOM, Actual
from kb.base import KnowledgeBase
from kb.errors import QueryError
from kb.monitor import STATUSES, summary, target_status, value_text
from kb.plans import PlanInfo, area_of, plan_infos
from kb.targets import extract_targets

EXAMPLE = Path(__file__).parent / "data" / "actuals-example.csv"
PLAN = PlanInfo("czf-2022-8", "儿童", "曾都区儿童发展规划(2021—2030年)", "曾都区", (2021, 2030))


@pytest.fixture(scope="module")
def monitored(tmp_path_factory, fake_index):
    import shutil

    idx = tmp_path_factory.mktemp("mon") / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    kb = KnowledgeBase.open(idx)
    kb.import_actuals(EXAMPLE)
    return kb


def row(rows, indicator, year=2030, path=None):
    found = [r for r in rows if r.indicator == indicator and r.target_year == year and (path is None or r.short_path == path)]
    assert len(found) == 1, [(r.short_path, r.target_year) for r in found]
    return found[0]


def test_one_row_per_target_and_the_json_contract(monitored):
    rows = monitored.monitor()
    assert len(rows) == len(monitored.targets())
    d = row(rows, "孕产妇死亡率", 2030, "妇女/妇女与健康/主要目标/2").to_dict()
    assert {"indicator", "doc_id", "plan", "domain", "clause_id", "target", "baseline", "latest", "status"} <= set(d)
    assert {k: d["target"][k] for k in ("comparator", "value", "unit", "year")} == {
        "comparator": "<=", "value": 9.0, "unit": "1/100000", "year": 2030}
    assert d["baseline"] == {"value": 12.0, "unit": "1/100000", "year": 2020}
    assert {k: d["latest"][k] for k in ("value", "unit", "year", "source")} == {
        "value": 9.8, "unit": "1/100000", "year": 2023, "source": "示例数据(非真实统计)"}
    assert (d["plan"], d["domain"], d["clause_id"], d["status"]) == ("妇女", "妇女与健康", "czf-2022-8.funv.p2.d1.g2", "on_track")
    assert row(rows, "产前筛查率", 2025).to_dict()["status"] in STATUSES


def test_statuses_of_the_worked_example(monitored):
    rows = monitored.monitor()
    got = {(r.indicator, r.target_year, r.short_path.split("/")[2]): r.status for r in rows if r.series}
    assert got == {
        ("妇女人均预期寿命", 2030, "主要目标"): "on_track",    # 提高: 80.1 → 80.4
        ("产前筛查率", 2025, "主要目标"): "achieved",         # ≥ 80%: 81.2
        ("产前筛查率", 2030, "主要目标"): "on_track",         # ≥ 82%: path 75 → 82 is 77.1 in 2023
        ("孕产妇死亡率", 2025, "主要目标"): "achieved",       # ≤ 1/10000: 9.8/10万 = 0.98/万
        ("孕产妇死亡率", 2030, "主要目标"): "on_track",       # ≤ 9/10万: path 12 → 9 is 11.1
        ("孕产妇死亡率", 2030, "策略措施"): "on_track",       # 下降: 10.5 → 9.8
        ("人工流产率", 2030, "主要目标"): "behind",           # 下降: 11.0 → 11.6
        ("孕产妇贫血率", 2030, "主要目标"): "on_track",       # ≤ 7% (synonym 孕产妇贫血患病率)
        ("新生儿死亡率", 2025, "主要目标"): "behind",         # ≤ 3.5‰: 4.1 above the path's 3.78
        ("新生儿死亡率", 2030, "主要目标"): "behind",
        ("婴儿死亡率", 2025, "主要目标"): "not_achieved",     # no 2020 baseline
        ("婴儿死亡率", 2030, "主要目标"): "not_achieved",
        ("5岁以下儿童死亡率", 2025, "主要目标"): "achieved",  # 0.58% = 5.8‰ ≤ 6‰
        ("5岁以下儿童死亡率", 2030, "主要目标"): "not_achieved",
        ("小学生近视率", 2030, "主要目标"): "achieved",       # ≤ 38%, no baseline needed
        ("儿童伤害死亡率", 2030, "主要目标"): "on_track",     # 下降20% from 20/10万: level 16
        ("儿童溺水死亡率", 2030, "主要目标"): "no_data",      # direction-only, one year
        ("学前三年毛入园率", 2030, "主要目标"): "on_track",   # = 95% reached from below 90 → 92
        ("农村卫生厕所普及率", 2030, "主要目标"): "on_track",  # close match, 88 → 90.5
    }
    counts = summary(rows)
    assert list(counts) == list(STATUSES)
    assert (counts["achieved"], counts["behind"], counts["on_track"], counts["not_achieved"]) == (4, 3, 8, 3)


def test_values_are_converted_to_the_targets_unit(monitored):
    rows = monitored.monitor()
    u5 = row(rows, "5岁以下儿童死亡率", 2025)
    assert (u5.unit, u5.latest.value, u5.latest.as_imported) == ("‰", pytest.approx(5.8), "0.58%")
    mmr = row(rows, "孕产妇死亡率", 2025, "妇女/妇女与健康/主要目标/2")
    assert (mmr.unit, mmr.latest.value, mmr.baseline.value) == ("1/10000", pytest.approx(0.98), pytest.approx(1.2))
    injury = row(rows, "儿童伤害死亡率")
    assert (injury.level, injury.expected) == (pytest.approx(16.0), pytest.approx(18.8))


def test_monitoring_year_ignores_later_actuals(monitored):
    rows = monitored.monitor(year=2022)
    screening = row(rows, "产前筛查率", 2025)
    assert (screening.latest.year, screening.latest.value, screening.status) == (2022, 79.0, "on_track")
    assert screening.expected == pytest.approx(77.0)  # 75 + (80 − 75) · 2/5
    newborn = row(rows, "新生儿死亡率", 2025)  # only the 2020 baseline: no value of the plan period yet
    assert (newborn.status, newborn.baseline.value, newborn.note) == ("no_data", 4.2, "只有2020年基数,尚无规划期内的监测数据")
    assert row(monitored.monitor(year=2019), "产前筛查率", 2025).status == "no_data"


def test_filters(monitored):
    rows = monitored.monitor(plan="儿童", domain="儿童安全")
    assert {r.domain for r in rows} == {"儿童安全"} and len(rows) == len(monitored.targets(plan="儿童", domain="儿童安全"))
    with pytest.raises(QueryError, match="no domain '安全'"):
        monitored.monitor(domain="安全")


# ---------------------------------------------------------------------- rules, one at a time
def target(real, sentence: str, indicator: str, year=None):
    ts = [t for t in extract_targets(real(sentence)) if t.indicator == indicator and (year is None or t.year == year)]
    assert len(ts) == 1, ts
    return ts[0]


def status(t, values: dict[int, float], unit: str, plan=PLAN):
    clause = SimpleNamespace(id="c", doc_id=plan.doc_id, plan=plan.key, domain="d", short_path="p")
    found = {y: Actual(t.indicator, y, v, unit, v / RATE_DENOM[unit] if unit in RATE_DENOM else None, plan.area)
             for y, v in values.items()}
    return target_status(t, clause, plan, plan.area, found)


def test_ge_and_le_targets(real):
    ge = target(real, "到2025年和2030年,产前筛查率分别达80%以上和82%以上", "产前筛查率", 2030)
    assert status(ge, {2020: 75, 2023: 82}, "%").status == "achieved"
    assert status(ge, {2020: 75, 2023: 76}, "%").status == "behind"     # path: 77.1
    assert status(ge, {2020: 75, 2030: 81.9}, "%").status == "behind"   # target year reached
    assert status(ge, {2023: 76}, "%").status == "not_achieved"         # no baseline
    le = target(real, "5岁以下儿童贫血患病率和生长迟缓率分别控制在8%和4%以下", "5岁以下儿童生长迟缓率")
    assert status(le, {2020: 5.0, 2023: 4.0}, "%").status == "achieved"  # met from below
    assert status(le, {2020: 5.0, 2023: 4.6}, "%").status == "on_track"  # path: 4.7
    assert status(le, {2020: 5.0, 2023: 4.8}, "%").status == "behind"


def test_about_and_equal_targets(real):
    about = target(real, "就业人员中女性比例保持在46%左右", "就业人员中女性比例")
    assert status(about, {2023: 44.0}, "%").status == "achieved"        # within 5% of 46
    assert status(about, {2023: 43.0}, "%").status == "not_achieved"
    eq = target(real, "学前三年毛入园率达到95%", "学前三年毛入园率")
    assert status(eq, {2020: 96.0, 2023: 95.5}, "%").status == "on_track"  # reached from above: path 95.7
    assert status(eq, {2023: 95.0}, "%").status == "achieved"


def test_relative_target_needs_its_baseline(real):
    drop = target(real, "儿童伤害死亡率以2020年为基数下降20%", "儿童伤害死亡率")
    assert drop.baseline_year == 2020
    r = status(drop, {2023: 18.0}, "1/100000")
    assert (r.status, r.note) == ("not_achieved", "需要2020年基数才能计算目标值")
    assert status(drop, {2020: 20.0, 2023: 15.9}, "1/100000").status == "achieved"


def test_direction_only_targets(real):
    up = target(real, "妇女人均预期寿命延长", "妇女人均预期寿命")
    assert up.comparator == "increase"
    assert status(up, {2022: 80.1}, "岁").status == "no_data"
    assert status(up, {2022: 80.1, 2023: 80.4}, "岁").status == "on_track"
    assert status(up, {2022: 80.1, 2023: 80.1}, "岁").status == "behind"


def test_plan_areas():
    assert area_of("曾都区妇女发展规划(2021—2030年)") == "曾都区"
    assert area_of("关于加强儿童关爱的意见", "随州市人民政府") == "随州市"
    infos = plan_infos([{"id": "d", "meta": {"plans": [{"key": "儿童", "title": "湖北省儿童发展规划(2021—2030年)",
                                                          "period": [2021, 2030]}]}}])
    assert infos[0].area == "湖北省" and infos[0].base_year == 2020 and infos[0].end_year == 2030


def test_value_text():
    assert [value_text(9.8, "1/100000"), value_text(0.98, "1/10000"), value_text(81.2, "%"), value_text(None, "%")] == [
        "9.8/10万", "0.98/万", "81.2%", "—"]
