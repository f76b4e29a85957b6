"""The search widget in a real browser: Debian's chromium driven by Playwright, against the
session's one `kb serve` (``kb_server``, tests/conftest.py) over the bundled corpus.

Skipped when chromium or Playwright is absent (`.ci/run` installs both). Set
KB_UPDATE_SCREENSHOT=1 to refresh docs/widget.png.
"""
from __future__ import annotations

import html
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from conftest import CHROMIUM, ROOT

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
pytest.importorskip("playwright.sync_api")

DROWNING = "czf-2022-8.ertong.p2.d2.m3"
XSS = "<img src=x onerror=alert(1)>"


def search(page, query: str) -> None:
    box = page.locator("input[type=search]")
    box.fill(query)
    box.press("Enter")


def test_search_shows_drowning_clause(page, kb_server, tmp_path):
    page.goto(f"{kb_server}/widget")
    search(page, "儿童溺水")
    hit = page.locator(f'li.hit[data-id="{DROWNING}"]')
    hit.wait_for(timeout=15_000)
    assert "预防和控制儿童溺水" in hit.locator("h3").inner_text()
    assert "儿童安全" in hit.locator(".crumbs").inner_text()
    assert hit.locator("mark").count() > 0
    assert "溺水" in " ".join(hit.locator("mark").all_inner_texts())
    link = hit.locator("h3 a").get_attribute("href")
    assert link == f"{kb_server}/widget?clause={DROWNING}"
    assert page.locator(".status").inner_text().startswith("“儿童溺水” 共")
    page.wait_for_timeout(300)  # let the answer box settle for the screenshot
    page.screenshot(path=str(tmp_path / "widget.png"), full_page=False)
    if os.environ.get("KB_UPDATE_SCREENSHOT"):
        shutil.copy(tmp_path / "widget.png", ROOT / "docs" / "widget.png")
    assert page.errors == []


def test_markup_in_query_renders_as_text(page, kb_server):
    page.goto(f"{kb_server}/widget")
    query = f"儿童溺水{XSS}"
    search(page, query)
    page.locator(".status").filter(has_text="相关条款").wait_for(timeout=15_000)  # 共 N 条 or 未找到
    page.wait_for_timeout(500)  # an injected <img onerror> would fire by now
    assert XSS in page.locator(".status").inner_text()
    assert page.locator("img").count() == 0
    assert page.dialogs == []
    assert page.errors == []


def test_direct_answer_box(page, kb_server):
    page.goto(f"{kb_server}/widget")
    search(page, "2030年孕产妇死亡率目标是多少")
    answer = page.locator("section.answer")
    answer.wait_for(state="visible", timeout=15_000)
    assert "直接回答" in answer.inner_text()
    assert "孕产妇死亡率" in answer.inner_text()


def test_clause_page_with_neighbours(page, kb_server):
    page.goto(f"{kb_server}/widget?clause={DROWNING}")
    hit = page.locator(f'li.hit[data-id="{DROWNING}"]')
    hit.wait_for(timeout=15_000)
    assert "预防和控制儿童溺水" in hit.locator("h3").inner_text()
    assert "学校每年至少安排1次预防溺水" in hit.locator(".text").inner_text()
    nav = hit.locator(".nav a")
    assert nav.count() == 2
    nav.last.click()
    page.locator('li.hit[data-id="czf-2022-8.ertong.p2.d2.m4"]').wait_for(timeout=15_000)


@pytest.fixture
def portal(kb_server, portal_port):
    """A host page on another origin (another loopback port) that embeds the widget with
    one <script> tag (data-k="5", plus a data-NAME attribute for each ?NAME=VALUE of the
    page's address); Chromium refuses public → loopback requests, so it is local too."""
    def page_for(path: str) -> bytes:
        extra = "".join(f' data-{html.escape(k)}="{html.escape(v)}"' for k, v in parse_qsl(urlsplit(path).query))
        return (f'<!doctype html><html><head><meta charset="utf-8"><style>li{{color:red}}</style></head>'
                f'<body><h1>某门户网站</h1><script src="{kb_server}/widget.js" data-endpoint="{kb_server}/" '
                f'data-k="5"{extra}></script></body></html>').encode("utf-8")

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            html = page_for(self.path)
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


def test_one_script_tag_embeds_on_another_origin(page, portal, kb_server):
    """A portal page on another origin mounts the widget with one <script> tag and calls
    the API across origins (allowed by KB_CORS_ORIGINS)."""
    page.goto(f"{portal}/news.html")
    search(page, "儿童溺水")
    page.locator("li.hit").first.wait_for(timeout=15_000)
    assert page.locator("li.hit").count() == 5
    assert page.locator(f'li.hit[data-id="{DROWNING}"]').count() == 1
    assert page.errors == []


# ---------------------------------------------------------------------- issue 12
def test_off_topic_query_says_not_found_with_marked_suggestions(page, kb_server):
    """The widget says 未找到相关条款 exactly when `kb ask` does (the server's /api/ask decision)
    and lists its suggestions marked 低置信度, not "共 10 条相关条款"."""
    query = "比特币 GDP 股票行情"
    decision = httpx.get(f"{kb_server}/api/ask", params={"q": query}, timeout=60).json()
    assert decision["kind"] == "not_found"
    page.goto(f"{kb_server}/widget")
    search(page, query)
    page.locator(".status").filter(has_text="未找到相关条款").wait_for(timeout=15_000)
    assert page.locator(".status").inner_text() == f"“{query}” 未找到相关条款"
    low = page.locator("li.hit.low")
    assert low.count() == len(decision["hits"]) > 0
    assert [low.nth(i).get_attribute("data-id") for i in range(low.count())] == [h["id"] for h in decision["hits"]]
    assert all("低置信度" in low.nth(i).locator(".badges").inner_text() for i in range(low.count()))
    assert "仅供参考" in page.locator("li.suggest").inner_text()
    assert page.locator("section.answer").is_hidden()


