"""The result of reading one file: its text and what the reader learned on the way."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Source:
    """One document file read into text.

    ``text``: NFKC-normalised, LF line ends (:func:`kb.readers.text.normalise_text`);
    readers that know where paragraphs end (docx, pdf, md) separate paragraphs (and
    table rows) by a blank line and keep a single line break for a break inside one, the
    convention of the text files kb reads (the parser joins lines not after a blank). ``format``: the reader that read it,
    one of ``txt``, ``html``, ``md``, ``docx``, ``pdf``, ``pdf-ocr``. ``meta``: what the
    format itself states (Markdown front matter, a PDF's page count, …), never guessed
    from the text. ``warnings``: things the reader did that a user should know (a
    suffix that disagrees with the content, pages that had no text, …), without the
    file's name (the caller prefixes it).
    """

    text: str
    format: str
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
