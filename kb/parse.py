"""Parse a plan document's text into a tree: document → plan → part → domain/item →
section → clause → sub-item.

The rules follow the layout of Chinese development plans as published, first of all the
曾都区 notice 曾政发〔2022〕8号 (妇女发展规划 and 儿童发展规划, 2021—2030):

* parts are ``一、…``; items ``(一)…``; sections ``主要目标:`` / ``策略措施:``;
  clauses ``1.`` (or ``1、``); sub-items ``(1)``. Input is NFKC-normalised first, so
  full-width forms (``（一）``, ``１．``, ``：``) parse the same.
* A marker only opens a node when its number is the next one in sequence; otherwise the
  line is text. So ``8.5岁以下儿童贫血患病率…`` under goal 7 is goal 8 whose text starts
  ``5岁以下``, and ``3.5‰`` inside a sentence is never a clause number. A clause number
  that skips one or two numbers (1. 2. 4.) still opens clause 4, with a warning, so one
  missing clause does not swallow the rest of its section; a repeated number is text.
* An item ``(一)`` that holds sections is a domain (发展领域). An item whose line carries its
  own text (``(一)坚持党的全面领导。坚持…``, parts 三/四) is itself a clause.
* Text that a PDF export hard-wrapped at a fixed width is re-joined before parsing.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from kb import ids
from kb.errors import ParseError
from kb.read import read_document
from kb.types import SECTION_CODES, Clause, Document, Node

CN_DIGITS = "零一二三四五六七八九十"
_CN = f"[{CN_DIGITS}百]+"
PART_RE = re.compile(rf"^({_CN})\s*[、.]\s*(.*)$")
ITEM_RE = re.compile(rf"^\(\s*({_CN})\s*\)\s*(.*)$")
CLAUSE_RE = re.compile(r"^(\d{1,3})\s*[.、]\s*(.*)$")
SUBITEM_RE = re.compile(r"^\(\s*(\d{1,3})\s*\)\s*(.*)$")
SECTION_RE = re.compile(r"^(主要目标|策略措施|工作目标|主要任务|重点任务|保障措施)\s*[:]?\s*$")
PLAN_TITLE_RE = re.compile(
    r"^(?!.*[《》])(?P<title>.{2,40}?(?:发展)?(?:规划|纲要))\s*"
    r"(?:\(\s*(?P<start>\d{4})\s*[—\-–~至]+\s*(?P<end>\d{4})\s*年?\s*\))?$")
NOTICE_TITLE_RE = re.compile(r"关于.{2,200}?(?:通知|决定|意见|批复|函|公告)$")
DATE_RE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$")
SCOPE_RE = re.compile(r"^本(?:规划|纲要)所称.{2,80}$")
FURNITURE_RE = re.compile(
    r"^\s*(?:[•·]\s*)?(?:发布时间|审核人|【\s*字体|字体[:：]|打印$|关闭$|关闭窗口|扫一扫在手机上查看当前页面|"
    r"分享到|【\s*打印|【\s*关闭|当前位置|浏览次数|访问量)")
META_KEYS = ("索引号", "主题分类", "发文单位", "发文字号", "效力状态", "发布日期", "成文日期", "编辑", "审核", "信息来源", "有效性")
_META_SPLIT = re.compile("(" + "|".join(META_KEYS) + r")\s*[:]?")
_REGION_PREFIX = re.compile(r"^(?:[^\s(]{1,8}?(?:自治州|自治县|自治区|省|市|县|区|旗|盟))+")
SENTENCE_END = "。!?;:"
MAX_HEADING_CHARS = 40
# A clause number may skip this many numbers (1. 2. 4.) and still open a clause, when its
# text does not start with a digit (so "3.5‰以下" is never clause 3 followed by "5‰").
MAX_NUMBER_GAP = 2


@dataclass
class Line:
    """A logical line: physical lines re-joined where a hard wrap split them."""

    text: str
    start: int  # 1-based first physical line
    end: int
    after_blank: bool


@dataclass
class _Open:
    """A node under construction, with its children and its numbering counters."""

    node: Node
    children: list["_Open"] = field(default_factory=list)
    next_clause: int = 1
    next_item: int = 1
    inline_text: bool = False  # an item whose own line carries text (parts 三/四)
    parent: Optional["_Open"] = None
    code: str = ""  # this node's level in the id (p2, d2, m3…)


def parse_file(path: str | Path, doc_id: str | None = None) -> Document:
    """Read and parse one file (.txt or .html). See :func:`parse_text`.

    Raises InputError (unreadable file) or ParseError (no plan structure).
    """
    p = Path(path)
    return parse_text(read_document(p), source=str(p), doc_id=doc_id)


def parse_text(text: str, source: str = "<text>", doc_id: str | None = None,
               allow_unstructured: bool = False) -> Document:
    """Parse normalised document text into a :class:`Document`.

    Text with no plan title and no numbering raises ParseError unless
    ``allow_unstructured``, in which case it is stored as paragraphs with a warning.
    A plan whose numbering is not recognisable keeps its text as paragraph nodes and adds
    a warning; nothing is dropped.
    """
    if not text.strip():
        raise ParseError(f"{source}: the document has no text")
    lines = logical_lines(text)
    title_at = _find_notice_title(lines)
    meta = parse_header([ln.text for ln in lines[: title_at if title_at is not None else _first_plan(lines)]])
    body_from = 0
    if title_at is not None:
        meta["title"] = lines[title_at].text
        body_from = title_at + 1
    plan_at = _first_plan(lines, body_from)
    meta.update(parse_notice(lines[body_from:plan_at]))
    title = meta.get("title") or (lines[plan_at].text if plan_at < len(lines) else lines[0].text[:60])
    did = doc_id or ids.document_id(meta.get("发文字号"), title, Path(source).stem)
    builder = _TreeBuilder(did, title)
    builder.notice(lines[body_from:plan_at])
    for ln in lines[plan_at:]:
        builder.feed(ln)
    doc = builder.finish(source=source, meta=meta)
    if not doc.clauses and not any(n.kind == "paragraph" for n in doc.nodes):
        raise ParseError(f"{source}: no text found after the header; is this a plan document?")
    if not builder.structured:
        if not allow_unstructured:
            raise ParseError(
                f"{source}: no plan structure recognised (no 规划 title, no 一、/(一)/1. numbering); "
                "check that this is a plan document, or pass --allow-unstructured to store it as paragraphs")
        doc.warnings.append("no numbering recognised: stored as paragraphs")
    doc.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return doc


# ---------------------------------------------------------------- logical lines

def logical_lines(text: str) -> list[Line]:
    """Split text into logical lines, dropping page furniture and re-joining hard wraps.

    A physical line is joined to the previous one when the text is hard-wrapped (most
    long lines have the same length W) and the previous line is full (≥ W-1 characters)
    and does not end a sentence.
    """
    raw = [ln.strip() for ln in text.split("\n")]
    width = wrap_width(raw)
    out: list[Line] = []
    blank = False
    for i, t in enumerate(raw, start=1):
        if not t or FURNITURE_RE.match(t):
            blank = blank or not t
            continue
        prev = out[-1] if out else None
        if (width and prev and not blank and prev.end == i - 1 and len(_last_physical(prev, raw)) >= width - 1
                and prev.text[-1] not in SENTENCE_END):
            prev.text = _join(prev.text, t)
            prev.end = i
        else:
            out.append(Line(t, i, i, blank))
        blank = False
    return out


def _last_physical(line: Line, raw: list[str]) -> str:
    return raw[line.end - 1]


def wrap_width(lines: list[str]) -> int | None:
    """The hard-wrap width W of the text, or None when it is not hard-wrapped."""
    long = [len(t) for t in lines if len(t) >= 20]
    if len(long) < 10:
        return None
    width, count = Counter(long).most_common(1)[0]
    return width if count >= 0.3 * len(long) else None


def _join(a: str, b: str) -> str:
    """Join a wrapped line to its predecessor. No space is inserted: Chinese text has none,
    and a PDF wrap can split a number (5|0%) as easily as a word."""
    return a + b


def _find_notice_title(lines: list[Line]) -> int | None:
    for i, ln in enumerate(lines[:40]):
        if PLAN_TITLE_RE.match(ln.text):
            return None
        if NOTICE_TITLE_RE.search(ln.text) and not ln.text.startswith(META_KEYS):
            return i
    return None


def _first_plan(lines: list[Line], start: int = 0) -> int:
    for i in range(start, len(lines)):
        if PLAN_TITLE_RE.match(lines[i].text):
            return i
    for i in range(start, len(lines)):  # no plan title: the plan starts at the first part
        m = PART_RE.match(lines[i].text)
        if m and cn_number(m[1]) == 1:
            return i
    return start


# ---------------------------------------------------------------- header and notice

def parse_header(lines: list[str]) -> dict:
    """Metadata fields of a government web page header (索引号 000014349/2023-01810 …).

    Keys as written (索引号, 主题分类, 发文单位, 发文字号, 效力状态, 发布日期, 编辑, 审核);
    发布日期 becomes ISO ``YYYY-MM-DDTHH:MM`` (or ``YYYY-MM-DD``).
    """
    joined = " ".join(lines)
    parts = _META_SPLIT.split(joined)
    meta: dict = {}
    for key, value in zip(parts[1::2], parts[2::2]):
        value = value.strip(" :")
        if value and key not in meta:
            meta[key] = value
    if "发布日期" in meta:
        meta["发布日期"] = iso_datetime(meta["发布日期"])
    return meta


def iso_datetime(value: str) -> str:
    """``2022-12-30 11:25`` / ``2022年12月30日`` → ``2022-12-30T11:25`` / ``2022-12-30``."""
    m = re.search(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})日?(?:\s+(\d{1,2}):(\d{2}))?", value)
    if not m:
        return value
    date = f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}"
    return f"{date}T{int(m[4]):02d}:{m[5]}" if m[4] else date


def parse_notice(lines: list[Line]) -> dict:
    """The notice between the title and the first plan: 主送 (addressees), 正文, 成文日期."""
    meta: dict = {}
    body: list[str] = []
    for ln in lines:
        t = ln.text
        if DATE_RE.match(t):
            meta["成文日期"] = iso_datetime(t)
        elif t.endswith(":") and "主送" not in meta and not body:
            meta["主送"] = t.rstrip(":")
        elif not _META_SPLIT.match(t):
            body.append(t)
    if body:
        meta["正文"] = "\n".join(body)
    return meta


def cn_number(s: str) -> int:
    """Chinese numeral 一…九十九 to int (uses cn2an); raises ValueError when not one."""
    import cn2an

    return int(cn2an.cn2an(s, "strict"))


def plan_key(title: str) -> str:
    """Short name of a plan: 曾都区妇女发展规划(2021—2030年) → 妇女.

    Strips the leading region (…省…市…区) and the trailing 发展规划/规划/纲要.
    """
    core = re.sub(r"\(.*$", "", title)
    core = re.sub(r"(?:发展)?(?:规划|纲要)$", "", core)
    stripped = _REGION_PREFIX.sub("", core)
    return stripped or core


def split_heading(text: str) -> tuple[Optional[str], str]:
    """(heading, text): the heading is the leading sentence up to 。 when it is short
    (≤ 40 characters) and has no comma, e.g. 预防和控制儿童溺水。加强看护… → 预防和控制儿童溺水."""
    m = re.match(r"^([^。,;:]{2,%d})。" % MAX_HEADING_CHARS, text)
    return (m[1], text) if m else (None, text)


# ---------------------------------------------------------------- tree building

class _TreeBuilder:
    """Feeds logical lines through the numbering state machine and emits the tree."""

    def __init__(self, doc_id: str, title: str):
        self.root = _Open(Node(id=doc_id, doc_id=doc_id, kind="document", title=title))
        self.stack: list[_Open] = [self.root]
        self.plan_codes: Counter = Counter()
        self.structured = False
        self.warnings: list[str] = []
        self.plans_meta: list[dict] = []

    # -- helpers
    def _top(self, *kinds: str) -> Optional[_Open]:
        for o in reversed(self.stack):
            if o.node.kind in kinds:
                return o
        return None

    def _pop_to(self, o: _Open) -> None:
        while self.stack[-1] is not o:
            self.stack.pop()

    def _open(self, parent: _Open, kind: str, code: str, title: str, ln: Line, number=None) -> _Open:
        n = Node(id=ids.child_id(parent.node.id, code), doc_id=self.root.node.id, kind=kind, title=title,
                 parent_id=parent.node.id, number=number, line_start=ln.start, line_end=ln.end,
                 path=parent.node.path + [title] if parent.node.kind != "document" else [title])
        child = _Open(n, parent=parent, code=code)
        parent.children.append(child)
        self._pop_to(parent)
        self.stack.append(child)
        return child

    def notice(self, lines: list[Line]) -> None:
        """The notice that transmits the plans (主送, 正文, 成文日期): one paragraph each,
        so that questions such as 通知是发给哪些单位的 can cite it."""
        if not lines:
            return
        o = self._open(self.root, "notice", "notice", "通知", lines[0])
        for k, ln in enumerate(lines, start=1):
            p = self._open(o, "paragraph", f"para{k}", f"¶{k}", ln)
            p.node.text = ln.text
        self._pop_to(self.root)

    # -- the state machine
    def feed(self, ln: Line) -> None:
        t = ln.text
        m = PLAN_TITLE_RE.match(t)
        if m and not ITEM_RE.match(t) and not CLAUSE_RE.match(t):
            return self._plan(m, ln)
        plan = self._top("plan")
        if plan is None:
            plan = self._implicit_plan(ln)
        if self._try_part(plan, ln) or self._try_item(ln) or self._try_section(ln):
            return
        if self._try_clause(ln) or self._try_subitem(ln):
            return
        if SCOPE_RE.match(t) and self.stack[-1] is plan:
            self.plans_meta[-1]["scope"] = t
        self._text(ln)

    def _plan(self, m: re.Match, ln: Line) -> None:
        title = m.group(0)
        key = plan_key(title)
        code = ids.slug(key) or "plan"
        self.plan_codes[code] += 1
        if self.plan_codes[code] > 1:
            code = f"{code}{self.plan_codes[code]}"
        o = self._open(self.root, "plan", code, title, ln)
        o.node.text = ""
        period = [int(m["start"]), int(m["end"])] if m["start"] else None
        self.plans_meta.append({"id": o.node.id, "key": key, "title": title, "period": period, "scope": None})
        self.structured = True

    def _implicit_plan(self, ln: Line) -> _Open:
        title = self.root.node.title
        o = self._open(self.root, "plan", ids.slug(plan_key(title))[:30] or "plan", title, ln)
        self.plans_meta.append({"id": o.node.id, "key": plan_key(title), "title": title, "period": None, "scope": None})
        return o

    def _try_part(self, plan: _Open, ln: Line) -> bool:
        m = PART_RE.match(ln.text)
        if not m or _num(m[1]) != len([c for c in plan.children if c.node.kind == "part"]) + 1:
            return False
        n = _num(m[1])
        self._open(plan, "part", f"p{n}", m[2].strip() or m[1], ln, number=n)
        self.structured = True
        return True

    def _try_item(self, ln: Line) -> bool:
        m = ITEM_RE.match(ln.text)
        part = self._top("part")
        if not m or part is None or _num(m[1]) != part.next_item:
            return False
        n = _num(m[1])
        rest = m[2].strip()
        heading, _ = split_heading(rest)
        inline = "。" in rest or len(rest) > MAX_HEADING_CHARS
        title = heading or (rest if not inline else rest[:20])
        o = self._open(part, "item", f"i{n}", title, ln, number=n)
        o.inline_text = inline
        if inline:
            o.node.text = rest
        part.next_item += 1
        return True

    def _try_section(self, ln: Line) -> bool:
        m = SECTION_RE.match(ln.text)
        container = self._top("domain", "item", "part")
        if not m or container is None:
            return False
        title = m[1]
        code = SECTION_CODES.get(title) or f"s{len(container.children) + 1}"
        if container.node.kind == "item":
            container.node.kind = "domain"  # its id is re-derived in finish()
        self._open(container, "section", code, title, ln)
        return True

    def _try_clause(self, ln: Line) -> bool:
        m = CLAUSE_RE.match(ln.text)
        container = self._top("section", "item", "domain", "part", "plan")
        if not m or container is None or container.inline_text:
            return False
        n = int(m[1])
        expected = container.next_clause
        if n != expected:
            where = "/".join(container.node.path)
            if expected < n <= expected + MAX_NUMBER_GAP and m[2][:1] and not m[2][0].isdigit():
                # a skipped number (1. 2. 4.): keep 4 as clause 4 so later ids do not shift
                self.warnings.append(f"line {ln.start}: numbering skips from {expected - 1}. to {n}. in {where}; "
                                     f"check the source (clause {expected} may be missing)")
            else:
                if n > 1 and expected > 1:
                    self.warnings.append(f"line {ln.start}: '{n}.' out of sequence (expected {expected}.) "
                                         f"in {where}; kept as text of the previous clause")
                return False
        code = f"{container.code}{n}" if container.node.kind == "section" else str(n)
        o = self._open(container, "clause", code, f"{n}", ln, number=n)
        o.node.text = m[2].strip()
        container.next_clause = n + 1
        self.structured = True
        return True

    def _try_subitem(self, ln: Line) -> bool:
        m = SUBITEM_RE.match(ln.text)
        clause = self._top("clause")
        if not m or clause is None or int(m[1]) != clause.next_item:
            return False
        n = int(m[1])
        o = self._open(clause, "subitem", f"s{n}", f"({n})", ln, number=n)
        o.node.text = m[2].strip()
        clause.node.text = _append(clause.node.text, ln.text, ln.after_blank)
        clause.next_item += 1
        return True

    def _text(self, ln: Line) -> None:
        top = self.stack[-1]
        kind = top.node.kind
        if kind == "paragraph" and ln.after_blank:
            top = top.parent
            kind = top.node.kind
        if kind in ("clause", "subitem", "paragraph") or (kind == "item" and (top.inline_text or not top.children)):
            top.node.text = _append(top.node.text, ln.text, ln.after_blank)
            top.node.line_end = ln.end
            if kind == "subitem":
                clause = self._top("clause")
                clause.node.text = _append(clause.node.text, ln.text, ln.after_blank)
                clause.node.line_end = ln.end
            return
        self._pop_to(top)
        parent = top
        k = sum(1 for c in parent.children if c.node.kind == "paragraph") + 1
        o = self._open(parent, "paragraph", f"para{k}", f"¶{k}", ln)
        o.node.text = ln.text
        if kind == "section":
            self.warnings.append(f"line {ln.start}: text without clause numbering in {'/'.join(parent.node.path)}; "
                                 "stored as a paragraph")

    # -- output
    def finish(self, source: str, meta: dict) -> Document:
        nodes: list[Node] = []
        clauses: list[Clause] = []
        self._assign_ids(self.root)
        self._flatten(self.root, nodes)
        for o in self._walk(self.root):
            c = self._clause_of(o)
            if c:
                c.ord = len(clauses)
                clauses.append(c)
        meta = dict(meta)
        meta["plans"] = self.plans_meta
        return Document(id=self.root.node.id, source=source, title=self.root.node.title, meta=meta,
                        nodes=nodes, clauses=clauses, warnings=self.warnings)

    def _assign_ids(self, o: _Open) -> None:
        """Derive final ids top-down. Domains are only known once a section appears, so
        their code i2 becomes d2 here; a clause of a section hangs off the domain
        (….d2.m3, not ….d2.m.m3)."""
        if o.parent is not None:
            if o.node.kind == "domain" and o.code.startswith("i"):
                o.code = "d" + o.code[1:]
            base = o.parent.parent if o.parent.node.kind == "section" and o.node.kind == "clause" else o.parent
            o.node.id = ids.child_id(base.node.id, o.code)
            o.node.parent_id = o.parent.node.id
        for c in o.children:
            self._assign_ids(c)

    def _walk(self, o: _Open):
        yield o
        for c in o.children:
            yield from self._walk(c)

    def _flatten(self, o: _Open, out: list[Node]) -> None:
        o.node.ord = len(out)
        out.append(o.node)
        for c in o.children:
            self._flatten(c, out)

    def _clause_of(self, o: _Open) -> Optional[Clause]:
        n = o.node
        is_item_clause = n.kind == "item" and not any(c.node.kind in ("clause", "section") for c in o.children) and n.text
        if n.kind not in ("clause", "paragraph") and not is_item_clause:
            return None
        if n.kind == "paragraph" and o.parent.node.kind in ("clause", "subitem"):
            return None
        chain = self._chain(o)
        plan = chain.get("plan")
        part = chain.get("part")
        domain = chain.get("domain")
        section = chain["section"].title if "section" in chain else None
        item = chain.get("item")
        number = n.number
        heading, text = split_heading(n.text)
        if is_item_clause:
            if o.inline_text:
                heading = n.title if split_heading(n.text)[0] else None
            else:
                section, number, heading = n.title, None, n.title
        elif item is not None and n.kind == "clause":
            section = item.title
        if n.kind == "paragraph":
            heading, number = None, None
            if o.parent.node.kind == "notice":
                section = "通知"
        key = plan_key(plan.title) if plan else None
        return Clause(
            id=n.id, doc_id=n.doc_id, plan=key, part=part.title if part else None,
            domain=domain.title if domain else None, section=section, number=number, heading=heading,
            text=text, path=list(n.path), short_path=_short_path(key, part, domain, section, item, n, is_item_clause),
            plan_title=plan.title if plan else None, line_start=n.line_start, line_end=n.line_end)

    @staticmethod
    def _chain(o: _Open) -> dict[str, Node]:
        """The nearest ancestor of each kind: {"plan": …, "part": …, "domain": …}."""
        chain: dict[str, Node] = {}
        p = o.parent
        while p is not None:
            chain.setdefault(p.node.kind, p.node)
            p = p.parent
        return chain


def _short_path(key, part, domain, section, item, n: Node, is_item_clause: bool) -> str:
    """The Chinese path `kb show` accepts: 儿童/儿童安全/策略措施/3, 儿童/基本原则/2,
    儿童/组织实施/1, 儿童/指导思想, 通知/¶1."""
    segs = [key or section or ""]
    if domain is not None:
        segs += [domain.title, section or ""]
    elif is_item_clause and n.number is not None and section is None:
        segs.append(part.title if part else "")
    elif item is not None:
        segs.append(item.title)
    elif is_item_clause:
        segs.append(n.title)
        return "/".join(s for s in segs if s)
    elif part is not None:
        segs.append(part.title)
    if n.kind == "paragraph":
        segs.append(n.title)
    elif n.number is not None:
        segs.append(str(n.number))
    return "/".join(s for s in segs if s)


def _append(text: str, more: str, after_blank: bool) -> str:
    if not text:
        return more
    return text + "\n" + more if after_blank else _join(text, more)


def _num(s: str) -> int:
    try:
        return cn_number(s)
    except ValueError:
        return -1
