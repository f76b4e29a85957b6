"""Importing actual values (kb/actuals.py) against the seed's indicators: headers in Chinese
and English, UTF-8/BOM/GB18030 CSV and .xlsx, units, synonyms and close matches, re-import,
and rejected files that leave the store unchanged and name their rows.

The data is ``tests/data/actuals-example.csv`` (example values, not real statistics) or
variants of it written here."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb.actuals import STORE_FILE, ActualsStore, IndicatorNames, parse_unit, split_unit
from kb.base import KnowledgeBase
from kb.errors import ActualsRejected, IndexLocked, InputError

EXAMPLE = Path(__file__).parent / "data" / "actuals-example.csv"
HEADER = "指标名称,年份,数值,单位,地区,来源\n"


@pytest.fixture
def kb(fake_index_copy):
    base = KnowledgeBase.open(fake_index_copy)
    yield base
    base.close()


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def stored(kb) -> list[tuple]:
    return [(a.indicator, a.year, a.region, a.source, a.value, a.unit) for a in kb.actuals()]


def test_example_file_imports_with_provenance(kb):
    report = kb.import_actuals(EXAMPLE)
    assert (report.stored, report.replaced, report.regions, report.years) == (26, 0, ["曾都区"], [2020, 2021, 2022, 2023])
    mmr = {a.year: a for a in kb.actuals(indicator="孕产妇死亡率")}
    assert sorted(mmr) == [2020, 2022, 2023]
    a = mmr[2023]
    assert (a.value, a.unit, a.region, a.source) == (9.8, "1/100000", "曾都区", "示例数据(非真实统计)")
    assert a.value_normalized == pytest.approx(9.8e-05)
    assert (a.file, a.row, a.match) == ("actuals-example.csv", 8, "exact")
    assert a.imported_at.endswith("+00:00")
    assert (Path(kb.index_dir) / STORE_FILE).exists()


def test_synonym_and_close_match_are_reported_with_rows(kb):
    report = kb.import_actuals(EXAMPLE)
    how = {(m.row, m.name): (m.indicator, m.how) for m in report.matches}
    assert how[(14, "孕产妇贫血患病率")] == ("孕产妇贫血率", "synonym")
    assert how[(17, "学前教育毛入园率")] == ("学前三年毛入园率", "synonym")
    close = [m for m in report.matches if m.how == "close"]
    assert {(m.row, m.indicator) for m in close} == {(26, "农村卫生厕所普及率"), (27, "农村卫生厕所普及率")}
    assert close[0].score == pytest.approx(85.7, abs=0.1)


def test_reimport_replaces_and_is_idempotent(kb):
    kb.import_actuals(EXAMPLE)
    before = stored(kb)
    report = kb.import_actuals(EXAMPLE)
    assert (report.stored, report.replaced) == (26, 26)
    assert stored(kb) == before


def test_reimport_of_one_value_replaces_it(kb, tmp_path):
    kb.import_actuals(EXAMPLE)
    fix = write(tmp_path, "fix.csv", HEADER + "产前筛查率,2023,81.5,%,曾都区,示例数据(非真实统计)\n")
    assert kb.import_actuals(fix).replaced == 1
    values = {a.year: a.value for a in kb.actuals(indicator="产前筛查率")}
    assert values == {2020: 75.0, 2021: 77.5, 2022: 79.0, 2023: 81.5}
    assert len(kb.actuals()) == 26


def test_english_headers_any_order_and_english_synonyms(kb, tmp_path):
    f = write(tmp_path, "en.csv", "Year,Value,Indicator,Unit,Source\n"
                                  "2023,9.8,Maternal mortality ratio,per 100000,example\n"
                                  "2023,5.3,Infant mortality rate,‰,example\n")
    report = kb.import_actuals(f)
    assert report.stored == 2
    assert {(m.name, m.indicator, m.how) for m in report.matches} == {
        ("Maternal mortality ratio", "孕产妇死亡率", "synonym"), ("Infant mortality rate", "婴儿死亡率", "synonym")}
    assert {(a.indicator, a.unit) for a in kb.actuals()} == {("孕产妇死亡率", "1/100000"), ("婴儿死亡率", "‰")}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_csv_encodings(kb, tmp_path, encoding):
    text = EXAMPLE.read_text("utf-8")
    f = write(tmp_path, f"example-{encoding}.csv", text, encoding)
    assert kb.import_actuals(f).stored == 26
    assert kb.actuals(indicator="孕产妇贫血率")[0].name == "孕产妇贫血患病率"


def test_xlsx(kb, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["地区", "指标", "年度", "值", "计量单位"])
    ws.append(["曾都区", "新生儿死亡率", 2023, 4.1, "‰"])
    ws.append(["曾都区", "产前筛查率", "2023年", 0.812 * 100, "%"])
    ws.append([None, None, None, None, None])
    f = tmp_path / "monitor.xlsx"
    wb.save(f)
    report = kb.import_actuals(f)
    assert report.stored == 2
    assert {(a.indicator, a.year, a.value) for a in kb.actuals()} == {("新生儿死亡率", 2023, 4.1), ("产前筛查率", 2023, 81.2)}
    assert {a.row for a in kb.actuals()} == {2, 3}


def test_xlsx_percent_cells_and_date_years(kb, tmp_path):
    """A cell formatted as a percentage holds 0.825 and shows 82.5%: read as shown, not as
    0.825%; a year typed as a date cell gives its year."""
    import datetime

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["地区", "指标", "年度", "值"])
    ws.append(["曾都区", "产前筛查率", datetime.datetime(2022, 1, 1), 0.825])
    ws["D2"].number_format = "0.0%"
    f = tmp_path / "percent.xlsx"
    wb.save(f)
    kb.import_actuals(f)
    assert ("产前筛查率", 2022, 82.5, "%") in {(a.indicator, a.year, a.value, a.unit) for a in kb.actuals()}


@pytest.mark.parametrize("row,said", [("产前筛查率,2021,-5,%", "-5% is below 0"),
                                      ("产前筛查率,2021,150,%", "150% is more than the whole (100%)"),
                                      ("新生儿死亡率,2021,1200,‰", "1200‰ is more than the whole (1000‰)")])
def test_impossible_rates_are_rejected(kb_with_example, tmp_path, row, said):
    f = write(tmp_path, "odd.csv", "指标,年份,数值,单位\n" + row + "\n")
    assert_rejected_unchanged(kb_with_example, f, said)


@pytest.mark.parametrize("written, unit", [("%", "%"), ("％", "%"), ("‰", "‰"), ("千分率", "‰"), ("1/10万", "1/100000"),
                                           ("十万分之一", "1/100000"), ("/10万", "1/100000"), ("1/万", "1/10000"),
                                           ("万分之一", "1/10000"), ("per 100,000", "1/100000"), ("个", "个"), ("", None)])
def test_parse_unit(written, unit):
    assert parse_unit(written) == unit


def test_unit_in_name_and_in_value(kb, tmp_path):
    assert split_unit("孕产妇死亡率(1/10万)") == ("孕产妇死亡率", "1/100000")
    assert split_unit("纳入国家免疫规划的疫苗接种率(以镇为单位)")[1] is None
    f = write(tmp_path, "u.csv", "指标,年份,数值\n孕产妇死亡率(1/10万),2023,9.8\n产前筛查率,2023,81.2%\n")
    kb.import_actuals(f)
    got = {a.indicator: (a.unit, a.value_normalized) for a in kb.actuals()}
    assert got == {"孕产妇死亡率": ("1/100000", pytest.approx(9.8e-05)), "产前筛查率": ("%", pytest.approx(0.812))}


def test_missing_unit_is_read_in_the_targets_only_unit(kb, tmp_path):
    f = write(tmp_path, "nounit.csv", "指标,年份,数值\n产前筛查率,2023,81.2\n")
    report = kb.import_actuals(f)
    assert report.assumed_units == [(2, "%")]


def test_region_forms(kb, tmp_path):
    f = write(tmp_path, "r.csv", HEADER + "产前筛查率,2022,79,%,随州市曾都区,x\n产前筛查率,2023,81.2,%,曾都,x\n")
    assert kb.import_actuals(f).regions == ["曾都区"]


def test_blank_values_are_skipped_and_reported(kb, tmp_path):
    f = write(tmp_path, "b.csv", HEADER + "产前筛查率,2023,81.2,%,曾都区,x\n婴儿死亡率,2023,—,‰,曾都区,x\n")
    report = kb.import_actuals(f)
    assert report.stored == 1 and report.skipped == [(3, "婴儿死亡率: no value")]


# ---------------------------------------------------------------------- rejected files
@pytest.fixture
def kb_with_example(kb):
    kb.import_actuals(EXAMPLE)
    return kb


def assert_rejected_unchanged(kb, path: Path, *fragments: str) -> ActualsRejected:
    store = Path(kb.index_dir) / STORE_FILE
    before_bytes, before = store.read_bytes(), stored(kb)
    with pytest.raises(ActualsRejected) as e:
        kb.import_actuals(path)
    for frag in fragments:
        assert frag in str(e.value), str(e.value)
    assert "nothing stored" in str(e.value)
    assert store.read_bytes() == before_bytes and stored(kb) == before
    return e.value


def test_missing_column_names_the_expected_headers(kb_with_example, tmp_path):
    f = write(tmp_path, "noyear.csv", "指标,数值\n产前筛查率,99\n")
    err = assert_rejected_unchanged(kb_with_example, f, "missing column(s) year", "年份", "指标名称", "数值")
    assert err.problems == [(1, "missing column(s) year")]


def test_unrecognised_header_is_named(kb_with_example, tmp_path):
    f = write(tmp_path, "odd.csv", "指标,年份,数值,负责人\n产前筛查率,2023,99,张三\n")
    assert_rejected_unchanged(kb_with_example, f, "unrecognised header(s) '负责人'", "Expected headers")


def test_text_in_number_column_and_unknown_indicator_name_their_rows(kb_with_example, tmp_path):
    f = write(tmp_path, "bad.csv", HEADER + "产前筛查率,2023,99,%,曾都区,x\n"
                                            "婴儿死亡率,2023,约五,‰,曾都区,x\n"
                                            "儿童死亡率,2023,5,‰,曾都区,x\n"
                                            "新生儿死亡率,二〇二三,4,‰,曾都区,x\n")
    err = assert_rejected_unchanged(kb_with_example, f, "3 row(s) rejected", "row 3: value '约五'", "row 4: unknown indicator '儿童死亡率'",
                                    "婴儿死亡率", "row 5: year")
    assert [r for r, _ in err.problems] == [3, 4, 5]


def test_unit_that_does_not_fit_and_ambiguous_unit_are_rejected(kb_with_example, tmp_path):
    f = write(tmp_path, "units.csv", "指标,年份,数值,单位\n产前筛查率,2023,1200,人\n")
    assert_rejected_unchanged(kb_with_example, f, "unit '人' does not fit its targets (%)")
    f = write(tmp_path, "nounit.csv", "指标,年份,数值\n孕产妇死亡率,2023,9.8\n")
    assert_rejected_unchanged(kb_with_example, f, "no unit, and its targets use several (1/10000, 1/100000)")


def test_region_of_no_plan_and_duplicate_rows_are_rejected(kb_with_example, tmp_path):
    f = write(tmp_path, "reg.csv", HEADER + "产前筛查率,2023,81,%,随县,x\n新生儿死亡率,2023,4,‰,曾都区,x\n"
                                            "新生儿死亡率,2023,4.2,‰,曾都区,x\n")
    assert_rejected_unchanged(kb_with_example, f, "row 2: region '随县' is not the area of any plan (areas: 曾都区)",
                              "row 4: same indicator, year, region and source as row 3")


def test_unknown_plan_option(kb_with_example):
    with pytest.raises(ActualsRejected, match="no plan '老年'; known plans: 儿童, 妇女"):
        kb_with_example.import_actuals(EXAMPLE, plan="老年")


def test_unsupported_and_empty_files(kb, tmp_path):
    with pytest.raises(InputError, match="must be a .csv or .xlsx"):
        kb.import_actuals(write(tmp_path, "a.json", "{}"))
    with pytest.raises(InputError, match="is empty"):
        kb.import_actuals(write(tmp_path, "e.csv", "\n\n"))
    with pytest.raises(InputError, match="h.csv has a header row and no data"):
        kb.import_actuals(write(tmp_path, "h.csv", "指标,年份,数值,单位\n"))
    with pytest.raises(InputError, match="not a readable .xlsx"):
        kb.import_actuals(write(tmp_path, "x.xlsx", "not a zip"))
    assert kb.actuals() == []


# ---------------------------------------------------------------------- storage
def test_import_waits_for_or_fails_on_the_writer_lock(kb):
    from kb.lock import writer_lock

    with writer_lock(kb.index_dir):
        with pytest.raises(IndexLocked, match="being written by pid"):
            kb.import_actuals(EXAMPLE, wait=False)
    assert kb.actuals() == []


def test_actuals_survive_reingest_and_rebuild(kb, fake_embedder):
    from kb.build import ingest
    from conftest import SEED

    kb.import_actuals(EXAMPLE)
    before = stored(kb)
    ingest([SEED], kb.index_dir, embedder=fake_embedder)
    ingest([SEED], kb.index_dir, rebuild=True, embedder=fake_embedder)
    assert stored(KnowledgeBase.open(kb.index_dir)) == before
    assert len(ActualsStore(kb.index_dir).all()) == 26


def test_indicator_names_group_the_plans_wording():
    names = IndicatorNames(["高中阶段毛入学率", "高中阶段教育毛入学率", "婴儿死亡率"])
    assert names.key_of("高中阶段毛入学率") == names.key_of("高中阶段教育毛入学率") == "高中阶段教育毛入学率"
    assert names.match("儿童死亡率")[0] is None  # 80 against 婴儿死亡率: reported, not guessed
    assert names.match("IMR")[:2] == ("婴儿死亡率", "synonym")


def test_example_file_is_marked_as_example_values():
    rows = EXAMPLE.read_text("utf-8").splitlines()[1:]
    assert rows and all("示例数据(非真实统计)" in r and "示例值" in r for r in rows)


def test_two_sources_for_one_year_are_both_named(kb, tmp_path):
    """The monitor judges on one value and its note names the other source's, never
    choosing silently (小学生近视率 2024: 30% from one office, 45% from another)."""
    kb.import_actuals(write(tmp_path, "two.csv", HEADER + "小学生近视率,2024,30,%,曾都区,区教育局\n"
                                                          "小学生近视率,2024,45,%,曾都区,区卫生健康局\n"))
    row = next(r for r in kb.monitor() if r.indicator == "小学生近视率")
    other = {"区教育局": "区卫生健康局 45%", "区卫生健康局": "区教育局 30%"}[row.latest.source]
    assert f"2024年另有来源报 {other},按 {row.latest.source} 判定" in row.note
