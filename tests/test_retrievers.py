"""The search-backend seam (kb.retrievers): both backends behind one protocol, on the seed
indexed with the hash embedder (fast); retrieval quality on the bundled corpus with the real
model is in tests/test_retrievers_quality.py."""
from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from kb.base import KnowledgeBase
from kb.build import reindex
from kb.errors import IndexStale, KbError
from kb.retrievers import Passages, RetrievalQuery, Scope, backend_config, open_retriever
from kb.retrievers.milvus import MilvusRetriever, filter_expression
from tests.conftest import in_forked_child, kb_cli_with_fake_embedder


@pytest.fixture(scope="module")
def milvus_index(tmp_path_factory, fake_index, fake_embedder):
    """The seed (hash embedder) reindexed with the milvus backend on milvus-lite; read-only."""
    idx = tmp_path_factory.mktemp("kb-milvus") / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    reindex(idx, backend="milvus", embedder=fake_embedder)
    return idx


@pytest.fixture(scope="module")
def milvus_kb(milvus_index, fake_embedder):
    base = KnowledgeBase.open(milvus_index, embedder=fake_embedder)
    base.warm_up()
    yield base
    base.close()


@pytest.fixture(scope="module")
def embedded_kb(fake_index, fake_embedder):
    base = KnowledgeBase.open(fake_index, embedder=fake_embedder)
    base.warm_up()
    yield base
    base.close()


def test_manifest_names_the_backend_and_readers_use_it(milvus_kb, embedded_kb):
    backend = milvus_kb.manifest["backend"]
    assert backend["name"] == "milvus" and backend["uri"] is None
    assert backend["collection"] == "kb_" + milvus_kb.manifest["generation"].replace("-", "_")
    assert (milvus_kb.generation / "milvus" / "lite.db").is_dir()
    assert not (milvus_kb.generation / "dense").exists()
    assert isinstance(milvus_kb.searcher.retriever, MilvusRetriever)
    assert embedded_kb.manifest["backend"] == {"name": "embedded"}


def test_dense_lists_agree_exactly(milvus_kb, embedded_kb, fake_embedder):
    """Both backends search the same vectors exactly (FLAT inner product at this size)."""
    q = RetrievalQuery("儿童溺水", ["儿童", "溺水"], fake_embedder.embed_queries(["预防儿童溺水"])[0])
    a = milvus_kb.searcher.retriever.search(q, 20, lists=("dense",))["dense"]
    b = embedded_kb.searcher.retriever.search(q, 20, lists=("dense",))["dense"]
    assert [r.id for r in a] == [r.id for r in b]
    assert np.allclose([r.score for r in a], [r.score for r in b], atol=1e-5)


def test_bm25_finds_the_drowning_clause_first_on_both(milvus_kb, embedded_kb):
    for base in (milvus_kb, embedded_kb):
        hits = base.search("儿童溺水", k=3, mode="bm25").hits
        assert "儿童/儿童安全" in hits[0].clause.short_path, base.manifest["backend"]
        assert all(h.ranks.get("bm25") and h.raw["bm25"] > 0 for h in hits)


@pytest.mark.parametrize("filters", [dict(plan="妇女"), dict(section="策略措施", plan="儿童"),
                                     dict(domain="儿童安全"), dict(department="教育局"), dict(year=2025),
                                     dict(plan="儿童", year=2030)])
def test_filter_expressions_select_the_allowed_clauses(milvus_kb, filters):
    """Milvus' filter expression and the Searcher's allowed ids are the same clauses."""
    from kb.search import Filters

    s = milvus_kb.searcher
    f = Filters(**filters)
    allowed, message = s.allowed_ids(f)
    assert allowed, message
    scope, _ = s.scope_of(f)
    assert s.retriever.count(scope) == len(allowed) > 0
    hits = milvus_kb.search("儿童 健康 教育", k=20, **filters).hits
    assert hits and {h.clause.id for h in hits} <= allowed


