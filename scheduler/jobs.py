"""Scheduled jobs. Each is a module-level function without arguments (the database job store
keeps a reference to it by name), runs in an application context, commits once and can run
again without harm: what it makes has a unique key in the database."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask

from incidents.clock import utcnow
from incidents.domain import SummaryKind
from incidents.extensions import db

log = logging.getLogger(__name__)

_app: Flask | None = None


def bind(app: Flask) -> None:
    """The application the jobs run in; the scheduler process binds it before starting."""
    global _app
    _app = app


def run_in_app(app: Flask, work: Callable[[], Any], name: str | None = None) -> Any:
    """``work`` in an application context: committed if it returns, rolled back if it raises."""
    with app.app_context():
        try:
            result = work()
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name or getattr(work, "__name__", "?"))
            raise


def job(work: Callable[[], Any]) -> Callable[[], Any]:
    """A scheduled job: run in the bound app, and its success or failure recorded for
    readiness and the metrics (scheduler/heartbeat.py)."""

    @functools.wraps(work)
    def run() -> Any:
        from scheduler import heartbeat

        if _app is None:
            raise RuntimeError("scheduler.jobs.bind(app) was not called")
        try:
            result = run_in_app(_app, work, work.__name__)
        except Exception as exc:
            heartbeat.job_failed(_app, work.__name__, exc)
            raise
        heartbeat.job_succeeded(_app, work.__name__)
        return result

    return run


@job
def purge_idempotency_keys() -> int:
    """Idempotency-Keys are kept IDEMPOTENCY_TTL_HOURS (default 24); older ones are deleted."""
    from incidents.services import idempotency

    removed = idempotency.purge_expired()
    log.info("purged %d expired idempotency keys", removed)
    return removed


@job
def deliver_outbox():
    """Every minute: send the notification mails that are due (retries with back-off)."""
    from incidents.services import outbox

    report = outbox.deliver()
    if report.sent or report.deferred or report.failed:
        log.info("outbox: %s", report)
    return report


@job
def tertial_summary():
    """06:00 on 1 January, 1 May and 1 September: the tertial just ended, per organisation and
    förvaltning, and a mail to hr."""
    from incidents.services import summaries

    run = summaries.scheduled(SummaryKind.TERTIAL, utcnow())
    log.info("tertial summaries: %d made, %d existed", len(run.created), len(run.existing))
    return run


@job
def monthly_summary():
    """06:00 on the first of each month: the month just ended."""
    from incidents.services import summaries

    run = summaries.scheduled(SummaryKind.MONTHLY, utcnow())
    log.info("monthly summaries: %d made, %d existed", len(run.created), len(run.existing))
    return run


@job
def workshop_summaries():
    """Every minute: a summary of each workshop whose rating window has closed."""
    from incidents.services import summaries

    made = summaries.summarise_closed_workshops(utcnow())
    if made:
        log.info("workshop summaries: %d made", len(made))
    return made


@job
def manager_reminders() -> int:
    """07:00: one digest to each manager with overdue acknowledgements, check-ins and police
    decisions (once per manager and day)."""
    from incidents.services import reminders

    written = reminders.send_daily_digests(utcnow())
    log.info("reminder digests: %d written", written)
    return written


@job
def unanswered_units():
    """07:05: the units where nobody would be responsible for a report (no active manager at
    or above, no active hr reaching them) are logged as a warning and mailed to the admins who
    administer them and to platform admins, once per person and day; nothing while there are
    none."""
    from incidents.services import unanswered

    run = unanswered.daily_check(utcnow())
    if run.units:
        log.info("unanswered units: %d, %d admins mailed", len(run.units), len(run.mailed))
    return run


@job
def retention() -> int:
    """03:30 nightly: anonymise incidents closed longer ago than RETENTION_AFTER_CLOSE_DAYS
    (nothing when it is not set)."""
    from incidents.services import retention as rules

    anonymised = rules.anonymise_closed(utcnow())
    if anonymised:
        log.info("retention: %d incidents anonymised", anonymised)
    return anonymised


@job
def publish_anonymous():
    """Every full hour: publish what the anonymous channel held from before the hour, in random
    order (services/anonymous.py). Items that fail stay held for the next run; the job then
    fails too, so readiness and the metrics show it."""
    from incidents.services import anonymous

    run = anonymous.publish()
    if any(run.published.values()) or run.failed or run.waiting:
        log.info("anonymous publication: %s", run)
    if run.failed:
        raise anonymous.PublicationIncomplete(str(run))
    return run
