"""Plain regression tests for what the fuzzer (test_openapi.py) found, one per bug fixed.

They run on both databases: the answers are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

HUGE = 2**63  # one past SQLite's INTEGER: binding it raised OverflowError, a 500
PROBLEM_JSON = "application/problem+json"


def test_error_responses_are_described_as_problem_json(client):
    """Error bodies are application/problem+json; the description said application/json."""
    spec = client.get("/api/v1/openapi.json").get_json()
    responses = spec["components"]["responses"]
    for name in ("NOT_FOUND", "UNPROCESSABLE_ENTITY", "UNAUTHORIZED", "DEFAULT_ERROR"):
        assert list(responses[name]["content"]) == [PROBLEM_JSON], name
    r = client.get("/api/v1/me")
    assert r.status_code == 401 and r.mimetype == PROBLEM_JSON


@pytest.mark.parametrize("path", [
    "/api/v1/incidents/{huge}",
    "/api/v1/incidents/{huge}/authority-reports",
    "/api/v1/units/{huge}",
    "/api/v1/surveys/{huge}",
])
def test_an_id_in_the_path_too_large_for_the_database_is_404(client, make, org, path):
    r = client.get(path.format(huge=HUGE), headers=make.headers(org.admin_hr))
    assert r.status_code == 404, r.get_json()
    assert r.mimetype == PROBLEM_JSON


def test_a_headcount_for_a_unit_id_too_large_is_404(client, make, org):
    r = client.put(f"/api/v1/units/{HUGE}/headcounts/2026", json={"count": 10},
                   headers=make.headers(org.admin_hr))
    assert r.status_code == 404, r.get_json()


@pytest.mark.parametrize("huge", [2**31, HUGE])
@pytest.mark.parametrize(("path", "field", "body"), [
    ("/api/v1/surveys", "unit_ids", {"title": "Utsatthet",
                                     "opens_at": "2030-01-01T08:00:00+00:00",
                                     "closes_at": "2030-01-20T08:00:00+00:00"}),
    ("/api/v1/workshops", "unit_ids", {"title": "Workshop", "held_on": "2030-01-10",
                                       "expected_participants": 10,
                                       "opens_at": "2030-01-10T08:00:00+00:00",
                                       "closes_at": "2030-01-17T08:00:00+00:00"}),
    ("/api/v1/units", "parent_id", {"name": "Ny enhet", "kind": "enhet"}),
    ("/api/v1/users", "unit_id", {"email": "ny@stad.example", "name": "Ny",
                                  "roles": ["employee"]}),
])
def test_an_id_in_the_body_too_large_for_the_database_is_422(client, make, org, path, field,
                                                              body, huge):
    value = [huge] if field.endswith("_ids") else huge
    r = client.post(path, json={**body, field: value}, headers=make.headers(org.admin_hr))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]


@pytest.mark.parametrize("path", [
    "/api/v1/stats/incidents?unit_id={huge}",
    "/api/v1/ia-counts?unit_id={huge}",
    "/api/v1/incidents?unit_id={huge}",
])
def test_an_id_in_the_query_too_large_for_the_database_is_422(client, make, org, path):
    r = client.get(path.format(huge=HUGE), headers=make.headers(org.admin_hr))
    assert r.status_code == 422, r.get_json()
    assert "unit_id" in r.get_json()["errors"]


# -- times and days far out: OverflowError or ValueError in a conversion, a 500 --------------------

SURVEY = {"title": "Utsatthet", "opens_at": "2030-01-01T08:00:00+00:00",
          "closes_at": "2030-01-20T08:00:00+00:00"}


@pytest.mark.parametrize(("field", "value"), [
    ("opens_at", "0001-01-01T00:00:00+01:00"),  # before the first UTC moment
    ("closes_at", "9999-12-31T23:59:59-01:00"),  # after the last one
    ("closes_at", "9999-12-31T23:59:59+00:00"),  # a UTC moment, but not in Stockholm
])
def test_a_time_past_year_1_or_9999_is_422(client, make, org, field, value):
    body = {**SURVEY, "unit_ids": [org.a1.id], field: value}
    r = client.post("/api/v1/surveys", json=body, headers=make.headers(org.hr))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]


def test_a_follow_up_dated_before_the_first_utc_moment_is_422(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    base = f"/api/v1/incidents/{incident.id}"
    client.post(f"{base}/acknowledge", headers=make.headers(org.manager_a))
    r = client.post(f"{base}/follow-ups", headers=make.headers(org.manager_a), json={
        "type": "conversation", "note": "Samtal.", "occurred_at": "0001-01-01T00:00:00+00:01"})
    assert r.status_code == 422, r.get_json()
    assert "occurred_at" in r.get_json()["errors"]


@pytest.mark.parametrize(("query", "field"), [
    ("/api/v1/incidents?occurred_from=0001-01-01", "occurred_from"),
    ("/api/v1/incidents?occurred_to=9999-12-31", "occurred_to"),
    ("/api/v1/stats/incidents?from=0001-01-01&to=0001-01-01", "from"),
    ("/api/v1/stats/police?from=9999-12-31&to=9999-12-31", "from"),
    ("/api/v1/stats/dark-figure?from=0001-01-01&to=0001-12-31", "from"),
    ("/api/v1/workshops/summary?from=9999-01-01&to=9999-12-31", "to"),
])
def test_a_date_filter_far_out_is_422(client, make, org, query, field):
    r = client.get(query, headers=make.headers(org.admin_hr))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]


@pytest.mark.parametrize(("kind", "period"), [
    ("monthly", "0000-01"), ("monthly", "0001-01"), ("tertial", "0001-T3"), ("monthly", "9999-12"),
])
def test_a_summary_period_in_year_0_1_or_9999_is_422(client, make, org, kind, period):
    r = client.post("/api/v1/summaries", json={"kind": kind, "period": period},
                    headers=make.headers(org.hr))
    assert r.status_code == 422, r.get_json()
    assert "period" in r.get_json()["errors"]
