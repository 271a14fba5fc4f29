"""Anonymous two-way reports: no account, nothing stored that points back to the reporter, a
receipt code instead, so the reporter can still be kept informed.

What the reporter sends is held until the full hour (test_anonymous_publication.py); the tests
here publish it at once (tests/anonymous_helpers.py) to look at what it becomes."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.extensions import db, hashed_client, limiter
from incidents.models import (
    AnonymousPending,
    AnonymousReceipt,
    AuditEntry,
    IdempotencyRecord,
    Incident,
    Message,
    OutboxMail,
)
from incidents.services import anonymous
from tests.anonymous_helpers import publish_held

ANON = "/api/v1/anonymous-reports"
DESCRIPTION = "Klienten sa att han vet var jag bor och vilken skola mina barn går i."
CROCKFORD = "[0-9A-HJKMNP-TV-Z]"
CODE_FORMAT = re.compile(rf"^{CROCKFORD}{{4}}(-{CROCKFORD}{{4}}){{4}}$")
# An anonymous report's number: ten digits drawn at random, never the year's counter.
REFERENCE_FORMAT = re.compile(r"^OP-\d{4}-[3-9]\d{9}$")
# A receipt code with a 0 and a 1 in it, for the look-alike test (O for 0, I or L for 1).
FIXED_CODE = "0123-4567-89AB-CDEF-GH1K"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """The limiter's memory storage lives as long as the app: every test starts with a full
    budget."""
    limiter.reset()
    yield
    limiter.reset()


def _body(org, **overrides):
    return {
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "unit_id": org.a1.id,
        "description": DESCRIPTION,
        **overrides,
    }


def _post_report(client, org, headers=None, **overrides):
    return client.post(ANON, json=_body(org, **overrides), headers=headers or {})


def _report(client, org, headers=None, **overrides) -> dict:
    """Report, and publish it as the next full hour does."""
    response = _post_report(client, org, headers, **overrides)
    assert response.status_code == 201, response.get_json()
    publish_held()
    return response.get_json()


def _incident(db_session, reference: str) -> Incident:
    db_session.expire_all()
    return db_session.scalar(sa.select(Incident).where(Incident.reference == reference))


def _count(db_session, model) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def _receipt(code: str) -> dict[str, str]:
    return {anonymous.HEADER: code}


def _status(client, reference, code):
    return client.get(f"{ANON}/{reference}", headers=_receipt(code))


def _anon_messages(client, reference, code):
    return client.get(f"{ANON}/{reference}/messages", headers=_receipt(code))


def _anon_write(client, reference, code, body="Hur går det med min anmälan?"):
    return client.post(f"{ANON}/{reference}/messages", json={"body": body},
                       headers=_receipt(code))


def _handler_write(client, make, incident_id, user, body="Vi har tagit emot din anmälan."):
    return client.post(f"/api/v1/incidents/{incident_id}/messages", json={"body": body},
                       headers=make.headers(user))


def _ack(client, make, incident_id, user):
    return client.post(f"/api/v1/incidents/{incident_id}/acknowledge",
                       headers=make.headers(user))


def _mails(db_session, incident_id) -> list[OutboxMail]:
    db_session.expire_all()
    return list(db_session.scalars(
        sa.select(OutboxMail).where(OutboxMail.incident_id == incident_id)
        .order_by(OutboxMail.id)
    ))


# -- reporting ----------------------------------------------------------------------------


def test_an_anonymous_report_needs_no_account(client, org, db_session):
    response = _post_report(
        client, org, subcategory="death_threat", additional_categories=["harassment"],
        location="home_visit", perpetrator="client", channel="in_person",
        targeted_matter="financial_aid", family_targeted=True,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert REFERENCE_FORMAT.match(body["reference"])
    assert CODE_FORMAT.match(body["receipt_code"]), body["receipt_code"]
    assert body["status"] == "reported"
    assert body["status_history"] == []
    assert body["published"] is False and body["reaches_case_handlers_at"]
    assert response.headers["Location"] == f"{ANON}/{body['reference']}"
    assert response.headers["Cache-Control"] == "no-store"  # the code is shown this once
    publish_held()
    incident = _incident(db_session, body["reference"])
    assert incident.anonymous is True
    assert (incident.subcategory, incident.additional_categories) == (
        "death_threat", ["harassment"])
    assert (incident.location, incident.perpetrator, incident.channel,
            incident.targeted_matter, incident.family_targeted) == (
        "home_visit", "client", "in_person", "financial_aid", True)


def test_receipt_codes_are_random_crockford_base32():
    codes = {anonymous.new_receipt_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(CODE_FORMAT.match(code) for code in codes)


@pytest.mark.parametrize(("field", "value"), [
    ("on_behalf_of", "COLLEAGUE"),
    ("injured", True),
    ("sick_leave", True),
    ("ia_reported", True),
    ("ia_reference", "IA-2026-0042"),
])
def test_identifying_fields_are_refused(client, org, db_session, field, value):
    value = org.colleague_a1.id if value == "COLLEAGUE" else value
    tables = (Incident, AnonymousReceipt, OutboxMail, AuditEntry, AnonymousPending)
    before = [_count(db_session, table) for table in tables]
    response = _post_report(client, org, **{field: value})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    after = [_count(db_session, table) for table in tables]
    assert after == before


def _text_columns(connection):
    inspector = sa.inspect(connection)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if isinstance(column["type"], (sa.String, sa.LargeBinary)):
                yield table, column["name"], isinstance(column["type"], sa.LargeBinary)


def test_the_receipt_code_is_stored_only_as_a_hash(client, org, db_session):
    body = _report(client, org)
    code = body["receipt_code"]
    normalised = code.replace("-", "")
    connection = db_session.connection()
    scanned = 0
    for table, name, binary in _text_columns(connection):
        column = sa.column(name)
        values = connection.execute(sa.select(column).select_from(sa.table(table, column)))
        for (value,) in values:
            if value is None:
                continue
            text = bytes(value).decode("utf-8", "replace") if binary else value
            upper = text.upper()
            assert code not in upper and normalised not in upper, f"{table}.{name}"
        scanned += 1
    assert scanned > 20  # every table's text columns were looked at, not none
    incident = _incident(db_session, body["reference"])
    receipt = db_session.get(AnonymousReceipt, incident.id)
    assert receipt.code_hash == hashlib.sha256(normalised.encode()).hexdigest()


def test_no_account_is_stored_even_when_a_token_is_sent(client, make, org, db_session):
    headers = make.headers(org.employee_a1, **{"Idempotency-Key": "anon-retry-1"})
    records_before = _count(db_session, IdempotencyRecord)
    first = _report(client, org, headers=headers)
    # The same key again is not a replay: nothing was kept under it.
    second = _report(client, org, headers=headers)
    assert second["reference"] != first["reference"]
    assert "Idempotent-Replayed" not in client.post(
        ANON, json=_body(org), headers=headers).headers
    assert _count(db_session, IdempotencyRecord) == records_before
    for reference in (first["reference"], second["reference"]):
        incident = _incident(db_session, reference)
        assert incident.anonymous is True
        assert incident.reporter_id is None
        assert incident.on_behalf_of_id is None
        entries = db_session.scalars(
            sa.select(AuditEntry).where(AuditEntry.incident_id == incident.id)).all()
        assert entries and all(entry.actor_id is None for entry in entries)
    # Writing in the thread with a token and a key: no author, no record either.
    written = client.post(f"{ANON}/{first['reference']}/messages", json={"body": "Hej"},
                          headers={**headers, **_receipt(first["receipt_code"])})
    assert written.status_code == 201
    assert "author_id" not in written.get_json()
    publish_held()
    db_session.expire_all()
    incident = _incident(db_session, first["reference"])
    assert [m.author_id for m in db_session.scalars(
        sa.select(Message).where(Message.incident_id == incident.id))] == [None]
    assert _count(db_session, IdempotencyRecord) == records_before


def test_an_invalid_token_sent_along_is_ignored_too(client, org, db_session):
    """The channel never reads the caller's identity, so a bad token is no 401 either."""
    headers = {"Authorization": "Bearer not-a-token"}
    body = _report(client, org, headers=headers)
    assert _incident(db_session, body["reference"]).reporter_id is None
    status = client.get(f"{ANON}/{body['reference']}",
                        headers={**headers, **_receipt(body["receipt_code"])})
    assert status.status_code == 200


