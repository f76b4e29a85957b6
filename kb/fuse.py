"""Fusion of ranked lists from several retrievers (BM25, dense) into one ranking.

A ranking is a list of ``(id, score)`` pairs, best first (``SparseHit``/``DenseHit``
are such pairs). Both functions return ``Fused`` results, best first, that keep each
source's 1-based rank and raw score (``None`` where the source did not return the id).

>>> bm25 = [("a", 7.1), ("b", 3.0)]
>>> dense = [("b", 0.91), ("c", 0.88)]
>>> [f.id for f in rrf([bm25, dense])]
['b', 'a', 'c']
>>> rrf([bm25, dense])[0].ranks
(2, 1)
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Optional, Sequence

Ranking = Sequence[tuple[str, float]]
NORMALISATIONS = ("minmax", "max", "zscore", "none")


class Fused(NamedTuple):
    """A fused result: ``score`` (unitless, higher is better), per-source ``ranks``
    (1-based) and ``scores`` (raw), ``None`` where a source did not return ``id``."""

    id: str
    score: float
    ranks: tuple[Optional[int], ...]
    scores: tuple[Optional[float], ...]


def _weights(rankings: Sequence[Ranking], weights: Optional[Sequence[float]]) -> list[float]:
    if weights is None:
        return [1.0] * len(rankings)
    if len(weights) != len(rankings) or any(w < 0 for w in weights):
        raise ValueError(f"fusion: need one non-negative weight per ranking, got {list(weights)} "
                         f"for {len(rankings)} rankings")
    return [float(w) for w in weights]


def _table(rankings: Sequence[Ranking]) -> dict[str, list]:
    """id → [ranks per source, scores per source], in order of first appearance.

    An id repeated within one ranking keeps its first (best) position.
    """
    n = len(rankings)
    table: dict[str, list] = {}
    for s, ranking in enumerate(rankings):
        for rank, (doc_id, score) in enumerate(ranking, start=1):
            ranks, scores = table.setdefault(doc_id, [[None] * n, [None] * n])
            if ranks[s] is None:
                ranks[s], scores[s] = rank, float(score)
    return table


def _sorted(table: dict[str, list], fused: dict[str, float]) -> list[Fused]:
    """Best first; ties broken by the best rank in any source, then first appearance."""
    keyed = []
    for order, (doc_id, (ranks, _)) in enumerate(table.items()):
        if doc_id in fused:
            keyed.append((-fused[doc_id], min(r for r in ranks if r is not None), order, doc_id))
    keyed.sort()
    return [Fused(d, fused[d], tuple(table[d][0]), tuple(table[d][1])) for _, _, _, d in keyed]


def rrf(rankings: Sequence[Ranking], k: int = 60,
        weights: Optional[Sequence[float]] = None) -> list[Fused]:
    """Reciprocal-rank fusion: ``score = Σ_s weight_s / (k + rank_s)`` over the sources
    that returned the id (Cormack et al. 2009; k=60 is their constant).

    Raw scores are ignored, so scales need not agree. Raises ``ValueError`` if
    ``k < 0`` or the weights do not match the rankings.
    """
    if k < 0:
        raise ValueError(f"rrf: k must be >= 0, got {k}")
    w = _weights(rankings, weights)
    table = _table(rankings)
    fused = {d: sum(w[s] / (k + r) for s, r in enumerate(ranks) if r is not None)
             for d, (ranks, _) in table.items()}
    return _sorted(table, fused)


def normalise(scores: list[float], method: str = "minmax") -> list[float]:
    """Rescale one source's scores.

    ``minmax``: (s - min) / (max - min), all 1.0 if equal; ``max``: s / max (for
    non-negative scores such as BM25); ``zscore``: (s - mean) / std, all 0.0 if equal;
    ``none``: unchanged. Raises ``ValueError`` for another method.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {method!r}")
    if not scores or method == "none":
        return list(scores)
    lo, hi = min(scores), max(scores)
    if method == "minmax":
        return [(s - lo) / (hi - lo) if hi > lo else 1.0 for s in scores]
    if method == "max":
        return [s / hi if hi > 0 else 0.0 for s in scores]
    mean = sum(scores) / len(scores)
    std = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    return [(s - mean) / std if std > 0 else 0.0 for s in scores]


