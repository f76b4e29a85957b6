"""HTML pages: the paragraphs of the page, without scripts, styles and navigation."""
from __future__ import annotations

import re

from kb.readers.source import Source
from kb.readers.text import decode, normalise_text

# Block-level tags whose boundaries become paragraph breaks.
_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article")
# Page chrome dropped before text extraction.
_CHROME_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "button")
_CHROME_ATTR = re.compile(r"nav|menu|breadcrumb|footer|header|sidebar|share|toolbar|search|login|copyright", re.I)
_HTML_START = re.compile(r"\s*(<!doctype html|<html|<head|<body|<meta|<div|<p[ >])", re.I)


def read(data: bytes, name: str) -> Source:
    """Read HTML bytes (any encoding :func:`kb.readers.text.decode` accepts)."""
    return Source(normalise_text(html_to_text(decode(data, name))), "html")


def looks_like_html(text: str) -> bool:
    """True when the first 500 characters open like an HTML page."""
    return bool(_HTML_START.match(text[:500]))


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
    for cell in soup.find_all(["td", "th"]):
        cell.insert_after("\t")  # cells of a row stay on one line, tab-separated (as the Markdown reader does)
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    root = soup.body or soup
    text = root.get_text()
    return re.sub(r"\n\s*\n+", "\n\n", text)
