"""Versions of one law (kb.versions) and the document filters (kb.docfilter), on the
bundled law texts; the index tests use the hash embedder (ranking is not the point)."""
from __future__ import annotations

import pytest

from kb.docfilter import DocFilter
from kb.errors import QueryError
from kb.versions import annotate, superseded, version_date
from tests.conftest import CORPUS, SEED

LAWS = CORPUS / "laws"
WOMEN_2018 = LAWS / "社会法" / "妇女权益保障法(2018-10-26).md"
WOMEN_2022 = LAWS / "社会法" / "妇女权益保障法(2022-10-30).md"
MINORS_2020 = LAWS / "社会法" / "未成年人保护法(2020-10-17).md"
MINORS_2024 = LAWS / "社会法" / "未成年人保护法(2024-04-26).md"


def facts(*paths):
    from kb.parse import parse_file

    return [parse_file(p).facts() for p in paths]


@pytest.fixture(scope="module")
def law_facts():
    """Document facts (as the documents table holds them) of every bundled text."""
    from kb.build import collect_paths

    return annotate(facts(*collect_paths([CORPUS])))


def test_bundled_corpus_is_the_seed_and_16_laws(law_facts):
    assert len(law_facts) == 17
    assert sum(1 for d in law_facts if d["grammar"] == "law") == 16


def test_newest_version_is_current_over_the_bundled_corpus(law_facts):
    assert superseded(law_facts) == {"funvquanyibaozhangfa-2018-10-26": "funvquanyibaozhangfa-2022-10-30",
                                     "weichengnianrenbaohufa-2020-10-17": "weichengnianrenbaohufa-2024-04-26"}


def test_version_date_is_the_last_amendment():
    old, new = facts(WOMEN_2018, WOMEN_2022)
    assert (version_date(old), version_date(new)) == ("2018-10-26", "2022-10-30")


def test_versions_do_not_depend_on_order():
    docs = facts(MINORS_2024, MINORS_2020)
    assert superseded(docs) == superseded(list(reversed(docs))) == {
        "weichengnianrenbaohufa-2020-10-17": "weichengnianrenbaohufa-2024-04-26"}


def test_a_single_version_and_different_titles_supersede_nothing():
    assert superseded(facts(WOMEN_2018, MINORS_2020)) == {}


def test_doc_filter_leaves_out_superseded_unless_asked(law_facts):
    current = DocFilter().select(law_facts)
    assert "funvquanyibaozhangfa-2018-10-26" not in current.ids and len(current.ids) == 15 and current.narrowed
    assert len(DocFilter(versions="all").select(law_facts).ids) == 17
    # naming the old version by id keeps it; the short title means the current version
    assert DocFilter(doc="funvquanyibaozhangfa-2018-10-26").select(law_facts).ids == {"funvquanyibaozhangfa-2018-10-26"}
    assert DocFilter(doc="妇女权益保障法").select(law_facts).ids == {"funvquanyibaozhangfa-2022-10-30"}
    assert len(DocFilter(doc="妇女权益保障法", versions="all").select(law_facts).ids) == 2


def test_doc_filter_by_type_level_issuer(law_facts):
    sel = DocFilter(doc_type="行政法规").select(law_facts)
    assert sel.ids == {"nvzhigonglaodongbaohutebieguiding-2012-04-28", "xiaocheanquanguanlitiaoli-2012-04-05",
                       "muyingbaojianfashishibanfa-2023-07-20"}
    assert DocFilter(level="县区").select(law_facts).ids == {"czf-2022-8"}
    assert len(DocFilter(issuer="全国人民代表大会常务委员会", versions="all").select(law_facts).ids) == 9
    # known values, but no document has both: nothing, with a message
    none = DocFilter(doc_type="行政法规", level="县区").select(law_facts)
    assert none.ids == set() and not none.unknown and "doc_type='行政法规'" in none.message


def test_unknown_filter_value_lists_known_values(law_facts):
    sel = DocFilter(doc_type="火星").select(law_facts)
    assert sel.unknown and sel.message == "no document has type '火星'; known: 法律, 行政法规, 通知"
    sel = DocFilter(doc_type="规章").select(law_facts)  # of the vocabulary, held by no document: nothing
    assert not sel.unknown and sel.ids == set() and sel.message == "no document has type '规章'; known: 法律, 行政法规, 通知"
    with pytest.raises(QueryError, match="no document '妇女法'; known: .*妇女权益保障法"):
        DocFilter(doc="妇女法").ids_or_raise(law_facts)
    with pytest.raises(QueryError, match="unknown versions 'old'; use one of current, all"):
        DocFilter(versions="old")


