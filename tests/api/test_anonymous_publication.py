"""The anonymous channel's timing: nobody who reads the audit trail, the register, a list or a
mail can place an anonymous submission, a reporter's read or their message more precisely than
the hour (services/anonymous.py).

Found by an attack on the running service: anonymous rows were stamped to the hour, but ids,
audit entries and reference numbers were sequential and shared with named activity stamped to
the microsecond, so the audit list placed an anonymous submission within 2.3 s and a reporter's
message within 126 ms, and the managers' mail went out within a minute with the send time in
its Date header. Now what the reporter sends is held and published at the full hour, in random
order, with a reference drawn at random.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.extensions import limiter
from incidents.models import (
    AnonymousPending,
    AuditEntry,
    Incident,
    Message,
    OutboxMail,
    ReferenceCounter,
    Unit,
)
from incidents.services import anonymous, messages, outbox, reporting
from tests.anonymous_helpers import publish_held

ANON = "/api/v1/anonymous-reports"
HOUR_9 = datetime(2026, 3, 10, 9, tzinfo=UTC)
HOUR_10 = datetime(2026, 3, 10, 10, tzinfo=UTC)
HOUR_11 = datetime(2026, 3, 10, 11, tzinfo=UTC)
CLOCK_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch):
    """Many submissions from one test client: the limits are tested elsewhere."""
    monkeypatch.setattr(limiter, "enabled", False)


@pytest.fixture
def smtp(app, monkeypatch):
    from tests.mail.smtp import SmtpServer

    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
    yield server
    server.stop()


def _body(unit_id: int, description: str = "Han sa att han vet var jag bor.") -> dict:
    return {"category": "threat", "perceived_influence_purpose": "yes", "unit_id": unit_id,
            "occurred_at": "2026-03-09T12:00:00+00:00", "description": description}


def _submit(client, unit_id: int, description: str = "Han sa att han vet var jag bor.") -> dict:
    response = client.post(ANON, json=_body(unit_id, description))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _code(receipt: dict) -> dict[str, str]:
    return {anonymous.HEADER: receipt["receipt_code"]}


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def _incident(session, reference: str) -> Incident | None:
    session.expire_all()
    return session.scalar(sa.select(Incident).where(Incident.reference == reference))


def _on_the_hour(moment: datetime) -> bool:
    return (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


def _number(reference: str) -> int:
    return int(reference.rsplit("-", 1)[1])


# -- nothing is written where it belongs until the hour ----------------------------------------


def test_a_submission_a_message_and_a_read_are_only_held_until_the_hour(client, org, db_session):
    tables = (Incident, AuditEntry, Message, OutboxMail, ReferenceCounter)
    before = [_count(db_session, table) for table in tables]
    with freeze_time("2026-03-10 10:14:02.3+00:00"):
        receipt = _submit(client, org.a1.id)
        assert client.get(f"{ANON}/{receipt['reference']}", headers=_code(receipt)).status_code \
            == 200
        written = client.post(f"{ANON}/{receipt['reference']}/messages",
                              json={"body": "Det hände igen."}, headers=_code(receipt))
    assert written.status_code == 201
    assert [_count(db_session, table) for table in tables] == before
    held = db_session.scalars(sa.select(AnonymousPending)).all()
    assert sorted(row.kind for row in held) == ["message", "read", "report"]
    assert {row.received_hour for row in held} == {HOUR_10}
    assert {row.reference for row in held} == {receipt["reference"]}
    assert all(re.fullmatch(r"[0-9a-f]{32}", row.id) for row in held)  # random, not a sequence
    assert receipt["published"] is False
    assert receipt["received_at"] == "2026-03-10T10:00:00+00:00"
    assert receipt["reaches_case_handlers_at"] == "2026-03-10T11:00:00+00:00"
    assert written.get_json()["id"] is None and written.get_json()["published"] is False


def test_an_anonymous_reference_is_drawn_at_random_and_never_from_the_counter(
    client, make, org, db_session
):
    """A sequential number would place an anonymous report between two named ones."""
    first = make.incident(org.employee_a1, org.a1)
    receipts = [_submit(client, org.a1.id) for _ in range(5)]
    second = make.incident(org.employee_a1, org.a1)
    assert _number(second.reference) == _number(first.reference) + 1  # no number taken
    numbers = [_number(r["reference"]) for r in receipts]
    assert len(set(numbers)) == 5
    assert all(reporting.ANONYMOUS_FIRST <= n <= reporting.ANONYMOUS_LAST for n in numbers)
    assert all(re.fullmatch(r"OP-\d{4}-\d{10}", r["reference"]) for r in receipts)
    publish_held()
    for receipt in receipts:
        assert _incident(db_session, receipt["reference"]).anonymous
    # The counter stops before the anonymous reports' numbers, so the two never meet; on
    # PostgreSQL its 32-bit column cannot even hold a number that close to them.
    year = int(first.reference.split("-")[1])
    almost = (sa.update(ReferenceCounter).where(ReferenceCounter.year == year)
              .values(last_number=reporting.ANONYMOUS_FIRST - 1))
    if db_session.get_bind().dialect.name == "postgresql":
        with pytest.raises(sa.exc.DataError, match="out of range"), db_session.begin_nested():
            db_session.execute(almost)
        return
    db_session.execute(almost)
    with pytest.raises(RuntimeError, match="used up"):
        reporting.next_reference(year)


# -- the attack -------------------------------------------------------------------------------


def test_nothing_places_an_anonymous_submission_read_or_message_closer_than_its_hour(
    client, make, org, db_session, smtp
):
    """Named activity 2.3 s before and after an anonymous submission, and 126 ms around a
    reporter's read and message; after the publication at 11:00, neither the audit list (ids,
    order, times), the incidents' ids and references, the message ids, the lists nor the
    managers' mail (Date header, body) places them closer than the hour."""
    hr = make.headers(org.hr)
    with freeze_time("2026-03-10 09:20:00+00:00") as clock:
        earlier = _submit(client, org.a1.id)  # published at 10:00; its reporter writes at 10:30
        clock.move_to(HOUR_10)
        anonymous.publish()
        followed = _incident(db_session, earlier["reference"])

        clock.move_to("2026-03-10 10:14:00+00:00")
        before = make.incident(org.employee_a1, org.a1)
        clock.move_to("2026-03-10 10:14:02.3+00:00")
        receipt = _submit(client, org.a1.id, "Klienten hotade mig i receptionen.")
        clock.move_to("2026-03-10 10:14:04.6+00:00")
        after = make.incident(org.employee_b1, org.b1)

        clock.move_to("2026-03-10 10:29:59.874+00:00")
        named_before = messages.post_for_user(org.manager_a, followed.id, "Hur mår du?")
        db_session.commit()
        clock.move_to("2026-03-10 10:30:00+00:00")
        read = client.get(f"{ANON}/{earlier['reference']}/messages", headers=_code(earlier))
        written = client.post(f"{ANON}/{earlier['reference']}/messages",
                              json={"body": "Han kom tillbaka i dag."}, headers=_code(earlier))
        clock.move_to("2026-03-10 10:30:00.126+00:00")
        named_after = messages.post_for_user(org.manager_a, followed.id, "Vi ringer dig.")
        db_session.commit()
        assert (read.status_code, written.status_code) == (200, 201)
        named_ids = set(db_session.scalars(sa.select(AuditEntry.id)))

        clock.move_to(HOUR_11)  # the hourly publication
        run = anonymous.publish()
        assert run.published == {"report": 1, "message": 1, "read": 1} and not run.failed
        clock.move_to("2026-03-10 11:00:41+00:00")
        assert outbox.deliver().sent >= 4
        assert smtp.wait_for(4)

    published = _incident(db_session, receipt["reference"])
    trail = client.get("/api/v1/audit", query_string={"limit": 1000}, headers=hr).get_json()
    anonymous_side = [e for e in trail if e["actor_id"] is None and e["id"] not in named_ids]
    assert {(e["incident_id"], e["action"], e["detail"].split(":")[0])
            for e in anonymous_side} == {
        (published.id, "create", "anonymous report"),
        (followed.id, "read", "anonymous reporter"),
        (followed.id, "update", "anonymous reporter")}
    # Their times are the hour they came in, and their place in the trail is after everything
    # named that happened in that hour: they say "10:00 to 11:00" and no more.
    assert {e["at"] for e in anonymous_side} == {"2026-03-10T10:00:00+00:00"}
    assert min(e["id"] for e in anonymous_side) > max(named_ids)
    assert [e["id"] for e in trail] == sorted(e["id"] for e in trail)

    # Incident ids and references: the named reports before and after are neighbours.
    assert published.id > after.id > before.id
    assert _number(after.reference) == _number(before.reference) + 1
    assert _number(published.reference) >= reporting.ANONYMOUS_FIRST
    assert published.created_at == published.updated_at == HOUR_10

    # The message: an id after the named messages of its hour, and the hour as its time.
    thread = client.get(f"/api/v1/incidents/{followed.id}/messages",
                        headers=make.headers(org.manager_a)).get_json()
    assert [m["body"] for m in thread] == [
        "Hur mår du?", "Vi ringer dig.", "Han kom tillbaka i dag."]
    assert thread[2]["id"] > named_after.id > named_before.id
    assert thread[2]["sent_at"] == "2026-03-10T10:00:00+00:00"

    # The register and the lists carry the hour only.
    shown = client.get(f"/api/v1/incidents/{published.id}", headers=hr).get_json()
    assert shown["created_at"] == shown["updated_at"] == "2026-03-10T10:00:00+00:00"
    items = client.get("/api/v1/incidents", headers=hr).get_json()["items"]
    listed = next(i for i in items if i["id"] == published.id)
    assert all(_on_the_hour(datetime.fromisoformat(listed[key]))
               for key in ("created_at", "updated_at") if key in listed)

    # The mails: sent at 11:00:41, dated 11:00 when they are about the anonymous side.
    by_subject = {m["Subject"]: m for m in smtp.messages}
    about_anonymous = [by_subject[f"Ny händelse / New incident {published.reference}"],
                       by_subject[f"Nytt meddelande / New message {followed.reference}"]]
    for mail in about_anonymous:
        assert parsedate_to_datetime(mail["Date"]) == HOUR_11
        stamp = int(re.search(r"<outbox-\d+-(\d+)@", mail["Message-ID"])[1])
        assert _on_the_hour(datetime.fromtimestamp(stamp, UTC))
        assert not CLOCK_TIME.search(mail.get_content())
    named = by_subject[f"Ny händelse / New incident {after.reference}"]
    assert parsedate_to_datetime(named["Date"]) == datetime(2026, 3, 10, 11, 0, 41, tzinfo=UTC)
    rows = db_session.scalars(sa.select(OutboxMail).where(
        OutboxMail.incident_id.in_([published.id, followed.id]))).all()
    assert rows and all(_on_the_hour(m.created_at) and _on_the_hour(m.next_attempt_at)
                        for m in rows)
    assert _count(db_session, AnonymousPending) == 0  # published rows are deleted


