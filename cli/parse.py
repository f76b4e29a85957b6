"""`kb parse`: read and parse files without writing anything — the tree each document would
get, to check a file before ingesting it. ``--json`` gives the documents as a list of
``{id, title, grammar, grammar_reason, doc_type, issuer, doc_number, dates, validity, meta,
warnings, clauses}`` (clauses as ``kb clauses --json``)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.tree import Tree

from cli.common import JsonOpt, emit_json, err, handle_errors, out
from cli.main import _node_label, app
from kb.errors import InputError, KbError


@app.command("parse")
@handle_errors
def parse_cmd(paths: List[Path] = typer.Argument(..., help="Files or folders to parse."),
              grammar: Optional[str] = typer.Option(None, "--grammar", help="plan, law or notice "
                                                    "(default: chosen per document from its headings)."),
              depth: Optional[int] = typer.Option(3, "--depth", min=1, help="Tree levels to show (text output)."),
              allow_unstructured: bool = typer.Option(False, "--allow-unstructured",
                                                      help="Accept text with no structure as paragraphs."),
              json: bool = JsonOpt) -> None:
    """Parse files and show their trees; nothing is written. Exit 1 when a file fails."""
    from kb.build import collect_paths
    from kb.parse import parse_file

    docs, errors = [], []
    for f in collect_paths(paths):
        try:
            docs.append(parse_file(f, grammar=grammar, allow_unstructured=allow_unstructured))
        except KbError as e:
            errors.append(str(e))
    if json:
        emit_json([d.to_dict() for d in docs])
    else:
        for d in docs:
            _print_document(d, depth)
    for e in errors:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
    if errors:
        raise InputError(f"{len(errors)} of {len(errors) + len(docs)} file(s) could not be parsed (see above)")


def _print_document(doc, depth: Optional[int]) -> None:
    dates = {k: v for k, v in doc.dates.items() if v}
    out.print(f"[bold]{doc.title or '(no title)'}[/]  [dim]{doc.id}[/]", highlight=False)
    out.print(f"  grammar {doc.grammar} ({doc.grammar_reason}); type {doc.doc_type or '?'}; issuer {doc.issuer or '?'}"
              f"; 文号 {doc.doc_number or '—'}; level {doc.level or '?'}; dates {dates or '—'}; "
              f"{len(doc.clauses)} clauses", highlight=False)
    branches: dict[str, Tree] = {}
    root = None
    for n in doc.nodes:
        if depth is not None and n.kind != "document" and len(n.path) > depth:
            continue
        label = _node_label(n)
        if n.parent_id in branches:
            branches[n.id] = branches[n.parent_id].add(label)
        elif root is None:
            root = branches[n.id] = Tree(label)
    if root is not None:
        out.print(root)
    for w in doc.warnings:
        err.print(f"[yellow]warning:[/] {doc.source}: {w}", highlight=False)
