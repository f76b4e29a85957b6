"""KnowledgeBase.targets / targets_csv / departments / department on the session's index of
the bundled corpus (the seed + 16 laws); counts of the seed's own tags take ``doc=SEED_ID``.

Values come from the seed (corpus/zengdu/…women-children-plans.txt):
- 妇女/妇女与健康/主要目标/2 (line 50): "到2025年和2030年,产前筛查率分别达80%以上和82%以上,
  孕产妇死亡率分别控制到万分之一以下和十万分之九以下";
- 儿童/儿童与健康/主要目标/10: "小学生近视率降至38%以下,初中生近视率降至60%以下,高中生近视率降至70%以下";
- 儿童/儿童安全/主要目标/1: "儿童伤害死亡率以2020年为基数下降20%";
- 儿童/儿童与教育/策略措施/5: "新建城区义务教育学校2—3所";
- 妇女|儿童/监测评估/1–2: "区统计局牵头…".
"""
from __future__ import annotations

import csv
import io

import pytest

from kb.base import KnowledgeBase
from kb.errors import NotFound

from conftest import SEED_ID


@pytest.fixture(scope="module")
def base(corpus_index):
    kb = KnowledgeBase.open(corpus_index)
    yield kb
    kb.close()


def _one(rows, **want):
    found = [t for t in rows if all(getattr(t, k) == v for k, v in want.items())]
    assert len(found) == 1, (want, found)
    return found[0]


# ------------------------------------------------------------------ targets

def test_targets_all_carry_clause_ids(base):
    rows = base.targets()
    assert len(rows) > 150
    ids = {c.id for c in base.clauses()}
    assert all(t.clause_id in ids for t in rows)


def test_targets_two_years_from_one_sentence(base):
    rows = base.targets(indicator="孕产妇死亡率")
    y25 = _one(rows, year=2025)
    y30 = _one(rows, year=2030)
    assert (y25.comparator, y25.value, y25.unit, y25.value_text) == ("<=", 1, "1/10000", "万分之一")
    assert (y30.comparator, y30.value, y30.unit, y30.value_text) == ("<=", 9, "1/100000", "十万分之九")
    assert y25.value_normalized == pytest.approx(1e-4) and y30.value_normalized == pytest.approx(9e-5)
    assert y30.clause_id == "czf-2022-8.funv.p2.d1.g2"
    assert y30.qualifier == "控制到…以下"
    screening = base.targets(indicator="产前筛查率")
    assert {(t.year, t.value) for t in screening} == {(2025, 80), (2030, 82)}


def test_targets_filter_by_year(base):
    rows = base.targets(year=2030)
    assert rows and all(t.year == 2030 or (t.year is None and t.year_implied == 2030) for t in rows)
    # 2025 is written in a few goals only; undated goals of a 2021—2030 plan are due in 2030
    assert all(t.year == 2025 for t in base.targets(year=2025))
    assert sum(1 for t in rows if t.year == 2030) < len(rows)
    assert {"孕产妇死亡率", "产前筛查率", "新生儿死亡率", "婴儿死亡率"} <= {t.indicator for t in rows}
    assert _one(rows, indicator="婴儿死亡率").unit == "‰"
    assert _one(rows, indicator="婴儿死亡率").value == pytest.approx(4.5)


def test_targets_filter_by_plan_and_domain(base):
    kids = base.targets(plan="儿童", domain="儿童与健康", indicator="近视率")
    assert {(t.indicator, t.comparator, t.value, t.unit) for t in kids} >= {
        ("小学生近视率", "<=", 38, "%"), ("初中生近视率", "<=", 60, "%"), ("高中生近视率", "<=", 70, "%")}
    assert base.targets(plan="妇女", indicator="近视率") == []
    assert base.targets(domain="儿童安全", indicator="近视率") == []
    plans = {t.clause_id.split(".")[1] for t in base.targets(plan="妇女")}
    assert plans == {"funv"}


def test_targets_special_comparators(base):
    injury = _one(base.targets(indicator="儿童伤害死亡率"), comparator="decrease_by")
    assert (injury.value, injury.unit, injury.baseline_year) == (20, "%", 2020)
    schools = _one(base.targets(indicator="义务教育学校"), comparator="range")
    assert (schools.value_min, schools.value_max, schools.unit) == (2, 3, "所")
    share = _one(base.targets(indicator="就业人员中女性比例"), comparator="~")
    assert (share.comparator, share.value, share.qualifier) == ("~", 46, "保持在…左右")
    direction = [t for t in base.targets(plan="妇女") if t.comparator == "increase"]
    assert direction and all(t.value is None for t in direction)


def test_targets_csv(base):
    text = base.targets_csv(year=2030)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(base.targets(year=2030))
    assert list(rows[0])[:3] == ["clause_id", "short_path", "indicator"]
    mmr = next(r for r in rows if r["indicator"] == "孕产妇死亡率")
    assert mmr["short_path"] == "妇女/妇女与健康/主要目标/2"
    assert (mmr["comparator"], float(mmr["value"]), mmr["unit"], mmr["year"]) == ("<=", 9.0, "1/100000", "2030")
    assert "十万分之九以下" in mmr["evidence"]
    assert text.endswith("\r\n")  # Excel-friendly line ends; the caller writes it as utf-8-sig


