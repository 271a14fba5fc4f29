"""Who may act is checked before what they sent: a caller who may not make a change gets the
same 403 (or 404 outside their scope) whatever the body. Found by a newcomer: a manager sending
an invalid support evaluation got 422, a valid one 403 (docs/errors.md, the order of checks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from incidents.models import AuditEntry

# A body no endpoint accepts: an unknown field and a wrong type.
INVALID = {"personnummer": "19800101-1234", "note": 12}


@pytest.fixture
def case(client, make, org):
    """A case reported by employee_a1 for colleague_a1 (the exposed employee), acknowledged by
    manager_a, with a support measure and check-ins."""
    incident = make.incident(org.employee_a1, org.a1, on_behalf_of=org.colleague_a1.id)
    base = f"/api/v1/incidents/{incident.id}"
    manager = make.headers(org.manager_a)
    assert client.post(f"{base}/acknowledge", headers=manager).status_code == 200
    measure = client.post(f"{base}/support-measures", headers=manager, json={
        "type": "debriefing", "provider": "Företagshälsan"}).get_json()
    check_in = client.get(f"{base}/check-ins", headers=manager).get_json()[0]
    return {"base": base, "measure": measure["id"], "check_in": check_in["id"]}


def _valid_bodies(now: datetime) -> dict[str, dict]:
    return {
        "support-evaluation": {"sufficient": "yes", "relevant": "yes",
                               "felt_supported_by_employer": 4},
        "follow-ups": {"type": "conversation", "note": "Samtal.",
                       "occurred_at": now.isoformat()},
        "support-measures": {"type": "debriefing", "provider": "Företagshälsan"},
        "support-declined": {"note": "Vill inte ha stöd."},
        "police-report": {"decision": "report", "filed_by": "employer"},
        "messages": {"body": "Hej"},
    }


# (method, path under the incident, who may not, status)
REFUSED = [
    ("PUT", "support-evaluation", "manager_a", 403),  # a handler, not the exposed employee
    ("PUT", "support-evaluation", "employee_a1", 403),  # the reporter for a colleague
    ("POST", "follow-ups", "colleague_a1", 403),  # the exposed employee: not their own case
    ("POST", "support-measures", "employee_a1", 403),
    ("PATCH", "support-measures/{measure}", "employee_a1", 403),
    ("PUT", "support-declined", "colleague_a1", 403),
    ("POST", "check-ins/{check_in}/complete", "employee_a1", 403),
    ("PUT", "police-report", "employee_a1", 403),
    ("PUT", "authority-reports", "colleague_a1", 403),
    ("POST", "reopen", "employee_a1", 403),
    ("POST", "messages", "manager_b1", 404),  # outside their scope
    ("PUT", "support-evaluation", "employee_b1", 404),
    ("PATCH", "", "colleague_a1", 403),  # only the reporter corrects the report
]


@pytest.mark.parametrize(("method", "part", "who", "status"), REFUSED,
                         ids=[f"{m} {p or 'incident'} by {w}" for m, p, w, _ in REFUSED])
def test_an_invalid_body_from_someone_who_may_not_act_gets_the_same_refusal(
    client, make, org, case, db_session, method, part, who, status
):
    path = case["base"] + ("/" + part.format(**case) if part else "")
    headers = {**make.headers(getattr(org, who)), "If-Match": "*"}
    valid = _valid_bodies(datetime.now(UTC) - timedelta(minutes=1)).get(part, {})
    answers = []
    for body in (INVALID, valid):
        before = db_session.scalar(select(func.count()).select_from(AuditEntry))
        r = client.open(path, method=method, json=body, headers=headers)
        answers.append((r.status_code, r.get_json()["detail"]))
        # The refusal is audited as before: the body does not change that.
        denied = db_session.scalar(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.outcome == "denied"))
        assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
        assert denied >= 1
    assert answers[0] == answers[1]
    assert answers[0][0] == status


def test_an_employee_of_another_unit_gets_403_for_any_survey_answer(client, make, org):
    now = datetime.now(UTC)
    survey = client.post("/api/v1/surveys", headers=make.headers(org.hr), json={
        "title": "Utsatthet", "unit_ids": [org.dept_a.id],
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=14)).isoformat()}).get_json()
    r = client.post(f"/api/v1/surveys/{survey['id']}/responses", json=INVALID,
                    headers=make.headers(org.employee_b1))
    assert r.status_code == 403, r.get_json()


def test_an_employee_of_another_unit_gets_403_for_any_workshop_rating(client, make, org):
    now = datetime.now(UTC)
    workshop = client.post("/api/v1/workshops", headers=make.headers(org.hr), json={
        "title": "Workshop", "held_on": now.date().isoformat(), "unit_ids": [org.dept_a.id],
        "expected_participants": 30, "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat()}).get_json()
    r = client.post(f"/api/v1/workshops/{workshop['id']}/ratings", json=INVALID,
                    headers=make.headers(org.employee_b1))
    assert r.status_code == 403, r.get_json()


def test_the_one_who_may_act_still_gets_422_naming_the_field(client, make, org, case):
    r = client.put(f"{case['base']}/support-evaluation", json=INVALID,
                   headers=make.headers(org.colleague_a1))
    assert r.status_code == 422
    assert "personnummer" in r.get_json()["errors"]
