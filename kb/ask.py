"""Answer a Chinese question: a target value from the stored targets, a structural fact
from the tree, or the top clauses — or 未找到相关条款 when the plans do not cover it.

Routing, in order: structure (领域/基本原则/几条/第N条 questions, answered from the tree) →
search → not covered (low confidence, see ``confident``) → target value (the question
asks for a number, or is just an indicator name, and names an indicator of the hits) →
department (one body named and its duties asked: the clauses that name it) → clauses.
"""
from __future__ import annotations

import re
import weakref
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from kb.query import LAST, ordinal
from kb.search import Hit, SearchResult, Searcher, article_number
from kb.segment import normalize_query
from kb.types import Clause, Target

NOT_FOUND = "未找到相关条款"
# Confidence of a search result (see ``confidence``): best dense cosine
# + weight_bm25 · min(best BM25, bm25_cap) − weight_uncovered · share of the question's
# words that the corpus never uses (with no colloquial mapping) − 1 for an unknown Latin
# word (GDP). Below the index's threshold — its null level (the mean confidence of the
# ``null_questions`` of kb/data/query.yaml, see ``null_level``) + ``margin_over_null`` — the
# answer is 未找到相关条款, except for a question that names an indicator the plans set a
# target for and asks its value (covered by definition).
# Calibrated on the plan and law dev sets together over the bundled corpus (seed + 16 laws,
# null level 0.781; docs/evaluation.md "Not-found calibration"): a grid over weight_bm25
# (0–0.01), weight_uncovered (0.1–0.4) and threshold (0.80–0.90), scored by false refusals of
# both sets + answered negatives, tuned on odd ids and holding on even ids, gave threshold
# 0.88 → margin 0.10: 1 of 11 negatives answered (q142, 0.887), 1 plan false refusal (q134
# "12338是什么热线", 0.857), none on the laws; margins are thin (q145 refused at 0.879, q104
# answered at 0.882). Checked on the seed-only index (null level 0.759 → threshold 0.859).
# With sentence vectors (kb.indexes.sentence_texts) the best cosine is a sentence's for some
# questions: null level 0.7835; margin 0.10 refused q136 (0.8827) and q104 stood at 0.8849;
# the same grid gives 1 negative answered (q142, 0.8866) and 1 false refusal (q134, 0.8566)
# only for margins in [0.0959, 0.0992), between q145 (0.8794, refused) and q136 (answered):
# 0.0975, the middle, a window as thin as before (docs/evaluation.md "Sentence vectors").
CONFIDENCE = {"margin_over_null": 0.0975, "weight_bm25": 0.0025, "bm25_cap": 15.0, "weight_uncovered": 0.1,
              "depth": 10, "suggestions": 3}


@dataclass
class Answer:
    """``answer``: one sentence or None; ``kind``: target_value | structure | department | clauses |
    not_found | article (a law article named or searched within its law) | document (from a
    document's metadata, kb/ask_docs.py), or from the actual values (``kb.ask_monitor``) actual_value | monitor_status;
    ``hits``: cited clauses (for not_found: low-confidence suggestions); ``targets``: the
    targets the answer states; ``confident``: False for not_found; ``monitor``: the
    kb.monitor.MonitorRow list an actual_value / monitor_status answer states."""

    answer: Optional[str]
    kind: str
    hits: list[Hit] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    confident: bool = True
    confidence: Optional[float] = None
    monitor: list[Any] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "kind": self.kind, "confident": self.confident,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "hits": [dict(h.to_dict(), low_confidence=not self.confident) for h in self.hits],
                "targets": [t.to_dict() for t in self.targets], "monitor": [r.to_dict() for r in self.monitor]}


def ask(searcher: Searcher, question: str, k: int = 5, filters=None) -> Answer:
    """Answer ``question`` over the searcher's index (see module docstring); every hit
    names its document (``Hit.doc``). ``filters`` (kb.search.Filters) narrow the search as in
    ``Searcher.search``: by default superseded versions (历史版本) are left out."""
    answer = _route(searcher, question, k, filters)
    searcher.describe(answer.hits)
    return answer