def test_targets_csv_empty_has_header(base):
    text = base.targets_csv(indicator="不存在的指标")
    assert text.splitlines() == [text.splitlines()[0]] and text.startswith("clause_id,")


# ------------------------------------------------------------------ departments

def test_departments_counts(base):
    rows = base.departments(doc=SEED_ID)  # the seed's tags (the laws tag 教育行政部门 etc. too)
    by = {r["name"]: r for r in rows}
    assert set(rows[0]) >= {"name", "type", "explicit", "inferred"}
    # 妇女|儿童/监测评估/1–2 name 区统计局 as lead (four clauses)
    assert by["区统计局"]["explicit"] == 4 and by["区统计局"]["type"] == "government"
    assert by["区教育局"]["explicit"] == 2 and by["区教育局"]["inferred"] > 50
    assert by["区妇儿工委"]["type"] == "coordination_body" and by["区妇儿工委"]["inferred"] == 0
    explicit = [r["explicit"] for r in rows]
    assert explicit == sorted(explicit, reverse=True)  # most explicit first


def test_departments_counts_match_department(base):
    for r in base.departments()[:10]:
        d = base.department(r["name"])
        assert sum(c["explicit"] for c in d["clauses"]) == r["explicit"], r["name"]
        assert len(d["clauses"]) == r["explicit"] + r["inferred"], r["name"]


def test_department_lead_with_evidence(base):
    d = base.department("区统计局")
    explicit = [c for c in d["clauses"] if c["explicit"]]
    assert [c["short_path"] for c in explicit] == ["妇女/监测评估/1", "妇女/监测评估/2",
                                                    "儿童/监测评估/1", "儿童/监测评估/2"]
    assert all(c["role"] == "lead" and c["evidence"] == "区统计局" for c in explicit)


def test_department_explicit_first_then_inferred_with_cue(base):
    d = base.department("区教育局", doc=SEED_ID)
    flags = [c["explicit"] for c in d["clauses"]]
    assert flags[:2] == [True, True] and not any(flags[2:])
    # 儿童/儿童安全/策略措施/2: "包含教育、公安、应急、卫健、司法、市场监管等多部门合作"
    assert d["clauses"][0]["short_path"] == "儿童/儿童安全/策略措施/2"
    assert d["clauses"][0]["evidence"] == "教育"
    inferred = {c["short_path"]: c["cue"] for c in d["clauses"] if not c["explicit"]}
    assert inferred["儿童/儿童安全/策略措施/3"] == "学校"
    assert inferred["儿童/儿童与教育/主要目标/4"] == "义务教育"
    assert all(c["evidence"] is None for c in d["clauses"] if not c["explicit"])
    assert {"id", "text", "targets", "departments", "short_path"} <= set(d["clauses"][0])


def test_department_by_alias(base):
    assert base.department("卫健")["name"] == "区卫生健康局"
    assert base.department("统计局")["name"] == "区统计局"


def test_department_drowning_cue(base):
    # 儿童/儿童安全/主要目标/2 "排查消除溺水隐患,儿童溺水死亡率持续下降" → 教育 + 应急 + 水利
    for body in ("区应急管理局", "区水利和湖泊局"):
        paths = {c["short_path"]: c for c in base.department(body)["clauses"]}
        assert paths["儿童/儿童安全/主要目标/2"]["cue"] == "溺水"


@pytest.mark.parametrize("name, close", [("区教育", "区教育局"), ("区交通局", "区交通运输局"), ("统记局", "区统计局")])
def test_unknown_department_suggests(base, name, close):
    with pytest.raises(NotFound, match=f"unknown department.*{close}"):
        base.department(name)


def test_group_name_is_not_a_single_body(base):
    """区妇儿工委及其办公室 stands for two bodies; department() takes one (the CLI expands)."""
    from kb.departments import Lexicon

    assert Lexicon.load().expand("区妇儿工委及其办公室") == ["区妇儿工委", "区妇儿工委办公室"]
    with pytest.raises(NotFound):
        base.department("区妇儿工委及其办公室")


def test_targets_unknown_filter_value_is_an_error(base):
    from kb.errors import QueryError

    with pytest.raises(QueryError, match="no plan '老年'; known: 儿童, 妇女"):
        base.targets(plan="老年")


@pytest.mark.parametrize("name,bodies", [("区妇儿工委及其办公室", ["区妇儿工委", "区妇儿工委办公室"]),
                                         ("区教育局", ["区教育局"])])
def test_departments_named_expands_groups(base, name, bodies):
    assert [d["name"] for d in base.departments_named(name)] == bodies


def test_empty_department_name(base):
    with pytest.raises(NotFound, match="give a department name"):
        base.department(" ")


def test_value_display(base):
    mmr = [t for t in base.targets(indicator="孕产妇死亡率") if t.value is not None]
    assert {(t.year, t.value_display()) for t in mmr} == {(2025, "1/10000"), (2030, "9/100000")}
    schools = next(t for t in base.targets(indicator="义务教育学校") if t.comparator == "range")
    assert schools.value_display() == "2—3所"
    assert schools.to_dict()["value_display"] == "2—3所"
    nmr = {t.year: t.value_display() for t in base.targets(indicator="新生儿死亡率") if t.value is not None}
    assert nmr == {2025: "3.5‰", 2030: "3‰"}
