"""Citation links in the widget, in the real browser (Debian chromium via Playwright), against
`kb serve` over the seed plus 反家庭暴力法 and both versions of 妇女权益保障法 (real model;
the seed's vectors come from the session index, only the laws are embedded)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import ROOT
from test_widget_browser import CHROMIUM, browser, free_port, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")

LAWS = ROOT / "tests" / "data" / "laws" / "社会法"
CITING = "czf-2022-8.funv.p2.d8.m1"  # 加强《民法典》《中华人民共和国妇女权益保障法》《中华人民共和国反家庭暴力法》…
UNRESOLVED = "czf-2022-8.funv.p2.d8.m3"  # …《湖北省反家庭暴力条例》


@pytest.fixture(scope="module")
def law_server(built_index, tmp_path_factory, real_embedder):
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("cites-serve") / "index"
    shutil.copytree(built_index, idx, symlinks=True)
    ingest([LAWS / "反家庭暴力法(2015-12-27).md", LAWS / "妇女权益保障法(2018-10-26).md",
            LAWS / "妇女权益保障法(2022-10-30).md"], idx, embedder=real_embedder)
    port = free_port()
    kb = Path(sys.executable).with_name("kb")
    cmd = [str(kb) if kb.exists() else "kb", "serve", "--host", "127.0.0.1", "--port", str(port), "--index", str(idx)]
    env = dict(os.environ)
    env.pop("KB_ADMIN_TOKEN", None)
    log = idx.parent / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"kb serve did not start:\n{log.read_text('utf-8', 'replace')}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_resolved_citation_is_a_link_to_the_cited_law(page, law_server):  # noqa: F811
    page.goto(f"{law_server}/widget?clause={CITING}")
    hit = page.locator(f'li.hit[data-id="{CITING}"]')
    hit.wait_for(timeout=15_000)
    inline = hit.locator(".text a.cite")
    assert inline.all_inner_texts() == ["《中华人民共和国妇女权益保障法》", "《中华人民共和国反家庭暴力法》"]
    assert inline.last.get_attribute("href") == f"{law_server}/widget?clause=fanjiatingbaolifa-2015-12-27"
    items = hit.locator(".cites li.cite-item")
    assert items.count() == 3
    assert "《民法典》（未收录）" in items.first.inner_text()  # 婚姻家庭编 is not in this index
    note = items.nth(1).locator("a.note")
    assert note.inner_text() == "（引用时施行的版本）"
    assert note.get_attribute("href") == f"{law_server}/widget?clause=funvquanyibaozhangfa-2018-10-26"
    inline.last.click()
    doc = page.locator('li.hit[data-id="fanjiatingbaolifa-2015-12-27"]')
    doc.wait_for(timeout=15_000)
    assert "中华人民共和国反家庭暴力法" in doc.locator("h3").inner_text()
    cited_by = doc.locator(".cites li.cited-by a").all_inner_texts()
    assert CITING in cited_by
    assert page.errors == []


def test_unresolved_citation_stays_text(page, law_server):  # noqa: F811
    page.goto(f"{law_server}/widget?clause={UNRESOLVED}")
    hit = page.locator(f'li.hit[data-id="{UNRESOLVED}"]')
    hit.wait_for(timeout=15_000)
    assert "《湖北省反家庭暴力条例》" not in hit.locator(".text a").all_inner_texts()
    assert "《湖北省反家庭暴力条例》" in hit.locator(".text").inner_text()
    assert hit.locator(".cites .unresolved").filter(has_text="湖北省反家庭暴力条例").count() == 1
    assert page.dialogs == [] and page.errors == []
