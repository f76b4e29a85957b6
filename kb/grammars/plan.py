"""Plan grammar: 规划, 纲要, 实施方案 of both periods (2011—2020 and 2021—2030).

document → notice (the 通知 wrapping the plans, when there is one) → plan → part (一、) →
domain ((一)妇女与健康, an item that holds sections) / item ((一)指导思想) → section
(主要目标: / 策略措施:) → clause (1.) → sub-item ((1)). The rules follow the layout of the seed
(曾政发〔2022〕8号: 妇女发展规划 and 儿童发展规划, 2021—2030) and of real fragments of other plans:

* A marker only opens a node when its number is the next in sequence; otherwise the line is
  text. So ``8.5岁以下…`` under goal 7 is goal 8 whose text starts ``5岁以下``, and ``3.5‰``
  inside a sentence is never a clause. A clause number that skips one or two numbers
  (1. 2. 4.) still opens clause 4, with a warning; a repeated number is text.
* An excerpt may start anywhere: the first part, item or clause of its container may have any
  number (``三、发展领域…`` of a 2011—2020 plan page, clauses 9–12 of a web page). A clause 1
  after two or more clauses of one section restarts the numbering: a new group (the next
  domain of a responsibility table whose domain column was lost).
* Headings may end in ``。`` (``(一)妇女与健康。``); an item whose line carries more text
  (``(一)坚持党的全面领导。坚持…``) is itself a clause.
* Goals grouped under a short title with ``——``/``--`` indicators keep the indicators in the
  goal's text. Responsibility lines (``牵头单位:…  责任单位:…``) and the one-body-per-line cells
  of a flattened responsibility table (目标责任分解书) become explicit department tags of the
  clause, with the bodies' names as written, and never stay in its text.
* A table of contents (目录) that repeats the headings is skipped; a repeated title line is
  dropped; text before any structure of a plan with no title line of its own (a web column's
  introduction) is kept as preamble nodes, not clauses.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Optional

from kb import ids
from kb.grammars.lines import CN_NUM, Line, num
from kb.grammars.tree import Open, TreeBuilder, append_text
from kb.types import SECTION_CODES, Clause, DepartmentTag, Node

NAME = "plan"
PART_RE = re.compile(rf"^({CN_NUM})\s*[、.]\s*(.*)$")
ITEM_RE = re.compile(rf"^\(\s*({CN_NUM})\s*\)\s*(.*)$")
CLAUSE_RE = re.compile(r"^(\d{1,3})\s*[.、]\s*(.*)$")
SUBITEM_RE = re.compile(r"^\(\s*(\d{1,3})\s*\)\s*(.*)$")
SECTION_RE = re.compile(r"^(主要目标|策略措施|工作目标|主要任务|重点任务|保障措施)\s*[:。]?\s*$")
PLAN_TITLE_RE = re.compile(
    r"^(?!.*[《》])(?P<title>.{2,40}?(?:发展)?(?:规划|纲要))\s*"
    r"(?:\(\s*(?P<start>\d{4})\s*[—\-–~至]+\s*(?P<end>\d{4})\s*年?\s*\))?\s*(?:全文|\(全文\))?$")
QUOTED_PLAN_RE = re.compile(r"《(?P<title>[^《》]{2,40}?(?:发展)?(?:规划|纲要)\s*(?:\(\s*(?P<start>\d{4})\s*[—\-–~至]+\s*(?P<end>\d{4})\s*年?\s*\))?)》")
SCOPE_RE = re.compile(r"^本(?:规划|纲要)所称.{2,80}$")
_REGION_PREFIX = re.compile(r"^(?:[^\s(]{1,8}?(?:自治州|自治县|自治区|省|市|县|区|旗|盟))+")
TOC_RE = re.compile(r"^目\s*录$")
# Responsibility: labelled lines, and the header cells of a flattened responsibility table.
RESP_LABEL = re.compile(r"(牵头单位|主要责任单位|责任单位|配合单位|参与单位|协办单位|牵头部门|责任部门|配合部门)\s*[:]\s*")
TABLE_HEADER_CELLS = {"领域", "主要目标", "策略措施", "指标", "目标", "任务", "主要任务", "重点任务", "序号", "完成时限",
                      "主要责任单位", "责任单位", "牵头单位", "配合单位", "参与单位", "牵头部门", "责任部门", "配合部门"}
_RESP_HEADER = {"主要责任单位", "责任单位", "牵头单位", "配合单位", "参与单位", "牵头部门", "责任部门", "配合部门"}
_BODY_CELL = re.compile(r"^[\u4e00-\u9fff()]{2,20}$")
SENTENCE_PUNCT = re.compile(r"[。,;:!?、%‰]")
MAX_HEADING_CHARS = 40
MAX_NUMBER_GAP = 2


def detect(lines: list[Line]) -> tuple[int, str]:
    """Evidence that the text is a plan: (score, reason). Plan titles (…规划/纲要 with a
    period), 主要目标/策略措施 sections and a 发展领域 part each count."""
    titles = [ln.text for ln in lines if PLAN_TITLE_RE.match(ln.text)]
    sections = sum(1 for ln in lines if SECTION_RE.match(ln.text))
    inline_sections = sum(ln.text.count("主要目标:") + ln.text.count("策略措施:") for ln in lines if len(ln.text) > 200)
    domain_part = any(PART_RE.match(ln.text) and "发展领域" in ln.text for ln in lines)
    quoted = any(QUOTED_PLAN_RE.search(ln.text) for ln in lines[:12])
    reasons = []
    if titles:
        reasons.append(f"plan title {titles[0]!r}" + (f" and {len(titles) - 1} more" if len(titles) > 1 else ""))
    if sections + inline_sections:
        reasons.append(f"{sections + inline_sections} 主要目标/策略措施 section(s)")
    if domain_part:
        reasons.append("a 发展领域 part")
    score = 3 * len(titles) + 2 * (sections + inline_sections) + 2 * domain_part
    if quoted and score == 0 and any(CLAUSE_RE.match(ln.text) for ln in lines):
        reasons.append("a quoted plan title followed by numbered clauses")
        score = 1
    return score, "; ".join(reasons)


def plan_key(title: str) -> str:
    """Short name of a plan: 曾都区妇女发展规划(2021—2030年) → 妇女.

    Strips the leading region (…省…市…区) and the trailing 发展规划/规划/纲要."""
    core = re.sub(r"\(.*$", "", title)
    core = re.sub(r"(?:发展)?(?:规划|纲要)$", "", core)
    stripped = _REGION_PREFIX.sub("", core)
    return stripped or core


def split_heading(text: str) -> tuple[Optional[str], str]:
    """(heading, text): the heading is the leading sentence up to 。 when it is short
    (≤ 40 characters) and has no comma, e.g. 预防和控制儿童溺水。加强看护… → 预防和控制儿童溺水."""
    m = re.match(r"^([^。,;:]{2,%d})。" % MAX_HEADING_CHARS, text)
    return (m[1], text) if m else (None, text)


def skip_toc(lines: list[Line]) -> tuple[list[Line], int]:
    """Drop a table of contents (a 目录 line and the headings after it, up to the heading that
    repeats the first of them). Returns (lines, how many were dropped)."""
    for i, ln in enumerate(lines[:200]):
        if TOC_RE.match(ln.text.replace(" ", "")) and i + 1 < len(lines):
            first = lines[i + 1].text
            for j in range(i + 2, min(len(lines), i + 400)):
                if lines[j].text == first:
                    return lines[:i] + lines[j:], j - i
    return lines, 0


class PlanBuilder(TreeBuilder):
    """Feeds logical lines through the numbering state machine and emits the tree."""

    def __init__(self, doc_id: str, title: str, plan_layer: bool = True):
        super().__init__(doc_id, title)
        self.plan_codes: Counter = Counter()
        self.structured = False
        self.plans_meta: list[dict] = []
        self.plan_layer = plan_layer
        self.table_mode = False  # inside a flattened responsibility table
        self.preamble: list[Line] = []
        self.repeated_title: Optional[str] = None  # the document title, when read off the head

    def notice(self, lines: list[Line]) -> None:
        """The notice that transmits the plans (主送, 正文, 成文日期): one paragraph each,
        so that questions such as 通知是发给哪些单位的 can cite it."""
        if not lines:
            return
        o = self.open(self.root, "notice", "notice", "通知", lines[0])
        for k, ln in enumerate(lines, start=1):
            p = self.open(o, "paragraph", f"para{k}", f"¶{k}", ln)
            p.node.text = ln.text
        self.pop_to(self.root)

    # -- the state machine
    def feed(self, ln: Line) -> None:
        if "\t" in ln.text:
            ln = self._table_row(ln)
            if ln is None:
                return
        t = ln.text
        if t == self.repeated_title and not self.structured:
            return  # the title printed again above the text
        m = PLAN_TITLE_RE.match(t)
        if m and self.plan_layer and not ITEM_RE.match(t) and not CLAUSE_RE.match(t):
            return self._plan(m, ln)
        if self._table_header(ln) or self._responsibility(ln):
            return
        if re.fullmatch(r"\d{1,3}", t) and self.top("clause"):
            self.warnings.append(f"line {ln.start}: a bare number {t!r} with no text (a truncated table?); skipped")
            return
        plan = self.top("plan") if self.plan_layer else self.root
        if plan is None:
            if not self._structural(t):
                self.preamble.append(ln)
                return
            plan = self._implicit_plan(ln)
        if self._try_part(plan, ln) or self._try_item(ln) or self._try_section(plan, ln):
            return
        if self._try_clause(plan, ln) or self._try_subitem(ln):
            return
        if SCOPE_RE.match(t) and self.stack[-1] is plan and self.plans_meta:
            self.plans_meta[-1]["scope"] = t
        self._text(ln)

    def _structural(self, t: str) -> bool:
        return bool(PART_RE.match(t) or ITEM_RE.match(t) or SECTION_RE.match(t)
                    or (CLAUSE_RE.match(t) and not CLAUSE_RE.match(t)[2][:1].isdigit() and CLAUSE_RE.match(t)[2]))

    def _plan(self, m: re.Match, ln: Line) -> None:
        o = self._new_plan(re.sub(r"\s*(?:全文|\(全文\))$", "", m.group(0)), m["start"], m["end"], ln)
        o.node.text = ""
        self.structured = True

    def _new_plan(self, title: str, start, end, ln: Line) -> Open:
        key = plan_key(title)
        code = ids.slug(key)[:30] or "plan"
        self.plan_codes[code] += 1
        if self.plan_codes[code] > 1:
            code = f"{code}{self.plan_codes[code]}"
        o = self.open(self.root, "plan", code, title, ln)
        period = [int(start), int(end)] if start else None
        self.plans_meta.append({"id": o.node.id, "key": key, "title": title, "period": period, "scope": None})
        return o

    def _implicit_plan(self, ln: Line) -> Open:
        """A plan with no title line of its own: titled by the plan the text before it quotes
        (《廊坊市儿童发展规划(2021—2030年)》…主要目标设置情况:), else by the document. Text
        before its first structure stays preamble."""
        quoted = None
        for pre in reversed(self.preamble[-3:]):
            quoted = QUOTED_PLAN_RE.search(pre.text)
            if quoted:
                break
        self._flush_preamble()
        if quoted:
            return self._new_plan(quoted["title"], quoted["start"], quoted["end"], ln)
        title = self.root.node.title
        q = QUOTED_PLAN_RE.search(title)
        if q:
            return self._new_plan(q["title"], q["start"], q["end"], ln)
        return self._new_plan(title, None, None, ln)

    def _flush_preamble(self) -> None:
        """Text met before any structure: a preamble node of paragraphs (not clauses)."""
        if self.preamble:
            p = self.open(self.root, "preamble", "preamble", "前言", self.preamble[0])
            for k, pl in enumerate(self.preamble, start=1):
                self.open(p, "paragraph", f"para{k}", f"¶{k}", pl).node.text = pl.text
            self.pop_to(self.root)

    def _try_part(self, plan: Open, ln: Line) -> bool:
        m = PART_RE.match(ln.text)
        if not m:
            return False
        n = num(m[1])
        parts = [c for c in plan.children if c.node.kind == "part"]
        first = not parts and 0 < n <= 10 and _is_heading(m[2])
        if n != len(parts) + 1 and not first:
            return False
        self.open(plan, "part", f"p{n}", m[2].strip().rstrip("。") or m[1], ln, number=n)
        self.structured = True
        return True

    def _try_item(self, ln: Line) -> bool:
        m = ITEM_RE.match(ln.text)
        part = self.top("part")
        if not m:
            return False
        n = num(m[1])
        container = part or (self.top("plan") if self.plan_layer else self.root)
        if container is None:
            return False
        has_items = any(c.node.kind in ("item", "domain") for c in container.children)
        if n != container.next_item and not (not has_items and 0 < n <= 20 and _is_heading(m[2])):
            return False
        if part is None and not _is_heading(m[2]):
            return False
        rest = m[2].strip()
        heading, _ = split_heading(rest)
        after = rest[len(heading) + 1:].strip() if heading else rest
        inline = bool(heading and after) or (not heading and len(rest) > MAX_HEADING_CHARS) or (
            not heading and "。" in rest.rstrip("。"))
        title = heading or (rest.rstrip("。:") if not inline else rest[:20])
        o = self.open(container, "item", f"i{n}", title, ln, number=n)
        o.inline_text = inline
        if inline:
            o.node.text = rest
        container.next_item = n + 1
        self.structured = True
        return True

    def _try_section(self, plan: Open, ln: Line) -> bool:
        m = SECTION_RE.match(ln.text)
        if not m:
            return False
        container = self.top("domain", "item", "part") or plan
        title = m[1]
        code = SECTION_CODES.get(title) or f"s{len(container.children) + 1}"
        if container.node.kind == "item":
            container.node.kind = "domain"  # its id is re-derived in finish()
        self.open(container, "section", code, title, ln)
        self.structured = True
        return True

    def _try_clause(self, plan: Open, ln: Line) -> bool:
        m = CLAUSE_RE.match(ln.text)
        container = self.top("section", "item", "domain", "part", "plan") or (plan if not self.plan_layer else None)
        if not m or container is None or container.inline_text:
            return False
        n = int(m[1])
        rest = m[2].strip()
        expected = container.next_clause
        has_clauses = any(c.node.kind == "clause" for c in container.children)
        text_start = rest[:1] and not rest[0].isdigit()
        if n != expected:
            where = "/".join(container.node.path) or container.node.title
            if not has_clauses and text_start and n <= 60:
                self.warnings.append(f"line {ln.start}: numbering in {where} starts at {n}. (an excerpt?)")
            elif n == 1 and expected > 2 and text_start and container.node.kind == "section":
                container = self._restart(container, ln)
            elif expected < n <= expected + MAX_NUMBER_GAP and text_start:
                self.warnings.append(f"line {ln.start}: numbering skips from {expected - 1}. to {n}. in {where}; "
                                     f"check the source (clause {expected} may be missing)")
            else:
                if n > 1 and expected > 1:
                    self.warnings.append(f"line {ln.start}: '{n}.' out of sequence (expected {expected}.) "
                                         f"in {where}; kept as text of the previous clause")
                return False
        if not rest and n != expected:
            return False
        if container.node.kind == "section":
            code = f"{container.code}-{n}" if "-" in container.code else f"{container.code}{n}"
        else:
            code = str(n)
        o = self.open(container, "clause", code, f"{n}", ln, number=n)
        o.node.text = rest
        container.next_clause = n + 1
        self.structured = True
        return True

    def _restart(self, section: Open, ln: Line) -> Open:
        """Numbering restarts at 1 inside a section: the next group (a domain whose heading
        the source lost) gets a section of its own, titled as the current one."""
        parent = section.parent
        k = sum(1 for c in parent.children if c.node.kind == "section" and c.node.title == section.node.title) + 1
        self.warnings.append(f"line {ln.start}: numbering restarts at 1. in {'/'.join(section.node.path)}; "
                             f"a new group of {section.node.title} (group {k})")
        return self.open(parent, "section", f"{section.code.split('-')[0]}-{k}", section.node.title, ln)

    def _try_subitem(self, ln: Line) -> bool:
        m = SUBITEM_RE.match(ln.text)
        clause = self.top("clause")
        if not m or clause is None or int(m[1]) != clause.next_item:
            return False
        n = int(m[1])
        o = self.open(clause, "subitem", f"s{n}", f"({n})", ln, number=n)
        o.node.text = m[2].strip()
        clause.node.text = append_text(clause.node.text, ln.text, ln.after_blank)
        clause.next_item += 1
        return True

    # -- responsibility (牵头单位 / 责任单位)
    def _table_header(self, ln: Line) -> bool:
        """Header cells of a flattened responsibility table (领域 / 主要目标 / 主要责任单位 /
        责任单位): consumed, and they switch on table mode (one body per line)."""
        t = ln.text.replace(" ", "")
        if t in _RESP_HEADER:
            self.table_mode = True
            return True
        if t in TABLE_HEADER_CELLS and t not in ("主要目标", "策略措施") and not self.top("clause"):
            return True
        return False

    def _responsibility(self, ln: Line) -> bool:
        """A responsibility line after a clause: ``牵头单位:区卫健局 责任单位:区教育局、区民政局``
        (roles lead / responsible), or, in table mode, a bare body name (省卫生厅)."""
        clause = self.top("clause")
        if clause is None:
            return False
        t = ln.text
        labels = list(RESP_LABEL.finditer(t))
        if labels and labels[0].start() == 0:
            for i, m in enumerate(labels):
                end = labels[i + 1].start() if i + 1 < len(labels) else len(t)
                role = "lead" if "牵头" in m[1] or m[1].startswith("主要") else "responsible"
                for name in re.split(r"[、,;\s]+", t[m.end():end]):
                    if name.strip():
                        self._add_department(clause, name.strip(), role, t)
            return True
        if self.table_mode and _BODY_CELL.match(t) and not SENTENCE_PUNCT.search(t) and not t.startswith(("——", "--")):
            self._add_department(clause, t, "responsible", t)
            return True
        return False

    def _table_row(self, ln: Line) -> Optional[Line]:
        """A table row (cells tab-separated by the readers): header cells switch on table mode;
        trailing cells that name bodies (省卫生厅、省教育厅) become the departments of the clause
        the row opens or continues; the rest is the row's text, cells joined by a space."""
        cells = [c.strip() for c in ln.text.split("\t") if c.strip()]
        if cells and all(c.replace(" ", "") in TABLE_HEADER_CELLS for c in cells):
            self.table_mode = self.table_mode or any(c.replace(" ", "") in _RESP_HEADER for c in cells)
            return None
        bodies: list[str] = []
        while len(cells) > 1:
            names = [x for x in re.split(r"[、,;\s]+", cells[-1]) if x]
            if not names or not all(_BODY_CELL.match(x) and not SENTENCE_PUNCT.search(x) for x in names):
                break
            bodies = names + bodies
            cells.pop()
        row = Line(" ".join(cells), ln.start, ln.end, ln.after_blank)
        if bodies:
            self.feed(row)
            clause = self.top("clause")
            if clause is not None:
                for name in bodies:
                    self._add_department(clause, name, "responsible", ln.text.replace("\t", " "))
            return None
        return row

    @staticmethod
    def _add_department(clause: Open, name: str, role: str, evidence: str) -> None:
        tags = clause.extra.setdefault("departments", [])
        if all(d.name != name for d in tags):
            tags.append(DepartmentTag(name=name, explicit=True, role=role, evidence=evidence, cue="responsibility line"))

    def _text(self, ln: Line) -> None:
        top = self.stack[-1]
        kind = top.node.kind
        if kind == "paragraph" and ln.after_blank:
            top = top.parent
            kind = top.node.kind
        if kind in ("clause", "subitem", "paragraph") or (kind == "item" and (top.inline_text or not top.children)):
            top.node.text = append_text(top.node.text, ln.text, ln.after_blank)
            top.node.line_end = ln.end
            if kind == "subitem":
                clause = self.top("clause")
                clause.node.text = append_text(clause.node.text, ln.text, ln.after_blank)
                clause.node.line_end = ln.end
            return
        self.pop_to(top)
        parent = top
        k = sum(1 for c in parent.children if c.node.kind == "paragraph") + 1
        o = self.open(parent, "paragraph", f"para{k}", f"¶{k}", ln)
        o.node.text = ln.text
        if kind == "section":
            self.warnings.append(f"line {ln.start}: text without clause numbering in {'/'.join(parent.node.path)}; "
                                 "stored as a paragraph")

    # -- output
    def finish(self) -> tuple[list[Node], list[Clause]]:
        """(nodes in document order, clauses in document order) with final ids."""
        if not any(o.node.kind == "preamble" for o in self.root.children) and not self.top("plan"):
            self._flush_preamble()
        self._assign_ids(self.root)
        nodes = self.flatten()
        clauses: list[Clause] = []
        for o in self.walk():
            c = self._clause_of(o)
            if c:
                c.ord = len(clauses)
                clauses.append(c)
        return nodes, clauses

    def _assign_ids(self, o: Open) -> None:
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

    def _clause_of(self, o: Open) -> Optional[Clause]:
        n = o.node
        is_item_clause = n.kind == "item" and not any(c.node.kind in ("clause", "section") for c in o.children) and n.text
        if n.kind not in ("clause", "paragraph") and not is_item_clause:
            return None
        if n.kind == "paragraph" and o.parent.node.kind in ("clause", "subitem", "preamble"):
            return None
        chain = self.chain(o)
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
            plan_title=plan.title if plan else None, line_start=n.line_start, line_end=n.line_end,
            departments=list(o.extra.get("departments", [])))


