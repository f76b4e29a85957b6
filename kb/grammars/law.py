"""Law grammar: 法律, 行政法规, 地方性法规, 规章, 司法解释 — the texts built of articles (条).

document → 编 (book) → 分编 (subbook) → 章 (chapter) → 节 (law_section) → 条 (article) → 款
(paragraph) → 项 (item). The article is the citable unit: every line that opens with
``第N条`` (or ``第N条之一``) followed by a space is an article, in order, none merged or split
(the layout of the national texts in ``laws-cn``, e.g. 反家庭暴力法: ``第二十三条 当事人因遭受
家庭暴力…``); ``第N条`` directly followed by text opens one only when N is the next number, so
``第三十条规定的…`` at the start of a paragraph stays text, as does ``本法第三十条`` inside it.
A skipped or repeated article number is a warning, never a rejection (刑事诉讼法(2018-10-26)
goes 127 → 129). Each further line of an article is a 款; lines opening ``(一)`` are 项 of the
款 before them.

The head — title lines, then the header block of dated events (``2015年12月27日 第十二届全国
人民代表大会常务委员会第十八次会议通过``, ``…第一次修正``, ``2016年3月1日 施行``) — gives the dates
and the enacting body. A code published in parts (民法典: ``中华人民共和国民法典`` /
``婚姻家庭编``) keeps the code's title with the part's name.
"""
from __future__ import annotations

import hashlib
import re
from typing import Optional

from kb import ids
from kb.grammars.header import law_dates
from kb.grammars.lines import CN_NUM, Line, iso_date, num
from kb.grammars.tree import Open, TreeBuilder
from kb.types import Clause, Node

NAME = "law"
ARTICLE_RE = re.compile(rf"^第({CN_NUM}|\d+)条(?:之({CN_NUM}))?(?:(\s+)|$)(.*)$")
ARTICLE_TIGHT_RE = re.compile(rf"^第({CN_NUM}|\d+)条(?:之({CN_NUM}))?(?![款项的规定中所之])(\S.*)$")
HEADING_RES = (
    ("book", re.compile(rf"^第({CN_NUM})编\s*(.*)$")),
    ("subbook", re.compile(rf"^第({CN_NUM})分编\s*(.*)$")),
    ("chapter", re.compile(rf"^第({CN_NUM})章\s*(.*)$")),
    ("law_section", re.compile(rf"^第({CN_NUM})节\s*(.*)$")),
)
ORDINAL_HEADING_RE = re.compile(rf"^({CN_NUM})、\s*([^。,;:]{{1,24}})$")  # 一、总则 in some interpretations
LEVEL = {"book": 0, "subbook": 1, "chapter": 2, "law_section": 3, "ordinal": 2}
CODE = {"book": "b", "subbook": "sb", "chapter": "c", "law_section": "s", "ordinal": "c"}
ITEM_RE = re.compile(rf"^\(({CN_NUM})\)")
EVENT_LINE = re.compile(r"(通过|公布|发布|修正|修订|施行|批准|实施)")
PART_TITLE_RE = re.compile(r"^[\u4e00-\u9fff]{1,8}编$")
TITLE_SUFFIX = re.compile(r"(法|条例|规定|办法|细则|规则|解释|决定|规程|准则|章程|标准|纲要|意见|批复|通知)(\(.{1,20}\))?$")


def article_lines(lines: list[Line]) -> int:
    """How many lines open an article (``第N条 …``)."""
    return sum(1 for ln in lines if ARTICLE_RE.match(ln.text))


def detect(lines: list[Line]) -> tuple[int, str]:
    """Evidence that the text is a law: (score, reason) from the lines opening articles."""
    n = article_lines(lines)
    if n < 2:
        return 0, ""
    first = next(ln.text for ln in lines if ARTICLE_RE.match(ln.text))
    return 2 * n, f"{n} lines open an article ({first[:12]}…)"


