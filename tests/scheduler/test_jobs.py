"""The job definitions, how they are kept in the job store, and how a job runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import IdempotencyRecord, Unit
from scheduler import JOB_DEFAULTS, JOBS, build_scheduler, jobs, sync_jobs

TZ = "Europe/Stockholm"


def _record(session, key, created_at):
    session.add(IdempotencyRecord(caller="user:1", key=key, request_hash="0" * 64,
                                  status_code=201, response_body=b"{}", response_headers="{}",
                                  created_at=created_at))
    session.commit()


@pytest.fixture
def paused(app):
    scheduler = BackgroundScheduler(timezone=TZ, job_defaults=JOB_DEFAULTS,
                                    jobstores={"default": MemoryJobStore()})
    scheduler.start(paused=True)
    yield scheduler
    scheduler.shutdown(wait=False)


def test_purge_forgets_only_expired_keys(app, db_session):
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    _record(db_session, "old", now - timedelta(hours=25))
    _record(db_session, "fresh", now - timedelta(hours=23))
    jobs.bind(app)
    with freeze_time(now):
        removed = jobs.purge_idempotency_keys()
    assert removed == 1
    assert db_session.scalars(select(IdempotencyRecord.key)).all() == ["fresh"]


def test_every_job_is_coalesced_single_and_runs_however_late(app):
    """After downtime a missed run is made once (coalesce, no misfire limit), never twice at
    the same time (max_instances 1)."""
    scheduler = build_scheduler(app, jobstore=MemoryJobStore())
    assert scheduler._job_defaults == {"coalesce": True, "max_instances": 1,
                                       "misfire_grace_time": None}


def test_syncing_twice_registers_each_job_once(paused):
    sync_jobs(paused, TZ)
    sync_jobs(paused, TZ)
    assert sorted(job.id for job in paused.get_jobs()) == sorted(spec.id for spec in JOBS)


def test_syncing_keeps_a_missed_run_due(paused):
    """An unchanged job keeps its stored next run time, so a run missed while the scheduler
    was down is still due when it starts again (re-adding it would move it to the future)."""
    sync_jobs(paused, TZ)
    missed = datetime(2026, 9, 1, 4, 0, tzinfo=UTC)
    paused.modify_job("tertial_summary", next_run_time=missed)
    sync_jobs(paused, TZ)
    assert paused.get_job("tertial_summary").next_run_time == missed


def test_syncing_replaces_a_changed_job_and_removes_an_unknown_one(paused):
    paused.add_job("scheduler.jobs:retention", "cron", hour=2, id="retention", timezone=TZ)
    paused.add_job("scheduler.jobs:retention", "interval", hours=1, id="old_job")
    sync_jobs(paused, TZ)
    retention = paused.get_job("retention")
    assert str(retention.trigger) == "cron[hour='3', minute='30']"
    assert paused.get_job("old_job") is None


def test_a_failing_job_writes_nothing_and_is_reported(app, db_session):
    def work():
        db_session.add(Unit(name="Half-made", kind="enhet"))
        db_session.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        jobs.run_in_app(app, work)
    assert db_session.scalar(select(func.count()).select_from(Unit)) == 0
