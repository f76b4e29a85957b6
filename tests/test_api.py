"""HTTP API (api/app.py) with TestClient over the session's index of the bundled corpus (the
seed + 16 laws, real model): every endpoint, its errors, the response models against the
library's shapes; uploads and the atomic swap over a copy of the seed index made with the
stand-in embedder (``fake_index``: what they test is the write path, not retrieval)."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from conftest import SEED
from kb.base import KnowledgeBase

DROWNING = "czf-2022-8.ertong.p2.d2.m3"  # 儿童/儿童安全/策略措施/3 预防和控制儿童溺水
TOKEN = "test-admin-token-0123456789"
OTHER_DOC = "某区老年人发展规划(2021—2025年)\n\n一、主要任务\n\n1.完善养老服务体系。\n\n2.发展老年教育。\n"


@pytest.fixture(scope="module")
def client(corpus_index, real_embedder):
    with TestClient(create_app(Settings(index_dir=corpus_index), embedder=real_embedder)) as c:
        yield c


@pytest.fixture
def admin(fake_index_copy, fake_embedder):
    """A client with uploads enabled, over a private copy of the seed index (stand-in embedder)."""
    settings = Settings(index_dir=fake_index_copy, admin_token=TOKEN, max_upload_bytes=100_000)
    with TestClient(create_app(settings, embedder=fake_embedder)) as c:
        yield c


def auth(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def upload(c, name="other.txt", body=OTHER_DOC, headers=None):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return c.post("/api/documents", files={"file": (name, data, "text/plain")},
                  headers=auth() if headers is None else headers)


# ---------------------------------------------------------------------- service
def test_health(client, corpus_index):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["generation"] == KnowledgeBase.open(corpus_index).manifest["generation"]
    assert body["documents"] == 17 and body["clauses"] == 1471  # the seed + 16 laws
    assert body["committed_generation"] == body["generation"]  # no switch pending


def test_no_index_is_503_with_next_step(tmp_path):
    with TestClient(create_app(Settings(index_dir=tmp_path / "none"))) as c:
        for url in ("/health", "/api/documents", "/api/search?q=儿童"):
            r = c.get(url)
            assert r.status_code == 503, url
            assert "kb ingest" in r.json()["detail"]


def test_openapi_describes_every_endpoint_and_field(client):
    spec = client.get("/openapi.json").json()
    assert {"/api/search", "/api/ask", "/api/clauses/{key}", "/api/tree", "/api/documents", "/api/targets",
            "/api/departments", "/api/departments/{name}", "/health"} <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    for model in ("Hit", "Answer", "Clause", "Target", "DepartmentTag", "ShowResult", "Node", "Document"):
        props = schemas[model]["properties"]
        assert props, model
    assert "matched_terms" in schemas["Hit"]["properties"]
    assert "description" in schemas["Hit"]["properties"]["short_path"]
    post = spec["paths"]["/api/documents"]["post"]  # routed, but disabled without an admin token
    assert "Uploads are disabled on this server" in post["description"] and "KB_ADMIN_TOKEN" in post["description"]
    assert "403" in post["responses"] and "requestBody" not in post


def test_openapi_documents_upload_with_admin_token(admin):
    post = admin.get("/openapi.json").json()["paths"]["/api/documents"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"201", "401", "403", "413", "422"} <= set(post["responses"])
    assert "disabled" not in post["description"]


def test_search_modes_match_library():
    from kb.search import MODES

    spec = create_app(Settings()).openapi()
    mode = next(p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "mode")
    assert tuple(mode["schema"]["enum"]) == MODES


# ---------------------------------------------------------------------- search and ask
def test_search_finds_drowning_clause(client):
    r = client.get("/api/search", params={"q": "儿童溺水"})
    assert r.status_code == 200
    hits = r.json()
    assert DROWNING in [h["id"] for h in hits]
    hit = next(h for h in hits if h["id"] == DROWNING)
    assert hit["heading"] == "预防和控制儿童溺水"
    assert hit["path"][-3:] == ["儿童安全", "策略措施", "3"]
    assert "溺水" in "".join(hit["matched_terms"])


def test_search_returns_the_library_shape(client, kb):
    """The response model declares every field the library returns (nothing dropped)."""
    api = client.get("/api/search", params={"q": "儿童溺水", "k": 5}).json()
    lib = [h.to_dict() for h in kb.search("儿童溺水", k=5).hits]
    assert api == lib


def test_search_filters(client):
    hits = client.get("/api/search", params={"q": "溺水", "plan": "儿童", "section": "策略措施"}).json()
    assert hits and all(h["plan"] == "儿童" and h["section"] == "策略措施" for h in hits)
    assert len(client.get("/api/search", params={"q": "健康", "k": 3}).json()) == 3


@pytest.mark.parametrize("params", [
    {"q": "儿童溺水", "plan": "妇女", "domain": "儿童安全"},   # both exist, never together
    {"q": "儿童溺水", "year": 1999},
])
def test_filter_matching_nothing_is_empty_list(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 200
    assert r.json() == []


@pytest.mark.parametrize("params,message", [
    ({"q": "儿" * 201}, "at most 200 characters"),
    ({"q": "儿童", "k": 51}, "less than or equal to 50"),
    ({"q": "儿童", "k": 0}, "greater than or equal to 1"),
    ({"q": "儿童", "k": "ten"}, "valid integer"),
    ({"q": ""}, "at least 1 character"),
    ({"q": "  "}, "q is blank"),
    ({"q": "儿童\ufffd"}, "not valid UTF-8"),
    ({}, "Field required"),
    ({"q": "儿童", "mode": "magic"}, "hybrid"),
    ({"q": "儿童", "year": "明年"}, "valid integer"),
    ({"q": "儿童溺水", "plan": "老年"}, "known: 儿童, 妇女"),          # an unknown value (docs/api.md)
    ({"q": "儿童溺水", "doc": "nosuch"}, "no document 'nosuch'; known:"),
    ({"q": "儿童溺水", "type": "火星"}, "no document has type '火星'"),
])
def test_search_bad_params_422(client, params, message):
    r = client.get("/api/search", params=params)
    assert r.status_code == 422
    assert message in r.text


def test_query_bytes_that_are_not_utf8_are_422(client):
    r = client.get("/api/search?q=%FF%FE")
    assert r.status_code == 422 and "not valid UTF-8" in r.text


@pytest.mark.parametrize("params", [{"q": "儿童溺水", "doc": "nosuch"}, {"q": "儿童溺水", "type": "火星"}])
def test_ask_with_an_unknown_document_filter_is_422(client, params):
    r = client.get("/api/ask", params=params)
    assert r.status_code == 422 and "known:" in r.text


def test_limits_come_from_settings(corpus_index, real_embedder):
    settings = Settings(index_dir=corpus_index, max_query_chars=10, max_k=3)
    with TestClient(create_app(settings, embedder=real_embedder)) as c:
        assert c.get("/api/search", params={"q": "儿" * 11}).status_code == 422
        assert c.get("/api/search", params={"q": "儿童", "k": 4}).status_code == 422
        assert c.get("/api/search", params={"q": "儿童", "k": 3}).status_code == 200


def test_ask_target_value(client):
    r = client.get("/api/ask", params={"q": "2030年孕产妇死亡率目标是多少"})
    assert r.status_code == 200
    a = r.json()
    assert a["kind"] == "target_value" and a["confident"] is True
    assert "孕产妇死亡率" in a["answer"]
    assert a["targets"] and a["hits"]


def test_ask_returns_the_library_shape(client, kb):
    q = "哪些措施涉及儿童溺水"
    assert client.get("/api/ask", params={"q": q}).json() == kb.ask(q).to_dict()


def test_ask_bad_params_422(client):
    assert client.get("/api/ask").status_code == 422
    r = client.get("/api/ask", params={"q": "问" * 201})
    assert r.status_code == 422 and "at most 200 characters" in r.text


# ---------------------------------------------------------------------- browsing
def test_clause_by_id_and_path(client, kb):
    by_id = client.get(f"/api/clauses/{DROWNING}")
    assert by_id.status_code == 200
    body = by_id.json()
    assert body == kb.show(DROWNING).to_dict()
    assert body["clause"]["heading"] == "预防和控制儿童溺水"
    assert [c["title"] for c in body["breadcrumb"]][-3:] == ["儿童安全", "策略措施", "3"]
    assert body["previous"]["id"].endswith(".m2") and body["next"]["id"].endswith(".m4")
    by_path = client.get("/api/clauses/儿童/儿童安全/策略措施/3")
    assert by_path.status_code == 200 and by_path.json()["id"] == DROWNING


@pytest.mark.parametrize("key", ["czf-2022-8.ertong.p9.d9.m99", "no-such-id", "儿童/不存在/策略措施/99"])
def test_clause_unknown_404(client, key):
    r = client.get(f"/api/clauses/{key}")
    assert r.status_code == 404
    assert r.json()["detail"]


def test_tree(client, kb):
    nodes = client.get("/api/tree").json()
    assert nodes == [n.to_dict() for n in kb.tree()]
    shallow = client.get("/api/tree", params={"doc": "czf-2022-8", "depth": 1}).json()
    assert {n["kind"] for n in shallow} >= {"document", "plan"}
    assert "clause" not in {n["kind"] for n in shallow}


def test_tree_errors(client):
    assert client.get("/api/tree", params={"doc": "nope"}).status_code == 404
    assert client.get("/api/tree", params={"depth": 0}).status_code == 422


def test_documents(client, kb):
    docs = client.get("/api/documents").json()
    assert docs == kb.documents()
    seed = next(d for d in docs if d["id"] == "czf-2022-8")
    assert seed["meta"]["发文字号"] == "曾政发〔2022〕8号"


# ---------------------------------------------------------------------- targets and departments
def test_targets_json(client, kb):
    all_ = client.get("/api/targets").json()
    assert all_ == [t.to_dict() for t in kb.targets()]
    assert all(t["clause_id"] for t in all_)
    y2030 = client.get("/api/targets", params={"year": 2030, "plan": "妇女", "indicator": "孕产妇死亡率"}).json()
    assert y2030 and all((t["year"] or t["year_implied"]) == 2030 and "孕产妇死亡率" in t["indicator"] for t in y2030)


def test_targets_filter_matching_nothing(client):
    r = client.get("/api/targets", params={"year": 1999})
    assert r.status_code == 200 and r.json() == []


def test_targets_csv_has_bom(client, kb):
    r = client.get("/api/targets", params={"format": "csv", "plan": "儿童"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert text == kb.targets_csv(plan="儿童")
    assert text.splitlines()[0].startswith("clause_id,short_path,indicator")


def test_targets_bad_params_422(client):
    assert client.get("/api/targets", params={"format": "xlsx"}).status_code == 422
    assert client.get("/api/targets", params={"year": "2030年"}).status_code == 422


def test_departments(client, kb):
    rows = client.get("/api/departments").json()
    assert rows == kb.departments()
    name = rows[0]["name"]
    r = client.get(f"/api/departments/{name}")
    assert r.status_code == 200
    body = r.json()
    assert body == kb.department(name)
    assert body["name"] == name and body["clauses"]
    assert body["clauses"][0]["explicit"] is True


def test_department_unknown_404_with_suggestion(client):
    r = client.get("/api/departments/区教育厅")
    assert r.status_code == 404
    assert "区教育局" in r.json()["detail"]  # did you mean …
    assert client.get("/api/departments/火星事务局").status_code == 404


def test_department_alias_resolves(client):
    r = client.get("/api/departments/教育部门")
    assert r.status_code == 200 and r.json()["name"] == "区教育局"


# ---------------------------------------------------------------------- uploads
UPLOADS_DISABLED = "uploads are disabled on this server: set KB_ADMIN_TOKEN (≥16 characters) to enable them"


@pytest.mark.parametrize("headers", [{}, auth(), auth("some-token-but-long-enough")])
def test_upload_forbidden_without_admin_token(client, headers):
    """No KB_ADMIN_TOKEN: the route exists and says why it refuses, whatever is sent."""
    r = upload(client, headers=headers)
    assert r.status_code == 403
    assert r.json() == {"detail": UPLOADS_DISABLED}
    assert client.post("/api/documents").status_code == 403  # no body at all: still 403, not 422
    assert client.get("/api/documents").status_code == 200  # reads unaffected
    assert len(client.get("/api/documents").json()) == 17


def test_upload_requires_bearer_token(admin):
    r = upload(admin, headers={})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert upload(admin, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    r = upload(admin, headers=auth("wrong-token-but-long-enough"))
    assert r.status_code == 403
    assert "KB_ADMIN_TOKEN" in r.json()["detail"]
    assert [d["id"] for d in admin.get("/api/documents").json()] == ["czf-2022-8"]


def test_upload_ingests_and_swaps(admin):
    before = admin.get("/health").json()["generation"]
    r = upload(admin)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["documents"] == ["other"]
    assert report["generation"] != before
    assert not any("kb-upload-" in w for w in report["warnings"]), report["warnings"]
    assert admin.get("/health").json()["generation"] == report["generation"]
    docs = admin.get("/api/documents").json()
    assert [d["id"] for d in docs] == ["czf-2022-8", "other"]
    assert docs[1]["source"] == "other.txt"  # the uploaded name, not the server's temp path
    hits = admin.get("/api/search", params={"q": "养老服务体系"}).json()
    assert hits[0]["doc_id"] == "other"


def test_readers_keep_answers_during_upload(admin):
    """While an upload is ingested, every read succeeds and sees the old or the new index,
    never a mixture or an error."""
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=upload(admin)))
    worker.start()
    seen = []
    while worker.is_alive():
        r = admin.get("/api/documents")
        assert r.status_code == 200
        seen.append(tuple(d["id"] for d in r.json()))
        assert admin.get("/api/search", params={"q": "儿童溺水", "k": 3}).status_code == 200
    worker.join()
    assert result["r"].status_code == 201
    assert set(seen) <= {("czf-2022-8",), ("czf-2022-8", "other")}
    assert [d["id"] for d in admin.get("/api/documents").json()] == ["czf-2022-8", "other"]


def test_upload_docx_replaces_the_seed_with_the_same_clauses(admin):
    """The seed as a Word file with automatic numbering (tests/fixtures) is the same document."""
    docx = Path(__file__).resolve().parent / "fixtures" / "seed-autonumbered.docx"
    def tree():  # line numbers are the source text's, so they differ
        return [{k: v for k, v in n.items() if k not in ("line_start", "line_end")}
                for n in admin.get("/api/tree").json()]

    before = tree(), admin.get(f"/api/clauses/{DROWNING}").json()["clause"]["text"]
    r = upload(admin, name="曾政发〔2022〕8号.docx", body=docx.read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["documents"] == ["czf-2022-8"]
    docs = admin.get("/api/documents").json()
    assert [(d["id"], d["source"]) for d in docs] == [("czf-2022-8", "曾政发〔2022〕8号.docx")]
    assert (tree(), admin.get(f"/api/clauses/{DROWNING}").json()["clause"]["text"]) == before
    assert len(before[0]) > 357


@pytest.mark.parametrize("name,body,status", [
    ("empty.txt", b"", 422),
    ("binary.txt", bytes(range(256)) * 4, 422),
    ("notes.pdf", b"%PDF-1.4", 422),
    ("huge.txt", "一" * 40_000, 413),
])
def test_bad_upload_changes_nothing(admin, name, body, status):
    before = admin.get("/health").json()["generation"]
    r = upload(admin, name=name, body=body)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    assert admin.get("/health").json()["generation"] == before


@pytest.mark.parametrize("name,body,problem", [
    ("empty.txt", b"", "the file is empty"),
    ("数据 2023.pdf", b"%PDF-1.4", "damaged or truncated PDF"),
    ("notes.txt", "一、二\n".encode("utf-8"), "no text found"),
])
def test_bad_upload_names_the_uploaded_file_not_a_temp_path(admin, name, body, problem):
    r = upload(admin, name=name, body=body)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert f"\n  {name}: {problem}" in detail, detail
    assert "kb-upload-" not in detail and "/tmp" not in detail, detail


def test_upload_name_cannot_escape(admin, tmp_path):
    r = upload(admin, name="../../../other.txt")
    assert r.status_code == 201
    assert r.json()["documents"] == ["other"]


# ---------------------------------------------------------------------- CORS, widget, settings
def test_cors_closed_by_default(client):
    r = client.get("/health", headers={"Origin": "https://portal.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_allows_configured_origin(corpus_index, real_embedder):
    settings = Settings(index_dir=corpus_index, cors_origins=("https://portal.example",))
    with TestClient(create_app(settings, embedder=real_embedder)) as c:
        ok = c.get("/health", headers={"Origin": "https://portal.example"})
        assert ok.headers["access-control-allow-origin"] == "https://portal.example"
        other = c.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_widget_served(client):
    page = client.get("/widget")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="widget.js"' in page.text
    js = client.get("/widget.js")
    assert js.status_code == 200
    assert js.headers["content-type"].startswith("text/javascript")
    assert client.get("/", follow_redirects=False).headers["location"] == "widget"


def test_widget_never_writes_html():
    """Escaping by construction: the widget builds its DOM with textContent only."""
    from importlib import resources

    js = (resources.files("api") / "static" / "widget.js").read_text("utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink
    assert "http://" not in js.replace("http://127.0.0.1", "") and "https://" not in js.split("*/", 1)[1]


def test_settings_from_env():
    s = Settings.from_env({"KB_INDEX": "/srv/kb", "KB_CORS_ORIGINS": " https://a.example ,,https://b.example",
                           "KB_ADMIN_TOKEN": TOKEN, "KB_MAX_K": "20"})
    assert str(s.index_dir) == "/srv/kb"
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.admin_token == TOKEN and s.max_k == 20 and s.max_query_chars == 200
    assert Settings.from_env({}).cors_origins == () and Settings.from_env({}).admin_token is None
    assert str(Settings.from_env({"KB_INDEX": "a"}, index_dir="b").index_dir) == "b"


@pytest.mark.parametrize("env,message", [
    ({"KB_MAX_K": "lots"}, "KB_MAX_K='lots' is not an integer"),
    ({"KB_ADMIN_TOKEN": "short"}, "at least 16 characters"),
    ({"KB_MAX_QUERY_CHARS": "0"}, "max_query_chars must be a positive integer"),
])
def test_settings_errors(env, message):
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_kb_serve_registered_and_fails_without_index(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.delenv("KB_ADMIN_TOKEN", raising=False)
    runner = CliRunner()
    assert "--port" in runner.invoke(app, ["serve", "--help"]).output
    r = runner.invoke(app, ["serve", "--index", str(tmp_path / "none")])
    assert r.exit_code == 1
    assert "run `kb ingest corpus/`" in " ".join(r.output.split())


# ---------------------------------------------------------------------- reliability (issue 12)
@pytest.mark.parametrize("path", ["/health", "/widget", "/widget.js", "/api/documents", "/docs", "/openapi.json",
                                  "/api/search?q=儿童溺水"])
def test_head_on_get_routes(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))


def test_docs_use_local_assets_only(client):
    page = client.get("/docs").text
    scripts = re.findall(r'(?:src|href)="([^"]+)"', page) + re.findall(r"url: '([^']+)'", page)
    assert scripts, page
    assert not [s for s in scripts if s.startswith(("http:", "https:", "//"))], scripts
    bundle = [s for s in scripts if s.endswith("swagger-ui-bundle.js")]
    assert bundle and client.get(bundle[0]).status_code == 200
    assert "cdn" not in page.lower()


def test_422_body_matches_the_documented_problem(client):
    r = client.get("/api/search", params={"q": "儿" * 201, "k": 0})
    assert r.status_code == 422
    detail = r.json()["detail"]  # FastAPI's list, as before: the contract stays
    assert {(e["loc"][-1], e["msg"]) for e in detail} == {("q", "String should have at most 200 characters"),
                                                          ("k", "Input should be greater than or equal to 1")}
    r = client.get("/api/targets", params={"plan": "老人"})  # the library's message: one string
    assert r.status_code == 422 and r.json()["detail"].startswith("no plan '老人'; known: ")
    schema = client.get("/openapi.json").json()
    documented = schema["paths"]["/api/search"]["get"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert documented == {"$ref": "#/components/schemas/Problem"}


def test_ask_department_kind_is_documented(client):
    r = client.get("/api/ask", params={"q": "区统计局负责什么"})
    assert r.status_code == 200, r.text
    assert r.json()["kind"] == "department"


def test_upload_refuses_shrink_without_force(admin):
    lines = SEED.read_text("utf-8").splitlines()
    truncated = ("\n".join(lines[:300]) + "\n").encode("utf-8")
    before = admin.get("/health").json()["generation"]
    r = upload(admin, name=SEED.name, body=truncated)
    assert r.status_code == 409
    assert "losing 236 (66%" in r.json()["detail"] and "force=true" in r.json()["detail"]
    assert admin.get("/health").json()["generation"] == before
    r = admin.post("/api/documents", files={"file": (SEED.name, truncated, "text/plain")}, data={"force": "true"},
                   headers=auth())
    assert r.status_code == 201, r.text
    assert r.json()["replaced"] == ["czf-2022-8"]
    assert admin.get("/api/documents").json()[0]["clauses"] == 121


def test_upload_while_another_writer_holds_the_lock_is_409(admin, fake_index_copy):
    from kb.lock import writer_lock

    with writer_lock(fake_index_copy, command="kb ingest corpus/"):
        r = upload(admin)
    assert r.status_code == 409
    assert "is being written by pid" in r.json()["detail"] and "kb ingest corpus/" in r.json()["detail"]
    assert upload(admin).json()["added"] == ["other"]