def short_title(title: str) -> str:
    """Short title of a law: 中华人民共和国妇女权益保障法 → 妇女权益保障法 (the 中华人民共和国
    prefix dropped, as the plans cite it: 《妇女权益保障法》)."""
    t = re.sub(r"\s+", "", title)
    return re.sub(r"^中华人民共和国", "", t) or t


def law_id(title: str, part: Optional[str], version: Optional[str]) -> str:
    """Readable, stable id: pinyin of the short title (and the part), then the version date:
    反家庭暴力法 of 2015-12-27 → ``fanjiatingbaolifa-2015-12-27``; 民法典 婚姻家庭编 →
    ``minfadian-hunyinjiatingbian-2020-05-28``. Titles longer than 40 letters are cut and get 6
    hex digits of their sha256, so two long titles never share an id."""
    base = ids.slug(short_title(title))
    if len(base) > 40:
        base = base[:40].rstrip("-") + "-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:6]
    if part:
        base += "-" + ids.slug(part)[:30]
    return f"{base}-{version}" if version else (base or "law")


class LawBuilder(TreeBuilder):
    """Builds the 编/章/节/条/款/项 tree. ``feed`` takes the body lines (after the head)."""

    def __init__(self, doc_id: str, title: str, short: str):
        super().__init__(doc_id, title)
        self.short = short
        self.last_number = 0
        self.last_key: Optional[tuple] = None
        self.seen: dict[str, int] = {}
        self.article: Optional[Open] = None
        self.headings: list[Open] = []  # open headings, outermost first

    def feed(self, ln: Line) -> None:
        t = ln.text
        if self._heading(ln) or self._article(ln):
            return
        if self.article is None:
            parent = self.headings[-1] if self.headings else self.root
            k = sum(1 for c in parent.children if c.node.kind == "paragraph") + 1
            self.open(parent, "paragraph", f"para{k}", f"¶{k}", ln).node.text = t
            return
        self._paragraph(ln)

    def _heading(self, ln: Line) -> bool:
        for kind, rx in HEADING_RES:
            m = rx.match(ln.text)
            if m and len(m[2]) <= 40 and "。" not in m[2]:
                return self._open_heading(kind, num(m[1]), m[2].strip(), ln)
        m = ORDINAL_HEADING_RE.match(ln.text)
        if m and (self.article is not None or self.headings):
            return self._open_heading("ordinal", num(m[1]), m[2].strip(), ln)
        return False

    def _open_heading(self, kind: str, n: int, name: str, ln: Line) -> bool:
        level = LEVEL[kind]
        while self.headings and LEVEL[self.headings[-1].extra["kind"]] >= level:
            self.headings.pop()
        parent = self.headings[-1] if self.headings else self.root
        code = f"{CODE[kind]}{n}"
        if any(c.code == code for c in parent.children):
            code += f"x{sum(1 for c in parent.children if c.code.startswith(code)) + 1}"
        label = ln.text.split()[0] if kind != "ordinal" else f"{ln.text.split('、')[0]}、"
        title = f"{label} {name}".strip() if name and not ln.text.startswith(name) else ln.text
        o = self.open(parent, "chapter" if kind == "ordinal" else kind, code, re.sub(r"\s+", " ", title), ln, number=n)
        o.extra["kind"] = kind
        self.headings.append(o)
        self.article = None
        return True

    def _article(self, ln: Line) -> bool:
        m = ARTICLE_RE.match(ln.text)
        tight = False
        if not m:
            m = ARTICLE_TIGHT_RE.match(ln.text)
            if not m or num(m[1]) != self.last_number + 1 or m[2]:
                return False
            tight = True
        n = num(m[1])
        sub = num(m[2]) if m[2] else None
        body = (m[3] if tight else m[4]).strip()
        label = f"第{m[1]}条" + (f"之{m[2]}" if m[2] else "")
        self._check_sequence(n, sub, label, ln)
        code = f"a{n}" + (f"-{sub}" if sub else "")
        self.seen[code] = self.seen.get(code, 0) + 1
        if self.seen[code] > 1:
            code += f"x{self.seen[code]}"
        parent = self.headings[-1] if self.headings else self.root
        o = self.open(parent, "article", code, label, ln, number=n)
        o.node.id = ids.child_id(self.root.node.id, code)  # article ids do not depend on chapters
        o.extra["label"] = label
        o.node.text = body
        self.article = o
        if body:
            self._paragraph(Line(body, ln.start, ln.end, False), first=True)
        return True

    def _check_sequence(self, n: int, sub: Optional[int], label: str, ln: Line) -> None:
        key = (n, sub or 0)
        if self.last_key is not None:
            if key == self.last_key or key < self.last_key:
                self.warnings.append(f"line {ln.start}: {label} repeats or goes back (after article "
                                     f"{self.last_key[0]}); kept as its own article, check the source")
            elif sub is None and n > self.last_number + 1:
                self.warnings.append(f"line {ln.start}: article numbers skip from {self.last_number} to {n} "
                                     f"({label}); check the source")
        self.last_key = key
        self.last_number = n

    def _paragraph(self, ln: Line, first: bool = False) -> None:
        """A 款 of the current article, or a 项 ((一)…) of its last 款."""
        art = self.article
        if not first:
            art.node.text = art.node.text + "\n" + ln.text if art.node.text else ln.text
            art.node.line_end = ln.end
        paras = [c for c in art.children if c.node.kind == "paragraph"]
        if ITEM_RE.match(ln.text) and paras:
            para = paras[-1]
            k = sum(1 for c in para.children if c.node.kind == "item") + 1
            self.add(para, "item", f"x{k}", ITEM_RE.match(ln.text)[0], ln, number=k).node.text = ln.text
            return
        k = len(paras) + 1
        self.add(art, "paragraph", f"k{k}", f"第{k}款", ln, number=k).node.text = ln.text

    def finish(self) -> tuple[list[Node], list[Clause]]:
        nodes = self.flatten()
        clauses: list[Clause] = []
        for o in self.walk():
            if o.node.kind == "article":
                n = o.node
                path = [self.root.node.title] + [h.title for h in self._headings_of(o)] + [o.extra["label"]]
                clauses.append(Clause(
                    id=n.id, doc_id=n.doc_id, plan=None, part=None, domain=None, section=None, number=n.number,
                    heading=None, text=n.text, path=path, short_path=f"{self.short}/{o.extra['label']}",
                    line_start=n.line_start, line_end=n.line_end, ord=len(clauses), label=o.extra["label"]))
            elif o.node.kind == "paragraph" and o.parent is not None and o.parent.node.kind in ("document", "preamble", "notice", *CODE) \
                    and o.parent.node.kind != "article":
                n = o.node
                where = o.parent.node.title if o.parent.node.kind != "document" else "序言"
                clauses.append(Clause(
                    id=n.id, doc_id=n.doc_id, plan=None, part=None, domain=None, section=None, number=None,
                    heading=None, text=n.text, path=[self.root.node.title, where, n.title],
                    short_path=f"{self.short}/{where}/{n.title}", line_start=n.line_start, line_end=n.line_end,
                    ord=len(clauses), label=where))
        return nodes, clauses

    @staticmethod
    def _headings_of(o: Open) -> list[Node]:
        out = []
        p = o.parent
        while p is not None and p.node.kind != "document":
            out.append(p.node)
            p = p.parent
        return list(reversed(out))


