"""Monitoring over HTTP (GET /api/monitor, GET /api/actuals, POST /api/actuals) and in
`kb ask`, on the seed with the example values of tests/data (not real statistics)."""
from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kb.base import KnowledgeBase

EXAMPLE = Path(__file__).parent / "data" / "actuals-example.csv"
TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def admin(fake_index_copy, fake_embedder):
    settings = Settings(index_dir=fake_index_copy, admin_token=TOKEN, max_upload_bytes=100_000)
    with TestClient(create_app(settings, embedder=fake_embedder)) as c:
        yield c


def post(c, name="actuals-example.csv", data=None, headers=AUTH, **params):
    body = EXAMPLE.read_bytes() if data is None else data
    return c.post("/api/actuals", files={"file": (name, body, "text/csv")}, headers=headers, params=params)


def test_import_then_monitor_and_actuals(admin):
    assert admin.get("/api/actuals").json() == []
    r = post(admin)
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["stored"], body["file"], body["years"]) == (26, "actuals-example.csv", [2020, 2021, 2022, 2023])
    actuals = admin.get("/api/actuals", params={"indicator": "产前筛查率"}).json()
    assert [(a["year"], a["value"]) for a in actuals] == [(2020, 75.0), (2021, 77.5), (2022, 79.0), (2023, 81.2)]
    assert actuals[0]["file"] == "actuals-example.csv" and actuals[0]["row"] == 2

    rows = admin.get("/api/monitor", params={"plan": "妇女", "domain": "妇女与健康"}).json()
    screening = [r for r in rows if r["indicator"] == "产前筛查率"]
    assert [(r["target"]["year"], r["status"]) for r in screening] == [(2025, "achieved"), (2030, "on_track")]
    assert screening[1]["baseline"] == {"value": 75.0, "unit": "%", "year": 2020}
    lib = [r.to_dict() for r in KnowledgeBase.open(admin.app.state.settings.index_dir).monitor(plan="妇女", domain="妇女与健康")]
    assert rows == lib

    earlier = admin.get("/api/monitor", params={"year": 2022}).json()
    assert next(r for r in earlier if r["indicator"] == "产前筛查率")["latest"]["year"] == 2022
    csv = admin.get("/api/monitor", params={"format": "csv"})
    assert csv.text.startswith("\ufeffshort_path,indicator") and "text/csv" in csv.headers["content-type"]


def test_rejected_upload_is_422_naming_rows_and_stores_nothing(admin):
    r = post(admin, name="bad.csv", data="指标,年份,数值\n产前筛查率,2023,很高\n不存在的指标,2023,1\n".encode("gb18030"))
    assert r.status_code == 422
    assert "bad.csv: 2 row(s) rejected, nothing stored" in r.json()["detail"]
    assert "row 2: value '很高'" in r.json()["detail"] and "row 3: unknown indicator '不存在的指标'" in r.json()["detail"]
    assert admin.get("/api/actuals").json() == []


def test_import_needs_the_admin_token(admin, fake_index, fake_embedder):
    assert post(admin, headers={}).status_code == 401
    assert post(admin, headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 403
    with TestClient(create_app(Settings(index_dir=fake_index), embedder=fake_embedder)) as c:
        r = post(c)
        assert r.status_code == 403 and "KB_ADMIN_TOKEN" in r.json()["detail"]
        assert c.get("/api/actuals").json() == []


def test_import_while_another_writer_holds_the_index_is_409(admin):
    from kb.lock import writer_lock

    with writer_lock(admin.app.state.settings.index_dir):
        r = post(admin)
    assert r.status_code == 409 and "being written by" in r.json()["detail"]


def test_openapi_documents_monitoring(admin):
    spec = admin.get("/openapi.json").json()
    assert {"/api/monitor", "/api/actuals"} <= set(spec["paths"])
    assert "post" in spec["paths"]["/api/actuals"] and "get" in spec["paths"]["/api/actuals"]
    props = spec["components"]["schemas"]["MonitorRow"]["properties"]
    assert {"indicator", "doc_id", "plan", "domain", "clause_id", "target", "baseline", "latest", "status"} <= set(props)


# ---------------------------------------------------------------------- kb ask (real model)
@pytest.fixture(scope="module")
def kb_with_actuals(tmp_path_factory, corpus_index, real_embedder):
    import shutil

    idx = tmp_path_factory.mktemp("ask-mon") / "index"
    shutil.copytree(corpus_index, idx, symlinks=True)
    kb = KnowledgeBase.open(idx, embedder=real_embedder)
    kb.import_actuals(EXAMPLE)
    return kb


def test_ask_answers_an_actual_value_cited_to_clause_and_source(kb_with_actuals):
    a = kb_with_actuals.ask("2023年孕产妇死亡率是多少")
    assert a.kind == "actual_value"
    assert a.answer.startswith("孕产妇死亡率: 2023年实际值 9.8/10万(来源: 示例数据(非真实统计))")
    assert "2030年 ≤ 9/100000(妇女/妇女与健康/主要目标/2,进展顺利)" in a.answer
    assert a.hits[0].clause.short_path == "妇女/妇女与健康/主要目标/2"
    assert {r.status for r in a.monitor} == {"achieved", "on_track"}
    assert a.to_dict()["monitor"][0]["latest"]["source"] == "示例数据(非真实统计)"


def test_an_earlier_years_actual_value_carries_that_years_status(kb_with_actuals):
    """产前筛查率 was 79% in 2022 (example data): the 2025 target (≥ 80%) was not met yet
    then, though the 2023 value (81.2%) meets it."""
    a = kb_with_actuals.ask("产前筛查率2022年是多少")
    assert a.kind == "actual_value" and a.answer.startswith("产前筛查率: 2022年实际值 79%")
    assert "已达标" not in a.answer and {r.latest.year for r in a.monitor} == {2022}


def test_ask_answers_a_status(kb_with_actuals):
    a = kb_with_actuals.ask("产前筛查率达到目标了吗")
    assert a.kind == "monitor_status"
    assert a.answer.startswith("产前筛查率 2025年 ≥ 80%: 2023年实际81.2%(来源: 示例数据(非真实统计)),已达标(妇女/妇女与健康/主要目标/2)")
    assert "2030年 ≥ 82%: 2023年实际81.2%" in a.answer and "进展顺利" in a.answer
    behind = kb_with_actuals.ask("新生儿死亡率进展如何")
    assert behind.kind == "monitor_status" and behind.answer.count("滞后") == 2


def test_ask_keeps_target_answers(kb_with_actuals):
    a = kb_with_actuals.ask("2030年新生儿死亡率目标是多少")
    assert (a.kind, a.answer) == ("target_value", "新生儿死亡率: 2030年 ≤ 3‰(儿童/儿童与健康/主要目标/3)")
    q = kb_with_actuals.ask("2030年学生体质健康达标优良率要达到多少?")  # 达标 is part of the indicator
    assert q.kind == "target_value"


def test_api_ask_shape_with_monitor(real_embedder, kb_with_actuals):
    with TestClient(create_app(Settings(index_dir=kb_with_actuals.index_dir), embedder=real_embedder)) as c:
        body = c.get("/api/ask", params={"q": "产前筛查率达到目标了吗"}).json()
    assert body["kind"] == "monitor_status" and body["monitor"][0]["status"] == "achieved"
