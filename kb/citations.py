"""Citations between documents: every 《…》 reference in clause texts, resolved to the
document (and article) it names in the knowledge base.

Forms read (issue 9, section 3), in plans and laws alike::

    《中华人民共和国妇女权益保障法》            full title           → the document
    《妇女权益保障法》 《民法典》                short title          → the document
    《反家庭暴力法》第二十三条 / 第23条          with an article      → that article
    …第二十三条第二款 / 第二十条之一            款/项 kept in text, 之一 kept in the label
    …第三十条至第三十二条 / 第五条、第六条和第九条   a range or list  → one citation per article
    本法第十四条 / 本条例第八条 (inside a law)   the same document's article

Resolution (``resolve``): titles are normalised (NFKC, 中华人民共和国, spaces and
brackets dropped) and compared with each document's ``title``, ``short_title`` and,
for plan documents, the titles of their plans (``meta.plans[].title``). Documents with the
same normalised ``title`` are versions of one work; a code's parts (民法典 总则, 民法典
婚姻家庭编) are separate works that share a short title, and the article number decides
which part a citation means. A citation resolves to the work's CURRENT version (the one
whose ``superseded_by`` is empty where the store has that column, else the newest by its
dates) and records in ``in_force_doc_id`` the version in force at the citing document's
date when that is another version (else null). A reference that matches no document stays
with its text and null ids.

Effective date of a version (``effective_date``): ``dates.effective`` when the parser found
one (but never before the version's last adoption/amendment); else the date of the text's own 施行 article (妇女权益保障法 2022 第八十六条 "本法自2023年1月1日
起施行") when it is not before the version's last adoption/amendment; else that adoption or
amendment date (an amendment such as 未成年人保护法 2024 keeps the old 施行 article but takes
effect when adopted). The date of a citing document is its last amendment, else
``dates.signed`` (成文日期: the seed's 2022-12-29), else ``dates.published``.

>>> cits = find_citations(clauses, documents)        # documents: Store.documents() rows
>>> [c.to_dict() for c in cits if c.citing_clause_id == "czf-2022-8.funv.p2.d8.m1"][1]["doc_id"]
'funvquanyibaozhangfa-2022-10-30'
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Optional

from kb.grammars.lines import CN_NUM, iso_date, num
from kb.types import Clause

_NUMBER = rf"(?:{CN_NUM}|\d+)"
# One article reference: 第二十三条, 第20条之一, 第二十三条第二款第(三)项.
_ARTICLE = rf"第(?P<n>{_NUMBER})条(?:之(?P<sub>{CN_NUM}))?(?:第{_NUMBER}款)?(?:第(?:{_NUMBER}|\({CN_NUM}\)|（{CN_NUM}）)项)?"
# A run of article references after a title: lists (、 和 及 或者) and ranges (至 到).
_SEP = r"\s*(?:、|和|及|以及|或者|或|至|到)\s*"
_ARTICLES = rf"{_ARTICLE.replace('?P<n>', '').replace('?P<sub>', '')}(?:{_SEP}第{_NUMBER}条(?:之{CN_NUM})?(?:第{_NUMBER}款)?(?:第(?:{_NUMBER}|\({CN_NUM}\)|（{CN_NUM}）)项)?)*"
TITLE_RE = re.compile(rf"《(?P<title>[^《》\n]{{1,100}})》(?P<articles>{_ARTICLES})?")
# 本法第十四条 inside a law: the document's own article.
SELF_RE = re.compile(rf"本(?:法|条例|规定|办法|细则|解释|决定|编)(?P<articles>{_ARTICLES})")
_ONE = re.compile(rf"(?P<sep>{_SEP})?第(?P<n>{_NUMBER})条(?:之(?P<sub>{CN_NUM}))?")
_EFFECTIVE = re.compile(r"^本(?:法|条例|规定|办法|细则|解释|决定)[^。]{0,40}?自(.{6,16}?日)起(?:施行|实施)")
_PREFIX = "中华人民共和国"
_DROP = re.compile(r"[\s()（）〈〉《》<>\[\]【】〔〕「」“”\"'·]")
MAX_RANGE = 50  # 第N条至第M条 with more articles than this is read as its two ends only


def norm_title(title: str) -> str:
    """The key titles are compared by: NFKC; 中华人民共和国 (as prefix, or inside a title such as
    最高人民法院关于适用《中华人民共和国民事诉讼法》的解释), spaces and brackets (incl. 《》〈〉) dropped.

    >>> norm_title("《中华人民共和国妇女权益保障法》".strip("《》")), norm_title("民法典 婚姻家庭编")
    ('妇女权益保障法', '民法典婚姻家庭编')
    """
    t = unicodedata.normalize("NFKC", title or "").strip()
    return _DROP.sub("", t.replace(_PREFIX, ""))


@dataclass
class Reference:
    """One reference as written in a clause: ``title`` inside 《》 (None for 本法…),
    ``label`` the article (第二十三条, 第二十条之一; None for the document), ``number`` its
    number and ``sub`` the 之N part (0 when none); ``start``/``end`` offsets of ``text``
    (the whole reference as written) in the clause text."""

    text: str
    title: Optional[str]
    label: Optional[str]
    number: Optional[int]
    sub: int
    start: int
    end: int


@dataclass
class Citation:
    """A resolved (or unresolved) reference of a citing clause.

    ``doc_id``/``clause_id`` are the CITED document (current version) and article, null
    when unresolved; ``in_force_doc_id``/``in_force_clause_id`` the version (and its article)
    in force at the citing document's date when that differs from ``doc_id``, else null.
    ``short_path`` is the cited article's path (反家庭暴力法/第二十三条) or the cited
    document's short title. ``to_dict()`` is the ``cites`` item of ``kb show --json``."""

    citing_clause_id: str
    citing_doc_id: str
    ord: int
    text: str
    title: Optional[str]
    label: Optional[str]
    start: int
    end: int
    doc_id: Optional[str] = None
    clause_id: Optional[str] = None
    in_force_doc_id: Optional[str] = None
    in_force_clause_id: Optional[str] = None
    short_path: Optional[str] = None
    citing_short_path: Optional[str] = None

    @property
    def resolved(self) -> bool:
        return self.doc_id is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_references(text: str) -> list[Reference]:
    """Every reference in ``text`` in order: one per article named (a range 第N条至第M条
    gives each of N..M), one per 《title》 without an article; 本法第N条 with title None.

    >>> [(r.title, r.label) for r in find_references("依照《反家庭暴力法》第二十条至第二十二条")]
    [('反家庭暴力法', '第二十条'), ('反家庭暴力法', '第二十一条'), ('反家庭暴力法', '第二十二条')]
    """
    refs = []
    spans = [(m, m["title"]) for m in TITLE_RE.finditer(text)] + [(m, None) for m in SELF_RE.finditer(text)]
    for m, title in sorted(spans, key=lambda x: x[0].start()):
        arts = _articles(m["articles"]) if m["articles"] else []
        if not arts:
            refs.append(Reference(m[0], title, None, None, 0, m.start(), m.end()))
        refs.extend(Reference(m[0], title, label, n, sub, m.start(), m.end()) for label, n, sub in arts)
    return refs


