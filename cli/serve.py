"""`kb serve`: the HTTP API and the search widget (see api/app.py and docs/api.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from cli.common import IndexOpt, err, handle_errors, index_dir
from cli.main import app


@app.command()
@handle_errors
def serve(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
          port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
          index: Optional[Path] = IndexOpt) -> None:
    """Serve the HTTP API (/api/…, /docs) and the search widget (/widget, /widget.js).

    Settings come from the environment: KB_INDEX, KB_CORS_ORIGINS (comma-separated origins
    allowed to call the API from browsers; default none), KB_ADMIN_TOKEN (enables
    POST /api/documents), KB_MAX_QUERY_CHARS, KB_MAX_K, KB_MAX_UPLOAD_BYTES."""
    import uvicorn

    from api.app import create_app
    from api.settings import Settings
    from kb import layout

    try:
        settings = Settings.from_env(index_dir=index_dir(index))
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    if not settings.admin_token:
        layout.read_manifest(settings.index_dir)  # fail now (IndexMissing) rather than serve 503s
    err.print(f"policy-kb: http://{host}:{port}/widget  (API docs: /docs)", highlight=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
