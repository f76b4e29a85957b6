"""Hybrid search over clauses: BM25 (jieba tokens) + dense lists from the generation's search
backend (kb.retrievers: embedded bm25s + FAISS, or Milvus), fused here, with exact filters and
query-understanding boosts.

>>> s = Searcher.open(gen_dir, manifest, store); s.search("哪些措施涉及儿童溺水").hits[0].clause.heading
'预防和控制儿童溺水'
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Optional

from kb import indexes, layout
from kb.errors import IndexStale, QueryError
from kb.indexes import law_chapter, law_short_title
from kb.query import Intent, asked_families, document_names, named_documents, question_words, understand
from kb.retrievers.base import RetrievalQuery, Scope
from kb.store import ClauseTable, Store
from kb.types import Clause

MODES = ("hybrid", "bm25", "dense")
# One settings table, units in names (see docs/evaluation.md for how each was chosen).
SETTINGS: dict[str, Any] = {
    "candidates_per_retriever": 200,   # depth of each ranked list fed to fusion
    # … each retrieved this deep (normalisation_depth) so that the min-max range of its scores
    # has a steadier floor (kb.fuse.weighted fuse_depth). With clause vectors alone, fusing 100
    # of the 200 was better (plans R@5 0.920 against 0.907); with sentence vectors
    # (kb.indexes.sentence_texts) the dense list is good deeper, and fusing all 200 lifts the
    # plan dev set from R@5 0.940 / MRR@10 0.972 to 0.955 / 0.978, laws unchanged (0.912 / 0.883).
    # At the national size it costs ~2–3 ms a query (warm hybrid 1.30× → 1.38× the query
    # embedding, docs/performance.md). With more hits fused, the other version of an article
    # (--versions all), which demote_versions puts behind all of them, falls past a page of 100
    # more often (未成年人保护法 2020 第九条 for its own words: tests/test_corpus_index.py).
    "normalisation_depth": 200,
    "fusion": "weighted",              # rrf | weighted
    "weighted_normalisation": "minmax",  # of each list before weighted fusion (kb.fuse)
    "rrf_k": 60,
    "weight_bm25": 1.0,
    # Dense weight, with sentence vectors (plan / law dev sets, R@5 / MRR@10, odd ids | even
    # ids, docs/evaluation.md "Sentence vectors"): 1.0 → plans 0.929 / 0.955 | 0.956 / 0.988,
    # laws 0.917 / 0.904 | 0.883 / 0.857; 1.25 → 0.959 / 0.956 | 0.950 / 1.000, 0.942 / 0.908
    # | 0.883 / 0.857; 1.5 → 0.947 / 0.956 | 0.950 / 0.988, the laws as at 1.25.
    "weight_dense": 1.25,
    # BM25 weight when the query names a law and speaks of no plan (反家庭暴力法…): the law's
    # short title is in every one of its articles' BM25 text, so within the law the name
    # matches all alike and the paraphrased rest decides poorly. Law dev set: 1.0 → R@5 0.875,
    # MRR 0.843; 0.3 → 0.900 / 0.852; 0.2 → 0.900 / 0.872; 0 → 0.900 / 0.886 (odd ids 0.864 →
    # 0.917 at 0.2, held-out even ids 0.821 → 0.827); 0.2 keeps some exact-term matching.
    "weight_bm25_named_law": 0.2,
    "boost_plan": 0.3,                 # multiplicative boosts from query understanding
    "boost_section": 0.2,
    "boost_department": 0.3,
    "boost_year": 0.1,
    "boost_indicator": 0.5,
    "boost_domain": 0.3,               # the query names the clause's 发展领域
    "boost_ordinal": 1.0,              # … and its number (第8条)
    "boost_named_doc": 0.2,            # the query names the clause's document (反家庭暴力法)
    "boost_named_article": 1.0,        # … and its article (第二十三条)
    # Document families (kb.query.asked_families; measured on the plan and law dev sets over
    # the seed + 16 laws, tuned on odd ids and checked on even ids, docs/evaluation.md):
    "law_factor_unasked": 0.5,         # law articles when the query speaks of no law
    # … 0.6 with clause vectors alone; with sentence vectors the laws' articles rank higher
    # (law dev set dense R@5 0.800 → 0.921): 0.6 → plans 0.947 / 0.965, laws 0.912 / 0.895;
    # 0.5 → 0.955 / 0.978, 0.912 / 0.883; 0.45 → 0.958 / 0.978, 0.912 / 0.870 (weight_dense 1.25).
    "plan_factor_law_asked": 0.5,      # plan clauses when it speaks of law and not of plans
    "law_repeat_decay": 0.9,           # each further article of one law, when the query names no law
    # … falling no further after the 3rd (0.9³ = 0.73): the top stays spread across laws, but
    # deep in the list one law's many relevant articles (民法典) are not pushed out of the 100.
    # STARD hybrid (1,235 questions, odd / even ids, docs/evaluation.md): no cap → 3: recall@10
    # 0.555 / 0.540 → 0.559 / 0.546, recall@100 0.750 / 0.720 → 0.778 / 0.745, R@5 and MRR
    # unchanged; both dev sets unchanged (cap 2: law R@5 0.892; cap 6: STARD R@100 0.774 / 0.738).
    "law_repeat_cap": 3,
    # A law prior (kb.fuse.group_prior): an article's score mixed with the mean of its law's 3
    # best. Off: on STARD 0.3 (with decay 1.0) lifts recall@100 to 0.796 / 0.774 but drops the
    # law dev set's R@5 to 0.846 (docs/evaluation.md); for a law-only national portal, not the default.
    "law_prior_weight": 0.0,
    "law_prior_depth": 3,
    "max_query_chars": 512,
    "max_k": 100,
    "query_cache_size": 1024,          # query vectors remembered (kb.embed.QueryCache)
}


@dataclass
class Filters:
    """Exact filters. ``plan`` is a plan short name (妇女); ``department`` a canonical name
    or alias (resolved by the lexicon); ``year`` a target year. The plan filters (plan,
    domain, section) match plan clauses only. ``doc``, ``doc_type``, ``level``, ``issuer``
    and ``versions`` (current | all) filter documents (kb.docfilter): superseded versions
    (历史版本) are left out unless ``versions="all"`` or ``doc`` names them."""

    plan: Optional[str] = None
    domain: Optional[str] = None
    section: Optional[str] = None
    department: Optional[str] = None
    year: Optional[int] = None
    doc: Optional[str] = None
    doc_type: Optional[str] = None
    level: Optional[str] = None
    issuer: Optional[str] = None
    versions: str = "current"

    def active(self) -> dict[str, Any]:
        """The filters set (``versions`` only when not the default)."""
        return {k: v for k, v in vars(self).items() if v is not None and not (k == "versions" and v == "current")}

    def documents(self):
        """The document part as a ``kb.docfilter.DocFilter`` (QueryError for a bad ``versions``)."""
        from kb.docfilter import DocFilter

        return DocFilter(self.doc, self.doc_type, self.level, self.issuer, self.versions)


@dataclass
class Hit:
    """One result: the clause with its tags, fused ``score``, per-retriever ranks
    (1-based, None when absent) and raw scores, and the query terms found in its text."""

    clause: Clause
    score: float
    ranks: dict[str, Optional[int]] = field(default_factory=dict)
    raw: dict[str, Optional[float]] = field(default_factory=dict)
    matched_terms: list[str] = field(default_factory=list)
    doc: Optional[DocInfo] = None

    def to_dict(self) -> dict[str, Any]:
        c = self.clause
        return {"id": c.id, "score": round(self.score, 6), "path": c.path, "short_path": c.short_path,
                "plan": c.plan, "domain": c.domain, "section": c.section, "number": c.number,
                "heading": c.heading, "text": c.text, "doc_id": c.doc_id,
                "departments": [d.to_dict() for d in c.departments],
                "targets": [t.to_dict() for t in c.targets], "matched_terms": self.matched_terms,
                "ranks": self.ranks, "raw_scores": self.raw,
                "doc_title": self.doc.title if self.doc else None,
                "doc_short_title": self.doc.short_title if self.doc else None,
                "doc_type": self.doc.doc_type if self.doc else None,
                "label": c.label, "chapter": law_chapter(c), "place": self.place}

    @property
    def place(self) -> str:
        """Where the clause sits, as a reader cites it: the plan path
        (儿童/儿童安全/策略措施/3), or a law's short title, 章 and article
        (反家庭暴力法 第四章 第二十三条)."""
        return place(self.clause)


def place(c: Clause) -> str:
    """A clause's place as a reader cites it (see ``Hit.place``)."""
    if c.plan is None and c.label:
        chapter = (law_chapter(c) or "").split()[0] if law_chapter(c) else ""
        return " ".join(p for p in (law_short_title(c), chapter, c.label) if p)
    return c.short_path


