"""`kb actuals import|list`, `kb monitor` and `kb report`: the plans' targets against actual
values (issue 11). Each command is the ``KnowledgeBase`` call of the same name
(``import_actuals``, ``actuals``, ``monitor``) plus output; charts and the HTML report come
from ``kb.report``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cli.common import IndexOpt, JsonOpt, emit_json, err, handle_errors, open_kb, out
from cli.main import app
from kb.errors import KbError

actuals_app = typer.Typer(help="Actual values (监测数据) of the plans' indicators: import and list them.",
                          no_args_is_help=True, rich_markup_mode=None)
app.add_typer(actuals_app, name="actuals")

PlanOpt = typer.Option(None, "--plan", help="Plan short name, e.g. 儿童.")
DomainOpt = typer.Option(None, "--domain", help="发展领域, e.g. 儿童与健康.")
YearOpt = typer.Option(None, "--year", help="Monitoring year: actuals up to it count [default: all, i.e. the latest].")
STYLE = {"no_data": "dim", "achieved": "green", "behind": "red", "on_track": "blue", "not_achieved": "yellow"}


@actuals_app.command("import")
@handle_errors
def import_(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                        help="A .csv (UTF-8, BOM or GB18030) or .xlsx file: 指标, 年份, 数值[, 单位, 地区, 来源]."),
            plan: Optional[str] = typer.Option(None, "--plan", help="Plan whose area rows without 地区 apply to "
                                               "(needed when the plans cover several areas)."),
            no_wait: bool = typer.Option(False, "--no-wait", help="Fail at once when another writer holds the index."),
            index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Import actual values; a file with any bad row is rejected whole, naming the rows."""
    from kb.errors import ActualsRejected

    kb = open_kb(index)
    say = lambda msg: err.print(msg, highlight=False)  # noqa: E731
    try:
        report = kb.import_actuals(file, plan, on_message=say, wait=not no_wait)
    except ActualsRejected as e:
        if json:
            emit_json({"file": file.name, "stored": 0, "rejected": True, "message": str(e),
                       "problems": [{"row": r, "message": m} for r, m in e.problems]})
        raise
    if json:
        return emit_json(report.to_dict())
    err.print(f"stored {report.stored} values from {report.file} ({report.replaced} replaced earlier ones); "
              f"years {', '.join(map(str, report.years)) or '—'}; area {', '.join(report.regions) or '—'}",
              highlight=False)
    for m in report.matches:
        err.print(f"  row {m.row}: {m.name} → {m.indicator} ({'synonym' if m.how == 'synonym' else f'close match {m.score:g}'})",
                  highlight=False)
    for row, unit in report.assumed_units:
        err.print(f"  row {row}: no unit given; read in the targets' unit {unit}", highlight=False)
    for row, why in report.skipped:
        err.print(f"  row {row}: skipped, {why}", highlight=False)


