"""Delivering the outbox: the mails services/notifications.py queued to keep the
reporter informed.

A sender claims a batch of due mails in one UPDATE and commits the claim before it talks to the
mail server; a second sender running at the same time finds those rows claimed and leaves them,
so each mail is sent at most once by concurrent senders. A mail is marked sent (and committed)
right after the server accepted it. Only if a sender dies between the server's acceptance and
that commit does a mail go out twice: its lease runs out and another sender retries it; the
Message-ID stays the same, so mail systems can recognise the duplicate. Nothing is lost: a
server that is down or answers 4xx means a retry after 1, 2, 4 … minutes (doubling, capped at
MAIL_RETRY_MAX_SECONDS) for as long as it takes; only a permanent refusal (5xx) marks a mail
failed, and `flask outbox retry` puts failed mails back in the queue.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, update

from incidents.clock import utcnow
from incidents.domain import OutboxStatus
from incidents.extensions import db
from incidents.models import Incident, OutboxMail

log = logging.getLogger(__name__)

S = OutboxStatus


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    purged: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"sent {self.sent}, deferred {self.deferred}, failed {self.failed}, "
            f"purged {self.purged}"
        )


class _Transient(Exception):
    """The server is away or asked us to try later (4xx)."""

    def __init__(self, message: str, *, connection_lost: bool = False):
        super().__init__(message)
        self.connection_lost = connection_lost


class _Permanent(Exception):
    """The server refused this mail for good (5xx)."""


def _due(now: datetime):
    return or_(
        and_(OutboxMail.status == S.PENDING.value, OutboxMail.next_attempt_at <= now),
        # A sender that claimed these died or hung past its lease: take them over.
        and_(OutboxMail.status == S.SENDING.value, OutboxMail.lease_until < now),
    )


def claim(now: datetime, limit: int) -> list[OutboxMail]:
    """Claim up to ``limit`` due mails for this sender and commit the claim. The UPDATE
    re-checks that each row is still due, so rows another sender claimed meanwhile are left."""
    token = secrets.token_hex(16)
    lease = now + timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    candidates = (
        select(OutboxMail.id).where(_due(now)).order_by(OutboxMail.id).limit(limit)
    ).scalar_subquery()
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id.in_(candidates), _due(now))
        .values(status=S.SENDING.value, claim_token=token, lease_until=lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.claim_token == token).order_by(OutboxMail.id)
        )
    )


def _message(mail: OutboxMail, now: datetime) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(_date(mail, now))
    domain = config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    # Stable across retries, so a duplicate after a crash can be recognised.
    message["Message-ID"] = f"<outbox-{mail.id}-{int(mail.created_at.timestamp())}@{domain}>"
    if mail.request_id:
        # The request that queued it, to find its log lines; never set for the anonymous
        # channel (incidents/request_id.py).
        message["X-Request-Id"] = mail.request_id
    message.set_content(mail.body)
    return message


def _date(mail: OutboxMail, now: datetime) -> datetime:
    """The Date header: when the mail is sent, but only the hour for a mail about an anonymous
    report (queued when it was published at the full hour, services/anonymous.py), so that no
    header says more about the reporter's side than the hour."""
    if mail.incident_id is not None and db.session.scalar(
        select(Incident.anonymous).where(Incident.id == mail.incident_id)
    ):
        return now.replace(minute=0, second=0, microsecond=0)
    return now


