"""Stable, readable, URL-safe ids derived from document + path (never from row order).

Scheme (``.`` separates levels; only ``[a-z0-9-]`` inside a level)::

    czf-2022-8                      document   (发文字号 曾政发〔2022〕8号 → pinyin initials-year-no)
    czf-2022-8.ertong               plan       (plan short name 儿童 in pinyin)
    czf-2022-8.ertong.p2            part 二
    czf-2022-8.ertong.p2.d2         domain （二） of part 二
    czf-2022-8.ertong.p2.d2.m       section 策略措施 (g = 主要目标)
    czf-2022-8.ertong.p2.d2.m3      clause 3 of that section
    czf-2022-8.ertong.p1.i2.3       clause 3 of item （二） 基本原则 of part 一
    czf-2022-8.ertong.p3.i3         item （三） of part 三 (itself a clause)

The same text always gives the same ids, so re-ingesting is idempotent and vectors keyed
by id stay valid.
"""
from __future__ import annotations

import hashlib
import re

_DOC_NO = re.compile(r"(?P<org>[\u4e00-\u9fff]{1,8})\s*[〔\[(（【]\s*(?P<year>\d{4})\s*[〕\])）】]\s*(?P<no>\d+)\s*号")


def slug(text: str) -> str:
    """Lower-case ASCII slug of ``text``; Chinese characters become pinyin syllables.

    >>> slug("儿童")
    'ertong'
    """
    from pypinyin import lazy_pinyin

    parts = lazy_pinyin(text, errors=lambda s: list(s))
    s = "".join(p for p in parts)
    s = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")
    return s


def initials(text: str) -> str:
    """Pinyin initials of the Chinese characters of ``text`` (曾政发 → czf)."""
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER)).lower()


def document_id(doc_number: str | None, title: str, source_stem: str) -> str:
    """Id of a document: from its 发文字号 when present (曾政发〔2022〕8号 → czf-2022-8),
    else from an ASCII file stem, else ``doc-`` + 8 hex digits of the title's sha256."""
    if doc_number:
        m = _DOC_NO.search(doc_number)
        if m:
            return f"{initials(m['org'])}-{m['year']}-{int(m['no'])}"
    stem = re.sub(r"[^a-z0-9]+", "-", source_stem.lower()).strip("-")
    if re.search(r"[a-z]", stem):
        return stem[:60]
    return "doc-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:8]


def child_id(parent: str, code: str) -> str:
    """Id of a child node: ``parent`` + ``.`` + ``code`` (code is already URL-safe)."""
    return f"{parent}.{code}"