def _is_heading(rest: str) -> bool:
    """A short heading (≤ 40 characters, at most a trailing 。), not a sentence."""
    r = rest.strip()
    return 0 < len(r) <= MAX_HEADING_CHARS and "。" not in r.rstrip("。:")


def _short_path(key, part, domain, section, item, n: Node, is_item_clause: bool) -> str:
    """The Chinese path `kb show` accepts: 儿童/儿童安全/策略措施/3, 儿童/基本原则/2,
    儿童/组织实施/1, 儿童/指导思想, 通知/¶1."""
    segs = [key] if key else ([] if domain is not None else [section or ""])
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
    elif section and key:
        segs.append(section)
    if n.kind == "paragraph":
        segs.append(n.title)
    elif n.number is not None:
        segs.append(str(n.number))
    return "/".join(s for s in segs if s)


def is_structural(t: str) -> bool:
    """A line that opens a part, item, section or clause (where a document's head ends)."""
    m = CLAUSE_RE.match(t)
    return bool((PART_RE.match(t) and _is_heading(PART_RE.match(t)[2])) or ITEM_RE.match(t) or SECTION_RE.match(t)
                or (m and m[2] and not m[2][0].isdigit()))


def first_plan(lines: list[Line], start: int) -> int:
    """Index of the first plan title at or after ``start`` (else the first part 一、, else ``start``)."""
    for i in range(start, len(lines)):
        if PLAN_TITLE_RE.match(lines[i].text):
            return i
    for i in range(start, len(lines)):
        m = PART_RE.match(lines[i].text)
        if m and num(m[1]) == 1:
            return i
    return start


