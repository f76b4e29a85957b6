"""The index writer lock: exclusive across processes, stale holders taken over."""
import json
import multiprocessing as mp
import os
import time

import pytest

from kb.errors import IndexLocked
from kb.lock import LOCK_FILE, read_holder, writer_lock


def _hold(index_dir, ready, release):
    with writer_lock(index_dir, command="holder"):
        ready.set()
        release.wait(10)


def test_second_writer_fails_fast_and_names_the_holder(tmp_path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(IndexLocked, match=rf"pid {p.pid} \(holder"):
            with writer_lock(tmp_path, wait=False):
                pass
        with pytest.raises(IndexLocked, match="still being written"):
            with writer_lock(tmp_path, timeout=0.3):
                pass
    finally:
        release.set()
        p.join(10)
    with writer_lock(tmp_path, wait=False) as me:  # released: free again
        assert me.pid == os.getpid()
        assert read_holder(tmp_path).pid == os.getpid()
    assert read_holder(tmp_path) is None


def test_waiting_writer_gets_the_lock_after_the_holder(tmp_path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    p.start()
    assert ready.wait(10)
    messages = []
    t0 = time.monotonic()
    ctx_timer = __import__("threading").Timer(0.5, release.set)
    ctx_timer.start()
    with writer_lock(tmp_path, on_message=messages.append):
        waited = time.monotonic() - t0
    p.join(10)
    assert waited >= 0.4
    assert len(messages) == 1 and "waiting for the writer lock" in messages[0] and str(p.pid) in messages[0]


def test_lock_of_a_killed_process_is_taken_over_with_a_message(tmp_path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(tmp_path, ready, release))
    p.start()
    assert ready.wait(10)
    p.kill()
    p.join(10)
    assert read_holder(tmp_path).pid == p.pid  # the dead holder is still recorded
    messages = []
    with writer_lock(tmp_path, wait=False, on_message=messages.append):
        pass
    assert messages and "stale" in messages[0] and str(p.pid) in messages[0]


def test_unreadable_lock_file_is_not_an_error(tmp_path):
    (tmp_path / LOCK_FILE).write_bytes(b"\xff\x00garbage")
    with writer_lock(tmp_path, wait=False) as me:
        assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == me.pid