def _connect() -> smtplib.SMTP:
    config = current_app.config
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    timeout = config["MAIL_TIMEOUT_SECONDS"]
    connection = None
    try:
        if config["MAIL_USE_SSL"]:
            connection = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            if config["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    except OSError as exc:
        if connection is not None:
            connection.close()  # e.g. a refused login: do not leave the socket open
        raise _Transient(f"cannot reach the mail server {host}:{port}: {_describe(exc)}") from exc
    return connection


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        if isinstance(text, bytes):
            text = text.decode(errors="replace")
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"


def _send(connection: smtplib.SMTP, message: EmailMessage) -> None:
    try:
        connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        error = "; ".join(f"{code} {text!r}" for code, text in exc.recipients.values())
        raise (_Permanent if all(c >= 500 for c in codes) else _Transient)(error) from exc
    except smtplib.SMTPResponseException as exc:
        raise (_Permanent if exc.smtp_code >= 500 else _Transient)(_describe(exc)) from exc
    except OSError as exc:  # smtplib's own errors are OSErrors too: disconnects, timeouts
        raise _Transient(_describe(exc), connection_lost=True) from exc


def _mark_sent(mail: OutboxMail, now: datetime) -> None:
    mail.status, mail.sent_at, mail.attempts = S.SENT.value, now, mail.attempts + 1
    mail.claim_token = mail.lease_until = None
    mail.last_error = None
    db.session.commit()


def _defer(mail: OutboxMail, now: datetime, error: str) -> None:
    config = current_app.config
    mail.attempts += 1
    delay = min(
        config["MAIL_RETRY_BASE_SECONDS"] * 2 ** min(mail.attempts - 1, 30),
        config["MAIL_RETRY_MAX_SECONDS"],
    )
    mail.status, mail.next_attempt_at = S.PENDING.value, now + timedelta(seconds=delay)
    mail.claim_token = mail.lease_until = None
    mail.last_error = error[:500]
    db.session.commit()


def _fail(mail: OutboxMail, error: str) -> None:
    mail.attempts += 1
    mail.status, mail.last_error = S.FAILED.value, error[:500]
    mail.claim_token = mail.lease_until = None
    db.session.commit()
    log.error("mail %s to %s refused for good: %s", mail.id, mail.recipient, error)


def _log_only(mails: list[OutboxMail], now: datetime, report: DeliveryReport) -> None:
    """No MAIL_SERVER: the mail goes to the log (development)."""
    for mail in mails:
        log.info(
            "mail (MAIL_SERVER not set, logged instead of sent) to=%s subject=%s\n%s",
            mail.recipient, mail.subject, mail.body,
        )
        _mark_sent(mail, now)
        report.sent += 1


def deliver(now: datetime | None = None) -> DeliveryReport:
    """Send what is due, once. Returns what happened; never raises for mail trouble."""
    now = now or utcnow()
    report = DeliveryReport(purged=purge_sent(now))
    mails = claim(now, current_app.config["MAIL_BATCH_SIZE"])
    if not mails:
        return report
    if not current_app.config["MAIL_SERVER"]:
        _log_only(mails, now, report)
        return report
    try:
        connection = _connect()
    except _Transient as exc:
        log.warning("outbox: %s; %d mail(s) retried later", exc, len(mails))
        for mail in mails:
            _defer(mail, now, str(exc))
        report.deferred += len(mails)
        report.errors.append(str(exc))
        return report
    try:
        _send_all(connection, mails, now, report)
    finally:
        try:
            connection.quit()
        except OSError:
            connection.close()
    return report


def _send_all(connection, mails: list[OutboxMail], now: datetime, report: DeliveryReport):
    for position, mail in enumerate(mails):
        try:
            _send(connection, _message(mail, now))
        except _Permanent as exc:
            _fail(mail, str(exc))
            report.failed += 1
            report.errors.append(str(exc))
        except _Transient as exc:
            _defer(mail, now, str(exc))
            report.deferred += 1
            report.errors.append(str(exc))
            if exc.connection_lost:
                # The connection is gone: give the rest back for the next run.
                for rest in mails[position + 1 :]:
                    _defer(rest, now, str(exc))
                    report.deferred += 1
                log.warning("outbox: connection lost: %s", exc)
                return
        else:
            _mark_sent(mail, now)
            report.sent += 1


def purge_sent(now: datetime) -> int:
    """Sent mails are kept MAIL_KEEP_SENT_DAYS (services/settings.py: changed in the service,
    else the environment's) for tracing, then removed."""
    from incidents.services import settings

    cutoff = now - timedelta(days=settings.value("MAIL_KEEP_SENT_DAYS"))
    result = db.session.execute(
        delete(OutboxMail).where(OutboxMail.status == S.SENT.value, OutboxMail.sent_at < cutoff)
    )
    db.session.commit()
    return result.rowcount or 0


def counts() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
    ).all()
    found = {status: number for status, number in rows}
    return {status.value: found.get(status.value, 0) for status in S}


@dataclass(frozen=True)
class QueueState:
    """The outbox at a glance, for the metrics: mails per status, and when the oldest mail
    still waiting to be sent (pending or being sent) was queued."""

    counts: dict[str, int]
    oldest_waiting_at: datetime | None


def queue_state() -> QueueState:
    oldest = db.session.scalar(
        select(func.min(OutboxMail.created_at)).where(
            OutboxMail.status.in_([S.PENDING.value, S.SENDING.value])
        )
    )
    return QueueState(counts=counts(), oldest_waiting_at=oldest)


def failed_mails() -> list[OutboxMail]:
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.status == S.FAILED.value).order_by(OutboxMail.id)
        )
    )


def retry_failed(ids: list[int] | None, now: datetime | None = None) -> int:
    """Put failed mails (all, or the given ones) back in the queue, due now."""
    query = update(OutboxMail).where(OutboxMail.status == S.FAILED.value)
    if ids:
        query = query.where(OutboxMail.id.in_(ids))
    result = db.session.execute(
        query.values(status=S.PENDING.value, next_attempt_at=now or utcnow())
    )
    db.session.commit()
    return result.rowcount or 0


def recent(limit: int) -> list[OutboxMail]:
    """The newest mails of the outbox, whatever their state (the development mailbox page)."""
    return list(
        db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit))
    )
