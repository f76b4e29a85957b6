"""`kb search` and `kb ask`: thin over KnowledgeBase.search / .ask."""
from __future__ import annotations

import json as jsonlib
import re
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from cli.common import IndexOpt, JsonOpt, emit_json, err, handle_errors, open_kb, out
from cli.filters import DocOpt, IssuerOpt, LevelOpt, TypeOpt, VersionsOpt, doc_filters
from cli.main import app
from cli.render import print_tags

ModeOpt = typer.Option("hybrid", "--mode", help="hybrid | bm25 | dense.")


@app.command()
@handle_errors
def search(query: Optional[str] = typer.Argument(None, help="Query in Chinese, e.g. 儿童溺水."),
           k: int = typer.Option(10, "-k", "--k", min=1, max=100, help="Number of hits."),
           plan: Optional[str] = typer.Option(None, "--plan", help="Exact plan short name (妇女/儿童)."),
           domain: Optional[str] = typer.Option(None, "--domain", help="Exact 发展领域."),
           section: Optional[str] = typer.Option(None, "--section", help="主要目标 or 策略措施."),
           department: Optional[str] = typer.Option(None, "--department", help="Body tagged on the clause."),
           year: Optional[int] = typer.Option(None, "--year", help="Target year of the clause."),
           mode: str = ModeOpt,
           doc: Optional[str] = DocOpt, doc_type: Optional[str] = TypeOpt, level: Optional[str] = LevelOpt,
           issuer: Optional[str] = IssuerOpt, versions: str = VersionsOpt,
           batch: Optional[Path] = typer.Option(None, "--batch", help="File with one query per line; "
                                                "prints one JSON array per line, in order."),
           index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Search clauses (hybrid BM25 + embeddings); filters are exact."""
    kb = open_kb(index)
    filters = dict(k=k, plan=plan, domain=domain, section=section, department=department, year=year, mode=mode,
                   **doc_filters(doc, doc_type, level, issuer, versions))
    if batch is not None:
        if query:
            raise typer.BadParameter("give either a QUERY or --batch FILE, not both")
        return _batch(kb, batch, filters)
    if not query or not query.strip():
        raise typer.BadParameter("give a QUERY (e.g. 儿童溺水) or --batch FILE")
    result = kb.search(query, **filters)
    if result.message:
        err.print(f"[yellow]{result.message}[/]", highlight=False)
    if json:
        return emit_json([h.to_dict() for h in result.hits])
    if not result.hits:
        err.print("未找到相关条款 (no matching clause)")
        return
    title = query if len(query) <= 40 else query[:40] + "…"
    t = Table(title=f"{title}  ({mode})", show_lines=True)
    for col in ("#", "path", "clause", "score"):
        t.add_column(col, overflow="fold")
    for i, h in enumerate(result.hits, 1):
        t.add_row(str(i), f"{h.place}\n[dim]{h.doc.doc_type + ' · ' if h.doc and h.doc.doc_type else ''}{h.clause.id}[/]", highlight(h.clause.text, h.matched_terms, 160),
                  f"{h.score:.4f}")
    out.print(t)


def _batch(kb, path: Path, filters: dict) -> None:
    """One JSON array of hits per input line (blank lines give []); UTF-8 or GB18030."""
    from kb.evaluate import read_lines

    for q in read_lines(path):
        hits = kb.search(q, **filters).hits if q.strip() else []
        sys.stdout.write(jsonlib.dumps([h.to_dict() for h in hits], ensure_ascii=False) + "\n")


def highlight(text: str, terms: list[str], limit: int = 0) -> Text:
    """Rich Text of ``text`` (cut to ``limit`` chars around the first match) with ``terms`` in bold yellow."""
    if limit and len(text) > limit:
        first = min((text.find(t) for t in terms if t in text), default=0)
        start = max(0, first - limit // 4)
        text = ("…" if start else "") + text[start:start + limit] + "…"
    rich = Text(text)
    for term in terms:
        rich.highlight_words([term], style="bold yellow")
    return rich


@app.command()
@handle_errors
def ask(question: str = typer.Argument(..., help="A question in Chinese, e.g. 2030年新生儿死亡率目标是多少"),
        doc: Optional[str] = DocOpt, doc_type: Optional[str] = TypeOpt, level: Optional[str] = LevelOpt,
        issuer: Optional[str] = IssuerOpt, versions: str = VersionsOpt,
        index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Answer a question: a target value, a structural fact, or the cited clauses."""
    if not question.strip():
        raise typer.BadParameter("give a question, e.g. 2030年新生儿死亡率目标是多少")
    kb = open_kb(index)
    a = kb.ask(question, **doc_filters(doc, doc_type, level, issuer, versions))
    if json:
        return emit_json(a.to_dict())
    if a.answer:
        style = "bold green" if a.confident else "bold yellow"
        out.print(Text(a.answer, style=style))
    if not a.confident and a.hits:
        out.print("[dim]低置信度的相关条款 (low-confidence suggestions):[/]")
    for h in a.hits[:5]:
        c = h.clause
        crumb = " › ".join(x for x in (c.plan and plan_name(c), c.domain or c.part, c.section,
                                       str(c.number) if c.number else None) if x) if c.plan else h.place
        if h.doc and h.doc.doc_type:
            crumb = f"{crumb} ({h.doc.doc_type})"
        out.print(f"\n[bold cyan]{crumb}[/]  [dim]{c.id}[/]", highlight=False)
        if c.heading:
            out.print(f"[bold]{c.heading}[/]", highlight=False)
        out.print(highlight(c.text, h.matched_terms, 300))
        print_tags(c)


def plan_name(c) -> str:
    """The plan's own title without its period (曾都区儿童发展规划(2021—2030年) → 曾都区儿童发展规划),
    never a name made up from its short key."""
    return re.sub(r"\s*[(（][^()（）]*[)）]\s*$", "", c.plan_title) if c.plan_title else c.plan
