"""Scheduled jobs. Each takes no arguments but the app context it runs in, commits once, and
can run again without harm."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask

from incidents.extensions import db
from incidents.services import idempotency, outbox

log = logging.getLogger(__name__)


def run_in_app(app: Flask, job: Callable[[], object]) -> object:
    with app.app_context():
        try:
            result = job()
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job.__name__)
            raise


def purge_idempotency_keys() -> int:
    """Idempotency-Keys are kept IDEMPOTENCY_TTL_HOURS (default 24); older ones are deleted."""
    removed = idempotency.purge_expired()
    log.info("purged %d expired idempotency keys", removed)
    return removed


def deliver_outbox() -> outbox.DeliveryReport:
    """Every minute: send the notification mails that are due (retries with back-off)."""
    report = outbox.deliver()
    if report.sent or report.deferred or report.failed:
        log.info("outbox: %s", report)
    return report