def _route(searcher: Searcher, question: str, k: int, filters=None) -> Answer:
    from kb.ask_docs import answer_documents, side_by_side

    searcher.warm_up()
    structural = answer_structure(searcher, normalize_query(question), filters)
    if structural is not None:
        return structural
    about_docs = answer_documents(searcher, question, k)
    if about_docs is not None:
        return about_docs
    result = searcher.search(question, k=max(k, CONFIDENCE["depth"]), filters=filters)
    if not result.hits and result.message:  # the filters leave nothing: say why
        return Answer(f"{NOT_FOUND}({result.message})", "not_found", [], confident=False)
    score = confidence(searcher, result)
    depth_hits, result.hits = result.hits, result.hits[:k]
    intent = result.intent
    named_target = bool(intent.indicators) and (intent.wants_value or asks_value(intent.text) or only_indicator(intent))
    if score < threshold(searcher) and not (named_target and value_targets(result)):
        # a question without a word (😀😀, "!?") gets no suggestions: they would be noise
        worded = re.search(r"[^\W_]", question) is not None
        return Answer(NOT_FOUND, "not_found", result.hits[: CONFIDENCE["suggestions"]] if worded else [],
                      confident=False, confidence=score)
    if intent.wants_value or asks_value(intent.text) or only_indicator(intent):
        targets = with_other_documents(value_targets(result), searcher, intent.years, filters)
        if targets:
            sentence = value_sentence(targets, searcher)
            missing = [y for y in intent.years if not any(t.meets_year(y) for t in targets)]
            if missing:
                sentence = f"规划未设定{'、'.join(map(str, missing))}年的目标值;已有目标 {sentence}"
            return Answer(sentence, "target_value", result.hits, targets, confidence=score)
    if len(intent.departments) == 1 and re.search(DUTY_WORDS, intent.text):
        return answer_department(searcher, question, intent.departments[0], score, k, filters)
    pair = side_by_side(depth_hits, k)
    if pair is not None:
        sentence, hits = pair
        return Answer(sentence, "clauses", hits[:k], confidence=score)
    return Answer(None, "clauses", result.hits, confidence=score)


# Words asking what a body must do (区统计局负责什么, 妇联组织有哪些职责).
DUTY_WORDS = r"负责|职责|做什么|干什么|管什么|分工|承担|任务|工作|责任|作用"


def answer_department(searcher: Searcher, question: str, name: str, score: float, k: int,
                      filters=None) -> Answer:
    """The clauses that name ``name`` (lead roles first), ranked by the question within them;
    clauses the question does not reach follow in document order."""
    from dataclasses import replace

    from kb.search import SETTINGS, Filters, Hit

    ranked = searcher.search(question, k=SETTINGS["max_k"], filters=replace(filters or Filters(), department=name)).hits
    scope, _ = searcher.scope_of(filters or Filters())
    # the clauses tagged with the department, with SQL: not the whole clause table (kb.store.ClauseTable)
    tagged = [c for c in searcher.clauses.where("id IN (SELECT clause_id FROM departments WHERE name = ?)", [name])
              if scope.admits(c.id)]
    names_it = {c.id for c in tagged if any(d.name == name and d.explicit for d in c.departments)}
    explicit = [h for h in ranked if h.clause.id in names_it]
    seen = {h.clause.id for h in explicit}
    explicit += [Hit(clause=c, score=0.0) for c in tagged if c.id in names_it and c.id not in seen]
    if not explicit:
        return Answer(None, "clauses", ranked[:k], confidence=score)
    lead = [h for h in explicit if any(d.name == name and d.role == "lead" for d in h.clause.departments)]
    ordered = lead + [h for h in explicit if h not in lead]
    listing = ";".join(f"{h.clause.short_path} {h.clause.heading or h.clause.text[:24]}"
                       + ("(牵头)" if h in lead else "") for h in ordered[:6])
    inferred = [h for h in ranked if h.clause.id not in names_it]
    n_inferred = sum(1 for c in tagged if c.id not in names_it)
    more = f";另有{n_inferred}条按主题推断涉及{name}" if n_inferred else ""
    return Answer(f"{name}在{len(explicit)}条条款中被明确提及:{listing}{more}", "department",
                  (ordered + inferred)[:k], confidence=score)