def _articles(run: str) -> list[tuple[str, int, int]]:
    """(label, number, sub) of each article of a run such as 第五条、第六条至第八条之一."""
    out: list[tuple[str, int, int]] = []
    for m in _ONE.finditer(run):
        n, sub = num(m["n"]), num(m["sub"]) if m["sub"] else 0
        if n <= 0:
            continue
        if m["sep"] and m["sep"].strip() in ("至", "到") and out and out[-1][1] < n <= out[-1][1] + MAX_RANGE:
            out.extend((_label(k, 0), k, 0) for k in range(out[-1][1] + 1, n))
        out.append((_label(n, sub), n, sub))
    return out


def _label(n: int, sub: int = 0) -> str:
    """第二十三条 / 第二十条之一, the form law articles are labelled with."""
    import cn2an

    s = f"第{cn2an.an2cn(n)}条"
    return s + (f"之{cn2an.an2cn(sub)}" if sub else "")


def _article_key(label: Optional[str], number: Optional[int]) -> Optional[tuple[int, int]]:
    """(number, 之N) of an article label such as 第二十条之一 → (20, 1); None for non-articles."""
    m = re.fullmatch(rf"第({_NUMBER})条(?:之({CN_NUM}))?", label or "")
    if not m:
        return None
    return (num(m[1]) if number is None else number, num(m[2]) if m[2] else 0)