# -- the order of a batch ---------------------------------------------------------------------


def test_many_submissions_in_one_hour_are_published_in_random_order(client, org, db_session):
    """30 reports, then a message from each reporter, sent in a known order within one hour:
    neither the incidents nor the messages come out in that order (a random order matching it
    has a chance of 1 in 30!), and each reporter's own messages keep theirs."""
    receipts = []
    with freeze_time(HOUR_9) as clock:
        for n in range(30):
            clock.move_to(HOUR_9 + timedelta(seconds=100 * n + 1))
            receipts.append(_submit(client, org.a1.id, f"Händelse nummer {n}."))
        clock.move_to(HOUR_10)
        assert anonymous.publish().published["report"] == 30
        for n, receipt in enumerate(receipts):
            clock.move_to(HOUR_10 + timedelta(seconds=100 * n + 1))
            for part in ("första", "andra"):
                assert client.post(f"{ANON}/{receipt['reference']}/messages",
                                   json={"body": f"{n}: {part}"},
                                   headers=_code(receipt)).status_code == 201
        clock.move_to(HOUR_11)
        assert anonymous.publish().published["message"] == 60

    incidents = db_session.scalars(sa.select(Incident).order_by(Incident.id)).all()
    order = [int(re.search(r"\d+", i.description)[0]) for i in incidents]
    assert sorted(order) == list(range(30))
    assert order not in (list(range(30)), list(range(29, -1, -1)))
    entries = db_session.scalars(sa.select(AuditEntry.incident_id).where(
        AuditEntry.action == "create").order_by(AuditEntry.id)).all()
    assert entries == [i.id for i in incidents]  # one transaction per item, in that order

    written = db_session.scalars(sa.select(Message.body).order_by(Message.id)).all()
    senders = [int(body.split(":")[0]) for body in written]
    firsts = [s for s, body in zip(senders, written, strict=True) if "första" in body]
    assert firsts not in (list(range(30)), list(range(29, -1, -1)))
    for n in range(30):  # a reporter's own messages stay in the order written
        assert [b for b in written if b.startswith(f"{n}: ")] == [f"{n}: första", f"{n}: andra"]