def weighted(rankings: Sequence[Ranking], weights: Optional[Sequence[float]] = None,
             normalisation: str = "minmax", fuse_depth: Optional[int] = None) -> list[Fused]:
    """Weighted score fusion: ``score = Σ_s weight_s · norm_s(score)``; a source that did
    not return the id adds 0.

    Scores are normalised per source over the returned list (``normalise``), so with
    ``minmax`` a source's last hit gets 0. With ``fuse_depth`` only the first ``fuse_depth``
    ids of each source are fused, while all its returned scores still set its range: a
    deeper list gives a steadier floor than the candidates themselves. Raises ``ValueError``
    on a bad weight list or normalisation.

    >>> [f.id for f in weighted([[("a", 9.0), ("b", 5.0), ("c", 1.0)]], fuse_depth=2)]
    ['a', 'b']
    >>> weighted([[("a", 9.0), ("b", 5.0), ("c", 1.0)]], fuse_depth=2)[1].score
    0.5
    """
    w = _weights(rankings, weights)
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}")
    n = len(rankings)
    table: dict[str, list] = {}  # id → [ranks per source, raw scores per source], as _table
    fused: dict[str, float] = {}
    for s, ranking in enumerate(rankings):
        first: dict[str, tuple[int, float]] = {}  # id → (1-based rank, raw score) of its first place
        for rank, (d, score) in enumerate(ranking, start=1):
            if d not in first:
                first[d] = (rank, float(score))
        raw = [v for _, v in first.values()]
        for (d, (rank, score)), v in zip(first.items(), normalise(raw, normalisation)):
            if fuse_depth and rank > fuse_depth:
                break
            entry = table.get(d)
            if entry is None:
                entry = table[d] = [[None] * n, [None] * n]
                fused[d] = 0.0
            entry[0][s], entry[1][s] = rank, score
            fused[d] += w[s] * v
    return _sorted(table, fused)


def diversify(ranking: Ranking, group: Callable[[str], Optional[str]], decay: float,
              cap: Optional[int] = None) -> list[tuple[str, float]]:
    """Scores of ``ranking`` (best first) where each id after the first of its group loses a
    factor ``decay`` per better-ranked id of the same group (the n-th article of one law
    scores ``decay**(n-1)`` of its own), so that one group does not fill the top of a list
    that several groups answer. ``group(id)`` None exempts an id. Returns ``(id, score)``
    pairs re-sorted best first (stable). ``cap``: the factor stops falling after ``cap``
    better-ranked members (None: it never stops). Raises ``ValueError`` unless 0 < decay <= 1.

    >>> diversify([("a1", 1.0), ("a2", 0.9), ("b1", 0.85)], lambda i: i[0], 0.9)
    [('a1', 1.0), ('b1', 0.85), ('a2', 0.81)]
    """
    if not 0 < decay <= 1:
        raise ValueError(f"diversify: decay must be in (0, 1], got {decay}")
    seen: dict[str, int] = {}
    out = []
    for doc_id, score in ranking:
        g = group(doc_id)
        n = seen.get(g, 0) if g is not None else 0
        if g is not None:
            seen[g] = n + 1
        out.append((doc_id, score * decay ** (n if cap is None else min(n, cap))))
    return sorted(out, key=lambda p: -p[1])


def group_prior(ranking: Ranking, group: Callable[[str], Optional[str]], weight: float,
                depth: int = 3) -> list[tuple[str, float]]:
    """Scores of ``ranking`` (best first) mixed with their group's: ``(1 - weight) · score +
    weight · prior``, where a group's prior is the mean of its ``depth`` best scores (absent
    members count 0), so that the articles of a law that answers the query as a whole rise
    together (a document prior, as in hierarchical statute retrieval). ``group(id)`` None
    keeps an id's own score. Returns ``(id, score)`` pairs re-sorted best first (stable).
    Raises ``ValueError`` unless 0 <= weight <= 1 and depth >= 1.

    >>> group_prior([("a1", 1.0), ("b1", 0.875), ("b2", 0.75)], lambda i: i[0], 0.5, depth=2)
    [('b1', 0.84375), ('b2', 0.78125), ('a1', 0.75)]
    """
    if not 0 <= weight <= 1 or depth < 1:
        raise ValueError(f"group_prior: need 0 <= weight <= 1 and depth >= 1, got {weight}, {depth}")
    best: dict[str, list[float]] = {}
    for doc_id, score in ranking:
        g = group(doc_id)
        if g is not None and len(best.setdefault(g, [])) < depth:
            best[g].append(float(score))
    prior = {g: sum(v) / depth for g, v in best.items()}
    out = [(d, (1 - weight) * s + weight * prior[group(d)]) if group(d) is not None else (d, s)
           for d, s in ranking]
    return sorted(out, key=lambda p: -p[1])
