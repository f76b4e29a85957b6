"""Garbled text (kb/garbled.py): the seed decoded with a wrong encoding is refused with what
to do; the seed itself, in GB18030 and in traditional script, is accepted."""
from __future__ import annotations

import pytest

from conftest import SEED
from kb.errors import InputError
from kb.garbled import garbled_reason
from kb.read import decode_document

TEXT = SEED.read_text("utf-8")


def _traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


@pytest.mark.parametrize("data,reason", [
    (TEXT[:3000].encode("utf-8").decode("latin-1").encode("utf-8"), "C1 control characters"),
    (TEXT[:3000].encode("utf-8").decode("gbk", errors="replace").encode("utf-8"), "could not be decoded"),
    (_traditional(TEXT[:3000]).encode("big5", errors="ignore"), "private-use characters"),
    (TEXT[:3000].encode("shift_jis", errors="ignore"), "of its Chinese characters are rare ones"),
    ("Le développement général des femmes. Améliorer l'éducation.".encode("latin-1"), "inside Latin words"),
])
def test_wrong_encoding_refused(data, reason):
    with pytest.raises(InputError, match=f"notice.txt: the text looks garbled after decoding: .*{reason}"
                                         ".*save the file as UTF-8"):
        decode_document(data, name="notice.txt")


@pytest.mark.parametrize("data", [TEXT.encode("utf-8"), TEXT.encode("gb18030"), _traditional(TEXT).encode("utf-8"),
                                  "Plan for women: health, education, safety.".encode("latin-1")])
def test_right_text_accepted(data):
    text = decode_document(data)
    assert any(w in text for w in ("妇女", "婦女", "women"))
    assert garbled_reason(text) is None


def test_unstructured_latin1_not_stored_garbled(tmp_path, fake_embedder):
    from kb.build import ingest

    path = tmp_path / "notes.txt"
    path.write_bytes(("Le développement général des femmes.\n\nAméliorer l'éducation des filles. " * 20).encode("latin-1"))
    with pytest.raises(InputError, match="notes.txt: the text looks garbled"):
        ingest([path], tmp_path / "index", allow_unstructured=True, embedder=fake_embedder)
    assert not (tmp_path / "index" / "manifest.json").exists()
