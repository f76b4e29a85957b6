"""Milvus backend through ``pymilvus``: one collection per generation holding the passage
vectors, the BM25 text (Milvus' own BM25 function over its jieba analyzer) and scalar fields
for filters; a collection alias names the current generation.

Collection ``kb_<generation>`` (``kb_gen_20261201T153633_1595e3``)::

    id            VARCHAR primary key      the clause id (kb.ids)
    text          VARCHAR, jieba analyzer  kb.indexes.sparse_text (domain, section or the law's
                                           short title and chapters, then the clause text)
    sparse        SPARSE_FLOAT_VECTOR      BM25 function output (k1 1.5, b 0.75 as kb.sparse)
    dense         FLOAT_VECTOR(dim)        the passage vector (kb.indexes.passage_text); FLAT
                                           (exact inner product) below kb.dense.HNSW_THRESHOLD
                                           rows, HNSW with kb.dense's M/efConstruction above
    doc_id doc_type level plan domain section   VARCHAR (nullable) for filter expressions
    departments   ARRAY<VARCHAR>           canonical names of the clause's departments
    target_years  ARRAY<INT64>             the years its targets are due (Target.meets_year)

Collection ``kb_<generation>_sentences``: one row per sentence of the clauses of two sentences
or more (kb.indexes.sentence_texts), ``id`` ``clause#n``, ``clause_id``, ``dense`` and the
clause's filter fields above. The dense list scores a clause by its best vector, its own or a
sentence's (kb.retrievers.base.best_per_clause), as the embedded backend does; a collection
built before has no sentence collection and scores the clause vectors alone. Milvus' own
``hybrid_search`` (``fusion`` rrf/weighted) uses the clause vectors only.

The analyzer is jieba in search mode without HMM over jieba's dictionary plus the
generation's user words (departments, indicators, domains), lower-cased, with kb.segment's
stopwords and the corpus' punctuation as stop words; the text is stored normalised
(kb.segment.normalize_text: NFKC, traditional → simplified) — as kb.segment cuts for the
embedded backend. The query's BM25 text is the Searcher's
prepared tokens joined by spaces (question words dropped, colloquial expansions added), so
query understanding is the same for both backends.

Where the data lives (``config["uri"]``):

* ``None`` — **milvus-lite** (pure-Python Milvus, pip), a data directory *per generation*
  (``gen/milvus/lite.db``), so an ingest writes a new one while readers keep the old
  generation's untouched, and pruning a generation deletes its data. milvus-lite lets one
  process own a data directory: the first process to open it starts milvus-lite's gRPC
  server on a free 127.0.0.1 port and writes it to ``gen/milvus/endpoint.json``; another
  process (a ``kb search`` beside ``kb serve``) finding the directory owned connects to that
  endpoint instead. The writer closes its server before the manifest names the generation.
* ``http(s)://HOST:19530`` — a Milvus cluster (or Zilliz Cloud), same code. The token is
  read from the environment variable named by ``config["token_env"]`` (KB_MILVUS_TOKEN), so
  it is never on the command line nor in the manifest. A build creates the new generation's
  collection, then points the alias ``config["alias"]`` at it (``alter_alias``: atomic for
  every client using the alias), and drops the collections it made earlier (listed in
  ``INDEX/milvus-collections.json``) whose generation directory kb.layout has pruned.

All writes run inside the index's writer lock (kb.lock), taken by the ingest that builds.

>>> r = MilvusRetriever.open(gen, manifest["backend"])
>>> r.search(RetrievalQuery("儿童溺水", ["儿童", "溺水"], qvec), 10, Scope(plan="儿童"))["dense"][0].id
'czf-2022-8.ertong.p2.d7.m3'
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Optional

import numpy as np

from kb.errors import IndexMissing, IndexStale, KbError
from kb.retrievers.base import LISTS, Passages, Ranked, RetrievalQuery, Scope, best_per_clause, clause_of

TOKEN_ENV = "KB_MILVUS_TOKEN"
LITE_DIR = "milvus"
LITE_DB = "lite.db"
ENDPOINT_FILE = "endpoint.json"
VOCAB_FILE = "vocab.txt"
REGISTRY_FILE = "milvus-collections.json"  # in the index directory: collections this index made on servers
PREFIX = "kb_"
SENTENCES_SUFFIX = "_sentences"  # the sentence vectors' collection beside a generation's

SETTINGS: dict[str, Any] = {
    "fusion": "searcher",      # searcher (kb.search fuses the two lists) | rrf | weighted (hybrid_search)
    "rrf_k": 60,               # RRFRanker k when fusion = rrf
    "weights": (1.0, 1.0),     # WeightedRanker (bm25, dense) when fusion = weighted
    "bm25_k1": 1.5,            # as kb.sparse.BM25_PARAMS
    "bm25_b": 0.75,
    "insert_batch_rows": 512,
    "text_max_bytes": 65_000,  # Milvus VARCHAR limit is 65,535 bytes
    "hnsw_ef_search": 128,     # as kb.dense.HNSW_EF_SEARCH
    "timeout_s": 30.0,
}


def is_cluster_uri(uri: Optional[str]) -> bool:
    """True for a Milvus server address (http://, https://, tcp://)."""
    return bool(uri) and re.match(r"^(https?|tcp)://", uri or "") is not None


def new_config(gen: Path, uri: Optional[str] = None, alias: str = PREFIX + "clauses") -> dict[str, Any]:
    """The manifest entry of a Milvus build of generation ``gen``. ``uri`` None = milvus-lite
    in the generation; otherwise a server address. Raises KbError for a uri that is neither."""
    if uri is not None and not is_cluster_uri(uri):
        raise KbError(f"--uri {uri!r} is not a Milvus server address (http://HOST:19530); leave it out "
                      "to use milvus-lite inside the index directory")
    return {"name": "milvus", "uri": uri, "collection": collection_name(Path(gen).name), "alias": alias,
            "token_env": TOKEN_ENV, "fusion": SETTINGS["fusion"]}


def collection_name(generation: str) -> str:
    """``kb_gen_20261201T153633_1595e3`` for generation ``gen-20261201T153633-1595e3``."""
    return PREFIX + re.sub(r"[^0-9A-Za-z_]", "_", generation)


class MilvusRetriever:
    """One generation's collection (see the module docstring). Open with :meth:`open` (read)
    or :meth:`create` (build); ``close()`` releases the connection and, for milvus-lite, the
    data directory."""

    def __init__(self, gen: Path, config: dict[str, Any], client, owner=None):
        self.gen, self.config, self.client, self._owner = Path(gen), dict(config), client, owner
        self.collection = config["collection"]
        self.sentence_collection = self.collection + SENTENCES_SUFFIX
        self.has_sentences = False  # set by open() and build()
        self._vocab: Optional[frozenset[str]] = None

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, gen: Path, config: dict[str, Any]) -> "MilvusRetriever":
        """Connect to the generation's collection and load it. Raises IndexMissing when the
        collection is gone, IndexStale when milvus-lite's data directory is owned by a process
        that left no endpoint, KbError when the server cannot be reached."""
        client, owner = _connect(Path(gen), config, create=False)
        r = cls(gen, config, client, owner)
        try:
            if not client.has_collection(r.collection):
                raise IndexMissing(f"Milvus has no collection {r.collection!r} at {config.get('uri') or r.lite_path}; "
                                   "rebuild it: kb reindex --backend milvus")
            client.load_collection(r.collection)
            r.has_sentences = client.has_collection(r.sentence_collection)
            if r.has_sentences:
                client.load_collection(r.sentence_collection)
        except BaseException:
            r.close()
            raise
        return r

    @classmethod
    def create(cls, gen: Path, config: dict[str, Any]) -> "MilvusRetriever":
        """Connect for a build (milvus-lite: create the generation's data directory)."""
        client, owner = _connect(Path(gen), config, create=True)
        return cls(gen, config, client, owner)

    @property
    def lite_path(self) -> Path:
        return self.gen / LITE_DIR / LITE_DB

    def close(self) -> None:
        """Close the client; for milvus-lite stop the server we own and release the directory."""
        client, self.client = self.client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # a server already gone: nothing left to release
                pass
        owner, self._owner = self._owner, None
        if owner is not None:
            owner.release()

    # ------------------------------------------------------------------ build
    def build(self, passages: Passages) -> None:
        """Create the collection, insert every passage, index, load, point the alias at it and
        drop collections of pruned generations; writes the BM25 vocabulary beside it."""
        from pymilvus import MilvusClient

        dim = int(passages.vectors.shape[1])
        if self.client.has_collection(self.collection):
            self.client.drop_collection(self.collection)
        schema = _schema(MilvusClient, dim, passages.user_words, _stop_words(passages.texts))
        self.client.create_collection(self.collection, schema=schema,
                                      index_params=self._index_params(len(passages)))
        if self.client.has_collection(self.sentence_collection):
            self.client.drop_collection(self.sentence_collection)
        self.client.create_collection(self.sentence_collection, schema=_sentence_schema(MilvusClient, dim),
                                      index_params=self._index_params(len(passages.sentence_ids), sparse=False))
        self.has_sentences = True
        self._insert(passages)
        for name in (self.collection, self.sentence_collection):
            self.client.flush(name)
            self.client.load_collection(name)
        self._point_alias()
        self._drop_pruned()
        (self.gen / LITE_DIR).mkdir(parents=True, exist_ok=True)
        vocab = sorted({t for tokens in passages.tokens for t in tokens})
        (self.gen / LITE_DIR / VOCAB_FILE).write_text("\n".join(vocab) + "\n", "utf-8")
        self.config.update(dim=dim, dense_index=self._dense_index(len(passages)))

    def add(self, passages: Passages) -> None:
        """Insert passages (in batches of ``insert_batch_rows``); an id already stored is
        replaced (upsert)."""
        self.remove_sentences([c.id for c in passages.clauses])  # a replaced clause's may be fewer
        self._insert(passages)

    def _insert(self, passages: Passages) -> None:
        rows = [_row(c, t, v, passages.documents.get(c.doc_id, {}))
                for c, t, v in zip(passages.clauses, passages.texts, passages.vectors)]
        self._upsert(self.collection, rows)
        if self.has_sentences:
            fields = {c.id: r for c, r in zip(passages.clauses, rows)}
            self._upsert(self.sentence_collection, [
                _sentence_row(unit, v, fields[clause_of(unit)])
                for unit, v in zip(passages.sentence_ids, passages.sentence_vectors)])

    def _upsert(self, collection: str, rows: list[dict[str, Any]]) -> None:
        step = SETTINGS["insert_batch_rows"]
        for start in range(0, len(rows), step):
            self.client.upsert(collection, rows[start:start + step], timeout=SETTINGS["timeout_s"])

    def remove(self, ids: list[str]) -> None:
        """Delete clauses and their sentence vectors by clause id (unknown ids are ignored)."""
        if ids:
            self.client.delete(self.collection, ids=list(ids), timeout=SETTINGS["timeout_s"])
            self.remove_sentences(ids)

    def remove_sentences(self, ids: list[str]) -> None:
        """Delete the sentence vectors of clauses ``ids`` (kept ones replaced by :meth:`add`)."""
        step = SETTINGS["insert_batch_rows"]
        for start in range(0, len(ids) if self.has_sentences else 0, step):
            chunk = ", ".join(map(_quote, ids[start:start + step]))
            self.client.delete(self.sentence_collection, filter=f"clause_id in [{chunk}]", timeout=SETTINGS["timeout_s"])

    def _index_params(self, n: int, sparse: bool = True):
        from kb.dense import HNSW_EF_CONSTRUCTION, HNSW_M

        params = self.client.prepare_index_params()
        if self._dense_index(n) == "HNSW":
            params.add_index(field_name="dense", index_type="HNSW", metric_type="IP",
                             params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
        else:
            params.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
        if sparse:
            params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                             params={"bm25_k1": SETTINGS["bm25_k1"], "bm25_b": SETTINGS["bm25_b"]})
        return params

    @staticmethod
    def _dense_index(n: int) -> str:
        from kb.dense import HNSW_THRESHOLD

        return "HNSW" if n >= HNSW_THRESHOLD else "FLAT"

    def _point_alias(self) -> None:
        """Point ``config["alias"]`` at this collection: ``alter_alias`` when a collection of
        ours holds it (atomic for every client using the alias), else ``create_alias``."""
        alias = self.config["alias"]
        held = any(alias in self.client.list_aliases(collection_name=name).get("aliases", [])
                   for name in self.client.list_collections() if name.startswith(PREFIX))
        if held:
            self.client.alter_alias(self.collection, alias)
        else:
            self.client.create_alias(self.collection, alias)

    def _drop_pruned(self) -> None:
        """On a server: record this collection in ``INDEX/milvus-collections.json`` and drop
        the collections recorded there whose generation directory kb.layout has pruned. Only
        collections this index created are ever dropped (a server may hold other indexes').
        milvus-lite needs none of this: its data goes with its generation directory."""
        uri = self.config.get("uri")
        if not uri:
            return
        from kb.layout import write_atomic

        registry = self.gen.parent / REGISTRY_FILE
        try:
            known = json.loads(registry.read_text("utf-8"))
        except (OSError, ValueError):
            known = []
        live = {collection_name(p.name) for p in self.gen.parent.glob("gen-*")} | {self.collection}
        keep = []
        for entry in known + [{"uri": uri, "collection": self.collection}]:
            if entry in keep:
                continue
            if entry["uri"] == uri and entry["collection"] not in live:
                for name in (entry["collection"], entry["collection"] + SENTENCES_SUFFIX):
                    if self.client.has_collection(name):
                        self.client.drop_collection(name)
            else:
                keep.append(entry)
        write_atomic(registry, json.dumps(keep, indent=1).encode("utf-8"))

    # ------------------------------------------------------------------ search
    @property
    def vocab(self) -> frozenset[str]:
        """The corpus' BM25 tokens as kb.segment cuts them (written by :meth:`build`)."""
        if self._vocab is None:
            path = self.gen / LITE_DIR / VOCAB_FILE
            if not path.exists():
                raise IndexMissing(f"{path} is missing: rebuild the index with kb reindex --backend milvus")
            self._vocab = frozenset(path.read_text("utf-8").split())
        return self._vocab

    def search(self, query: RetrievalQuery, k: int, scope: Scope = Scope(),
               lists: tuple[str, ...] = LISTS) -> dict[str, list[Ranked]]:
        """BM25 and/or dense lists from Milvus under ``filter_expression(scope)``; with
        ``fusion`` rrf/weighted and both lists asked, one ``hybrid_search`` list under "hybrid"."""
        if scope.ids is not None and not scope.ids:
            return {name: [] for name in lists}
        expr = filter_expression(scope)
        text = " ".join(outermost(query.tokens))
        reqs = {}
        if "bm25" in lists and text.strip():
            reqs["bm25"] = ("sparse", text, {"metric_type": "BM25"})
        if "dense" in lists and query.vector is not None:
            reqs["dense"] = ("dense", np.asarray(query.vector, np.float32).tolist(),
                             {"metric_type": "IP", "params": {"ef": max(SETTINGS["hnsw_ef_search"], 2 * k)}})
        fusion = self.config.get("fusion", "searcher")
        if fusion != "searcher" and len(reqs) == 2:
            return {"hybrid": self._hybrid(reqs, k, expr, fusion)}
        out = {name: [] for name in lists}
        for name, (field, data, params) in reqs.items():
            out[name] = self._search(self.collection, name, field, data, params, k, expr)
        if "dense" in reqs and self.has_sentences:
            field, data, params = reqs["dense"]
            sentences = self._search(self.sentence_collection, "dense", field, data, params, k, expr)
            out["dense"] = best_per_clause(out["dense"], sentences, k)
        return out

    def _search(self, collection: str, name: str, field: str, data, params: dict, k: int, expr: str) -> list[Ranked]:
        res = self.client.search(collection, data=[data], anns_field=field, limit=k, filter=expr,
                                 search_params=params, output_fields=["id"], timeout=SETTINGS["timeout_s"])
        return _ranked(res[0], bm25=name == "bm25")

    def _hybrid(self, reqs: dict, k: int, expr: str, fusion: str) -> list[Ranked]:
        from pymilvus import AnnSearchRequest, RRFRanker, WeightedRanker

        anns = [AnnSearchRequest(data=[data], anns_field=field, param=params, limit=k, expr=expr or None)
                for field, data, params in reqs.values()]
        ranker = RRFRanker(SETTINGS["rrf_k"]) if fusion == "rrf" else WeightedRanker(*SETTINGS["weights"])
        res = self.client.hybrid_search(self.collection, anns, ranker, limit=k, output_fields=["id"],
                                        timeout=SETTINGS["timeout_s"])
        return _ranked(res[0], bm25=False)

    def count(self, scope: Scope = Scope()) -> int:
        """How many stored clauses fall inside ``scope`` (by its filter expression)."""
        rows = self.client.query(self.collection, filter=filter_expression(scope), output_fields=["count(*)"])
        return int(rows[0]["count(*)"])


