"""kb/evaluate_stard.py: STARD citizens' questions scored at article level, on a slice —
the questions whose gold articles are all in the bundled laws (corpus/laws is copied
unchanged from laws-cn)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, kb_cli_with_fake_embedder
from kb.evaluate_stard import KS, load_stard, norm, score_question

STARD = ROOT.parent / "shared" / "eval" / "stard" / "queries.train.jsonl"
LAWS = ROOT / "corpus" / "laws"
needs_stard = pytest.mark.skipif(not STARD.exists(), reason="the STARD questions are not on this machine")


@pytest.fixture(scope="module")
def slice_(tmp_path_factory, fake_embedder):
    """(index over the 社会法 laws and the 婚姻家庭编, the STARD questions answered by them)."""
    from kb.build import ingest
    from kb.parse import parse_file

    files = sorted((LAWS / "社会法").glob("*.md")) + [LAWS / "民法典" / "婚姻家庭编.md"]
    texts = [norm(c.text) for f in files for c in parse_file(f).clauses]
    questions = [q for q in load_stard(STARD)
                 if all(any(norm(g)[:25] in t for t in texts) for g in q.gold)]
    idx = tmp_path_factory.mktemp("stard") / "index"
    ingest(files, idx, embedder=fake_embedder)
    return idx, questions


def test_score_question_counts_each_gold_article_once():
    gold = ["当事人因遭受家庭暴力或者面临家庭暴力的现实危险，向人民法院申请人身安全保护令的，人民法院应当受理。",
            "人身安全保护令由人民法院以裁定形式作出。"]
    ranking = ["无关", "人身安全保护令由人民法院以裁定形式作出。", "人身安全保护令由人民法院以裁定形式作出。"]
    recall, rr = score_question(gold, ranking)
    assert recall == {5: 0.5, 10: 0.5, 100: 0.5} and rr == 0.5
    # NFKC and whitespace: the parser's ASCII comma matches the gold's full-width one
    recall, rr = score_question(gold[:1], ["当事人因遭受家庭暴力或者面临家庭暴力的现实危险,向人民法院\n申请人身安全保护令的"])
    assert recall[5] == 1.0 and rr == 1.0
    assert score_question(gold, ["x"] * 11 + [gold[0]]) == ({5: 0.0, 10: 0.0, 100: 0.5}, 0.0)


def test_bad_line_is_named(tmp_path):
    from kb.errors import InputError

    bad = tmp_path / "q.jsonl"
    bad.write_text('{"id": 1, "q": "问题", "gold": ["第一条"]}\n{"id": 2, "q": "问题"}\n', "utf-8")
    with pytest.raises(InputError, match="line 2: not a STARD question"):
        load_stard(bad)


@needs_stard
def test_bm25_on_the_bundled_laws_slice(slice_, fake_embedder):
    from kb.base import KnowledgeBase
    from kb.evaluate_stard import evaluate_stard

    idx, questions = slice_
    assert len(questions) == 6 and len(load_stard(STARD)) == 1235
    report = evaluate_stard(KnowledgeBase.open(idx, embedder=fake_embedder), questions, modes=("bm25",))
    bm25 = report.modes["bm25"]
    assert bm25.n == 6 and set(bm25.recall) == set(KS)
    assert bm25.recall[5] <= bm25.recall[10] <= bm25.recall[100]
    assert bm25.recall[100] >= 5 / 6  # measured: the slice's gold articles are in BM25's top 100
    assert 0.3 <= bm25.mrr <= 1.0


@needs_stard
def test_cli_eval_set_stard_json(slice_, tmp_path):
    idx, questions = slice_
    qfile = tmp_path / "slice.jsonl"
    qfile.write_text("".join(json.dumps({"id": q.id, "q": q.q, "gold": q.gold}, ensure_ascii=False) + "\n"
                             for q in questions), "utf-8")
    run = subprocess.run(kb_cli_with_fake_embedder("eval", str(qfile), "--set", "stard", "--mode", "bm25",
                                                   "--index", str(idx), "--json"),
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["set"] == "stard" and data["questions"] == 6
    assert set(data["modes"]["bm25"]) >= {"recall@5", "recall@10", "recall@100", "mrr@10"}
    assert data["baselines"]["plain RRF of the two"]["recall@10"] == 0.550