# -- failures ---------------------------------------------------------------------------------


def test_an_item_that_fails_stays_held_and_is_retried_while_the_rest_are_published(
    client, make, org, db_session, runner
):
    """A report whose unit vanished before the hour (removed in the database: the service
    refuses to delete a unit with a held report) cannot become an incident: it stays
    held (with its message and read, which wait for it), the others are published, the command
    says so and exits 1; once the unit is back, the next run publishes it."""
    spare = make.unit("Tillfällig enhet", "enhet", org.b1)
    spare_id = spare.id
    with freeze_time("2026-03-10 10:20:00+00:00") as clock:
        stuck = _submit(client, spare_id, "Den här väntar.")
        others = [_submit(client, org.a1.id, f"Nummer {n}.") for n in range(3)]
        assert client.get(f"{ANON}/{stuck['reference']}", headers=_code(stuck)).status_code \
            == 200
        assert client.post(f"{ANON}/{stuck['reference']}/messages", json={"body": "Hallå?"},
                           headers=_code(stuck)).status_code == 201
        db_session.execute(sa.delete(Unit).where(Unit.id == spare_id))
        db_session.commit()

        clock.move_to("2026-03-10 11:00:00+00:00")
        result = runner.invoke(args=["anonymous", "publish"])
        assert result.exit_code == 1, result.output
        assert "published 3 report(s), 0 message(s), 0 read(s)" in result.output
        assert "2 waiting for their report" in result.output
        assert "report: ValidationFailed (unit_id)" in result.output
        assert "Den här väntar" not in result.output  # never what was written

        db_session.expire_all()
        for receipt in others:
            assert _incident(db_session, receipt["reference"]) is not None
        assert _incident(db_session, stuck["reference"]) is None
        held = db_session.scalars(sa.select(AnonymousPending)).all()
        assert sorted(row.kind for row in held) == ["message", "read", "report"]
        report_row = next(row for row in held if row.kind == "report")
        assert (report_row.failed_attempts, report_row.last_error) == (
            1, "ValidationFailed (unit_id)")
        # The reporter still follows it as received.
        status = client.get(f"{ANON}/{stuck['reference']}", headers=_code(stuck))
        assert status.status_code == 200 and status.get_json()["published"] is False

        db_session.add(Unit(id=spare_id, name="Tillfällig enhet", kind="enhet",
                            parent_id=org.b1.id))
        db_session.commit()
        clock.move_to("2026-03-10 12:00:00+00:00")
        result = runner.invoke(args=["anonymous", "publish"])
        assert result.exit_code == 0, result.output
        assert "published 1 report(s), 1 message(s), 2 read(s)" in result.output

    incident = _incident(db_session, stuck["reference"])
    assert incident is not None and incident.created_at == HOUR_10
    assert [m.body for m in db_session.scalars(
        sa.select(Message).where(Message.incident_id == incident.id))] == ["Hallå?"]
    assert _count(db_session, AnonymousPending) == 0


