"""The real `kb` process given hostile input: command-line bytes that are not UTF-8, a stdout
closed early (`kb … | head`), queries of any length and character. Runs the CLI in a
subprocess over the seed index built with the hash embedder."""
from __future__ import annotations

import os
import subprocess

import pytest

from conftest import kb_cli_with_fake_embedder

WIDE = dict(os.environ, COLUMNS="1000")


def run(*args, index):
    return subprocess.run(kb_cli_with_fake_embedder(*args, "--index", str(index)), capture_output=True,
                          timeout=300, env=WIDE)


def test_gbk_query_bytes_are_read_as_gb18030_with_a_warning(fake_index):
    r = run("search", "儿童溺水".encode("gbk"), "--mode", "bm25", "-k", "3", index=fake_index)
    assert r.returncode == 0, r.stderr.decode()
    assert "QUERY was not UTF-8; read it as GB18030: 儿童溺水" in r.stderr.decode()
    assert "预防和控制儿童溺水" in r.stdout.decode()


@pytest.mark.parametrize("command", ["search", "ask"])
def test_undecodable_query_bytes_say_what_is_wrong(fake_index, command):
    r = run(command, b"\xff\xfe\x80abc", index=fake_index)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "is not valid UTF-8 or GB18030 text" in err and "LANG=zh_CN.UTF-8" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [("ask", "儿童溺水怎么预防"), ("clauses", "--json"), ("search", "儿童溺水", "--json")])
def test_closed_stdout_exits_quietly_like_unix_tools(fake_index, args):
    """`kb ask … | head` where the reader has gone before kb writes: kb stops with 141 (as a
    Unix tool stopped by SIGPIPE) and prints nothing on stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone
    try:
        proc = subprocess.run(kb_cli_with_fake_embedder(*args, "--index", str(fake_index)), stdout=write_end,
                              stderr=subprocess.PIPE, env=WIDE, timeout=300)
    finally:
        os.close(write_end)
    assert proc.stderr.decode() == ""
    assert proc.returncode == 141


@pytest.mark.parametrize("query", ["儿" * 20_000, "\u200b\u202e\ufeff", "'; DROP TABLE clauses; --", "AND OR NOT * ( ) \"",
                                   "😀" * 50, "\t\n 儿童 \r\n"])
def test_any_query_answers_or_says_why(fake_index, query):
    r = run("ask", query, index=fake_index)
    err = r.stderr.decode()
    assert "Traceback" not in err
    assert r.returncode == 0 or (r.returncode in (1, 2) and err.strip()), err