class DocInfo(NamedTuple):
    """What a hit says about its document: full title, short title (反家庭暴力法; the plan
    notice's title for the seed) and type (规划, 法律, 行政法规…, as ``kb docs`` gives it)."""

    title: Optional[str]
    short_title: Optional[str]
    doc_type: Optional[str]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> "DocInfo":
        """From a ``Store.documents()`` row."""
        return cls(doc.get("title"), doc.get("short_title"), doc.get("doc_type"))


@dataclass
class SearchResult:
    """Hits best first, the understood query, and a message when filters excluded everything."""

    hits: list[Hit]
    intent: Intent
    message: Optional[str] = None


class Searcher:
    """Loads a generation's indexes once (lazily, thread-safe) and answers queries."""

    def __init__(self, gen: Path, manifest: dict[str, Any], store: Store, embedder=None):
        self.gen = Path(gen)
        self.manifest = manifest
        self.store = store
        self._embedder = embedder
        self._lock = threading.Lock()
        self._ready = False
        self._last_numbers: Optional[dict[tuple[str, str, str], int]] = None  # read at the first 最后一条

    def warm_up(self) -> None:
        """Load segmenter, BM25, FAISS, embedder, lexicon and the documents (clauses are
        fetched by id as hits need them, kb.store.ClauseTable); idempotent."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            with layout.damaged_index(self.gen.parent):
                self._load()
            self._ready = True

    def _load(self) -> None:
        from kb.departments import Lexicon
        from kb.embed import QueryCache, load_embedder
        from kb.retrievers import open_retriever
        from kb.segment import Segmenter

        words = (self.gen / indexes.USER_WORDS_FILE).read_text("utf-8").split()
        self.segmenter = Segmenter(user_words=words, dictionary=self.gen / indexes.JIEBA_DICT_FILE)
        if self.segmenter.user_dict_hash != self.manifest.get("user_dict_sha256"):
            raise IndexStale("the index was built with another segmenter dictionary; rebuild it: "
                             "kb ingest --rebuild corpus/")
        embedder = self._embedder or load_embedder(self.manifest.get("model_spec"))
        if embedder.name != self.manifest.get("model") or embedder.dim != self.manifest.get("dim"):
            raise IndexStale(f"the index was built with model {self.manifest.get('model')!r} "
                             f"(dim {self.manifest.get('dim')}), not {embedder.name!r}; rebuild it with "
                             "kb ingest --rebuild corpus/ (and the same --model)")
        # one cache per model across generations (the API hands a new generation the old embedder)
        self.embedder = embedder if isinstance(embedder, QueryCache) else QueryCache(embedder, SETTINGS["query_cache_size"])
        self.retriever = open_retriever(self.gen, self.manifest)
        self.vocab = self.retriever.vocab  # BM25 tokens of the corpus (kb.ask: words it never uses)
        self.lexicon = Lexicon.load()
        self._check_corpus()
        self.clauses = ClauseTable(self.store)  # fetched by id: nothing loads the whole table
        docs = self.store.documents()
        self.documents = {d["id"]: d for d in docs}
        self._families = {d: row.get("grammar") or "plan" for d, row in self.documents.items()}
        # documents that have another version (kb.versions): the only ones demote_versions looks at
        self.versioned = frozenset(d for row in docs if row.get("superseded_by") for d in (row["id"], row["superseded_by"]))
        self.holds_plans = "plan" in self._families.values()
        self.docs = {d["id"]: DocInfo.of(d) for d in docs}
        self.doc_names = document_names(docs)
        self.plan_keys = self.store.distinct("plan")
        self.domains = self.store.distinct("domain")
        self.indicators = self.store.distinct("coalesce(nullif(indicator_norm, ''), indicator)", "targets")
        self.segmenter.warm_up()
        embedder.embed_queries(["预热"])  # first call allocates the engine's buffers

    def _check_corpus(self) -> None:
        """IndexStale unless the store holds the corpus the manifest's indexes were built
        over: the corpus hash recorded in the store at build time (kb.indexes), or, for a
        store made before it was recorded, the hash over every clause."""
        recorded = self.store.meta("corpus_sha256")
        if recorded is None:
            recorded = indexes.store_corpus_sha256(self.store)
        if recorded != self.manifest.get("corpus_sha256"):
            raise IndexStale("the search indexes do not match the stored clauses; rebuild them: "
                             "kb ingest --rebuild corpus/")

    def close(self) -> None:
        """Release the search backend (a Milvus connection, milvus-lite's data directory)."""
        if self._ready:
            self.retriever.close()

    def describe(self, hits: list[Hit]) -> list[Hit]:
        """Fill in each hit's document (``Hit.doc``) where it is missing; returns ``hits``."""
        self.warm_up()
        for h in hits:
            if h.doc is None:
                h.doc = self.docs.get(h.clause.doc_id)
        return hits

    # ------------------------------------------------------------------ search
    def search(self, query: str, k: int = 10, filters: Optional[Filters] = None,
               mode: str = "hybrid") -> SearchResult:
        """Top ``k`` clauses for ``query``. Raises QueryError for an unknown mode, k < 1, or
        a filter value that no document or clause has (its message lists the known values).

        Filters are exact: when known values match no clause together the result is empty
        with a message, never unfiltered hits."""
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if not 1 <= k <= SETTINGS["max_k"]:
            raise QueryError(f"k must be between 1 and {SETTINGS['max_k']}")
        self.warm_up()
        query = (query or "")[: SETTINGS["max_query_chars"] * 4]
        intent = understand(query, self.plan_keys, self.lexicon, self.indicators, self.domains)
        wanted = tuple(n for n in ("bm25", "dense") if mode in ("hybrid", n))
        if not intent.text.strip():
            wanted = tuple(n for n in wanted if n != "dense")
        intent.doc_ids = named_documents(query, self.doc_names)
        intent.families = asked_families(intent.text, [self.family(d) for d in intent.doc_ids],
                                         self.segmenter.words(intent.text))
        scope, message = self.scope_of(filters or Filters())
        if scope.ids is not None and not scope.ids:
            return SearchResult([], intent, message)
        tokens = self.query_tokens(query, intent)
        fused = SETTINGS["candidates_per_retriever"]  # of each list; the rest only sets its score range
        depth = max(fused, SETTINGS["normalisation_depth"])
        qvec = self.embedder.embed_queries([intent.dense_text])[0] if "dense" in wanted else None
        lists = self.retriever.search(RetrievalQuery(intent.text, tokens, qvec), depth, scope, wanted)
        # one query, not one per hit; tags only where a boost reads them, else for the k returned
        candidates = self.clauses.for_ranking((h.id for hits in lists.values() for h in hits[:fused]), intent.reads_tags)
        hits = self._fuse(lists, self.fusion_weights(intent), candidates)
        self._boost(hits, intent)
        self._spread_laws(hits, intent)
        hits.sort(key=lambda h: (-h.score, h.clause.doc_id, h.clause.ord))
        versioned = any(h.clause.doc_id in self.versioned for h in hits)
        hits = demote_duplicates(hits, None if versioned else k)
        hits = (demote_versions(hits, self.documents, self.versioned) if versioned else hits)[:k]
        tagged = self.clauses.fetch(h.clause.id for h in hits)
        for h in hits:
            h.clause = tagged.get(h.clause.id, h.clause)
        for h in hits:
            h.matched_terms = matched_terms(tokens, h.clause.text)
        return SearchResult(hits, intent, message)

    def query_tokens(self, query: str, intent: Intent) -> list[str]:
        """BM25 tokens of ``query`` without question words (规划, 哪些, 措施…; kept when
        nothing else is left), plus the tokens of its colloquial expansions."""
        tokens = self.segmenter.cut_query(query, SETTINGS["max_query_chars"])
        drop = question_words()
        content = [t for t in tokens if t not in drop] or tokens
        for term in intent.expansions:
            content += [t for t in self.segmenter.cut_query(term) if t not in content]
        return content

    def fusion_weights(self, intent: Intent) -> dict[str, float]:
        """Weight of each retriever's list in the fusion: SETTINGS ``weight_bm25`` and
        ``weight_dense``, with ``weight_bm25_named_law`` when the query names a law and speaks
        of no plan (within the law, the dense list ranks its paraphrased articles better)."""
        only_law = intent.families == ["law"] and any(self.family(d) == "law" for d in intent.doc_ids)
        return {"bm25": SETTINGS["weight_bm25_named_law" if only_law else "weight_bm25"],
                "dense": SETTINGS["weight_dense"]}

    def _fuse(self, lists: dict[str, list], weights_by_name: dict[str, float],
              clauses: dict[str, Clause]) -> list[Hit]:
        from kb import fuse

        names = list(lists)
        weights = [weights_by_name.get(n, 1.0) for n in names]  # "hybrid": a backend's own fused list
        rankings = [lists[n] for n in names]  # (id, score) pairs: Ranked, SparseHit, DenseHit
        if SETTINGS["fusion"] == "rrf":
            top = [r[:SETTINGS["candidates_per_retriever"]] for r in rankings]
            fused = fuse.rrf(top, k=SETTINGS["rrf_k"], weights=weights)
        else:
            fused = fuse.weighted(rankings, weights, SETTINGS["weighted_normalisation"],
                                  fuse_depth=SETTINGS["candidates_per_retriever"])
        out = []
        for f in fused:
            clause = clauses.get(f.id)
            if clause is None:
                continue
            ranks = dict(zip(names, f.ranks))
            raw = dict(zip(names, f.scores))
            out.append(Hit(clause=clause, score=float(f.score), ranks=ranks, raw=raw, doc=self.docs.get(clause.doc_id)))
        return out

    def _boost(self, hits: list[Hit], intent: Intent) -> None:
        for h in hits:
            c = h.clause
            factor = 1.0
            if intent.plans and c.plan in intent.plans:
                factor += SETTINGS["boost_plan"]
            if intent.section and c.section == intent.section:
                factor += SETTINGS["boost_section"]
            if intent.departments and any(d.name in intent.departments for d in c.departments):
                factor += SETTINGS["boost_department"]
            if intent.years and any(t.year in intent.years for t in c.targets):
                factor += SETTINGS["boost_year"]
            if intent.indicators and any((t.indicator_norm or t.indicator) in intent.indicators for t in c.targets):
                factor += SETTINGS["boost_indicator"]
            if intent.domains and c.domain in intent.domains:
                factor += SETTINGS["boost_domain"]
                if intent.number is not None and self.is_numbered(c, intent.number):
                    factor += SETTINGS["boost_ordinal"]
            if intent.doc_ids and c.doc_id in intent.doc_ids:
                factor += SETTINGS["boost_named_doc"]
                if c.label and article_number(intent.text) == c.number:
                    factor += SETTINGS["boost_named_article"]
            h.score *= factor * self.family_factor(c, intent)

    def is_numbered(self, c: Clause, number: int) -> bool:
        """Whether ``c`` is clause ``number`` of its section (kb.query.ordinal; negative from
        the end, ``LAST`` the section's last clause: the plans number each section 1..N, and
        N comes from ``Store.last_numbers``, read once)."""
        if number > 0:
            return c.number == number
        if self._last_numbers is None:
            self._last_numbers = self.store.last_numbers()
        last = self._last_numbers.get((c.doc_id, c.domain, c.section))
        return c.number is not None and last is not None and c.number == last + 1 + number

    def family(self, doc_id: str) -> str:
        """A document's family: "law" for laws and regulations (kb.grammars.law), else its
        grammar ("plan" for the plans and their notice)."""
        return self._families.get(doc_id, "plan")

    def family_factor(self, c: Clause, intent: Intent) -> float:
        """Weight of ``c``'s document family for this query, in a knowledge base that holds
        plans: a clause of any other document (a law article, a notice) scores
        ``law_factor_unasked`` when the query speaks of no law (the plans' questions are about
        the plans), a plan clause ``plan_factor_law_asked`` when it speaks of law and not of
        plans (反家庭暴力法…, 法律上有哪些保障); 1.0 otherwise (both named: 规划… 法律…). Without
        plans (the national laws alone) every family weighs 1.0: nothing is there to prefer,
        and ×0.6 on the laws only lifted the 83 texts read as notices (司法解释 with 一、 items)
        above them (STARD hybrid MRR@10 0.437 / 0.433 → 0.473 / 0.464, docs/evaluation.md)."""
        if not self.holds_plans:
            return 1.0
        plan = self.family(c.doc_id) == "plan"
        if not plan and "law" not in intent.families:
            return SETTINGS["law_factor_unasked"]
        if plan and intent.families == ["law"]:
            return SETTINGS["plan_factor_law_asked"]
        return 1.0

    def _spread_laws(self, hits: list[Hit], intent: Intent) -> None:
        """When the query names no law, each further article of one law scores
        ``law_repeat_decay`` less (kb.fuse.diversify), so that a topic several laws treat
        (收养, 法律援助) is not answered by one law's neighbouring articles alone."""
        from kb import fuse

        if any(self.family(d) == "law" for d in intent.doc_ids):
            return
        ranked = sorted(hits, key=lambda h: -h.score)
        law_doc = {h.clause.id: h.clause.doc_id for h in ranked if self.family(h.clause.doc_id) == "law"}
        pairs = [(h.clause.id, h.score) for h in ranked]
        if SETTINGS["law_prior_weight"]:
            pairs = fuse.group_prior(pairs, law_doc.get, SETTINGS["law_prior_weight"], int(SETTINGS["law_prior_depth"]))
        cap = SETTINGS["law_repeat_cap"]
        scores = dict(fuse.diversify(pairs, law_doc.get, SETTINGS["law_repeat_decay"],
                                     None if cap is None else int(cap)))
        for h in hits:
            h.score = scores[h.clause.id]

    # ------------------------------------------------------------------ filters
    def scope_of(self, f: Filters) -> tuple[Scope, Optional[str]]:
        """:meth:`make_scope`, kept for the last 32 distinct filters (the index does not change
        under a searcher): the default filter cost ~1.4 ms a query at the national size. A
        scope may hold tens of thousands of clause ids (~2 MB), hence the small bound."""
        key = tuple(vars(f).items())
        cache = self.__dict__.setdefault("_scopes", {})
        if key not in cache:
            if len(cache) >= 32:
                cache.clear()
            cache[key] = self.make_scope(f)
        return cache[key]

    def make_scope(self, f: Filters) -> tuple[Scope, Optional[str]]:
        """The filters as a retriever takes them, and, when they match nothing, why (then
        ``scope.ids`` is empty); QueryError for an unknown value (:meth:`allowed_ids`). The
        clause ids come from :meth:`allowed_ids`, except when only document filters are set
        and the documents left out hold fewer clauses than those kept (the default filter,
        current versions only): then the scope is every clause but those (``excluded``), a
        few thousand ids at the national size instead of ~62,000 (a cold ``kb search`` spent
        1 s building that set). ``doc_ids`` and the plan, department and year fields carry
        the filter values for a database backend."""
        docs = f.documents().select(self.documents.values())
        if docs.unknown:
            raise QueryError(docs.message)
        if docs.message and not docs.ids:
            return Scope(ids=frozenset()), docs.message
        if not f.active() and docs.narrowed:
            out = frozenset(self.documents) - frozenset(docs.ids)
            if self._clause_count(out) * 2 < len(self.clauses):
                return Scope(doc_ids=frozenset(docs.ids), excluded=self._clauses_of(out)), None
        allowed, message = self.allowed_ids(f)
        if allowed is None:
            return Scope(), None
        department = self.lexicon.resolve(f.department) if f.department is not None else None
        return Scope(frozenset(allowed), frozenset(docs.ids) if docs.narrowed else None, f.plan, f.domain,
                     f.section, department, f.year), message

    def _clause_count(self, doc_ids: frozenset[str]) -> int:
        """Clauses stored for these documents (SQL counts, kept per set of documents)."""
        cache = self.__dict__.setdefault("_doc_counts", {})
        if doc_ids not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[doc_ids] = self._count_clauses(sorted(doc_ids))
        return cache[doc_ids]

    def _count_clauses(self, ordered: list[str]) -> int:
        return sum(self.store.db.execute(f"SELECT count(*) FROM clauses WHERE doc_id IN ({','.join('?' * len(part))})",
                                         part).fetchone()[0]
                   for part in (ordered[n:n + 500] for n in range(0, len(ordered), 500)))

    def allowed_ids(self, f: Filters) -> tuple[Optional[set[str]], Optional[str]]:
        """Clause ids passing the filters (None = no filter) and, when empty, why. Raises
        QueryError for a value no document or clause has (the message lists the known ones,
        or the departments' close names), as ``kb clauses`` and ``kb docs`` do; known values
        that no clause combines give an empty set and say so."""
        active = f.active()
        docs = f.documents().select(self.documents.values())
        if docs.unknown:
            raise QueryError(docs.message)
        if docs.message and not docs.ids:
            return set(), docs.message
        if not active and not docs.narrowed:
            return None, None
        # a frozenset from _clauses_of is the same object for every query with these documents,
        # so the indexes keep what they derive from it (kb.sparse, kb.dense); narrowing copies it
        ids = set(self.store.clause_ids()) if not docs.narrowed else self._clauses_of(frozenset(docs.ids))
        for col in ("plan", "domain", "section"):
            value = active.get(col)
            if value is not None:
                known = self.store.distinct(col)
                if value not in known:
                    raise QueryError(f"no clause has {col} {value!r}; known: {', '.join(sorted(known))}")
                ids = ids & set(self.store.clause_ids(f"{col} = ?", [value]))
        if f.department is not None:
            name = self.lexicon.resolve(f.department)
            if name is None:
                close = self.lexicon.suggest(f.department)
                raise QueryError(f"unknown department {f.department!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
            ids = ids & set(self.store.clause_ids("id IN (SELECT clause_id FROM departments WHERE name = ?)", [name]))
        if f.year is not None:
            tagged = self.clauses.where("id IN (SELECT clause_id FROM targets)")
            ids = ids & {c.id for c in tagged if any(t.meets_year(f.year) for t in c.targets)}
        if not ids:
            return ids, "no clause matches " + ", ".join(f"{k}={v!r}" for k, v in active.items())
        return ids, None


    def _clauses_of(self, doc_ids: frozenset[str]) -> frozenset[str]:
        """Ids of the clauses of these documents (cached: the default filter repeats per query)."""
        cache = self.__dict__.setdefault("_doc_clauses", {})
        if doc_ids not in cache:
            if len(cache) > 64:
                cache.clear()
            ordered = sorted(doc_ids)
            cache[doc_ids] = frozenset(i for n in range(0, len(ordered), 500) for i in self.store.clause_ids(
                f"doc_id IN ({','.join('?' * len(ordered[n:n + 500]))})", ordered[n:n + 500]))
        return cache[doc_ids]


def demote_duplicates(hits: list[Hit], enough: Optional[int] = None) -> list[Hit]:
    """Move a hit whose text repeats a better hit's text (a clause identical in both
    plans, e.g. 组织实施 3) behind the distinct ones, so that it does not take a slot.
    ``enough``: stop once that many distinct hits lead (a search cut to its k); the hits
    not looked at follow unchanged."""
    seen: set[str] = set()
    first, later = [], []
    for n, h in enumerate(hits):
        if enough is not None and len(first) >= enough:
            return first + later + hits[n:]
        key = "".join(h.clause.text.split())
        (later if key in seen else first).append(h)
        seen.add(key)
    return first + later


def demote_versions(hits: list[Hit], documents: dict[str, dict[str, Any]],
                    versioned: Optional[frozenset[str]] = None) -> list[Hit]:
    """Keep one version of an article in the ranking (kb.versions): when two versions of one
    article (same document short title + label, e.g. 妇女权益保障法 第四十八条 of 2018 and of
    2022, and texts that are versions of each other, see ``same_article``) are both hit, the
    current version takes the better of their places and the other moves behind the rest,
    so that two versions never both fill the top k. A label that a revision gave to another
    text (the 2018 第三十八条 on 生命健康权 is the 2022 第二十一条; the 2022 第三十八条 is
    another article) is not a version: each keeps its own place. Only the articles of
    ``versioned`` documents are looked at (``Searcher.versioned``: those with another
    version; None: every hit)."""
    keys = _version_keys(hits, documents, versioned)
    groups: dict[tuple, list[Hit]] = {}
    for h, key in zip(hits, keys):
        groups.setdefault(key, []).append(h)
    first, later = [], []
    for h, key in zip(hits, keys):
        members = groups[key]
        if key[0] is None or len(members) == 1:
            first.append(h)
        elif h is members[0]:
            best = min(members, key=lambda m: documents.get(m.clause.doc_id, {}).get("version_status") == "superseded")
            first.append(best)
            later += [m for m in members if m is not best]
    return first + later


def _version_keys(hits: list[Hit], documents: dict[str, dict[str, Any]],
                  versioned: Optional[frozenset[str]] = None) -> list[tuple]:
    """Per hit: (short title, label, n) where n numbers the texts under one title + label
    that are not versions of each other (``same_article``); (None, clause id) for a hit
    that is not a law article."""
    heads: dict[tuple, list[Clause]] = {}
    out = []
    for h in hits:
        if versioned is not None and h.clause.doc_id not in versioned:
            out.append((None, h.clause.id))
            continue
        key = _article_key(h, documents)
        if key[0] is None:
            out.append(key)
            continue
        seen = heads.setdefault(key, [])
        n = next((i for i, c in enumerate(seen) if same_article(c.text, h.clause.text)), None)
        if n is None:
            seen.append(h.clause)
            n = len(seen) - 1
        out.append((*key, n))
    return out


def same_article(a: str, b: str, min_dice: float = 0.4) -> bool:
    """Whether two article texts are versions of one article: Dice coefficient of their
    character bigrams ≥ ``min_dice``. Measured on the bundled laws, same-numbered articles
    of two versions fall in two heaps: 未成年人保护法 2020/2024 131 of 132 pairs ≥ 0.97 (one
    amended article 0.49); 妇女权益保障法 2018/2022, renumbered, 58 of 61 pairs ≤ 0.28 (第三十八条
    0.01) and 3 ≥ 0.70. 0.4 sits in the gap."""
    x = {a[i:i + 2] for i in range(len(a) - 1)}
    y = {b[i:i + 2] for i in range(len(b) - 1)}
    return bool(x and y) and 2 * len(x & y) / (len(x) + len(y)) >= min_dice


def _article_key(h: Hit, documents: dict[str, dict[str, Any]]) -> tuple:
    """(short title, label) of a law article; (None, clause id) for anything else."""
    c = h.clause
    title = (documents.get(c.doc_id) or {}).get("short_title")
    return (title, c.label) if title and c.label else (None, c.id)


def matched_terms(tokens: list[str], text: str) -> list[str]:
    """Query tokens (≥ 2 characters, or digits) found in ``text``, longest first, without
    tokens contained in a longer matched one — what a UI highlights."""
    found = sorted({t for t in tokens if (len(t) >= 2 or t.isdigit()) and t in text}, key=len, reverse=True)
    return [t for t in found if not any(t != u and t in u for u in found)]


# 第N条 (not 倒数第N条, which counts from the end: kb.query.ordinal)
ARTICLE_REF = re.compile(r"(?<!倒数)第\s*([0-9]{1,4}|[一二两三四五六七八九十百千零〇]{1,8})\s*条")


def article_number(q: str) -> Optional[int]:
    """N of the first 第N条 in ``q`` (Arabic or Chinese numerals, 第一千零四十七条 → 1047),
    None when there is none (倒数第二条 counts from the end: kb.query.ordinal)."""
    from kb.grammars.lines import cn_number

    m = ARTICLE_REF.search(q)
    if not m:
        return None
    return int(m[1]) if m[1].isdigit() else cn_number(m[1])