def test_what_came_in_this_hour_waits_for_the_next(client, org, db_session, runner):
    with freeze_time("2026-03-10 10:59:59+00:00") as clock:
        receipt = _submit(client, org.a1.id)
        result = runner.invoke(args=["anonymous", "publish"])
        assert result.exit_code == 0
        assert "published 0 report(s)" in result.output
        assert _incident(db_session, receipt["reference"]) is None
        clock.move_to(HOUR_11)
        assert anonymous.publish().published["report"] == 1
    assert _incident(db_session, receipt["reference"]).created_at == HOUR_10


# -- following a held report ------------------------------------------------------------------


def test_the_reporter_follows_a_held_report_and_its_messages(client, org, db_session):
    with freeze_time("2026-03-10 10:14:00+00:00") as clock:
        receipt = _submit(client, org.a1.id)
        reference = receipt["reference"]
        status = client.get(f"{ANON}/{reference}", headers=_code(receipt)).get_json()
        assert (status["reference"], status["status"], status["published"]) == (
            reference, "reported", False)
        assert status["reaches_case_handlers_at"] == "2026-03-10T11:00:00+00:00"
        assert status["status_history"] == []
        assert client.get(f"{ANON}/{reference}/messages",
                          headers=_code(receipt)).get_json() == []
        client.post(f"{ANON}/{reference}/messages", json={"body": "Ett"}, headers=_code(receipt))
        client.post(f"{ANON}/{reference}/messages", json={"body": "Två"}, headers=_code(receipt))
        thread = client.get(f"{ANON}/{reference}/messages", headers=_code(receipt)).get_json()
        assert [(m["body"], m["id"], m["published"], m["reaches_case_handlers_at"])
                for m in thread] == [
            ("Ett", None, False, "2026-03-10T11:00:00+00:00"),
            ("Två", None, False, "2026-03-10T11:00:00+00:00")]

        # A wrong code and an unknown reference are the same 404, held or not.
        wrong = client.get(f"{ANON}/{reference}", headers={anonymous.HEADER: "0" * 20})
        unknown = client.get(f"{ANON}/OP-2026-5000000000", headers=_code(receipt))
        assert wrong.status_code == unknown.status_code == 404
        assert wrong.data == unknown.data

        clock.move_to(HOUR_11)
        anonymous.publish()
        status = client.get(f"{ANON}/{reference}", headers=_code(receipt)).get_json()
        assert status["published"] is True and status["reaches_case_handlers_at"] is None
        thread = client.get(f"{ANON}/{reference}/messages", headers=_code(receipt)).get_json()
    assert [(m["body"], m["published"]) for m in thread] == [("Ett", True), ("Två", True)]
    assert all(isinstance(m["id"], int) for m in thread)


