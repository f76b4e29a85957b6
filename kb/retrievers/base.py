"""The search-backend seam: what the Searcher asks of a retriever, and what a build gives it.

A retriever holds one generation's search indexes and answers with **ranked lists, one per
retrieval method** (``{"bm25": [...], "dense": [...]}``), each best first. Fusion (weighted or
RRF, ``kb.fuse``), the query-understanding boosts and the version/duplicate demotions stay in
``kb.search.Searcher``, so every backend shares them and tuning them applies to all. A backend
that fuses on its own side (Milvus ``hybrid_search`` with ``fusion="rrf"`` or ``"weighted"``)
returns a single list under ``"hybrid"``; the Searcher then boosts that list as it is.

Filters arrive as a :class:`Scope`: both the resolved set of allowed clause ids (what the
embedded backend masks with) and the filter values themselves (what a database backend turns
into its own filter expression). The two describe the same clauses; tests check that they agree.

>>> lists = retriever.search(RetrievalQuery("儿童溺水", ["儿童", "溺水"], qvec), k=100, scope=Scope())
>>> lists["bm25"][0]
Ranked(id='czf-2022-8.ertong.p2.d7.m3', score=12.3)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional, Protocol

import numpy as np

from kb.types import Clause

LISTS = ("bm25", "dense")  # the ranked lists a retriever can be asked for
SENTENCE_MARK = "#"  # a sentence vector's id: its clause's id, "#", the sentence's number (1-based)


class Ranked(NamedTuple):
    """One entry of a ranked list: clause ``id`` and the method's raw ``score`` (higher is
    better: BM25 score, or inner product of unit vectors = cosine)."""

    id: str
    score: float


class RetrievalQuery(NamedTuple):
    """A query prepared once by the Searcher: ``text`` as understood (kb.query.Intent.text),
    BM25 ``tokens`` (kb.segment, question words dropped, expansions added) and the query
    embedding ``vector`` (float32 (dim,), L2-normalised; None when no dense list is asked)."""

    text: str
    tokens: list[str]
    vector: Optional[np.ndarray] = None


@dataclass(frozen=True)
class Scope:
    """Which clauses a search may return. ``ids`` is the resolved set (None = every clause);
    ``excluded`` the ids left out of an otherwise unrestricted ``ids=None`` (the default
    filter, every current version: the few thousand clauses of superseded versions, not the
    62,000 of the others at the national size, kb.search.Searcher.scope_of);
    the other fields are the filters it was resolved from: ``doc_ids`` the documents passing
    the document filters (None = all), ``plan``/``domain``/``section`` exact plan fields,
    ``department`` a canonical department name (kb.departments.Lexicon.resolve), ``year`` a
    target year as ``Target.meets_year`` reads it."""

    ids: Optional[frozenset[str]] = None
    doc_ids: Optional[frozenset[str]] = None
    plan: Optional[str] = None
    domain: Optional[str] = None
    section: Optional[str] = None
    department: Optional[str] = None
    year: Optional[int] = None
    excluded: Optional[frozenset[str]] = None

    @property
    def unrestricted(self) -> bool:
        """True when every clause may be returned."""
        return self.ids is None and not self.excluded

    def admits(self, clause_id: str) -> bool:
        """True when ``clause_id`` is in ``ids`` (or ``ids`` is None) and not ``excluded``."""
        return (self.ids is None or clause_id in self.ids) and not (self.excluded and clause_id in self.excluded)


@dataclass
class Passages:
    """What a build hands a retriever, aligned by position: the ``clauses`` (with tags), the
    BM25 ``texts`` (kb.indexes.sparse_text), their ``tokens`` cut by the generation's
    segmenter, the passage ``vectors`` (float32 (n, dim), L2-normalised), the stored
    ``documents`` by id (rows of ``Store.documents()``, for document fields) and the
    segmenter's ``user_words`` (a backend with its own analyzer adds them to its dictionary).
    ``sentence_ids`` (:func:`sentence_id`) and ``sentence_vectors`` (float32 (m, dim)) are the
    vectors of each sentence of the clauses of two sentences or more (kb.indexes.sentence_texts),
    which the dense list scores with their clause's (:func:`best_per_clause`); none by default."""

    clauses: list[Clause]
    texts: list[str]
    tokens: list[list[str]]
    vectors: np.ndarray
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    user_words: list[str] = field(default_factory=list)
    sentence_ids: list[str] = field(default_factory=list)
    sentence_vectors: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        n = len(self.clauses)
        if not (len(self.texts) == len(self.tokens) == n and self.vectors.shape[0] == n):
            raise ValueError(f"Passages: {n} clauses, {len(self.texts)} texts, {len(self.tokens)} token lists "
                             f"and {self.vectors.shape[0]} vectors; they must align")
        if self.sentence_vectors is None:
            self.sentence_vectors = np.zeros((0, self.vectors.shape[1] if self.vectors.ndim == 2 else 0), np.float32)
        if self.sentence_vectors.shape[0] != len(self.sentence_ids):
            raise ValueError(f"Passages: {len(self.sentence_ids)} sentence ids and "
                             f"{self.sentence_vectors.shape[0]} sentence vectors; they must align")

    def __len__(self) -> int:
        return len(self.clauses)


