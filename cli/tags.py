"""`kb targets` and `kb departments`: the numeric targets and responsible bodies tagged on
clauses (issue 3). Each command is the ``KnowledgeBase`` call of the same name plus output
formatting; see ``kb.base.KnowledgeBase.targets`` / ``departments`` / ``department``."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from cli.common import IndexOpt, JsonOpt, emit_json, err, handle_errors, open_kb, out
from cli.filters import DocOpt, IssuerOpt, LevelOpt, TypeOpt, VersionsOpt, doc_filters
from cli.main import app
from kb.errors import KbError


@app.command()
@handle_errors
def targets(plan: Optional[str] = typer.Option(None, "--plan", help="Plan short name, e.g. 儿童."),
            domain: Optional[str] = typer.Option(None, "--domain", help="发展领域, e.g. 儿童与健康."),
            year: Optional[int] = typer.Option(None, "--year", help="Target year, e.g. 2025 or 2030."),
            indicator: Optional[str] = typer.Option(None, "--indicator", help="Part of an indicator name, e.g. 近视率."),
            csv: Optional[Path] = typer.Option(None, "--csv", help="Write the targets to this CSV file "
                                               "(UTF-8 with BOM, opens in Excel with Chinese intact).",
                                               dir_okay=False),
            doc: Optional[str] = DocOpt, doc_type: Optional[str] = TypeOpt, level: Optional[str] = LevelOpt,
            issuer: Optional[str] = IssuerOpt, versions: str = VersionsOpt,
            index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """List numeric (and direction-only) targets: a table, --json objects with clause_id, or --csv FILE."""
    kb = open_kb(index)
    filters = dict(plan=plan, domain=domain, year=year, indicator=indicator,
                   **doc_filters(doc, doc_type, level, issuer, versions))
    rows = kb.targets(**filters)
    if csv is not None:
        _write_csv(csv, kb.targets_csv(**filters))
        err.print(f"wrote {len(rows)} targets to {csv}", highlight=False)
    if json:
        return emit_json([t.to_dict() for t in rows])
    if csv is not None:
        return
    if not rows:
        err.print("no targets match these filters; `kb targets` lists them all", highlight=False)
        return
    several = len({r.doc_id for r in rows}) > 1  # the same path then names a clause in each document
    t = Table(title=f"{len(rows)} targets")
    for col in ("document",) * several + ("path", "indicator", "comparator", "value", "year ((…) = plan end)", "qualifier"):
        t.add_column(col, overflow="fold")
    for r in rows:
        year = str(r.year) if r.year else (f"({r.year_implied})" if r.year_implied else "")
        t.add_row(*(r.doc_id or "",) * several, r.short_path or r.clause_id or "", r.indicator, r.comparator_display(),
                  r.value_display(), year, r.qualifier or "")
    out.print(t)


def _write_csv(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 with BOM; an unwritable path becomes a KbError."""
    try:
        path.write_text(text, encoding="utf-8-sig", newline="")
    except OSError as e:
        raise KbError(f"cannot write {path}: {e.strerror}; check the folder exists and is writable") from e


@app.command()
@handle_errors
def departments(name: Optional[str] = typer.Argument(
                    None, help="A body (区教育局), alias (卫健) or group (公检法司); omit to list all bodies."),
                doc: Optional[str] = DocOpt, doc_type: Optional[str] = TypeOpt, level: Optional[str] = LevelOpt,
                issuer: Optional[str] = IssuerOpt, versions: str = VersionsOpt,
                index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """List responsible bodies with clause counts, or one body's clauses (explicit first).

    An unknown name exits 1 and suggests close names. A name standing for several bodies
    (区妇儿工委及其办公室, 公检法司) shows each; with --json that is a list of objects."""
    kb = open_kb(index)
    filters = doc_filters(doc, doc_type, level, issuer, versions)
    if name is None:
        rows = kb.departments(**filters)
        if json:
            return emit_json(rows)
        return _print_bodies(rows)
    found = kb.departments_named(name, **filters)
    if json:
        return emit_json(found[0] if len(found) == 1 else found)
    for body in found:
        _print_body(body)


def _print_bodies(rows: list[dict[str, Any]]) -> None:
    t = Table(title=f"{len(rows)} bodies (clauses naming them / inferred from subject matter)")
    for col, justify in (("body", "left"), ("type", "left"), ("explicit", "right"), ("inferred", "right")):
        t.add_column(col, justify=justify)
    for r in rows:
        t.add_row(r["name"], r.get("type") or "", str(r["explicit"]), str(r["inferred"]))
    out.print(t)


def _print_body(body: dict[str, Any]) -> None:
    clauses = body["clauses"]
    n_exp = sum(1 for c in clauses if c["explicit"])
    if not clauses:
        err.print(f"no clauses tag {body['name']}", highlight=False)
        return
    n_law = sum(1 for c in clauses if c.get("unit") == "article")
    t = Table(title=f"{body['name']}: {n_exp} explicit, {len(clauses) - n_exp} inferred clauses"
              + (f" ({len(clauses) - n_law} plan clauses, {n_law} law articles)" if n_law else ""))
    for col in ("path", "role", "evidence", "text"):
        t.add_column(col, overflow="fold")
    for c in clauses:
        how = c["evidence"] if c["explicit"] else f"推断:{c['cue']}"
        role = ("★lead" if c["role"] == "lead" else c["role"]) if c["explicit"] else "inferred"
        text = c["text"].replace("\n", " ")
        t.add_row(c.get("place") or c["short_path"], role, how or "", text[:60] + ("…" if len(text) > 60 else ""))
    out.print(t)
