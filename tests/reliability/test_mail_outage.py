"""The mail server down for a whole run of reports (docs/testing.md): no request fails, and every
notification is delivered once the server is back. Reports are served by gunicorn and the
outbox is delivered by a real `flask outbox deliver --loop` process, both on a PostgreSQL
database of the test's own; the mail server is a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import time

import pytest

from tests.mail.smtp import SmtpServer, free_port
from tests.reliability.service import (
    FLASK,
    Request,
    background,
    environment,
    gunicorn,
    prepare,
    report_body,
    scalar,
    send_all,
)

pytestmark = pytest.mark.postgresql_only

REPORTS = 300
CLIENTS = 16


def _wait(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_with_the_mail_server_down_no_report_fails_and_every_mail_arrives_later(own_database):
    port = free_port()
    env = environment(own_database, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(port),
                      MAIL_FROM="otillaten-paverkan@stad.example", MAIL_TIMEOUT_SECONDS="2",
                      MAIL_RETRY_BASE_SECONDS="1", MAIL_RETRY_MAX_SECONDS="2")
    seed = prepare(env)
    reporter = seed["reporters"][0]  # in A1: manager_a is told of each report
    requests = [Request(reporter["token"], report_body(reporter["unit_id"], n))
                for n in range(REPORTS)]
    sender = [*FLASK, "outbox", "deliver", "--loop", "--interval", "0.5"]
    smtp = SmtpServer(port)
    with gunicorn(env) as address, background(sender, env) as delivering:
        answers = send_all(address, requests, CLIENTS)
        assert sorted({a.status for a in answers}) == [201]
        queued = scalar(own_database, "SELECT count(*) FROM outbox_mails")
        assert queued >= REPORTS
        # The sender has met the dead server and keeps the mails for later.
        assert _wait(lambda: scalar(own_database, "SELECT count(*) FROM outbox_mails "
                                                  "WHERE attempts > 0") > 0, 20)
        # None is sent, none given up (a mail may be 'sending' while the sender tries it).
        assert scalar(own_database, "SELECT count(*) FROM outbox_mails "
                                    "WHERE status IN ('sent', 'failed')") == 0
        smtp.start()
        try:
            delivered = _wait(lambda: scalar(
                own_database, "SELECT count(*) FROM outbox_mails WHERE status = 'sent'"
            ) == queued, 60)
            assert delivered, scalar(own_database,
                                     "SELECT count(*) FROM outbox_mails WHERE status = 'sent'")
        finally:
            smtp.stop()
        assert delivering.poll() is None, delivering.stderr.read().decode()[-2000:]
    messages = smtp.handler.messages
    assert len(messages) == queued
    assert len({m["Message-ID"] for m in messages}) == queued
    subjects = {m["Subject"] for m in messages}
    assert len(subjects) == REPORTS  # one mail per report, each naming its own reference
