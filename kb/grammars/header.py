"""The head of a published document: page metadata, title, and the facts every grammar
records (document type, issuer, level, dates, validity).

Government portals print metadata in many shapes (seen in the seed 曾政发〔2022〕8号 and the
fragments of other plans): ``索引号 000014349/2023-01810 主题分类 政务公开`` (labels without
colons), ``来源: | 来源:国发〔2021〕16号 | 时间 :2021-09-28 | 22282 次浏览 | 分享到:``,
``• 发布时间:2022-12-30 11:25``, ``颁布单位:… | 文号: |``. Keys are kept as written.
"""
from __future__ import annotations

import re
from typing import Optional

from dataclasses import dataclass, field

from kb.grammars.lines import Line, iso_date, iso_datetime

# Labels that may stand without a colon at the start of a header line (the seed's page header).
STRONG_KEYS = ("索引号", "主题分类", "发文单位", "发文机关", "发文字号", "效力状态", "发布日期", "成文日期",
               "信息来源", "有效性", "颁布单位", "发布机构", "实施日期", "生效日期", "失效日期", "审核人", "编辑", "审核")
# Labels that only count with a colon (they are common words in running text).
WEAK_KEYS = ("来源", "时间", "日期", "发布时间", "文号", "作者", "主题词", "责任编辑")
_KEY = "|".join(sorted(STRONG_KEYS + WEAK_KEYS, key=len, reverse=True))
_STRONG = "|".join(sorted(STRONG_KEYS, key=len, reverse=True))
_LABEL = re.compile(rf"(?:^|(?<=[\s|•·]))(?:(?P<k>{_KEY})\s*:|(?P<s>{_STRONG})(?=\s))")
_BULLET = re.compile(r"^[•·\s]+")
DATE_KEYS = {"发布日期", "发布时间", "时间", "日期", "成文日期", "实施日期", "生效日期", "失效日期"}
HEADER_SCAN_LINES = 15


def is_meta_line(text: str) -> bool:
    """True when the line is made of labelled fields (``发布时间:2022-12-30``, ``来源: | 时间:…``)."""
    t = _BULLET.sub("", text)
    m = _LABEL.match(t)
    return bool(m) and (bool(m["k"]) or len(t) < 120)


def parse_meta_line(text: str, meta: dict) -> None:
    """Add the labelled fields of one header line to ``meta`` (first non-empty value wins;
    an empty field stays ``""``). Cells separated by ``|`` never run into each other; a
    trailing counter such as ``22282 次浏览`` is dropped. Dates become ISO."""
    for cell in _BULLET.sub("", text).split("|"):
        labels = list(_LABEL.finditer(cell))
        for i, m in enumerate(labels):
            key = m["k"] or m["s"]
            end = labels[i + 1].start() if i + 1 < len(labels) else len(cell)
            value = re.sub(r"\s*\d+\s*次浏览.*$", "", cell[m.end():end]).strip(" \t:")
            if key in DATE_KEYS and value:
                value = iso_datetime(value)
            if value or key not in meta:
                if not meta.get(key):
                    meta[key] = value


def read_header(lines: list[Line], stop: int) -> tuple[dict, set[int]]:
    """Metadata from the head of the document: every meta line among the first lines
    (before ``stop``, the first structural line). Returns (meta, indices of consumed lines)."""
    meta: dict = {}
    used: set[int] = set()
    for i, ln in enumerate(lines[: min(stop, HEADER_SCAN_LINES)]):
        if is_meta_line(ln.text):
            parse_meta_line(ln.text, meta)
            used.add(i)
    return meta, used


# ---------------------------------------------------------------- document facts

PLAN_TYPES = ("实施方案", "行动计划", "发展规划", "规划", "纲要", "计划")
NOTICE_TYPES = ("通知", "意见", "决定", "批复", "通报", "公告", "通告", "函", "报告", "方案", "办法", "规定", "细则",
                "条例", "准则", "规则", "解释", "决议", "命令", "令")
# Every type doc_type() can give, and every level level_of() can: a filter on one of them that
# no document has yet matches nothing; any other value is a mistake (kb.docfilter).
DOC_TYPES = tuple(dict.fromkeys(("法律", "行政法规", "地方性法规", "规章", "司法解释", *NOTICE_TYPES,
                                 *(t for t in PLAN_TYPES if t != "发展规划"))))
LEVELS = ("国家", "省", "市", "县区")