def confidence(searcher: Searcher, result: SearchResult) -> float:
    """How surely the plans cover the question (unitless, ~0.8–1.0; see CONFIDENCE);
    0.0 when nothing was found."""
    if not result.hits:
        return 0.0
    best_dense = max((h.raw.get("dense") or 0.0) for h in result.hits)
    best_bm25 = max((h.raw.get("bm25") or 0.0) for h in result.hits)
    words, missing = uncovered_words(searcher, result.intent)
    if not words:  # nothing but punctuation, symbols or question words: *, ", 🙂, ?!
        return 0.0
    score = best_dense + CONFIDENCE["weight_bm25"] * min(best_bm25, CONFIDENCE["bm25_cap"])
    score -= CONFIDENCE["weight_uncovered"] * len(missing) / max(1, len(words))
    if any(w.isascii() and w.isalpha() for w in missing):
        score -= 1.0
    return score


def threshold(searcher: Searcher) -> float:
    """The confidence below which ``ask`` answers 未找到相关条款 on this index: its
    ``null_level`` + CONFIDENCE["margin_over_null"] (0.88 on the bundled corpus)."""
    return null_level(searcher) + CONFIDENCE["margin_over_null"]


def null_level(searcher: Searcher) -> float:
    """Mean ``confidence`` of the index for questions about nothing it holds (the
    ``null_questions`` of kb/data/query.yaml: 火车票怎么退, 红烧肉怎么做…): the manifest's
    ``null_level``, measured when the generation was built (kb.build), or, for an index
    built before, measured here once per searcher (:func:`measure_null_level`: 8 searches,
    1.4 s of a cold ``kb ask`` at the national size). The best cosine of any question rises
    with the size of the corpus; measured 0.781 on the bundled corpus, 0.759 on the seed alone."""
    level = _NULL_LEVELS.get(searcher)
    if level is None:
        level = searcher.manifest.get("null_level")
        if level is None:
            level = measure_null_level(searcher)
        _NULL_LEVELS[searcher] = level
    return level


def measure_null_level(searcher: Searcher) -> float:
    """Mean ``confidence`` of ``searcher`` over the ``null_questions`` (see :func:`null_level`)."""
    from kb.query import cues

    probes = cues()["null_questions"]
    return sum(confidence(searcher, searcher.search(q, k=CONFIDENCE["depth"])) for q in probes) / len(probes)


_NULL_LEVELS: "weakref.WeakKeyDictionary[Searcher, float]" = weakref.WeakKeyDictionary()


def uncovered_words(searcher: Searcher, intent) -> tuple[list[str], list[str]]:
    """(content words of the question, those the corpus never uses).

    Words are the longest BM25 tokens (question words, numbers and years dropped); a word
    counts as used when it is in the BM25 vocabulary, when all its shorter pieces are
    (儿科医生 = 儿科 + 医生), when it overlaps a colloquial word with a mapping (老公), or when it
    holds a word that only shapes a question (怎么办 ⊃ 怎么, 几名 ⊃ 几: the ``sections`` and
    ``value_question`` cues of kb/data/query.yaml), which says nothing of the topic, or when the
    department lexicon knows it (民政局)."""
    from kb.query import cues, question_words

    drop = question_words()
    phrasing = [*cues()["value_question"], *(w for ws in cues()["sections"].values() for w in ws)]
    tokens = [t for t in searcher.segmenter.cut_query(intent.text)
              if t not in drop and not re.fullmatch(r"\d+(\.\d+)?[a-z%‰]*|20\d\d年?", t)]
    words = [t for t in dict.fromkeys(tokens) if not any(t != u and t in u for u in tokens)]
    words = [w for w in words if len(w) > 1 or w.isascii()]
    vocab = searcher.vocab
    keys = [k for k in cues().get("colloquial", {}) if k in intent.text]
    missing = []
    for w in words:
        pieces = [u for u in tokens if u != w and u in w]
        if w in vocab or (pieces and all(u in vocab for u in pieces)) or any(k in w or w in k for k in keys):
            continue
        if any(p in w for p in phrasing) or searcher.lexicon.resolve(w) is not None:  # 民政局: a known body
            continue
        missing.append(w)
    return words, missing


