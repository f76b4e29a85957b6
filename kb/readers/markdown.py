"""Markdown: the text a reader sees, one block (heading, paragraph, list item, table row)
per paragraph (paragraphs separated by a blank line), with the markup stripped.

* YAML front matter (``---`` … ``---`` at the top) becomes ``Source.meta`` (JSON-safe:
  dates become ISO strings).
* ``<!-- INFO END -->``, the convention of the law texts in ``shared/corpora/laws-cn``
  (LawRefBook/Laws): the lines before it (the ``# title`` and the header block, e.g.
  ``2015年12月27日 第十二届全国人民代表大会常务委员会第十八次会议通过``) stay as text lines;
  the comment itself, like every HTML comment (``<!-- TABLE -->``, ``<!-- FORCE BREAK -->``),
  is dropped.
* Headings lose their ``#``s; emphasis, links (their text is kept) and inline code lose
  their markup; an ordered list item keeps its number as written (``1.``, ``2)``), a bullet
  loses its marker; a table row becomes a paragraph, cells joined by a space, the
  ``|---|`` rule dropped; a code fence keeps its content and drops the fences.
* Line breaks inside a paragraph are kept: Chinese policy text puts one paragraph per
  line, and the parser re-joins hard wraps itself.

Parsing is CommonMark (markdown-it-py) with GFM tables.
"""
from __future__ import annotations

import json
import re

from kb.errors import InputError
from kb.readers.source import Source
from kb.readers.text import decode, normalise_text

FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.S)
INFO_END = "<!-- INFO END -->"
CELL_SEPARATOR = "\t"  # a tab: grammars tell a table row from running text (never an article)
_ATX_HEADING = re.compile(r"^#{1,6} \S", re.M)


def read(data: bytes, name: str) -> Source:
    """Read Markdown bytes (any encoding :func:`kb.readers.text.decode` accepts).

    Returns a Source with format ``md`` and the front matter as ``meta`` (plus ``title``,
    the first level-1 heading, when the front matter has none). Raises InputError for
    empty or binary input, or a file that is only front matter.
    """
    text = decode(data, name).replace("\r\n", "\n").replace("\r", "\n")
    meta, warnings, body = _front_matter(text, name)
    lines, title = _render(body)
    if title and "title" not in meta:
        meta["title"] = normalise_text(title)
    out = normalise_text("\n".join(lines).strip("\n"))
    if not out.strip():
        raise InputError(f"{name}: the Markdown file has no text besides its front matter; nothing to ingest")
    return Source(out, "md", meta, warnings)


def looks_like_markdown(text: str) -> bool:
    """True for text with front matter, the ``<!-- INFO END -->`` marker, or two ATX headings."""
    return bool(FRONT_MATTER_RE.match(text)) or INFO_END in text or len(_ATX_HEADING.findall(text)) >= 2


def _front_matter(text: str, name: str) -> tuple[dict, list[str], str]:
    m = FRONT_MATTER_RE.match(text)
    if not m:
        return {}, [], text
    import yaml

    try:
        meta = yaml.safe_load(m.group(1) or "") or {}
    except yaml.YAMLError as e:
        return {}, [f"the front matter is not valid YAML ({str(e).splitlines()[0]}); ignored it"], text[m.end():]
    if not isinstance(meta, dict):
        return {}, [f"the front matter is not a mapping of keys to values; ignored it"], text[m.end():]
    return json.loads(json.dumps({str(k): v for k, v in meta.items()}, ensure_ascii=False, default=str)), [], text[m.end():]


def _render(body: str) -> tuple[list[str], str | None]:
    """Walk markdown-it's block tokens; return the text lines and the first H1's text."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": True}).enable("table").parse(body)
    lines: list[str] = []
    row: list[str] | None = None
    prefix = ""
    title = None
    for i, tok in enumerate(tokens):
        if tok.type == "list_item_open":
            prefix = f"{tok.info}{tok.markup} " if tok.info else ""
        elif tok.type == "tr_open":
            row = []
        elif tok.type == "tr_close":
            lines.extend([CELL_SEPARATOR.join(c for c in row if c), ""])
            row = None
        elif tok.type in ("heading_close", "paragraph_close"):
            lines.append("")  # a blank line between blocks, as in the source
        elif tok.type == "inline":
            text = _inline_text(tok.children or [])
            if row is not None:
                row.append(text.replace("\n", " ").strip())
                continue
            if title is None and i and tokens[i - 1].type == "heading_open" and tokens[i - 1].tag == "h1":
                title = text
            lines.extend((prefix + text).split("\n"))
            prefix = ""
        elif tok.type in ("fence", "code_block"):
            lines.extend(tok.content.rstrip("\n").split("\n") + [""])
        elif tok.type == "html_block":
            lines.extend(_html_block_lines(tok.content))
    return lines, title


def _inline_text(children) -> str:
    out = []
    for c in children:
        if c.type in ("text", "code_inline"):
            out.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif c.type == "image":
            out.append(_inline_text(c.children or []))
        elif c.type == "html_inline" and re.match(r"<br\s*/?>", c.content, re.I):
            out.append("\n")
    return "".join(out)


def _html_block_lines(html: str) -> list[str]:
    """An HTML block's text (a raw ``<table>`` or ``<p>``), comments dropped."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    if not html.strip():
        return []
    from kb.readers.html import html_to_text

    return [ln.strip() for ln in html_to_text(html).split("\n") if ln.strip()] + [""]
