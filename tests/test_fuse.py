"""kb/fuse.py: reciprocal-rank and weighted score fusion."""
from __future__ import annotations

import pytest

from kb.fuse import Fused, diversify, normalise, rrf, weighted

BM25 = [("L563", 12.0), ("L543", 8.0), ("L52", 1.0)]
DENSE = [("L543", 0.91), ("L563", 0.90), ("L499", 0.70)]


def test_rrf_scores_and_ranks():
    fused = rrf([BM25, DENSE], k=60)
    assert [f.id for f in fused] == ["L563", "L543", "L52", "L499"]  # tie broken by best rank
    top = fused[0]
    assert isinstance(top, Fused)
    assert top.score == pytest.approx(1 / 61 + 1 / 62)
    assert top.ranks == (1, 2) and top.scores == (12.0, 0.90)
    assert fused[-1].ranks == (None, 3)


def test_rrf_weights_shift_the_order():
    assert rrf([BM25, DENSE], weights=[1.0, 2.0])[0].id == "L543"
    assert rrf([BM25, DENSE], weights=[0.0, 1.0])[-1].score == 0.0


def test_rrf_empty_and_single_source():
    assert rrf([]) == [] and rrf([[], []]) == []
    assert [f.id for f in rrf([BM25])] == ["L563", "L543", "L52"]


def test_repeated_id_keeps_best_rank():
    fused = rrf([[("a", 3.0), ("a", 1.0), ("b", 0.5)]])
    assert fused[0].ranks == (1,) and len(fused) == 2


def test_weighted_minmax():
    fused = weighted([BM25, DENSE], weights=[0.5, 0.5])
    by_id = {f.id: f for f in fused}
    assert by_id["L563"].score == pytest.approx(0.5 * 1.0 + 0.5 * (0.90 - 0.70) / (0.91 - 0.70))
    assert by_id["L52"].score == 0.0 and by_id["L499"].score == 0.0
    assert fused[0].id == "L563"


@pytest.mark.parametrize("method", ["minmax", "max", "zscore", "none"])
def test_weighted_normalisations_are_ordered(method):
    fused = weighted([BM25, DENSE], weights=[1, 1], normalisation=method)
    assert [f.score for f in fused] == sorted((f.score for f in fused), reverse=True)
    assert {f.id for f in fused} == {"L563", "L543", "L52", "L499"}


def test_normalise_edge_cases():
    assert normalise([]) == []
    assert normalise([2.0, 2.0]) == [1.0, 1.0]
    assert normalise([4.0, 1.0], "max") == [1.0, 0.25]
    assert normalise([1.0, 1.0], "zscore") == [0.0, 0.0]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="one non-negative weight per ranking"):
        rrf([BM25, DENSE], weights=[1.0])
    with pytest.raises(ValueError, match="one non-negative weight"):
        weighted([BM25], weights=[-1.0])
    with pytest.raises(ValueError, match="normalisation must be one of"):
        weighted([BM25], normalisation="softmax")
    with pytest.raises(ValueError, match="k must be"):
        rrf([BM25], k=-1)


def test_diversify_lowers_further_members_of_one_group():
    # three articles of one law, then another law's article, then a plan clause (no group)
    ranking = [("a.1", 1.0), ("a.2", 0.95), ("a.3", 0.9), ("b.1", 0.88), ("p", 0.87)]
    out = diversify(ranking, lambda i: i.split(".")[0] if "." in i else None, 0.9)
    assert [i for i, _ in out] == ["a.1", "b.1", "p", "a.2", "a.3"]
    assert dict(out)["a.3"] == pytest.approx(0.9 * 0.81)
    assert diversify(ranking, lambda i: None, 0.5) == ranking
    with pytest.raises(ValueError, match="decay must be in"):
        diversify(ranking, lambda i: None, 0.0)
