"""PDF with a text layer (pdfplumber): the body text, one paragraph per block.

A printed policy document (GB/T 9704-2012 公文格式) has a running header and a page number
on every page, body paragraphs with a two-character first-line indent, and lines wrapped
at the right margin. So:

* **Furniture** goes: a line in the top or bottom ``FURNITURE_BAND`` of the page that
  repeats (digits aside) at the same height on at least half the pages; a bare page
  number there (``- 3 -``, ``—3—``, ``3``, ``第3页``, ``第 3 页 共 12 页``, ``3/12``); and the
  first or last line of a page there when set in smaller type than the body and a line
  or more away from the rest (a running header of a document too short to repeat it).
* **Hard wraps** are re-joined: a line that reaches the right margin (or ends so close to
  it that the next line's first word, e.g. ``2030年)``, would not have fitted: ragged-right
  text) continues on the next line when that one starts at the left margin (not indented), also across a page break,
  unless the first ends a sentence and the next opens with a heading label (``二、``,
  ``(三)``, ``4.``, ``第五条``). A full-width line followed by a centred one is a wrapped
  title, unless the first ends a sentence. Paragraphs are separated by a blank line; a
  number split by a wrap (``(2`` / ``021年``) is re-joined without a space, two Latin
  words with one.
* **Scans**: a page with almost no text, or whose text is mostly glyphs without a Unicode
  mapping (``(cid:123)``), is read by OCR when it is installed.
* **Spaces**: characters are joined as placed; a space is inserted only between two Latin
  letters or digits set apart (a word space), or across a gap wider than a character (a
  table column). So ``到2025年`` never reads ``到 2025 年``. Overprinted duplicate
  characters (fake bold) are dropped.

Errors (InputError, naming the file): a PDF that needs a password to open; a damaged
file; a PDF without a text layer (a scan) when OCR is not installed
(``pip install 'policy-kb[ocr]'``; with it, such pages are read by :mod:`kb.readers.ocr`).
"""
from __future__ import annotations

import io
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass

from kb.errors import InputError
from kb.readers.source import Source
from kb.readers.text import normalise_text

FURNITURE_BAND = 0.12  # share of the page height at the top and at the bottom
MIN_PAGE_CHARS = 10  # a page with fewer text characters has no text layer (is a scan)
# A page where more than this share of the characters are glyphs without a Unicode
# mapping (pdfminer's "(cid:123)") has an unreadable text layer: it is treated as a scan.
MAX_UNMAPPED_SHARE = 0.3
_CID = re.compile(r"\(cid:\d+\)")
PAGE_NUMBER_RE = re.compile(
    r"^(?:[-—–－_~·•\s]*\d{1,4}[-—–－_~·•\s]*|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|(?:page|p\.)\s*\d{1,4}(?:\s*of\s*\d{1,4})?)$", re.I)
HEADING_RE = re.compile(r"^(?:[一二三四五六七八九十百]+[、.]|\(\s*[一二三四五六七八九十百\d]+\s*\)|\d{1,3}[.、](?!\d)"
                        r"|第[一二三四五六七八九十百千零〇\d]+[编章节条])")
SENTENCE_END = "。;:!?；：！？"
_OPENING = "(（《〈「『【〔[“‘"
_CLOSING = ")）》〉」』】〕]”’,，。、;；:：!！?？%‰"
_IN_NUMBER = ".,%‰/:-—–~"


@dataclass
class PdfLine:
    """One line of a page, in PDF points from the page's top-left corner; ``size`` is the
    median character height (font size); ``lead`` the width of the line's first unbreakable
    run (``2030年)`` → ``2030``; ``年)》`` → ``年)》``), which decides whether it would have
    fitted at the end of the line before (0: unknown)."""

    page: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    lead: float = 0.0


def read(data: bytes, name: str) -> Source:
    """Read PDF bytes. Returns a Source with format ``pdf`` (``pdf-ocr`` when every page
    was read by OCR) and ``meta`` holding ``pages`` and the document info's ``title`` /
    ``author`` where set. Raises InputError as described in the module docstring."""
    pdf = _open(data, name)
    with pdf:
        pages, heights = [], []
        for i, page in enumerate(pdf.pages, start=1):
            try:
                pages.append(_page_lines(page, i))
            except Exception as e:  # pdfminer raises many types on a broken content stream
                raise InputError(f"{name}: page {i} of the PDF is damaged ({type(e).__name__}: {e}); "
                                 "re-download it or re-export it from the original") from e
            heights.append(float(page.height))
        meta = _info(pdf.metadata, len(pdf.pages))
    textless = [i for i, lines in enumerate(pages, start=1) if not _readable("".join(ln.text for ln in lines))]
    warnings: list[str] = []
    fmt = "pdf"
    if textless:
        ocr_lines, fmt = _ocr(data, name, textless, len(pages), warnings)
        for i, lines in ocr_lines.items():
            pages[i - 1] = lines
    body = _drop_furniture(pages, heights)
    text = normalise_text("\n\n".join(_paragraphs(body)))
    if not text.strip():
        raise InputError(f"{name}: the PDF has no text besides page numbers and headers; nothing to ingest")
    return Source(text, fmt, meta, warnings)