def test_the_reporters_times_are_cut_to_the_hour(client, make, org, db_session):
    hour = datetime(2026, 3, 10, 9, tzinfo=UTC)
    exact = datetime(2026, 3, 10, 10, 12, 13, tzinfo=UTC)
    with freeze_time("2026-03-10 09:47:13+00:00") as clock:
        body = _report(client, org)
        reference, code = body["reference"], body["receipt_code"]
        incident_id = _incident(db_session, reference).id
        assert _status(client, reference, code).status_code == 200
        written = _anon_write(client, reference, code)
        assert _anon_messages(client, reference, code).status_code == 200
        clock.move_to("2026-03-10 10:00:00+00:00")  # the next full hour publishes them
        assert anonymous.publish().published == {"report": 0, "message": 1, "read": 2}
        clock.move_to(exact)
        answer = _handler_write(client, make, incident_id, org.hr)
    assert body["received_at"] == "2026-03-10T09:00:00+00:00"
    assert written.status_code == 201 and answer.status_code == 201, answer.get_json()
    assert written.get_json()["sent_at"] == "2026-03-10T09:00:00+00:00"
    assert answer.get_json()["sent_at"] == "2026-03-10T10:12:13+00:00"
    incident = _incident(db_session, reference)
    assert incident.created_at == hour
    entries = db_session.scalars(
        sa.select(AuditEntry).where(AuditEntry.incident_id == incident.id,
                                    AuditEntry.actor_id.is_(None))).all()
    assert {e.detail for e in entries} >= {
        "anonymous report", "anonymous reporter: status", "anonymous reporter: messages"}
    assert any(e.detail.startswith("anonymous reporter: message ") for e in entries)
    assert all(entry.at == hour for entry in entries)
    created = [e for e in entries if e.action == "create"]
    assert len(created) == 1 and created[0].at == hour
    messages = {m.sender: m.created_at for m in db_session.scalars(
        sa.select(Message).where(Message.incident_id == incident.id))}
    assert messages == {"reporter": hour, "case_handler": exact}
    # The mails to the managers about the report and the reporter's message keep the hour
    # they were published in.
    mails = db_session.scalars(
        sa.select(OutboxMail).where(OutboxMail.incident_id == incident.id)).all()
    assert {m.kind for m in mails} == {"new_incident", "new_message"}
    published = {m.kind: m.created_at for m in mails}
    assert published == {"new_incident": hour, "new_message": hour + timedelta(hours=1)}
    assert all(m.next_attempt_at == m.created_at for m in mails)


