"""Delivering the outbox against a real SMTP server (aiosmtpd on localhost): sent once, retried
with back-off while the server is away, nothing lost, failures kept for a person to look at."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from incidents.clock import utcnow
from incidents.models import OutboxMail
from incidents.services import outbox


def _queue(session, n: int = 1, **fields) -> list[OutboxMail]:
    mails = [
        OutboxMail(
            kind="status_changed",
            incident_id=1,
            recipient=f"person{i}@stad.example",
            subject=f"OP-2026-00000{i}: Mottagen / Acknowledged",
            body=f"Händelsen OP-2026-00000{i} har fått ny status.\n",
            **fields,
        )
        for i in range(n)
    ]
    session.add_all(mails)
    session.commit()
    return mails


def _reload(session, mail: OutboxMail) -> OutboxMail:
    session.expire_all()
    return session.get(OutboxMail, mail.id)


def test_a_due_mail_is_sent_once_with_its_headers(app, db_session, smtp):
    [mail] = _queue(db_session)
    report = outbox.deliver(utcnow())
    assert (report.sent, report.deferred, report.failed) == (1, 0, 0)
    [message] = smtp.messages
    assert message["To"] == "person0@stad.example"
    assert message["From"] == "otillaten-paverkan@stad.example"
    assert message["Subject"] == "OP-2026-000000: Mottagen / Acknowledged"
    assert message["Message-ID"].startswith(f"<outbox-{mail.id}-")
    assert "har fått ny status" in message.get_payload(decode=True).decode()
    sent = _reload(db_session, mail)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    # Delivering again sends nothing more.
    assert outbox.deliver(utcnow() + timedelta(minutes=5)).sent == 0
    assert len(smtp.messages) == 1


def test_a_server_that_is_down_defers_with_doubling_back_off_and_loses_nothing(
    app, db_session, smtp_down
):
    mails = _queue(db_session, 3)
    start = utcnow()
    report = outbox.deliver(start)
    assert (report.sent, report.deferred) == (0, 3)
    first = _reload(db_session, mails[0])
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at == start + timedelta(seconds=60)
    assert "cannot reach the mail server" in first.last_error

    # Not due yet: nothing is tried before the back-off has passed.
    assert outbox.deliver(start + timedelta(seconds=30)).deferred == 0
    assert _reload(db_session, mails[0]).attempts == 1

    # Still down at the second try: the wait doubles.
    second_try = start + timedelta(seconds=61)
    assert outbox.deliver(second_try).deferred == 3
    assert _reload(db_session, mails[0]).next_attempt_at == second_try + timedelta(seconds=120)

    smtp_down.start()
    report = outbox.deliver(second_try + timedelta(seconds=121))
    assert report.sent == 3
    assert sorted(m["To"] for m in smtp_down.messages) == [
        "person0@stad.example", "person1@stad.example", "person2@stad.example"]
    assert {_reload(db_session, m).status for m in mails} == {"sent"}


def test_the_back_off_is_capped(app, db_session, smtp_down, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETRY_MAX_SECONDS", 900)
    [mail] = _queue(db_session, attempts=40)
    now = utcnow()
    outbox.deliver(now)
    assert _reload(db_session, mail).next_attempt_at == now + timedelta(seconds=900)


def test_a_temporary_refusal_is_retried(app, db_session, smtp):
    smtp.handler.refuse_with = "450 4.2.1 Mailbox busy, try later"
    [mail] = _queue(db_session)
    report = outbox.deliver(utcnow())
    assert report.deferred == 1 and report.failed == 0
    deferred = _reload(db_session, mail)
    assert deferred.status == "pending" and "450" in deferred.last_error
    smtp.handler.refuse_with = None
    assert outbox.deliver(utcnow() + timedelta(minutes=2)).sent == 1


def test_a_permanent_refusal_fails_the_mail_until_a_person_queues_it_again(
    app, db_session, smtp, runner
):
    smtp.handler.refuse_with = "550 5.1.1 No such user"
    [mail] = _queue(db_session)
    report = outbox.deliver(utcnow())
    assert report.failed == 1
    failed = _reload(db_session, mail)
    assert failed.status == "failed" and "550" in failed.last_error
    # A failed mail is not retried by itself …
    assert outbox.deliver(utcnow() + timedelta(days=1)).sent == 0

    status = runner.invoke(args=["outbox", "status"])
    assert "failed 1" in status.output and f"failed {mail.id} to person0@stad.example" in (
        status.output)

    # … until someone has fixed the cause and queues it again.
    smtp.handler.refuse_with = None
    assert "queued 1" in runner.invoke(args=["outbox", "retry"]).output
    assert outbox.deliver(utcnow() + timedelta(seconds=1)).sent == 1
    assert _reload(db_session, mail).status == "sent"


def test_without_a_mail_server_mails_are_written_to_the_log(app, db_session, caplog):
    assert app.config["MAIL_SERVER"] is None
    [mail] = _queue(db_session)
    with caplog.at_level(logging.INFO, logger="incidents.services.outbox"):
        report = outbox.deliver(utcnow())
    assert report.sent == 1
    assert "person0@stad.example" in caplog.text and "har fått ny status" in caplog.text
    assert _reload(db_session, mail).status == "sent"


def test_a_claimed_mail_is_left_to_its_sender_until_the_lease_runs_out(app, db_session):
    mails = _queue(db_session, 2)
    now = utcnow()
    mine = outbox.claim(now, limit=10)
    assert [m.id for m in mine] == [m.id for m in mails]
    # A second sender at the same time finds nothing to send.
    assert outbox.claim(now + timedelta(seconds=1), limit=10) == []
    # The first sender died: after its lease another sender takes the mails over.
    lease = timedelta(seconds=app.config["MAIL_LEASE_SECONDS"])
    taken_over = outbox.claim(now + lease + timedelta(seconds=1), limit=10)
    assert [m.id for m in taken_over] == [m.id for m in mails]


def test_a_batch_takes_at_most_the_batch_size_oldest_first(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BATCH_SIZE", 2)
    mails = _queue(db_session, 3)
    report = outbox.deliver(utcnow())
    assert report.sent == 2
    statuses = [_reload(db_session, m).status for m in mails]
    assert statuses == ["sent", "sent", "pending"]


def test_sent_mails_are_removed_after_the_keeping_period(app, db_session):
    [old, recent] = _queue(db_session, 2)
    now = utcnow()
    old.status, old.sent_at = "sent", now - timedelta(days=31)
    recent.status, recent.sent_at = "sent", now - timedelta(days=29)
    db_session.commit()
    assert outbox.deliver(now).purged == 1
    remaining = db_session.scalars(select(OutboxMail.id)).all()
    assert remaining == [recent.id]


def test_the_cli_delivers_once_and_says_what_it_did(app, db_session, smtp, runner):
    _queue(db_session, 2)
    result = runner.invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
    assert len(smtp.messages) == 2


class _ConnectionCounter:
    """A TCP listener that only counts who connects (a mail server that never answers)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_a_request_never_talks_to_the_mail_server(app, client, make, org, monkeypatch):
    """The mail is written with the change and sent later, so a hung mail server can neither
    fail nor slow a request."""
    listener = _ConnectionCounter()
    try:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", listener.port)
        response = client.post("/api/v1/incidents", headers=make.headers(org.employee_a1), json={
            "category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": (utcnow() - timedelta(hours=1)).isoformat(),
            "unit_id": org.a1.id, "description": "Hot i receptionen."})
        assert response.status_code == 201
        ack = client.post(f"/api/v1/incidents/{response.get_json()['id']}/acknowledge",
                          headers=make.headers(org.manager_a))
        assert ack.status_code == 200
    finally:
        listener.close()
    assert listener.connections == 0
    kinds = sorted(make.session.scalars(select(OutboxMail.kind)).all())
    assert kinds == ["new_incident", "status_changed"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_the_sender_logs_in_when_a_username_is_set(app, db_session, monkeypatch):
    from tests.mail.smtp import SmtpServer

    server = SmtpServer(login=("outbox", "s3cret")).start()
    try:
        for name, value in (("MAIL_SERVER", "127.0.0.1"), ("MAIL_PORT", server.port),
                            ("MAIL_USERNAME", "outbox"), ("MAIL_PASSWORD", "wrong")):
            monkeypatch.setitem(app.config, name, value)
        [mail] = _queue(db_session)
        # A refused login is the server's configuration, not the mail's fault: retried.
        report = outbox.deliver(utcnow())
        assert report.deferred == 1 and server.messages == []
        assert "535" in _reload(db_session, mail).last_error
        assert "wrong" not in _reload(db_session, mail).last_error  # the password is not kept

        monkeypatch.setitem(app.config, "MAIL_PASSWORD", "s3cret")
        assert outbox.deliver(utcnow() + timedelta(minutes=2)).sent == 1
        assert server.logins == ["outbox"] and len(server.messages) == 1
    finally:
        server.stop()
