"""`kb remove DOC...`: thin over kb.build.remove_documents."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from cli.common import IndexOpt, JsonOpt, NoWaitOpt, emit_json, handle_errors, index_dir, print_changes, say
from cli.main import app


@app.command()
@handle_errors
def remove(docs: List[str] = typer.Argument(..., help="Ids of the documents to remove (`kb docs` lists them)."),
           no_wait: bool = NoWaitOpt, index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Remove documents from the index (a new generation; readers keep the old one until it is done)."""
    from kb.build import remove_documents

    report = remove_documents(docs, index_dir(index), wait=not no_wait, on_message=say)
    if json:
        return emit_json(report.to_dict())
    print_changes(report)
