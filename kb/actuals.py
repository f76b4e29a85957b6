"""Actual values (监测数据) of the plans' indicators: import a statistics office's table,
match its rows to the knowledge base's indicators, and keep them beside the index.

A file is CSV (UTF-8 with or without BOM, or GB18030) or .xlsx (first sheet), one row per
indicator and year, in any column order, with a header row (``HEADERS``: 指标/指标名称/
indicator, 年份/year, 数值/值/value, 单位/unit, 地区/region, 来源/source; 备注/note is read
and ignored). Each row's indicator is matched (``IndicatorNames.match``) by its name as the
plans write it, by a synonym (the plans' own wording and ``kb/data/indicator_synonyms.yaml``)
or by a close match (rapidfuzz ratio ≥ ``CLOSE_MATCH["score"]``, reported). Units are read
by ``parse_unit`` (%, ‰, 1/10万, 万分之一, per 100000 …) and stored with the value as a
fraction of 1 for rates.

A file is all or nothing: any unmatched or malformed row rejects it with every problem
listed by row number (:class:`kb.errors.ActualsRejected`), and nothing is stored.
Re-importing the same (indicator, year, region, source) replaces the stored value.

Storage: ``INDEX/actuals.sqlite`` beside ``manifest.json``, outside the index generations,
so re-ingesting and ``kb ingest --rebuild`` keep it; writes hold ``kb.lock.writer_lock``.
"""
from __future__ import annotations

import csv
import io
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from kb.errors import ActualsRejected, InputError
from kb.plans import PlanInfo, region_matches
from kb.targets import normalize_indicator

STORE_FILE = "actuals.sqlite"
SYNONYMS_FILE = Path(__file__).parent / "data" / "indicator_synonyms.yaml"

# Column → header names as statistics offices write them (compared lower-case, without
# spaces, brackets or the unit in brackets: "数值(%)" reads as 数值).
HEADERS = {
    "indicator": ("指标", "指标名称", "监测指标", "指标项", "项目", "indicator", "indicatorname", "name"),
    "year": ("年份", "年度", "年", "统计年度", "year"),
    "value": ("数值", "值", "实际值", "监测值", "数据", "value", "actual", "actualvalue"),
    "unit": ("单位", "计量单位", "unit"),
    "region": ("地区", "区域", "行政区划", "region", "area"),
    "source": ("来源", "数据来源", "报送单位", "source"),
    "note": ("备注", "说明", "注", "note", "notes", "remark", "remarks"),
}
REQUIRED = ("indicator", "year", "value")
# Close matches: best rapidfuzz ``fuzz.ratio`` (0–100) at least ``score`` and ahead of the
# runner-up by ``margin``, else the row is reported unmatched with the candidates. Set on
# the seed's indicators so that 农村无害化卫生厕所普及率 → 农村卫生厕所普及率 (85.7) and
# 孕产妇艾滋病病毒检测率 → 孕产妇艾滋病检测率 (90) match, while 儿童死亡率 (80 against
# 婴儿死亡率) and 孕产妇梅毒检测比例 (82) are reported with their candidates.
CLOSE_MATCH = {"score": 85.0, "margin": 5.0, "suggest": 60.0}
# Denominators of rate units as ``kb.targets`` writes them; anything else is a count unit.
RATE_DENOM = {"%": 100, "‰": 1000, "1/10000": 10_000, "1/100000": 100_000, "1/1000000": 1_000_000}
_NUMBER_WORDS = {"百": 100, "千": 1000, "万": 10_000, "十万": 100_000, "百万": 1_000_000}
_NO_VALUE = {"", "—", "-", "–", "…", "...", "/", "na", "n/a", "无", "暂无", "缺", "空"}