def parse(lines: list[Line], source: str, doc_id: Optional[str] = None, allow_unstructured: bool = False):
    """Parse a plan document (see the module docstring) into a :class:`kb.types.Document`.

    Raises ParseError when nothing but a header is found, or when no structure is recognised
    and ``allow_unstructured`` is False."""
    from pathlib import Path

    from kb.errors import ParseError
    from kb.grammars.header import document_facts, parse_notice, read_head
    from kb.types import Document

    lines, toc = skip_toc(lines)
    head = read_head(lines, is_structural, lambda t: bool(PLAN_TITLE_RE.match(t)))
    body, start = head.lines, head.body_from
    meta = dict(head.meta)
    plan_at = first_plan(body, start) if head.notice_title else start
    if head.notice_title:
        meta.update(parse_notice(body[start:plan_at]))
    title = head.title or (body[plan_at].text if plan_at < len(body) and PLAN_TITLE_RE.match(body[plan_at].text) else "")
    facts = document_facts(title, NAME, meta)
    did = doc_id or ids.document_id(facts["doc_number"], title or source, Path(source).stem)
    builder = PlanBuilder(did, title)
    builder.repeated_title = title if head.title_lines else None
    if head.notice_title:
        builder.notice(body[start:plan_at])
    for ln in body[plan_at:]:
        builder.feed(ln)
    nodes, clauses = builder.finish()
    if toc:
        builder.warnings.insert(0, f"a table of contents ({toc} lines) was skipped")
    if not clauses:
        raise ParseError(f"{source}: no text found after the header; is this a plan document?")
    if not builder.structured:
        if not allow_unstructured:
            raise ParseError(
                f"{source}: no plan structure recognised (no 规划 title, no 一、/(一)/1. numbering, no 第N条 articles); "
                "check that this is a plan, law or notice, or pass --allow-unstructured to store it as paragraphs")
        builder.warnings.append("no numbering recognised: stored as paragraphs")
    meta["plans"] = builder.plans_meta
    doc = Document(id=did, source=source, title=title, meta=meta, nodes=nodes, clauses=clauses,
                   warnings=builder.warnings, short_title=(builder.plans_meta[0]["key"] if len(builder.plans_meta) == 1 else None),
                   **{k: facts[k] for k in ("doc_type", "issuer", "level", "doc_number", "dates", "validity")})
    return doc


def summary(doc) -> list[dict]:
    """Per-plan counts for the ingest report: domains (发展领域), goals (主要目标 clauses),
    measures (策略措施 clauses), clauses, targets and department tags."""
    rows = []
    for p in doc.meta.get("plans", []):
        mine = [c for c in doc.clauses if c.id.startswith(p["id"] + ".")]
        rows.append({"unit": p["key"] or p["title"] or doc.id, "title": p["title"],
                     "domains": sum(1 for n in doc.nodes if n.kind == "domain" and n.id.startswith(p["id"] + ".")),
                     "goals": sum(1 for c in mine if c.section == "主要目标"),
                     "measures": sum(1 for c in mine if c.section == "策略措施"),
                     "clauses": len(mine), "targets": sum(len(c.targets) for c in mine),
                     "departments": sum(len(c.departments) for c in mine)})
    return rows
