"""Writers and readers of one index at the same time: two ingests (both documents kept, or
the second fails fast naming the first), a killed ingest followed by a good one, pruning
that keeps the committed and the previous generation and any generation a reader holds.
Writers run in forked processes or as the real CLI in a subprocess, with the hash embedder."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import threading
import time

import pytest

from conftest import OTHER_DOC, SEED, HashEmbedder, kb_cli_with_fake_embedder
from kb import layout
from kb.base import KnowledgeBase
from kb.build import ingest
from kb.errors import IndexLocked
from kb.lock import writer_lock

CTX = mp.get_context("fork")
WIDE = dict(os.environ, COLUMNS="1000")  # rich does not fold long messages


def _ingest(paths, index, started=None):
    def progress(stage, done, total):
        if started is not None and stage == "embed":
            started.set()
            time.sleep(0.5)  # hold the lock a while, so the other writer has to wait for it

    ingest(paths, index, embedder=HashEmbedder(), progress=progress)


def docs_in(index):
    kb = KnowledgeBase.open(index)
    try:
        return sorted(d["id"] for d in kb.documents())
    finally:
        kb.close()


@pytest.fixture
def two_docs(tmp_path):
    a, b = tmp_path / "elderly.txt", tmp_path / "youth.txt"
    a.write_text(OTHER_DOC, "utf-8")
    b.write_text(OTHER_DOC.replace("老年人", "青年").replace("养老服务", "青年就业"), "utf-8")
    return a, b


def test_two_concurrent_ingests_keep_both_documents(fake_index_copy, two_docs):
    started = CTX.Event()
    first = CTX.Process(target=_ingest, args=([two_docs[0]], fake_index_copy, started))
    first.start()
    assert started.wait(60)  # the first writer holds the lock and is embedding
    second = CTX.Process(target=_ingest, args=([two_docs[1]], fake_index_copy))
    second.start()
    first.join(120)
    second.join(120)
    assert (first.exitcode, second.exitcode) == (0, 0)
    assert docs_in(fake_index_copy) == ["czf-2022-8", "elderly", "youth"]
    assert layout.read_manifest(fake_index_copy)["documents"] == 3


def _hold_lock(index, ready, release):
    with writer_lock(index, command="kb ingest corpus/"):
        ready.set()
        release.wait(60)


def test_cli_no_wait_fails_fast_naming_the_writer_and_waiting_says_who(fake_index_copy, two_docs):
    ready, release = CTX.Event(), CTX.Event()
    holder = CTX.Process(target=_hold_lock, args=(fake_index_copy, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        r = subprocess.run(kb_cli_with_fake_embedder("ingest", str(two_docs[0]), "--no-wait", "--index",
                                                     str(fake_index_copy)), capture_output=True, text=True,
                           timeout=120, env=WIDE)
        assert r.returncode == 1
        assert f"is being written by pid {holder.pid} (kb ingest corpus/" in r.stderr
        waiting = subprocess.Popen(kb_cli_with_fake_embedder("ingest", str(two_docs[0]), "--index",
                                                             str(fake_index_copy)),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=WIDE)
        said = f"waiting for the writer lock of {fake_index_copy}: held by pid {holder.pid}"
        err_lines: list[str] = []
        reader = threading.Thread(target=lambda: err_lines.extend(waiting.stderr), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120  # parsing and tagging come first; a loaded machine is slow
        while not any(said in line for line in err_lines) and time.monotonic() < deadline:
            assert waiting.poll() is None, "".join(err_lines)  # still waiting for the lock
            time.sleep(0.2)
        release.set()
        out = waiting.stdout.read()
        waiting.wait(timeout=120)
        reader.join(10)
        err = "".join(err_lines)
        assert waiting.returncode == 0, err
        assert said in err
        assert "added: elderly" in out
    finally:
        release.set()
        holder.join(30)
    assert docs_in(fake_index_copy) == ["czf-2022-8", "elderly"]


def _ingest_then_hang(paths, index, started):
    def progress(stage, done, total):
        if stage == "embed":
            started.set()
            time.sleep(600)

    ingest(paths, index, embedder=HashEmbedder(), progress=progress)


def test_killed_ingest_then_a_good_one_keeps_the_right_generations(fake_index_copy, two_docs):
    good = layout.read_manifest(fake_index_copy)["generation"]
    started = CTX.Event()
    victim = CTX.Process(target=_ingest_then_hang, args=([two_docs[0]], fake_index_copy, started))
    victim.start()
    assert started.wait(60)
    half_built = {p.name for p in fake_index_copy.glob("gen-*")} - {good}
    assert len(half_built) == 1
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(10)
    assert layout.read_manifest(fake_index_copy)["generation"] == good  # the kill changed nothing
    assert docs_in(fake_index_copy) == ["czf-2022-8"]
    # The half-built generation is now the newest by mtime: the cleanup must not prefer it.
    os.utime(fake_index_copy / half_built.pop(), (time.time() + 60, time.time() + 60))

    messages = []
    report = ingest([two_docs[1]], fake_index_copy, embedder=HashEmbedder(), on_message=messages.append)
    assert any("took over a stale writer lock" in m and str(victim.pid) in m for m in messages), messages
    gens = sorted(p.name for p in fake_index_copy.glob("gen-*"))
    assert gens == sorted([good, report.generation])
    manifest = layout.read_manifest(fake_index_copy)
    assert (manifest["generation"], manifest["previous_generation"]) == (report.generation, good)
    assert docs_in(fake_index_copy) == ["czf-2022-8", "youth"]


def test_pruning_keeps_a_generation_a_reader_holds(fake_index_copy, two_docs):
    first = layout.read_manifest(fake_index_copy)["generation"]
    reader = KnowledgeBase.open(fake_index_copy)  # registered on `first`
    try:
        ingest([two_docs[0]], fake_index_copy, embedder=HashEmbedder())
        ingest([two_docs[1]], fake_index_copy, embedder=HashEmbedder())  # `first` is now two behind
        assert (fake_index_copy / first).is_dir()
        assert [c.id for c in reader.clauses(plan="儿童", section="策略措施")][:1] == ["czf-2022-8.ertong.p2.d1.m1"]
    finally:
        reader.close()
    ingest([two_docs[0]], fake_index_copy, embedder=HashEmbedder())
    assert not (fake_index_copy / first).exists()  # released: pruned by the next commit
    assert len(list(fake_index_copy.glob("gen-*"))) == 2
