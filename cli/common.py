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


def _reraise_broken_pipe() -> None:
    """rich turns a closed stdout into SystemExit(1); hand it to handle_errors instead (exit 141)."""
    raise BrokenPipeError


out.on_broken_pipe = _reraise_broken_pipe
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
NoWaitOpt = typer.Option(False, "--no-wait", help="Fail at once when another writer holds the index "
                         "(default: wait for it, saying who holds it).")
# kb ingest / kb reindex: the search backend (kb.retrievers) and, for Milvus, the server.
BackendOpt = typer.Option(None, "--backend", help="Search backend: embedded (bm25s + FAISS files, the default) "
                          "or milvus (milvus-lite in the index, or a Milvus server with --uri); recorded in the "
                          "index, so search, ask and serve use it without this option. Default: the index's own.")
UriOpt = typer.Option(None, "--uri", help="Milvus server address (http://HOST:19530) for --backend milvus; its "
                      "token comes from $KB_MILVUS_TOKEN, never from the command line. Default: milvus-lite.")

SIGPIPE_EXIT = 141  # what a shell reports for a Unix tool stopped by SIGPIPE (128 + 13)
INTERRUPT_EXIT = 130  # … and for one stopped by Ctrl-C (128 + SIGINT 2)


def say(message: str) -> None:
    """A progress message on stderr (e.g. whom a writer waits for)."""
    err.print(message, highlight=False)


def print_changes(report) -> None:
    """One line each for the documents an ingest or removal added, replaced (changed),
    found unchanged and removed."""
    same = set(getattr(report, "unchanged", ()))
    for label, ids in (("added", report.added), ("replaced", [i for i in report.replaced if i not in same]),
                       ("unchanged", [i for i in report.replaced if i in same]), ("removed", report.removed)):
        if ids:
            out.print(f"{label}: {', '.join(ids)}", highlight=False)
    if not (report.added or report.replaced or report.removed):
        out.print("no documents changed", highlight=False)


def rate_column():
    """A rich progress column with the task's rate ("12.3/s"; blank until rich knows it)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:.1f}/s" if task.speed else "", style="progress.data.speed")

    return RateColumn()


def print_stages(stages: dict[str, float]) -> None:
    """The seconds an ingest spent per stage, on one line (parse 1.2 s · tag 0.4 s · …)."""
    if stages:
        out.print("stages: " + " · ".join(f"{name} {secs:.1f} s" for name, secs in stages.items()), highlight=False)


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
    """Wrap a command: text arguments that are not valid UTF-8 are read as GB18030 with a
    warning, or refused saying so (see ``text_argument``); KbError becomes a one-line
    message on stderr and exit code 1; a closed stdout (``kb ask … | head``) ends the
    command quietly with exit code 141, as SIGPIPE ends Unix tools; Ctrl-C says that the
    index is unchanged and exits 130, as SIGINT ends them."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        kwargs = {name: text_argument(name, value) for name, value in kwargs.items()}
        try:
            result = fn(*args, **kwargs)
            sys.stdout.flush()
            return result
        except KbError as e:
            err.print(f"[bold red]error:[/] {e}", highlight=False)
            raise typer.Exit(1) from e
        except BrokenPipeError:
            _silence_stdout()
            raise typer.Exit(SIGPIPE_EXIT) from None
        except KeyboardInterrupt:
            err.print("interrupted: the index is as it was (a write commits whole or not at all); "
                      "kb ingest run again reuses the vectors already computed", highlight=False)
            raise typer.Exit(INTERRUPT_EXIT) from None

    return wrapper


def text_argument(name: str, value: Any) -> Any:
    """``value`` (a str, or a list of str) made valid text. Python hands over command-line
    bytes that are not UTF-8 as lone surrogates (PEP 383); those bytes are decoded as
    GB18030 (the usual other encoding of Chinese terminals) with a warning, and refused
    with typer.BadParameter when they are not GB18030 either. Paths are left alone:
    surrogates are how Python names files whose names are not UTF-8."""
    if isinstance(value, list):
        return [text_argument(name, v) for v in value]
    if not isinstance(value, str):
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    hint = f"--{name.replace('_', '-')}" if name not in ("query", "question", "docs", "doc", "id_or_path", "name") \
        else name.upper()
    try:
        raw = os.fsencode(value)
        fixed = raw.decode("gb18030")
    except UnicodeError:
        shown = value.encode("utf-8", "backslashreplace").decode("ascii", "replace")[:60]
        raise typer.BadParameter(f"is not valid UTF-8 or GB18030 text ({shown}); pass the text in UTF-8 "
                                 "(check the terminal's encoding, e.g. LANG=zh_CN.UTF-8)", param_hint=hint) from None
    err.print(f"[yellow]warning:[/] {hint} was not UTF-8; read it as GB18030: {fixed}", highlight=False)
    return fixed


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. under CliRunner)
        pass


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
