"""Pydantic response models: the JSON shapes of ``kb/types.py``'s ``to_dict()`` (the same
as ``kb … --json``), described field by field so that ``/openapi.json`` documents them.

The library's shapes are a contract (fields are added, never renamed or dropped);
``tests/test_api.py`` checks that every field the library returns is declared here.
"""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, Field


class Target(BaseModel):
    """A numeric (or direction-only) target found in a clause, e.g. 2030年 孕产妇死亡率 ≤ 9/10万."""

    indicator: str = Field(description="Indicator as written, e.g. 孕产妇死亡率")
    comparator: str = Field(description=">=, <=, =, ~, range, decrease_by, increase_by, increase, decrease")
    indicator_norm: str = Field("", description="Normalised indicator name")
    value: Optional[float] = Field(None, description="The number as written (98 for 98%)")
    value_min: Optional[float] = Field(None, description="Lower bound of a range")
    value_max: Optional[float] = Field(None, description="Upper bound of a range")
    unit: Optional[str] = Field(None, description="Unit as written: %, ‰, 1/100000, 岁, 人…")
    value_normalized: Optional[float] = Field(None, description="Rates as a fraction of 1 (98% → 0.98)")
    value_text: Optional[str] = Field(None, description="The value's surface text")
    year: Optional[int] = Field(None, description="Target year as written, e.g. 2030; null when the clause gives none")
    year_implied: Optional[int] = Field(None, description="When year is null: the end of the plan's period "
                                                          "(2030 for a 2021—2030 plan), the year the goal is due")
    baseline_year: Optional[int] = Field(None, description="Year the change is measured from")
    per: Optional[str] = Field(None, description="Population the rate is per (每千人口…)")
    qualifier: Optional[str] = Field(None, description="Qualifier such as 以上 / 以下 / 左右")
    evidence: str = Field("", description="The text span the target was read from")
    start: int = Field(0, description="Character offset of evidence in the clause text")
    end: int = Field(0, description="End offset (exclusive) of evidence in the clause text")
    clause_id: Optional[str] = Field(None, description="Id of the clause holding the target")
    short_path: Optional[str] = Field(None, description="Path of that clause (when targets are listed on their own)")
    doc_id: Optional[str] = Field(None, description="Document of that clause (when targets are listed on their own)")
    value_display: str = Field("", description="Value with unit as an official reads it: 98%, 9/100000, 2—3所")


class DepartmentTag(BaseModel):
    """A body responsible for a clause: explicit (named in the text) or inferred from a cue."""

    name: str = Field(description="Canonical department name, e.g. 区教育局")
    explicit: bool = Field(description="True when the text names the department")
    role: str = Field("participant", description="lead (牵头/负责/组织) or participant")
    evidence: Optional[str] = Field(None, description="Surface form in the text (explicit tags)")
    start: Optional[int] = Field(None, description="Offset of evidence in the clause text")
    end: Optional[int] = Field(None, description="End offset (exclusive) of evidence")
    cue: Optional[str] = Field(None, description="Word that triggered an inferred tag")
    clause_id: Optional[str] = Field(None, description="Id of the tagged clause")


class Node(BaseModel):
    """A node of the document tree (document, plan, part, domain, item, section, clause…)."""

    id: str = Field(description="Stable URL-safe id, e.g. czf-2022-8.ertong.p2.d2.m3")
    doc_id: str = Field(description="Id of the document")
    kind: str = Field(description="document, plan, part, domain, item, section, clause, subitem or paragraph")
    title: str = Field(description="Title (for clauses: the number)")
    parent_id: Optional[str] = Field(None, description="Id of the parent node")
    number: Optional[int] = Field(None, description="Number within the parent (（三） → 3)")
    text: str = Field("", description="Own text of the node")
    path: list[str] = Field(default_factory=list, description="Titles from the plan down to this node")
    ord: int = Field(0, description="Position in document order")
    line_start: Optional[int] = Field(None, description="First line (1-based) in the normalised source")
    line_end: Optional[int] = Field(None, description="Last line (1-based) in the normalised source")


