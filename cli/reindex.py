"""`kb reindex`: thin over kb.build.reindex."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.common import BackendOpt, IndexOpt, JsonOpt, NoWaitOpt, UriOpt, emit_json, handle_errors, index_dir, out, say
from cli.main import app


@app.command()
@handle_errors
def reindex(backend: Optional[str] = BackendOpt, uri: Optional[str] = UriOpt, no_wait: bool = NoWaitOpt,
            index: Optional[Path] = IndexOpt, json: bool = JsonOpt) -> None:
    """Rebuild the search indexes from the stored documents as a new generation, e.g. with
    another search backend (`kb reindex --backend milvus`). Vectors already computed are
    reused from the index's cache; an index built before sentence vectors gets them embedded
    now (minutes for the bundled corpus, ~2 h for the national laws)."""
    from kb.build import reindex as run

    report = run(index_dir(index), backend=backend, uri=uri, wait=not no_wait, on_message=say)
    if json:
        return emit_json(report.to_dict())
    from kb.layout import read_manifest

    config = read_manifest(index_dir(index)).get("backend", {})
    where = config.get("uri") or ("milvus-lite" if config.get("name") == "milvus" else "index files")
    out.print(f"reindexed {report.total_clauses} clauses with backend {config.get('name')} ({where}) "
              f"in {report.seconds:.1f}s: {report.generation}", highlight=False)
