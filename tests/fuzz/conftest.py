"""A small world for the fuzzer: an organisation, incidents in several states (with a support
measure, check-ins, an evaluation and an anonymous report), a survey, a workshop and a summary,
so that the ids the fuzzer sends often name real objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from incidents.extensions import limiter
from incidents.models import Incident
from tests.anonymous_helpers import publish_held
from tests.factories import Org, build_org


@dataclass
class World:
    org: Org
    ids: dict[str, list] = field(default_factory=dict)
    case_id: int = 0
    receipt_code: str = ""
    tokens: dict[str, str] = field(default_factory=dict)


def _ok(response, *codes: int):
    assert response.status_code in codes, (response.status_code, response.get_json())
    return response.get_json()


def _last_month() -> str:
    first = date.today().replace(day=1)
    previous = first - timedelta(days=1)
    return f"{previous.year}-{previous.month:02d}"


@pytest.fixture
def world(client, make, db_session, monkeypatch) -> World:
    # The anonymous channel's rate limit would answer most requests with 429 (documented), and
    # its memory storage outlives the test: off while the world is made and fuzzed.
    monkeypatch.setattr(limiter, "enabled", False)
    org = build_org(make)
    hr = make.headers(org.hr)
    manager = make.headers(org.manager_a)
    now = datetime.now(UTC)

    reported = make.incident(org.employee_a1, org.a1)
    case = make.incident(org.employee_a1, org.a1, on_behalf_of=org.colleague_a1.id,
                         category="violence", injured=True)
    other = make.incident(org.employee_b1, org.b1, category="harassment")
    base = f"/api/v1/incidents/{case.id}"
    _ok(client.post(f"{base}/acknowledge", headers=manager), 200)
    measure = _ok(client.post(f"{base}/support-measures", headers=manager, json={
        "type": "debriefing", "provider": "Företagshälsan", "accepted": True,
        "delivered_at": now.isoformat()}), 201)
    _ok(client.post(f"{base}/follow-ups", headers=manager, json={
        "type": "conversation", "note": "Samtal med medarbetaren.",
        "occurred_at": now.isoformat()}), 201)
    _ok(client.post(f"{base}/messages", headers=manager, json={"body": "Hur mår du?"}), 201)
    check_ins = _ok(client.get(f"{base}/check-ins", headers=manager), 200)
    _ok(client.put(f"{base}/support-evaluation", headers=make.headers(org.colleague_a1), json={
        "sufficient": "partly", "relevant": "yes", "felt_supported_by_employer": 4}), 201)

    anonymous = _ok(client.post("/api/v1/anonymous-reports", json={
        "category": "threat", "perceived_influence_purpose": "yes",
        "occurred_at": (now - timedelta(days=1)).isoformat(), "unit_id": org.b1.id,
        "description": "Hot i telefon."}), 201)

    survey = _ok(client.post("/api/v1/surveys", headers=hr, json={
        "title": "Utsatthet", "unit_ids": [org.forv.id],
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=14)).isoformat()}), 201)
    workshop = _ok(client.post("/api/v1/workshops", headers=hr, json={
        "title": "Workshop", "held_on": date.today().isoformat(), "unit_ids": [org.forv.id],
        "expected_participants": 30, "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat()}), 201)
    period = _last_month()
    run = _ok(client.post("/api/v1/summaries", headers=hr, json={
        "kind": "monthly", "period": period, "unit_ids": [org.dept_a.id]}), 201)
    publish_held()  # the anonymous report as the next full hour makes it an incident
    anonymous_id = db_session.scalar(
        select(Incident.id).where(Incident.reference == anonymous["reference"]))
    spare = make.unit("Tom enhet", "enhet", org.b1)  # deletable

    units = [org.root, org.forv, org.dept_a, org.a1, org.a2, org.dept_b, org.b1, spare]
    users = [org.employee_a1, org.colleague_a1, org.employee_b1, org.manager_a, org.manager_b1,
             org.hr, org.admin]
    return World(
        org=org,
        ids={
            "incident_id": [reported.id, case.id, other.id, anonymous_id],
            "measure_id": [measure["id"]],
            "check_in_id": [c["id"] for c in check_ins],
            "unit_id": [u.id for u in units],
            "user_id": [u.id for u in users],
            "survey_id": [survey["id"]],
            "workshop_id": [workshop["id"]],
            "summary_id": [s["id"] for s in run["created"]],
            "reference": [anonymous["reference"], case.reference],
            "name": ["incidents-by-form", "police-reported-share"],
            "year": [2025, 2026],
        },
        case_id=case.id,
        receipt_code=anonymous["receipt_code"],
        tokens={"admin_hr": make.token(org.admin_hr), "employee_a1": make.token(org.employee_a1)},
    )