# -- reading by reference and receipt code ------------------------------------------------


def test_the_reporter_reads_the_status_with_the_receipt_code(client, make, org, db_session):
    body = _report(client, org)
    reference, code = body["reference"], body["receipt_code"]
    incident_id = _incident(db_session, reference).id
    assert _ack(client, make, incident_id, org.manager_a).status_code == 200
    response = _status(client, reference, code)
    assert response.status_code == 200, response.get_json()
    status = response.get_json()
    assert status["reference"] == reference
    assert status["status"] == "acknowledged"
    assert status["status_label"] == {"sv": "Mottagen", "en": "Acknowledged"}
    assert [c["status"] for c in status["status_history"]] == ["acknowledged"]
    assert "description" not in status


def test_the_receipt_code_is_forgiving_about_case_dashes_and_lookalikes(
    client, org, monkeypatch
):
    monkeypatch.setattr(anonymous, "new_receipt_code", lambda: FIXED_CODE)
    body = _report(client, org)
    assert body["receipt_code"] == FIXED_CODE
    reference = body["reference"]
    for spelling in (
        FIXED_CODE,
        FIXED_CODE.lower(),
        FIXED_CODE.replace("-", ""),
        FIXED_CODE.replace("0", "O").replace("1", "I"),
        FIXED_CODE.replace("0", "o").replace("1", "l"),
        FIXED_CODE.replace("1", "L"),
    ):
        response = _status(client, reference, spelling)
        assert response.status_code == 200, spelling
    assert _status(client, reference.lower(), FIXED_CODE).status_code == 200
    # A different code in the same alphabet is still wrong.
    assert _status(client, reference, FIXED_CODE.replace("K", "M")).status_code == 404


