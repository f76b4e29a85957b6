"""``KnowledgeBase``: the library's entry point over a built index.

>>> kb = KnowledgeBase.open("index")
>>> kb.show("儿童/儿童安全/策略措施/3").clause.heading
'预防和控制儿童溺水'

The CLI and the HTTP API are thin layers over these methods.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from kb import layout
from kb.errors import KbError, NotFound, QueryError
from kb.store import Store
from kb.types import Clause, Node


@dataclass
class ShowResult:
    """One node with its context: breadcrumb (root → node), the clause view when the node
    is a clause, children, and the previous/next clause in document order."""

    node: Node
    breadcrumb: list[Node]
    clause: Optional[Clause] = None
    children: list[Node] = field(default_factory=list)
    previous: Optional[Clause] = None
    next: Optional[Clause] = None
    cites: list = field(default_factory=list)  # kb.citations.Citation made by the node's clauses
    cited_by: list[str] = field(default_factory=list)  # ids of clauses citing the node

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.node.id, "kind": self.node.kind, "title": self.node.title,
            "node": self.node.to_dict(),
            "breadcrumb": [{"id": n.id, "kind": n.kind, "title": n.title} for n in self.breadcrumb],
            "clause": self.clause.to_dict() if self.clause else None,
            "children": [{"id": n.id, "kind": n.kind, "title": n.title, "number": n.number} for n in self.children],
            "previous": _brief(self.previous), "next": _brief(self.next),
            "cites": [c.to_dict() for c in self.cites], "cited_by": self.cited_by,
        }


@dataclass
class CitesResult:
    """The citations of a document or clause (``kb cites``): ``cites`` those its clauses make
    (resolved or not), ``cited_by`` those that name it (or, for a document, any of its
    articles), both kb.citations.Citation in citing-document order."""

    id: str
    kind: str
    title: str
    cites: list
    cited_by: list

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "title": self.title,
                "cites": [c.to_dict() for c in self.cites], "cited_by": [c.to_dict() for c in self.cited_by]}


def _brief(c: Optional[Clause]) -> Optional[dict[str, Any]]:
    return None if c is None else {"id": c.id, "short_path": c.short_path, "heading": c.heading}


class KnowledgeBase:
    """Read access to an index directory (see ``kb.layout``). Opening is cheap: the
    store is opened read-only; search models load on first use."""

    def __init__(self, index_dir: Path, manifest: dict[str, Any], store: Store, embedder=None,
                 hold: Optional[layout.GenerationHold] = None):
        self.index_dir = index_dir
        self._embedder = embedder
        self.manifest = manifest
        self.store = store
        self.generation = index_dir / manifest["generation"]
        self._searcher = None
        self._hold = hold

    @classmethod
    def open(cls, index_dir: str | Path = "index", embedder=None) -> "KnowledgeBase":
        """Open the current generation of ``index_dir`` and register as its reader (so
        pruning keeps it until ``close()``). ``embedder`` overrides the model named in the
        manifest (it must be the same model). Raises IndexMissing, IndexStale.

        A KnowledgeBase stays on the generation it opened; a long-lived reader that should
        follow new ingests uses ``kb.follow.Follower`` (as the HTTP API does), or checks
        ``is_current()`` and reopens."""
        root = Path(index_dir)
        manifest, hold = layout.hold_generation(root)
        try:
            with layout.damaged_index(root):
                store = Store(hold.gen / layout.STORE_FILE, readonly=True)
                store.count("documents")  # a damaged file fails here, not in the middle of a command
        except BaseException:
            hold.release()
            raise
        return cls(root, manifest, store, embedder, hold)

    def is_current(self) -> bool:
        """False when a newer generation has been committed since this one was opened."""
        try:
            return layout.read_manifest(self.index_dir)["generation"] == self.manifest["generation"]
        except KbError:
            return False

    def close(self) -> None:
        """Close the store and the search backend, and release the generation (idempotent)."""
        if self._searcher is not None:
            self._searcher.close()
        self.store.close()
        if self._hold is not None:
            self._hold.release()

    # ------------------------------------------------------------------ search
    @property
    def searcher(self):
        """The generation's Searcher (kb.search); models load on first use or warm_up()."""
        if self._searcher is None:
            from kb.search import Searcher

            self._searcher = Searcher(self.generation, self.manifest, self.store, embedder=self._embedder)
        return self._searcher

    def warm_up(self) -> None:
        """Load segmenter, indexes and embedding model now (the API does this at start-up)."""
        self.searcher.warm_up()

    def search(self, query: str, k: int = 10, plan: Optional[str] = None, domain: Optional[str] = None,
               section: Optional[str] = None, department: Optional[str] = None, year: Optional[int] = None,
               mode: str = "hybrid", doc: Optional[str] = None, doc_type: Optional[str] = None,
               level: Optional[str] = None, issuer: Optional[str] = None, versions: str = "current"):
        """Top ``k`` clauses for a Chinese query → kb.search.SearchResult (``.hits``, ``.message``).

        Filters are exact (a filter matching nothing gives no hits and a message); the
        document filters and ``versions`` are those of kb.search.Filters (superseded versions
        are left out unless ``versions="all"`` or ``doc`` names them).
        Raises QueryError for a bad mode, k or versions, a query that is not text (lone surrogates), IndexStale for an index built otherwise."""
        from kb.search import Filters

        _check_text(query)
        filters = Filters(plan, domain, section, department, year, doc, doc_type, level, issuer, versions)
        return self.searcher.search(query, k, filters, mode)

    def ask(self, question: str, doc: Optional[str] = None, doc_type: Optional[str] = None,
            level: Optional[str] = None, issuer: Optional[str] = None, versions: str = "current"):
        """A direct answer (target value, structure; an actual value or a target's status when
        actuals are stored) or cited clauses → kb.ask.Answer. The document filters narrow the
        clauses searched, as in :meth:`search` (superseded versions left out by default)."""
        from kb.ask import ask
        from kb.search import Filters

        _check_text(question)
        filters = Filters(doc=doc, doc_type=doc_type, level=level, issuer=issuer, versions=versions)
        answer = ask(self.searcher, question, filters=filters)
        if not self.actuals_stored():
            return answer
        from kb.ask_monitor import with_actuals

        return with_actuals(answer, question, self.monitor)

    # ------------------------------------------------------------------ tags
    def targets(self, plan: Optional[str] = None, domain: Optional[str] = None, year: Optional[int] = None,
                indicator: Optional[str] = None, **doc_filters) -> list:
        """Targets (kb.types.Target with clause_id and short_path) filtered exactly by plan and
        domain, by ``year`` as written or implied by the plan period (``Target.meets_year``:
        --year 2030 includes the undated goals of a 2021—2030 plan, marked by year=None,
        year_implied=2030), and by ``indicator`` as a substring of the indicator name.
        ``doc_filters`` are those of :meth:`doc_ids`. Raises QueryError for an unknown plan,
        domain or document filter value."""
        self._check_filters(plan=plan, domain=domain)
        docs = self.doc_ids(**doc_filters)
        clauses = {c.id: c for c in self.store.clauses(with_tags=False)}
        out = []
        for t in self.store.targets():
            c = clauses[t.clause_id]
            if (docs is not None and c.doc_id not in docs) or (plan and c.plan != plan) or (domain and c.domain != domain) or (year and not t.meets_year(year)):
                continue
            if indicator and indicator not in t.indicator and indicator not in (t.indicator_norm or ""):
                continue
            t.short_path, t.doc_id = c.short_path, c.doc_id
            out.append(t)
        return out

    def targets_csv(self, **filters) -> str:
        """The targets as CSV text (header row first) with each clause's path; write it with
        encoding ``utf-8-sig`` so that Excel opens the Chinese intact."""
        import csv
        import io

        cols = ["clause_id", "short_path", "indicator", "indicator_norm", "comparator", "value", "value_min",
                "value_max", "unit", "value_normalized", "value_text", "year", "year_implied", "baseline_year",
                "per", "qualifier", "evidence", "doc_id"]
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\r\n")
        w.writeheader()
        for t in self.targets(**filters):
            w.writerow(t.to_dict())
        return buf.getvalue()

    def departments(self, **doc_filters) -> list[dict[str, Any]]:
        """Every body with the number of clauses tagging it explicitly and by inference:
        [{name, type, explicit, inferred}], most explicit first; ``doc_filters`` as for
        :meth:`doc_ids` (superseded versions are not counted by default)."""
        from kb.departments import Lexicon

        lex = Lexicon.load()
        where, args = _in_docs(self.doc_ids(**doc_filters))
        rows = self.store.db.query(
            "SELECT name, sum(explicit) AS explicit, count(DISTINCT clause_id) - sum(explicit) AS inferred "
            f"FROM (SELECT name, clause_id, max(explicit) AS explicit FROM departments {where} GROUP BY name, clause_id) "
            "GROUP BY name ORDER BY explicit DESC, inferred DESC, name", args)
        return [dict(r, type=lex.type_of(r["name"])) for r in rows]

    def departments_named(self, name: str, **doc_filters) -> list[dict[str, Any]]:
        """``department`` for each body a name stands for: a group such as 公检法司 or
        区妇儿工委及其办公室 expands (by the lexicon) to several bodies. Raises NotFound."""
        from kb.departments import Lexicon

        bodies = Lexicon.load().expand(name.strip()) if name.strip() else []
        return ([self.department(b, **doc_filters) for b in bodies] if len(bodies) > 1
                else [self.department(name, **doc_filters)])

    def department(self, name: str, **doc_filters) -> dict[str, Any]:
        """A body's clauses, explicit tags first: {name, clauses: [clause dict + explicit, role,
        evidence, cue, place, unit]}, in the documents that pass ``doc_filters`` (:meth:`doc_ids`);
        ``unit`` is article for a law article (tagged where the law names the body by its
        function, 县级以上人民政府民政部门 → 区民政局; see kb/data/departments.yaml), clause for a
        plan clause. Raises NotFound, with close names, for an unknown body; QueryError for an
        unknown document filter value."""
        from kb.departments import Lexicon

        lex = Lexicon.load()
        if not name.strip():
            raise NotFound("give a department name; `kb departments` lists them")
        canonical = lex.resolve(name)
        if canonical is None:
            close = lex.suggest(name)
            hint = f"; did you mean {', '.join(close)}?" if close else "; `kb departments` lists them"
            raise NotFound(f"unknown department {name!r}{hint}")
        where, args = _in_docs(self.doc_ids(**doc_filters), "AND")
        tags = {r["clause_id"]: r for r in self.store.db.query(
            "SELECT clause_id, max(explicit) AS explicit, "
            "CASE WHEN max(role = 'lead') THEN 'lead' ELSE 'participant' END AS role, max(evidence) AS evidence, "
            f"max(cue) AS cue FROM departments WHERE name = ? {where} GROUP BY clause_id", [canonical, *args])}
        clauses = self.store.clauses(f"id IN ({','.join('?' * len(tags))})", list(tags)) if tags else []
        clauses.sort(key=lambda c: (-tags[c.id]["explicit"], c.doc_id, c.ord))
        from kb.search import place

        return {"name": canonical, "clauses": [
            dict(c.to_dict(), explicit=bool(tags[c.id]["explicit"]), role=tags[c.id]["role"],
                 evidence=tags[c.id]["evidence"], cue=tags[c.id]["cue"], place=place(c),
                 unit="article" if c.plan is None and c.label else "clause") for c in clauses]}

    # ------------------------------------------------------------------ monitoring (issue 11)
    def plans(self) -> list:
        """Every plan with its area and period → list[kb.plans.PlanInfo]."""
        from kb.plans import plan_infos

        return plan_infos(self.documents())

    def actuals_stored(self) -> bool:
        """True when ``INDEX/actuals.sqlite`` exists (some actual values were imported)."""
        from kb.actuals import STORE_FILE

        return (self.index_dir / STORE_FILE).exists()

    def actuals(self, indicator: Optional[str] = None, year: Optional[int] = None) -> list:
        """Stored actual values (kb.actuals.Actual), from ``INDEX/actuals.sqlite``; ``year``
        keeps those up to it, ``indicator`` those of that indicator (key or name as written)."""
        from kb.actuals import ActualsStore

        return ActualsStore(self.index_dir).all(indicator=indicator, year=year)

    def import_actuals(self, path: str | Path, plan: Optional[str] = None, **kwargs):
        """Import a CSV/.xlsx file of actual values → kb.actuals.ImportReport; see
        ``kb.actuals.import_file`` for ``kwargs`` and the errors raised (nothing is stored
        from a rejected file)."""
        from kb.monitor import import_into

        return import_into(self, Path(path), plan, **kwargs)

    def monitor(self, plan: Optional[str] = None, domain: Optional[str] = None, year: Optional[int] = None) -> list:
        """One kb.monitor.MonitorRow per target (filtered as ``targets``), with its status at
        monitoring year ``year`` (None: the latest actuals). Raises QueryError for an unknown
        plan or domain."""
        from kb.monitor import monitor_kb

        self._check_filters(plan=plan, domain=domain)
        return monitor_kb(self, plan, domain, year)

    # ------------------------------------------------------------------ browsing
    def documents(self, versions: str = "all", **doc_filters) -> list[dict[str, Any]]:
        """Every document: id, source, title, meta (索引号, 发文字号…, plans), counts and
        versions (``version_status`` current | superseded, ``superseded_by``: kb.versions),
        filtered by ``doc_filters`` (:meth:`doc_ids`); all versions unless ``versions="current"``."""
        keep = self.doc_ids(versions=versions, **doc_filters)
        docs = [d for d in self.store.documents() if keep is None or d["id"] in keep]
        for d in docs:
            d.setdefault("version_status", "current")
            d.setdefault("superseded_by", None)
        counts = {r["doc_id"]: r["n"] for r in self.store.db.query(
            "SELECT doc_id, count(*) AS n FROM clauses GROUP BY doc_id")}
        for d in docs:
            d["clauses"] = counts.get(d["id"], 0)
        return docs

    def tree(self, doc_id: Optional[str] = None, depth: Optional[int] = None) -> list[Node]:
        """Nodes in document order, down to ``depth`` levels below the document (None = all).

        ``doc_id`` may also be a short title (妇女权益保障法: its current version).
        Raises NotFound for an unknown ``doc_id``."""
        if doc_id is not None:
            doc_id = self._doc_id(doc_id)
        nodes = self.store.nodes(doc_id)
        if depth is not None:
            nodes = [n for n in nodes if n.kind == "document" or len(n.path) <= depth]
        return nodes

    def _doc_id(self, key: str) -> str:
        """A document id for an id or a short title (the current version); NotFound otherwise."""
        from kb.docfilter import DocFilter

        ids = DocFilter(doc=key).select(self.store.documents()).ids
        if len(ids) != 1:
            self.store.document(key)  # raises NotFound saying `kb docs` lists them
        return next(iter(ids)) if len(ids) == 1 else key

    def clauses(self, plan: Optional[str] = None, domain: Optional[str] = None,
                section: Optional[str] = None, doc: Optional[str] = None, **doc_filters) -> list[Clause]:
        """Clauses filtered exactly by plan short name (妇女/儿童), domain, section, and the
        document filters of :meth:`doc_ids` (``doc``, ``doc_type``, ``level``, ``issuer``,
        ``versions``: superseded versions are left out unless asked for).

        An unknown filter value raises QueryError listing the known values."""
        where, args = [], []
        for col, value in self._check_filters(plan=plan, domain=domain, section=section).items():
            where.append(f"[{col}] = ?")
            args.append(value)
        docs_where, docs_args = _in_docs(self.doc_ids(doc=doc, **doc_filters), "")
        if docs_where:
            where.append(docs_where)
            args += docs_args
        return self.store.clauses(" AND ".join(where) or None, args)

    def doc_ids(self, doc: Optional[str] = None, doc_type: Optional[str] = None, level: Optional[str] = None,
                issuer: Optional[str] = None, versions: str = "current") -> Optional[set[str]]:
        """Ids of the documents passing the document filters (kb.docfilter.DocFilter), or None
        when all pass. Raises QueryError for an unknown value (listing the known ones) or
        ``versions`` other than current | all; a combination matching nothing gives set()."""
        from kb.docfilter import DocFilter

        return DocFilter(doc, doc_type, level, issuer, versions).ids_or_raise(self.store.documents())

    def _check_filters(self, **filters: Optional[str]) -> dict[str, str]:
        """The given filters on clause columns; QueryError listing known values for an unknown one."""
        active = {col: v for col, v in filters.items() if v is not None}
        for col, value in active.items():
            known = [r[col] for r in self.store.db.query(
                f"SELECT DISTINCT [{col}] FROM clauses WHERE [{col}] IS NOT NULL")]
            if value not in known:
                raise QueryError(f"no {col} {value!r}; known: {', '.join(sorted(known))}")
        return active

    def show(self, id_or_path: str) -> ShowResult:
        """A node by id (czf-2022-8.ertong.p2.d2.m3), Chinese path (儿童/儿童安全/策略措施/3) or
        document title (反家庭暴力法: its current version).

        Raises NotFound (with close matches) when nothing or more than one node matches."""
        node = self._resolve(id_or_path.strip())
        by_id = {n.id: n for n in self.store.nodes(node.doc_id)}
        crumbs, cur = [], node
        while cur is not None:
            crumbs.append(cur)
            cur = by_id.get(cur.parent_id) if cur.parent_id else None
        clause = None
        prev = nxt = None
        rows = self.store.clauses("id = ?", [node.id])
        if rows:
            clause = rows[0]
            prev = self._neighbour(clause, -1)
            nxt = self._neighbour(clause, +1)
        children = [n for n in by_id.values() if n.parent_id == node.id]
        cites, cited_by = self._citations(node, by_id)
        return ShowResult(node=node, breadcrumb=list(reversed(crumbs)), clause=clause,
                          children=sorted(children, key=lambda n: n.ord), previous=prev, next=nxt,
                          cites=cites, cited_by=list(dict.fromkeys(c.citing_clause_id for c in cited_by)))

    def cites(self, key: str) -> CitesResult:
        """What a document or clause cites and what cites it. ``key`` is a node id or path as
        for :meth:`show`, or a document's title or short title (妇女权益保障法: its current
        version). Raises NotFound."""
        key = key.strip()
        try:
            node = self._resolve(key)
        except NotFound as e:
            node = self._titled(key, e)
        cites, cited_by = self._citations(node, {n.id: n for n in self.store.nodes(node.doc_id)})
        return CitesResult(node.id, node.kind, node.title, cites, cited_by)

    def _titled(self, key: str, why: NotFound) -> Node:
        """The document node whose title or short title is ``key`` (current version); else
        NotFound with ``why`` (why it is not an id or path)."""
        node = self._document_titled(key)
        if node is None:
            raise NotFound(f"{why}; nor is it a document title (`kb docs` lists them)") from None
        return node

    def _document_titled(self, key: str) -> Optional[Node]:
        """The document node whose title or short title is ``key`` (反家庭暴力法, 《中华人民共和国
        反家庭暴力法》: its current version), or None."""
        from kb.citations import Catalogue, norm_title

        cat = Catalogue(self.store.documents(), [])
        works = sorted(cat.keys.get(norm_title(key), ())) if key else []
        return self.store.node(cat.current[works[0]]) if works else None

    def _citations(self, node: Node, by_id: dict[str, Node]) -> tuple[list, list]:
        """(citations made by the clauses at or under ``node``, citations of ``node``): a
        clause is cited by id, in its current or in-force version; a document by any
        citation naming it."""
        if node.kind == "document":
            return (self.store.citations("t.doc_id = ?", [node.id]),
                    self.store.citations("t.cited_doc_id = ? OR t.in_force_doc_id = ?", [node.id, node.id]))
        under, todo = set(), [node.id]
        while todo:
            cur = todo.pop()
            under.add(cur)
            todo.extend(n.id for n in by_id.values() if n.parent_id == cur)
        marks = ",".join("?" * len(under))
        return (self.store.citations(f"t.clause_id IN ({marks})", sorted(under)),
                self.store.citations("t.cited_clause_id = ? OR t.in_force_clause_id = ?", [node.id, node.id]))

    def _neighbour(self, c: Clause, step: int) -> Optional[Clause]:
        found = self.store.clauses("doc_id = ? AND ord = ?", [c.doc_id, c.ord + step], with_tags=False)
        return found[0] if found else None

    def _resolve(self, key: str) -> Node:
        if re.fullmatch(r"[a-z0-9.\-]+", key):
            try:
                return self.store.node(key)
            except NotFound:
                import difflib

                ids = [r["id"] for r in self.store.db.query("SELECT id FROM nodes")]
                close = difflib.get_close_matches(key, ids, n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else (
                    "; ids look like czf-2022-8.ertong.p2.d2.m3 (`kb clauses` lists them), "
                    "or give a path such as 儿童/儿童安全/策略措施/3")
                raise NotFound(f"no clause or node {key!r}{hint}") from None
        segs = [s for s in re.split(r"\s*[/›>]\s*", _norm(key)) if s]
        if not segs:
            raise NotFound("empty path; give an id or a path such as 儿童/儿童安全/策略措施/3")
        exact = self.store.clauses("short_path = ?", ["/".join(segs)], with_tags=False)
        if len(exact) == 1:
            return self.store.node(exact[0].id)
        titled = self._document_titled(segs[0]) if len(segs) == 1 and not exact else None
        if titled is not None:  # 反家庭暴力法 alone: the document, not its 38 articles
            return titled
        docs, segs = self._doc_prefix(segs)
        pool = [c for c in self.store.clauses(with_tags=False) if docs is None or c.doc_id in docs]
        nodes = self._node_matches(segs, docs)
        exact_nodes = [n for n in nodes if _norm(n.title) == segs[-1] or _norm(n.title).endswith(segs[-1])]
        if len(exact_nodes) == 1 or len(nodes) == 1:
            return exact_nodes[0] if len(exact_nodes) == 1 else nodes[0]
        named = exact_nodes or nodes
        if len({n.doc_id for n in named}) > 1 and not segs[-1].isdigit():
            raise NotFound(f"path {key!r} names a node in {len({n.doc_id for n in named})} documents; put the "
                           f"document first (DOC/…): {_by_document(named)}")
        matches = ([c for c in pool if _path_matches(segs, c)] if segs else []) or (
            [c for c in exact if docs is None or c.doc_id in docs])
        if len(matches) == 1:
            return self.store.node(matches[0].id)
        if not matches:
            if len(nodes) == 1:
                return nodes[0]
            if not nodes:
                raise NotFound(f"no clause at path {key!r}; paths look like 儿童/儿童安全/策略措施/3, "
                               "反家庭暴力法/第二十三条, or DOC/… with a document id or short title first")
            matches = nodes
        raise NotFound(f"path {key!r} matches {len(matches)} clauses or nodes; be more specific, e.g. with the "
                       f"document first (DOC/…): {_by_document(matches)}")

    def _doc_prefix(self, segs: list[str]) -> tuple[Optional[set[str]], list[str]]:
        """(ids of the documents the first segment names, the remaining segments) when the
        first segment is a document id, title or short title; (None, segs) otherwise."""
        if len(segs) < 2:
            return None, segs
        first = segs[0]
        ids = {d["id"] for d in self.store.documents()
               if first in (d["id"], _norm(d.get("title") or ""), _norm(d.get("short_title") or ""))}
        return (ids, segs[1:]) if ids else (None, segs)

    def _node_matches(self, segs: list[str], docs: Optional[set[str]]) -> list[Node]:
        """Nodes above the clauses (儿童/儿童安全: the 发展领域; 反家庭暴力法/第四章) whose own title
        matches the last segment and whose path holds the others in order."""
        if not segs:
            return []
        out = []
        for n in self.store.nodes():
            if n.kind in ("clause", "article", "document") or (docs is not None and n.doc_id not in docs):
                continue
            title = _norm(n.title)
            if segs[-1] != title and not title.endswith(segs[-1]) and not title.startswith(segs[-1]):
                continue
            elems = [_norm(x) for x in n.path[:-1]]
            i = 0
            for s_ in segs[:-1]:
                while i < len(elems) and s_ not in elems[i]:
                    i += 1
                if i == len(elems):
                    break
                i += 1
            else:
                out.append(n)
        return out


def _by_document(matches: list) -> str:
    """Candidates listed by document: 'czf-2022-8: 儿童/…, …; other: …' (at most 8 in all)."""
    groups: dict[str, list[str]] = {}
    for m in matches[:8]:
        label = getattr(m, "short_path", None) or " › ".join(m.path) or m.title
        groups.setdefault(m.doc_id, []).append(label)
    more = "…" if len(matches) > 8 else ""
    return "; ".join(f"{d}: {', '.join(v)}" for d, v in groups.items()) + more


def _in_docs(ids: Optional[set[str]], joiner: str = "WHERE") -> tuple[str, list[str]]:
    """SQL restricting ``doc_id`` to ``ids`` ("" when ``ids`` is None), with its arguments."""
    if ids is None:
        return "", []
    return f"{joiner} doc_id IN ({','.join('?' * len(ids))})".strip(), sorted(ids)


def _check_text(query: str) -> None:
    """QueryError for a query that is not text: lone surrogates (bytes that were not UTF-8,
    escaped by Python) cannot be segmented, embedded or printed."""
    try:
        (query or "").encode("utf-8")
    except UnicodeEncodeError as e:
        raise QueryError(f"the query holds {e.end - e.start} character(s) that are not text (undecodable bytes "
                         f"at position {e.start}); pass it as UTF-8") from None


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).replace(" ", "")


def _path_matches(segs: list[str], c: Clause) -> bool:
    """Each segment in order is contained in a path element; the last is the number or heading."""
    elems = [_norm(x) for x in [c.plan or "", *c.path]]
    last = segs[-1]
    if c.number is not None and last.isdigit():
        if int(last) != c.number:
            return False
        segs = segs[:-1]
        elems = elems[:-1]
    i = 0
    for s in segs:
        while i < len(elems) and s not in elems[i]:
            i += 1
        if i == len(elems):
            return False
        i += 1
    return True