def doc_type(title: str, grammar: str, issuer: Optional[str] = None, header: str = "") -> Optional[str]:
    """The document's type as published (规划, 纲要, 法律, 行政法规, 地方性法规, 规章, 司法解释,
    通知, 意见, 办法…), from its title, issuer and header block. ``None`` when nothing says.

    Rules: a title ending in 通知/意见/… is that type (the seed's 关于印发…的通知 is 通知 though it
    holds two plans); a law-grammar text is typed by who enacted it (全国人民代表大会 → 法律,
    国务院 → 行政法规, 最高人民法院/检察院 → 司法解释, 省/市 人大 → 地方性法规, a ministry's or a
    local government's 令 → 规章), else by its title (…法 → 法律, 条例 → 行政法规); a plan-grammar
    text by its title (规划, 纲要, 实施方案…).
    """
    t = re.sub(r"\(.*?\)$", "", title.strip())
    who = f"{issuer or ''} {header}"
    legal_title = re.search(r"(法|条例|规定|办法|细则|规则|解释|批复|决定)$", t) and not re.search(r"关于印发", t)
    if grammar == "law" or (legal_title and who.strip()):
        if re.search(r"最高人民法院|最高人民检察院", who) or re.search(r"^最高人民(法院|检察院)", t):
            return "司法解释"
        if re.search(r"全国人民代表大会", who):
            return "法律"
        if re.search(r"(省|自治区|市|州|县)人民代表大会", who):
            return "地方性法规"
        if re.search(r"国务院令|国务院(第.{1,4}次)?常务会议|国务院(批准|发布|公布)|中华人民共和国国务院", who):
            return "行政法规"
        if re.search(r"(部|局|委员会|署|行|总局|办公厅|人民政府)令", who):
            return "规章"
        if t.endswith("法") or "中华人民共和国" in t and t.endswith("法"):
            return "法律"
        if t.endswith("条例"):
            return "行政法规"
        if re.search(r"(规定|办法|细则)$", t):
            return "规章"
    for kind in NOTICE_TYPES:
        if t.endswith(kind) and re.search(r"关于|的" + kind + "$", t):
            return kind
    for kind in PLAN_TYPES:
        if kind in t:
            return "规划" if kind == "发展规划" else kind
    for kind in NOTICE_TYPES:
        if t.endswith(kind):
            return kind
    return None


def level_of(issuer: Optional[str]) -> Optional[str]:
    """Administrative level of an issuer: 国家 / 省 / 市 / 县区 (None when unknown).
    中华人民共和国, 国务院, 全国…, 最高人民…, a ministry (…部) → 国家; …省/自治区/直辖市 → 省;
    …市/州/盟 → 市; …县/区/旗 → 县区."""
    if not issuer:
        return None
    s = issuer.strip()
    if re.match(r"(中华人民共和国|国务院|全国|最高人民|中共中央|中央|国家)", s) or re.search(r"^[^省市县区]{1,8}部$", s):
        return "国家"
    if re.match(r"^(北京|天津|上海|重庆)市", s) or re.search(r"(省|自治区)", s[:8]) and not re.search(r"(市|州|县|区)\S{0,3}(人民政府|委员会)", s[:12]):
        return "省"
    if re.search(r"(市|州|盟)", s[:8]) and not re.search(r"(县|区|旗)", s[:8]):
        return "市"
    if re.search(r"(县|区|旗)", s[:10]):
        return "县区"
    return None


_EVENT = re.compile(r"(通过|公布|发布|修正|修订|施行|批准|印发|实施)")


def law_dates(header_lines: list[str]) -> tuple[dict, Optional[str]]:
    """Dates and enacting body from a law's header block, one event per line
    (``2015年12月27日 第十二届全国人民代表大会常务委员会第十八次会议通过``,
    ``…《关于修改…的决定》第一次修正``, ``2016年3月1日 施行``).

    Returns ({signed, published, effective, amended: [...]}, enacting body or None): signed
    = the date it was adopted (通过/批准), published = 公布/发布, effective = 施行/实施,
    amended = every 修正/修订 date in order.
    """
    dates: dict = {"signed": None, "published": None, "effective": None, "amended": []}
    body = None
    for line in header_lines:
        for chunk in re.split(r"(?<=[通过布正订行准发施])\s*[;;,,]\s*", line):
            d = iso_date(chunk)
            if not d:
                continue
            d = d[:10]
            events = set(_EVENT.findall(chunk))
            if events & {"修正", "修订"}:
                dates["amended"].append(d)
            elif events & {"通过", "批准"}:
                if dates["signed"] is None:
                    dates["signed"] = d
                    body = body or _body(chunk)
                else:  # a later adoption of the same text (司法解释 revised by 审判委员会)
                    dates["amended"].append(d)
            elif events & {"公布", "发布", "印发"}:
                dates["published"] = d  # the latest promulgation
                body = body or _body(chunk)
            elif events & {"施行", "实施"}:
                dates["effective"] = d
    return dates, body


_DATE_PREFIX = re.compile(r"^\D*?\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")


def _body(chunk: str) -> Optional[str]:
    """The enacting body named in a header event: 第十二届全国人民代表大会常务委员会第十八次会议通过 →
    全国人民代表大会常务委员会; 中华人民共和国国务院令第687号公布 → 国务院; 最高人民法院审判委员会… → 最高人民法院."""
    chunk = _DATE_PREFIX.sub("", re.sub(r"第[一二三四五六七八九十百零\d]+(届|次)", "", chunk))
    for name in ("全国人民代表大会常务委员会", "全国人民代表大会", "最高人民法院", "最高人民检察院", "国务院"):
        if name in chunk:
            return name
    m = re.search(r"([\u4e00-\u9fff]{2,12}?(?:人民代表大会常务委员会|人民政府|部|委员会|总局|局|署))", chunk)
    return m[1] if m else None