class Clause(BaseModel):
    """The unit of retrieval: a numbered clause with its context and tags."""

    id: str = Field(description="Stable id, e.g. czf-2022-8.ertong.p2.d2.m3")
    doc_id: str = Field(description="Id of the document")
    plan: Optional[str] = Field(description="Plan short name: 妇女 or 儿童")
    part: Optional[str] = Field(description="Part title without its numeral")
    domain: Optional[str] = Field(description="发展领域, e.g. 儿童安全 (None outside part 二)")
    section: Optional[str] = Field(description="主要目标 / 策略措施, or the item title in part 一")
    number: Optional[int] = Field(description="Clause number within its section")
    heading: Optional[str] = Field(description="Leading short sentence, e.g. 预防和控制儿童溺水")
    text: str = Field(description="Full clause text")
    path: list[str] = Field(default_factory=list, description="Titles from the plan down to the clause")
    short_path: str = Field("", description="Chinese path accepted by /api/clauses, e.g. 儿童/儿童安全/策略措施/3")
    plan_title: Optional[str] = Field(None, description="Full plan title")
    line_start: Optional[int] = Field(None, description="First line (1-based) in the normalised source")
    line_end: Optional[int] = Field(None, description="Last line (1-based)")
    ord: int = Field(0, description="Position in document order")
    label: Optional[str] = Field(None, description="The clause as cited: 第二十三条, 第二十条之一 (laws); the "
                                                   "paragraph or number in a notice; None in plans")
    targets: list[Target] = Field(default_factory=list, description="Numeric targets in the clause")
    departments: list[DepartmentTag] = Field(default_factory=list, description="Responsible departments")


class Hit(BaseModel):
    """One search result (as ``kb search --json``)."""

    id: str = Field(description="Clause id; GET /api/clauses/{id} shows it")
    score: float = Field(description="Fused relevance score (higher is better)")
    path: list[str] = Field(description="Breadcrumb titles from the plan down to the clause")
    short_path: str = Field(description="Chinese path, e.g. 儿童/儿童安全/策略措施/3")
    plan: Optional[str] = Field(description="Plan short name: 妇女 or 儿童")
    domain: Optional[str] = Field(description="发展领域")
    section: Optional[str] = Field(description="主要目标 / 策略措施 / item title")
    number: Optional[int] = Field(description="Clause number")
    heading: Optional[str] = Field(description="Leading short sentence of the clause")
    text: str = Field(description="Clause text")
    departments: list[DepartmentTag] = Field(description="Responsible departments")
    targets: list[Target] = Field(description="Numeric targets")
    matched_terms: list[str] = Field(description="Query terms found in the clause (for highlighting)")
    doc_id: str = Field(description="Id of the document")
    ranks: dict[str, Optional[int]] = Field(
        default_factory=dict, description="1-based rank in each retriever (bm25, dense); null when absent")
    raw_scores: dict[str, Optional[float]] = Field(
        default_factory=dict, description="Raw score of each retriever; null when absent")
    doc_title: Optional[str] = Field(None, description="Title of the document (中华人民共和国反家庭暴力法)")
    doc_short_title: Optional[str] = Field(None, description="Short title of the document (反家庭暴力法)")
    doc_type: Optional[str] = Field(None, description="Type of the document: 规划, 法律, 行政法规, 通知…")
    label: Optional[str] = Field(None, description="The article as cited (第二十三条); null in plans")
    chapter: Optional[str] = Field(None, description="The law chapter of an article (第四章 人身安全保护令); "
                                                     "null in plans and for articles outside chapters")
    place: str = Field("", description="Where the clause sits: the plan path (儿童/儿童安全/策略措施/3) or "
                                       "law, chapter and article (反家庭暴力法 第四章 第二十三条)")


class AskHit(Hit):
    """A clause cited by an answer."""

    low_confidence: bool = Field(description="True when the clause is only a suggestion")


class Answer(BaseModel):
    """A direct answer to a question (as ``kb ask --json``)."""

    answer: Optional[str] = Field(description="The answer sentence, or null when none was found")
    kind: Literal["target_value", "structure", "department", "clauses", "not_found", "actual_value",
                  "monitor_status", "article", "document"] = Field(
        description="How the answer was found; not_found: 未找到相关条款, the hits are low-confidence suggestions")
    hits: list[AskHit] = Field(description="Supporting clauses, best first")
    targets: list[Target] = Field(description="Targets the answer is drawn from")
    confident: bool = Field(description="False when nothing was found (kind not_found)")
    confidence: Optional[float] = Field(None, description="Score in 0–1 behind `confident` (null for structural answers)")
    monitor: list["MonitorRow"] = Field(default_factory=list, description="Monitoring rows an actual_value or "
                                        "monitor_status answer states (target, actuals, status)")


