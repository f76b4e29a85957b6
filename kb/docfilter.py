"""Document filters shared by every command and route: ``--doc``, ``--type``, ``--level``,
``--issuer`` and ``--versions``, applied to the documents table (kb.store) before any
clause is looked at.

Superseded versions (kb.versions: 历史版本) are left out unless ``versions="all"`` or the
``doc`` filter names them by id. ``doc`` is a document id (``funvquanyibaozhangfa-2018-10-26``)
or a short title (妇女权益保障法: every version of it, then filtered by ``versions``).

>>> DocFilter(doc_type="法律").select(kb.store.documents())
DocSelection(ids={'fanjiatingbaolifa-2015-12-27', ...}, message=None, narrowed=True)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from kb.errors import QueryError
from kb.grammars.header import DOC_TYPES, LEVELS
from kb.versions import SUPERSEDED

VERSIONS = ("current", "all")
# filter name → documents column, and the option that sets it (for messages).
_COLUMNS = {"doc_type": ("doc_type", "type"), "level": ("level", "level"), "issuer": ("issuer", "issuer")}
_VOCABULARY = {"doc_type": DOC_TYPES, "level": LEVELS}


@dataclass
class DocSelection:
    """The ids of the documents that pass, why none do (``message``, None otherwise),
    whether anything was left out (``narrowed``; False means every document passes) and
    whether a filter value is unknown (``unknown``: the message lists the known values)."""

    ids: set[str]
    message: Optional[str] = None
    narrowed: bool = False
    unknown: bool = False


@dataclass
class DocFilter:
    """Exact document filters; ``versions`` is ``current`` (default) or ``all``.

    Raises QueryError (in the constructor) for another ``versions`` value."""

    doc: Optional[str] = None
    doc_type: Optional[str] = None
    level: Optional[str] = None
    issuer: Optional[str] = None
    versions: str = "current"

    def __post_init__(self) -> None:
        if self.versions not in VERSIONS:
            raise QueryError(f"unknown versions {self.versions!r}; use one of {', '.join(VERSIONS)}")

    def select(self, documents: list[dict[str, Any]]) -> DocSelection:
        """Apply the filters to ``documents`` (rows of ``Store.documents()``). A value no
        document has gives no ids and a message listing the values held; it is ``unknown``
        (a mistake: callers raise QueryError) unless it is a type or level of the vocabulary
        (``kb.grammars.header.DOC_TYPES``, ``LEVELS``: 规章, 省 in a knowledge base without
        them match nothing, as a portal's menu of every level expects)."""
        docs = list(documents)
        keep = docs
        if self.doc is not None:
            keep = [d for d in docs if d["id"] == self.doc]
            if not keep:
                keep = [d for d in docs if d.get("short_title") == self.doc]
                if self.versions == "current":
                    keep = [d for d in keep if d.get("version_status") != SUPERSEDED]
            if not keep:
                known = sorted({d["id"] for d in docs} | {d["short_title"] for d in docs if d.get("short_title")})
                return DocSelection(set(), f"no document {self.doc!r}; known: {', '.join(known)}", True, True)
        elif self.versions == "current":
            keep = [d for d in keep if d.get("version_status") != SUPERSEDED]
        for attr, (col, option) in _COLUMNS.items():
            value = getattr(self, attr)
            if value is None:
                continue
            known = sorted({d.get(col) for d in docs} - {None})
            if value not in known:  # a type or level of the vocabulary that no document has matches nothing
                return DocSelection(set(), f"no document has {option} {value!r}; known: {', '.join(known)}", True,
                                    value not in _VOCABULARY.get(attr, ()))
            keep = [d for d in keep if d.get(col) == value]
        ids = {d["id"] for d in keep}
        message = None if ids else "no document matches " + ", ".join(f"{k}={v!r}" for k, v in self.active().items())
        return DocSelection(ids, message, len(ids) < len(docs))

    def active(self) -> dict[str, Any]:
        """The filters set (``versions`` only when it is not the default)."""
        out = {k: v for k, v in vars(self).items() if v is not None and k != "versions"}
        if self.versions != "current":
            out["versions"] = self.versions
        return out

    def ids_or_raise(self, documents: list[dict[str, Any]]) -> Optional[set[str]]:
        """The passing ids, or None when every document passes; QueryError for an unknown value."""
        sel = self.select(documents)
        if sel.unknown:
            raise QueryError(sel.message)
        return sel.ids if sel.narrowed else None
