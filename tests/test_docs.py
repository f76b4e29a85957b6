"""Documentation checks (as sqlite-utils and datasette do): every registered `kb` command
has --help text and is mentioned in README.md."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cli.main import app
ROOT = Path(__file__).resolve().parent.parent

runner = CliRunner()


def _commands() -> list[str]:
    return sorted(get_command(app).commands)


def test_core_commands_are_registered():
    missing = {"ingest", "docs", "tree", "show", "clauses", "targets", "departments"} - set(_commands())
    assert not missing, f"commands not registered on cli.main.app: {sorted(missing)}"


@pytest.mark.parametrize("name", _commands())
def test_command_has_help(name):
    result = runner.invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    cmd = get_command(app).commands[name]
    assert (cmd.help or "").strip(), f"`kb {name}` has no help text; give the command a docstring"
    for p in cmd.params:
        if p.param_type_name == "option" and p.name != "help":
            assert (p.help or "").strip(), f"`kb {name}` option {p.opts} has no help text"


def test_every_command_is_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [n for n in _commands() if not re.search(rf"\bkb {re.escape(n)}\b", readme)]
    assert not missing, f"README.md does not mention: {', '.join('kb ' + n for n in missing)}"