@actuals_app.command("list")
@handle_errors
def list_(indicator: Optional[str] = typer.Option(None, "--indicator", help="Indicator, e.g. 孕产妇死亡率."),
          year: Optional[int] = typer.Option(None, "--year", help="Only values up to this year."),
          index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """List the stored actual values with their provenance (file, row, time)."""
    rows = open_kb(index).actuals(indicator=indicator, year=year)
    if json:
        return emit_json([a.to_dict() for a in rows])
    if not rows:
        err.print("no actual values stored; import some with `kb actuals import FILE`", highlight=False)
        return
    t = Table(title=f"{len(rows)} actual values")
    for col in ("indicator", "region", "year", "value", "source", "file:row", "imported", "match"):
        t.add_column(col, overflow="fold")
    from kb.monitor import value_text

    for a in rows:
        t.add_row(a.indicator if a.name in ("", a.indicator) else f"{a.indicator} ({a.name})", a.region, str(a.year),
                  value_text(a.value, a.unit), a.source, f"{a.file}:{a.row}", a.imported_at, a.match)
    out.print(t)


@app.command()
@handle_errors
def monitor(plan: Optional[str] = PlanOpt, domain: Optional[str] = DomainOpt, year: Optional[int] = YearOpt,
            csv: Optional[Path] = typer.Option(None, "--csv", dir_okay=False, help="Also write the rows to this CSV file "
                                               "(UTF-8 with BOM, opens in Excel)."),
            charts: Optional[Path] = typer.Option(None, "--charts", file_okay=False,
                                                  help="Write one chart per target with actual values into this folder."),
            chart_format: str = typer.Option("png", "--format", help="Chart format: png or svg."),
            all_rows: bool = typer.Option(False, "--all", help="Table: also show targets with no data (--json and --csv always do)."),
            index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Status of each target against the actual values: 已达标, 进展顺利, 滞后, 未达标 or 无数据."""
    from kb.monitor import STATUSES, STATUS_TEXT, monitor_csv, summary, target_text, value_text

    kb = open_kb(index)
    rows = kb.monitor(plan=plan, domain=domain, year=year)
    if csv is not None:
        _write(csv, monitor_csv(rows).encode("utf-8-sig"))
        err.print(f"wrote {len(rows)} rows to {csv}", highlight=False)
    if charts is not None:
        from kb.report import cjk_font, write_charts

        if chart_format not in ("png", "svg"):
            raise KbError(f"--format must be png or svg, not {chart_format!r}")
        cjk_font(warn=lambda m: err.print(f"[yellow]warning:[/] {m}", highlight=False))
        written = write_charts(rows, charts, chart_format)
        err.print(f"wrote {len(written)} charts to {charts}/", highlight=False)
    if json:
        return emit_json([r.to_dict() for r in rows])
    counts = summary(rows)
    shown = rows if all_rows else [r for r in rows if r.status != "no_data"]
    t = Table(title=f"{len(rows)} targets" + (f", monitoring year {year}" if year else "") + ": " +
              ", ".join(f"{STATUS_TEXT[s]} {counts[s]}" for s in STATUSES),
              caption=None if all_rows else f"{counts['no_data']} targets with no data hidden (--all shows them)")
    for col in ("path", "indicator", "target", "baseline", "latest", "status", "note"):
        t.add_column(col, overflow="fold")
    for r in shown:
        base = f"{value_text(r.baseline.value, r.unit)} ({r.baseline.year})" if r.baseline else "—"
        latest = f"{value_text(r.latest.value, r.unit)} ({r.latest.year})" if r.latest else "—"
        t.add_row(r.short_path, r.indicator, target_text(r.target, r.target_year), base, latest,
                  f"[{STYLE[r.status]}]{r.status_text}[/]", r.note)
    out.print(t)


@app.command()
@handle_errors
def report(out_file: Path = typer.Option(..., "--out", dir_okay=False, help="HTML file to write, e.g. report-2023.html."),
           year: Optional[int] = YearOpt, plan: Optional[str] = PlanOpt, domain: Optional[str] = DomainOpt,
           title: str = typer.Option("年度监测报告", "--title", help="Report title."),
           index: Optional[Path] = IndexOpt) -> None:
    """Write the 年度监测报告 annex as one HTML page: counts per status, tables and charts by plan and domain."""
    from kb.report import cjk_font, html_report

    kb = open_kb(index)
    rows = kb.monitor(plan=plan, domain=domain, year=year)
    cjk_font(warn=lambda m: err.print(f"[yellow]warning:[/] {m}", highlight=False))
    sources = sorted({a.source or a.file for a in kb.actuals(year=year)})
    _write(out_file, html_report(rows, year or _latest_year(rows), title=title, sources=sources).encode("utf-8"))
    err.print(f"wrote {out_file} ({len(rows)} targets, {sum(1 for r in rows if r.series)} charts)", highlight=False)


def _latest_year(rows) -> Optional[int]:
    years = [r.latest.year for r in rows if r.latest]
    return max(years) if years else None


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise KbError(f"cannot write {path}: {e.strerror}; check the folder exists and is writable") from e
