"""The shared line reader of every grammar: logical lines, Chinese numerals, dates.

Input is text already NFKC-normalised by ``kb.read`` (so ``（一）`` is ``(一)`` and ``１．`` is
``1.``). A *logical line* is a paragraph as the author wrote it: physical lines re-joined
where a PDF-style export hard-wrapped them, and run-on text (a whole section on one line,
as some legal databases store plans) split before its headings.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

CN_DIGITS = "零〇一二三四五六七八九十百千两"
CN_NUM = f"[{CN_DIGITS}]+"
SENTENCE_END = "。!?;:"
FURNITURE_RE = re.compile(
    r"^\s*(?:[•·]\s*)?(?:审核人|【\s*字体|字体[:：]|打印$|关闭$|关闭窗口|扫一扫在手机上查看当前页面|"
    r"分享到|【\s*打印|【\s*关闭|当前位置|浏览次数|访问量|手机版$|首页\s*>)")
# Headings that may start inside a run-on line, after a space: 一、 (一) 主要目标: 1. (text follows).
_INLINE_HEADING = re.compile(rf"\s+(?=(?:{CN_NUM}、|\({CN_NUM}\)|主要目标:|策略措施:|\d{{1,3}}[.、](?!\d)\S))")
RUN_ON_MIN_CHARS = 400  # a line this long holding several headings is split before them


@dataclass
class Line:
    """A logical line: ``text`` (stripped), the 1-based physical lines ``start``..``end`` it
    spans, and whether a blank line preceded it (a paragraph break)."""

    text: str
    start: int
    end: int
    after_blank: bool


def logical_lines(text: str, drop_furniture: bool = True) -> list[Line]:
    """Split text into logical lines, dropping page furniture and re-joining hard wraps.

    A physical line is joined to the previous one when the text is hard-wrapped (most long
    lines have the same length W, see :func:`wrap_width`), the previous line is full
    (≥ W-1 characters) and does not end a sentence. A run-on line (≥ 400 characters) that
    holds two or more headings or clause numbers after spaces is split before each of them.
    """
    raw = [ln.strip() for ln in text.split("\n")]
    width = wrap_width(raw)
    out: list[Line] = []
    blank = False
    for i, t in enumerate(raw, start=1):
        if not t or (drop_furniture and FURNITURE_RE.match(t)):
            blank = blank or not t
            continue
        prev = out[-1] if out else None
        if (width and prev and not blank and prev.end == i - 1 and len(raw[prev.end - 1]) >= width - 1
                and prev.text[-1] not in SENTENCE_END):
            prev.text += t  # no space: Chinese has none, and a wrap can split a number (5|0%)
            prev.end = i
        else:
            for k, piece in enumerate(split_run_on(t)):
                out.append(Line(piece, i, i, blank or k > 0))
        blank = False
    return out


def split_run_on(text: str) -> list[str]:
    """Pieces of a run-on line split before inline headings (``三、…  (一)妇女与健康。 主要目标:
    1.延长…``); a normal line comes back whole. Whether a piece really opens a clause is
    decided later by the numbering state machine, which re-joins pieces that do not."""
    if len(text) < RUN_ON_MIN_CHARS:
        return [text]
    pieces = [p for p in _INLINE_HEADING.split(text) if p]
    return pieces if len(pieces) >= 3 else [text]


def wrap_width(lines: list[str]) -> int | None:
    """The hard-wrap width W of the text, or None when it is not hard-wrapped: at least 10
    lines of ≥ 20 characters, 30% of them of the same length."""
    long = [len(t) for t in lines if len(t) >= 20]
    if len(long) < 10:
        return None
    width, count = Counter(long).most_common(1)[0]
    return width if count >= 0.3 * len(long) else None


def cn_number(s: str) -> int:
    """Chinese numeral to int: 一 → 1, 二十三 → 23, 一千零四十 → 1040, 〇/两 accepted.
    Raises ValueError when ``s`` is not a numeral."""
    import cn2an

    s = s.replace("〇", "零").replace("两", "二")
    return int(cn2an.cn2an(s, "smart"))


def num(s: str) -> int:
    """:func:`cn_number` or Arabic digits; -1 when neither (never raises)."""
    if s.isdigit():
        return int(s)
    try:
        return cn_number(s)
    except (ValueError, KeyError, IndexError):
        return -1


_DATE = re.compile(r"(\d{4}|[〇零一二三四五六七八九]{4})\s*[-/年.]\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*[-/月.]\s*"
                   r"(\d{1,2}|[一二三四五六七八九十]{1,3})日?(?:\s+(\d{1,2}):(\d{2}))?")


def iso_date(value: str) -> str | None:
    """The first date in ``value`` as ISO: ``2022年12月29日`` / ``2022-12-30 11:25`` /
    ``二〇二二年十二月二十九日`` → ``2022-12-29`` / ``2022-12-30T11:25``; None when none."""
    m = _DATE.search(value)
    if not m:
        return None
    year = m[1] if m[1].isdigit() else "".join(str("〇一二三四五六七八九".index(c.replace("零", "〇"))) for c in m[1])
    month, day = (int(x) if x.isdigit() else num(x) for x in (m[2], m[3]))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    date = f"{int(year):04d}-{month:02d}-{day:02d}"
    return f"{date}T{int(m[4]):02d}:{m[5]}" if m[4] else date


def iso_datetime(value: str) -> str:
    """:func:`iso_date`, or ``value`` unchanged when it holds no date."""
    return iso_date(value) or value
