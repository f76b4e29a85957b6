"""Shared CLI plumbing: options every command takes, JSON/err output, error translation."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import typer
from rich.console import Console

from kb.errors import KbError

err = Console(stderr=True)
out = Console()
PIPE_WIDTH = 160


def set_widths() -> None:
    """Piped output is not cut to rich's default 80 columns, so tables keep their Chinese
    labels whole; an explicit $COLUMNS wins. Called once per command invocation."""
    for console, stream in ((out, sys.stdout), (err, sys.stderr)):
        if not stream.isatty():
            columns = os.environ.get("COLUMNS", "")
            console.width = int(columns) if columns.isdigit() else PIPE_WIDTH

IndexOpt = typer.Option(None, "--index", help="Index directory [env KB_INDEX; default index/].",
                        show_default=False)
JsonOpt = typer.Option(False, "--json", help="Print JSON to stdout (messages go to stderr).")


def index_dir(value: Path | None) -> Path:
    """--index, else $KB_INDEX, else ./index."""
    return Path(value or os.environ.get("KB_INDEX") or "index")


def emit_json(data: Any) -> None:
    """Write ``data`` as UTF-8 JSON to stdout (Chinese kept readable)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")


def _default(o: Any) -> Any:
    if hasattr(o, "to_dict"):
        return o.to_dict()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def handle_errors(fn: Callable) -> Callable:
    """Turn KbError into a one-line message on stderr and exit code 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except KbError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False)
            raise typer.Exit(1) from e

    return wrapper


def open_kb(index: Path | None):
    """KnowledgeBase at --index / $KB_INDEX / index/; IndexMissing says which one was used."""
    from kb.base import KnowledgeBase
    from kb.errors import IndexMissing

    try:
        return KnowledgeBase.open(index_dir(index))
    except IndexMissing as e:
        if index is None and os.environ.get("KB_INDEX"):
            raise IndexMissing(f"{e} (the path came from $KB_INDEX)") from e
        raise
