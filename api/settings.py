"""Settings of the HTTP API: one frozen table, units in the names, read from the
environment only at the edge (``kb serve``, or uvicorn's ``--factory api.app:app_from_env``).

==========================  ======================  =========================================
variable                    field                   meaning
==========================  ======================  =========================================
``KB_INDEX``                ``index_dir``           index directory (default ``index``)
``KB_CORS_ORIGINS``         ``cors_origins``        comma-separated origins allowed to call the
                                                    API from a browser (default: none)
``KB_ADMIN_TOKEN``          ``admin_token``         enables ``POST /api/documents`` (Bearer)
``KB_MAX_QUERY_CHARS``      ``max_query_chars``     longest ``q`` accepted (default 200)
``KB_MAX_K``                ``max_k``               largest ``k`` accepted (default 50)
``KB_MAX_UPLOAD_BYTES``     ``max_upload_bytes``    largest uploaded document (default 5 MB)
``KB_SEARCH_CONCURRENCY``   ``search_concurrency``  searches/asks computed at once; more wait
                                                    (default 2: the query embedder already uses
                                                    every core, so more only thrash)
==========================  ======================  =========================================

>>> Settings.from_env({"KB_CORS_ORIGINS": "https://www.zengdu.gov.cn, http://localhost:3000"}).cors_origins
('https://www.zengdu.gov.cn', 'http://localhost:3000')
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional


@dataclass(frozen=True)
class Settings:
    """Everything the app needs from its environment; ``create_app`` takes one of these."""

    index_dir: Path = Path("index")
    cors_origins: tuple[str, ...] = ()
    admin_token: Optional[str] = None
    max_query_chars: int = 200
    max_k: int = 50
    max_upload_bytes: int = 5_000_000
    search_concurrency: int = 2

    def __post_init__(self) -> None:
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ValueError("KB_ADMIN_TOKEN must be at least 16 characters; "
                             "generate one with `python -c 'import secrets; print(secrets.token_urlsafe())'`")
        for name in ("max_query_chars", "max_k", "max_upload_bytes", "search_concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, **overrides) -> "Settings":
        """Settings from ``environ`` (default ``os.environ``); ``overrides`` win over the
        environment (e.g. ``--index`` on the command line). Raises ValueError on bad values."""
        env = os.environ if environ is None else environ
        s = cls(
            index_dir=Path(env.get("KB_INDEX") or "index"),
            cors_origins=tuple(o.strip() for o in env.get("KB_CORS_ORIGINS", "").split(",") if o.strip()),
            admin_token=env.get("KB_ADMIN_TOKEN") or None,
            max_query_chars=_int(env, "KB_MAX_QUERY_CHARS", cls.max_query_chars),
            max_k=_int(env, "KB_MAX_K", cls.max_k),
            max_upload_bytes=_int(env, "KB_MAX_UPLOAD_BYTES", cls.max_upload_bytes),
            search_concurrency=_int(env, "KB_SEARCH_CONCURRENCY", cls.search_concurrency),
        )
        return replace(s, **{k: v for k, v in overrides.items() if v is not None})


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