def test_filter_expression_quotes_values():
    expr = filter_expression(Scope(doc_ids=frozenset({'a"b'}), plan="儿童", department="区\\教育局", year=2030))
    assert expr == ('doc_id in ["a\\"b"] and plan == "儿童" and array_contains(departments, "区\\\\教育局") '
                    'and array_contains(target_years, 2030)')
    assert filter_expression(Scope()) == ""


def test_hostile_filter_value_is_not_syntax(milvus_kb):
    """A value that would widen the expression if pasted in selects nothing in Milvus."""
    r = milvus_kb.searcher.retriever
    assert r.count(Scope(ids=frozenset({"x"}), doc_ids=frozenset({'x"] or doc_id != ["'}))) == 0
    assert r.count(Scope(ids=frozenset({"x"}), plan='妇女" or plan != "')) == 0
    assert r.count(Scope(ids=frozenset({"x"}), plan="妇女")) > 0


def test_hybrid_search_fusion_in_milvus(milvus_kb, fake_embedder):
    """fusion=rrf: one hybrid_search with RRFRanker instead of two lists fused by the Searcher
    (over the clause vectors: Milvus' hybrid_search does not read the sentence collection)."""
    r = milvus_kb.searcher.retriever
    q = RetrievalQuery("儿童溺水", ["儿童", "溺水"], fake_embedder.embed_queries(["儿童溺水"])[0])
    assert r.has_sentences
    r.has_sentences = False
    try:
        two = r.search(q, 10)
        r.config["fusion"] = "rrf"
        one = r.search(q, 10)
    finally:
        r.config["fusion"] = "searcher"
        r.has_sentences = True
    assert set(one) == {"hybrid"} and set(two) == {"bm25", "dense"}
    from kb.fuse import rrf

    expected = [f.id for f in rrf([[(h.id, h.score) for h in two["bm25"]], [(h.id, h.score) for h in two["dense"]]],
                                  k=60)][:3]
    assert [h.id for h in one["hybrid"]][:3] == expected


@pytest.mark.parametrize("backend", ["embedded", "milvus"])
def test_add_and_remove_a_document(backend, tmp_path, fake_index, fake_embedder):
    """The Retriever protocol's add/remove on both backends: the seed's 妇女 plan removed is not
    found any more, added back it is found again."""
    from kb.indexes import sparse_text
    from kb.segment import Segmenter
    idx = tmp_path / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    reindex(idx, backend=backend, embedder=fake_embedder)
    base = KnowledgeBase.open(idx, embedder=fake_embedder)
    try:
        clauses = [c for c in base.store.clauses() if c.plan == "妇女"]
        base.warm_up()
        r = base.searcher.retriever
        q = RetrievalQuery("妇女", ["妇女", "健康"], fake_embedder.embed_queries(["妇女健康"])[0])
        women = {c.id for c in clauses}
        assert women & {h.id for h in r.search(q, 10)["bm25"]}
        r.remove([c.id for c in clauses])
        after = r.search(q, 50)
        assert not women & {h.id for lst in after.values() for h in lst}
        seg = Segmenter(user_words=[])
        texts = [sparse_text(c) for c in clauses]
        r.add(Passages(clauses, texts, [seg.cut(t) for t in texts],
                       fake_embedder.embed_passages(texts), {}, []))
        back = r.search(q, 10)
        assert women & {h.id for h in back["bm25"]} and women & {h.id for h in back["dense"]}
    finally:
        base.close()


