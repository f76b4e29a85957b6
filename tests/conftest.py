"""Shared fixtures: the real seed document and the development gold data."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"
# Gold data lives beside the repository (../shared/eval); a copy under tests/ is not kept.
EVAL = Path(__import__("os").environ.get("KB_EVAL_DIR", ROOT.parent / "shared" / "eval"))


@pytest.fixture(scope="session")
def seed_doc():
    from kb.parse import parse_file

    return parse_file(SEED)
