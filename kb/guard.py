"""No silent loss: what an ingest would change, and the changes it refuses without ``force``.

Two cases stop an ingest (``kb ingest --force`` / upload ``force=true`` lets it through):

* **shrink** — a document already stored (same id) would keep fewer than
  ``1 - MAX_CLAUSE_LOSS`` of its clauses: a truncated copy (the seed cut after 儿童与健康
  keeps 229 of its 357 clauses) must not silently replace the whole document.
* **repeated plans** — one file holds the same plan (same title) more than once, as a file
  pasted together from copies does; the parser records each as a separate plan
  (``doc.meta["plans"]``: 儿童, 儿童2, 儿童3…).

Different documents are never repeats of each other: versions of one law and parts of one
code have different ids (from their 发文字号 or file names), so each is stored as itself.
"""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from kb.errors import LossRefused, ParseError
from kb.types import Document

MAX_CLAUSE_LOSS = 0.2  # share of a stored document's clauses a re-ingest may drop unforced


@dataclass
class Changes:
    """Document ids an ingest adds (new), replaces (already stored) and removes
    (``--rebuild`` drops stored documents that are not re-ingested; ``kb remove``);
    ``unchanged``: those of ``replaced`` whose clauses (ids and texts) are the ones stored."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[str]]:
        return asdict(self)


def plan_changes(docs: Iterable[Document], stored: dict[str, int], rebuild: bool = False,
                 stored_digests: Optional[dict[str, str]] = None) -> Changes:
    """Classify the documents of an ingest against ``stored`` ({doc id: clause count}) and
    ``stored_digests`` ({doc id: :func:`clause_digest` of its stored clauses})."""
    docs = list(docs)
    ids = [d.id for d in docs]
    digests = stored_digests or {}
    same = [d.id for d in docs if d.id in digests and digests[d.id] == clause_digest((c.id, c.text) for c in d.clauses)]
    return Changes(added=[i for i in ids if i not in stored], replaced=[i for i in ids if i in stored],
                   removed=sorted(set(stored) - set(ids)) if rebuild else [], unchanged=same)


def clause_digest(rows: Iterable[tuple[str, str]]) -> str:
    """sha256 over a document's (clause id, text) pairs in document order."""
    h = hashlib.sha256()
    for cid, text in rows:
        h.update(cid.encode() + b"\0" + text.encode() + b"\0")
    return h.hexdigest()


def problems(docs: Iterable[Document], stored: dict[str, int]) -> list[str]:
    """One line per document that would shrink or repeats a plan (empty: safe to ingest)."""
    out = []
    for doc in docs:
        before, after = stored.get(doc.id), len(doc.clauses)
        if before and after < before * (1 - MAX_CLAUSE_LOSS):
            out.append(f"{doc.source}: would replace {doc.id} ({before} clauses) with {after} clauses, "
                       f"losing {before - after} ({(before - after) / before:.0%}; at most "
                       f"{MAX_CLAUSE_LOSS:.0%} without --force); is the file truncated?")
        titles = Counter(_title(p.get("title", "")) for p in doc.meta.get("plans", []))
        repeated = {t: n for t, n in titles.items() if t and n > 1}
        for title, n in repeated.items():
            out.append(f"{doc.source}: plan {title!r} appears {n} times in one file; "
                       "remove the copies (different versions belong in separate files)")
    return out


def check(docs: list[Document], stored: dict[str, int], force: bool = False) -> None:
    """Raise LossRefused listing every problem, unless ``force``."""
    found = problems(docs, stored)
    if found and not force:
        raise LossRefused("nothing was ingested:\n  " + "\n  ".join(found)
                          + "\nrerun with --force (upload: force=true) if this is intended")


def check_unique_ids(docs: list[Document]) -> None:
    """Raise ParseError when a document's tree gives two nodes one id (a section or clause
    repeated because the file's numbering runs backwards): storing it would keep one and
    silently drop the other."""
    for doc in docs:
        lines: dict[str, list[int]] = {}
        for node in doc.nodes:
            lines.setdefault(node.id, []).append(node.line_start or 0)
        repeated = {i: ls for i, ls in lines.items() if len(ls) > 1}
        if repeated:
            first, where = next(iter(repeated.items()))
            raise ParseError(f"{doc.source}: {len(repeated)} parts of the document repeat an earlier one "
                             f"(e.g. {first} at lines {', '.join(map(str, where[:5]))}); check the numbering "
                             "of its sections and clauses (it must not restart or run backwards)")


def stored_clause_counts(store_file: Path | None) -> dict[str, int]:
    """{doc id: clause count} of the committed store (``kb.layout.store_path``); {} when none."""
    if store_file is None or not store_file.exists():
        return {}
    from kb.store import Store

    store = Store(store_file, readonly=True)
    try:  # a damaged store raises sqlite3.DatabaseError: the caller turns it into IndexStale
        counts = {r["doc_id"]: r["n"] for r in store.db.query(
            "SELECT doc_id, count(*) AS n FROM clauses GROUP BY doc_id")}
        return {d["id"]: counts.get(d["id"], 0) for d in store.db.query("SELECT id FROM documents")}
    finally:
        store.close()


def stored_digests(store_file: Path | None, doc_ids: Iterable[str]) -> dict[str, str]:
    """{doc id: :func:`clause_digest` of its stored clauses} for those of ``doc_ids`` stored."""
    if store_file is None or not store_file.exists():
        return {}
    from kb.store import Store

    store = Store(store_file, readonly=True)
    try:
        out = {}
        for doc_id in dict.fromkeys(doc_ids):
            rows = store.db.execute("SELECT id, text FROM clauses WHERE doc_id = ? ORDER BY ord", [doc_id]).fetchall()
            if rows:
                out[doc_id] = clause_digest(rows)
        return out
    finally:
        store.close()


def _title(title: str) -> str:
    return re.sub(r"\s+", "", title)
