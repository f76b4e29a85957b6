"""Word .docx: the body's paragraphs and tables in document order, each numbered paragraph
with its automatic-numbering label rendered as Word shows it (``一、``, ``（一）``, ``1.``;
see :mod:`kb.readers.numbering`).

* Paragraphs are separated by a blank line, as in the text files kb reads; a line break
  inside a paragraph (Shift+Enter) is a single line break.
* A table row is one paragraph, its cells joined by a space (merged cells once); a row with one
  non-empty cell (a layout table holding the whole text, as some portals publish) gives
  each of that cell's paragraphs its own line.
* Left out: deleted and moved-away revisions, hidden text, headers and footers, footnotes,
  and text boxes (counted in a warning).

python-docx opens the package; the text and numbering are read from its XML.
"""
from __future__ import annotations

import io

from kb.errors import InputError
from kb.readers.numbering import W, Numbering, join_label
from kb.readers.source import Source
from kb.readers.text import normalise_text

CELL_SEPARATOR = "\t"  # a tab: grammars tell a table row from running text (never an article)
_SKIP_ANCESTORS = ("del", "moveFrom", "txbxContent")
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"


def read(data: bytes, name: str) -> Source:
    """Read .docx bytes. Returns a Source with format ``docx`` and ``meta`` holding the
    core properties Word records (``title``, ``author``, ``created``), where set.

    Raises InputError naming ``name`` for a package python-docx cannot open (damaged, or
    Strict Open XML) and for a document with no text.
    """
    doc = _open(data, name)
    numbering = Numbering.from_xml(_part_root(doc, "numbering_part"), doc.styles.element)
    reader = _BodyReader(numbering)
    lines = reader.block(doc.element.body)
    text = normalise_text("\n\n".join(lines))
    if not text.strip():
        raise InputError(f"{name}: the Word document has no text in its body "
                         "(is it a scan pasted as pictures? export it to PDF and install OCR: pip install 'policy-kb[ocr]')")
    warnings = []
    if reader.skipped_boxes:
        warnings.append(f"{reader.skipped_boxes} text boxes were skipped; "
                        "if they hold document text, move it into the body")
    if numbering.unknown_formats:
        warnings.append(f"numbering formats {sorted(numbering.unknown_formats)} were rendered as 1, 2, 3")
    return Source(text, "docx", _core_meta(doc), warnings)


def _open(data: bytes, name: str):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as e:
        raise InputError(f"{name}: cannot open this Word file ({e}); re-save it from Word or WPS "
                         "as a Word Document (.docx), not Strict Open XML") from e
    except Exception as e:  # lxml.etree.XMLSyntaxError, zipfile errors: a damaged package
        raise InputError(f"{name}: the Word file is damaged ({type(e).__name__}: {e}); "
                         "re-download it or re-save it from Word or WPS") from e


def _part_root(doc, attr: str):
    try:
        return getattr(doc.part, attr).element
    except (NotImplementedError, KeyError, AttributeError):
        return None


def _core_meta(doc) -> dict:
    props = doc.core_properties
    meta = {"title": props.title or None, "author": props.author or None,
            "created": props.created.isoformat() if props.created else None}
    return {k: v for k, v in meta.items() if v}


class _BodyReader:
    """Renders block content (body, cell, content control) to lines, keeping one
    :class:`Numbering` so counters run through the whole document."""

    def __init__(self, numbering: Numbering):
        self.numbering = numbering
        self.skipped_boxes = 0

    def block(self, parent) -> list[str]:
        lines: list[str] = []
        for child in parent:
            tag = child.tag
            if tag == W + "p":
                line = self.paragraph(child)
                if line is not None:
                    lines.append(line)
            elif tag == W + "tbl":
                lines.extend(self.table(child))
            elif tag in (W + "sdt", W + "customXml"):
                content = child.find(W + "sdtContent") if tag == W + "sdt" else child
                if content is not None:
                    lines.extend(self.block(content))
        return lines

    def paragraph(self, p) -> str | None:
        label, suffix = self.numbering.label(p)
        text = self.runs(p)
        if not text.strip():
            return None
        return join_label(label, suffix, text)

    def runs(self, p) -> str:
        out = []
        for r in p.iter(W + "r"):
            if self._skipped(r, p) or _hidden(r):
                continue
            for el in r:
                tag = el.tag
                if tag == W + "t":
                    out.append(el.text or "")
                elif tag in (W + "tab", W + "ptab"):
                    out.append("\t")
                elif tag == W + "br" and el.get(W + "type") in (None, "textWrapping"):
                    out.append("\n")
                elif tag == W + "cr":
                    out.append("\n")
                elif tag == W + "noBreakHyphen":
                    out.append("-")
                elif tag in (W + "drawing", W + "pict", W + "object") or tag == _MC + "AlternateContent":
                    self.skipped_boxes += any(e.tag == W + "txbxContent" for e in el.iter())
        return "".join(out)

    def table(self, tbl) -> list[str]:
        lines = []
        for tr in tbl.iter(W + "tr"):
            if _ancestor_table(tr) is not tbl:
                continue  # a nested table's rows are read with their cell
            cells = [self.block(tc) for tc in tr.findall(W + "tc") if not _merged_continuation(tc)]
            filled = [c for c in cells if c]
            if len(filled) == 1:
                lines.extend(filled[0])
            elif filled:
                lines.append(CELL_SEPARATOR.join(CELL_SEPARATOR.join(c) for c in filled))
        return lines

    def _skipped(self, r, p) -> bool:
        el = r.getparent()
        while el is not None and el is not p:
            if el.tag in (W + t for t in _SKIP_ANCESTORS) or el.tag == _MC + "AlternateContent":
                return True
            el = el.getparent()
        return False


def _hidden(r) -> bool:
    rpr = r.find(W + "rPr")
    if rpr is None:
        return False
    for tag in ("vanish", "webHidden"):
        el = rpr.find(W + tag)
        if el is not None and el.get(W + "val", "true") not in ("0", "false"):
            return True
    return False


def _merged_continuation(tc) -> bool:
    """A cell that continues a vertical merge (its text is in the cell above)."""
    tcpr = tc.find(W + "tcPr")
    vmerge = tcpr.find(W + "vMerge") if tcpr is not None else None
    return vmerge is not None and vmerge.get(W + "val", "continue") == "continue"


def _ancestor_table(tr):
    el = tr.getparent()
    while el is not None and el.tag != W + "tbl":
        el = el.getparent()
    return el
