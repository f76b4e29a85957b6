"""`kb cites`: thin over KnowledgeBase.cites; the 引用/被引用 lines shared with `kb show`."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cli.common import IndexOpt, JsonOpt, emit_json, handle_errors, open_kb, out
from cli.main import app


def cite_target(c) -> str:
    """Where a citation points: the cited path and id, the version in force at the citing
    date when it differs, or 未收录 (not in the knowledge base)."""
    if not c.doc_id:
        return "[dim]未收录 (not in the knowledge base)[/]"
    where = f"{c.short_path or c.doc_id} [dim]{c.clause_id or c.doc_id}[/]"
    if c.in_force_doc_id:
        where += f" [yellow](引用时施行的版本: {c.in_force_clause_id or c.in_force_doc_id})[/]"
    return where


def print_citations(cites: list, cited_by: list[str]) -> None:
    """The 引用 lines (text → target) and the 被引用 line (citing clause ids) of `kb show`."""
    for c in cites:
        out.print(f"[magenta]引用[/] {c.text} → {cite_target(c)}", highlight=False)
    if cited_by:
        out.print("[magenta]被引用[/] " + "  ".join(cited_by), highlight=False)


@app.command()
@handle_errors
def cites(key: str = typer.Argument(..., help="Document id, clause id, path (反家庭暴力法/第二十三条) or title."),
          index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """What a document or clause cites (引用, resolved or not) and what cites it (被引用)."""
    kb = open_kb(index)
    r = kb.cites(key)
    if json:
        return emit_json(r.to_dict())
    out.print(f"[bold cyan]{r.title}[/] [dim]{r.id}[/]", highlight=False)
    for name, rows, outgoing in (("引用", r.cites, True), ("被引用", r.cited_by, False)):
        t = Table(title=f"{name} ({len(rows)})", show_lines=False)
        for col in ("clause", "citation", "cited" if outgoing else "cites"):
            t.add_column(col, overflow="fold")
        for c in rows:
            t.add_row(f"{c.citing_short_path}\n[dim]{c.citing_clause_id}[/]", c.text,
                      cite_target(c) if outgoing else (c.short_path or c.doc_id or ""))
        out.print(t)
