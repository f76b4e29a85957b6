"""Charts (matplotlib) and the HTML 年度监测报告 of ``kb.monitor`` rows.

``chart(row, fmt)`` draws one target: the actuals by year, the target level at the target
year, and the straight path from the baseline when there is one. ``html_report(rows, year)``
is one self-contained page (inline SVG charts, print styles) grouped by plan and 发展领域,
with the count per status, a table and the charts: the annex an annual monitoring report
carries.

Chinese labels need a CJK font: ``CJK_FONTS`` are tried in order (Debian's
fonts-wqy-zenhei gives the first); without any, ``cjk_font()`` warns once and the labels
show as boxes.
"""
from __future__ import annotations

import html
import io
import logging
import re
from pathlib import Path
from typing import Callable, Optional

from kb.monitor import STATUS_TEXT, STATUSES, MonitorRow, summary, target_text, value_text

log = logging.getLogger("kb.report")
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # "weight normal" notes for WenQuanYi
CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei",
             "Microsoft YaHei", "PingFang SC")
NO_CJK_FONT = ("no CJK font found (tried: " + ", ".join(CJK_FONTS) + "); Chinese labels in charts will show "
               "as boxes: install one, e.g. `apt-get install fonts-wqy-zenhei`")
STATUS_COLOR = {"no_data": "#9e9e9e", "achieved": "#2e7d32", "behind": "#c62828", "on_track": "#1565c0",
                "not_achieved": "#ef6c00"}
CHART_SIZE_IN = (5.2, 3.0)
LABEL_ALL_POINTS = 8  # longer series label only their first and last values (text is drawn as paths)
_font: Optional[str] = None


def cjk_font(warn: Callable[[str], None] = log.warning) -> Optional[str]:
    """The first installed font of ``CJK_FONTS`` (cached), or None after calling ``warn``."""
    global _font
    if _font is None:
        from matplotlib import font_manager

        installed = {f.name for f in font_manager.fontManager.ttflist}
        _font = next((f for f in CJK_FONTS if f in installed), "")
        if not _font:
            warn(NO_CJK_FONT)
    return _font or None


def chart(row: MonitorRow, fmt: str = "svg") -> bytes:
    """One row's chart as ``fmt`` (svg or png) bytes; SVG text is drawn as paths so the file
    shows the same without the font. Raises ValueError for another format."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"chart format must be svg or png, not {fmt!r}")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    font = cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "svg.fonttype": "path",
          "axes.unicode_minus": False}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=CHART_SIZE_IN, dpi=110)
        ax = fig.subplots()
        _draw(ax, row)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def _draw(ax, row: MonitorRow) -> None:
    from matplotlib.ticker import MaxNLocator

    unit = value_text(1, row.unit).removeprefix("1") if row.unit else ""
    xs = [p.year for p in row.series]
    ys = [p.value for p in row.series]
    color = STATUS_COLOR[row.status]
    ax.plot(xs, ys, marker="o", color=color, label="实际值")
    labelled = set(range(len(xs))) if len(xs) <= LABEL_ALL_POINTS else {0, len(xs) - 1}
    for i in sorted(labelled):
        ax.annotate(f"{ys[i]:.4g}", (xs[i], ys[i]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    if row.level is not None and row.target_year:
        ax.plot([row.target_year], [row.level], marker="*", markersize=12, color="#6a1b9a", linestyle="none",
                label=f"目标 {target_text(row.target, row.target_year)}")
        ax.axhline(row.level, color="#6a1b9a", linestyle=":", linewidth=0.8)
    elif row.target_year:  # a direction-only goal (提高/下降) or a relative one without its baseline
        ax.plot([], [], " ", label=f"目标 {target_text(row.target, row.target_year)}")
    if row.baseline is not None and row.level is not None and row.target_year:
        ax.plot([row.baseline.year, row.target_year], [row.baseline.value, row.level], linestyle="--",
                color="#757575", linewidth=1, label=f"{row.baseline.year}年基数→目标的直线进度")
    last = max([*xs, row.target_year or 0])
    first = min([*xs, row.baseline.year if row.baseline else last])
    ax.set_xlim(first - 0.5, last + 0.5)
    ax.margins(y=0.18)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{row.indicator}({row.plan}) — {row.status_text}", fontsize=10)
    ax.set_ylabel(unit, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6.5, loc="best")


def chart_name(row: MonitorRow, fmt: str) -> str:
    """A file name for a row's chart: clause id + indicator + target year (unique per row)."""
    safe = re.sub(r"[^\w\-]", "_", f"{row.clause_id}-{row.indicator}-{row.target_year or ''}")
    return f"{safe}.{fmt}"