# ---------------------------------------------------------------- the head of a plan or notice

NOTICE_TITLE_RE = re.compile(r"关于.{2,200}?(?:通知|决定|意见|批复|函|公告|通报|办法|规定|方案)$")
DOC_NO_RE = re.compile(r"[\u4e00-\u9fff]{1,10}\s*[〔\[(【]\s*\d{4}\s*[〕\])】]\s*\d+\s*号")
DATE_LINE_RE = re.compile(r"^(\d{4}|[〇零一二三四五六七八九]{4})\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月\s*[\d一二三四五六七八九十]{1,3}\s*日$")
_PERIOD_LINE = re.compile(r"^\(\s*\d{4}\s*[—\-–~至]+\s*\d{4}\s*年?\s*\)$")


@dataclass
class Head:
    """The head of a plan or notice: ``title`` ("" when the text states none), ``meta``
    (labelled fields as written, plus ``title``, 发文字号 from an unlabelled 文号 line),
    ``lines`` (the logical lines without the meta lines), ``body_from`` (index in ``lines``
    of the first line after the title) and whether the title is a notice's (关于…的通知)."""

    title: str
    meta: dict
    lines: list[Line]
    body_from: int
    notice_title: bool = False
    title_lines: list[int] = field(default_factory=list)


def read_head(lines: list[Line], is_structural, is_plan_title) -> Head:
    """Split off the page header and the title. ``is_structural(text)`` tells a heading or
    clause (where the head must end); ``is_plan_title(text)`` a plan title line (which the
    plan grammar keeps in the body as the plan node)."""
    stop = next((i for i, ln in enumerate(lines) if is_structural(ln.text)), len(lines))
    meta, used = read_header(lines, stop)
    body = [ln for i, ln in enumerate(lines) if i not in used]
    for i, ln in enumerate(body[:40]):
        if is_plan_title(ln.text) or is_structural(ln.text):
            break
        if NOTICE_TITLE_RE.search(ln.text) and len(ln.text) <= 200:
            meta["title"] = ln.text
            return Head(ln.text, meta, body, i + 1, True, [i])
    if not body:
        return Head("", meta, body, 0)
    first = body[0].text
    if is_structural(first) or len(first) > 100 or first[-1] in "。;,":
        return Head("", meta, body, 0)
    title, taken = first, [0]
    if len(body) > 1 and _PERIOD_LINE.match(body[1].text):
        title, taken = first + body[1].text, [0, 1]
    if is_plan_title(first):
        return Head(title, meta, body, 0, False, [])
    meta["title"] = title
    after = taken[-1] + 1
    if after < len(body) and DOC_NO_RE.fullmatch(body[after].text.strip()):
        meta.setdefault("发文字号", body[after].text.strip())
        after += 1
    return Head(title, meta, body, after, False, taken)


def parse_notice(lines: list[Line]) -> dict:
    """The notice between the title and the first plan: 主送 (addressees), 正文, 成文日期."""
    meta: dict = {}
    body: list[str] = []
    for ln in lines:
        t = ln.text
        if DATE_LINE_RE.match(t):
            meta["成文日期"] = iso_datetime(t)
        elif t.endswith(":") and "主送" not in meta and not body:
            meta["主送"] = t.rstrip(":")
        else:
            body.append(t)
    if body:
        meta["正文"] = "\n".join(body)
    return meta


def document_facts(title: str, grammar: str, meta: dict, law_header: Optional[dict] = None) -> dict:
    """The facts every document records: ``doc_type``, ``issuer``, ``level``, ``doc_number``,
    ``dates`` {signed, published, effective, amended: [...]} (ISO dates) and ``validity``; None
    where the text does not state them. ``law_header`` is (dates, body, header text) from a
    law's header block."""
    doc_number = meta.get("发文字号") or meta.get("文号") or next(
        (DOC_NO_RE.search(v)[0] for v in meta.values() if isinstance(v, str) and DOC_NO_RE.search(v)), None)
    issuer = meta.get("发文单位") or meta.get("发文机关") or meta.get("颁布单位") or meta.get("发布机构") or None
    published = meta.get("发布日期") or meta.get("发布时间") or meta.get("时间") or meta.get("日期")
    dates = {"signed": meta.get("成文日期"), "published": published or None,
             "effective": meta.get("实施日期") or meta.get("生效日期"), "amended": []}
    header_text = ""
    if law_header:
        ld, body, header_text = law_header
        issuer = issuer or body
        for k in ("signed", "published", "effective"):
            dates[k] = dates[k] or ld[k]
        dates["amended"] = ld["amended"]
    return {"doc_type": doc_type(title, grammar, issuer, header_text), "issuer": issuer,
            "level": level_of(issuer), "doc_number": doc_number or None, "dates": dates,
            "validity": meta.get("效力状态") or meta.get("有效性") or None}
