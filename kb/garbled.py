"""Garbled text (mojibake): text decoded with the wrong encoding is refused, not stored.

A file's bytes can decode without error and still be wrong: GB18030 accepts almost any
byte sequence, so a Latin-1 or Shift-JIS file "decodes" into rare Chinese characters, and
UTF-8 read as Latin-1 or GBK gives ``ä¸»é¢`` or ``涓婚``. :func:`garbled_reason` looks for
the traces each mistake leaves; thresholds were set on the seed and the shared fragments
(none flagged) against the seed re-decoded with each wrong encoding (all flagged):

==========================  ==================================================  ========
sign                        seen in                                             limit
==========================  ==================================================  ========
rare ideographs             share of CJK characters in neither GB2312 nor       > 10 %
                            Big5: seed 0 %, seed in traditional script 0.5 %,
                            UTF-8 read as GBK 24 %, Big5 read as GB18030 18 %,
                            Shift-JIS read as GB18030 45 %
C1 control characters       U+0080–U+009F: UTF-8 read as Latin-1                ≥ 1
replacement characters      U+FFFD: bytes no encoding could decode              ≥ 3
private-use characters      U+E000–U+F8FF: Big5 read as GB18030                 ≥ 3 and
                                                                                > 0.1 %
ideographs inside a Latin   ``d関eloppement``: Latin-1 read as GB18030          ≥ 3
word
==========================  ==================================================  ========
"""
from __future__ import annotations

import re
from typing import Optional

from kb.errors import InputError

RARE_SHARE = 0.10
# Private-use characters: a valid Word export may hold a few stray ones (人民检察院刑事诉讼规则（试行）
# (2012-11-22) in laws-cn: 10 in 105,898 characters, 0.009 %); Big5 read as GB18030 gives percents.
PUA_SHARE = 0.001
MIN_CJK_FOR_SHARE = 20  # too few ideographs say nothing about their mix
_CJK = re.compile(r"[\u4e00-\u9fff]")
_C1 = re.compile(r"[\u0080-\u009f]")
_PUA = re.compile(r"[\ue000-\uf8ff]")
_INSIDE_LATIN_WORD = re.compile(r"[A-Za-z][\u3400-\u9fff\uac00-\ud7af]+[A-Za-z]")


def garbled_reason(text: str) -> Optional[str]:
    """Why ``text`` looks decoded with the wrong encoding, or None when it looks right."""
    if _C1.search(text):
        return "it holds C1 control characters (UTF-8 read as Latin-1?)"
    if text.count("\ufffd") >= 3:
        return f"{text.count(chr(0xfffd))} characters could not be decoded (U+FFFD)"
    pua = len(_PUA.findall(text))
    if pua >= 3 and pua > PUA_SHARE * max(1, len(text)):
        return "it holds private-use characters (Big5 read as GB18030?)"
    if len(_INSIDE_LATIN_WORD.findall(text)) >= 3:
        return "Chinese characters appear inside Latin words (Latin-1 read as GB18030?)"
    cjk = _CJK.findall(text)
    if len(cjk) >= MIN_CJK_FOR_SHARE:
        rare = sum(1 for c in set(cjk) if not _common(c))
        share = sum(1 for c in cjk if not _common(c)) / len(cjk) if rare else 0.0
        if share > RARE_SHARE:
            return f"{share:.0%} of its Chinese characters are rare ones (the wrong encoding?)"
    return None


def check_not_garbled(text: str, name: str) -> None:
    """Raise InputError saying what to do when ``text`` (decoded from file ``name``) is garbled."""
    reason = garbled_reason(text)
    if reason:
        raise InputError(f"{name}: the text looks garbled after decoding: {reason}; "
                         "save the file as UTF-8 and ingest it again")


def _common(ch: str) -> bool:
    for encoding in ("gb2312", "big5"):
        try:
            ch.encode(encoding)
            return True
        except UnicodeEncodeError:
            pass
    return False
