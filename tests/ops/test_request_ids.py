"""The request id: returned with every answer, stored with the audit entries and the mails a
request writes and sent as the mail's X-Request-Id; none at all on the anonymous channel."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from incidents.extensions import limiter
from incidents.models import AuditEntry, Incident, OutboxMail
from incidents.services import outbox
from scheduler import jobs
from tests.anonymous_helpers import publish_held

HEADER = "X-Request-Id"
T = datetime(2026, 6, 10, 5, 30, tzinfo=UTC)  # 07:30 in Stockholm


def _report(org):
    return {"category": "threat", "perceived_influence_purpose": "yes", "unit_id": org.a1.id,
            "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
            "description": "Han sa att han vet var jag bor."}


def test_every_answer_carries_a_new_request_id(client):
    first = client.get("/api/v1/categories").headers[HEADER]
    second = client.get("/signin").headers[HEADER]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and re.fullmatch(r"[0-9a-f]{32}", second)
    assert first != second


@pytest.mark.parametrize(("sent", "kept"), [
    ("5f0c2a9e-6d1b-4c41-9d8e-2f3a4b5c6d7e", True),  # a UUID
    ("nginx.4f2a_9-x", True),
    ("x" * 64, True),
    ("x" * 65, False),
    ("with space", False),
    ("semi;colon", False),
    ("-leading-dash", False),
    ("", False),
])
def test_a_short_safe_incoming_id_is_kept_and_any_other_replaced(client, sent, kept):
    answered = client.get("/api/v1/categories", headers={HEADER: sent}).headers[HEADER]
    if kept:
        assert answered == sent
    else:
        assert answered != sent and re.fullmatch(r"[0-9a-f]{32}", answered)


def test_the_request_id_lands_in_the_audit_entries_and_the_mails_of_its_request(
    client, make, org, db_session, smtp
):
    created = client.post("/api/v1/incidents", json=_report(org),
                          headers=make.headers(org.employee_a1, **{HEADER: "req-report-1"}))
    assert created.status_code == 201 and created.headers[HEADER] == "req-report-1"
    incident_id = created.get_json()["id"]
    denied = client.get(f"/api/v1/incidents/{incident_id}",
                        headers=make.headers(org.employee_b1, **{HEADER: "req-denied-1"}))
    assert denied.status_code in (403, 404)

    trail = db_session.execute(
        select(AuditEntry.action, AuditEntry.request_id)
        .where(AuditEntry.incident_id == incident_id).order_by(AuditEntry.id)).all()
    assert [tuple(row) for row in trail] == [("create", "req-report-1"),
                                             ("access_denied", "req-denied-1")]
    listed = client.get(f"/api/v1/audit?incident_id={incident_id}",
                        headers=make.headers(org.hr)).get_json()
    assert [entry["request_id"] for entry in listed] == ["req-report-1", "req-denied-1"]
    mails = db_session.scalars(select(OutboxMail.request_id)
                               .where(OutboxMail.incident_id == incident_id)).all()
    assert mails == ["req-report-1"]  # the new-incident mail to manager_a
    assert outbox.deliver().sent == 1
    assert smtp.wait_for(1)
    assert smtp.messages[0]["X-Request-Id"] == "req-report-1"


def test_what_is_written_outside_a_request_has_no_request_id(app, make, org, db_session):
    """The scheduler's mails (a manager's daily digest here) and what a service writes for
    the command line carry none."""
    with freeze_time(T - timedelta(hours=30)):
        make.incident(org.employee_a1, org.a1)  # unacknowledged: overdue by 07:00 next day
    jobs.bind(app)
    with freeze_time(T):
        assert jobs.manager_reminders() == 1
    mails = db_session.execute(select(OutboxMail.kind, OutboxMail.request_id)).all()
    assert sorted(tuple(row) for row in mails) == [("new_incident", None),
                                                   ("reminder_digest", None)]
    assert db_session.scalars(select(AuditEntry.request_id)).all() == [None]


def test_the_anonymous_channel_gets_no_request_id_anywhere(
    client, make, org, db_session, smtp, monkeypatch
):
    """Stored beside an anonymous report or its mails, a request id could be matched against
    a proxy's log, which knows the reporter's address: none is read, made, returned or
    stored."""
    monkeypatch.setattr(limiter, "enabled", False)
    sent = {HEADER: "req-anon-1"}
    created = client.post("/api/v1/anonymous-reports", json=_report(org), headers=sent)
    assert created.status_code == 201
    receipt = created.get_json()
    status = client.get(f"/api/v1/anonymous-reports/{receipt['reference']}",
                        headers={**sent, "X-Receipt-Code": receipt["receipt_code"]})
    page = client.get("/anonymous/report", headers=sent)
    assert (status.status_code, page.status_code) == (200, 200)
    for response in (created, status, page):
        assert HEADER not in response.headers

    publish_held()  # as the next full hour does: the report, its mail and the read's entry
    incident_id = db_session.scalar(
        select(Incident.id).where(Incident.reference == receipt["reference"]))
    trail = db_session.scalars(
        select(AuditEntry.request_id).where(AuditEntry.incident_id == incident_id)).all()
    assert len(trail) >= 2 and set(trail) == {None}  # the report and the read
    mails = db_session.scalars(
        select(OutboxMail.request_id).where(OutboxMail.incident_id == incident_id)).all()
    assert mails == [None]  # the new-incident mail to manager_a
    assert outbox.deliver().sent == 1
    assert smtp.wait_for(1)
    assert smtp.messages[0]["X-Request-Id"] is None
    # A named request in between keeps its own id: the rule is the channel's, not global.
    named = client.get("/api/v1/me", headers=make.headers(org.hr, **sent))
    assert named.headers[HEADER] == "req-anon-1"
