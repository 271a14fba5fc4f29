"""What the scheduler tells the web tier about itself, in the database: its heartbeat, and how
each job last went (docs/operations.md, "Health, readiness and metrics").

- The heartbeat (``scheduler_heartbeats``) is written each time the lease is renewed, while the
  job scheduler's thread runs; a clean stop marks it stopped. Readiness calls a heartbeat older
  than SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS silent.
- Each job's row (``scheduler_job_status``) holds its last success and failure, and
  ``late_after``: when it counts as late without another success. For a job that runs every
  so often, SCHEDULER_JOB_LATE_FACTOR of its intervals; for one on the calendar, its next time
  by the timetable plus SCHEDULER_JOB_GRACE_MINUTES (a daily job: 26 hours with the defaults).
  A job's error is kept as its kind only (the exception's class), never its message, which can
  hold what a reporter wrote or an address.

Each write is a transaction of its own, made after the job's own commit or rollback, and never
raises: a job's result does not depend on being recorded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from incidents.clock import utcnow
from incidents.extensions import _describe_database_error, db
from incidents.models import SchedulerHeartbeat, SchedulerJobStatus
from incidents.models.summary import SCHEDULER_ROW

log = logging.getLogger(__name__)


def _insert(model):
    """INSERT … ON CONFLICT for the database in use (PostgreSQL and SQLite share the syntax)."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def beat(holder: str, started_at: datetime, now: datetime | None = None) -> None:
    """The scheduler ``holder`` (host:pid), running its jobs since ``started_at``, is alive."""
    now = now or utcnow()
    values = {"holder": holder, "started_at": started_at, "beat_at": now, "stopped_at": None}
    statement = _insert(SchedulerHeartbeat).values(name=SCHEDULER_ROW, **values)
    db.session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))
    db.session.commit()


def stopped(holder: str, now: datetime | None = None) -> None:
    """``holder`` stopped cleanly; its heartbeat stays, so the stop is seen."""
    db.session.execute(
        update(SchedulerHeartbeat)
        .where(SchedulerHeartbeat.name == SCHEDULER_ROW, SchedulerHeartbeat.holder == holder)
        .values(stopped_at=now or utcnow())
    )
    db.session.commit()


def late_after(job_id: str, config, now: datetime) -> datetime | None:
    """When ``job_id`` counts as late if it does not succeed again after ``now``."""
    from scheduler import JOBS

    spec = next((spec for spec in JOBS if spec.id == job_id), None)
    if spec is None:
        return None
    if spec.trigger == "interval":
        interval = timedelta(**dict(spec.fields))
        return now + interval * config["SCHEDULER_JOB_LATE_FACTOR"]
    # The next time on the calendar strictly after now (a run at 07:00:00 is today's, not
    # tomorrow's), plus the grace.
    trigger = spec.make_trigger(config["TIMEZONE"])
    following = trigger.get_next_fire_time(None, now + timedelta(seconds=1))
    return following + timedelta(minutes=config["SCHEDULER_JOB_GRACE_MINUTES"])


def register_jobs(app: Flask, now: datetime | None = None) -> None:
    """At start: a row for each defined job that has none (due by its first run plus the
    allowance), and none for jobs no longer defined."""
    from scheduler import JOBS

    now = now or utcnow()
    with app.app_context():
        for spec in JOBS:
            statement = _insert(SchedulerJobStatus).values(
                job_id=spec.id, late_after=late_after(spec.id, app.config, now))
            db.session.execute(statement.on_conflict_do_nothing(index_elements=["job_id"]))
        db.session.execute(
            delete(SchedulerJobStatus).where(SchedulerJobStatus.job_id.not_in(
                [spec.id for spec in JOBS]))
        )
        db.session.commit()


def describe(error: BaseException) -> str:
    """The kind of an error, for the job's row: its class (and SQLSTATE), never its text."""
    return _describe_database_error(error)[:200]


def _record(app: Flask, job_id: str, now: datetime, values: dict) -> None:
    """Upsert the job's row with ``values``; a new row is due by the job's allowance."""
    try:
        with app.app_context():
            first = {"late_after": late_after(job_id, app.config, now), **values}
            statement = _insert(SchedulerJobStatus).values(job_id=job_id, **first)
            db.session.execute(
                statement.on_conflict_do_update(index_elements=["job_id"], set_=values))
            db.session.commit()
    except Exception:
        log.exception("could not record how job %s went", job_id)


def job_succeeded(app: Flask, job_id: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    _record(app, job_id, now, {"last_success_at": now,
                               "late_after": late_after(job_id, app.config, now)})


def job_failed(app: Flask, job_id: str, error: BaseException,
               now: datetime | None = None) -> None:
    now = now or utcnow()
    _record(app, job_id, now, {"last_error_at": now, "last_error": describe(error)})