def split_head(lines: list[Line]) -> tuple[list[Line], list[Line], list[Line], int]:
    """(title lines, header event lines, preamble lines, index of the first heading or article).

    Title lines are the short lines before the first dated event line (a code's part name
    such as 婚姻家庭编 among them); event lines carry a date and 通过/公布/修正/修订/施行…;
    anything else (a 序言, a notice's text) is preamble."""
    first_structural = next((i for i, ln in enumerate(lines) if ARTICLE_RE.match(ln.text)
                             or any(rx.match(ln.text) for _, rx in HEADING_RES)), len(lines))
    head = lines[:first_structural]
    titles, events, rest = [], [], []
    for ln in head:
        t = ln.text.strip("()")
        if iso_date(t) and EVENT_LINE.search(t) and len(t) < 400:
            events.append(ln)
        elif not events and not rest and len(t) <= 80 and not re.search(r"[。;]", t):
            titles.append(ln)
        else:
            rest.append(ln)
    return titles, events, rest, first_structural


def parse(lines: list[Line], source: str, doc_id: Optional[str] = None, allow_unstructured: bool = False):
    """Parse a law or regulation into a :class:`kb.types.Document`; every article is one clause.

    Never rejects a text with articles: numbering faults are warnings."""
    from pathlib import Path

    from kb.grammars.header import document_facts, read_header
    from kb.types import Document

    stop = next((i for i, ln in enumerate(lines) if ARTICLE_RE.match(ln.text)), len(lines))
    meta, used = read_header(lines, stop)
    lines = [ln for i, ln in enumerate(lines) if i not in used]
    titles, events, preamble, body_at = split_head(lines)
    title_parts = [ln.text for ln in titles]
    part = next((t for t in title_parts[1:] if PART_TITLE_RE.match(t) or len(t) <= 6), None)
    notice_title = next((t for t in title_parts if re.search(r"关于.*(通知|决定)$", t)), None)
    law_title = next((t for t in reversed(title_parts) if TITLE_SUFFIX.search(t) and t != notice_title and t != part),
                     title_parts[0] if title_parts else "")
    title = f"{law_title} {part}" if part and part not in law_title else law_title
    header_lines = [ln.text for ln in events]
    dates, body = law_dates(header_lines)
    facts = document_facts(law_title, NAME, meta, (dates, body, " ".join(header_lines)))
    version = max([d for d in [dates["signed"], dates["published"], *dates["amended"]] if d], default=None)
    stem_date = re.search(r"\((\d{4}-\d{2}-\d{2})\)", Path(source).stem)
    if stem_date:  # a corpus that labels versions in its file names (laws-cn: 反家庭暴力法(2015-12-27).md)
        version = stem_date[1]
    short = short_title(law_title)
    did = doc_id or law_id(law_title, part, version)
    b = LawBuilder(did, title, short)
    extra_titles = [ln for ln in titles if ln.text not in (law_title, part)]
    if notice_title or extra_titles or preamble:
        kind, label = ("notice", "通知") if notice_title else ("preamble", "序言")
        o = b.open(b.root, kind, kind, label, (extra_titles + preamble or titles)[0])
        for k, ln in enumerate([ln for ln in extra_titles if ln.text != notice_title] + preamble, start=1):
            b.open(o, "paragraph", f"para{k}", f"¶{k}", ln).node.text = ln.text
        b.pop_to(b.root)
    for ln in lines[body_at:]:
        b.feed(ln)
    nodes, clauses = b.finish()
    meta.update(title=title, header=header_lines)
    if part:
        meta["part"] = part
    return Document(id=did, source=source, title=title, meta=meta, nodes=nodes, clauses=clauses, warnings=b.warnings,
                    short_title=short, **{k: facts[k] for k in ("doc_type", "issuer", "level", "doc_number", "dates",
                                                                "validity")})


def summary(doc) -> list[dict]:
    """Counts for the ingest report: chapters (章), articles (条), other clauses, tags."""
    articles = [c for c in doc.clauses if c.label and c.label.startswith("第")]
    return [{"unit": doc.short_title or doc.title, "title": doc.title,
             "chapters": sum(1 for n in doc.nodes if n.kind == "chapter"), "articles": len(articles),
             "clauses": len(doc.clauses), "targets": sum(len(c.targets) for c in doc.clauses),
             "departments": sum(len(c.departments) for c in doc.clauses)}]
