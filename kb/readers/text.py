"""Plain text: encoding detection (UTF-8 with or without BOM, UTF-16 with BOM,
GB18030/GBK/GB2312, else charset-normalizer's guess) and normalisation."""
from __future__ import annotations

import re
import unicodedata

from kb.errors import InputError
from kb.readers.source import Source


def read(data: bytes, name: str) -> Source:
    """Read plain-text bytes. Raises InputError for empty, binary or undecodable input."""
    return Source(normalise_text(decode(data, name)), "txt")


def decode(data: bytes, name: str) -> str:
    """Decode text bytes to ``str`` (see the module docstring for the encodings tried).

    Raises InputError naming ``name`` for empty, binary or undecodable input, and for text
    that decodes but is garbled (mojibake, see ``kb.garbled``).
    """
    from kb.garbled import check_not_garbled

    text = _decode(data, name)
    check_not_garbled(text, name)
    return text


def _decode(data: bytes, name: str) -> str:
    if not data.strip():
        raise InputError(f"{name}: the file is empty; nothing to ingest")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:4096] or looks_binary(data[:4096]):
        raise InputError(f"{name}: looks like a binary file, not text or HTML; "
                         "kb reads .txt, .html, .md, .docx and .pdf: export it to one of those")
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


def looks_binary(head: bytes) -> bool:
    """True when more than 5 % of ``head`` are control bytes other than tab/LF/CR/FF."""
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return len(head) > 0 and control / len(head) > 0.05


def normalise_text(text: str) -> str:
    """NFKC-normalise (full-width → half-width: （一）→(一), １．→1., ：→:), unify line ends,
    drop zero-width and control characters, strip trailing spaces."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"[\u200b-\u200f\u2060\ufeff]", "", text)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    text = text.replace("\u3000", " ").replace("\xa0", " ")
    return "\n".join(line.rstrip() for line in text.split("\n"))