@pytest.mark.parametrize("suffix", ["", "/messages"])
def test_a_wrong_code_and_an_unknown_reference_look_the_same(client, make, org, suffix):
    body = _report(client, org)
    reference, code = body["reference"], body["receipt_code"]
    wrong = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ" else "0" * 20
    unknown = "OP-2020-999999"
    wrong_code = client.get(f"{ANON}/{reference}{suffix}", headers=_receipt(wrong))
    no_such = client.get(f"{ANON}/{unknown}{suffix}", headers=_receipt(code))
    assert wrong_code.status_code == no_such.status_code == 404
    assert wrong_code.data == no_such.data
    # A named report's reference is no anonymous report either.
    named = make.incident(org.employee_a1, org.a1)
    not_anonymous = client.get(f"{ANON}/{named.reference}{suffix}", headers=_receipt(code))
    assert not_anonymous.status_code == 404 and not_anonymous.data == no_such.data
    assert client.get(f"{ANON}/{reference}{suffix}", headers=_receipt(code)).status_code == 200


@pytest.mark.parametrize("suffix", ["", "/messages"])
def test_a_missing_receipt_code_is_401_whether_or_not_the_reference_exists(
    client, org, suffix
):
    reference = _report(client, org)["reference"]
    known = client.get(f"{ANON}/{reference}{suffix}")
    unknown = client.get(f"{ANON}/OP-2020-999999{suffix}")
    assert known.status_code == unknown.status_code == 401
    assert anonymous.HEADER in known.get_json()["errors"]
    assert known.data == unknown.data
    posted = client.post(f"{ANON}/{reference}/messages", json={"body": "Hej"})
    assert posted.status_code == 401 and anonymous.HEADER in posted.get_json()["errors"]


# -- messages -----------------------------------------------------------------------------


def test_messages_go_both_ways(client, make, org, db_session):
    body = _report(client, org)
    reference, code = body["reference"], body["receipt_code"]
    incident_id = _incident(db_session, reference).id
    written = _anon_write(client, reference, code, "Jag vill veta vad som händer nu.")
    assert written.status_code == 201, written.get_json()
    assert written.get_json()["sender"] == "reporter"
    publish_held()
    for handler in (org.hr, org.manager_a):
        thread = client.get(f"/api/v1/incidents/{incident_id}/messages",
                            headers=make.headers(handler))
        assert thread.status_code == 200, thread.get_json()
        assert [(m["sender"], m["author_id"], m["body"]) for m in thread.get_json()] == [
            ("reporter", None, "Jag vill veta vad som händer nu.")]
    answer = _handler_write(client, make, incident_id, org.manager_a, "Vi hör av oss i veckan.")
    assert answer.status_code == 201 and answer.get_json()["sender"] == "case_handler"
    seen = _anon_messages(client, reference, code)
    assert seen.status_code == 200
    messages = seen.get_json()
    assert [(m["sender"], m["body"]) for m in messages] == [
        ("reporter", "Jag vill veta vad som händer nu."),
        ("case_handler", "Vi hör av oss i veckan."),
    ]
    assert messages[1]["sender_label"] == {"sv": "Handläggare", "en": "Case handler"}
    assert all("author_id" not in m for m in messages)


def test_anonymous_reports_are_in_the_handlers_lists_not_the_employees(
    client, make, org, db_session
):
    # Sent with employee_a1's token, which the anonymous channel ignores.
    reference = _report(client, org, headers=make.headers(org.employee_a1))["reference"]
    incident_id = _incident(db_session, reference).id
    for handler in (org.hr, org.manager_a):
        items = client.get("/api/v1/incidents", headers=make.headers(handler)).get_json()["items"]
        found = [i for i in items if i["id"] == incident_id]
        assert len(found) == 1, handler.email
        assert found[0]["anonymous"] is True and found[0]["reporter_id"] is None
    for outsider in (org.employee_a1, org.manager_b1):
        items = client.get("/api/v1/incidents", headers=make.headers(outsider)).get_json()["items"]
        assert incident_id not in {i["id"] for i in items}


