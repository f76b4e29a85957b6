"""The SQLite store (sqlite-utils): documents, the node tree, flat clauses and their tags.

Tables::

    documents(id pk, source, sha256, title, meta json, warnings json, ingested_at, grammar, grammar_reason,
              doc_type, issuer, level, doc_number, dates json, validity, short_title,
              superseded_by, version_status)   -- versions: kb.versions
    nodes(id pk, doc_id, parent_id, kind, title, number, text, path json, ord, line_start, line_end)
    clauses(id pk, doc_id, plan, part, domain, section, number, heading, text, path json,
            short_path, plan_title, line_start, line_end, ord, label)
    targets(clause_id, doc_id, ord, indicator, indicator_norm, comparator, value, …)
    departments(clause_id, doc_id, ord, name, explicit, role, evidence, start, end, cue)
    citations(clause_id, doc_id, ord, text, title, label, start, end, cited_doc_id, cited_clause_id,
              in_force_doc_id, in_force_clause_id)   (citing clause/document first; kb.citations)

Re-ingesting a document replaces all its rows in one transaction; other documents stay.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from kb.errors import NotFound
from kb.types import Clause, DepartmentTag, Document, Node, Target



def _import_sqlite_utils():
    """``import sqlite_utils`` without letting it import pandas. sqlite-utils imports pandas
    when it is installed (pymilvus brings it) only to map ``pandas.Timestamp`` columns of
    DataFrames, which this store never inserts; the import cost 0.56 s of every cold
    ``kb search`` (``python -X importtime``). pandas stays importable for whoever needs it:
    it is hidden only while sqlite_utils loads."""
    import sys

    hide = "pandas" not in sys.modules
    if hide:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # import pandas → ImportError
    try:
        import sqlite_utils
    finally:
        if hide and sys.modules.get("pandas", 0) is None:
            del sys.modules["pandas"]
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

_JSON_COLS = {"path", "meta", "warnings", "dates"}
# What ranking reads of a candidate clause (kb.search: boosts, family, duplicates, versions)
RANKING_COLUMNS = ("id", "doc_id", "plan", "part", "domain", "section", "number", "heading", "text", "ord", "label")
# Document facts (kb.types.Document): columns added to stores made before they existed.
_DOC_FACTS = ("grammar", "grammar_reason", "doc_type", "issuer", "level", "doc_number", "dates", "validity", "short_title")
# Computed over the whole store after every write (kb.versions.mark).
_VERSION_COLS = ("superseded_by", "version_status")


class Store:
    """Read/write access to one ``kb.sqlite`` file.

    >>> s = Store(":memory:"); s.replace_documents([doc]); s.clause("czf-2022-8.ertong.p2.d2.m3")
    """

    def __init__(self, path: str | Path, readonly: bool = False):
        self.path = str(path)
        if readonly:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            conn = sqlite3.connect(self.path, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        self.changed: set[str] = set()  # ids of the documents this object wrote or removed (kb.indexes)
        self._tables: set[str] = set()  # tables seen to exist (_has_table)
        if not readonly:
            self._ensure_schema()

    def close(self) -> None:
        self.db.conn.close()

    def _ensure_schema(self) -> None:
        db = self.db
        if "documents" in db.table_names():
            return
        db["documents"].create({"id": str, "source": str, "sha256": str, "title": str, "meta": str,
                                "warnings": str, "ingested_at": str, **{k: str for k in _DOC_FACTS + _VERSION_COLS}},
                               pk="id")
        db["nodes"].create({"id": str, "doc_id": str, "parent_id": str, "kind": str, "title": str,
                            "number": int, "text": str, "path": str, "ord": int, "line_start": int,
                            "line_end": int}, pk="id")
        db["clauses"].create({"id": str, "doc_id": str, "plan": str, "part": str, "domain": str,
                              "section": str, "number": int, "heading": str, "text": str, "path": str,
                              "short_path": str, "plan_title": str, "line_start": int, "line_end": int,
                              "ord": int, "label": str}, pk="id")
        db["targets"].create({"clause_id": str, "doc_id": str, "ord": int, "indicator": str,
                              "indicator_norm": str, "comparator": str, "value": float, "value_min": float,
                              "value_max": float, "unit": str, "value_normalized": float, "value_text": str,
                              "year": int, "year_implied": int, "baseline_year": int, "per": str, "qualifier": str,
                              "evidence": str, "start": int, "end": int})
        db["departments"].create({"clause_id": str, "doc_id": str, "ord": int, "name": str, "explicit": int,
                                  "role": str, "evidence": str, "start": int, "end": int, "cue": str})
        for table, cols in (("nodes", ["doc_id"]), ("nodes", ["parent_id"]), ("clauses", ["doc_id"]),
                            ("clauses", ["short_path"]), ("targets", ["clause_id"]), ("targets", ["year"]),
                            ("departments", ["clause_id"]), ("departments", ["name"])):
            db[table].create_index(cols)

    # ------------------------------------------------------------------ writes
    def replace_documents(self, docs: Iterable[Document]) -> None:
        """Replace each document's rows (nodes, clauses, targets, departments) in ONE transaction."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.db.conn:
            for doc in docs:
                self.changed.add(doc.id)
                self._delete(doc.id)
                self.db["documents"].insert({
                    "id": doc.id, "source": doc.source, "sha256": doc.sha256, "title": doc.title,
                    "meta": json.dumps(doc.meta, ensure_ascii=False),
                    "warnings": json.dumps(doc.warnings, ensure_ascii=False), "ingested_at": now,
                    **_row({k: getattr(doc, k) for k in _DOC_FACTS})}, alter=True)
                self.db["nodes"].insert_all((_row(n.to_dict()) for n in doc.nodes), batch_size=500)
                self.db["clauses"].insert_all((_clause_row(c) for c in doc.clauses), batch_size=500, alter=True)
                self.db["targets"].insert_all(
                    (_target_row(t, c.id, doc.id, i) for c in doc.clauses for i, t in enumerate(c.targets)),
                    batch_size=500)
                self.db["departments"].insert_all(
                    (dict(d.to_dict(), clause_id=c.id, doc_id=doc.id, ord=i)
                     for c in doc.clauses for i, d in enumerate(c.departments)), batch_size=500)

    def set_versions(self, superseded: dict[str, str]) -> None:
        """Set ``superseded_by`` (the current version's id, or NULL) and ``version_status``
        (``superseded`` for the ids in ``superseded``, else ``current``) of every document, in
        ONE transaction; adds the two columns to a store made before they existed."""
        table = self.db["documents"]
        with self.db.conn:
            for col in _VERSION_COLS:
                if col not in table.columns_dict:
                    table.add_column(col, str)
            self.db.execute("UPDATE documents SET superseded_by = NULL, version_status = 'current'")
            for old, new in superseded.items():
                self.db.execute("UPDATE documents SET superseded_by = ?, version_status = 'superseded' WHERE id = ?",
                                [new, old])

    def remove_documents(self, doc_ids: Iterable[str]) -> None:
        """Delete each document's rows (document, nodes, clauses, tags) in ONE transaction."""
        with self.db.conn:
            for doc_id in doc_ids:
                self.changed.add(doc_id)
                self._delete(doc_id)

    def replace_citations(self, cits: Iterable[Any]) -> None:
        """Replace the whole ``citations`` table with ``cits`` (kb.citations.Citation), in ONE
        transaction; created here, so stores made before citations existed gain it."""
        with self.db.conn:
            self.db.execute("DROP TABLE IF EXISTS citations")
            self.db["citations"].create(_CITATION_COLS)
            self.db["citations"].insert_all((_citation_row(c) for c in cits), batch_size=500)
            for cols in (["clause_id"], ["cited_doc_id"], ["cited_clause_id"], ["in_force_doc_id"]):
                self.db["citations"].create_index(cols)

    def citations(self, where: str | None = None, args: list | None = None) -> list[Any]:
        """Stored citations (kb.citations.Citation) matching a SQL ``where`` on the citations
        table, in citing document order; [] for a store made before citations existed."""
        from kb.citations import Citation

        if "citations" not in self.db.table_names():
            return []
        sql = ("SELECT t.*, c.short_path AS citing_short_path, coalesce(k.short_path, d.short_title, d.title) "
               "AS short_path FROM citations t JOIN clauses c ON c.id = t.clause_id "
               "LEFT JOIN clauses k ON k.id = t.cited_clause_id LEFT JOIN documents d ON d.id = t.cited_doc_id"
               + (f" WHERE {where}" if where else "") + " ORDER BY c.doc_id, c.ord, t.ord")
        out = []
        for r in self.db.query(sql, args or []):
            out.append(Citation(citing_clause_id=r["clause_id"], citing_doc_id=r["doc_id"], ord=r["ord"],
                                text=r["text"], title=r["title"], label=r["label"], start=r["start"], end=r["end"],
                                doc_id=r["cited_doc_id"], clause_id=r["cited_clause_id"],
                                in_force_doc_id=r["in_force_doc_id"], in_force_clause_id=r["in_force_clause_id"],
                                short_path=r["short_path"], citing_short_path=r["citing_short_path"]))
        return out

    def _delete(self, doc_id: str) -> None:
        for table in ("documents", "nodes", "clauses", "targets", "departments"):
            col = "id" if table == "documents" else "doc_id"
            self.db.execute(f"DELETE FROM [{table}] WHERE [{col}] = ?", [doc_id])

    # ------------------------------------------------------------------ reads
    def documents(self) -> list[dict[str, Any]]:
        """All documents as dicts (meta and warnings decoded), in id order."""
        return [_decode(r) for r in self.db["documents"].rows_where(order_by="id")]

    def document(self, doc_id: str) -> dict[str, Any]:
        rows = list(self.db["documents"].rows_where("id = ?", [doc_id]))
        if not rows:
            raise NotFound(f"no document {doc_id!r}; `kb docs` lists them")
        return _decode(rows[0])

    def nodes(self, doc_id: Optional[str] = None) -> list[Node]:
        """Nodes in document order (optionally of one document)."""
        where, args = ("doc_id = ?", [doc_id]) if doc_id else (None, [])
        return [Node(**_decode(r)) for r in self.db["nodes"].rows_where(where, args, order_by="doc_id, ord")]

    def node(self, node_id: str) -> Node:
        rows = list(self.db["nodes"].rows_where("id = ?", [node_id]))
        if not rows:
            raise NotFound(f"no node {node_id!r}")
        return Node(**_decode(rows[0]))

    def clauses(self, where: str | None = None, args: list | None = None, with_tags: bool = True) -> list[Clause]:
        """Clauses in document order, optionally filtered by a SQL ``where`` on the clauses table."""
        rows = list(self.db["clauses"].rows_where(where, args or [], order_by="doc_id, ord"))
        clauses = [Clause(**_decode(r)) for r in rows]
        if with_tags:
            self.attach_tags(clauses)
        return clauses

    def clauses_by_id(self, ids: Iterable[str], with_tags: bool = True,
                      columns: Optional[tuple[str, ...]] = None) -> dict[str, Clause]:
        """{id: Clause} for the ids stored (others absent), fetched by primary key; with its
        tags unless ``with_tags`` is False (then ``targets`` and ``departments`` are empty).
        ``columns``: read only these (they must include the Clause fields without a
        default, as ``RANKING_COLUMNS`` does); the rest keep their defaults."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, Clause] = {}
        select = ", ".join(columns) if columns else "*"
        for i in range(0, len(ids), 500):  # under SQLite's 999-parameter limit
            chunk = ids[i:i + 500]
            cur = self.db.conn.execute(f"SELECT {select} FROM clauses WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            found = [Clause(**_decode(r)) for r in _dicts(cur)]
            if with_tags:
                self.attach_tags(found)
            out.update((c.id, c) for c in found)
        return out

    def clause_ids(self, where: str | None = None, args: list | None = None) -> list[str]:
        """Ids of the clauses matching a SQL ``where`` on the clauses table, in document order."""
        sql = "SELECT id FROM clauses" + (f" WHERE {where}" if where else "") + " ORDER BY doc_id, ord"
        return [r[0] for r in self.db.execute(sql, args or [])]

    def last_numbers(self) -> dict[tuple[str, str, str], int]:
        """{(doc_id, 发展领域, section): number of its last clause} over the plans' numbered
        clauses (主要目标 1.–N., 策略措施 1.–N.): what 最后一条 refers to."""
        sql = ("SELECT doc_id, domain, section, max(number) FROM clauses WHERE domain IS NOT NULL "
               "AND section IS NOT NULL AND number IS NOT NULL GROUP BY doc_id, domain, section")
        return {(d, dom, sec): n for d, dom, sec, n in self.db.execute(sql)}

    def distinct(self, column: str, table: str = "clauses") -> list[Any]:
        """Sorted distinct non-NULL values of ``table.column`` (a SQL expression is allowed)."""
        if table not in self.db.table_names():
            return []
        return sorted(r[0] for r in self.db.execute(f"SELECT DISTINCT {column} FROM [{table}]") if r[0] is not None)

    def set_meta(self, **values: str) -> None:
        """Record facts about the stored corpus (``corpus_sha256``) in the ``meta`` table."""
        with self.db.conn:
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self.db.conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items())

    def meta(self, key: str) -> Optional[str]:
        """A value recorded by :meth:`set_meta`; None when absent (or a store made before it)."""
        if "meta" not in self.db.table_names():
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def clause(self, clause_id: str) -> Clause:
        found = self.clauses("id = ?", [clause_id])
        if not found:
            raise NotFound(f"no clause {clause_id!r}; `kb clauses` lists ids")
        return found[0]

    def attach_tags(self, clauses: list[Clause]) -> None:
        """Fill ``targets`` and ``departments`` of each clause from the tag tables."""
        by_id = {c.id: c for c in clauses}
        if not by_id:
            return
        few = len(by_id) <= 500  # then by key, else one scan of the tag table
        where = f" WHERE clause_id IN ({','.join('?' * len(by_id))})" if few else ""
        for table, cls, attr in (("targets", Target, "targets"), ("departments", DepartmentTag, "departments")):
            if not self._has_table(table):
                continue
            cur = self.db.conn.execute(f"SELECT * FROM [{table}]{where} ORDER BY clause_id, ord", list(by_id) if few else [])
            for r in _dicts(cur):
                c = by_id.get(r["clause_id"])
                if c is None:
                    continue
                r.pop("doc_id", None), r.pop("ord", None)
                if table == "departments":
                    r["explicit"] = bool(r["explicit"])
                getattr(c, attr).append(cls(**r))

    def _has_table(self, name: str) -> bool:
        """Whether the table exists; a yes is remembered (tables are never dropped)."""
        if name not in self._tables and name in self.db.table_names():
            self._tables.add(name)
        return name in self._tables

    def targets(self) -> list[Target]:
        return [Target(**{k: v for k, v in r.items() if k not in ("doc_id", "ord")})
                for r in self.db.query("SELECT t.* FROM targets t JOIN clauses c ON c.id = t.clause_id "
                                       "ORDER BY c.doc_id, c.ord, t.ord")]

    def count(self, table: str) -> int:
        return self.db[table].count


class ClauseTable(Mapping):
    """The store's clauses as a read-only mapping {id: Clause with tags}, fetched by id on
    demand: opening costs nothing whatever the corpus size (the national corpus has 64,665
    articles; loading them all with their tags takes seconds). Fetched clauses are kept in
    an LRU of ``cache_size``; :meth:`fetch` gets many in one query (a search's candidates).

    ``values()``/``items()`` load every clause once (and keep them): only for answers that
    really look at all clauses. Thread-safe.

    >>> table = ClauseTable(store); table["fanjiatingbaolifa-2015-12-27.a23"].label
    '第二十三条'
    """

    def __init__(self, store: Store, cache_size: int = 4096, light_size: int = 16384):
        self.store = store
        self.cache_size, self.light_size = cache_size, light_size
        self._light: OrderedDict[str, Clause] = OrderedDict()  # for_ranking's partial clauses
        self._light_tagged: set[str] = set()  # … those whose tags are attached
        self._lru: OrderedDict[str, Clause] = OrderedDict()
        self._all: Optional[dict[str, Clause]] = None
        self._len: Optional[int] = None
        self._lock = threading.Lock()

    def fetch(self, ids: Iterable[str]) -> dict[str, Clause]:
        """{id: Clause} for the ids stored, from the LRU or one query for the rest."""
        ids = list(dict.fromkeys(ids))
        with self._lock:
            if self._all is not None:
                return {i: self._all[i] for i in ids if i in self._all}
            out = {i: self._lru[i] for i in ids if i in self._lru}
            missing = [i for i in ids if i not in out]
            if missing:
                out.update(self.store.clauses_by_id(missing))
            for i in ids:
                if i in out:
                    self._lru[i] = out[i]
                    self._lru.move_to_end(i)
            while len(self._lru) > self.cache_size:
                self._lru.popitem(last=False)
        return out

    def for_ranking(self, ids: Iterable[str], tags: bool) -> dict[str, Clause]:
        """{id: Clause} for a search's candidates, to rank them: the LRU's whole clauses
        where held, else clauses of ``RANKING_COLUMNS`` only (``path``, ``short_path``…
        empty), kept in a second LRU of ``light_size`` (candidates recur across queries: the
        articles a topic's questions reach); with their tags when ``tags``. Only the k a
        search returns are then fetched whole: at the national size ~150 candidates cost
        ~2 ms instead of ~7 ms. The clauses returned are shared: read, never change them; one
        returned without tags may be given them later by another call."""
        ids = list(dict.fromkeys(ids))
        with self._lock:
            if self._all is not None:
                return {i: self._all[i] for i in ids if i in self._all}
            out = {i: self._lru[i] for i in ids if i in self._lru}
            light = {i: self._light[i] for i in ids if i not in out and i in self._light}
        missing = [i for i in ids if i not in out and i not in light]
        fetched = self.store.clauses_by_id(missing, with_tags=False, columns=RANKING_COLUMNS) if missing else {}
        with self._lock:
            for i, c in fetched.items():
                light[i] = self._light.setdefault(i, c)  # another call may have kept it meanwhile: one object per id
                self._light.move_to_end(i)
            if tags:
                # ``_light_tagged``: ids whose kept object has its tags. An object evicted since
                # this call read it is tagged for this call and marks nothing; if it was tagged
                # before, it now holds its tags twice, which ranking cannot tell (boosts test
                # membership) and no caller sees (the k returned are fetched whole)
                bare = [c for i, c in light.items() if i not in self._light_tagged]
                self.store.attach_tags(bare)
                self._light_tagged.update(c.id for c in bare if self._light.get(c.id) is c)
            while len(self._light) > self.light_size:
                self._light_tagged.discard(self._light.popitem(last=False)[0])
        out.update(light)
        return out

    def __getitem__(self, clause_id: str) -> Clause:
        found = self.fetch([clause_id])
        if clause_id not in found:
            raise KeyError(clause_id)
        return found[clause_id]

    def __contains__(self, clause_id: object) -> bool:
        if not isinstance(clause_id, str):
            return False
        if clause_id in self._lru or (self._all is not None and clause_id in self._all):
            return True
        return self.store.db.execute("SELECT 1 FROM clauses WHERE id = ?", [clause_id]).fetchone() is not None

    def __len__(self) -> int:
        if self._len is None:
            self._len = self.store.count("clauses")
        return self._len

    def __iter__(self):
        return iter(self.store.clause_ids())

    def where(self, where: str, args: list | None = None) -> list[Clause]:
        """Clauses (with tags) matching a SQL ``where`` on the clauses table, in document order."""
        ids = self.store.clause_ids(where, args)
        found = self.fetch(ids)
        return [found[i] for i in ids if i in found]

    def _load_all(self) -> dict[str, Clause]:
        with self._lock:
            if self._all is None:
                self._all = {c.id: c for c in self.store.clauses()}
                self._lru.clear()
        return self._all

    def values(self):
        """Every clause, in document order (loads them all once)."""
        return self._load_all().values()

    def items(self):
        """(id, Clause) of every clause, in document order (loads them all once)."""
        return self._load_all().items()


_CITATION_COLS = {"clause_id": str, "doc_id": str, "ord": int, "text": str, "title": str, "label": str,
                  "start": int, "end": int, "cited_doc_id": str, "cited_clause_id": str, "in_force_doc_id": str,
                  "in_force_clause_id": str}


def _citation_row(c: Any) -> dict[str, Any]:
    return {"clause_id": c.citing_clause_id, "doc_id": c.citing_doc_id, "ord": c.ord, "text": c.text,
            "title": c.title, "label": c.label, "start": c.start, "end": c.end, "cited_doc_id": c.doc_id,
            "cited_clause_id": c.clause_id, "in_force_doc_id": c.in_force_doc_id,
            "in_force_clause_id": c.in_force_clause_id}


def _row(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.dumps(v, ensure_ascii=False) if k in _JSON_COLS else v) for k, v in d.items()}


def _target_row(t: Target, clause_id: str, doc_id: str, i: int) -> dict[str, Any]:
    d = dict(t.to_dict(), clause_id=clause_id, doc_id=doc_id, ord=i)
    d.pop("short_path"), d.pop("value_display")
    return d


def _clause_row(c: Clause) -> dict[str, Any]:
    d = c.to_dict()
    d.pop("targets"), d.pop("departments")
    return _row(d)


def _dicts(cur: sqlite3.Cursor) -> Iterator[dict[str, Any]]:
    """The rows of an executed cursor as {column: value} (sqlite-utils' ``query`` without its
    per-call overhead, on the hot path of every search)."""
    cols = [d[0] for d in cur.description]
    return (dict(zip(cols, row)) for row in cur)


def _decode(r: dict[str, Any]) -> dict[str, Any]:
    return {k: (json.loads(v) if k in _JSON_COLS and isinstance(v, str) else v) for k, v in r.items()}
