"""The audit trail is no side door to case contents: an entry's detail says which kind of record
was read or changed and what was done (ids, field names), never a fact of the case such as a
police outcome, a support type or a follow-up type (docs/roles-and-access.md "Audit trail").
The flows below record every value of those vocabularies; none of them may show in any detail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from incidents.domain import AuditRecord, FollowUpType, PoliceOutcome, SupportType
from incidents.models import AuditEntry, CheckIn
from tests.factories import NOW

TODAY = NOW.date()
EARLIER = (NOW - timedelta(minutes=30)).isoformat()

# Each police outcome, in an order the rules allow, over two cases (prosecution_waived ends one).
OUTCOME_COURSES = [
    ["pending", "not_investigated", "investigation_opened", "investigation_discontinued",
     "investigation_opened", "summary_fine", "indicted", "acquitted", "appealed", "convicted"],
    ["investigation_opened", "prosecution_waived"],
]


@pytest.fixture
def frozen():
    with freeze_time(NOW) as clock:
        yield clock


def _ok(response, status=200):
    assert response.status_code == status, response.get_json()
    return response


def _police(client, make, org, incident, course):
    url = f"/api/v1/incidents/{incident.id}/police-report"
    manager = make.headers(org.manager_a)
    filed = {"decision": "report", "decision_reason": "Hot mot tjänsteman.",
             "filed_by": "employer", "contact_address": "work",
             "filed_at": (NOW - timedelta(hours=1)).isoformat(),
             "police_reference": "5000-K123456-26"}
    _ok(client.put(url, json=filed, headers=manager))
    for code in course:
        etag = client.get(url, headers=manager).headers["ETag"]
        body = {**filed, "outcome": {"code": code, "reached_on": str(TODAY),
                                     "reason": "Skäl enligt beslutet."}}
        _ok(client.put(url, json=body, headers={**manager, "If-Match": etag}))
    client.get(url, headers=make.headers(org.employee_a1))


def _case_work(client, make, org, incident):
    base = f"/api/v1/incidents/{incident.id}"
    manager = make.headers(org.manager_a)
    _ok(client.get(base, headers=manager))
    _ok(client.post(f"{base}/acknowledge", headers=manager))
    for follow_up in FollowUpType:
        _ok(client.post(f"{base}/follow-ups", headers=manager, json={
            "type": follow_up.value, "note": "Anteckning.", "occurred_at": EARLIER}), 201)
    measures = [
        _ok(client.post(f"{base}/support-measures", headers=manager, json={
            "type": support.value, "offered_at": EARLIER}), 201).get_json()
        for support in SupportType
    ]
    for measure in measures[:2]:
        path = f"{base}/support-measures/{measure['id']}"
        etag = _ok(client.get(path, headers=manager)).headers["ETag"]
        _ok(client.patch(path, json={"type": SupportType.LEGAL_SUPPORT.value, "accepted": True},
                         headers={**manager, "If-Match": etag}))
    _ok(client.put(f"{base}/support-declined", headers=manager, json={}), 201)
    check_in = make.session.scalars(
        select(CheckIn).where(CheckIn.incident_id == incident.id)).first()
    _ok(client.post(f"{base}/check-ins/{check_in.id}/complete", headers=manager,
                    json={"note": "Mår bättre."}))
    _ok(client.put(f"{base}/authority-reports", headers=manager, json={"serious": True}))
    _ok(client.post(f"{base}/messages", headers=manager, json={"body": "Hur mår du?"}), 201)
    exposed = make.headers(org.employee_a1)
    _ok(client.put(f"{base}/support-evaluation", headers=exposed, json={
        "sufficient": "yes", "relevant": "partly", "felt_supported_by_employer": 4}), 201)
    for part in ("follow-ups", "support-measures", "support-declined", "check-ins",
                 "support-evaluation", "status-history", "authority-reports", "messages"):
        _ok(client.get(f"{base}/{part}", headers=manager))
    # Refused reads and changes are audited too.
    client.get(f"{base}/follow-ups", headers=exposed)
    client.post(f"{base}/follow-ups", headers=exposed, json={})


def test_no_entry_names_a_police_outcome_a_support_type_or_a_follow_up_type(
    client, make, org, frozen, db_session
):
    first = make.incident(org.employee_a1, org.a1)
    second = make.incident(org.employee_a1, org.a1)
    _case_work(client, make, org, first)
    _police(client, make, org, first, OUTCOME_COURSES[0])
    _police(client, make, org, second, OUTCOME_COURSES[1])
    recorded = {o for course in OUTCOME_COURSES for o in course}
    assert recorded == {o.value for o in PoliceOutcome}, "the flows record every outcome"

    details = db_session.scalars(
        select(AuditEntry.detail).where(AuditEntry.incident_id.in_([first.id, second.id]))
    ).all()

    assert len(details) > 40
    facts = [e.value for enum in (PoliceOutcome, SupportType, FollowUpType) for e in enum]
    leaks = [(fact, detail) for detail in details if detail
             for fact in facts if re.search(rf"\b{re.escape(fact)}\b", detail)]
    assert leaks == []


def test_every_entry_of_a_case_says_which_kind_of_record_it_is_about(
    client, make, org, frozen, db_session
):
    incident = make.incident(org.employee_a1, org.a1)
    _case_work(client, make, org, incident)
    _police(client, make, org, incident, ["pending"])

    rows = db_session.execute(
        select(AuditEntry.action, AuditEntry.record, AuditEntry.detail)
        .where(AuditEntry.incident_id == incident.id, AuditEntry.action != "create")
    ).all()

    assert all(row.record is not None for row in rows), [r for r in rows if r.record is None]
    kinds = {row.record for row in rows}
    assert kinds >= {r.value for r in (
        AuditRecord.INCIDENT, AuditRecord.STATUS, AuditRecord.FOLLOW_UP, AuditRecord.SUPPORT,
        AuditRecord.CHECK_IN, AuditRecord.SUPPORT_EVALUATION, AuditRecord.POLICE_REPORT,
        AuditRecord.AUTHORITY_REPORTS, AuditRecord.MESSAGES)}
    changes = {(row.record, row.detail) for row in rows if row.action == "update"}
    assert ("police_report", "police report changed: outcome") in changes
    assert any(record == "follow_up" and re.fullmatch(r"follow-up entry \d+ added", detail)
               for record, detail in changes)
    assert any(record == "support" and re.fullmatch(r"support measure \d+ added", detail)
               for record, detail in changes)
    denied = {(row.record, row.detail) for row in rows if row.action == "access_denied"}
    assert ("follow_up", "read follow-up: not allowed") in denied
    assert ("follow_up", "document follow-up: own case") in denied
