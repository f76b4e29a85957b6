"""Word's automatic numbering (``word/numbering.xml``) rendered as the reader sees it.

python-docx gives a paragraph's text without its list label, yet in Chinese policy
documents the label *is* the structure (``一、`` part, ``（一）`` domain, ``1.`` clause).
:class:`Numbering` replays the counters in document order and renders each numbered
paragraph's label from its level's ``w:numFmt`` and ``w:lvlText``, following ECMA-376 Part 1
§17.9 (Numbering):

* a paragraph's numbering comes from its own ``w:numPr`` or from its style's (§17.9.23);
  ``numId`` 0 removes it; a style-linked level (``w:pStyle`` in a ``w:lvl``) gives ``ilvl``;
* a ``w:num`` points at a ``w:abstractNum``; every ``w:num`` of one abstract numbering
  continues the same counters, except that a ``w:lvlOverride/w:startOverride`` restarts
  its level where that ``w:num`` is first used (Word's "restart at 1"), and a
  ``w:lvlOverride/w:lvl`` replaces the level (§17.9.8, §17.9.27);
* using level *L* restarts every deeper level, unless its ``w:lvlRestart`` says after
  which level it restarts (0: never) (§17.9.11);
* ``%1``…``%9`` in ``w:lvlText`` are the counters of levels 1–9, each in its own level's
  format (decimal everywhere when ``w:isLgl``) (§17.9.12, §17.9.4).

Formats rendered: decimal, decimalZero, decimalFullWidth, decimalEnclosedCircle(Chinese),
decimalEnclosedParen, decimalEnclosedFullstop, chineseCounting, chineseCountingThousand,
taiwaneseCounting(Thousand), japaneseCounting, ideographDigital, ideographTraditional
(甲乙丙…), ideographZodiac (子丑寅…), chineseLegalSimplified (壹贰叁…), upper/lowerRoman,
upper/lowerLetter, bullet, none. Any other format is rendered as decimal and reported once
in :attr:`Numbering.unknown_formats`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN = "〇一二三四五六七八九"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"
# Characters that end a label so that no space is needed before the text (一、 (一) 1.).
_LABEL_END = "、.．)）:：]】"


@dataclass(frozen=True)
class Level:
    """One ``w:lvl``: ``start`` value, ``fmt`` (w:numFmt), ``text`` (w:lvlText),
    ``restart`` (w:lvlRestart; None = after any shallower level), ``legal`` (w:isLgl),
    ``suffix`` (w:suff: tab, space or nothing)."""

    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    restart: Optional[int] = None
    legal: bool = False
    suffix: str = "tab"
    style: Optional[str] = None


@dataclass
class _Num:
    abstract: str
    starts: dict[int, int] = field(default_factory=dict)   # ilvl -> startOverride
    levels: dict[int, Level] = field(default_factory=dict)  # ilvl -> overriding w:lvl


class Numbering:
    """The numbering definitions of one document and the counters while it is read.

    Build with :meth:`from_xml` (``numbering`` and ``styles`` are the lxml roots of
    ``word/numbering.xml`` and ``word/styles.xml``, either may be None), then call
    :meth:`label` for every paragraph in document order.
    """

    def __init__(self, abstracts: dict[str, dict[int, Level]], nums: dict[str, _Num],
                 styles: dict[str, tuple[Optional[str], Optional[int], Optional[str]]]):
        self.abstracts, self.nums, self.styles = abstracts, nums, styles
        self.counters: dict[str, dict[int, int]] = {}
        self.used: set[str] = set()
        self.unknown_formats: set[str] = set()

    @classmethod
    def from_xml(cls, numbering, styles) -> "Numbering":
        """Read the definitions from the two XML roots (lxml elements or None)."""
        abstracts, nums, style_map = {}, {}, {}
        if numbering is not None:
            for a in numbering.iter(W + "abstractNum"):  # on a repeated id the first wins, as in LibreOffice
                abstracts.setdefault(a.get(W + "abstractNumId"), {
                    int(lv.get(W + "ilvl", "0")): _level(lv) for lv in a.findall(W + "lvl")})
            for n in numbering.iter(W + "num"):
                if n.get(W + "numId") in nums:
                    continue
                ref = n.find(W + "abstractNumId")
                num = _Num(ref.get(W + "val") if ref is not None else "")
                for o in n.findall(W + "lvlOverride"):
                    ilvl = int(o.get(W + "ilvl", "0"))
                    so = o.find(W + "startOverride")
                    if so is not None:
                        num.starts[ilvl] = int(so.get(W + "val", "1"))
                    lv = o.find(W + "lvl")
                    if lv is not None:
                        num.levels[ilvl] = _level(lv)
                nums[n.get(W + "numId")] = num
        if styles is not None:
            for s in styles.iter(W + "style"):
                based = s.find(W + "basedOn")
                num_id, ilvl = _num_pr(s.find(W + "pPr"))
                style_map[s.get(W + "styleId")] = (num_id, ilvl, based.get(W + "val") if based is not None else None)
        return cls(abstracts, nums, style_map)

    def label(self, p) -> tuple[str, str]:
        """The label of paragraph ``p`` (a ``w:p`` element) and the suffix mode after it
        (``tab``, ``space`` or ``nothing``); ``("", "nothing")`` for an unnumbered
        paragraph. Advances the counters: call once per paragraph, in document order."""
        ppr = p.find(W + "pPr")
        num_id, ilvl = _num_pr(ppr)
        style = _val(ppr.find(W + "pStyle")) if ppr is not None else None
        if num_id is None:
            num_id, style_ilvl = self._style_num(style)
            ilvl = ilvl if ilvl is not None else style_ilvl
        if num_id in (None, "0") or num_id not in self.nums:
            return "", "nothing"
        num = self.nums[num_id]
        levels = self.abstracts.get(num.abstract, {})
        if ilvl is None:
            ilvl = next((i for i, lv in levels.items() if style and lv.style == style), 0)
        level = self._level(num, ilvl)
        counters = self.counters.setdefault(num.abstract, {})
        if num_id not in self.used:
            self.used.add(num_id)
            for i in num.starts:
                counters.pop(i, None)
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else level.start
        for deeper in [i for i in counters if i > ilvl]:
            r = self._level(num, deeper).restart
            if r is None or (r > 0 and ilvl < r):
                del counters[deeper]
        return self._render(num, level, counters), level.suffix

    def _style_num(self, style: Optional[str]) -> tuple[Optional[str], Optional[int]]:
        seen = set()
        while style and style not in seen:
            seen.add(style)
            num_id, ilvl, based = self.styles.get(style, (None, None, None))
            if num_id is not None:
                return num_id, ilvl
            style = based
        return None, None

    def _level(self, num: _Num, ilvl: int) -> Level:
        level = num.levels.get(ilvl) or self.abstracts.get(num.abstract, {}).get(ilvl) or Level(text=f"%{ilvl + 1}.")
        return replace(level, start=num.starts[ilvl]) if ilvl in num.starts else level

    def _render(self, num: _Num, level: Level, counters: dict[int, int]) -> str:
        if level.fmt == "bullet":
            return "".join(c for c in level.text if not 0xE000 <= ord(c) <= 0xF8FF)
        out, i, text = [], 0, level.text
        while i < len(text):
            if text[i] == "%" and i + 1 < len(text) and text[i + 1].isdigit() and text[i + 1] != "0":
                ref = int(text[i + 1]) - 1
                ref_level = self._level(num, ref)
                value = counters.get(ref, ref_level.start)
                out.append(self.format(value, "decimal" if level.legal else ref_level.fmt))
                i += 2
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def format(self, n: int, fmt: str) -> str:
        """``n`` in Word's number format ``fmt`` (e.g. ``format(11, "chineseCounting")``
        → ``十一``; ``format(3, "decimalEnclosedCircle")`` → ``③``)."""
        f = _FORMATS.get(fmt)
        if f is None:
            self.unknown_formats.add(fmt)
            return str(n)
        return f(n)


def join_label(label: str, suffix: str, text: str) -> str:
    """A paragraph's text as shown: ``label`` then ``text``. Word puts a tab (or space)
    after most labels; kept as one space only where the label does not already end in
    punctuation, so ``一、`` + ``指导思想`` reads ``一、指导思想`` and ``第一章`` + ``总则``
    reads ``第一章 总则``."""
    if not label:
        return text
    if suffix == "nothing" or label[-1] in _LABEL_END or not text:
        return label + text
    return f"{label} {text}"


def _level(lv) -> Level:
    def val(tag, default=None):
        el = lv.find(W + tag)
        return default if el is None else el.get(W + "val", default)

    restart = val("lvlRestart")
    legal = lv.find(W + "isLgl")
    return Level(start=int(val("start", "1")), fmt=val("numFmt", "decimal"), text=val("lvlText", ""),
                 restart=int(restart) if restart is not None else None,
                 legal=legal is not None and legal.get(W + "val", "1") not in ("0", "false"),
                 suffix=val("suff", "tab"), style=val("pStyle"))


def _num_pr(ppr) -> tuple[Optional[str], Optional[int]]:
    if ppr is None or ppr.find(W + "numPr") is None:
        return None, None
    npr = ppr.find(W + "numPr")
    ilvl = _val(npr.find(W + "ilvl"))
    return _val(npr.find(W + "numId")), int(ilvl) if ilvl is not None else None


def _val(el) -> Optional[str]:
    return None if el is None else el.get(W + "val")


def _cn_counting(n: int) -> str:
    """一…十, 十一…九十九; from 100 digit by digit (一〇一), as Word's chineseCounting."""
    if n <= 0 or n >= 100:
        return _cn_digits(n)
    tens, ones = divmod(n, 10)
    return ((_CN[tens] if tens > 1 else "") + "十" if tens else "") + (_CN[ones] if ones else "")