def test_mails_go_to_the_managers_and_never_to_the_anonymous_reporter(
    client, make, org, db_session
):
    body = _report(client, org)
    reference, code = body["reference"], body["receipt_code"]
    incident_id = _incident(db_session, reference).id
    mails = _mails(db_session, incident_id)
    assert [(m.kind, m.recipient) for m in mails] == [("new_incident", org.manager_a.email)]
    assert _handler_write(client, make, incident_id, org.hr).status_code == 201
    assert _ack(client, make, incident_id, org.manager_a).status_code == 200
    assert len(_mails(db_session, incident_id)) == 1  # nobody to tell on the reporter's side
    assert _anon_write(client, reference, code, "Jag har en fråga till.").status_code == 201
    assert len(_mails(db_session, incident_id)) == 1  # held: nobody is told before the hour
    publish_held()
    mails = _mails(db_session, incident_id)
    assert [(m.kind, m.recipient) for m in mails] == [
        ("new_incident", org.manager_a.email), ("new_message", org.manager_a.email)]
    for mail in mails:
        assert DESCRIPTION not in mail.body and "Jag har en fråga till." not in mail.body
        assert code not in mail.body and code.replace("-", "") not in mail.body


# -- closing ------------------------------------------------------------------------------


def test_closing_an_anonymous_incident_needs_a_follow_up_and_an_answer(
    client, make, org, db_session
):
    reference = _report(client, org, category="harassment")["reference"]
    incident_id = _incident(db_session, reference).id
    base = f"/api/v1/incidents/{incident_id}"
    headers = make.headers(org.manager_a)
    assert _ack(client, make, incident_id, org.manager_a).status_code == 200
    assert client.get(f"{base}/check-ins", headers=headers).get_json() == []

    refused = client.post(f"{base}/close", headers=headers)
    assert refused.status_code == 409
    missing = refused.get_json()["errors"]["missing"]
    assert len(missing) == 2
    assert any("follow-up entry" in m for m in missing)
    assert any("message to the anonymous reporter" in m for m in missing)
    assert not any("conversation" in m or "support decision" in m for m in missing)

    follow_up = client.post(f"{base}/follow-ups", headers=headers, json={
        "type": "risk_assessment", "note": "Riskbedömning av enheten gjord.",
        "occurred_at": datetime.now(UTC).isoformat()})
    assert follow_up.status_code == 201, follow_up.get_json()
    still = client.post(f"{base}/close", headers=headers)
    assert still.status_code == 409
    assert [m for m in still.get_json()["errors"]["missing"]
            if "anonymous reporter" in m] and len(still.get_json()["errors"]["missing"]) == 1

    assert _handler_write(client, make, incident_id, org.manager_a,
                          "Vi erbjuder samtal med företagshälsan.").status_code == 201
    closed = client.post(f"{base}/close", headers=headers)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["status"] == "closed"


# -- rate limits --------------------------------------------------------------------------


def _assert_too_many(response):
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 429
    assert int(response.headers["Retry-After"]) > 0


def test_reporting_is_rate_limited_per_client(client, org, app, monkeypatch, db_session):
    monkeypatch.setitem(app.config, "ANONYMOUS_REPORT_RATE_LIMIT", "2 per hour")
    for _ in range(2):
        response = _post_report(client, org)
        assert response.status_code == 201
        assert "Retry-After" not in response.headers
    before = (_count(db_session, Incident), _count(db_session, AnonymousPending))
    _assert_too_many(_post_report(client, org))
    assert (_count(db_session, Incident), _count(db_session, AnonymousPending)) == before
    # Other answers say nothing about the limit either.
    for other in (client.get(f"{ANON}/OP-2020-999999"), client.get("/api/v1/incidents")):
        assert "Retry-After" not in other.headers


def test_the_receipt_endpoints_share_one_budget(client, org, app, monkeypatch):
    """Answers that served the report share one budget per client; a wrong code is counted
    apart (test_anonymous_guessing.py), so it does not use this one up."""
    body = _report(client, org)
    reference, code = body["reference"], body["receipt_code"]
    monkeypatch.setitem(app.config, "ANONYMOUS_READ_RATE_LIMIT", "3 per hour")
    allowed = [
        _status(client, reference, code),
        _anon_write(client, reference, code),
        _status(client, "OP-2020-999999", code),  # a failed guess: not from this budget
        _anon_messages(client, reference, code),
    ]
    assert [r.status_code for r in allowed] == [200, 201, 404, 200]
    assert all("Retry-After" not in r.headers for r in allowed)
    _assert_too_many(_anon_messages(client, reference, code))
    _assert_too_many(_status(client, reference, code))
    _assert_too_many(_anon_write(client, reference, code))