def test_unknown_clause_error_is_chinese(page, kb_server):
    page.goto(f"{kb_server}/widget?clause=no-such-clause")
    status = page.locator(".status.error")
    status.wait_for(timeout=15_000)
    assert status.inner_text() == "未找到该条款或内容，请检查链接（404）"
    assert "no clause" in status.get_attribute("title")  # the server's own detail, as a tooltip


def test_long_unbroken_query_does_not_overflow(page, kb_server):
    page.goto(f"{kb_server}/widget")
    search(page, "溺" * 200)
    page.locator(".status").filter(has_text="溺溺溺").wait_for(timeout=15_000)
    page.wait_for_timeout(300)
    overflow = page.evaluate("""() => {
        const root = document.querySelector('.policy-kb-widget').shadowRoot;
        const s = root.querySelector('.status');
        return [s.scrollWidth, s.clientWidth, document.documentElement.scrollWidth, window.innerWidth];
    }""")
    assert overflow[0] <= overflow[1] and overflow[2] <= overflow[3], overflow


def test_type_selector_narrows_to_laws(page, kb_server):
    """The document type selector lists the bundled types and sends ``type`` to the server:
    with 法律 chosen, 家暴 finds law articles only (ids of the law documents)."""
    page.goto(f"{kb_server}/widget")
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


# ---------------------------------------------------------------------- issue 9: document filters
def hit_ids(page) -> list[str]:
    page.locator("li.hit").first.wait_for(timeout=15_000)
    return [h.get_attribute("data-id") for h in page.locator("li.hit").all()]


def test_address_filters_narrow_the_page(page, kb_server):
    """On /widget the document filters come from the address, as on the API: ?doc= a short
    title (its current version) or an older version's id; each hit names its law and article."""
    page.goto(f"{kb_server}/widget?doc=反家庭暴力法&q=家庭暴力 告诫书")
    ids = hit_ids(page)
    assert ids[0] == "fanjiatingbaolifa-2015-12-27.a16" and all(i.startswith("fanjiatingbaolifa-2015-12-27.") for i in ids)
    assert page.locator("li.hit .meta").first.inner_text() == "反家庭暴力法 第三章 第十六条 · 法律"
    page.goto(f"{kb_server}/widget?doc=funvquanyibaozhangfa-2018-10-26&q=性骚扰")
    ids = hit_ids(page)
    assert ids[0] == "funvquanyibaozhangfa-2018-10-26.a40" and all(i.startswith("funvquanyibaozhangfa-2018-10-26.") for i in ids)
    assert page.errors == []


def test_direct_answers_honour_the_filters(page, kb_server):
    """The structure answer counts the plan's 主要目标; with only laws let in there is no plan
    to count: no direct answer (as `kb ask --type 法律`), law articles only."""
    page.goto(f"{kb_server}/widget?q=妇女与经济有几条主要目标")
    answer = page.locator("section.answer")
    answer.wait_for(state="visible", timeout=15_000)
    assert "妇女与经济: 主要目标10条" in answer.inner_text()
    page.goto(f"{kb_server}/widget?type=法律&q=妇女与经济有几条主要目标")
    ids = hit_ids(page)
    assert ids and all(not i.startswith("czf-2022-8") for i in ids)
    assert page.locator("section.answer").is_hidden()
    assert page.locator("select.doctype").is_hidden()  # the type is fixed by the address


@pytest.mark.parametrize("name,value,query,check", [
    ("issuer", "曾都区人民政府", "家庭暴力", lambda ids: all(i.startswith("czf-2022-8.") for i in ids)),
    ("level", "国家", "儿童溺水", lambda ids: ids[0] == "weichengnianrenbaohufa-2024-04-26.a18"
     and not any(i.startswith("czf-2022-8.") for i in ids)),
], ids=["issuer", "level"])
def test_embedded_widget_with_fixed_filters(page, portal, name, value, query, check):
    """A portal page on another origin embeds the widget with a fixed document filter in a
    data-* attribute; every query sends it, and the type selector offers only the types of
    the documents it lets in."""
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/" in r.url else None)
    page.goto(f"{portal}/embed.html?{urlencode({name: value})}")
    search(page, query)
    ids = hit_ids(page)
    assert check(ids), ids
    queries = [u for u in sent if "/api/search" in u or "/api/ask" in u]
    assert queries and all(httpx.URL(u).params.get(name) == value for u in queries)
    if name == "issuer":
        assert page.locator("select.doctype option").all_inner_texts() == ["全部文件", "通知"]
    assert page.errors == []


def test_versions_box_lets_older_versions_in(page, kb_server):
    """By default 历史版本 stay out (the 2018 妇女权益保障法); 含历史版本 sends versions=all."""
    page.goto(f"{kb_server}/widget?q=性骚扰")
    assert not any(i.startswith("funvquanyibaozhangfa-2018-10-26") for i in hit_ids(page))
    assert "funvquanyibaozhangfa-2022-10-30.a25" in hit_ids(page)
    with page.expect_response(lambda r: "/api/search" in r.url and "versions=all" in r.url):
        page.locator("label.versions input").check()
    page.locator('li.hit[data-id="funvquanyibaozhangfa-2018-10-26.a40"]').wait_for(timeout=15_000)
    assert page.errors == []
