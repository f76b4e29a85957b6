"""The HTTP API and the search widget: thin routes over ``kb.base.KnowledgeBase``.

Each route is the library call of the same name plus translation of named errors
(``NotFound`` → 404, ``QueryError``/``InputError`` → 422, ``IndexLocked``/``LossRefused``
→ 409, ``IndexMissing``/``IndexStale`` → 503); every error body is a ``Problem``
(``{"detail": "what to fix"}``; for parameters that break the schema, FastAPI's list). The knowledge base opens once,
in the lifespan, with its search models warmed, behind a ``kb.follow.Follower``: when
another process (``kb ingest``, ``kb remove``) commits a new generation, the server opens
it in the background and switches between requests; requests in flight finish on the old
one. An upload (``POST /api/documents``, enabled by an admin token; without one it
answers 403 saying so) ingests under the index's writer lock and switches at once.
HEAD is answered on every GET route (load-balancer probes); ``/docs`` uses local assets
(fastapi-offline), so it works on an intranet without internet.

Run: ``kb serve`` or ``uvicorn --factory api.app:app_from_env``.

>>> from fastapi.testclient import TestClient
>>> with TestClient(create_app(Settings(index_dir=Path("index")))) as c:   # doctest: +SKIP
...     c.get("/api/search", params={"q": "儿童溺水"}).json()[0]["heading"]
'预防和控制儿童溺水'
"""

import logging
import re
import secrets
import tempfile
from contextlib import ExitStack, asynccontextmanager, contextmanager
from importlib import resources
from pathlib import Path
from typing import Annotated, AsyncIterator, Iterator, Literal, Optional

import anyio

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Path as PathParam, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import AfterValidator

from api import models as m
from api.head import HeadAsGet
from api.settings import Settings
from kb.base import KnowledgeBase
from kb.errors import (IndexLocked, IndexMissing, IndexStale, InputError, KbError, LossRefused, NotFound, ParseError,
                       QueryError)
from kb.follow import Follower

log = logging.getLogger("kb.api")

ERRORS = {404: {"model": m.Problem, "description": "Unknown id or name"},
          422: {"model": m.Problem, "description": "A parameter the server cannot accept; detail says which"},
          503: {"model": m.Problem, "description": "No usable index: run `kb ingest`"}}
CSV_BOM = "\ufeff"
# The widget page may be framed by any portal; it loads only its own script and talks only
# to this server. Inline styles are allowed for the widget's own <style> element.
UPLOADS_DISABLED = "uploads are disabled on this server: set KB_ADMIN_TOKEN (≥16 characters) to enable them"
WIDGET_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
              "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'")


def create_app(settings: Settings, embedder=None) -> FastAPI:
    """The FastAPI app for ``settings``; the knowledge base opens when the app starts.
    ``embedder`` (see ``kb.embed``) is an already loaded model to use instead of the
    one named in the index manifest (tests share one)."""
    app = FastAPIOffline(title="policy-kb 政策文件知识库", version="0.1.0", lifespan=_lifespan,
                         description="Search, browse and ask questions of Chinese government plan documents.")
    app.state.settings = settings
    app.state.embedder = embedder
    app.state.follower = Follower(settings.index_dir, _opener(embedder))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET"], allow_headers=[])
    app.add_middleware(HeadAsGet)
    app.include_router(_read_routes(settings))
    app.include_router(_admin_routes(settings) if settings.admin_token else _uploads_disabled_routes())
    app.include_router(_widget_routes())
    return app


def app_from_env() -> FastAPI:
    """``create_app`` with settings from the environment (for ``uvicorn --factory``)."""
    return create_app(Settings.from_env())


# ---------------------------------------------------------------------- lifecycle
@asynccontextmanager
async def _lifespan(app: FastAPI):
    app.state.search_slots = anyio.Semaphore(app.state.settings.search_concurrency)
    try:
        await run_in_threadpool(app.state.follower.start)
    except (IndexMissing, IndexStale) as e:
        log.warning("serving without an index: %s", e)
    yield
    app.state.follower.close()


def open_warm(index_dir: Path, embedder=None) -> KnowledgeBase:
    """Open the index and load its search models now, so no request pays for it.
    ``embedder`` reuses an already loaded model (after an upload)."""
    kb = KnowledgeBase.open(index_dir, embedder=embedder)
    kb.warm_up()
    return kb


