"""Charts and the HTML report (kb/report.py) on the worked example (example values, not
real statistics), and the `kb actuals` / `kb monitor` / `kb report` commands (CliRunner)."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from kb.base import KnowledgeBase
from kb.report import CJK_FONTS, chart, chart_name, cjk_font, html_report

EXAMPLE = Path(__file__).parent / "data" / "actuals-example.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def index(tmp_path_factory, fake_index):
    import shutil

    idx = tmp_path_factory.mktemp("rep") / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    KnowledgeBase.open(idx).import_actuals(EXAMPLE)
    return idx


@pytest.fixture(scope="module")
def rows(index):
    return KnowledgeBase.open(index).monitor()


def kb_(*args):
    return runner.invoke(app, list(args))


def test_chart_svg_and_png(rows):
    r = next(r for r in rows if r.indicator == "新生儿死亡率" and r.target_year == 2025)
    svg = chart(r, "svg").decode("utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "<text" not in svg  # glyphs drawn as paths: the file needs no font to show
    assert chart(r, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart_name(r, "png") == "czf-2022-8_ertong_p2_d1_g3-新生儿死亡率-2025.png"
    with pytest.raises(ValueError, match="svg or png"):
        chart(r, "gif")


def test_cjk_font_found_or_warned():
    warned = []
    font = cjk_font(warn=warned.append)
    assert (font in CJK_FONTS and not warned) or (font is None and "fonts-wqy-zenhei" in warned[0])


def test_html_report_groups_counts_and_charts(rows):
    page = html_report(rows, 2023, sources=["示例数据(非真实统计)"])
    assert "<h1>年度监测报告(2023年)</h1>" in page and "示例数据(非真实统计)" in page
    assert page.index("<h2>妇女发展规划</h2>") < page.index("<h2>儿童发展规划</h2>")
    assert "<h3>儿童与健康</h3>" in page and "<h3>儿童安全</h3>" in page
    assert page.count("<figure><svg") == sum(1 for r in rows if r.series) == 19
    first = re.search(r"<table class='counts'>.*?</table>", page).group()
    assert [int(n) for n in re.findall(r"<td>(\d+)</td>", first)] == [166, 4, 3, 8, 3, 184]
    assert "按2020年基数到2025年目标的直线进度,2023年应为3.78" in page
    assert "@media print" in page


# ---------------------------------------------------------------------- CLI
def test_cli_import_list_monitor_report(index, tmp_path):
    r = kb_("actuals", "import", str(EXAMPLE), "--index", str(index))
    assert r.exit_code == 0, r.output
    assert "stored 26 values from actuals-example.csv (26 replaced earlier ones)" in r.output
    assert "row 26: 农村无害化卫生厕所普及率 → 农村卫生厕所普及率 (close match 85.7)" in r.output
    listed = json.loads(kb_("actuals", "list", "--indicator", "婴儿死亡率", "--json", "--index", str(index)).stdout)
    assert [(a["year"], a["value"], a["unit"], a["row"]) for a in listed] == [(2022, 5.6, "‰", 11), (2023, 5.3, "‰", 12)]

    r = kb_("monitor", "--plan", "儿童", "--json", "--csv", str(tmp_path / "m.csv"), "--charts", str(tmp_path / "charts"),
            "--index", str(index))
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    newborn = next(d for d in data if d["indicator"] == "新生儿死亡率" and d["target"]["year"] == 2030)
    assert (newborn["status"], newborn["baseline"]["value"], newborn["latest"]["value"]) == ("behind", 4.2, 4.1)
    assert {d["plan"] for d in data} == {"儿童"}
    table = list(csv.DictReader((tmp_path / "m.csv").read_text("utf-8-sig").splitlines()))
    assert len(table) == len(data) and table[0]["status_text"]
    assert len(list((tmp_path / "charts").glob("*.png"))) == 11

    r = kb_("monitor", "--year", "2023", "--index", str(index))
    assert r.exit_code == 0 and "无数据 166, 已达标 4, 滞后 3, 进展顺利 8, 未达标 3" in r.output
    assert "166 targets with no data hidden" in r.output

    out = tmp_path / "report.html"
    r = kb_("report", "--year", "2023", "--out", str(out), "--index", str(index))
    assert r.exit_code == 0, r.output
    assert "19 charts" in r.output and out.read_text("utf-8").count("<svg") == 19


def test_cli_rejected_import_exits_1_naming_rows(index, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("指标,年份,数值\n产前筛查率,2023,abc\n", encoding="utf-8")
    r = kb_("actuals", "import", str(bad), "--index", str(index))
    assert r.exit_code == 1
    assert "row 2: value 'abc' of 产前筛查率 is not a number" in r.output
    r = kb_("actuals", "import", str(bad), "--json", "--index", str(index))
    assert r.exit_code == 1
    assert json.loads(r.stdout)["problems"] == [{"row": 2, "message": "value 'abc' of 产前筛查率 is not a number"}]


def test_cli_monitor_unknown_plan(index):
    r = kb_("monitor", "--plan", "老年", "--index", str(index))
    assert r.exit_code == 1 and "no plan '老年'" in r.output