def outermost(tokens: list[str]) -> list[str]:
    """The query tokens not inside a longer one, each once: Milvus' analyzer cuts the query
    text again (search mode gives the sub-words back) and weighs a term by its count in the
    query, whereas kb.sparse counts a query token once.

    >>> outermost(["人身", "安全", "人身安全", "保护令", "安全"])
    ['人身安全', '保护令']"""
    unique = list(dict.fromkeys(tokens))
    return [t for t in unique if not any(t != u and t in u for u in unique)]


def filter_expression(scope: Scope) -> str:
    """The Milvus boolean expression selecting ``scope`` from its filter fields ('' = all):

    >>> filter_expression(Scope(doc_ids=frozenset({"czf-2022-8"}), plan="儿童", year=2025))
    'doc_id in ["czf-2022-8"] and plan == "儿童" and array_contains(target_years, 2025)'

    Strings are JSON-quoted (Milvus reads ``\\"`` and ``\\\\`` escapes), so no filter value can
    become syntax. ``scope.ids`` is not used: the fields say the same thing in a few bytes."""
    parts = []
    if scope.doc_ids is not None:
        parts.append(f"doc_id in [{', '.join(_quote(d) for d in sorted(scope.doc_ids))}]")
    for name in ("plan", "domain", "section"):
        value = getattr(scope, name)
        if value is not None:
            parts.append(f"{name} == {_quote(value)}")
    if scope.department is not None:
        parts.append(f"array_contains(departments, {_quote(scope.department)})")
    if scope.year is not None:
        parts.append(f"array_contains(target_years, {int(scope.year)})")
    return " and ".join(parts)