def test_alias_moves_to_the_new_collection(tmp_path, fake_index, fake_embedder):
    """A rebuild into the same Milvus points the alias at the new collection (alter_alias)."""
    idx = tmp_path / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    reindex(idx, backend="milvus", embedder=fake_embedder)
    base = KnowledgeBase.open(idx, embedder=fake_embedder)
    base.warm_up()
    try:
        r = base.searcher.retriever
        first = r.collection
        assert r.client.describe_alias("kb_clauses")["collection_name"] == first
        second = MilvusRetriever(r.gen, dict(r.config, collection=first + "_b"), r.client)
        clauses = base.store.clauses()[:20]
        second.build(Passages(clauses, [c.text for c in clauses], [[c.text[:2]] for c in clauses],
                              fake_embedder.embed_passages([c.text for c in clauses]), {}, []))
        assert r.client.describe_alias("kb_clauses")["collection_name"] == first + "_b"
        hits = r.client.search("kb_clauses", data=[fake_embedder.embed_queries([clauses[3].text])[0].tolist()],
                               anns_field="dense", limit=1, output_fields=["id"])
        assert hits[0][0]["id"] == clauses[3].id
    finally:
        base.close()


def test_cli_reindex_then_search_in_another_process(tmp_path, fake_index):
    """`kb reindex --backend milvus`, then `kb search` in a second process while this one owns
    the milvus-lite directory: it connects through the owner's endpoint."""
    idx = tmp_path / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    run = subprocess.run(kb_cli_with_fake_embedder("reindex", "--backend", "milvus", "--index", str(idx)),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "backend milvus (milvus-lite)" in run.stdout and run.stderr.strip() == ""
    from tests.conftest import HashEmbedder

    owner = KnowledgeBase.open(idx, embedder=HashEmbedder())
    owner.warm_up()
    try:
        assert (owner.generation / "milvus" / "endpoint.json").exists()
        run = subprocess.run(kb_cli_with_fake_embedder("search", "儿童溺水", "-k", "3", "--json", "--index", str(idx)),
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        hits = json.loads(run.stdout)
        assert hits[0]["short_path"] == owner.search("儿童溺水", k=3).hits[0].clause.short_path
    finally:
        owner.close()
    run = subprocess.run(kb_cli_with_fake_embedder("reindex", "--backend", "embedded", "--index", str(idx), "--json"),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert json.loads((idx / "manifest.json").read_text())["backend"] == {"name": "embedded"}


def test_ingest_keeps_the_backend_chosen_before(tmp_path, milvus_index, fake_embedder):
    from kb.build import ingest
    from tests.conftest import OTHER_DOC

    idx = tmp_path / "index"
    shutil.copytree(milvus_index, idx, symlinks=True)
    doc = tmp_path / "laonian.txt"
    doc.write_text(OTHER_DOC, "utf-8")
    ingest([doc], idx, embedder=fake_embedder, allow_unstructured=True)
    base = KnowledgeBase.open(idx, embedder=fake_embedder)
    try:
        assert base.manifest["backend"]["name"] == "milvus"
        assert any("养老" in h.clause.text for h in base.search("养老服务", k=3).hits)
    finally:
        base.close()


def test_bad_backend_options_say_what_to_do(tmp_path):
    with pytest.raises(KbError, match="unknown backend 'faiss'; use one of embedded, milvus"):
        backend_config(tmp_path / "gen-x", "faiss")
    with pytest.raises(KbError, match="not a Milvus server address"):
        backend_config(tmp_path / "gen-x", "milvus", "localhost:19530")
    with pytest.raises(KbError, match="--uri is for --backend milvus"):
        backend_config(tmp_path / "gen-x", "embedded", "http://h:19530")
    assert backend_config(tmp_path / "gen-x", uri="http://h:19530")["uri"] == "http://h:19530"
    assert backend_config(tmp_path / "gen-x", previous={"name": "embedded"}) == {"name": "embedded"}
    with pytest.raises(IndexStale, match="search backend 'elastic'"):
        open_retriever(tmp_path, {"backend": {"name": "elastic"}})


def test_server_uri_path_with_alias_and_dropping_pruned_collections(tmp_path, fake_index, fake_embedder, monkeypatch):
    """--uri http://…: the cluster code path, against milvus-lite's own gRPC server. Four
    rebuilds: the alias follows the newest collection, and the collection of the generation
    kb.layout pruned is dropped — only ours (another collection on the server stays)."""
    from milvus_lite.adapter.grpc.server import start_server_in_thread
    from pymilvus import MilvusClient

    server, db, port = start_server_in_thread(str(tmp_path / "server"), host="127.0.0.1", port=0)
    uri = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("KB_MILVUS_TOKEN", "root:Milvus")
    try:
        admin = MilvusClient(uri=uri)
        admin.create_collection("kb_gen_someone_else", dimension=4)
        idx = tmp_path / "index"
        shutil.copytree(fake_index, idx, symlinks=True)
        collections = []
        for _ in range(4):
            reindex(idx, backend="milvus" if not collections else None, uri=uri if not collections else None,
                    embedder=fake_embedder)
            collections.append(json.loads((idx / "manifest.json").read_text())["backend"]["collection"])
        assert json.loads((idx / "manifest.json").read_text())["backend"]["uri"] == uri
        assert not (idx / json.loads((idx / "manifest.json").read_text())["generation"] / "milvus" / "lite.db").exists()
        names = set(admin.list_collections())
        assert collections[0] not in names and set(collections[1:]) <= names and "kb_gen_someone_else" in names
        assert admin.describe_alias("kb_clauses")["collection_name"] == collections[-1]
        base = KnowledgeBase.open(idx, embedder=fake_embedder)
        try:
            assert "儿童安全" in base.search("儿童溺水", k=1).hits[0].clause.short_path
        finally:
            base.close()
        admin.close()
    finally:
        server.stop(grace=0)
        db.close()


def test_unreachable_server_says_so(tmp_path, fake_index, fake_embedder, monkeypatch):
    """Nothing is committed: the index stays on its backend."""
    import kb.retrievers.milvus as km

    idx = tmp_path / "index"
    shutil.copytree(fake_index, idx, symlinks=True)
    monkeypatch.setitem(km.SETTINGS, "timeout_s", 2.0)
    with pytest.raises(KbError, match="cannot reach Milvus at http://127.0.0.1:9"):
        reindex(idx, backend="milvus", uri="http://127.0.0.1:9", embedder=fake_embedder)
    assert json.loads((idx / "manifest.json").read_text())["backend"] == {"name": "embedded"}


def test_cli_bad_backend_fails_before_parsing(tmp_path):
    from typer.testing import CliRunner

    from cli.main import app
    from tests.conftest import SEED

    result = CliRunner().invoke(app, ["ingest", str(SEED), "--backend", "faiss", "--index", str(tmp_path / "i")])
    assert result.exit_code == 1
    assert "unknown backend 'faiss'; use one of embedded, milvus" in result.output
    assert not (tmp_path / "i" / "manifest.json").exists()


def _hybrid_lists(kb, query):
    return {n: [h.id for h in hits] for n, hits in kb.searcher.retriever.search(query, 20).items()}


def test_embedded_lists_are_those_of_each_index_and_survive_fork(embedded_kb, fake_embedder):
    """Both lists at once (FAISS on a pool thread beside BM25) are exactly each index alone;
    a forked child (a ``kb serve`` worker) gets its own pool instead of the parent's dead threads."""
    retriever = embedded_kb.searcher.retriever
    query = RetrievalQuery("预防和控制儿童溺水", ["预防", "控制", "儿童", "溺水"],
                           fake_embedder.embed_queries(["预防和控制儿童溺水"])[0])
    both = retriever.search(query, 20)
    assert both["bm25"] == retriever.search(query, 20, lists=("bm25",))["bm25"]
    assert both["dense"] == retriever.search(query, 20, lists=("dense",))["dense"]
    top = embedded_kb.searcher.clauses[both["bm25"][0].id]
    assert top.short_path == "儿童/儿童安全/策略措施/3" and "溺水" in top.text
    assert in_forked_child(_hybrid_lists, embedded_kb, query) == {n: [h.id for h in hits] for n, hits in both.items()}
