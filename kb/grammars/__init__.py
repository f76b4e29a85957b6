"""Structure grammars, one module per document family, over a shared line reader
(``lines``), header reader (``header``) and tree builder (``tree``).

=========  =====================================================  ==========================
grammar    reads                                                  module
=========  =====================================================  ==========================
plan       规划, 纲要, 实施方案 (and the notice wrapping them)          ``kb.grammars.plan``
law        法律, 行政法规, 地方性法规, 规章, 司法解释 (第N条 articles)     ``kb.grammars.law``
notice     通知, 意见, 办法, 方案… with 一、/(一)/1./(1) headings        ``kb.grammars.notice``
=========  =====================================================  ==========================

:func:`choose` picks one from evidence (which headings and numbering the text contains);
``grammar=`` overrides it. The choice and its reason are recorded on the document
(``grammar``, ``grammar_reason``); the document's type as published (``doc_type``) is a
separate fact. A new family is one new module with ``NAME``, ``detect(lines)`` and
``parse(lines, source, doc_id)``, added to :data:`GRAMMARS`.
"""
from __future__ import annotations

import hashlib
from typing import Optional

from kb.errors import ParseError
from kb.grammars import law, notice, plan
from kb.grammars.lines import logical_lines
from kb.types import Document

GRAMMARS = {"plan": plan, "law": law, "notice": notice}


def choose(lines, override: Optional[str] = None) -> tuple[str, str]:
    """(grammar name, reason). Laws win when at least two lines open an article and the
    text has no plan sections; plans when there is a plan title or 主要目标/策略措施; else
    the notice grammar. Raises ParseError for an unknown ``override``."""
    if override:
        if override not in GRAMMARS:
            raise ParseError(f"unknown grammar {override!r}; use one of: {', '.join(GRAMMARS)}")
        return override, "chosen with --grammar"
    law_score, law_why = law.detect(lines)
    plan_score, plan_why = plan.detect(lines)
    if law_score and law_score >= plan_score:
        return "law", law_why
    if plan_score:
        return "plan", plan_why
    return "notice", notice.detect(lines)[1] or "no plan title, sections or articles"


def parse_text(text: str, source: str = "<text>", doc_id: Optional[str] = None, grammar: Optional[str] = None,
               allow_unstructured: bool = False) -> Document:
    """Parse normalised document text into a :class:`Document` with the chosen grammar.

    Raises ParseError for empty text, an unknown grammar, or text with no structure at all
    (no plan title, no numbering, no articles, not a notice) unless ``allow_unstructured``,
    in which case it is stored as paragraphs with a warning.
    """
    if not text.strip():
        raise ParseError(f"{source}: the document has no text")
    lines = logical_lines(text)
    if not lines:
        raise ParseError(f"{source}: the document has no text after removing page furniture")
    name, reason = choose(lines, grammar)
    doc = GRAMMARS[name].parse(lines, source=source, doc_id=doc_id, allow_unstructured=allow_unstructured)
    doc.grammar, doc.grammar_reason = name, reason
    doc.sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return doc