def _opener(embedder=None):
    """How the follower opens a generation: warmed, with the given ``embedder``, else the
    model the previous generation loaded when the new manifest names the same one."""
    def open_generation(index_dir: Path, previous: Optional[KnowledgeBase]) -> KnowledgeBase:
        model = embedder
        if model is None and previous is not None:
            from kb.layout import read_manifest

            loaded = previous.searcher.embedder
            try:
                model = loaded if read_manifest(index_dir).get("model") == loaded.name else None
            except KbError:
                model = None
        return open_warm(index_dir, model)

    return open_generation


def get_kb(request: Request) -> Iterator[KnowledgeBase]:
    """The knowledge base being served, leased for the request (see kb.follow); 503 when
    there is none."""
    with ExitStack() as stack:
        try:
            kb = stack.enter_context(request.app.state.follower.lease())
        except KbError as e:
            raise HTTPException(503, str(e)) from e
        yield kb


KB = Annotated[KnowledgeBase, Depends(get_kb)]


async def search_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of ``search_concurrency`` slots for the request: the query embedder uses
    every core already, so running more at once only slows all of them. Waiting is async,
    so queued requests hold no worker thread."""
    async with request.app.state.search_slots:
        yield


Slot = Depends(search_slot)


@contextmanager
def http_errors() -> Iterator[None]:
    """Re-raise the library's named errors as HTTP errors with the same message."""
    try:
        yield
    except NotFound as e:
        raise HTTPException(404, str(e)) from e
    except (QueryError, InputError, ParseError) as e:
        raise HTTPException(422, str(e)) from e
    except (IndexLocked, LossRefused) as e:
        raise HTTPException(409, str(e)) from e
    except (IndexMissing, IndexStale) as e:
        raise HTTPException(503, str(e)) from e
    except KbError as e:
        raise HTTPException(500, str(e)) from e


# ---------------------------------------------------------------------- read-only API
def _doc_query(default_versions: str):
    """A dependency reading the document filters (``doc``, ``type``, ``level``, ``issuer``,
    ``versions``; see kb.docfilter) into the KnowledgeBase keyword arguments."""

    def doc_filters(doc: Annotated[Optional[str], Query(description="Document id, or short title (妇女权益保障法)")] = None,
                    type: Annotated[Optional[str], Query(description="Document type: 规划, 通知, 法律, 行政法规…")] = None,
                    level: Annotated[Optional[str], Query(description="国家, 省, 市 or 县区")] = None,
                    issuer: Annotated[Optional[str], Query(description="Issuing body, e.g. 国务院")] = None,
                    versions: Annotated[Literal["current", "all"], Query(
                        description="current: leave out superseded versions (历史版本); all: keep them")] = default_versions
                    ) -> dict:
        return dict(doc=doc, doc_type=type, level=level, issuer=issuer, versions=versions)

    return doc_filters


def query_text(q: str) -> str:
    """A query as the CLI takes it: ValueError (→ 422) for one that is blank, or that was not
    UTF-8 (the server decodes such bytes to U+FFFD, the replacement character)."""
    if "\ufffd" in q:
        raise ValueError("q is not valid UTF-8 text; percent-encode the query's UTF-8 bytes")
    if not q.strip():
        raise ValueError("q is blank; send the words to search for")
    return q