def test_the_guessing_limits_hold_for_a_held_reference(client, org, app, monkeypatch):
    """Ten wrong codes lock a held reference as they lock a published one."""
    monkeypatch.setattr(limiter, "enabled", True)
    monkeypatch.setitem(app.config, "ANONYMOUS_WRONG_CODE_RATE_LIMIT", "1000 per hour")
    limiter.reset()
    try:
        receipt = _submit(client, org.a1.id)
        url = f"{ANON}/{receipt['reference']}"
        wrong = [client.get(url, headers={anonymous.HEADER: "0" * 20}).status_code
                 for _ in range(10)]
        assert wrong == [404] * 10
        locked = client.get(url, headers=_code(receipt))
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    finally:
        limiter.reset()


# -- monitoring -------------------------------------------------------------------------------


def test_the_metrics_show_only_what_should_have_been_published(client, org):
    """Items of the current hour are never counted (a scrape would tell when one came in);
    from the next hour on, until published, they are, with the age of the oldest."""
    from tests.ops.conftest import scrape, value

    def held(samples):
        return (value(samples, "incidents_anonymous_held_overdue"),
                value(samples, "incidents_anonymous_held_oldest_age_seconds"))

    with freeze_time("2026-03-10 10:14:00+00:00") as clock:
        assert held(scrape(client)) == (0, 0)
        _submit(client, org.a1.id)
        assert held(scrape(client)) == (0, 0)
        clock.move_to("2026-03-10 11:30:00+00:00")  # the run at 11:00 was missed
        assert held(scrape(client)) == (1, 5400)
        anonymous.publish()
        assert held(scrape(client)) == (0, 0)
