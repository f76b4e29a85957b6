"""Citation links in the widget, in the real browser (Debian chromium via Playwright), against
the session's one `kb serve` over the bundled corpus (``kb_server``: the seed, 民法典 婚姻家庭编,
反家庭暴力法, both versions of 妇女权益保障法 and the other laws of issue 9)."""
from __future__ import annotations

import pytest

from conftest import CHROMIUM

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
pytest.importorskip("playwright.sync_api")

CITING = "czf-2022-8.funv.p2.d8.m1"  # 加强《民法典》《中华人民共和国妇女权益保障法》《中华人民共和国反家庭暴力法》…
UNRESOLVED = "czf-2022-8.funv.p2.d8.m3"  # …《湖北省反家庭暴力条例》


def test_resolved_citation_is_a_link_to_the_cited_law(page, kb_server):
    page.goto(f"{kb_server}/widget?clause={CITING}")
    hit = page.locator(f'li.hit[data-id="{CITING}"]')
    hit.wait_for(timeout=15_000)
    inline = hit.locator(".text a.cite")
    assert inline.all_inner_texts() == ["《民法典》", "《中华人民共和国妇女权益保障法》", "《中华人民共和国反家庭暴力法》"]
    assert inline.first.get_attribute("href") == f"{kb_server}/widget?clause=minfadian-hunyinjiatingbian-2020-05-28"
    assert inline.last.get_attribute("href") == f"{kb_server}/widget?clause=fanjiatingbaolifa-2015-12-27"
    items = hit.locator(".cites li.cite-item")
    assert items.count() == 3 and hit.locator(".cites .unresolved").count() == 0
    note = items.nth(1).locator("a.note")
    assert note.inner_text() == "（引用时施行的版本）"
    assert note.get_attribute("href") == f"{kb_server}/widget?clause=funvquanyibaozhangfa-2018-10-26"
    inline.last.click()
    doc = page.locator('li.hit[data-id="fanjiatingbaolifa-2015-12-27"]')
    doc.wait_for(timeout=15_000)
    assert "中华人民共和国反家庭暴力法" in doc.locator("h3").inner_text()
    cited_by = doc.locator(".cites li.cited-by a").all_inner_texts()
    assert CITING in cited_by
    assert page.errors == []


def test_unresolved_citation_stays_text(page, kb_server):
    page.goto(f"{kb_server}/widget?clause={UNRESOLVED}")
    hit = page.locator(f'li.hit[data-id="{UNRESOLVED}"]')
    hit.wait_for(timeout=15_000)
    assert "《湖北省反家庭暴力条例》" not in hit.locator(".text a").all_inner_texts()
    assert "《湖北省反家庭暴力条例》" in hit.locator(".text").inner_text()
    assert hit.locator(".cites .unresolved").filter(has_text="湖北省反家庭暴力条例").count() == 1
    assert page.dialogs == [] and page.errors == []