def test_the_limiter_key_is_a_daily_keyed_hash_not_the_address(app):
    def key(address: str) -> str:
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            return hashed_client()

    with freeze_time("2026-03-10 12:00:00+00:00"):
        first, again, other = key("10.1.2.3"), key("10.1.2.3"), key("10.1.2.4")
    with freeze_time("2026-03-11 12:00:00+00:00"):
        next_day = key("10.1.2.3")
    assert "10.1.2.3" not in first and "10.1.2.3" not in next_day
    assert first == again
    assert first != other
    assert first != next_day
    # Keyed: not a plain hash anyone could compute from an address and a date.
    assert first != hashlib.sha256(b"2026-03-10|10.1.2.3").hexdigest()[:32]


# -- the development server's log ---------------------------------------------------------


def _filtered(msg: str, args: tuple) -> str:
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, msg, args, None)
    assert logging.getLogger("werkzeug").filter(record)
    return record.getMessage()


@pytest.mark.parametrize(("msg", "args"), [
    ("%s - - [%s] %s\n", ("10.1.2.3", "10/Mar/2026 09:47:13", '"{line}" 201 -')),
    # werkzeug's own form: address and time in the message, the request line in the args.
    ('10.1.2.3 - - [10/Mar/2026 09:47:13] "%s" %s %s\n', ("{line}", "201", "-")),
])
def test_the_dev_server_log_blanks_address_and_time_on_the_anonymous_path(app, msg, args):
    def line(path: str) -> tuple:
        return tuple(a.format(line=f"POST {path} HTTP/1.1") for a in args)

    anonymous_line = _filtered(msg, line("/api/v1/anonymous-reports"))
    assert "/api/v1/anonymous-reports" in anonymous_line
    assert "10.1.2.3" not in anonymous_line and "09:47:13" not in anonymous_line
    assert "10/Mar/2026" not in anonymous_line
    other_line = _filtered(msg, line("/api/v1/incidents"))
    assert "10.1.2.3" in other_line and "10/Mar/2026 09:47:13" in other_line


def test_the_column_scan_covers_every_table_with_text(db_session):
    """A guard for the receipt-code scan: it sees every model's text and binary columns."""
    scanned = {(table, name) for table, name, _ in _text_columns(db_session.connection())}
    expected = {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, (sa.String, sa.LargeBinary))
    }
    assert expected and expected <= scanned
    assert ("anonymous_receipts", "code_hash") in scanned


def test_an_unacknowledged_anonymous_report_is_on_the_handlers_overdue_list(
    client, make, org, db_session
):
    """Nobody is the exposed employee of an anonymous report, so no handler is left out of it
    (the 'never your own case' rule must not turn its NULL into 'nobody's case')."""
    with freeze_time("2026-03-10 09:00:00+00:00"):
        body = _report(client, org, occurred_at="2026-03-10T08:00:00+00:00")
    incident_id = _incident(db_session, body["reference"]).id
    with freeze_time("2026-03-11 10:00:00+00:00"):  # 25 hours later
        for handler in (org.manager_a, org.hr):
            overdue = client.get("/api/v1/follow-up/overdue", headers=make.headers(handler))
            assert overdue.status_code == 200, overdue.get_json()
            items = {(i["kind"], i["incident_id"]) for i in overdue.get_json()["items"]}
            assert ("acknowledgement", incident_id) in items


def test_behind_a_proxy_each_forwarded_client_has_its_own_budget(app, client, monkeypatch):
    from incidents import register_proxy_fix

    monkeypatch.setitem(app.config, "ANONYMOUS_WRONG_CODE_RATE_LIMIT", "1 per hour")
    url = f"{ANON}/OP-2026-999999"

    def read(address):
        return client.get(url, headers={"X-Forwarded-For": address,
                                        **_receipt("0000-0000-0000-0000-0000")}).status_code

    # Without PROXY_FIX_X_FOR the forwarded address is not trusted: one budget for all.
    assert (read("10.0.0.1"), read("10.0.0.2")) == (404, 429)
    limiter.reset()
    monkeypatch.setattr(app, "wsgi_app", app.wsgi_app)
    monkeypatch.setitem(app.config, "PROXY_FIX_X_FOR", 1)
    register_proxy_fix(app)
    assert (read("10.0.0.1"), read("10.0.0.2"), read("10.0.0.1")) == (404, 404, 429)
