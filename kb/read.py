"""Read a document file into text: the names the rest of kb has always used, over the
readers in :mod:`kb.readers` (one per format: text, HTML, Markdown, .docx, PDF, OCR).

Accepted: plain text (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK/GB2312),
HTML pages, Markdown, Word .docx and PDF (text layer, or OCR with the ``ocr`` extra).
Everything else raises :class:`InputError` with what to do.
"""
from __future__ import annotations

from pathlib import Path

from kb.readers import HTML_SUFFIXES, MARKDOWN_SUFFIXES, MAX_BYTES, SUPPORTED_SUFFIXES, TEXT_SUFFIXES, read_source
from kb.readers.html import html_to_text
from kb.readers.html import read as _read_html
from kb.readers.text import normalise_text
from kb.readers.text import read as _read_text

__all__ = ["read_document", "decode_document", "html_to_text", "normalise_text", "MAX_BYTES",
           "SUPPORTED_SUFFIXES", "TEXT_SUFFIXES", "HTML_SUFFIXES", "MARKDOWN_SUFFIXES"]


def read_document(path: str | Path) -> str:
    """Read ``path`` with the reader its content calls for and return its text,
    NFKC-normalised with LF line ends (see :func:`kb.readers.read_source`, which also
    gives the format, metadata and warnings).

    Raises InputError for a missing path, a directory, an empty or binary file, an
    undecodable encoding, a file above ``MAX_BYTES``, or a format kb cannot read.
    """
    return read_source(path).text


def decode_document(data: bytes, name: str = "<bytes>", html: bool | None = None) -> str:
    """Decode raw bytes of a text or HTML document into normalised text.

    ``html=None`` sniffs the content (HTML, Markdown or plain text). Raises InputError for
    empty, binary or undecodable input.
    """
    if html is None:
        from kb.readers import read_bytes

        return read_bytes(data, name).text
    return (_read_html if html else _read_text)(data, name).text