# ---------------------------------------------------------------------- the catalogue
def _dates(doc: dict[str, Any]) -> dict[str, Any]:
    return doc.get("dates") or {}


def version_date(doc: dict[str, Any]) -> str:
    """The date a version's text was fixed: its last amendment, else signed, else published
    ('' when none is known); ISO YYYY-MM-DD."""
    d = _dates(doc)
    found = [x[:10] for x in (d.get("amended") or []) if x] or [x[:10] for x in (d.get("signed"), d.get("published")) if x]
    return max(found) if found else ""


def effective_date(doc: dict[str, Any], clauses: Iterable[Clause] = ()) -> str:
    """When a version took effect ('' when unknown); see the module docstring for the rule."""
    d = _dates(doc)
    fixed = version_date(doc)
    if d.get("effective"):  # never before the version existed (an amendment keeping an old 施行 date)
        return max(d["effective"][:10], fixed)
    stated = ""
    for c in clauses:
        m = _EFFECTIVE.search(c.text or "")
        if m:
            stated = iso_date(m[1]) or stated
    return stated if stated and stated >= fixed else fixed


def citing_date(doc: dict[str, Any]) -> str:
    """The date of a citing document: last amendment, else signed (成文日期), else published."""
    d = _dates(doc)
    amended = [x for x in (d.get("amended") or []) if x]
    return (max(amended) if amended else (d.get("signed") or d.get("published") or ""))[:10]


@dataclass
class _Version:
    doc: dict[str, Any]
    effective: str
    fixed: str
    articles: dict[tuple[int, int], Clause]


