"""Notice grammar: 通知, 意见, 办法, 方案, 批复, 决定… without plan sections or articles.

document → part (一、) → item ((一)) → clause (1.) → sub-item ((1)); every paragraph is
citable. The numbering state machine is the plan grammar's (``kb.grammars.plan``) without the
plan layer: a marker opens a node only when its number is the next in sequence. Texts with
no articles from the national corpus (刑法修正案, 批复, 决定) are read here.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

from kb import ids
from kb.errors import ParseError
from kb.grammars.header import NOTICE_TYPES, document_facts, law_dates, read_head
from kb.grammars.law import EVENT_LINE
from kb.grammars.lines import Line, iso_date
from kb.grammars.plan import PART_RE, PlanBuilder, is_structural

NAME = "notice"


def detect(lines: list[Line]) -> tuple[int, str]:
    """(score, reason): 一、 headings, or a title naming a notice type."""
    parts = sum(1 for ln in lines if PART_RE.match(ln.text))
    titled = any(re.search("(" + "|".join(NOTICE_TYPES) + r")$", ln.text) for ln in lines[:5])
    reasons = []
    if parts:
        reasons.append(f"{parts} 一、-style heading(s)")
    if titled:
        reasons.append("a notice-type title")
    return parts + titled, "; ".join(reasons)


def short_title(title: str) -> str:
    """A short name for paths: the title without 关于/印发 and the trailing notice type,
    at most 20 characters (国务院关于印发…的通知 → 印发… )."""
    t = re.sub(r"^.*?关于", "", title) if "关于" in title else title
    t = re.sub(r"的?(通知|意见|决定|批复|函|公告|通报)$", "", t)
    t = t.strip("《》 ")
    return t[:20] or "通知"


def parse(lines: list[Line], source: str, doc_id: Optional[str] = None, allow_unstructured: bool = False):
    """Parse a notice into a :class:`kb.types.Document`; every paragraph is a clause.

    Raises ParseError when the text has neither numbering nor a title (unless
    ``allow_unstructured``)."""
    from kb.types import Document

    head = read_head(lines, is_structural, lambda t: False)
    meta = dict(head.meta)
    title = head.title
    events = [ln.text.strip("()") for ln in head.lines[head.body_from:head.body_from + 8]
              if iso_date(ln.text) and EVENT_LINE.search(ln.text) and len(ln.text) < 200]
    facts = document_facts(title, NAME, meta, (*law_dates(events), " ".join(events)) if events else None)
    did = doc_id or ids.document_id(facts["doc_number"], title or source, Path(source).stem)
    builder = PlanBuilder(did, title, plan_layer=False)
    for ln in head.lines[head.body_from:]:
        builder.feed(ln)
    nodes, clauses = builder.finish()
    if not clauses:
        raise ParseError(f"{source}: no text found after the header")
    if not builder.structured and not title:
        if not allow_unstructured:
            raise ParseError(
                f"{source}: no plan structure recognised (no 规划 title, no 一、/(一)/1. numbering, no 第N条 articles, "
                "no title); check that this is a plan, law or notice, or pass --allow-unstructured to store it as paragraphs")
        builder.warnings.append("no numbering recognised: stored as paragraphs")
    short = short_title(title) if title else Path(source).stem[:20]
    for c in clauses:
        place = [s for s in (c.part, c.section) if s]
        tail = str(c.number) if c.number is not None else c.path[-1]
        c.short_path = "/".join([short, *place, tail])
        c.label = tail
    return Document(id=did, source=source, title=title, meta=meta, nodes=nodes, clauses=clauses,
                    warnings=builder.warnings, short_title=short,
                    **{k: facts[k] for k in ("doc_type", "issuer", "level", "doc_number", "dates", "validity")})


def summary(doc) -> list[dict]:
    """Counts for the ingest report: parts (一、), numbered clauses, all clauses, tags."""
    return [{"unit": doc.short_title or doc.title, "title": doc.title,
             "parts": sum(1 for n in doc.nodes if n.kind == "part"),
             "numbered": sum(1 for c in doc.clauses if c.number is not None), "clauses": len(doc.clauses),
             "targets": sum(len(c.targets) for c in doc.clauses),
             "departments": sum(len(c.departments) for c in doc.clauses)}]
