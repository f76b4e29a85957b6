"""Schemathesis over /openapi.json against the app without an admin token (as `kb serve`
runs by default): every generated request, valid or not, gets no server error and a
response that matches the documented schema (status code, content type, body, headers).
Bounded example count for CI; KB_SCHEMA_EXAMPLES=200 runs more (docs/reliability.md)."""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import positive_data_acceptance

from api.app import create_app
from api.settings import Settings

MAX_EXAMPLES = int(os.environ.get("KB_SCHEMA_EXAMPLES", "25"))  # per operation
# Not checked: "a schema-valid request must be accepted". A filter value the index does
# not hold (plan=rp) is valid by the schema's types but answered 422 with the known values,
# by design and documented (Problem); every other check (server errors, status codes,
# content types, response bodies and headers against the schema) runs.
EXCLUDED = [positive_data_acceptance]
OPERATIONS = [(path, method.upper()) for path, item in create_app(Settings(index_dir=Path("index"))).openapi()["paths"].items()
              for method in item]


@pytest.fixture(scope="module")
def api_schema(fake_index, fake_embedder):
    app = create_app(Settings(index_dir=fake_index), embedder=fake_embedder)
    with TestClient(app):  # runs the lifespan: the index opens and stays open on app.state
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_covered():
    assert ("/api/search", "GET") in OPERATIONS and ("/api/documents", "POST") in OPERATIONS
    assert len(OPERATIONS) >= 10


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize("path,method", OPERATIONS)
def test_api_conforms_to_its_schema(api_schema, path, method, mode):
    """Positive (schema-valid) and negative (schema-breaking) requests for every operation."""
    operation = api_schema[path][method]
    statuses = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        statuses.append(case.call_and_validate(excluded_checks=EXCLUDED).status_code)

    try:
        check()
    except Unsatisfiable:
        assert mode is schemathesis.GenerationMode.NEGATIVE, "no schema-valid request could be made"
        return  # every request is schema-valid (e.g. a free-text path segment): nothing to break
    assert statuses and max(statuses) < 500
    print(f"\n{mode.value} {method} {path}: {len(statuses)} requests, statuses {dict(sorted(Counter(statuses).items()))}")
