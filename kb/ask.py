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

from kb.search import Hit, SearchResult, Searcher
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
CONFIDENCE = {"margin_over_null": 0.10, "weight_bm25": 0.0025, "bm25_cap": 15.0, "weight_uncovered": 0.1,
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
    structural = answer_structure(searcher, normalize_query(question))
    if structural is not None:
        return structural
    about_docs = answer_documents(searcher, question, k)
    if about_docs is not None:
        return about_docs
    result = searcher.search(question, k=max(k, CONFIDENCE["depth"]), filters=filters)
    score = confidence(searcher, result)
    depth_hits, result.hits = result.hits, result.hits[:k]
    intent = result.intent
    named_target = bool(intent.indicators) and (intent.wants_value or asks_value(intent.text) or only_indicator(intent))
    if score < threshold(searcher) and not (named_target and value_targets(result)):
        return Answer(NOT_FOUND, "not_found", result.hits[: CONFIDENCE["suggestions"]], confident=False,
                      confidence=score)
    if intent.wants_value or asks_value(intent.text) or only_indicator(intent):
        targets = value_targets(result)
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
    allowed, _ = searcher.allowed_ids(filters or Filters())  # None: every clause
    names_it = {c.id for c in searcher.clauses.values() if any(d.name == name and d.explicit for d in c.departments)
                and (allowed is None or c.id in allowed)}
    explicit = [h for h in ranked if h.clause.id in names_it]
    seen = {h.clause.id for h in explicit}
    explicit += [Hit(clause=c, score=0.0) for c in searcher.clauses.values() if c.id in names_it and c.id not in seen]
    if not explicit:
        return Answer(None, "clauses", ranked[:k], confidence=score)
    lead = [h for h in explicit if any(d.name == name and d.role == "lead" for d in h.clause.departments)]
    ordered = lead + [h for h in explicit if h not in lead]
    listing = ";".join(f"{h.clause.short_path} {h.clause.heading or h.clause.text[:24]}"
                       + ("(牵头)" if h in lead else "") for h in ordered[:6])
    inferred = [h for h in ranked if h.clause.id not in names_it]
    n_inferred = sum(1 for c in searcher.clauses.values() if c.id not in names_it
                     and (allowed is None or c.id in allowed) and any(d.name == name for d in c.departments))
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
    ``null_questions`` of kb/data/query.yaml: 火车票怎么退, 红烧肉怎么做…), computed once per
    searcher (8 searches). The best cosine of any question rises with the size of the
    corpus; measured 0.781 on the bundled corpus, 0.759 on the seed alone."""
    level = _NULL_LEVELS.get(searcher)
    if level is None:
        from kb.query import cues

        probes = cues()["null_questions"]
        level = sum(confidence(searcher, searcher.search(q, k=CONFIDENCE["depth"])) for q in probes) / len(probes)
        _NULL_LEVELS[searcher] = level
    return level


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
            if t.value is None and t.value_min is None:
                continue
            if wanted and (name in wanted or any(w in name or name in w for w in wanted)):
                found.append(t)
            elif not wanted and _shared_pairs(result.intent.text, t.indicator + t.evidence) >= 2:
                found.append(t)
    if result.intent.years:
        in_year = [t for t in found if any(t.meets_year(y) for y in result.intent.years)]
        found = in_year or found
    return found


def _shared_pairs(a: str, b: str) -> int:
    pairs = {a[i:i + 2] for i in range(len(a) - 1) if all("\u4e00" <= ch <= "\u9fff" for ch in a[i:i + 2])}
    return sum(p in b for p in pairs)


def value_sentence(targets: list[Target], searcher: Searcher) -> str:
    """E.g. 新生儿死亡率: 2025年 ≤ 3.5‰; 2030年 ≤ 3‰(儿童/儿童与健康/主要目标/3)."""
    parts = []
    for t in targets:
        clause = searcher.clauses.get(t.clause_id)
        where = f"({clause.short_path})" if clause else ""
        parts.append(f"{t.indicator}: {target_phrase(t)}{where}")
    return ";".join(dict.fromkeys(parts))


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


def answer_structure(searcher: Searcher, q: str) -> Optional[Answer]:
    """Questions about the tree itself, answered by counting/listing nodes; None otherwise."""
    clauses = list(searcher.clauses.values())
    plan = _plan_in(q, searcher.plan_keys)
    domain = _domain_in(q, clauses, plan)
    if domain is None and re.search(r"(几个|哪几个|哪些|多少个|什么)(发展)?领域|领域(有|包括)(哪些|几个)", q):
        return _domains_answer(clauses, plan, searcher.plan_keys)
    if domain is None and re.search(r"多少条|几条|多少项|几项", q) and any(s in q for s in _SECTIONS):
        return _section_counts(clauses, plan, searcher.plan_keys, [s for s in _SECTIONS if s in q])
    if domain is None:
        for title in _named_parts(clauses):
            if title in q and re.search(r"哪些|什么|几|包括", q):
                return _list_answer(clauses, plan, title)
        return None
    section = next((s for s in _SECTIONS if s in q), None)
    number = _ordinal(q)
    rows = [c for c in clauses if c.domain == domain[1] and c.plan == domain[0]]
    if section and number:
        hit = next((c for c in rows if c.section == section and c.number == number), None)
        if hit:
            return Answer(f"{hit.short_path}: {hit.heading or hit.text[:60]}", "structure", [_hit(hit)])
    if re.search(r"多少条|几条|多少项|几项", q):
        asked = [section] if section and not ("和" in q and all(s in q for s in _SECTIONS)) else list(_SECTIONS)
        counts = {s: [c for c in rows if c.section == s] for s in asked}
        text = ",".join(f"{s}{len(v)}条" for s, v in counts.items())
        if "最后" in q and section:
            last = counts[section][-1]
            text += f";最后一条(第{last.number}条):{last.heading or last.text[:60]}"
            return Answer(f"{domain[1]}: {text}", "structure", [_hit(last)])
        return Answer(f"{domain[1]}: {text}", "structure", [_hit(c) for v in counts.values() for c in v][:10])
    if section and re.search(r"哪些|什么", q):
        items = [c for c in rows if c.section == section]
        listing = ";".join(f"{c.number}.{c.heading or c.text[:30]}" for c in items)
        return Answer(f"{domain[1]}的{section}共{len(items)}条:{listing}", "structure", [_hit(c) for c in items])
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


def _section_counts(clauses: list[Clause], plan: Optional[str], plan_keys: list[str], sections: list[str]) -> Answer:
    parts = []
    for key in [plan] if plan else plan_keys:
        for s in sections:
            rows = [c for c in clauses if c.plan == key and c.section == s and c.domain]
            per = "、".join(f"{d}{n}条" for d, n in Counter(c.domain for c in rows).items())
            parts.append(f"{_plan_label(clauses, key)}{s}共{len(rows)}条({per})")
    return Answer(";".join(parts), "structure", [])


def _domains_answer(clauses: list[Clause], plan: Optional[str], plan_keys: list[str]) -> Answer:
    parts, cited = [], []
    for key in [plan] if plan else plan_keys:
        domains = list(dict.fromkeys(c.domain for c in clauses if c.plan == key and c.domain))
        parts.append(f"{_plan_label(clauses, key)}有{len(domains)}个发展领域:{'、'.join(domains)}")
        cited += [c for c in clauses if c.plan == key and c.section == "总体目标"]
    return Answer(";".join(parts), "structure", [_hit(c) for c in cited])


def _list_answer(clauses: list[Clause], plan: Optional[str], title: str) -> Answer:
    parts, cited = [], []
    for key in [plan] if plan else list(dict.fromkeys(c.plan for c in clauses if c.plan)):
        items = [c for c in clauses if c.plan == key and (c.section == title or c.part == title)]
        if items:
            parts.append(f"{_plan_label(clauses, key)}{title}{len(items)}条:"
                         + ";".join(c.heading or c.text[:30] for c in items))
            cited += items
    return Answer(";".join(parts) or None, "structure", [_hit(c) for c in cited])


def _plan_in(q: str, plan_keys: list[str]) -> Optional[str]:
    found = [p for p in plan_keys if p in q]
    return found[0] if len(found) == 1 else None


def _domain_in(q: str, clauses: list[Clause], plan: Optional[str]) -> Optional[tuple[str, str]]:
    domains = list(dict.fromkeys((c.plan, c.domain) for c in clauses if c.domain))
    exact = [d for d in domains if d[1] in q]
    if exact:
        return max(exact, key=lambda d: len(d[1]))
    return None


def _ordinal(q: str) -> Optional[int]:
    m = re.search(r"第\s*([0-9]+|[一二三四五六七八九十]+)\s*条", q)
    if not m:
        return None
    if m[1].isdigit():
        return int(m[1])
    from kb.grammars.lines import cn_number

    return cn_number(m[1])


def _hit(c: Clause) -> Hit:
    return Hit(clause=c, score=1.0)
