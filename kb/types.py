"""Types that the pipeline stages exchange: parse → tag → store → index → search.

All dataclasses are plain data; ``to_dict()`` gives the JSON shape that the CLI
(``--json``) and the HTTP API return. Those shapes are a contract: add fields,
never rename or drop one.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

# Node kinds, from the root down. The notice (通知) transmitting the plans hangs off the document. An "item" is a （一） entry outside part 二
# (e.g. 指导思想, 基本原则); a "domain" is a （一） entry of part 二 (发展领域).
NODE_KINDS = ("document", "notice", "preamble", "plan", "part", "domain", "item", "section", "clause", "subitem",
              "paragraph", "book", "subbook", "chapter", "law_section", "article")
# Law trees: book 编, subbook 分编, chapter 章, law_section 节, article 条, paragraph 款, item 项.

# Comparators as an official reads them (CLI tables, answers, CSV stays machine-readable).
COMPARATOR_TEXT = {">=": "≥", "<=": "≤", "=": "=", "~": "约", "range": "", "decrease_by": "下降",
                   "increase_by": "提高", "increase": "提高", "decrease": "下降"}

# Section titles of part 二 in the field's terms: 主要目标 = goals, 策略措施 = measures.
SECTION_CODES = {"主要目标": "g", "策略措施": "m"}


@dataclass
class Target:
    """One numeric (or direction-only) target found in a clause.

    ``comparator`` is one of ``>=``, ``<=``, ``=``, ``~``, ``range``, ``decrease_by``,
    ``increase_by`` or, for qualitative goals with no number, ``increase`` / ``decrease``.
    ``value_normalized`` gives rates as a fraction of 1 (98% → 0.98, 9/100000 → 9e-05).
    ``start``/``end`` are character offsets of ``evidence`` in the clause text.
    ``year`` is the year as written (None when the clause gives none); ``year_implied`` is
    then the end of the plan's period (2030 for a 2021—2030 plan), the year an undated goal
    is to be met by. ``short_path`` and ``doc_id`` (the clause's document) are filled when
    targets are listed on their own.
    """

    indicator: str
    comparator: str
    indicator_norm: str = ""
    value: Optional[float] = None
    value_min: Optional[float] = None
    value_max: Optional[float] = None
    unit: Optional[str] = None
    value_normalized: Optional[float] = None
    value_text: Optional[str] = None
    year: Optional[int] = None
    year_implied: Optional[int] = None
    baseline_year: Optional[int] = None
    per: Optional[str] = None
    qualifier: Optional[str] = None
    evidence: str = ""
    start: int = 0
    end: int = 0
    clause_id: Optional[str] = None
    short_path: Optional[str] = None
    doc_id: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), value_display=self.value_display())

    def comparator_display(self) -> str:
        """The comparator in the words of the plans: ≥ ≤ = 约 下降 提高 ("" for a range)."""
        return COMPARATOR_TEXT.get(self.comparator, self.comparator)

    def value_display(self) -> str:
        """The value with its unit as an official reads it: 98%, 3.5‰, 9/100000, 2—3所,
        1.12名; "" for a direction-only target."""
        if self.comparator == "range" and self.value_min is not None and self.value_max is not None:
            return f"{self.value_min:g}—{self.value_max:g}{self.unit or ''}"
        if self.value is None:
            return ""
        unit = self.unit or ""
        if unit.startswith("1/"):  # 9 per 100000 → 9/100000
            return f"{self.value:g}/{unit[2:]}"
        return f"{self.value:g}{unit}"

    def meets_year(self, year: int) -> bool:
        """True when the target is due in ``year``, as written or implied by the plan period."""
        return self.year == year or (self.year is None and self.year_implied == year)


@dataclass
class DepartmentTag:
    """A body responsible for a clause.

    ``name`` is the canonical name from ``kb/data/departments.yaml``. Explicit tags
    (``explicit=True``) carry the surface form in ``evidence`` with offsets
    ``start``/``end`` in the clause text; inferred tags carry the ``cue`` that
    triggered them. ``role`` is ``lead`` when the text says 牵头/负责/组织, else
    ``participant``.
    """

    name: str
    explicit: bool
    role: str = "participant"
    evidence: Optional[str] = None
    start: Optional[int] = None
    end: Optional[int] = None
    cue: Optional[str] = None
    clause_id: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Node:
    """A node of the document tree.

    ``id`` is stable and URL-safe, derived from document + path (see ``kb.ids``).
    ``path`` lists titles from the plan down to this node. ``line_start``/``line_end``
    are 1-based lines of the normalised source text.
    """

    id: str
    doc_id: str
    kind: str
    title: str
    parent_id: Optional[str] = None
    number: Optional[int] = None
    text: str = ""
    path: list[str] = field(default_factory=list)
    ord: int = 0
    line_start: Optional[int] = None
    line_end: Optional[int] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Clause:
    """The unit of retrieval: a numbered clause (or a paragraph item) with its context.

    ``plan`` is the plan's short name (妇女, 儿童); ``part`` the part title without its
    numeral (发展领域、主要目标和策略措施); ``domain`` the 发展领域 name, or None outside
    part 二; ``section`` 主要目标 / 策略措施 in part 二, the item title (基本原则…) in
    part 一, None in parts 三/四. ``heading`` is the leading short sentence when there is
    one. ``short_path`` is the Chinese path that ``kb show`` accepts
    (儿童/儿童安全/策略措施/3). For a law article the plan fields are None, ``number`` is
    the article number (第八十四条 → 84; 第二十条之一 → 20), ``label`` the article as written
    (第八十四条, 第二十条之一) and ``short_path`` the short title plus the label
    (反家庭暴力法/第二十三条). Explicit department tags the parser read from responsibility
    lines (牵头单位:…) arrive in ``departments`` before tagging.
    """

    id: str
    doc_id: str
    plan: Optional[str]
    part: Optional[str]
    domain: Optional[str]
    section: Optional[str]
    number: Optional[int]
    heading: Optional[str]
    text: str
    path: list[str] = field(default_factory=list)
    short_path: str = ""
    plan_title: Optional[str] = None
    line_start: Optional[int] = None
    line_end: Optional[int] = None
    ord: int = 0
    label: Optional[str] = None
    targets: list[Target] = field(default_factory=list)
    departments: list[DepartmentTag] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["targets"] = [t.to_dict() for t in self.targets]
        d["departments"] = [t.to_dict() for t in self.departments]
        return d


@dataclass
class Document:
    """A parsed document: metadata, the tree as a flat list of nodes, and the clauses.

    ``meta`` holds the page-header fields under their Chinese keys (索引号, 主题分类,
    发文单位, 发文字号, 效力状态, 发布日期 as ISO ``YYYY-MM-DDTHH:MM``…), the notice
    ``title``, ``成文日期`` (ISO date) and ``主送`` (addressees).

    ``grammar`` (plan | law | notice) is how the text was read and ``grammar_reason`` the
    evidence; ``doc_type`` the type as published (规划, 纲要, 法律, 行政法规, 地方性法规, 规章,
    司法解释, 通知…); ``issuer``, ``level`` (国家/省/市/县区), ``doc_number`` (发文字号),
    ``dates`` {signed, published, effective, amended: [...]} (ISO) and ``validity`` are None
    where the text does not state them.
    """

    id: str
    source: str
    title: str
    meta: dict[str, Any]
    nodes: list[Node]
    clauses: list[Clause]
    sha256: str = ""
    warnings: list[str] = field(default_factory=list)
    grammar: str = "plan"
    grammar_reason: str = ""
    doc_type: Optional[str] = None
    issuer: Optional[str] = None
    level: Optional[str] = None
    doc_number: Optional[str] = None
    dates: dict[str, Any] = field(default_factory=lambda: {"signed": None, "published": None, "effective": None,
                                                           "amended": []})
    validity: Optional[str] = None
    short_title: Optional[str] = None

    def facts(self) -> dict[str, Any]:
        """The document fields of ``kb parse --json`` and ``kb docs --json`` (no clauses)."""
        return {"id": self.id, "title": self.title or None, "short_title": self.short_title, "grammar": self.grammar,
                "grammar_reason": self.grammar_reason, "doc_type": self.doc_type, "issuer": self.issuer,
                "level": self.level, "doc_number": self.doc_number, "dates": self.dates, "validity": self.validity,
                "source": self.source, "meta": self.meta, "warnings": self.warnings}

    def to_dict(self) -> dict[str, Any]:
        """The ``kb parse --json`` shape: :meth:`facts` plus the clauses (as ``kb clauses --json``)."""
        return dict(self.facts(), clauses=[c.to_dict() for c in self.clauses])

    @property
    def plans(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "plan"]