@dataclass
class Actual:
    """One stored actual value.

    ``indicator`` is the knowledge base's indicator (the group key of
    ``IndicatorNames``); ``name`` the row's wording. ``value`` and ``unit`` are as imported
    (unit normalised: ``%``, ``‰``, ``1/10000``, ``1/100000`` or a count unit such as 个);
    ``value_normalized`` is a rate as a fraction of 1 (8.5 1/100000 → 8.5e-05), None for
    counts. ``region`` is the plan area the row applies to; ``source`` "" when not given.
    Provenance: ``file``, ``row`` (1-based, header = row 1), ``imported_at`` (ISO, UTC),
    ``match`` (exact | synonym | close).
    """

    indicator: str
    year: int
    value: float
    unit: Optional[str]
    value_normalized: Optional[float]
    region: str
    source: str = ""
    name: str = ""
    file: str = ""
    row: int = 0
    imported_at: str = ""
    match: str = "exact"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def in_unit(self, unit: Optional[str]) -> Optional[float]:
        """The value in ``unit`` (a rate unit converts: 0.85‰ in % is 0.085); None when the
        units cannot convert (a count asked as a rate, or 个 as 名)."""
        if unit in RATE_DENOM:
            return None if self.value_normalized is None else float(f"{self.value_normalized * RATE_DENOM[unit]:.10g}")
        if unit is None or self.unit in (None, unit):
            return self.value
        return None


@dataclass
class RowMatch:
    """How one row's indicator was matched: ``how`` exact | synonym | close, ``score`` 0–100."""

    row: int
    name: str
    indicator: str
    how: str
    score: float = 100.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportReport:
    """Result of an import: ``stored`` rows (``replaced`` of them replaced earlier values),
    ``skipped`` rows with no value ([(row, reason)]), and every non-exact ``matches``."""

    file: str
    stored: int
    replaced: int
    regions: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    matches: list[RowMatch] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    assumed_units: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "stored": self.stored, "replaced": self.replaced, "regions": self.regions,
                "years": self.years, "matches": [m.to_dict() for m in self.matches],
                "skipped": [{"row": r, "reason": why} for r, why in self.skipped],
                "assumed_units": [{"row": r, "unit": u} for r, u in self.assumed_units]}


# ---------------------------------------------------------------------- units
def parse_unit(text: Optional[str]) -> Optional[str]:
    """A unit as statistics tables write it → the unit as ``kb.targets`` writes it.

    >>> [parse_unit(u) for u in ["％", "千分率", "1/10万", "十万分之一", "/万", "per 100,000", "个", ""]]
    ['%', '‰', '1/100000', '1/100000', '1/10000', '1/100000', '个', None]
    """
    u = unicodedata.normalize("NFKC", text or "").strip().lower().replace(",", "").replace(" ", "")
    u = u.strip("()（）[]")
    if not u:
        return None
    if u in ("%", "百分比", "百分率", "percent", "pct"):
        return "%"
    if u in ("‰", "千分率", "permille", "permil"):
        return "‰"
    m = re.fullmatch(r"(?:1?/|per|每)(\d+|\d*十?[百千万]+)(?:人|例|活产|名)?", u) or \
        re.fullmatch(r"(十万|百万|万|千|百)分之一?", u)
    if m:
        denom = _denominator(m[1])
        if denom is not None:
            return {100: "%", 1000: "‰"}.get(denom, f"1/{denom}")
    return u


def _denominator(s: str) -> Optional[int]:
    if s.isdigit():
        return int(s)
    m = re.fullmatch(r"(\d*)(十?[百千万]+)", s)
    if not m or m[2] not in _NUMBER_WORDS:
        return None
    return int(m[1] or 1) * _NUMBER_WORDS[m[2]]


def split_unit(name: str) -> tuple[str, Optional[str]]:
    """An indicator name with its unit in brackets → (name, unit): 孕产妇死亡率(1/10万) →
    ('孕产妇死亡率', '1/100000'); a bracket that is no unit stays in the name."""
    m = re.fullmatch(r"(.+?)\s*[(（\[]\s*([^()（）\[\]]{1,12})\s*[)）\]]\s*", unicodedata.normalize("NFKC", name))
    if m:
        unit = parse_unit(m[2])
        if unit in RATE_DENOM or unit in ("个", "名", "所", "张", "人", "岁", "次"):
            return m[1], unit
    return name, None


