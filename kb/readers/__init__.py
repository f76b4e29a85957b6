"""Read a document file of any supported format into a :class:`Source`.

One module per format (``text``, ``html``, ``markdown``, ``docx``, ``pdf``, ``ocr``); this
module picks the reader by content first (magic bytes ``%PDF``; a zip holding
``word/document.xml``; text that opens like HTML or like Markdown) and by suffix second, so a
``.doc`` that is really an HTML page, as some portals serve, is read as HTML (with a
warning). Formats kb cannot read (Word 97–2003 .doc, Excel, OFD, images, other zips) raise
:class:`~kb.errors.InputError` naming the file, the format found and what to do.

>>> from kb.readers import read_source
>>> src = read_source("corpus/zengdu/zengzhengfa-2022-8-women-children-plans.txt")
>>> src.format, src.text.splitlines()[0][:3]
('txt', '索引号')
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from kb.errors import InputError
from kb.readers.source import Source

__all__ = ["Source", "read_source", "read_bytes", "sniff_format", "SUPPORTED_SUFFIXES", "MAX_BYTES"]

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
SUFFIX_FORMATS = {**dict.fromkeys(TEXT_SUFFIXES, "txt"), **dict.fromkeys(HTML_SUFFIXES, "html"),
                  **dict.fromkeys(MARKDOWN_SUFFIXES, "md"), ".docx": "docx", ".pdf": "pdf"}
# The suffixes `kb ingest FOLDER` picks up.
SUPPORTED_SUFFIXES = frozenset(SUFFIX_FORMATS)
# Text formats stand in for one another without a warning (a .txt holding HTML, as before).
_TEXT_FORMATS = {"txt", "html", "md"}
MAX_BYTES = 20 * 1024 * 1024  # a plan document is ~100 KB as text, a few MB as PDF

_WHAT_TO_DO = "kb reads .txt, .html, .md, .docx and .pdf"
# Magic bytes of formats kb does not read, with what to do about each.
_UNREADABLE = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Word 97-2003 .doc / .xls / .wps file (OLE2)",
     "open it in Word or WPS and save it as .docx (or: libreoffice --headless --convert-to docx FILE)"),
    (b"{\\rtf", "an RTF file", "save it as .docx"),
    (b"\x89PNG", "a PNG image", "kb does not OCR images; put it in a PDF or type it out as text"),
    (b"\xff\xd8\xff", "a JPEG image", "kb does not OCR images; put it in a PDF or type it out as text"),
    (b"GIF8", "a GIF image", "kb does not OCR images; put it in a PDF or type it out as text"),
    (b"II*\x00", "a TIFF image", "kb does not OCR images; put it in a PDF or type it out as text"),
    (b"MM\x00*", "a TIFF image", "kb does not OCR images; put it in a PDF or type it out as text"),
    (b"Rar!", "a RAR archive", "extract it and ingest the files inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it and ingest the files inside"),
    (b"\x1f\x8b", "a gzip archive", "extract it and ingest the files inside"),
)
# Zip members that say what kind of zip a file is.
_ZIP_KINDS = (
    ("xl/workbook.xml", "an Excel .xlsx workbook", "copy the text into a .docx or .txt"),
    ("ppt/presentation.xml", "a PowerPoint .pptx", "export it to PDF"),
    ("OFD.xml", "an OFD document (版式文件)", "export it to PDF with the OFD reader"),
    ("content.xml", "an OpenDocument (.odt/.ods) file", "save it as .docx"),
)


def read_source(path: str | Path) -> Source:
    """Read the file at ``path`` with the reader its content calls for.

    Returns a :class:`Source`. Raises InputError for a missing path, a directory, a file
    above ``MAX_BYTES``, and whatever the chosen reader rejects (empty, binary, encrypted,
    no text layer, a format kb does not read); every message names the file and says
    what to do.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory; pass the files inside it")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{p}: {size // 1024 // 1024} MB is larger than the "
                         f"{MAX_BYTES // 1024 // 1024} MB limit for one document; split it")
    return read_bytes(p.read_bytes(), name=str(p))


def read_bytes(data: bytes, name: str = "<bytes>") -> Source:
    """Read a document's raw bytes; ``name`` (a file name) gives the suffix and the name
    used in messages. Same results and errors as :func:`read_source`."""
    fmt = sniff_format(data, name)
    src = _READERS[fmt](data, name)
    suffix = Path(name).suffix.lower()
    expected = SUFFIX_FORMATS.get(suffix)
    if suffix and expected != fmt and not {expected, fmt} <= _TEXT_FORMATS:
        src.warnings.insert(0, f"the content is {fmt.upper()}, not what the suffix "
                               f"{suffix!r} says; read it as {fmt.upper()}")
    return src


def sniff_format(data: bytes, name: str = "<bytes>") -> str:
    """The reader for ``data``: ``txt``, ``html``, ``md``, ``docx`` or ``pdf``.

    Content decides where it can (magic bytes, HTML or Markdown openings); for plain text
    the suffix may say ``md`` or ``html``. Raises InputError for formats kb does not read.
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data, name)
    for magic, what, todo in _UNREADABLE:
        if data.startswith(magic):
            raise InputError(f"{name}: is {what}, which kb cannot read; {todo}")
    suffix = Path(name).suffix.lower()
    from kb.readers import html, markdown

    sample = head.decode("utf-8", errors="ignore")
    if suffix in (".docx", ".pdf") and data.strip():
        what = "an HTML page (a failed download?)" if html.looks_like_html(sample) else "neither PDF nor Word"
        raise InputError(f"{name}: is not a {suffix} file (its content is {what}); "
                         f"re-download or re-export it; {_WHAT_TO_DO}")
    if html.looks_like_html(sample):
        return "html"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in MARKDOWN_SUFFIXES or markdown.looks_like_markdown(data[:4096].decode("utf-8", errors="ignore")):
        return "md"
    return "txt"


def _zip_format(data: bytes, name: str) -> str:
    try:
        members = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile as e:
        raise InputError(f"{name}: a damaged zip archive ({e}); if it is a .docx, re-download "
                         "or re-save it in Word/WPS") from e
    if "word/document.xml" in members:
        return "docx"
    for member, what, todo in _ZIP_KINDS:
        if member in members or any(m.endswith("/" + member) for m in members):
            raise InputError(f"{name}: is {what}, not a Word .docx; {todo}")
    raise InputError(f"{name}: is a zip archive, not a Word .docx (it has no word/document.xml); "
                     f"extract it and ingest the documents inside; {_WHAT_TO_DO}")


def _read(module: str):
    def reader(data: bytes, name: str) -> Source:
        import importlib

        return importlib.import_module(f"kb.readers.{module}").read(data, name)
    return reader


_READERS = {"txt": _read("text"), "html": _read("html"), "md": _read("markdown"),
            "docx": _read("docx"), "pdf": _read("pdf")}
