"""Versions of one document: the newest is current, older ones are superseded (历史版本).

Two stored documents are versions of one another when they have the same grammar and the
same full title (part included: 中华人民共和国民法典 婚姻家庭编) but different ids — e.g.
``funvquanyibaozhangfa-2018-10-26`` and ``funvquanyibaozhangfa-2022-10-30``, both titled
中华人民共和国妇女权益保障法. A version's date is the latest of its ``dates`` (signed,
published, effective, amended[]: the law grammar reads 修正/修订 dates into ``amended``);
the newest is current, every older one is superseded by it. The rule is the issue's
("versions of one law: the newest is current, older ones are marked superseded").

It is computed over the whole store after every ingest and remove (:func:`mark`, called by
``kb.build.write_generation``), since versions can arrive in different ingests, and stored
in the documents columns ``superseded_by`` (id of the current version, or NULL) and
``version_status`` (``current`` | ``superseded``).

>>> mark(store)                      # after replace_documents / remove_documents
{'funvquanyibaozhangfa-2018-10-26': 'funvquanyibaozhangfa-2022-10-30', ...}
"""
from __future__ import annotations

import unicodedata
from typing import Any, Iterable, Optional

CURRENT = "current"
SUPERSEDED = "superseded"
STATUS_TEXT = {CURRENT: "现行", SUPERSEDED: "历史版本"}


def version_key(doc: dict[str, Any]) -> Optional[tuple[str, str]]:
    """(grammar, NFKC title without spaces) — what versions of one document share; None for a
    document without a title (it is then its own only version)."""
    title = "".join(unicodedata.normalize("NFKC", doc.get("title") or "").split())
    return (doc.get("grammar") or "", title) if title else None


def version_date(doc: dict[str, Any]) -> str:
    """The latest ISO date among ``dates`` (signed, published, effective, amended[]); "" when none."""
    dates = doc.get("dates") or {}
    found = [dates.get(k) for k in ("signed", "published", "effective")] + list(dates.get("amended") or [])
    return max((str(d)[:10] for d in found if d), default="")


def superseded(docs: Iterable[dict[str, Any]]) -> dict[str, str]:
    """{superseded doc id: id of the current version} over ``docs`` (dicts with id, title,
    grammar, dates). The current version is the one with the latest :func:`version_date`
    (ties: the larger id, so the result does not depend on order)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for d in docs:
        key = version_key(d)
        if key is not None:
            groups.setdefault(key, []).append(d)
    out: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        newest = max(members, key=lambda d: (version_date(d), d["id"]))
        out.update({d["id"]: newest["id"] for d in members if d["id"] != newest["id"]})
    return out


def annotate(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``docs`` with ``superseded_by`` and ``version_status`` set (in place) as :func:`mark`
    stores them; for document facts not (yet) in a store, e.g. ``kb parse --json``."""
    older = superseded(docs)
    for d in docs:
        d["superseded_by"] = older.get(d["id"])
        d["version_status"] = SUPERSEDED if d["id"] in older else CURRENT
    return docs


def mark(store) -> dict[str, str]:
    """Recompute ``superseded_by`` / ``version_status`` of every document in ``store``
    (a writable ``kb.store.Store``) in one transaction; returns :func:`superseded`."""
    older = superseded(store.documents())
    store.set_versions(older)
    return older
