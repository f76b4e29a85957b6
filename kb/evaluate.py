"""Evaluation against gold questions: retrieval metrics by mode, a naive chunking
baseline, negatives, and the values stated by ``kb ask``.

Matching rule (``tests/gold/README.md``): both sides NFKC-normalised, whitespace removed,
dashes and quotes unified; a returned clause matches a gold string when it contains it.

>>> from kb.base import KnowledgeBase
>>> report = evaluate(KnowledgeBase.open("index"), load_questions("tests/gold/questions.dev.jsonl"))
>>> report.modes["hybrid"].overall.recall[5]
0.93...

Metrics per positive question with gold strings (``gold`` + ``gold_shared``), over the top
10 clauses: recall@k = share of gold strings found in the top k; MRR@10 = 1/rank of the
first clause matching any gold string; nDCG@10 with binary gains, a clause gaining when it
matches a gold string not matched higher up.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, TypeVar

KS = (1, 5, 10)
DEPTH = 10
MODES = ("hybrid", "bm25", "dense")
NAIVE = "naive"
NAIVE_CHUNK_CHARS = 300

_DASHES = re.compile(r"[\u2010-\u2015\u2212\uFE58\uFE63\uFF0D-]+")
_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u201f\u300c\u300d\u300e\u300f\uFF02'\u2018\u2019"})
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


# ---------------------------------------------------------------- data

@dataclass
class Question:
    """One gold question. ``gold``: strings each identifying a clause that must be returned
    (``gold_shared`` strings count on any occurrence); ``answer``: short expected answer."""

    id: str
    q: str
    kind: str
    gold: list[str] = field(default_factory=list)
    answer: Optional[str] = None
    cross_plan: bool = False

    @property
    def negative(self) -> bool:
        return self.kind == "negative"


def load_questions(path: str | Path) -> list[Question]:
    """Questions from a JSONL file (one object a line with at least ``id`` and ``q``; blank
    lines skipped). Raises InputError naming the file and line for anything else."""
    return read_jsonl(path, lambda d: Question(
        id=d["id"], q=d["q"], kind=d.get("kind", "topic"),
        gold=list(d.get("gold") or []) + list(d.get("gold_shared") or []),
        answer=d.get("answer") or None, cross_plan=bool(d.get("cross_plan"))),
        what='a question object with "id" and "q"',
        empty='give a JSONL file with one {"id", "q", "gold"} object a line')


T = TypeVar("T")


def read_jsonl(path: str | Path, make: Callable[[dict], T], what: str, empty: str) -> list[T]:
    """``make(obj)`` for each non-blank line of a JSONL file, in order. ``make`` may raise
    ValueError, KeyError or TypeError for an object it cannot use. Raises InputError naming
    the file and line ("not {what}") for such a line or bad JSON, and ("no questions; {empty}")
    for a file with none."""
    from kb.errors import InputError

    out = []
    for no, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            out.append(make(json.loads(line)))
        except (ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}: line {no}: not {what} ({e})") from e
    if not out:
        raise InputError(f"{path}: no questions; {empty}")
    return out


def read_lines(path: str | Path) -> list[str]:
    """Lines of a UTF-8 (or GB18030) text file. Raises InputError for a missing, binary or
    undecodable file."""
    from kb.errors import InputError
    from kb.read import decode_document

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file; check the path")
    data = p.read_bytes()
    if not data.strip():
        return []
    lines = decode_document(data, name=str(p), html=False).split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def norm(text: str) -> str:
    """The matching normal form: NFKC, no whitespace, one dash, one quote."""
    t = unicodedata.normalize("NFKC", text or "")
    t = re.sub(r"\s+", "", t)
    return _DASHES.sub("-", t).translate(_QUOTES)


# ---------------------------------------------------------------- metrics

@dataclass
class Scores:
    """Mean metrics over ``n`` questions: ``recall`` keyed by k, ``mrr`` (@10), ``ndcg`` (@10)."""

    n: int
    recall: dict[int, float]
    mrr: float
    ndcg: float

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
                "mrr@10": round(self.mrr, 4), "ndcg@10": round(self.ndcg, 4)}


@dataclass
class QuestionResult:
    """Per question: 1-based rank at which each gold string was first found (None = not in
    the top 10) and the ids returned."""

    id: str
    kind: str
    gold_ranks: list[Optional[int]]
    first_rank: Optional[int]
    returned: list[str]


def score_ranking(gold: list[str], texts: list[str]) -> tuple[list[Optional[int]], Optional[int], float]:
    """Match ``texts`` (best first) against ``gold``: (rank of each gold string, rank of
    the first matching text, nDCG@10)."""
    g = [norm(s) for s in gold]
    ranks: list[Optional[int]] = [None] * len(g)
    first, dcg = None, 0.0
    for r, text in enumerate(texts[:DEPTH], 1):
        t = norm(text)
        hit = [i for i, s in enumerate(g) if s in t]
        if hit and first is None:
            first = r
        new = [i for i in hit if ranks[i] is None]
        for i in new:
            ranks[i] = r
        if new:
            dcg += 1.0 / math.log2(r + 1)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(g), DEPTH) + 1))
    return ranks, first, dcg / ideal if ideal else 0.0


def aggregate(results: list[QuestionResult], ndcgs: list[float]) -> Scores:
    """Mean recall@k, MRR@10 and nDCG@10 of ``results`` (0s when empty)."""
    n = len(results)
    if not n:
        return Scores(0, {k: 0.0 for k in KS}, 0.0, 0.0)
    recall = {k: sum(sum(1 for r in q.gold_ranks if r is not None and r <= k) / len(q.gold_ranks)
                     for q in results) / n for k in KS}
    mrr = sum(1.0 / q.first_rank if q.first_rank else 0.0 for q in results) / n
    return Scores(n, recall, mrr, sum(ndcgs) / n)


@dataclass
class ModeReport:
    """Scores of one retrieval mode: overall, per question ``kind``, and per question."""

    mode: str
    overall: Scores
    by_kind: dict[str, Scores]
    questions: list[QuestionResult]

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "overall": self.overall.to_dict(),
                "by_kind": {k: s.to_dict() for k, s in self.by_kind.items()},
                "questions": [asdict(q) for q in self.questions]}


def score_mode(mode: str, questions: list[Question], rank: Callable[[str], list[tuple[str, str]]]) -> ModeReport:
    """Score ``rank(query) -> [(id, text), …]`` (best first) on the questions with gold."""
    rows, ndcgs = [], []
    for q in questions:
        if not q.gold:
            continue
        ranked = rank(q.q)[:DEPTH]
        ranks, first, ndcg = score_ranking(q.gold, [t for _, t in ranked])
        rows.append(QuestionResult(q.id, q.kind, ranks, first, [i for i, _ in ranked]))
        ndcgs.append(ndcg)
    kinds = sorted({r.kind for r in rows})
    by_kind = {k: aggregate([r for r in rows if r.kind == k], [d for r, d in zip(rows, ndcgs) if r.kind == k])
               for k in kinds}
    return ModeReport(mode, aggregate(rows, ndcgs), by_kind, rows)


# ---------------------------------------------------------------- naive baseline

def fixed_chunks(text: str, size: int = NAIVE_CHUNK_CHARS) -> list[str]:
    """``text`` cut every ``size`` characters, no overlap, no regard for structure — what
    a generic RAG tool does by default (blank chunks dropped)."""
    return [c for c in (text[i:i + size] for i in range(0, len(text), size)) if c.strip()]


def source_texts(kb) -> list[str]:
    """The raw text of every ingested document (read again from its source file; the
    concatenated node texts when the file has gone)."""
    from kb.errors import KbError
    from kb.read import read_document

    texts = []
    for d in kb.documents():
        try:
            texts.append(read_document(d["source"]))
        except KbError:
            texts.append("\n".join(n.text or n.title for n in kb.tree(d["id"])))
    return texts


class NaiveRetriever:
    """Dense retrieval over fixed-size chunks of the source text with ``embedder`` (the
    same model as the index), exact inner product."""

    def __init__(self, texts: Iterable[str], embedder, size: int = NAIVE_CHUNK_CHARS):
        self.chunks = [c for t in texts for c in fixed_chunks(t, size)]
        self.embedder = embedder
        self.vectors = embedder.embed_passages(self.chunks)

    def rank(self, query: str, k: int = DEPTH) -> list[tuple[str, str]]:
        q = self.embedder.embed_queries([query[:512]])[0]
        order = (self.vectors @ q).argsort()[::-1][:k]
        return [(f"chunk{i}", self.chunks[i]) for i in order]


# ---------------------------------------------------------------- answers

@dataclass
class AnswerCheck:
    """Whether ``kb ask`` gave what the gold ``answer`` expects (``ok``), with its kind."""

    id: str
    kind: str
    expected: str
    answer: Optional[str]
    answer_kind: str
    ok: bool


@dataclass
class NegativeReport:
    """``rejected``: negatives answered 未找到相关条款 (of ``negatives``); ``false_not_found``:
    ids of positive questions answered 未找到相关条款 (of ``positives``); ``margin``: the
    lowest positive confidence minus the highest negative one (> 0 = separable);
    ``threshold``: the index's not-found threshold (kb.ask.threshold) the answers were given at."""

    negatives: int
    rejected: int
    positives: int
    false_not_found: list[str]
    margin: Optional[float] = None
    accepted_negatives: list[str] = field(default_factory=list)
    threshold: Optional[float] = None

    @property
    def rejected_share(self) -> float:
        return self.rejected / self.negatives if self.negatives else 1.0