@pytest.fixture(scope="module")
def versions_index(tmp_path_factory, fake_embedder):
    """The 2022 妇女权益保障法 and the seed, then (a second ingest) the 2018 version."""
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("versions") / "index"
    ingest([WOMEN_2022, SEED], idx, embedder=fake_embedder)
    ingest([WOMEN_2018], idx, embedder=fake_embedder)
    return idx


def test_versions_arriving_in_different_ingests(versions_index, fake_embedder):
    from kb.base import KnowledgeBase

    kb = KnowledgeBase.open(versions_index, embedder=fake_embedder)
    docs = {d["id"]: d for d in kb.documents()}
    assert docs["funvquanyibaozhangfa-2018-10-26"]["version_status"] == "superseded"
    assert docs["funvquanyibaozhangfa-2018-10-26"]["superseded_by"] == "funvquanyibaozhangfa-2022-10-30"
    assert docs["funvquanyibaozhangfa-2022-10-30"]["version_status"] == "current"
    assert [d["id"] for d in kb.documents(versions="current")] == ["czf-2022-8", "funvquanyibaozhangfa-2022-10-30"]
    kb.close()


def test_removing_the_current_version_makes_the_old_one_current(versions_index, fake_embedder, tmp_path):
    import shutil

    from kb.base import KnowledgeBase
    from kb.build import remove_documents

    idx = tmp_path / "index"
    shutil.copytree(versions_index, idx, symlinks=True)
    remove_documents(["funvquanyibaozhangfa-2022-10-30"], idx, embedder=fake_embedder)
    kb = KnowledgeBase.open(idx, embedder=fake_embedder)
    old = {d["id"]: d for d in kb.documents()}["funvquanyibaozhangfa-2018-10-26"]
    assert (old["version_status"], old["superseded_by"]) == ("current", None)
    assert len(kb.clauses(doc="妇女权益保障法")) == 61  # the 2018 text has 61 articles
    kb.close()


def test_clauses_and_search_leave_out_the_old_version(versions_index, fake_embedder):
    from kb.base import KnowledgeBase

    kb = KnowledgeBase.open(versions_index, embedder=fake_embedder)
    assert {c.doc_id for c in kb.clauses(doc_type="法律")} == {"funvquanyibaozhangfa-2022-10-30"}
    assert len(kb.clauses(doc_type="法律", versions="all")) == 86 + 61
    assert len(kb.clauses(doc="funvquanyibaozhangfa-2018-10-26")) == 61
    q = "妇女的生命健康权不受侵犯 禁止溺、弃、残害女婴"  # the 2018 第三十八条
    default = kb.search(q, k=20).hits
    assert default and all(h.clause.doc_id != "funvquanyibaozhangfa-2018-10-26" for h in default)
    both = kb.search(q, k=20, versions="all").hits
    assert "funvquanyibaozhangfa-2018-10-26.a38" in [h.clause.id for h in both]
    kb.close()


def test_two_versions_of_one_article_never_both_fill_the_top_k(versions_index, fake_embedder):
    """第四条 is one article amended between 2018 and 2022: the current version takes the
    better place and the 2018 one moves behind the rest. Most other numbers name different
    articles in the two versions (renumbered: kb.search.same_article), which keep their places."""
    from kb.base import KnowledgeBase
    from kb.search import same_article

    kb = KnowledgeBase.open(versions_index, embedder=fake_embedder)
    hits = kb.search("保障妇女的合法权益是全社会的共同责任", k=100, versions="all", doc="妇女权益保障法").hits
    ids = [h.clause.id for h in hits]
    assert "funvquanyibaozhangfa-2022-10-30.a4" in ids[:3]
    assert "funvquanyibaozhangfa-2018-10-26.a4" not in ids[:10]
    top10 = hits[:10]
    assert not any(a.clause.label == b.clause.label and same_article(a.clause.text, b.clause.text)
                   for i, a in enumerate(top10) for b in top10[i + 1:])
    assert len({h.clause.label for h in hits}) < len(hits)  # renumbered articles of both versions are both there
    kb.close()


def test_only_documents_with_another_version_are_looked_at_for_versions(versions_index, fake_embedder):
    """Searcher.versioned: the 2018 and 2022 妇女权益保障法, not the seed; parts that merely
    share a short title (民法典's 编) are not versions (kb.versions keys on the full title)."""
    from kb.base import KnowledgeBase

    kb = KnowledgeBase.open(versions_index, embedder=fake_embedder)
    kb.warm_up()
    assert kb.searcher.versioned == {"funvquanyibaozhangfa-2018-10-26", "funvquanyibaozhangfa-2022-10-30"}
    kb.close()