# ---------------------------------------------------------------- target values

def only_indicator(intent) -> bool:
    """The question is little more than an indicator name (婴儿死亡率, 2025年产前筛查率目标)."""
    return bool(intent.indicators) and len(intent.text) <= max(map(len, intent.indicators)) + 8


def asks_value(q: str) -> bool:
    """The wording asks for a number (多少, 几所, 达到…; ``value_question`` in query.yaml)."""
    from kb.query import cues

    return any(w in q for w in cues()["value_question"])


def value_targets(result: SearchResult, top: int = 5) -> list[Target]:
    """Targets of the top hits whose indicator the question names — or, when it names no
    known indicator, targets of the top 3 hits whose indicator and evidence share at least
    two character pairs with the question (宫颈癌筛查率 ~ 适龄妇女宫颈癌人群筛查率);
    restricted to the question's years when it gives any (and targets exist for them)."""
    wanted = set(result.intent.indicators)
    found: list[Target] = []
    for h in result.hits[: top if wanted else 3]:
        for t in h.clause.targets:
            name = t.indicator_norm or t.indicator
            named = wanted and (name in wanted or any(w in name or name in w for w in wanted))
            if t.value is None and t.value_min is None and not (named and t.comparator in ("increase", "decrease")):
                continue  # a target without a value answers only when its indicator is named (人工流产率: 下降)
            if named:
                found.append(t)
            elif not wanted and _shared_pairs(result.intent.text, t.indicator + t.evidence) >= 2:
                found.append(t)
    if result.intent.years:
        in_year = [t for t in found if any(t.meets_year(y) for y in result.intent.years)]
        found = in_year or found
    return found


def with_other_documents(targets: list[Target], searcher: Searcher, years: list[int] = (),
                         filters=None) -> list[Target]:
    """``targets`` followed by the targets of the same indicators in the other plan documents
    that pass ``filters`` (kb.search.Filters): the same plan of another area, or a plan and
    its other-period twin, whose identical clauses search keeps out of the top k (kb.search
    ``demote_duplicates``). Restricted to ``years`` where those targets meet them. So a value
    answer is given per document (``value_sentence``) instead of from one chosen silently."""
    from kb.search import Filters

    if not targets:
        return targets
    names = {t.indicator_norm or t.indicator for t in targets}
    docs = {searcher.clauses[t.clause_id].doc_id for t in targets if t.clause_id in searcher.clauses}
    scope, _ = searcher.scope_of(filters or Filters())
    extra = [t for c in searcher.clauses.where("plan IS NOT NULL AND id IN (SELECT clause_id FROM targets)")
             if c.plan and c.doc_id not in docs and scope.admits(c.id)
             for t in c.targets
             if (t.indicator_norm or t.indicator) in names and (t.value is not None or t.value_min is not None)]
    in_year = [t for t in extra if any(t.meets_year(y) for y in years)]
    return targets + (in_year or extra)


def _shared_pairs(a: str, b: str) -> int:
    pairs = {a[i:i + 2] for i in range(len(a) - 1) if all("\u4e00" <= ch <= "\u9fff" for ch in a[i:i + 2])}
    return sum(p in b for p in pairs)


