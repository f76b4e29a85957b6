"""The search widget in a real browser: Debian's chromium driven by Playwright, against
`kb serve` started as a subprocess on 127.0.0.1 over the seed index.

Skipped when chromium or Playwright is absent (`.ci/run` installs both). Set
KB_UPDATE_SCREENSHOT=1 to refresh docs/widget.png.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from conftest import ROOT

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
playwright_api = pytest.importorskip("playwright.sync_api")

DROWNING = "czf-2022-8.ertong.p2.d2.m3"
XSS = "<img src=x onerror=alert(1)>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def portal_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def server(built_index, tmp_path_factory, portal_port):
    """Base URL of `kb serve` on a free loopback port (CORS open to the portal only)."""
    yield from serve(built_index, tmp_path_factory, portal_port)


@pytest.fixture(scope="module")
def corpus_server(corpus_index, tmp_path_factory, portal_port):
    """`kb serve` over the bundled corpus (seed + 16 laws)."""
    yield from serve(corpus_index, tmp_path_factory, portal_port)


def serve(built_index, tmp_path_factory, portal_port):
    """Run `kb serve` over ``built_index`` until the generator is closed; yields its base URL."""
    port = free_port()
    kb = Path(sys.executable).with_name("kb")
    cmd = [str(kb) if kb.exists() else "kb", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index", str(built_index)]
    env = dict(os.environ, KB_CORS_ORIGINS=f"http://127.0.0.1:{portal_port}")
    env.pop("KB_ADMIN_TOKEN", None)
    log = tmp_path_factory.mktemp("serve") / "serve.log"
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


@pytest.fixture(scope="module")
def browser():
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


def search(page, query: str) -> None:
    box = page.locator("input[type=search]")
    box.fill(query)
    box.press("Enter")


def test_search_shows_drowning_clause(page, server, tmp_path):
    page.goto(f"{server}/widget")
    search(page, "儿童溺水")
    hit = page.locator(f'li.hit[data-id="{DROWNING}"]')
    hit.wait_for(timeout=15_000)
    assert "预防和控制儿童溺水" in hit.locator("h3").inner_text()
    assert "儿童安全" in hit.locator(".crumbs").inner_text()
    assert hit.locator("mark").count() > 0
    assert "溺水" in " ".join(hit.locator("mark").all_inner_texts())
    link = hit.locator("h3 a").get_attribute("href")
    assert link == f"{server}/widget?clause={DROWNING}"
    assert page.locator(".status").inner_text().startswith("“儿童溺水” 共")
    page.wait_for_timeout(300)  # let the answer box settle for the screenshot
    page.screenshot(path=str(tmp_path / "widget.png"), full_page=False)
    if os.environ.get("KB_UPDATE_SCREENSHOT"):
        shutil.copy(tmp_path / "widget.png", ROOT / "docs" / "widget.png")
    assert page.errors == []


def test_markup_in_query_renders_as_text(page, server):
    page.goto(f"{server}/widget")
    query = f"儿童溺水{XSS}"
    search(page, query)
    page.locator(".status").filter(has_text="相关条款").wait_for(timeout=15_000)  # 共 N 条 or 未找到
    page.wait_for_timeout(500)  # an injected <img onerror> would fire by now
    assert XSS in page.locator(".status").inner_text()
    assert page.locator("img").count() == 0
    assert page.dialogs == []
    assert page.errors == []


def test_direct_answer_box(page, server):
    page.goto(f"{server}/widget")
    search(page, "2030年孕产妇死亡率目标是多少")
    answer = page.locator("section.answer")
    answer.wait_for(state="visible", timeout=15_000)
    assert "直接回答" in answer.inner_text()
    assert "孕产妇死亡率" in answer.inner_text()


def test_clause_page_with_neighbours(page, server):
    page.goto(f"{server}/widget?clause={DROWNING}")
    hit = page.locator(f'li.hit[data-id="{DROWNING}"]')
    hit.wait_for(timeout=15_000)
    assert "预防和控制儿童溺水" in hit.locator("h3").inner_text()
    assert "学校每年至少安排1次预防溺水" in hit.locator(".text").inner_text()
    nav = hit.locator(".nav a")
    assert nav.count() == 2
    nav.last.click()
    page.locator('li.hit[data-id="czf-2022-8.ertong.p2.d2.m4"]').wait_for(timeout=15_000)


@pytest.fixture
def portal(server, portal_port):
    """A host page on another origin (another loopback port) that embeds the widget with
    one <script> tag; Chromium refuses public → loopback requests, so it is local too."""
    html = (f'<!doctype html><html><head><meta charset="utf-8"><style>li{{color:red}}</style></head>'
            f'<body><h1>某门户网站</h1><script src="{server}/widget.js" data-endpoint="{server}/" '
            f'data-k="5"></script></body></html>').encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", portal_port), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{portal_port}"
    httpd.shutdown()
    httpd.server_close()


def test_one_script_tag_embeds_on_another_origin(page, portal, server):
    """A portal page on another origin mounts the widget with one <script> tag and calls
    the API across origins (allowed by KB_CORS_ORIGINS)."""
    page.goto(f"{portal}/news.html")
    search(page, "儿童溺水")
    page.locator("li.hit").first.wait_for(timeout=15_000)
    assert page.locator("li.hit").count() == 5
    assert page.locator(f'li.hit[data-id="{DROWNING}"]').count() == 1
    assert page.errors == []


# ---------------------------------------------------------------------- issue 12
def test_off_topic_query_says_not_found_with_marked_suggestions(page, server):
    """The widget says 未找到相关条款 exactly when `kb ask` does (the server's /api/ask decision)
    and lists its suggestions marked 低置信度, not "共 10 条相关条款"."""
    query = "比特币 GDP 股票行情"
    decision = httpx.get(f"{server}/api/ask", params={"q": query}, timeout=60).json()
    assert decision["kind"] == "not_found"
    page.goto(f"{server}/widget")
    search(page, query)
    page.locator(".status").filter(has_text="未找到相关条款").wait_for(timeout=15_000)
    assert page.locator(".status").inner_text() == f"“{query}” 未找到相关条款"
    low = page.locator("li.hit.low")
    assert low.count() == len(decision["hits"]) > 0
    assert [low.nth(i).get_attribute("data-id") for i in range(low.count())] == [h["id"] for h in decision["hits"]]
    assert all("低置信度" in low.nth(i).locator(".badges").inner_text() for i in range(low.count()))
    assert "仅供参考" in page.locator("li.suggest").inner_text()
    assert page.locator("section.answer").is_hidden()


def test_unknown_clause_error_is_chinese(page, server):
    page.goto(f"{server}/widget?clause=no-such-clause")
    status = page.locator(".status.error")
    status.wait_for(timeout=15_000)
    assert status.inner_text() == "未找到该条款或内容，请检查链接（404）"
    assert "no clause" in status.get_attribute("title")  # the server's own detail, as a tooltip


def test_long_unbroken_query_does_not_overflow(page, server):
    page.goto(f"{server}/widget")
    search(page, "溺" * 200)
    page.locator(".status").filter(has_text="溺溺溺").wait_for(timeout=15_000)
    page.wait_for_timeout(300)
    overflow = page.evaluate("""() => {
        const root = document.querySelector('.policy-kb-widget').shadowRoot;
        const s = root.querySelector('.status');
        return [s.scrollWidth, s.clientWidth, document.documentElement.scrollWidth, window.innerWidth];
    }""")
    assert overflow[0] <= overflow[1] and overflow[2] <= overflow[3], overflow


def test_type_selector_narrows_to_laws(page, corpus_server):
    """The document type selector lists the bundled types and sends ``type`` to the server:
    with 法律 chosen, 家暴 finds law articles only (ids of the law documents)."""
    page.goto(f"{corpus_server}/widget")
    select = page.locator("select.doctype")
    select.locator("option[value='法律']").wait_for(state="attached", timeout=15_000)
    assert {"法律", "行政法规", "通知"} <= set(select.locator("option").all_inner_texts())
    select.select_option("法律")
    search(page, "家庭暴力 告诫书")
    page.locator("li.hit").first.wait_for(timeout=15_000)
    ids = [h.get_attribute("data-id") for h in page.locator("li.hit").all()]
    assert ids and all(not i.startswith("czf-2022-8") for i in ids)
    assert "fanjiatingbaolifa-2015-12-27.a16" in ids  # 第十六条: 告诫书
    assert page.errors == []