def sentence_id(clause_id: str, n: int) -> str:
    """The id of sentence ``n`` (1-based) of a clause's sentence vectors:
    ``sentence_id("czf-2022-8.ertong.p2.d7.m3", 2)`` → 'czf-2022-8.ertong.p2.d7.m3#2'."""
    return f"{clause_id}{SENTENCE_MARK}{n}"


def clause_of(unit_id: str) -> str:
    """The clause id of a clause's or a sentence's vector id ('…m3#2' → '…m3')."""
    return unit_id.split(SENTENCE_MARK, 1)[0]


def best_per_clause(clause_hits: list, sentence_hits: list, k: int) -> list[Ranked]:
    """The dense list of clauses scored by their best vector (MaxP: Dai & Callan, "Deeper
    Text Understanding for IR with Contextual Neural Language Modeling", SIGIR 2019): the
    clause's own cosine or that of one of its sentences, whichever is higher, best first,
    at most ``k``. ``clause_hits`` and ``sentence_hits`` are (id, score) lists, best first;
    sentence ids carry their clause id (:func:`sentence_id`). A clause found only through a
    sentence keeps that sentence's cosine. Ties keep the order of first appearance, clauses
    first.

    >>> best_per_clause([("a", 0.9), ("b", 0.8)], [("b#2", 0.95), ("c#1", 0.7)], 3)
    [Ranked(id='b', score=0.95), Ranked(id='a', score=0.9), Ranked(id='c', score=0.7)]
    """
    best: dict[str, float] = {}
    for unit, score in [*clause_hits, *sentence_hits]:
        c = clause_of(unit)
        if c not in best or score > best[c]:
            best[c] = float(score)
    return [Ranked(c, s) for c, s in sorted(best.items(), key=lambda p: -p[1])[:k]]


class Retriever(Protocol):
    """One generation's search indexes behind one backend (``kb.retrievers.embedded`` or
    ``kb.retrievers.milvus``).

    ``config`` is the backend's manifest entry (``{"name": "embedded"}``, or Milvus' uri,
    collection and alias); ``vocab`` the set of BM25 tokens of the corpus as the generation's
    segmenter cuts them (used by kb.ask to tell words the corpus never uses)."""

    config: dict[str, Any]
    vocab: Any

    def build(self, passages: Passages) -> None:
        """Index ``passages`` from scratch (a new generation)."""

    def add(self, passages: Passages) -> None:
        """Index more passages (new clause ids) into the built indexes."""

    def remove(self, ids: list[str]) -> None:
        """Remove clauses by id; unknown ids are ignored."""

    # Optional: ``derive(gen, passages, removed) -> Retriever | None`` builds generation
    # ``gen``'s indexes as these plus a change (new or changed ``passages``, ``removed`` ids)
    # without re-reading the unchanged clauses, or returns None when a fresh ``build`` is due.
    # kb.indexes calls it when the backend has it (the embedded one); others are rebuilt.

    def search(self, query: RetrievalQuery, k: int, scope: Scope = Scope(),
               lists: tuple[str, ...] = LISTS) -> dict[str, list[Ranked]]:
        """Up to ``k`` clauses per asked list (``lists`` ⊆ LISTS), best first, only inside
        ``scope``; an empty scope gives empty lists."""

    def close(self) -> None:
        """Release files, servers and connections (idempotent)."""
