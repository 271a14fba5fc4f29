"""Plain regression tests for what the fuzzer (test_openapi.py) found, one per bug fixed.

They run on both databases: the answers are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json

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


# -- found by an attack on the running service ----------------------------------------------------

FIVE_THOUSAND_DIGITS = "1" * 5000  # past the 4,300 digits Python's int() takes from text


def _cursor(key, row_id) -> str:
    raw = json.dumps([key, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    if field is not None:
        assert field in body["errors"], body
    return body


def test_a_number_of_5000_digits_in_an_anonymous_report_is_422(client, org):
    """No token needed: the JSON parser's ValueError was a 500 before any schema ran."""
    raw = '{"unit_id": ' + FIVE_THOUSAND_DIGITS + "}"
    r = client.post("/api/v1/anonymous-reports", data=raw, content_type="application/json")
    body = _problem(r, 422, "unit_id")
    assert "digits" in body["errors"]["unit_id"][0]


def test_a_number_of_5000_digits_in_a_report_is_422(client, make, org):
    raw = ('{"category": "threat", "perceived_influence_purpose": "yes", '
           '"occurred_at": "2026-01-01T10:00:00+00:00", "description": "Hot.", '
           '"unit_id": ' + FIVE_THOUSAND_DIGITS + "}")
    r = client.post("/api/v1/incidents", data=raw, content_type="application/json",
                    headers=make.headers(org.employee_a1))
    _problem(r, 422, "unit_id")


@pytest.mark.parametrize("cursor", [
    _cursor("2026-01-01T00:00:00+00:00", 10**30),        # an id past every integer
    _cursor("2026-01-01T00:00:00+00:00", 2**63),
    _cursor("0001-01-01T00:00:00+23:59", 1),              # before the first UTC moment
    _cursor("9999-12-31T23:59:59-23:59", 1),              # after the last one
    _cursor("2026-01-01T00:00:00+00:00", True),
    _cursor(["2026-01-01T00:00:00+00:00"], 1),
    base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", ' + FIVE_THOUSAND_DIGITS.encode()
                             + b"]").decode(),
])
def test_a_forged_cursor_is_422(client, make, org, cursor):
    r = client.get("/api/v1/incidents", query_string={"cursor": cursor},
                   headers=make.headers(org.hr))
    _problem(r, 422, "cursor")


def test_a_forged_workshop_cursor_is_422(client, make, org):
    r = client.get("/api/v1/workshops", query_string={"cursor": _cursor("2026-01-01", 10**30)},
                   headers=make.headers(org.hr))
    _problem(r, 422, "cursor")


@pytest.mark.parametrize("period", ["%C2%B2", "%D9%A1%D9%A1%D9%A1%D9%A1-01", "2026", "2026-5",
                                    "2026-T4x", "x2026-01"])
def test_a_summary_period_filter_that_is_no_period_is_422(client, make, org, period):
    """"²" and Arabic-Indic digits are not digits of a period; a filter that can match nothing
    is a mistake to be told, not an empty list."""
    _problem(client.get(f"/api/v1/summaries?period={period}", headers=make.headers(org.hr)),
             422, "period")
    ok = client.get("/api/v1/summaries?period=2026-03-12", headers=make.headers(org.hr))
    assert ok.status_code == 200


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/summaries?period=%00", "period"),
    ("/api/v1/summaries?kind=monthly&period=2026-01%00", "period"),
    ("/api/v1/incidents?cursor=%00", "cursor"),
    ("/api/v1/stats/incidents?group_by=category%1f", "group_by"),
    ("/api/v1/audit?limit=1&x%00=1", "x?"),
])
def test_a_control_character_in_a_query_parameter_is_422(client, make, org, path, field):
    _problem(client.get(path, headers=make.headers(org.admin_hr)), 422, field)


@pytest.mark.parametrize("path", [
    "/api/v1/anonymous-reports/OP-2026-000001%00",
    "/api/v1/stats/charts/incidents-by-form%00.png",
])
def test_a_control_character_in_the_path_is_404(client, make, org, path):
    _problem(client.get(path, headers={**make.headers(org.hr), "X-Receipt-Code": "x"}), 404)


# The digits 0-9 in other scripts: Arabic-Indic, full-width, superscript.
UNICODE_DIGITS = {
    "arabic-indic": "٠١٢٣٤٥٦٧٨٩",
    "full-width": "０１２３４５６７８９",
    "superscript": "⁰¹²³⁴⁵⁶⁷⁸⁹",
}


def in_digits(number: int, script: str) -> str:
    return str(number).translate(str.maketrans("0123456789", UNICODE_DIGITS[script]))


@pytest.mark.parametrize("script", sorted(UNICODE_DIGITS))
def test_an_id_of_unicode_digits_in_the_path_names_nothing(client, make, org, script):
    """Incident 17 written "١٧" (Arabic-Indic) was read as incident 17."""
    incident = make.incident(org.employee_a1, org.a1)
    r = client.get(f"/api/v1/incidents/{in_digits(incident.id, script)}",
                   headers=make.headers(org.hr))
    _problem(r, 404)
    assert str(incident.id) not in r.get_json()["detail"]


@pytest.mark.parametrize("digit", ["١", "²", "１"])
def test_a_number_of_unicode_digits_in_the_query_is_422(client, make, org, digit):
    r = client.get(f"/api/v1/incidents?unit_id={digit}", headers=make.headers(org.hr))
    _problem(r, 422, "unit_id")