class Crumb(BaseModel):
    """One step of a breadcrumb."""

    id: str
    kind: str
    title: str


class ChildRef(BaseModel):
    """A child of a node."""

    id: str
    kind: str
    title: str
    number: Optional[int] = None


class ClauseRef(BaseModel):
    """The previous or next clause in document order."""

    id: str
    short_path: str
    heading: Optional[str] = None


class Citation(BaseModel):
    """A 《…》 reference (or 本法第N条) in a clause, resolved to the document and article it
    names (kb.citations); ids are null when the knowledge base does not hold what it names."""

    text: str = Field(description="The reference as written, e.g. 《中华人民共和国反家庭暴力法》第二十三条")
    doc_id: Optional[str] = Field(description="Cited document, its current version; null when unresolved")
    clause_id: Optional[str] = Field(description="Cited article (of the current version); null when no "
                                                 "article is named or it is not found")
    in_force_doc_id: Optional[str] = Field(description="The version in force at the citing document's date "
                                                       "when it is not the current one, else null")
    in_force_clause_id: Optional[str] = Field(None, description="The same article in that version")
    title: Optional[str] = Field(None, description="Title inside 《》 as written; null for 本法第N条")
    label: Optional[str] = Field(None, description="The article named, e.g. 第二十三条; null for a whole document")
    short_path: Optional[str] = Field(None, description="Path of the cited article, or the cited document's short title")
    citing_clause_id: str = Field(description="The clause the reference is written in")
    citing_doc_id: str = Field(description="Its document")
    citing_short_path: Optional[str] = Field(None, description="Path of the citing clause")
    ord: int = Field(0, description="Position among the citing clause's citations")
    start: int = Field(0, description="Offset of the reference in the citing clause's text")
    end: int = Field(0, description="End offset of the reference")


class CitesResult(BaseModel):
    """What a document or clause cites and what cites it (as ``kb cites --json``)."""

    id: str
    kind: str
    title: str
    cites: list[Citation] = Field(description="Citations its clauses make, resolved or not")
    cited_by: list[Citation] = Field(description="Citations naming it (a document: or any of its articles)")


class ShowResult(BaseModel):
    """A node with its context: breadcrumb (root → node), the clause (null for
    non-clause nodes), children and the neighbouring clauses; the citations its clauses
    make (``cites``) and the ids of the clauses citing it (``cited_by``)."""

    id: str
    kind: str
    title: str
    node: Node
    breadcrumb: list[Crumb]
    clause: Optional[Clause] = None
    children: list[ChildRef]
    previous: Optional[ClauseRef] = None
    next: Optional[ClauseRef] = None
    cites: list[Citation] = Field(default_factory=list, description="What the clause cites, resolved or not")
    cited_by: list[str] = Field(default_factory=list, description="Ids of the clauses that cite it")


class Document(BaseModel):
    """An ingested document."""

    id: str = Field(description="Document id, from 发文字号 (曾政发〔2022〕8号 → czf-2022-8)")
    source: str = Field(description="Path the document was ingested from")
    title: str = Field(description="Notice title")
    meta: dict[str, Any] = Field(description="Page-header fields under their Chinese keys "
                                             "(索引号, 发文单位, 发文字号, 发布日期, 成文日期, 主送, plans…)")
    sha256: Optional[str] = Field(None, description="sha256 of the source file")
    warnings: list[str] = Field(default_factory=list, description="Parser warnings")
    ingested_at: Optional[str] = Field(None, description="ISO time of the ingest (UTC)")
    clauses: int = Field(description="Number of clauses")
    grammar: Optional[str] = Field(None, description="How the text was read: plan | law | notice")
    grammar_reason: Optional[str] = Field(None, description="The evidence for the grammar")
    doc_type: Optional[str] = Field(None, description="Type as published: 规划, 纲要, 法律, 行政法规, 地方性法规, 规章, "
                                                      "司法解释, 通知…")
    issuer: Optional[str] = Field(None, description="Issuing or enacting body, as written")
    level: Optional[str] = Field(None, description="国家 / 省 / 市 / 县区, from the issuer")
    doc_number: Optional[str] = Field(None, description="发文字号, e.g. 曾政发〔2022〕8号")
    dates: Optional[dict[str, Any]] = Field(None, description="{signed, published, effective, amended: [...]}, ISO dates")
    validity: Optional[str] = Field(None, description="效力状态 as stated (有效…), None when not stated")
    short_title: Optional[str] = Field(None, description="Short title used in paths (反家庭暴力法, 妇女)")
    version_status: Optional[str] = Field(None, description="current, or superseded (历史版本): an older version of "
                                                            "a document with the same title (kb.versions)")
    superseded_by: Optional[str] = Field(None, description="Id of the current version when superseded, else null")