def _read_routes(s: Settings) -> APIRouter:
    r = APIRouter(responses=ERRORS)
    Q = Annotated[str, Query(min_length=1, max_length=s.max_query_chars,
                             description=f"Query, at most {s.max_query_chars} characters", examples=["儿童溺水"]),
                  AfterValidator(query_text)]
    K = Annotated[int, Query(ge=1, le=s.max_k, description=f"Number of results, 1–{s.max_k}")]
    Plan = Annotated[Optional[str], Query(description="Plan short name: 妇女 or 儿童")]
    Domain = Annotated[Optional[str], Query(description="发展领域, e.g. 儿童安全")]
    Section = Annotated[Optional[str], Query(description="主要目标 or 策略措施")]
    Year = Annotated[Optional[int], Query(ge=1900, le=2100, description="Target year, e.g. 2030")]
    Docs = Annotated[dict, Depends(_doc_query("current"))]

    @r.get("/api/search", response_model=list[m.Hit], tags=["search"], dependencies=[Slot])
    def search(kb: KB, q: Q, k: K = 10, plan: Plan = None, domain: Domain = None, section: Section = None,
               department: Annotated[Optional[str], Query(description="Department, e.g. 区教育局")] = None,
               year: Year = None,
               mode: Annotated[Literal["hybrid", "bm25", "dense"],
                               Query(description="hybrid (default), or one retriever alone")] = "hybrid",
               docs: Docs = None):
        """Clauses ranked for ``q``, best first (as ``kb search --json``). Filters are exact:
        when they match no clause the list is empty."""
        with http_errors():
            result = kb.search(q, k=k, plan=plan, domain=domain, section=section,
                               department=department, year=year, mode=mode, **docs)
        return [h.to_dict() for h in result.hits]

    @r.get("/api/ask", response_model=m.Answer, tags=["search"], dependencies=[Slot])
    def ask(kb: KB, q: Q, docs: Docs = None):
        """A direct answer to a question, with the clauses it comes from (as ``kb ask --json``)."""
        with http_errors():
            return kb.ask(q, **docs).to_dict()

    @r.get("/api/clauses/{key:path}", response_model=m.ShowResult, tags=["browse"])
    def clause(kb: KB, key: Annotated[str, PathParam(description="Clause id (czf-2022-8.ertong.p2.d2.m3) "
                                                                 "or Chinese path (儿童/儿童安全/策略措施/3)")]):
        """One clause (or node) with breadcrumb, tags and neighbours (as ``kb show --json``)."""
        with http_errors():
            return kb.show(key).to_dict()

    @r.get("/api/cites/{key:path}", response_model=m.CitesResult, tags=["browse"])
    def cites(kb: KB, key: Annotated[str, PathParam(description="Document or clause id, path, or a title "
                                                                "(妇女权益保障法)")]):
        """What a document or clause cites and what cites it (as ``kb cites --json``)."""
        with http_errors():
            return kb.cites(key).to_dict()

    @r.get("/api/tree", response_model=list[m.Node], tags=["browse"])
    def tree(kb: KB, doc: Annotated[Optional[str], Query(description="Document id (default: all)")] = None,
             depth: Annotated[Optional[int], Query(ge=1, description="Levels below the document")] = None):
        """Tree nodes in document order (as ``kb tree --json``)."""
        with http_errors():
            return [n.to_dict() for n in kb.tree(doc, depth)]

    @r.get("/api/documents", response_model=list[m.Document], tags=["browse"])
    def documents(kb: KB, docs: Annotated[dict, Depends(_doc_query("all"))] = None):
        """Every ingested document with its metadata and version (as ``kb docs --json``)."""
        with http_errors():
            return kb.documents(**docs)

    @r.get("/api/targets", response_model=list[m.Target], tags=["tags"],
           responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV (UTF-8 with BOM)"}})
    def targets(kb: KB, plan: Plan = None, domain: Domain = None, year: Year = None,
                indicator: Annotated[Optional[str], Query(description="Indicator, e.g. 孕产妇死亡率")] = None,
                format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
                docs: Docs = None):
        """Numeric targets, filtered (as ``kb targets``); ``format=csv`` for spreadsheets."""
        with http_errors():
            if format == "csv":
                text = kb.targets_csv(plan=plan, domain=domain, year=year, indicator=indicator, **docs)
                return _csv(text, "targets.csv")
            return [t.to_dict() for t in kb.targets(plan=plan, domain=domain, year=year, indicator=indicator, **docs)]

    @r.get("/api/departments", response_model=list[m.DepartmentSummary], tags=["tags"])
    def departments(kb: KB, docs: Docs = None):
        """Every department with its explicit and inferred clause counts."""
        with http_errors():
            return kb.departments(**docs)

    @r.get("/api/departments/{name}", response_model=m.DepartmentDetail, tags=["tags"])
    def department(kb: KB, name: Annotated[str, PathParam(description="Department, e.g. 区教育局")],
                   docs: Docs = None):
        """A department's clauses; unknown names → 404 with close matches."""
        with http_errors():
            return kb.department(name, **docs)

    @r.get("/api/monitor", response_model=list[m.MonitorRow], tags=["monitoring"],
           responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV (UTF-8 with BOM)"}})
    def monitor(kb: KB, plan: Plan = None, domain: Domain = None,
                year: Annotated[Optional[int], Query(ge=1900, le=2100, description="Monitoring year: actuals up to "
                                                     "it count (default: all, i.e. the latest)")] = None,
                format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json"):
        """Each target with its actuals and status (as ``kb monitor --json``)."""
        from kb.monitor import monitor_csv

        with http_errors():
            rows = kb.monitor(plan=plan, domain=domain, year=year)
        return _csv(monitor_csv(rows), "monitor.csv") if format == "csv" else [r.to_dict() for r in rows]

    @r.get("/api/actuals", response_model=list[m.Actual], tags=["monitoring"])
    def actuals(kb: KB, indicator: Annotated[Optional[str], Query(description="Indicator, e.g. 孕产妇死亡率")] = None,
                year: Annotated[Optional[int], Query(ge=1900, le=2100, description="Only values up to this year")] = None):
        """Stored actual values with their provenance (as ``kb actuals list --json``)."""
        with http_errors():
            return [a.to_dict() for a in kb.actuals(indicator=indicator, year=year)]

    @r.get("/health", response_model=m.Health, tags=["service"])
    def health(request: Request, kb: KB):
        """200 with what is being served (and the newest generation on disk, which a
        background switch is opening when the two differ), or 503 when no index is open."""
        man = kb.manifest
        return {"status": "ok", "generation": man["generation"], "documents": man.get("documents", 0),
                "clauses": man.get("clauses", 0), "kb_version": man.get("kb_version"), "model": man.get("model"),
                "committed_generation": request.app.state.follower.committed()}

    return r


def _csv(text: str, filename: str) -> Response:
    body = text if text.startswith(CSV_BOM) else CSV_BOM + text
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------------- admin: upload
def _admin_routes(s: Settings) -> APIRouter:
    bearer = HTTPBearer(auto_error=False, description="The server's KB_ADMIN_TOKEN")

    def require_admin(creds: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer)]) -> None:
        if creds is None:
            raise HTTPException(401, "send the admin token as `Authorization: Bearer <token>`",
                                headers={"WWW-Authenticate": "Bearer"})
        if not secrets.compare_digest(creds.credentials.encode(), s.admin_token.encode()):
            raise HTTPException(403, "wrong admin token; check KB_ADMIN_TOKEN on the server")

    r = APIRouter(dependencies=[Depends(require_admin)],
                  responses={401: {"model": m.Problem}, 403: {"model": m.Problem},
                             409: {"model": m.Problem, "description": "Another writer holds the index, or the "
                                   "document would shrink or repeats a plan (send force=true)"},
                             413: {"model": m.Problem}, 422: {"model": m.Problem}})

    @r.post("/api/documents", response_model=m.IngestReport, status_code=201, tags=["admin"])
    def upload(request: Request, file: UploadFile,
               force: Annotated[bool, Form(description="Ingest even when the document would lose more than "
                                                       "20% of its stored clauses, or repeats a plan")] = False):
        """Ingest one document (.txt, .html, .md, .docx or .pdf, recognised by its content);
        re-uploading a document replaces it.

        Needs `Authorization: Bearer <KB_ADMIN_TOKEN>`: 401 without it, 403 with a wrong token.
        The index is rebuilt as a new generation under the index's writer lock (409 when
        another writer — an upload, `kb ingest`, `kb remove` — holds it, naming it); requests
        keep being answered from the old generation until the new one is complete and open.
        409 too when the document would shrink or repeats a plan (send `force=true` if that
        is intended). The report lists the documents added and replaced. Errors name the
        uploaded file by the name it was sent with."""
        data = file.file.read(s.max_upload_bytes + 1)
        if len(data) > s.max_upload_bytes:
            raise HTTPException(413, f"document larger than {s.max_upload_bytes} bytes (KB_MAX_UPLOAD_BYTES)")
        follower = request.app.state.follower
        with follower.lease() if follower.generation else _nothing() as old:
            embedder = old.searcher.embedder if old is not None else request.app.state.embedder  # loaded once
        report = _ingest_bytes(data, _safe_name(file.filename), s.index_dir, embedder,
                               shown_name=file.filename or "upload.txt", force=force)
        with http_errors():
            follower.refresh()  # requests already running finish on the old generation
        return report.to_dict()

    @r.post("/api/actuals", response_model=m.ActualsImportReport, status_code=201, tags=["admin", "monitoring"])
    def import_actuals(kb: KB, file: UploadFile,
                       plan: Annotated[Optional[str], Query(description="Plan whose area rows without 地区 apply to")] = None):
        """Import actual values (.csv or .xlsx, as ``kb actuals import``); a file with any bad
        row is rejected whole (422, naming the rows) and nothing is stored. 409 while another
        writer holds the index. Needs `Authorization: Bearer <KB_ADMIN_TOKEN>`."""
        from kb.errors import IndexLocked

        data = file.file.read(s.max_upload_bytes + 1)
        if len(data) > s.max_upload_bytes:
            raise HTTPException(413, f"file larger than {s.max_upload_bytes} bytes (KB_MAX_UPLOAD_BYTES)")
        name = Path(file.filename or "actuals.csv").name
        with http_errors():
            try:
                return kb.import_actuals(Path(name), plan, data=data, shown_name=name, wait=False).to_dict()
            except IndexLocked as e:
                raise HTTPException(409, str(e)) from e

    return r


def _uploads_disabled_routes() -> APIRouter:
    """``POST /api/documents`` on a server without an admin token: routed (so clients learn
    why, rather than getting 405), always 403, and the body is never read."""
    r = APIRouter()

    @r.post("/api/documents", tags=["admin"], status_code=403, response_model=m.Problem,
            summary="Upload (disabled on this server)",
            responses={403: {"model": m.Problem, "description": UPLOADS_DISABLED}})
    def upload_disabled():
        """**Uploads are disabled on this server** because it has no KB_ADMIN_TOKEN: every
        request is answered 403. Set KB_ADMIN_TOKEN (at least 16 characters) and restart to
        enable uploads (multipart field `file`, a .txt, .html, .md, .docx or .pdf document, with
        `Authorization: Bearer <KB_ADMIN_TOKEN>`)."""
        raise HTTPException(403, UPLOADS_DISABLED)

    @r.post("/api/actuals", tags=["admin", "monitoring"], status_code=403, response_model=m.Problem,
            summary="Import actual values (disabled on this server)",
            responses={403: {"model": m.Problem, "description": UPLOADS_DISABLED}})
    def import_actuals_disabled():
        """**Imports are disabled on this server** because it has no KB_ADMIN_TOKEN: every
        request is answered 403. Set KB_ADMIN_TOKEN and restart to enable them."""
        raise HTTPException(403, UPLOADS_DISABLED)

    return r


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _ingest_bytes(data: bytes, name: str, index_dir: Path, embedder=None, shown_name: Optional[str] = None,
                  force: bool = False):
    """Write ``data`` under its own name (the document id may come from it) and ingest it
    (without waiting for another writer). Error messages and warnings name the file
    ``shown_name`` (the name it was uploaded with), never the server's temporary path."""
    from kb.build import ingest

    shown = shown_name or name
    with tempfile.TemporaryDirectory(prefix="kb-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            with http_errors():
                report = ingest([path], index_dir, embedder=embedder, source_names={path: shown}, force=force,
                                wait=False)
        except HTTPException as e:
            e.detail = _hide_temp_path(str(e.detail), path, shown)
            raise
    report.warnings = [_hide_temp_path(w, path, shown) for w in report.warnings]
    return report


def _hide_temp_path(message: str, path: Path, shown: str) -> str:
    """``message`` with the temporary ``path`` (as given or resolved) replaced by ``shown``,
    and any other mention of its folder dropped."""
    for p in sorted({str(path), str(path.resolve())}, key=len, reverse=True):
        message = message.replace(p, shown)
    for d in sorted({str(path.parent), str(path.parent.resolve())}, key=len, reverse=True):
        message = message.replace(d + "/", "").replace(d, "")
    return message


def _safe_name(filename: Optional[str]) -> str:
    """The upload's base name with anything but letters, digits, ``.-_`` replaced."""
    name = re.sub(r"[^\w.\-]", "_", Path(filename or "upload.txt").name).lstrip(".")
    return name or "upload.txt"


# ---------------------------------------------------------------------- widget
def _widget_routes() -> APIRouter:
    static = resources.files("api") / "static"
    page = (static / "widget.html").read_bytes()
    script = (static / "widget.js").read_bytes()
    r = APIRouter(include_in_schema=False)
    safe = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}

    @r.get("/")
    def root():
        return RedirectResponse("widget")

    @r.get("/widget")
    def widget_page():
        return Response(page, media_type="text/html; charset=utf-8",
                        headers={**safe, "Content-Security-Policy": WIDGET_CSP, "Referrer-Policy": "no-referrer"})

    @r.get("/widget.js")
    def widget_script():
        return Response(script, media_type="text/javascript; charset=utf-8",
                        headers={**safe, "Access-Control-Allow-Origin": "*"})

    return r