def expected_numbers(expected: str, question: str) -> list[str]:
    """The numbers an answer must state: those of the gold answer before any parenthesis
    or 另/; aside, plus a year named in the question."""
    head = re.split(r"[((;;]|另", expected)[0]
    nums = _NUMBER.findall(head)
    nums += re.findall(r"20\d\d", question)
    return list(dict.fromkeys(nums))


def answer_ok(expected: str, question: str, answer: Optional[str], cited: str = "") -> bool:
    """Loose check: every expected number appears as a number in ``answer``; for an
    expected answer without numbers, its text appears in the answer or the cited clauses."""
    if not answer:
        return False
    nums = expected_numbers(expected, question)
    if nums:
        found = {float(x) for x in _NUMBER.findall(norm(answer))}
        return all(float(x) in found for x in nums)
    head = norm(re.split(r"[((;;]", expected)[0])
    return head in norm(answer) or head in norm(cited)


def check_answers(kb, questions: list[Question]) -> tuple[list[AnswerCheck], NegativeReport]:
    """Ask every question: answers of target_value/structure questions checked against gold,
    negatives counted (see NegativeReport)."""
    from kb.ask import NOT_FOUND, threshold

    checks, neg_conf, pos_conf = [], [], []
    rejected, false_nf, accepted = 0, [], []
    for q in questions:
        a = kb.ask(q.q)
        not_found = a.kind == "not_found"
        if q.negative:
            rejected += not_found
            if not not_found:
                accepted.append(q.id)
            neg_conf.append(a.confidence if a.confidence is not None else 1.0)
        else:
            if not_found:
                false_nf.append(q.id)
            if a.confidence is not None:  # structural answers are not searched
                pos_conf.append(a.confidence)
        if q.answer and q.kind in ("target_value", "structure"):
            cited = " ".join(h.clause.text for h in a.hits[:5])
            ok = not not_found and answer_ok(q.answer, q.q, a.answer, cited)
            checks.append(AnswerCheck(q.id, q.kind, q.answer, a.answer if a.answer != NOT_FOUND else None,
                                      a.kind, ok))
    margin = (min(pos_conf) - max(neg_conf)) if pos_conf and neg_conf else None
    neg = NegativeReport(sum(q.negative for q in questions), rejected,
                         sum(not q.negative for q in questions), false_nf, margin, accepted,
                         threshold(kb.searcher))
    return checks, neg