def _quote(value: str) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def _ranked(hits, bm25: bool) -> list[Ranked]:
    """pymilvus hits → Ranked. milvus-lite 3.2 reports a BM25 score as a negative distance
    (it sorts ascending); Milvus reports it positive: the magnitude is the score either way."""
    return [Ranked(str(h["id"]), abs(float(h["distance"])) if bm25 else float(h["distance"])) for h in hits]


def _row(c, text: str, vector: np.ndarray, doc: dict[str, Any]) -> dict[str, Any]:
    from kb.segment import normalize_text

    years = sorted({t.year if t.year is not None else t.year_implied for t in c.targets} - {None})
    return {"id": c.id, "text": _clip(normalize_text(text)), "dense": np.asarray(vector, np.float32).tolist(),
            "doc_id": c.doc_id, "doc_type": doc.get("doc_type"), "level": doc.get("level"),
            "plan": c.plan, "domain": c.domain, "section": c.section,
            "departments": sorted({d.name for d in c.departments})[:_MAX_ARRAY],
            "target_years": [int(y) for y in years][:_MAX_ARRAY]}


def _sentence_row(unit: str, vector: np.ndarray, clause_row: dict[str, Any]) -> dict[str, Any]:
    """A sentence vector's row: its id, its clause's id and filter fields (from the clause's
    :func:`_row`)."""
    fields = {k: v for k, v in clause_row.items() if k not in ("id", "text", "dense")}
    return {"id": unit, "clause_id": clause_row["id"], "dense": np.asarray(vector, np.float32).tolist(), **fields}


