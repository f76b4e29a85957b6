"""Read a document file into text: encoding detection, HTML extraction, normalisation.

Accepted: plain text (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK/GB2312,
CRLF or LF line ends) and HTML pages (``.html``/``.htm``, or text that starts like
HTML). Everything else raises :class:`InputError` with what to do.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from kb.errors import InputError
from kb.garbled import check_not_garbled

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
MAX_BYTES = 20 * 1024 * 1024  # a plan document is ~100 KB; 20 MB is surely not one

# Block-level tags whose boundaries become paragraph breaks.
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article")
# Page chrome dropped before text extraction.
_CHROME_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button")
_CHROME_ATTR = re.compile(r"nav|menu|breadcrumb|footer|header|sidebar|share|toolbar|search|login|copyright", re.I)


def read_document(path: str | Path) -> str:
    """Read ``path`` and return its text, NFKC-normalised with LF line ends.

    Raises InputError for a missing path, a directory, an empty or binary file,
    an undecodable encoding, a file above ``MAX_BYTES``, or an unsupported suffix
    (.pdf/.docx are not supported yet: export them to text or HTML first).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory; pass the files inside it")
    suffix = p.suffix.lower()
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES:
        raise InputError(
            f"{p}: unsupported format {suffix!r}; kb reads .txt and .html "
            "(export .pdf/.docx to text or HTML first)")
    data = p.read_bytes()
    if len(data) > MAX_BYTES:
        raise InputError(f"{p}: {len(data) // 1024 // 1024} MB is larger than the {MAX_BYTES // 1024 // 1024} MB limit for one document; split it")
    return decode_document(data, name=str(p), html=suffix in HTML_SUFFIXES or None)


def decode_document(data: bytes, name: str = "<bytes>", html: bool | None = None) -> str:
    """Decode raw bytes of a text or HTML document into normalised text.

    ``html=None`` sniffs the content. Raises InputError for empty, binary or
    undecodable input, and for text that decodes but is garbled (``kb.garbled``).
    """
    if not data.strip():
        raise InputError(f"{name}: the file is empty; nothing to ingest")
    text = _decode(data, name)
    check_not_garbled(text, name)
    if html is None:
        html = bool(re.match(r"\s*(<!doctype html|<html|<head|<body|<meta|<div|<p[ >])", text[:500], re.I))
    if html:
        text = html_to_text(text)
    return normalise_text(text)


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096] or _looks_binary(data[:4096]):
        raise InputError(f"{name}: looks like a binary file, not text or HTML; export it to .txt or .html")
    for enc in ("utf-8", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{name}: cannot detect the text encoding; save it as UTF-8")
    return str(best)


def _looks_binary(head: bytes) -> bool:
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return len(head) > 0 and control / len(head) > 0.05


def html_to_text(html: str) -> str:
    """Extract the paragraphs of an HTML page, dropping scripts, styles and navigation.

    Block elements become paragraph breaks; inline markup is flattened. Uses BeautifulSoup
    with Python's built-in parser.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_CHROME_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.attrs is None:
            continue
        attrs = " ".join([tag.get("id") or "", " ".join(tag.get("class") or [])])
        if attrs.strip() and _CHROME_ATTR.search(attrs) and tag.name not in ("body", "html"):
            tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    root = soup.body or soup
    text = root.get_text()
    return re.sub(r"\n\s*\n+", "\n\n", text)


def normalise_text(text: str) -> str:
    """NFKC-normalise (full-width → half-width: （一）→(一), １．→1., ：→:), unify line ends,
    drop zero-width and control characters, strip trailing spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    text = text.replace("\u3000", " ").replace("\xa0", " ")
    return "\n".join(line.rstrip() for line in text.split("\n"))