def write_charts(rows: list[MonitorRow], out_dir: Path, fmt: str = "png") -> list[Path]:
    """A chart file per row that has actual values; returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for r in rows:
        if r.series:
            path = out_dir / chart_name(r, fmt)
            path.write_bytes(chart(r, fmt))
            written.append(path)
    return written


# ---------------------------------------------------------------------- HTML
_CSS = """
body{font-family:"WenQuanYi Zen Hei","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em;margin-bottom:.2em} h2{border-bottom:2px solid #444;margin-top:2em} h3{margin-top:1.5em}
.note{color:#666;font-size:.9em} table{border-collapse:collapse;width:100%;font-size:.86em;margin:.6em 0}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top} th{background:#f0f0f0}
td.num{text-align:right;white-space:nowrap} .badge{display:inline-block;padding:1px 6px;border-radius:3px;color:#fff;white-space:nowrap}
.counts td{text-align:center} .charts{display:flex;flex-wrap:wrap;gap:8px} .charts figure{margin:0;width:48%;break-inside:avoid}
.charts svg{width:100%;height:auto} @media print{body{margin:0;max-width:none} h2{break-before:page} h2:first-of-type{break-before:avoid}}
"""


def html_report(rows: list[MonitorRow], year: Optional[int], title: str = "年度监测报告",
                sources: Optional[list[str]] = None, with_charts: bool = True) -> str:
    """The report as one HTML page (UTF-8 text). ``year`` is the monitoring year shown in
    the title; ``sources`` the data sources listed under it."""
    e = html.escape
    parts = [f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{e(title)}{f'({year}年)' if year else ''}</h1>",
             f"<p class='note'>规划目标与监测数据对照。状态按先后判定:{'、'.join(STATUS_TEXT[s] for s in STATUSES)}"
             "(见 docs/monitoring.md)。数据来源:" + e("、".join(sources or []) or "—") + "</p>",
             _counts_table("全部目标", rows)]
    for plan, plan_rows in _by(rows, lambda r: r.plan):
        parts.append(f"<h2>{e(plan)}发展规划</h2>" + _counts_table(f"{plan}发展规划", plan_rows))
        for domain, dom_rows in _by(plan_rows, lambda r: r.domain or "总体目标及其他"):
            parts.append(f"<h3>{e(domain)}</h3>" + _counts_table(domain, dom_rows))
            if with_charts:
                charts = [f"<figure>{_svg_body(chart(r, 'svg'))}</figure>" for r in dom_rows if r.series]
                if charts:
                    parts.append("<div class='charts'>" + "".join(charts) + "</div>")
            parts.append(_rows_table(dom_rows))
    parts.append("</body></html>")
    return "\n".join(parts)


def _by(rows: list[MonitorRow], key) -> list[tuple[str, list[MonitorRow]]]:
    out: dict[str, list[MonitorRow]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return list(out.items())


def _counts_table(label: str, rows: list[MonitorRow]) -> str:
    c = summary(rows)
    head = "".join(f"<th>{_badge(s)}</th>" for s in STATUSES)
    cells = "".join(f"<td>{c[s]}</td>" for s in STATUSES)
    return (f"<table class='counts'><tr><th>{html.escape(label)}</th>{head}<th>合计</th></tr>"
            f"<tr><td>目标数</td>{cells}<td>{len(rows)}</td></tr></table>")


def _badge(status: str) -> str:
    return f"<span class='badge' style='background:{STATUS_COLOR[status]}'>{STATUS_TEXT[status]}</span>"


def _rows_table(rows: list[MonitorRow]) -> str:
    e = html.escape
    head = "<tr><th>条款</th><th>指标</th><th>目标</th><th>基数</th><th>最新值</th><th>应达进度</th><th>状态</th><th>说明</th></tr>"
    body = []
    for r in rows:
        base = f"{value_text(r.baseline.value, r.unit)}({r.baseline.year})" if r.baseline else "—"
        latest = (f"{value_text(r.latest.value, r.unit)}({r.latest.year})<br><span class='note'>{e(r.latest.source)}</span>"
                  if r.latest else "—")
        body.append(f"<tr><td>{e(r.short_path)}</td><td>{e(r.indicator)}</td><td>{e(target_text(r.target, r.target_year))}</td>"
                    f"<td class='num'>{e(base)}</td><td class='num'>{latest}</td>"
                    f"<td class='num'>{e(value_text(r.expected, r.unit)) if r.expected is not None else '—'}</td>"
                    f"<td>{_badge(r.status)}</td><td class='note'>{e(r.note)}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _svg_body(svg: bytes) -> str:
    """The <svg> element of a matplotlib SVG file (no XML prolog or DOCTYPE)."""
    text = svg.decode("utf-8")
    return text[text.index("<svg"):]