_MAX_ARRAY = 256


def _clip(text: str) -> str:
    raw = text.encode("utf-8")
    limit = SETTINGS["text_max_bytes"]
    return text if len(raw) <= limit else raw[:limit].decode("utf-8", "ignore")


def _stop_words(texts: list[str]) -> list[str]:
    """kb.segment's stopwords plus the punctuation and symbols of ``texts`` (single characters,
    and their doubled dashes/ellipses), which kb.segment drops as noise."""
    import unicodedata

    from kb.segment import load_stopwords

    marks = {ch for t in texts for ch in t if unicodedata.category(ch)[0] in "PS"}
    return sorted(load_stopwords() | marks | {m * 2 for m in marks})


def _schema(MilvusClient, dim: int, user_words: list[str], stop_words: list[str]):
    from pymilvus import DataType, Function, FunctionType

    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    s.add_field("text", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                analyzer_params={"tokenizer": {"type": "jieba", "dict": ["_default_", *user_words], "mode": "search",
                                               "hmm": False},
                                 "filter": ["lowercase", {"type": "stop", "stop_words": stop_words}]})
    s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    _filter_fields(s, DataType)
    s.add_function(Function(name="text_bm25", function_type=FunctionType.BM25,
                            input_field_names=["text"], output_field_names=["sparse"]))
    return s


