"""One error shape for every failure, the right status, and nothing written."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import InternalServerError

from incidents.models import AuditEntry, Incident

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def _count(session):
    return (session.scalar(select(func.count()).select_from(Incident)),
            session.scalar(select(func.count()).select_from(AuditEntry)))


@pytest.mark.parametrize("raw", [b"{", b'{"category": "threat",', b"[1, 2", b"\xff\xfe{}",
                                 b'{"description": "\xc3\x28"}'])
def test_malformed_or_invalid_utf8_json_is_400(client, make, org, db_session, raw):
    before = _count(db_session)
    r = client.post("/api/v1/incidents", data=raw,
                    headers=make.headers(org.employee_a1, **{"Content-Type": "application/json"}))
    assert r.status_code == 400
    assert r.mimetype == "application/problem+json"
    assert PROBLEM_KEYS <= set(r.get_json())
    assert _count(db_session) == before


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(client, make, org, body):
    r = client.post("/api/v1/incidents", data=body,
                    headers=make.headers(org.employee_a1, **{"Content-Type": "application/json"}))
    assert r.status_code in (400, 422)
    assert r.mimetype == "application/problem+json"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_json_is_415(client, make, org, db_session, content_type):
    before = _count(db_session)
    r = client.post("/api/v1/incidents", data=b'{"category":"threat"}',
                    headers=make.headers(org.employee_a1, **{"Content-Type": content_type}))
    assert r.status_code == 415
    assert "Content-Type" in r.get_json()["errors"]
    assert _count(db_session) == before


def test_a_body_over_one_megabyte_is_413(client, make, org, db_session):
    before = _count(db_session)
    big = b'{"description": "' + b"x" * (1024 * 1024) + b'"}'
    r = client.post("/api/v1/incidents", data=big,
                    headers=make.headers(org.employee_a1, **{"Content-Type": "application/json"}))
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"
    assert _count(db_session) == before


def test_problem_json_for_unknown_routes_and_methods(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.mimetype == "application/problem+json"
    r = client.delete("/api/v1/categories")
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    assert r.mimetype == "application/problem+json"


def test_an_unexpected_error_is_500_without_internals(app):
    from incidents.extensions import api

    error = InternalServerError(original_exception=RuntimeError("SELECT secret FROM users"))
    with app.test_request_context("/api/v1/incidents"):
        response = api.handle_http_exception(error)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "SELECT" not in body and "secret" not in body and "Traceback" not in body


def test_security_headers_on_every_response(client):
    for path in ("/api/v1/categories", "/api/v1/no-such-thing", "/api/v1/me"):
        r = client.get(path)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Cache-Control"] == "no-store"


def test_openapi_describes_every_endpoint_and_its_errors(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    rules = {
        re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and "openapi" not in rule.rule
        and "/docs" not in rule.rule
    }
    assert rules == set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            codes = set(operation["responses"])
            assert any(code.startswith(("4", "5")) or code == "default" for code in codes), (
                path, method)
            if operation.get("security"):
                assert "401" in codes, (path, method)
            if "requestBody" in operation:
                assert {"400", "415", "422"} <= codes, (path, method)
            if method == "patch":
                assert {"412", "428"} <= codes, (path, method)


def test_browsable_docs_are_served(client):
    r = client.get("/api/v1/docs")
    assert r.status_code == 200
    assert b"swagger" in r.data.lower()


def test_a_constraint_violation_from_a_concurrent_change_is_409_not_500(
    client, make, org, db_session, monkeypatch
):
    """Simulate the race: the service's checks pass, then the database refuses the insert
    because the unit vanished in between."""
    from incidents.services import reporting

    monkeypatch.setattr(reporting, "_check_unit", lambda unit_id, user=None: None)
    before = _count(db_session)
    r = client.post("/api/v1/incidents", headers=make.headers(org.employee_a1), json={
        "category": "threat", "perceived_influence_purpose": "yes",
        "occurred_at": "2026-03-01T10:00:00+01:00", "unit_id": 987654,
        "description": "x"})
    assert r.status_code == 409
    assert r.mimetype == "application/problem+json"
    assert _count(db_session) == before