def _cn_digits(n: int) -> str:
    return "".join(_CN[int(d)] for d in str(n))


def _cn_thousand(n: int) -> str:
    import cn2an

    return cn2an.an2cn(n, "low") if n > 0 else _cn_digits(n)


def _cn_legal(n: int) -> str:
    import cn2an

    return cn2an.an2cn(n, "up") if n > 0 else str(n)


def _circled(n: int) -> str:
    if 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if 21 <= n <= 35:
        return chr(0x3251 + n - 21)
    if 36 <= n <= 50:
        return chr(0x32B1 + n - 36)
    return f"({n})"


def _roman(n: int) -> str:
    out = []
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                       (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        count, n = divmod(n, value)
        out.append(sym * count)
    return "".join(out)


def _letter(n: int) -> str:
    """A…Z, then AA…ZZ, AAA… (Word repeats the letter)."""
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1) if n > 0 else str(n)


_FORMATS = {
    "decimal": str, "decimalFullWidth": str, "decimalHalfWidth": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalEnclosedCircle": _circled, "decimalEnclosedCircleChinese": _circled,
    "decimalEnclosedParen": lambda n: f"({n})",
    "decimalEnclosedFullstop": lambda n: f"{n}.",
    "chineseCounting": _cn_counting, "taiwaneseCounting": _cn_counting,
    "chineseCountingThousand": _cn_thousand, "taiwaneseCountingThousand": _cn_thousand,
    "japaneseCounting": _cn_thousand,
    "ideographDigital": _cn_digits, "taiwaneseDigital": _cn_digits,
    "ideographTraditional": lambda n: _TIANGAN[(n - 1) % 10],
    "ideographZodiac": lambda n: _DIZHI[(n - 1) % 12],
    "chineseLegalSimplified": _cn_legal, "ideographLegalTraditional": _cn_legal,
    "upperRoman": _roman, "lowerRoman": lambda n: _roman(n).lower(),
    "upperLetter": _letter, "lowerLetter": lambda n: _letter(n).lower(),
    "none": lambda n: "",
}