def _sentence_schema(MilvusClient, dim: int):
    """The sentence collection: the clause schema's filter fields, no text (see the module docstring)."""
    from pymilvus import DataType

    s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    s.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    s.add_field("clause_id", DataType.VARCHAR, max_length=512)
    s.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    _filter_fields(s, DataType)
    return s


def _filter_fields(s, DataType) -> None:
    s.add_field("doc_id", DataType.VARCHAR, max_length=256)
    for name in ("doc_type", "level", "plan", "domain", "section"):
        s.add_field(name, DataType.VARCHAR, max_length=512, nullable=True)
    s.add_field("departments", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=_MAX_ARRAY, max_length=256)
    s.add_field("target_years", DataType.ARRAY, element_type=DataType.INT64, max_capacity=_MAX_ARRAY)


# ---------------------------------------------------------------------- connections
class _LiteOwner:
    """milvus-lite's gRPC server over a data directory this process owns."""

    def __init__(self, server, db, endpoint: Path):
        self.server, self.db, self.endpoint = server, db, endpoint

    def release(self) -> None:
        try:
            if _read_endpoint(self.endpoint).get("pid") == os.getpid():
                self.endpoint.unlink(missing_ok=True)
        except OSError:
            pass
        self.server.stop(grace=1)
        self.db.close()