def _readable(page_text: str) -> bool:
    """A page has a usable text layer: enough characters, most of them mapped to Unicode."""
    unmapped = len(_CID.findall(page_text))
    chars = len(_CID.sub("", page_text)) + unmapped
    return chars >= MIN_PAGE_CHARS and unmapped <= MAX_UNMAPPED_SHARE * chars


def _open(data: bytes, name: str):
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pdf.pages  # noqa: B018  (parses the page tree: a damaged file fails here)
        return pdf
    except Exception as e:  # pdfplumber wraps every pdfminer error in PdfminerException
        cause = e.args[0] if e.args and isinstance(e.args[0], Exception) else e
        if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)) or "password" in str(e).lower():
            raise InputError(f"{name}: the PDF is encrypted and needs a password to open; "
                             "save an unprotected copy (print it to PDF, or qpdf --decrypt) and ingest that") from e
        raise InputError(f"{name}: damaged or truncated PDF ({str(cause) or type(cause).__name__}); "
                         "re-download it or re-export it from the original") from e


def _info(info: dict, n_pages: int) -> dict:
    meta: dict = {"pages": n_pages}
    for key in ("Title", "Author"):
        value = info.get(key)
        if isinstance(value, bytes):
            value = value.decode("utf-16" if value.startswith(b"\xfe\xff") else "latin-1", errors="ignore")
        if isinstance(value, str) and value.strip():
            meta[key.lower()] = value.strip()
    return meta


def _page_lines(page, number: int) -> list[PdfLine]:
    lines = []
    for ln in _dedupe_chars(page).extract_text_lines(return_chars=True, strip=True, keep_blank_chars=True):
        chars = [c for c in ln["chars"] if c["text"].strip()]
        if not chars:
            continue
        lines.append(PdfLine(number, _join_chars(ln["chars"]), chars[0]["x0"], chars[-1]["x1"],
                             ln["top"], ln["bottom"], statistics.median(c["size"] for c in chars), _lead(chars)))
    return lines


def _lead(chars: list[dict]) -> float:
    """Width of the first run a line breaker keeps together: opening brackets, then a run of
    Latin letters, digits and number punctuation, or else one character, then any closing
    punctuation (which may not start a line)."""
    chars = sorted(chars, key=lambda c: c["x0"])
    i = 0
    while i < len(chars) - 1 and chars[i]["text"] in _OPENING:
        i += 1
    if chars[i]["text"].isascii() and chars[i]["text"].isalnum():
        while i + 1 < len(chars) and (chars[i + 1]["text"].isascii() and chars[i + 1]["text"].isalnum()
                                      or chars[i + 1]["text"] in _IN_NUMBER):
            i += 1
    while i + 1 < len(chars) and chars[i + 1]["text"] in _CLOSING:
        i += 1
    return chars[i]["x1"] - chars[0]["x0"]


def _dedupe_chars(page, tolerance_pt: float = 1.0):
    """The page without overprinted duplicates (fake bold: the same character in the same
    font drawn again within ``tolerance_pt``). Does what pdfplumber's ``dedupe_chars``
    does in one sort, about half the page's reading time less."""
    dup, last = set(), {}
    for c in sorted(page.chars, key=lambda c: (c["text"], c["top"], c["x0"])):
        prev = last.get(c["text"])
        if (prev is not None and abs(c["top"] - prev["top"]) <= tolerance_pt and abs(c["x0"] - prev["x0"]) <= tolerance_pt
                and c["size"] == prev["size"] and c["fontname"] == prev["fontname"]):
            dup.add(id(c))
        else:
            last[c["text"]] = c
    return page.filter(lambda obj: id(obj) not in dup) if dup else page


def _join_chars(chars: list[dict]) -> str:
    """The text of one line from its characters, in x order (see "Spaces" above)."""
    out, prev = [], None
    for c in sorted(chars, key=lambda c: c["x0"]):
        t = c["text"]
        if not t.strip():
            if out and out[-1] != " ":
                out.append(" ")
            continue
        if prev is not None and out and out[-1] != " ":
            gap = c["x0"] - prev["x1"]
            latin = prev["text"][-1:].isascii() and prev["text"][-1:].isalnum() and t[:1].isascii() and t[:1].isalnum()
            if gap > c["size"] * (0.2 if latin else 1.0):
                out.append(" ")
        out.append(t)
        prev = c
    return "".join(out).strip()


def _drop_furniture(pages: list[list[PdfLine]], heights: list[float]) -> list[PdfLine]:
    """The lines of every page minus running headers, footers and page numbers."""
    def in_band(ln: PdfLine) -> bool:
        h = heights[ln.page - 1]
        return ln.top < FURNITURE_BAND * h or ln.bottom > (1 - FURNITURE_BAND) * h

    def key(ln: PdfLine) -> tuple:
        return round(ln.top / 4), re.sub(r"\d+", "#", ln.text)

    seen = defaultdict(set)
    for lines in pages:
        for ln in lines:
            if in_band(ln):
                seen[key(ln)].add(ln.page)
    with_text = sum(1 for lines in pages if lines)
    repeated = {k for k, p in seen.items() if len(p) >= max(2, with_text / 2)}
    body_size = statistics.median([ln.size for lines in pages for ln in lines] or [0])
    out = []
    for lines in pages:
        apart = _set_apart(lines, body_size)
        out.extend(ln for i, ln in enumerate(lines)
                   if not (in_band(ln) and (key(ln) in repeated or PAGE_NUMBER_RE.match(ln.text) or i in apart)))
    return out