def parse_number(text: Any) -> tuple[Optional[float], Optional[str]]:
    """A cell → (number, unit written with it): "82.5%" → (82.5, '%'), "1,234" → (1234.0, None).
    Raises ValueError for text that is not a number."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text), None
    s = unicodedata.normalize("NFKC", str(text)).strip().replace(",", "")
    m = re.fullmatch(r"([-+]?\d+(?:\.\d+)?)\s*(%|‰|/10万|/万)?", s)
    if not m:
        raise ValueError(s)
    return float(m[1]), parse_unit(m[2]) if m[2] else None


# ---------------------------------------------------------------------- reading
@dataclass
class Table:
    """A file's header and data rows; ``rows`` are (row number as a spreadsheet shows it, cells)."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]


def read_table(path: Path, data: Optional[bytes] = None) -> Table:
    """Read a .csv (UTF-8, UTF-8 with BOM or GB18030) or .xlsx file. Raises InputError for
    another format, an undecodable CSV or an empty file."""
    suffix = path.suffix.lower()
    raw = path.read_bytes() if data is None else data
    if suffix == ".xlsx":
        grid = _xlsx_rows(path, raw)
    elif suffix in (".csv", ".txt"):
        grid = list(csv.reader(io.StringIO(_decode(path, raw))))
    else:
        raise InputError(f"{path.name}: actual values must be a .csv or .xlsx file, not {suffix or 'no extension'}")
    numbered = [(i, row) for i, row in enumerate(grid, start=1) if any(str(c).strip() for c in row if c is not None)]
    if not numbered:
        raise InputError(f"{path.name} is empty: give a header row (指标, 年份, 数值…) and one row per indicator and year")
    (_, header), rest = numbered[0], numbered[1:]
    if not rest:
        raise InputError(f"{path.name} has a header row and no data: add one row per indicator and year under it")
    return Table([str(h or "").strip() for h in header], rest)


def _decode(path: Path, raw: bytes) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path.name} is neither UTF-8 nor GB18030 text; save it as CSV UTF-8 from Excel")


