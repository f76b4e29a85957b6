"""Opening an index reads no whole clause table: clauses are fetched by id (kb.store.ClauseTable),
filters go through SQL, and both agree with the clauses as stored."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SEED
from kb.errors import QueryError
from kb.base import KnowledgeBase
from kb.search import Filters

DV = Path(__file__).resolve().parents[1] / "corpus" / "laws" / "社会法" / "反家庭暴力法(2015-12-27).md"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, fake_embedder):
    from kb.build import ingest

    idx = tmp_path_factory.mktemp("lazy") / "index"
    ingest([SEED, DV], idx, embedder=fake_embedder)
    base = KnowledgeBase.open(idx, embedder=fake_embedder)
    yield base
    base.close()


def test_search_fetches_only_its_candidates(mixed):
    result = mixed.search("家庭暴力 人身安全保护令", k=5)
    table = mixed.searcher.clauses
    assert table._all is None  # the whole table was never loaded
    from kb.search import SETTINGS

    depth = max(SETTINGS["candidates_per_retriever"], SETTINGS.get("normalisation_depth", 0))
    assert 0 < len(table._light) <= 2 * depth  # candidates, read for ranking only
    assert len(table._lru) == 5  # whole clauses: the k returned
    assert len(table) == mixed.store.count("clauses") == 357 + 38  # the seed and the law
    top = result.hits[0].clause
    assert top.doc_id == "fanjiatingbaolifa-2015-12-27" and top.label
    assert top.id in table and "no-such-clause" not in table


@pytest.mark.parametrize("filters", [Filters(plan="儿童"), Filters(plan="儿童", section="策略措施"),
                                     Filters(domain="儿童安全"), Filters(department="教育局"),
                                     Filters(year=2025), Filters(doc="反家庭暴力法"), Filters(doc_type="法律")])
def test_sql_filters_match_the_stored_clauses(mixed, filters):
    searcher = mixed.searcher
    searcher.warm_up()
    allowed, message = searcher.allowed_ids(filters)
    every = mixed.store.clauses()
    docs = filters.documents().select(searcher.documents.values())
    expect = {c.id for c in every
              if (not docs.narrowed or c.doc_id in docs.ids)
              and all(getattr(c, col) == getattr(filters, col) for col in ("plan", "domain", "section")
                      if getattr(filters, col) is not None)
              and (filters.department is None
                   or any(d.name == searcher.lexicon.resolve(filters.department) for d in c.departments))
              and (filters.year is None or any(t.meets_year(filters.year) for t in c.targets))}
    assert expect and allowed == expect, message


def test_unknown_filter_value_lists_known_ones(mixed):
    with pytest.raises(QueryError, match="儿童安全"):
        mixed.searcher.allowed_ids(Filters(domain="不存在的领域"))


def test_manifest_for_another_corpus_is_stale_without_reading_clauses(mixed, tmp_path, fake_embedder):
    import json
    import shutil

    from kb.errors import IndexStale

    copy = tmp_path / "index"
    shutil.copytree(mixed.index_dir, copy, symlinks=True)
    manifest = json.loads((copy / "manifest.json").read_text("utf-8"))
    manifest["corpus_sha256"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(IndexStale, match="do not match the stored clauses"):
        KnowledgeBase.open(copy, embedder=fake_embedder).search("家庭暴力")


def test_repeated_query_embeds_once(mixed):
    from kb.embed import QueryCache

    emb = mixed.searcher.embedder
    assert isinstance(emb, QueryCache)
    misses = emb.misses
    first = mixed.search("单位和个人发现家庭暴力应当如何处理", k=3, mode="dense")
    again = mixed.search("单位和个人发现家庭暴力应当如何处理", k=3, mode="dense")
    assert emb.misses == misses + 1 and emb.hits >= 1
    assert [h.clause.id for h in first.hits] == [h.clause.id for h in again.hits]
    assert QueryCache(emb.inner, size=1).embed_queries([]).shape == (0, emb.dim)


def test_hits_are_whole_clauses_though_candidates_are_read_partly(mixed):
    """Ranking reads candidates without their path or tags (ClauseTable.for_ranking); the k
    returned carry both: 反家庭暴力法 第二十三条 with its path, the seed's 妇女与健康 clauses their
    department tags."""
    table = mixed.searcher.clauses
    table._lru.clear()
    hits = mixed.search("人身安全保护令 申请", k=3).hits
    assert all(h.clause.path and h.clause.short_path for h in hits)
    light = table._light[hits[0].clause.id]
    assert light.path == [] and light.text == hits[0].clause.text
    tagged = mixed.search("卫生健康 妇女 健康", k=5).hits  # no department named: candidates untagged
    stored = {h.clause.id: mixed.store.clause(h.clause.id) for h in tagged}
    assert [h.clause.departments for h in tagged] == [stored[h.clause.id].departments for h in tagged]
    assert any(d.name == "区卫生健康局" for h in tagged for d in h.clause.departments)
    partial = table.for_ranking([hits[0].clause.id, "no-such-clause"], tags=True)
    assert list(partial) == [hits[0].clause.id]
