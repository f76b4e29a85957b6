"""kb/indexes.py: the files a build writes into a generation, and what a reader checks."""
from __future__ import annotations

import json

from kb import indexes, layout


def test_build_writes_compiled_dictionary_matching_manifest(corpus_index):
    from kb.segment import Segmenter

    gen = layout.current_generation(corpus_index)
    manifest = layout.read_manifest(corpus_index)
    words = (gen / indexes.USER_WORDS_FILE).read_text("utf-8").split()
    seg = Segmenter(user_words=words, dictionary=gen / indexes.JIEBA_DICT_FILE)
    assert seg.user_dict_hash == manifest["user_dict_sha256"]
    tokens = seg.cut_query("哪些措施涉及儿童溺水")
    assert seg.compiled and "溺水" in tokens


def test_compiled_dictionary_records_its_user_dictionary(corpus_index):
    import numpy as np

    gen = layout.current_generation(corpus_index)
    with np.load(gen / indexes.JIEBA_DICT_FILE) as z:
        meta = json.loads(str(z["meta"]))
        assert z["keys"].dtype == np.int64 and bool((np.diff(z["keys"]) > 0).all())
    assert meta["user_dict_sha256"] == layout.read_manifest(corpus_index)["user_dict_sha256"]
    assert meta["entries"] > 300_000