class DepartmentSummary(BaseModel):
    """A department with the number of clauses that name it and that imply it."""

    name: str = Field(description="Canonical name, e.g. 区教育局")
    type: Optional[str] = Field(None, description="Kind of body from the lexicon")
    explicit: int = Field(description="Clauses that name the department")
    inferred: int = Field(description="Clauses tagged by inference from a cue")


class DepartmentClause(Clause):
    """A clause of a department, flagged explicit or inferred."""

    explicit: bool = Field(description="True when the clause names the department")
    role: Optional[str] = Field(None, description="lead (牵头/负责/组织) or participant")
    evidence: Optional[str] = Field(None, description="Surface form of the department in the text")
    cue: Optional[str] = Field(None, description="Word that triggered an inferred tag")
    place: str = Field("", description="Plan path, or law, chapter and article (反家庭暴力法 第四章 第二十三条)")
    unit: Literal["clause", "article"] = Field("clause", description="article: a law article (the law names the "
                                               "body by its function, 县级以上人民政府民政部门); clause: a plan clause")


class DepartmentDetail(BaseModel):
    """A department and its clauses."""

    name: str
    clauses: list[DepartmentClause]


class PlanSummary(BaseModel):
    """Counts for one plan of an ingested document."""

    doc_id: str
    plan: str
    title: str
    domains: int
    goals: int
    measures: int
    clauses: int
    targets: int = 0
    departments: int = 0


class IngestReport(BaseModel):
    """What an upload ingested."""

    documents: list[str] = Field(description="Ids of the ingested documents")
    plans: list[PlanSummary]
    warnings: list[str]
    seconds: float = Field(description="Wall time of the ingest, seconds")
    generation: str = Field(description="Index generation now being served")
    total_clauses: int = Field(description="Clauses in the whole index")
    added: list[str] = Field(default_factory=list, description="Ids of documents that were not stored before")
    replaced: list[str] = Field(default_factory=list, description="Ids of stored documents this upload replaced")
    unchanged: list[str] = Field(default_factory=list, description="Of replaced, those whose clauses were already "
                                                                  "stored as they are (the same file again)")
    removed: list[str] = Field(default_factory=list, description="Ids of documents removed")
    summary: list[dict[str, Any]] = Field(default_factory=list, description=(
        "One row per plan of a plan document, else per document: {doc_id, grammar, doc_type, unit, title, "
        "clauses, targets, departments, and the grammar's counts (plan: domains, goals, measures; law: "
        "chapters, articles; notice: parts, numbered)}"))


class Health(BaseModel):
    """Liveness and what is being served."""

    status: Literal["ok"]
    generation: str = Field(description="Index generation being served")
    documents: int
    clauses: int
    kb_version: Optional[str] = None
    model: Optional[str] = Field(None, description="Embedding model of the index")
    committed_generation: Optional[str] = Field(
        None, description="Newest generation committed on disk; differs from generation while the server "
                          "opens and warms it in the background (requests go on being answered meanwhile)")


class ProblemItem(BaseModel):
    """One invalid parameter of a request (FastAPI's validation error item)."""

    loc: list[str | int] = Field(description="Where: query/path/body, then the parameter name")
    msg: str = Field(description="What is wrong with it")
    type: str = Field(description="Kind of error, e.g. string_too_long")


class Problem(BaseModel):
    """An error: ``detail`` says what went wrong and what to do next. For a request whose
    parameters break the documented schema (422), ``detail`` is FastAPI's list of the
    invalid parameters instead; a parameter the schema allows but the index does not know
    (422, e.g. an unknown plan) gets a message."""

    detail: str | list[ProblemItem]


