"""The scheduler process and its jobs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import IdempotencyRecord
from scheduler import JOB_DEFAULTS, add_jobs, build_scheduler, jobs


def _record(session, key, created_at):
    session.add(IdempotencyRecord(caller="user:1", key=key, request_hash="0" * 64,
                                  status_code=201, response_body=b"{}", response_headers="{}",
                                  created_at=created_at))
    session.commit()


def test_purge_forgets_only_expired_keys(app, db_session):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    _record(db_session, "old", now - timedelta(hours=25))
    _record(db_session, "fresh", now - timedelta(hours=23))
    with freeze_time(now):
        removed = jobs.run_in_app(app, jobs.purge_idempotency_keys)
    assert removed == 1
    keys = db_session.scalars(select(IdempotencyRecord.key)).all()
    assert keys == ["fresh"]


def test_jobs_have_stable_ids_and_safe_defaults(app):
    scheduler = build_scheduler(app)
    job = scheduler.get_job("purge_idempotency_keys")
    assert job is not None
    assert scheduler._job_defaults["coalesce"] is True
    assert scheduler._job_defaults["max_instances"] == 1
    running = BackgroundScheduler(timezone="Europe/Stockholm", job_defaults=JOB_DEFAULTS)
    running.start(paused=True)
    try:
        add_jobs(running, app)
        add_jobs(running, app)  # registering again replaces, never duplicates
        assert sorted(j.id for j in running.get_jobs()) == [
            "deliver_outbox",
            "purge_idempotency_keys",
        ]
    finally:
        running.shutdown(wait=False)


def test_the_real_scheduler_fires_the_purge_job(app, db_session):
    _record(db_session, "ancient", datetime(2000, 1, 1, tzinfo=UTC))
    scheduler = BackgroundScheduler(timezone="Europe/Stockholm", job_defaults=JOB_DEFAULTS)
    add_jobs(scheduler, app)
    scheduler.start(paused=True)
    try:
        scheduler.get_job("purge_idempotency_keys").modify(next_run_time=datetime.now(UTC))
        fired = []
        scheduler.add_listener(fired.append, EVENT_JOB_EXECUTED)
        scheduler.resume()
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while not fired and datetime.now(UTC) < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert fired and fired[0].retval == 1
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