def value_sentence(targets: list[Target], searcher: Searcher) -> str:
    """E.g. 新生儿死亡率: 2025年 ≤ 3.5‰; 2030年 ≤ 3‰(儿童/儿童与健康/主要目标/3).

    Targets from more than one document are given per document, each named by its plan
    title and cited as DOC/path (see ``cite``): 2份文件分别:曾都区儿童发展规划(2021—2030年):
    新生儿死亡率: 2030年 ≤ 3‰(czf-2022-8/儿童/儿童与健康/主要目标/3);随县儿童发展规划…"""
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    clauses = [searcher.clauses.get(t.clause_id) for t in targets]
    multi = len({c.doc_id for c in clauses if c}) > 1
    for t, clause in zip(targets, clauses):
        doc = clause.doc_id if clause else ""
        where = f"({cite(clause, multi)})" if clause else ""
        groups.setdefault(doc, []).append(f"{t.indicator}: {target_phrase(t)}{where}")
        labels[doc] = (clause.plan_title if clause else None) or searcher.documents.get(doc, {}).get("title") or doc
    if not multi:
        return ";".join(dict.fromkeys(p for parts in groups.values() for p in parts))
    same = Counter(labels.values())
    return f"{len(groups)}份文件分别:" + ";".join(
        (labels[d] if same[labels[d]] == 1 else f"{labels[d]}({d})") + ":" + ";".join(dict.fromkeys(parts))
        for d, parts in groups.items())


def target_phrase(t: Target) -> str:
    """2030年 ≤ 9/100000 ... a target's value in words an official reads."""
    year = f"{t.year}年 " if t.year else ""
    if t.comparator == "range":
        value = f"{t.value_min:g}—{t.value_max:g}{t.unit or ''}"
    else:
        value = f"{t.comparator_display()} {_fmt(t)}"
    return f"{year}{value}".strip()


def _fmt(t: Target) -> str:
    if t.value_text and not re.fullmatch(r"[\d.]+", t.value_text):
        return f"{t.value_text}({t.value_display()})" if (t.unit or "").startswith("1/") else t.value_text
    return t.value_display()


# ---------------------------------------------------------------- structure

_SECTIONS = ("主要目标", "策略措施")
_COUNT = r"多少条|几条|多少项|几项"


@dataclass
class PlanScope:
    """One plan of one document, as structure answers see it: ``info`` (kb.plans.PlanInfo:
    doc_id, key 妇女/儿童, title, area), its clauses in document order, and ``label``, how an
    answer names it (妇女发展规划; with several documents, the plan's own title)."""

    info: Any
    clauses: list[Clause]
    label: str = ""


def plan_scopes(searcher: Searcher, q: str, filters=None) -> list[PlanScope]:
    """The plans a structure question is about, one PlanScope per (document, plan), in
    document order: the plans of the documents passing ``filters`` (kb.search.Filters;
    superseded versions are left out by default), narrowed to those whose 地区 the question
    names (随县…, kb.plans.area_of) and to the plan it names (妇女/儿童)."""
    from kb.plans import plan_infos
    from kb.search import Filters

    scope, _ = searcher.scope_of(filters or Filters())
    rows: dict[tuple[str, str], list[Clause]] = {}
    # plan clauses only, in document order, with SQL: not the whole clause table (kb.store.ClauseTable)
    for c in searcher.clauses.where("plan IS NOT NULL"):
        if c.plan and scope.admits(c.id):
            rows.setdefault((c.doc_id, c.plan), []).append(c)
    infos = [i for i in plan_infos(list(searcher.documents.values())) if (i.doc_id, i.key) in rows]
    named = [i for i in infos if _names_area(q, i.area)]
    infos = named or infos
    keys = list(dict.fromkeys(i.key for i in infos if i.key in q))
    if len(keys) == 1:
        infos = [i for i in infos if i.key == keys[0]]
    return _labelled([PlanScope(i, rows[(i.doc_id, i.key)]) for i in infos])


def _names_area(q: str, area: str) -> bool:
    """The question names a plan's 地区: 曾都区, or 曾都 without its unit."""
    return len(area) >= 2 and (area in q or (len(area) >= 3 and area[:-1] in q))


def _labelled(scopes: list[PlanScope]) -> list[PlanScope]:
    """Label each scope: 妇女发展规划 while one document is in play; otherwise the plan's
    title (曾都区妇女发展规划(2021—2030年)), with the document id when two share a title."""
    multi = len({s.info.doc_id for s in scopes}) > 1
    titles = Counter(s.info.title for s in scopes)
    for s in scopes:
        if not multi:
            s.label = _plan_label(s.clauses, s.info.key)
        else:
            title = s.info.title or s.info.key
            s.label = title if titles[s.info.title] == 1 and s.info.title else f"{title}({s.info.doc_id})"
    return scopes