# ---------------------------------------------------------------------- monitoring (issue 11)
class Actual(BaseModel):
    """One stored actual value (as ``kb actuals list --json``), with its provenance."""

    indicator: str = Field(description="The plans' indicator it counts for, e.g. 孕产妇死亡率")
    year: int = Field(description="Year the value is for")
    value: float = Field(description="The value as imported")
    unit: Optional[str] = Field(None, description="%, ‰, 1/10000, 1/100000, or a count unit such as 个")
    value_normalized: Optional[float] = Field(None, description="Rates as a fraction of 1 (9.8/10万 → 9.8e-05)")
    region: str = Field(description="Area (地区) of the plans it applies to, e.g. 曾都区")
    source: str = Field("", description="Data source (来源) as given; empty when the file had none")
    name: str = Field("", description="The indicator as the file wrote it")
    file: str = Field("", description="File it was imported from")
    row: int = Field(0, description="Row of that file (header = row 1)")
    imported_at: str = Field("", description="Import time, ISO 8601 UTC")
    match: str = Field("exact", description="How the name was matched: exact, synonym or close")


class MonitorTarget(BaseModel):
    """The target a monitoring row checks."""

    comparator: str = Field(description=">=, <=, =, ~, range, decrease_by, increase_by, increase, decrease")
    value: Optional[float] = Field(None, description="Target value as written; null for a direction-only goal")
    unit: Optional[str] = Field(None, description="Unit as written")
    year: Optional[int] = Field(None, description="Year the target is due (as written, else the plan's end)")
    value_min: Optional[float] = None
    value_max: Optional[float] = None
    baseline_year: Optional[int] = Field(None, description="Year a relative target is measured from")
    display: str = Field("", description="The target as an official reads it, e.g. 2030年 ≤ 9/100000")


class MonitorBaseline(BaseModel):
    """The actual of the baseline year (2020 for a 2021—2030 plan, or the year the target names)."""

    value: float
    unit: Optional[str] = None
    year: int


class MonitorPoint(BaseModel):
    """An actual value in the row's unit."""

    year: int
    value: float
    unit: Optional[str] = None
    source: str = Field("", description="Data source, or the file name when none was given")
    as_imported: str = Field("", description="The value in the unit it was imported in, e.g. 9.8/10万")


class MonitorRow(BaseModel):
    """One target with its status (as ``kb monitor --json``)."""

    indicator: str
    doc_id: str
    plan: str = Field(description="Plan short name: 妇女 or 儿童")
    domain: Optional[str] = Field(None, description="发展领域")
    clause_id: str = Field(description="Clause the target is written in")
    short_path: str = Field("", description="Path of that clause, e.g. 妇女/妇女与健康/主要目标/2")
    region: str = Field("", description="Area of the plan; its actuals are used")
    target: MonitorTarget
    baseline: Optional[MonitorBaseline] = None
    latest: Optional[MonitorPoint] = Field(None, description="Latest actual up to the monitoring year")
    status: Literal["no_data", "achieved", "behind", "on_track", "not_achieved"]
    status_text: str = Field(description="无数据, 已达标, 滞后, 进展顺利 or 未达标")
    level: Optional[float] = Field(None, description="Value to reach, in `unit` (a relative target's level from its baseline)")
    expected: Optional[float] = Field(None, description="Straight path from the baseline, at the latest actual's year")
    unit: Optional[str] = Field(None, description="Unit of baseline, latest, level, expected and series")
    note: str = Field("", description="Why this status, in Chinese")
    series: list[MonitorPoint] = Field(default_factory=list, description="Actuals up to the monitoring year, oldest first")


class RowMatch(BaseModel):
    """How an imported row's indicator was matched (when not by its exact name)."""

    row: int
    name: str
    indicator: str
    how: Literal["exact", "synonym", "close"]
    score: float = Field(description="rapidfuzz ratio 0–100 (100 for exact and synonym)")


class ActualsImportReport(BaseModel):
    """What an import of actual values stored."""

    file: str
    stored: int = Field(description="Values stored")
    replaced: int = Field(description="Of them, values that replaced earlier ones")
    regions: list[str]
    years: list[int]
    matches: list[RowMatch] = Field(description="Rows matched by a synonym or a close match")
    skipped: list[dict[str, Any]] = Field(description="Rows with no value: {row, reason}")
    assumed_units: list[dict[str, Any]] = Field(description="Rows with no unit, read in their targets' unit: {row, unit}")


Answer.model_rebuild()  # its `monitor` field refers to MonitorRow, defined after it
