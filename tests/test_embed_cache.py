"""The persistent embedding cache (kb.embed_cache): resumable and incremental ingest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import HashEmbedder
from kb import layout
from kb.build import ingest, remove_documents
from kb.embed_cache import VectorCache, cache_path, passage_key
from kb.indexes import passage_text, sentence_texts

LAWS = Path(__file__).resolve().parents[1] / "corpus" / "laws"
SMALL = LAWS / "行政法规" / "女职工劳动保护特别规定(2012-04-28).md"   # 16 articles
DV = LAWS / "社会法" / "反家庭暴力法(2015-12-27).md"                   # 38 articles


def embedded_texts(index) -> set[str]:
    """What an ingest embeds for the index's clauses: each passage and each sentence of the
    longer ones (kb.indexes.embed_clauses), each distinct text once."""
    from kb.store import Store

    store = Store(layout.current_generation(index) / layout.STORE_FILE, readonly=True)
    try:
        return {t for c in store.clauses(with_tags=False) for t in (passage_text(c), *sentence_texts(c))}
    finally:
        store.close()


class CountingEmbedder(HashEmbedder):
    """HashEmbedder that counts the passages it embeds and can fail after ``fail_after`` calls
    (an ingest killed mid-embed)."""

    def __init__(self, fail_after: int | None = None):
        self.passages, self.calls, self.fail_after = 0, 0, fail_after

    def embed_passages(self, texts):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("killed mid-embed")
        self.calls += 1
        self.passages += len(texts)
        return self._embed(texts)


def test_cache_round_trip_and_survives_reopen(tmp_path):
    path = cache_path(tmp_path)
    keys = [passage_key("m", t) for t in ("第一条", "第二条")]
    vecs = np.arange(8, dtype=np.float32).reshape(2, 4)
    cache = VectorCache(path)
    cache.put_many(keys, vecs)
    cache.close()
    again = VectorCache(path)
    got = again.get_many(keys + [passage_key("m", "第三条")], dim=4)
    assert len(again) == 2 and set(got) == set(keys)
    assert np.array_equal(got[keys[1]], vecs[1])
    assert again.get_many(keys, dim=8) == {}  # another width is another model's vector
    with pytest.raises(ValueError, match="2 keys but vectors of shape"):
        again.put_many(keys, vecs[:1])


def test_damaged_cache_is_moved_aside(tmp_path):
    path = cache_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database" * 100)
    cache = VectorCache(path)
    assert len(cache) == 0
    assert list(path.parent.glob("embeddings.sqlite.damaged-*"))


def test_killed_ingest_resumes_without_embedding_twice(tmp_path):
    index = tmp_path / "index"
    whole = CountingEmbedder()
    ingest([SMALL, DV], tmp_path / "whole", embedder=whole)
    assert whole.passages > 40

    killed = CountingEmbedder(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        ingest([SMALL, DV], index, embedder=killed)
    assert killed.passages == 32  # two committed batches of 16
    with pytest.raises(Exception):
        layout.current_generation(index)  # nothing committed: no generation
    assert len(VectorCache(cache_path(index))) == 32

    resumed = CountingEmbedder()
    report = ingest([SMALL, DV], index, embedder=resumed)
    assert resumed.passages == whole.passages - 32
    assert whole.passages == len(embedded_texts(index)) > report.total_clauses == 54  # 16 + 38 articles
    assert set(report.stages) >= {"parse", "tag", "store", "bm25", "embed", "index"}


def test_incremental_add_change_remove_embed_only_that_document(tmp_path):
    index = tmp_path / "index"
    first = CountingEmbedder()
    ingest([SMALL], index, embedder=first)
    before = embedded_texts(index)
    assert first.passages == len(before)
    added = CountingEmbedder()
    ingest([DV], index, embedder=added)
    assert added.passages == len(embedded_texts(index) - before)  # only the new law's articles

    changed = tmp_path / SMALL.name
    text = SMALL.read_text("utf-8")
    changed.write_text(text.replace("第一条 为了减少", "第一条 为了更好地减少", 1), "utf-8")
    before = embedded_texts(index)
    again = CountingEmbedder()
    ingest([changed], index, embedder=again)
    new = embedded_texts(index) - before
    assert again.passages == len(new) and 1 <= len(new) <= 2  # one changed article (and its changed sentence)
    assert all("为了更好地减少" in t for t in new)

    gone = CountingEmbedder()
    doc_id = next(d for d in ingest([changed], index, embedder=gone).documents)
    remove_documents([doc_id], index, embedder=gone)
    assert gone.passages == 0


class WindowedEmbedder(HashEmbedder):
    """One token per character, a window of 64 tokens."""

    max_tokens = 64

    def token_count(self, text):
        return len(text) + 2


def test_long_article_is_cut_to_the_window_keeping_its_head():
    from kb.indexes import fit_to_window

    emb = WindowedEmbedder()
    head = "中华人民共和国反家庭暴力法 › 第二十三条\n当事人因遭受家庭暴力"
    cut = fit_to_window(emb, head + "或者面临家庭暴力的现实危险" * 10)
    assert cut.startswith(head) and emb.token_count(cut) == 64
    assert fit_to_window(emb, head) == head
