"""Search backends behind one seam (``kb.retrievers.base.Retriever``), picked by name.

=========  =====================================================================
embedded   default: bm25s BM25 + FAISS files in the generation (kb.sparse, kb.dense)
milvus     pymilvus: milvus-lite in the generation, or a Milvus cluster (``--uri``)
=========  =====================================================================

The manifest's ``backend`` entry records which one a generation was built with, so readers
(``kb search``, ``kb ask``, ``kb serve``) open it without being told; switching is one option
at build time (``kb reindex --backend milvus``), never a code change. The SQLite store stays
the source of truth: any backend's index is rebuilt from it. See docs/backends.md.

>>> r = open_retriever(gen, manifest)          # the backend the manifest names
>>> r = create_retriever(gen, {"name": "milvus", "uri": None})   # for a build
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from kb.errors import IndexStale, KbError
from kb.retrievers.base import LISTS, Passages, Ranked, RetrievalQuery, Retriever, Scope

BACKENDS = ("embedded", "milvus")
__all__ = ["BACKENDS", "LISTS", "Passages", "Ranked", "RetrievalQuery", "Retriever", "Scope",
           "backend_config", "create_retriever", "open_retriever"]


def backend_config(gen: Path, name: Optional[str] = None, uri: Optional[str] = None,
                   previous: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The backend entry for building generation ``gen``: ``name`` (embedded | milvus) with
    ``uri`` (Milvus only: a server address; None = milvus-lite), else the ``previous``
    generation's backend (so an ingest keeps the backend chosen before), else embedded.
    Raises KbError for an unknown name, or a ``uri`` given without the milvus backend."""
    if name is None and uri is not None:
        name = "milvus"
    if name is None:
        prev = dict(previous or {"name": "embedded"})
        name, uri = prev.get("name", "embedded"), prev.get("uri")
    if name not in BACKENDS:
        raise KbError(f"unknown backend {name!r}; use one of {', '.join(BACKENDS)}")
    if name == "embedded":
        if uri is not None:
            raise KbError("--uri is for --backend milvus; the embedded backend keeps its files in the index")
        return {"name": "embedded"}
    from kb.retrievers.milvus import new_config

    config = new_config(gen, uri)
    if previous and previous.get("name") == "milvus":
        config.update({k: previous[k] for k in ("alias", "token_env", "fusion") if k in previous})
    return config


def create_retriever(gen: Path, config: dict[str, Any]) -> Retriever:
    """A retriever that will ``build`` generation ``gen`` with backend ``config``."""
    if config["name"] == "milvus":
        from kb.retrievers.milvus import MilvusRetriever

        return MilvusRetriever.create(gen, config)
    from kb.retrievers.embedded import EmbeddedRetriever

    return EmbeddedRetriever(gen)


def open_retriever(gen: Path, manifest: dict[str, Any]) -> Retriever:
    """Open generation ``gen`` with the backend its manifest names (embedded when none, as
    for indexes built before the seam). Raises IndexStale for an unknown backend,
    IndexMissing when its data is gone, KbError when a Milvus server cannot be reached."""
    config = manifest.get("backend") or {"name": "embedded"}
    if config.get("name") == "milvus":
        from kb.retrievers.milvus import MilvusRetriever

        return MilvusRetriever.open(gen, config)
    if config.get("name") == "embedded":
        from kb.retrievers.embedded import EmbeddedRetriever

        return EmbeddedRetriever.open(gen, config)
    raise IndexStale(f"the index was built with search backend {config.get('name')!r}, which this version "
                     f"does not know ({', '.join(BACKENDS)}); rebuild it: kb reindex --backend embedded")