def _connect(gen: Path, config: dict[str, Any], create: bool):
    """(MilvusClient, owner or None). See the module docstring for who owns a lite directory."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as kb.dense: milvus-lite runs FAISS too
    try:
        from pymilvus import MilvusClient
    except ImportError as e:
        raise KbError("the milvus backend needs pymilvus (and milvus-lite without --uri): "
                      "pip install -e '.[milvus]'") from e

    _quiet()
    uri = config.get("uri")
    if uri:
        token = os.environ.get(config.get("token_env") or TOKEN_ENV, "")
        try:
            return MilvusClient(uri=uri, token=token, timeout=SETTINGS["timeout_s"]), None
        except Exception as e:
            raise KbError(f"cannot reach Milvus at {uri} ({type(e).__name__}: {e}); check the address and "
                          f"${config.get('token_env') or TOKEN_ENV}") from e
    path = gen / LITE_DIR / LITE_DB
    if not create and not path.exists():
        raise IndexMissing(f"no milvus-lite data at {path}: rebuild it with kb reindex --backend milvus")
    path.parent.mkdir(parents=True, exist_ok=True)
    endpoint = gen / LITE_DIR / ENDPOINT_FILE
    from milvus_lite import DataDirLockedError
    from milvus_lite.adapter.grpc.server import start_server_in_thread

    try:
        server, db, port = start_server_in_thread(str(path), host="127.0.0.1", port=0)
    except DataDirLockedError:
        return _client_of_owner(endpoint, path), None
    address = f"http://127.0.0.1:{port}"
    try:
        from kb.layout import write_atomic

        write_atomic(endpoint, json.dumps({"uri": address, "pid": os.getpid()}).encode())
    except OSError:  # a read-only index: other processes then cannot share this one
        pass
    owner = _LiteOwner(server, db, endpoint)
    try:
        return MilvusClient(uri=address, timeout=SETTINGS["timeout_s"]), owner
    except BaseException:
        owner.release()
        raise


def _client_of_owner(endpoint: Path, path: Path):
    from pymilvus import MilvusClient

    info = _read_endpoint(endpoint)
    if not info.get("uri"):
        raise IndexStale(f"{path} is owned by another process that left no endpoint; stop it or retry")
    try:
        return MilvusClient(uri=info["uri"], timeout=SETTINGS["timeout_s"])
    except Exception as e:
        raise IndexStale(f"{path} is owned by process {info.get('pid')}, whose endpoint {info['uri']} "
                         f"does not answer ({type(e).__name__}); retry when it has exited") from e


def _read_endpoint(endpoint: Path) -> dict[str, Any]:
    try:
        return json.loads(endpoint.read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _quiet() -> None:
    """milvus-lite's analyzer uses jieba's global tokenizer, which logs its dictionary load to
    stderr; keep the CLI's stderr for our own messages."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("milvus_lite").setLevel(logging.WARNING)
