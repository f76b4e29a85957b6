"""Parse a document into a tree with the grammar of its family (see ``kb.grammars``):
plans (规划, 纲要), laws and regulations (第N条), notices (一、/(一)/1.).

>>> doc = parse_file("corpus/zengdu/zengzhengfa-2022-8-women-children-plans.txt")
>>> doc.grammar, doc.doc_type, len(doc.clauses)
('plan', '通知', 357)
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from kb.grammars import GRAMMARS, choose, parse_text as _parse_text
from kb.grammars.lines import Line, cn_number, iso_datetime, logical_lines, wrap_width
from kb.grammars.plan import plan_key, split_heading
from kb.readers import read_source
from kb.types import Document

__all__ = ["GRAMMARS", "Line", "choose", "cn_number", "iso_datetime", "logical_lines", "parse_file", "parse_text",
           "plan_key", "split_heading", "wrap_width"]


def parse_file(path: str | Path, doc_id: str | None = None, grammar: Optional[str] = None,
               allow_unstructured: bool = False, source: Optional[str] = None) -> Document:
    """Read one file with the reader its content calls for (``kb.readers``) and parse it.

    ``source`` is the name recorded as the document's source (default: the path). What
    the reader learned goes with the document: ``meta["file"]`` holds the format
    (``txt``, ``html``, ``md``, ``docx``, ``pdf``, ``pdf-ocr``) and what the file itself
    states (front matter, page count…); the reader's warnings come first in
    ``warnings``. Raises InputError (unreadable file) or ParseError (no structure,
    unknown grammar)."""
    p = Path(path)
    src = read_source(p)
    doc = _parse_text(src.text, source=source or str(p), doc_id=doc_id, grammar=grammar,
                      allow_unstructured=allow_unstructured)
    doc.meta["file"] = {"format": src.format, **src.meta}
    doc.warnings[:0] = src.warnings
    return doc


def parse_text(text: str, source: str = "<text>", doc_id: str | None = None, allow_unstructured: bool = False,
               grammar: Optional[str] = None) -> Document:
    """Parse normalised document text into a :class:`Document` (see ``kb.grammars.parse_text``)."""
    return _parse_text(text, source=source, doc_id=doc_id, grammar=grammar, allow_unstructured=allow_unstructured)
