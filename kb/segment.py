"""Chinese word segmentation for BM25: an own jieba tokenizer with the field's terms.

>>> seg = Segmenter(user_words=["产前筛查率"])
>>> seg.cut("到2030年,产前筛查率达82%以上")       # loads jieba's dictionary once
['到', '2030', '年', '产前', '筛查', '筛查率', '产前筛查率', '达', '82', '以上']

Documents and queries go through the same steps, so their tokens meet:
text normalisation (NFKC full-width → half-width, OpenCC traditional → simplified,
control characters dropped), jieba search-mode segmentation (whole words plus their
dictionary sub-words, so 筛查率 finds 产前筛查率), lower-casing, and removal of
punctuation, symbols (emoji) and stopwords (``kb/data/stopwords.txt``).

jieba's HMM new-word guessing is off: it glues neighbours into unstable pseudo-words
(筛查率达, 率要) that split the same indicator differently in a query and a document.
Unknown words fall back to single characters, which still match.

Nothing is loaded at import; the jieba dictionary (about 1.5 s on this hardware) and
OpenCC load on first use, once per ``Segmenter``.

Compiled dictionary (fast cold start): ``save_dictionary`` writes every entry of the
tokenizer's frequency table -- jieba's 349k words, their prefixes and the user words,
after ``add_word`` -- as sorted 63-bit blake2b keys with int32 frequencies (~6 MB,
``kb.indexes.JIEBA_DICT_FILE`` in each index generation). ``Segmenter(...,
dictionary=path)`` loads that file in milliseconds and answers jieba's lookups by
binary search, so a query is cut exactly as with the full dictionary (same DAG, same
route, same search-mode sub-words), for any query, not only for words of the corpus. The
only difference possible is a 63-bit hash collision between a query fragment and a
dictionary entry (odds ~5e-14 per lookup). The file records the ``user_dict_hash`` it was
compiled for; a mismatch raises ``IndexStale``. A missing file (an index built before
this existed) falls back to loading jieba's dictionary.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Optional

from kb.errors import IndexStale, KbError

# Bump when the segmentation rules change: it is part of ``user_dict_hash``, so an index
# built with older rules is reported stale instead of silently mismatching queries.
SEGMENTER_VERSION = "1"

DEFAULT_MAX_QUERY_CHARS = 512
DICT_FORMAT = 1
_MASK63 = (1 << 63) - 1

# Terms of the field that jieba's dictionary would split (产前/筛查/率, 妇儿/工委). They are
# always added; callers add indicator and department names from the corpus and lexicon.
FIELD_TERMS = (
    "产前筛查率", "筛查率", "孕产妇死亡率", "婴儿死亡率", "新生儿死亡率", "死亡率",
    "近视率", "肥胖率", "检测率", "覆盖率", "入园率", "毛入学率", "巩固率", "普及率",
    "早诊早治率", "知晓率", "接种率", "母婴传播率", "人工流产率", "预期寿命",
    "妇儿工委", "妇儿工委办", "妇联", "两癌", "宫颈癌", "乳腺癌", "留守儿童", "困境儿童",
    "孤儿", "事实无人抚养儿童", "流动儿童", "儿童之家", "儿童友好", "溺水", "防溺水",
    "托育", "婴幼儿照护", "校园欺凌", "性别平等", "男女平等", "家庭教育", "家风",
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # lazy: loads the OpenCC data files

    return opencc.OpenCC("t2s")


def normalize_text(text: str) -> str:
    """Normalise document or query text: control chars out, NFKC, traditional → simplified.

    Whitespace runs (tabs, newlines) become one space. Never raises on str input.
    """
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE.sub(" ", text).strip()
    return _t2s().convert(text) if text else text


def normalize_query(text: str, max_chars: int = DEFAULT_MAX_QUERY_CHARS) -> str:
    """``normalize_text`` and truncate to ``max_chars`` characters (a cap on work per query).

    >>> normalize_query("兒童溺水\\x00　２０３０年")
    '儿童溺水 2030年'
    """
    text = _CONTROL.sub("", text)[: max_chars * 2]  # bound NFKC/OpenCC work on 10k-char input
    return normalize_text(text)[:max_chars]


def load_stopwords() -> frozenset[str]:
    """The packaged stopword list ``kb/data/stopwords.txt`` ('#' comments, one per line)."""
    text = resources.files("kb").joinpath("data/stopwords.txt").read_text(encoding="utf-8")
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(line for line in lines if line)


def _is_noise(token: str) -> bool:
    """True for whitespace, punctuation and symbols (emoji, %, ‰) — not for words or numbers."""
    return all(ch.isspace() or unicodedata.category(ch)[0] in "PSZC" for ch in token)


def word_key(word: str) -> int:
    """63-bit key of a dictionary word: the first 8 bytes of its blake2b digest (UTF-8)."""
    digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & _MASK63


_MISSING = object()


class HashedFreq:
    """Read-only stand-in for ``jieba.Tokenizer.FREQ`` over a compiled dictionary.

    ``keys``: int64 (n,) sorted ``word_key`` values; ``freqs``: int32 (n,) jieba
    frequencies (0 for prefix-only entries). Supports what jieba's ``cut`` and
    ``cut_for_search`` use: ``in``, ``[]`` and ``get``. Answers are memoised (bounded).
    """

    MEMO_MAX = 100_000

    def __init__(self, keys, freqs):
        if len(keys) != len(freqs):
            raise ValueError(f"HashedFreq: {len(keys)} keys but {len(freqs)} frequencies")
        self.keys, self.freqs = keys, freqs
        self._memo: dict[str, Optional[int]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, word: str, default=None):
        found = self._memo.get(word, _MISSING)
        if found is _MISSING:
            key = word_key(word)
            i = int(self.keys.searchsorted(key))
            found = int(self.freqs[i]) if i < len(self.keys) and int(self.keys[i]) == key else None
            if len(self._memo) >= self.MEMO_MAX:
                self._memo.clear()
            self._memo[word] = found
        return default if found is None else found

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __getitem__(self, word: str) -> int:
        found = self.get(word)
        if found is None:
            raise KeyError(word)
        return found


class Segmenter:
    """Segments text into lower-case index tokens with an own ``jieba.Tokenizer``.

    ``user_words`` are added to the dictionary (on top of ``FIELD_TERMS``) so that they
    stay whole; ``stopwords`` default to ``kb/data/stopwords.txt``. ``dictionary`` is
    the path of a compiled dictionary (``save_dictionary``) to load instead of jieba's;
    when that file does not exist, jieba's dictionary is loaded as usual. The global
    ``jieba.dt`` is never touched; jieba's log output is silenced.
    """

    def __init__(self, user_words: Iterable[str] = (), stopwords: Optional[Iterable[str]] = None,
                 dictionary: Optional[str | os.PathLike] = None):
        words = {w.strip() for w in (*FIELD_TERMS, *user_words) if w and w.strip()}
        self.user_words: tuple[str, ...] = tuple(sorted(words))
        self.stopwords = frozenset(load_stopwords() if stopwords is None else stopwords)
        self.dictionary = Path(dictionary) if dictionary is not None else None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def user_dict_hash(self) -> str:
        """sha256 hex of the rules version, sorted user words and sorted stopwords."""
        h = hashlib.sha256(f"segmenter-v{SEGMENTER_VERSION}\n".encode())
        h.update("\n".join(self.user_words).encode())
        h.update(b"\n--stopwords--\n")
        h.update("\n".join(sorted(self.stopwords)).encode())
        return h.hexdigest()

    def warm_up(self) -> None:
        """Load the jieba dictionary and add the user words; idempotent and thread-safe."""
        if self._tokenizer is not None:
            return
        with self._lock:
            if self._tokenizer is None:
                self._tokenizer = self._make_tokenizer()

    @property
    def compiled(self) -> bool:
        """True once warmed up from a compiled dictionary rather than jieba's own."""
        return self._tokenizer is not None and isinstance(self._tokenizer.FREQ, HashedFreq)

    def _make_tokenizer(self):
        import jieba  # lazy: the import is cheap, the dictionary load is not

        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        if self.dictionary is not None and self.dictionary.exists():
            tokenizer.FREQ, tokenizer.total = self._load_compiled(self.dictionary)
            tokenizer.initialized = True
            return tokenizer
        tokenizer.initialize()
        for word in self.user_words:
            tokenizer.add_word(word)
        return tokenizer

    def _load_compiled(self, path: Path) -> tuple[HashedFreq, int]:
        import numpy as np

        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != DICT_FORMAT or meta.get("user_dict_sha256") != self.user_dict_hash:
                raise IndexStale(f"{path} was compiled for another segmenter dictionary; rebuild the "
                                 "index: kb ingest --rebuild corpus/")
            return HashedFreq(z["keys"], z["freqs"]), int(meta["total"])

    def save_dictionary(self, path: str | os.PathLike) -> Path:
        """Write the compiled dictionary of this segmenter to ``path`` (.npz, ~6 MB, atomic).

        Arrays ``keys`` (int64, sorted ``word_key``) and ``freqs`` (int32), and ``meta``
        (JSON: format, ``user_dict_sha256``, jieba ``total``, jieba version). Loads jieba's
        dictionary if not yet loaded (~1.5 s) and hashes its ~500k entries (~0.5 s).
        Raises ``KbError`` on a key collision between two entries.
        """
        import jieba
        import numpy as np

        from kb.layout import atomic_savez

        self.warm_up()
        tok = self._tokenizer
        if isinstance(tok.FREQ, HashedFreq):
            keys, freqs = tok.FREQ.keys, tok.FREQ.freqs
        else:
            keys = np.fromiter((word_key(w) for w in tok.FREQ), dtype=np.int64, count=len(tok.FREQ))
            freqs = np.fromiter(tok.FREQ.values(), dtype=np.int64, count=len(tok.FREQ))
            order = np.argsort(keys, kind="stable")
            keys, freqs = keys[order], freqs[order]
            if keys.size and bool((keys[1:] == keys[:-1]).any()):
                raise KbError("two jieba dictionary entries share a 63-bit key; cannot compile the dictionary")
            if freqs.size and (freqs.min() < 0 or freqs.max() > np.iinfo(np.int32).max):
                raise KbError("jieba frequencies out of int32 range; cannot compile the dictionary")
            freqs = freqs.astype(np.int32)
        meta = {"format": DICT_FORMAT, "user_dict_sha256": self.user_dict_hash, "total": int(tok.total),
                "entries": int(keys.size), "jieba": getattr(jieba, "__version__", "?")}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_savez(path, dict(keys=keys, freqs=freqs, meta=np.array(json.dumps(meta))))

    def tokens(self, normalized: str) -> list[str]:
        """Search-mode tokens of already-normalised text, filtered and lower-cased."""
        self.warm_up()
        out = []
        for token in self._tokenizer.cut_for_search(normalized, HMM=False):
            token = token.strip().lower()
            if token and token not in self.stopwords and not _is_noise(token):
                out.append(token)
        return out

    def words(self, normalized: str) -> list[str]:
        """Precise-mode words of already-normalised text, unfiltered (法律援助 stays one word,
        where ``tokens`` also gives 法律): for tests on whole words rather than substrings."""
        self.warm_up()
        return [w for w in self._tokenizer.cut(normalized, HMM=False) if w.strip()]

    def cut(self, text: str) -> list[str]:
        """Index tokens of a document text (no length limit). Returns ``list[str]``."""
        return self.tokens(normalize_text(text))

    def cut_query(self, text: str, max_chars: int = DEFAULT_MAX_QUERY_CHARS) -> list[str]:
        """Tokens of a query after ``normalize_query``; ``[]`` when nothing searchable is left."""
        return self.tokens(normalize_query(text, max_chars))