class Catalogue:
    """The documents of a store as citable works: title keys → works → versions, and each
    version's articles by (number, 之N). Built once per resolution pass."""

    def __init__(self, documents: list[dict[str, Any]], clauses: list[Clause]):
        by_doc: dict[str, list[Clause]] = {}
        for c in clauses:
            by_doc.setdefault(c.doc_id, []).append(c)
        self.docs = {d["id"]: d for d in documents}
        self.versions: dict[str, _Version] = {}
        self.works: dict[str, list[str]] = {}   # norm(title) → doc ids (versions)
        self.keys: dict[str, set[str]] = {}     # any title key → works
        has_superseded = any("superseded_by" in d for d in documents)
        for d in documents:
            cs = by_doc.get(d["id"], [])
            arts = {k: c for c in cs if (k := _article_key(c.label, c.number)) is not None}
            self.versions[d["id"]] = _Version(d, effective_date(d, cs), version_date(d), arts)
            work = norm_title(d.get("title") or "") or d["id"]
            self.works.setdefault(work, []).append(d["id"])
            plan_titles = [p.get("title") for p in (d.get("meta") or {}).get("plans") or [] if p.get("title")]
            for key in {norm_title(t) for t in (d.get("title"), d.get("short_title"), *plan_titles) if t}:
                self.keys.setdefault(key, set()).add(work)
        self.current = {w: self._current(ids, has_superseded) for w, ids in self.works.items()}

    def _current(self, ids: list[str], has_superseded: bool) -> str:
        if has_superseded:
            live = [i for i in ids if not self.docs[i].get("superseded_by")]
            if len(live) == 1:
                return live[0]
        return max(ids, key=lambda i: (self.versions[i].fixed, i))

    def in_force(self, work: str, date: str) -> Optional[str]:
        """The version of ``work`` in force on ``date`` (ISO): the latest effective on or before
        it; None when no version was in force yet or the date is unknown."""
        if not date:
            return None
        live = [i for i in self.works[work] if self.versions[i].effective and self.versions[i].effective <= date]
        return max(live, key=lambda i: (self.versions[i].effective, i)) if live else None

    def work_of(self, doc_id: str) -> str:
        return next(w for w, ids in self.works.items() if doc_id in ids)

    def resolve(self, ref: Reference, citing: Clause) -> Citation:
        """The Citation of ``ref`` made by ``citing`` (see the module docstring)."""
        cit = Citation(citing.id, citing.doc_id, 0, ref.text, ref.title, ref.label, ref.start, ref.end,
                       citing_short_path=citing.short_path)
        key = (ref.number, ref.sub) if ref.number is not None else None
        if ref.title is None:  # 本法第N条: this very text, or another part of the same code
            return self._fill(cit, self._code_part(citing.doc_id, key), key, None)
        works = sorted(self.keys.get(norm_title(ref.title), ()))
        if not works:
            return cit
        if len(works) > 1 and key is not None:
            works = [w for w in works if key in self.versions[self.current[w]].articles] or works
        work = works[0]
        date = citing_date(self.docs.get(citing.doc_id, {}))
        in_force = self.in_force(work, date)
        return self._fill(cit, self.current[work], key, in_force)

    def _code_part(self, doc_id: str, key) -> str:
        """For 本法第N条 in a part of a code (民法典 婚姻家庭编 citing 第一千零四十二条… of another
        part): the ingested part holding article ``key``; else ``doc_id`` itself."""
        doc = self.docs.get(doc_id, {})
        whole, short = norm_title(doc.get("title") or ""), norm_title(doc.get("short_title") or "")
        if key is None or key in self.versions[doc_id].articles or not short or whole == short \
                or not whole.startswith(short):
            return doc_id
        parts = [self.current[w] for w in sorted(self.keys.get(short, ()))]
        return next((p for p in parts if key in self.versions[p].articles), doc_id)

    def _fill(self, cit: Citation, doc_id: str, key, in_force: Optional[str]) -> Citation:
        v = self.versions[doc_id]
        cit.doc_id = doc_id
        cit.short_path = v.doc.get("short_title") or v.doc.get("title")
        if key is not None and key in v.articles:
            cit.clause_id = v.articles[key].id
            cit.short_path = v.articles[key].short_path
        if in_force and in_force != doc_id:
            cit.in_force_doc_id = in_force
            old = self.versions[in_force].articles.get(key) if key is not None else None
            cit.in_force_clause_id = old.id if old else None
        return cit


def find_citations(clauses: list[Clause], documents: list[dict[str, Any]]) -> list[Citation]:
    """Every citation made by ``clauses``, resolved against ``documents`` (rows as
    ``Store.documents()`` gives them, with ``dates`` decoded) and their clauses; in clause
    order, ``ord`` numbering each clause's citations from 0."""
    cat = Catalogue(documents, clauses)
    out: list[Citation] = []
    for c in clauses:
        if "《" not in c.text and "本" not in c.text:
            continue
        for i, ref in enumerate(find_references(c.text)):
            cit = cat.resolve(ref, c)
            cit.ord = i
            out.append(cit)
    return out


def refresh(store) -> int:
    """Recompute every citation of ``store`` (a writable kb.store.Store) from its clauses and
    documents and replace the ``citations`` table; returns how many were stored. Run after
    every change of the stored documents (resolution depends on all of them)."""
    cits = find_citations(store.clauses(with_tags=False), store.documents())
    store.replace_citations(cits)
    return len(cits)