def _set_apart(lines: list[PdfLine], body_size: float) -> set[int]:
    """Indexes of the first and last line of a page when set in smaller type than the body
    and a line's height or more away from the rest: a running header or footer that a
    short document shows on too few pages to repeat."""
    out = set()
    if len(lines) < 3:
        return out
    for i, neighbour in ((0, 1), (len(lines) - 1, len(lines) - 2)):
        ln, nb = lines[i], lines[neighbour]
        gap = nb.top - ln.bottom if i == 0 else ln.top - nb.bottom
        if ln.size < body_size - 1 and gap > body_size:
            out.add(i)
    return out


def _paragraphs(lines: list[PdfLine]) -> list[str]:
    """Re-join hard-wrapped lines into paragraphs (see "Hard wraps" above)."""
    left, right = _margins(lines)
    paras: list[str] = []
    prev = None
    for ln in lines:
        if prev is not None and _continues(prev, ln, left, right):
            paras[-1] += (" " if _latin_letter(prev.text[-1:]) and _latin_letter(ln.text[:1]) else "") + ln.text
        else:
            paras.append(ln.text)
        prev = ln
    return paras


def _latin_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _margins(lines: list[PdfLine]) -> tuple[dict[int, float], dict[int, float]]:
    """Left and right text margins per page: the page's own where it has at least five
    lines, else the median over such pages (odd and even pages may differ). A right
    margin is where at least two lines end (within a character): the longest line of a
    page of short lines is no margin. With none, no line counts as reaching it."""
    by_page = defaultdict(list)
    for ln in lines:
        by_page[ln.page].append(ln)
    left = {p: min(ln.x0 for ln in ls) for p, ls in by_page.items() if len(ls) >= 5}
    right = {}
    for p, ls in by_page.items():
        edge = max(ln.x1 for ln in ls)
        if len(ls) >= 5 and sum(1 for ln in ls if ln.x1 >= edge - ln.size) >= 2:
            right[p] = edge
    doc_left = statistics.median(left.values()) if left else min((ln.x0 for ln in lines), default=0)
    doc_right = statistics.median(right.values()) if right else float("inf")
    return ({p: left.get(p, doc_left) for p in by_page}, {p: right.get(p, doc_right) for p in by_page})


def _continues(a: PdfLine, b: PdfLine, left: dict, right: dict) -> bool:
    """Whether line ``b`` continues the paragraph of line ``a`` (a hard wrap)."""
    size = max(a.size, b.size)
    if abs(a.size - b.size) > 1:
        return False
    if a.x0 > left[a.page] + 3 * size:
        return False  # a is right-aligned or centred
    if a.x1 < right[a.page] - 1.5 * size and a.x1 + b.lead < right[a.page] - 0.2 * size:
        return False  # a ends short of the margin, where b's first word would have fitted
    if b.page == a.page and b.top - a.bottom > 1.2 * size:
        return False  # a blank line between them
    if a.text[-1] in SENTENCE_END and (HEADING_RE.match(b.text) or b.x0 > left[b.page] + 0.5 * size):
        return False  # a sentence ends, then a heading or an indented or centred line
    if b.x0 > left[b.page] + 0.5 * size:
        return _centred(b, left[b.page], right[b.page]) and a.x0 <= left[a.page] + 0.5 * size
    return True


def _centred(ln: PdfLine, left: float, right: float) -> bool:
    """A line centred between the margins (the second line of a wrapped title)."""
    return abs((ln.x0 + ln.x1) / 2 - (left + right) / 2) < ln.size


def _ocr(data: bytes, name: str, textless: list[int], n_pages: int, warnings: list[str]):
    """OCR the pages without a text layer, or raise/warn when OCR is not installed."""
    from kb.readers import ocr

    pages_txt = ", ".join(map(str, textless[:10])) + (" …" if len(textless) > 10 else "")
    if not ocr.available():
        if len(textless) == n_pages:
            raise InputError(f"{name}: the PDF has no usable text layer (a scan, or fonts without a Unicode map) "
                             "and OCR is not installed; "
                             "install it with pip install 'policy-kb[ocr]', or ingest a PDF with text")
        warnings.append(f"pages {pages_txt} have no usable text layer (scanned?) and were skipped; "
                        "install OCR (pip install 'policy-kb[ocr]') to read them")
        return {}, "pdf"
    lines = ocr.read_pages(data, textless)
    if len(textless) == n_pages:
        warnings.append(f"no text layer; all {n_pages} pages were read by OCR: check the text")
        return lines, "pdf-ocr"
    warnings.append(f"pages {pages_txt} have no text layer and were read by OCR")
    return lines, "pdf"