def _per_document(parts: list[str], scopes: list[PlanScope]) -> str:
    """Parts of an answer joined; prefixed "N份文件分别:" when they come from several
    documents, so that counts are read per document and never added up."""
    docs = len({s.info.doc_id for s in scopes})
    return (f"{docs}份文件分别:" if docs > 1 else "") + ";".join(parts)


def cite(c: Clause, multi: bool) -> str:
    """How an answer cites a clause: its path (儿童/儿童安全/策略措施/3), with the document id
    first (czf-2022-8/儿童/儿童安全/策略措施/3, as `kb show` takes it) when the answer draws on
    several documents, since the same path then names a clause in each."""
    return f"{c.doc_id}/{c.short_path}" if multi else c.short_path


def answer_structure(searcher: Searcher, q: str, filters=None) -> Optional[Answer]:
    """Questions about the plans' tree, answered by counting/listing nodes; None otherwise.

    Only plans of documents passing ``filters`` (kb.search.Filters) count. When the plans
    asked about sit in more than one document (two plans, or a plan and its other-period
    twin), the answer is given per document, each named by its plan title and each clause
    cited as DOC/path (see ``cite``); counts are never added up across documents."""
    scopes = plan_scopes(searcher, q, filters)
    if not scopes:
        return None
    clauses = [c for s in scopes for c in s.clauses]
    domain = _domain_in(q, clauses)
    if domain is None and re.search(r"(几个|哪几个|哪些|多少个|什么)(发展)?领域|领域(有|包括)(哪些|几个)", q):
        return _domains_answer(scopes)
    if domain is None and re.search(_COUNT, q) and any(s in q for s in _SECTIONS):
        return _section_counts(scopes, [s for s in _SECTIONS if s in q])
    if domain is None:
        for title in _named_parts(clauses):
            if title in q and re.search(r"哪些|什么|几|包括", q):
                return _list_answer(scopes, title)
        return None
    scopes = _labelled([s for s in scopes if s.info.key == domain[0]
                        and any(c.domain == domain[1] for c in s.clauses)])
    return _domain_answer(q, domain[1], scopes)


def _domain_answer(q: str, domain: str, scopes: list[PlanScope]) -> Optional[Answer]:
    """A 发展领域's Nth clause of a section (or one counted from its end: 最后一条, 倒数第二条),
    its counts (and last clause), or its listing."""
    multi = len({s.info.doc_id for s in scopes}) > 1
    section = next((s for s in _SECTIONS if s in q), None)
    number = article_number(q) or ordinal(q)  # 第8条 of a domain's section, or its 最后一条
    if section and number and not (number == LAST and re.search(_COUNT, q)):  # counts say the last too
        listed = [(s, [c for c in s.clauses if c.domain == domain and c.section == section]) for s in scopes]
        found = []
        for s, cs in listed:
            picked = ([cs[number]] if len(cs) >= -number else []) if number < 0 else [c for c in cs if c.number == number]
            found += [(s, c) for c in picked]
        if found:
            parts = [(f"{s.label} " if multi else "") + f"{cite(c, multi)}: {c.heading or c.text[:60]}" for s, c in found]
            return Answer(_per_document(parts, scopes), "structure", [_hit(c) for _, c in found])
        if any(cs for _, cs in listed):  # the section is there, the number is not: say so, cite nothing in its place
            parts = [(f"{s.label} " if multi else "") + f"{domain}{section}共{len(cs)}条" for s, cs in listed if cs]
            asked = f"第{number}条" if number > 0 else f"倒数第{-number}条"
            return Answer(f"没有{asked}:" + _per_document(parts, scopes), "not_found", [], confident=False)
    if re.search(_COUNT, q):
        asked = [section] if section and not ("和" in q and all(s in q for s in _SECTIONS)) else list(_SECTIONS)
        parts, cited = [], []
        for s in scopes:
            counts = {sec: [c for c in s.clauses if c.domain == domain and c.section == sec] for sec in asked}
            text = ",".join(f"{sec}{len(v)}条" for sec, v in counts.items())
            if "最后" in q and section and counts[section]:
                last = counts[section][-1]
                text += f";最后一条(第{last.number}条):{last.heading or last.text[:60]}"
                cited.append(last)
            else:
                cited += [c for v in counts.values() for c in v][:10]
            parts.append((f"{s.label} " if multi else "") + f"{domain}: {text}")
        return Answer(_per_document(parts, scopes), "structure", [_hit(c) for c in cited])
    if section and re.search(r"哪些|什么", q):
        parts, cited = [], []
        for s in scopes:
            items = [c for c in s.clauses if c.domain == domain and c.section == section]
            listing = ";".join(f"{c.number}.{c.heading or c.text[:30]}" for c in items)
            parts.append((f"{s.label} " if multi else "") + f"{domain}的{section}共{len(items)}条:{listing}")
            cited += items
        return Answer(_per_document(parts, scopes), "structure", [_hit(c) for c in cited])
    return None


