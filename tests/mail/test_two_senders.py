"""Two sender processes on one outbox send each mail once.

The senders are real `flask outbox deliver --loop` processes against a database of their own
(the test's savepoint would hide committed rows from them), created and migrated here: a SQLite
file, or a fresh PostgreSQL database on the test server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from incidents.clock import utcnow
from incidents.models import OutboxMail
from tests.conftest import TEST_SECRET
from tests.mail.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
MAILS = 40


def _environment(database_url: str, smtp: SmtpServer, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": TEST_SECRET,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp.port),
        "MAIL_FROM": "otillaten-paverkan@stad.example",
        "MAIL_BATCH_SIZE": "3",
        "PYTHONPATH": str(ROOT),
    }


def test_two_senders_send_each_mail_exactly_once(own_database, tmp_path):
    smtp = SmtpServer().start()
    smtp.handler.delay = 0.02  # slow enough that the two senders overlap
    env = _environment(own_database, smtp, tmp_path)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    engine = sa.create_engine(own_database)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(sa.insert(OutboxMail.__table__), [
            {"kind": "status_changed", "incident_id": i, "recipient": f"p{i}@stad.example",
             "subject": f"OP-2026-{i:06d}", "body": "Ny status.", "status": "pending",
             "attempts": 0, "next_attempt_at": now, "created_at": now}
            for i in range(MAILS)
        ])
    senders = [
        subprocess.Popen([*flask, "outbox", "deliver", "--loop", "--interval", "0.1"], cwd=ROOT,
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    try:
        assert smtp.wait_for(MAILS, timeout=60), f"only {len(smtp.messages)} of {MAILS} arrived"
        time.sleep(1.0)  # time for a duplicate to arrive, if there were one
    finally:
        for sender in senders:
            sender.terminate()
        outputs = [sender.communicate(timeout=30)[0].decode() for sender in senders]
        smtp.stop()
    with engine.connect() as connection:
        statuses = connection.execute(
            sa.select(OutboxMail.__table__.c.status, sa.func.count()).group_by("status")
        ).all()
    engine.dispose()
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == sorted(f"p{i}@stad.example" for i in range(MAILS)), outputs
    assert len({m["Message-ID"] for m in smtp.messages}) == MAILS
    assert dict(statuses) == {"sent": MAILS}