# ---------------------------------------------------------------- the report

@dataclass
class EvalReport:
    """Everything ``kb eval`` prints: scores by mode (``naive`` = the chunk baseline),
    the negatives, and the answer checks."""

    questions: int
    modes: dict[str, ModeReport]
    negatives: Optional[NegativeReport] = None
    answers: list[AnswerCheck] = field(default_factory=list)

    def answer_accuracy(self, kind: str) -> tuple[int, int]:
        rows = [a for a in self.answers if a.kind == kind]
        return sum(a.ok for a in rows), len(rows)

    def to_dict(self) -> dict[str, Any]:
        neg = self.negatives
        return {"questions": self.questions,
                "modes": {m: r.to_dict() for m, r in self.modes.items()},
                "negatives": None if neg is None else dict(asdict(neg), rejected_share=neg.rejected_share),
                "answers": [asdict(a) for a in self.answers]}


def evaluate(kb, questions: list[Question], modes: Iterable[str] = (*MODES, NAIVE),
             answers: bool = True, naive: Optional[NaiveRetriever] = None) -> EvalReport:
    """Run ``questions`` through ``kb`` (a KnowledgeBase) in each of ``modes`` (hybrid, bm25,
    dense, naive); with ``answers``, also through ``kb.ask``. ``naive`` reuses a built
    baseline (it embeds every chunk of the corpus, which takes a while)."""
    reports = {}
    for mode in modes:
        if mode == NAIVE:
            if naive is None:
                kb.warm_up()
                naive = NaiveRetriever(source_texts(kb), kb.searcher.embedder)
            reports[mode] = score_mode(mode, questions, naive.rank)
        else:
            reports[mode] = score_mode(mode, questions, _searcher_rank(kb, mode))
    checks, neg = check_answers(kb, questions) if answers else ([], None)
    return EvalReport(len(questions), reports, neg, checks)


def _searcher_rank(kb, mode: str) -> Callable[[str], list[tuple[str, str]]]:
    def rank(query: str) -> list[tuple[str, str]]:
        return [(h.clause.id, h.clause.text) for h in kb.search(query, k=DEPTH, mode=mode).hits]

    return rank