def _named_parts(clauses: list[Clause]) -> list[str]:
    """Titles of the plans' parts and items outside the 发展领域 (基本原则, 组织实施, 监测评估 in
    the 2021—2030 plans; 指导思想和基本原则, 总目标… in others), longest first, as the index
    holds them."""
    titles = {c.section for c in clauses if c.plan and not c.domain and c.section and c.section not in _SECTIONS}
    titles |= {c.part for c in clauses if c.plan and not c.domain and c.part}
    return sorted((t for t in titles if len(t) >= 2), key=len, reverse=True)


def _plan_label(clauses: list[Clause], key: str) -> str:
    """How answers name a plan: its short name and kind (妇女发展规划, 中国妇女发展纲要)."""
    title = next((c.plan_title for c in clauses if c.plan == key and c.plan_title), "") or ""
    kind = next((k for k in ("发展规划", "发展纲要", "规划", "纲要", "实施方案") if k in title), "规划")
    return f"{key}{kind}"


def _section_counts(scopes: list[PlanScope], sections: list[str]) -> Answer:
    parts = []
    for scope in scopes:
        for s in sections:
            rows = [c for c in scope.clauses if c.section == s and c.domain]
            per = "、".join(f"{d}{n}条" for d, n in Counter(c.domain for c in rows).items())
            parts.append(f"{scope.label}{s}共{len(rows)}条({per})")
    return Answer(_per_document(parts, scopes), "structure", [])


def _domains_answer(scopes: list[PlanScope]) -> Answer:
    parts, cited = [], []
    for s in scopes:
        domains = list(dict.fromkeys(c.domain for c in s.clauses if c.domain))
        parts.append(f"{s.label}有{len(domains)}个发展领域:{'、'.join(domains)}")
        cited += [c for c in s.clauses if c.section == "总体目标"]
    return Answer(_per_document(parts, scopes), "structure", [_hit(c) for c in cited])


def _list_answer(scopes: list[PlanScope], title: str) -> Answer:
    parts, cited, used = [], [], []
    for s in scopes:
        items = [c for c in s.clauses if c.section == title or c.part == title]
        if items:
            parts.append(f"{s.label}{title}{len(items)}条:" + ";".join(c.heading or c.text[:30] for c in items))
            cited += items
            used.append(s)
    return Answer(_per_document(parts, used) or None, "structure", [_hit(c) for c in cited])


def _domain_in(q: str, clauses: list[Clause]) -> Optional[tuple[str, str]]:
    """(plan key, 发展领域) of the longest domain name the question holds; None otherwise."""
    domains = list(dict.fromkeys((c.plan, c.domain) for c in clauses if c.domain))
    exact = [d for d in domains if d[1] in q]
    if exact:
        return max(exact, key=lambda d: len(d[1]))
    return None


def _hit(c: Clause) -> Hit:
    return Hit(clause=c, score=1.0)