def _xlsx_rows(path: Path, raw: bytes) -> list[list[Any]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise InputError(f"{path.name} is not a readable .xlsx workbook ({e}); save it again from Excel") from e
    try:
        return [[_xlsx_value(c) for c in r] for r in wb.worksheets[0].iter_rows()]
    finally:
        wb.close()


def _xlsx_value(cell: Any) -> Any:
    """A cell's value as the sheet shows it: a number formatted as a percentage (0.825 shown
    as 82.5%) becomes "82.5%", so that its unit is read with it, not guessed 100× too small."""
    v = getattr(cell, "value", None)
    if isinstance(v, (int, float)) and not isinstance(v, bool) and "%" in (getattr(cell, "number_format", "") or ""):
        return f"{v * 100:.10g}%"
    return v


def map_columns(header: list[str], name: str = "file") -> dict[str, int]:
    """Column index of each known column. Raises ActualsRejected naming the expected headers
    when a header is not recognised or a required column (indicator, year, value) is missing."""
    known = {_header_key(h): col for col, names in HEADERS.items() for h in names}
    cols: dict[str, int] = {}
    unknown = []
    for i, h in enumerate(header):
        col = known.get(_header_key(h))
        if col is None:
            if h:
                unknown.append(h)
        elif col not in cols:
            cols[col] = i
    missing = [c for c in REQUIRED if c not in cols]
    if unknown or missing:
        expected = "; ".join(f"{c}: {'/'.join(HEADERS[c][:4])}" for c in HEADERS)
        what = []
        if missing:
            what.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            what.append(f"unrecognised header(s) {', '.join(repr(u) for u in unknown)}")
        raise ActualsRejected(f"{name}: {' and '.join(what)}; nothing stored. Expected headers — {expected} "
                              "(indicator, year and value are required)", [(1, "; ".join(what))])
    return cols


def _header_key(h: str) -> str:
    s = unicodedata.normalize("NFKC", h or "").strip().lower()
    s = re.sub(r"[(\[（].*?[)\]）]", "", s)
    return re.sub(r"[\s_\-:：*]", "", s)


# ---------------------------------------------------------------------- indicator names
class IndicatorNames:
    """Indicator groups of a knowledge base: every name (the plans' wording, normalised, and
    the lexicon's synonyms) → group key, for the indicators that have targets.

    ``match(name)`` → (key, how, score) or None. The key of a lexicon group is its entry's
    key; an indicator in no group is its own key.
    """

    def __init__(self, indicators: Iterable[str], synonyms: Optional[dict[str, list[str]]] = None):
        syn = load_synonyms() if synonyms is None else synonyms
        group = {}
        for key, names in syn.items():
            for n in [key, *names]:
                group[_name_key(n)] = normalize_indicator(key)
        self.keys: set[str] = set()
        self.names: dict[str, tuple[str, str]] = {}   # name → (key, exact | synonym)
        for ind in indicators:
            k = group.get(_name_key(ind), normalize_indicator(ind))
            self.keys.add(k)
            self.names[_name_key(ind)] = (k, "exact")
        for n, k in group.items():
            if k in self.keys and n not in self.names:
                self.names[n] = (k, "synonym")

    def key_of(self, indicator: str) -> str:
        """The group key of a target's indicator (its own name when in no group)."""
        hit = self.names.get(_name_key(indicator))
        return hit[0] if hit else normalize_indicator(indicator)

    def match(self, name: str) -> tuple[Optional[str], str, float, list[str]]:
        """(key or None, how, score, candidates): exact / synonym / close, or None with up to
        three candidate names when nothing is close enough or two are equally close."""
        from rapidfuzz import fuzz, process

        n = _name_key(name)
        if n in self.names:
            key, how = self.names[n]
            return key, how, 100.0, []
        found = process.extract(n, list(self.names), scorer=fuzz.ratio, limit=5)
        best = [(c, s) for c, s, _ in found]
        if best and best[0][1] >= CLOSE_MATCH["score"]:
            runner = next((s for c, s in best[1:] if self.names[c][0] != self.names[best[0][0]][0]), 0.0)
            if best[0][1] - runner >= CLOSE_MATCH["margin"]:
                return self.names[best[0][0]][0], "close", round(best[0][1], 1), []
        return None, "", 0.0, [c for c, s in best[:3] if s >= CLOSE_MATCH["suggest"]]


def _name_key(s: str) -> str:
    return normalize_indicator(s).lower()


def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, list[str]]:
    """The lexicon: {indicator as the plans write it: [other names]}. Raises InputError for a
    file that is not such a mapping."""
    import yaml

    data = yaml.safe_load(path.read_text("utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise InputError(f"{path}: expected a mapping of indicator → list of names")
    return {str(k): [str(x) for x in v] for k, v in data.items()}


# ---------------------------------------------------------------------- import
@dataclass
class Catalog:
    """What an import checks rows against: the knowledge base's plans, the indicator names,
    and for each (group key, plan area) the units its targets are written in."""

    plans: list[PlanInfo]
    names: IndicatorNames
    units: dict[tuple[str, str], set[Optional[str]]]


def parse_rows(table: Table, catalog: Catalog, file: str, plan: Optional[str] = None,
               imported_at: Optional[str] = None) -> tuple[list[Actual], ImportReport]:
    """Rows of ``table`` → actual values. Raises ActualsRejected listing every bad row."""
    cols = map_columns(table.header, file)
    when = imported_at or datetime.now(timezone.utc).isoformat(timespec="seconds")
    plans = [p for p in catalog.plans if plan is None or p.key == plan]
    if plan is not None and not plans:
        known = ", ".join(sorted({p.key for p in catalog.plans}))
        raise ActualsRejected(f"{file}: no plan {plan!r}; known plans: {known}; nothing stored")
    problems: list[tuple[int, str]] = []
    out: list[Actual] = []
    report = ImportReport(file=file, stored=0, replaced=0)
    seen: dict[tuple, int] = {}
    for row_no, cells in table.rows:
        cell = {c: _cell(cells, i) for c, i in cols.items()}
        try:
            actual = _row(row_no, cell, catalog, plans, file, when, report)
        except ValueError as e:
            problems.append((row_no, str(e)))
            continue
        if actual is None:
            continue
        key = (actual.indicator, actual.year, actual.region, actual.source)
        if key in seen:
            problems.append((row_no, f"same indicator, year, region and source as row {seen[key]}"))
            continue
        seen[key] = row_no
        out.append(actual)
    if problems:
        listing = "\n".join(f"  row {r}: {msg}" for r, msg in problems)
        raise ActualsRejected(f"{file}: {len(problems)} row(s) rejected, nothing stored; fix them and import "
                              f"the file again:\n{listing}", problems)
    report.regions = sorted({a.region for a in out})
    report.years = sorted({a.year for a in out})
    return out, report


def _cell(cells: list[Any], i: int) -> Any:
    v = cells[i] if i < len(cells) else None
    return v.strip() if isinstance(v, str) else v


def _row(row_no: int, cell: dict[str, Any], catalog: Catalog, plans: list[PlanInfo], file: str, when: str,
         report: ImportReport) -> Optional[Actual]:
    """One row → Actual, None for a row with no value (recorded as skipped); ValueError
    with the message to show for a bad row."""
    raw_name = str(cell.get("indicator") or "").strip()
    if not raw_name:
        raise ValueError("no indicator name")
    name, name_unit = split_unit(raw_name)
    value_cell = cell.get("value")
    if value_cell is None or str(value_cell).strip().lower() in _NO_VALUE:
        report.skipped.append((row_no, f"{raw_name}: no value"))
        return None
    year = _year(cell.get("year"))
    try:
        value, inline_unit = parse_number(value_cell)
    except ValueError:
        raise ValueError(f"value {str(value_cell)!r} of {raw_name} is not a number") from None
    key, how, score, candidates = catalog.names.match(name)
    if key is None:
        hint = f"; close names: {', '.join(candidates)}" if candidates else ""
        raise ValueError(f"unknown indicator {raw_name!r}: no target of the plans has it{hint} "
                         "(add a synonym to kb/data/indicator_synonyms.yaml if it is the same statistic)")
    region = _region(str(cell.get("region") or "").strip(), plans, catalog, key)
    unit = _unit(row_no, raw_name, parse_unit(str(cell.get("unit") or "")), inline_unit, name_unit,
                 catalog.units.get((key, region), set()), report)
    if how != "exact":
        report.matches.append(RowMatch(row_no, raw_name, key, how, score))
    _check_rate(raw_name, value, unit)
    normalized = value / RATE_DENOM[unit] if unit in RATE_DENOM else None
    return Actual(key, year, value, unit, normalized, region, str(cell.get("source") or "").strip(), raw_name,
                  file, row_no, when, how)


def _check_rate(name: str, value: float, unit: Optional[str]) -> None:
    """ValueError for a rate no statistic can have: below 0, or above the whole (100%, 1000‰)
    — except a gross ratio (毛入园率 counts pupils of every age) above it and a growth or
    difference (增长率, 差距) below 0."""
    if unit not in RATE_DENOM:
        return
    whole = RATE_DENOM[unit]
    if value < 0 and not re.search(r"增长|增速|变化|差", name):
        raise ValueError(f"{name}: {value:g}{unit} is below 0; a rate cannot be negative")
    if value > whole and not re.search(r"毛|增长|增速|变化|比上年", name):
        raise ValueError(f"{name}: {value:g}{unit} is more than the whole ({whole}{unit}); "
                         "is the value a count, or in another unit?")


def _year(v: Any) -> int:
    if isinstance(v, date):  # a date cell of a spreadsheet (datetime too): its year
        return _year(v.year)
    s = unicodedata.normalize("NFKC", str(v if v is not None else "")).strip()
    s = re.sub(r"(?:\.0+)?\s*年?(?:度|底|末)?$", "", s)
    if not re.fullmatch(r"\d{4}", s) or not 1949 <= int(s) <= 2100:
        raise ValueError(f"year {v!r} is not a year such as 2023")
    return int(s)


def _region(region: str, plans: list[PlanInfo], catalog: Catalog, key: str) -> str:
    areas = sorted({p.area for p in plans})
    if region:
        hits = [a for a in areas if region_matches(region, a)]
        if len(hits) != 1:
            raise ValueError(f"region {region!r} is not the area of {'any' if not hits else 'exactly one'} plan "
                             f"(areas: {', '.join(areas)})")
        area = hits[0]
    elif len(areas) == 1:
        area = areas[0]
    else:
        raise ValueError(f"no 地区 and the plans cover several areas ({', '.join(areas)}): "
                         "add a 地区/region column or import with --plan")
    if (key, area) not in catalog.units:
        raise ValueError(f"{key} has no target in the plans of {area}")
    return area


def _unit(row_no: int, name: str, given: Optional[str], inline: Optional[str], in_name: Optional[str],
          target_units: set[Optional[str]], report: ImportReport) -> Optional[str]:
    written = [u for u in (given, inline, in_name) if u]
    if len(set(written)) > 1:
        raise ValueError(f"{name}: units disagree ({', '.join(dict.fromkeys(written))})")
    unit = written[0] if written else None
    rates = {u for u in target_units if u in RATE_DENOM}
    counts = {u for u in target_units if u and u not in RATE_DENOM and u != "个百分点"}
    if unit is None:
        if len(target_units - {None}) == 1:
            unit = next(iter(target_units - {None}))
            report.assumed_units.append((row_no, unit))
            return unit
        if not target_units - {None}:
            return None
        raise ValueError(f"{name}: no unit, and its targets use several ({', '.join(sorted(u for u in target_units if u))}); "
                         "add a 单位/unit column")
    if unit in RATE_DENOM and (rates or not counts):
        return unit
    if unit not in RATE_DENOM and (unit in counts or not (rates or counts)):
        return unit
    expected = ", ".join(sorted(u for u in target_units if u))
    raise ValueError(f"{name}: unit {unit!r} does not fit its targets ({expected})")


# ---------------------------------------------------------------------- store
class ActualsStore:
    """``INDEX/actuals.sqlite``: table ``actuals`` keyed (indicator, year, region, source)."""

    SCHEMA = ("CREATE TABLE IF NOT EXISTS actuals (indicator TEXT NOT NULL, year INTEGER NOT NULL, "
              "region TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', value REAL NOT NULL, unit TEXT, "
              "value_normalized REAL, name TEXT, file TEXT, row INTEGER, imported_at TEXT, match TEXT, "
              "PRIMARY KEY (indicator, year, region, source))")

    def __init__(self, index_dir: str | Path):
        self.path = Path(index_dir) / STORE_FILE

    def all(self, indicator: Optional[str] = None, year: Optional[int] = None) -> list[Actual]:
        """Stored values (``year``: up to and including it), by indicator, region, year, source."""
        if not self.path.exists():
            return []
        with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM actuals ORDER BY indicator, region, year, source").fetchall()
        out = [Actual(**dict(r)) for r in rows]
        return [a for a in out if (indicator is None or indicator in (a.indicator, a.name))
                and (year is None or a.year <= year)]

    def write(self, actuals: list[Actual]) -> int:
        """Insert or replace ``actuals`` in one transaction; returns how many replaced a
        stored value. Call it inside ``writer_lock`` (see ``import_file``)."""
        db = sqlite3.connect(self.path)
        try:
            db.execute(self.SCHEMA)
            cols = list(Actual.__dataclass_fields__)
            with db:
                replaced = sum(db.execute("SELECT count(*) FROM actuals WHERE indicator=? AND year=? AND region=? "
                                          "AND source=?", (a.indicator, a.year, a.region, a.source)).fetchone()[0]
                               for a in actuals)
                db.executemany(f"INSERT OR REPLACE INTO actuals ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                               [tuple(getattr(a, c) for c in cols) for a in actuals])
        finally:
            db.close()
        return replaced


def import_file(path: Path, index_dir: Path, catalog: Catalog, plan: Optional[str] = None,
                data: Optional[bytes] = None, shown_name: Optional[str] = None,
                on_message: Optional[Callable[[str], None]] = None, wait: bool = True) -> ImportReport:
    """Read, check and store one file of actual values (see the module docstring).

    ``data`` gives the file's bytes when they are not on disk (an upload); ``shown_name``
    is the name stored as provenance and used in messages. Raises InputError for an
    unreadable file, ActualsRejected (nothing stored) for bad rows, IndexLocked when
    ``wait=False`` and another writer holds the index."""
    from kb.lock import writer_lock

    name = shown_name or path.name
    table = read_table(path if shown_name is None else Path(name), data if data is not None else path.read_bytes())
    actuals, report = parse_rows(table, catalog, name, plan)
    if actuals:
        with writer_lock(index_dir, wait=wait, on_message=on_message, command=f"kb actuals import {name}"):
            report.replaced = ActualsStore(index_dir).write(actuals)
    report.stored = len(actuals)
    return report
