"""The scheduler cannot die quietly: its loop writes a heartbeat at start and at each lease
renewal and marks it stopped on a clean stop, stops when its job scheduler's thread or its lease
is gone, and every job's success or failure is recorded with when it is next due."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from flask_migrate import upgrade
from freezegun import freeze_time
from sqlalchemy import select, text

from incidents.models import SchedulerHeartbeat, SchedulerJobStatus, SchedulerLease
from scheduler import JOBS, build_scheduler, heartbeat, lease
from scheduler.runner import Runner
from tests.ops.conftest import service_on
from tests.scheduler.harness import SchedulerUnderTest

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
# Off the full hour, so no job is due the moment the loop starts (the hourly publication would
# be): the loop tests watch the lease and the heartbeat on the test's one connection.
LOOP_START = NOON + timedelta(seconds=30)
HOLDER = "sched-1.example:4711"


def _heartbeat(session):
    return session.execute(select(SchedulerHeartbeat.holder, SchedulerHeartbeat.started_at,
                                  SchedulerHeartbeat.beat_at, SchedulerHeartbeat.stopped_at)
                           ).one_or_none()


def _job(session, job_id):
    return session.execute(
        select(SchedulerJobStatus.last_success_at, SchedulerJobStatus.last_error_at,
               SchedulerJobStatus.last_error, SchedulerJobStatus.late_after)
        .where(SchedulerJobStatus.job_id == job_id)).one_or_none()


@pytest.fixture
def loop(app):
    """The loop of `python -m scheduler`, its jobs kept in memory."""
    made = Runner(app, HOLDER, threading.Event(),
                  build=lambda app: build_scheduler(app, jobstore=MemoryJobStore(),
                                                    max_workers=1))
    yield made
    if made.scheduler is not None and made.scheduler.running:
        made.scheduler.shutdown(wait=True)


def test_the_loop_beats_at_start_and_at_each_renewal_and_marks_its_stop(loop, db_session):
    with freeze_time(LOOP_START) as clock:
        assert loop.wait_for_lease()
        loop.start()
        assert tuple(_heartbeat(db_session)) == (HOLDER, LOOP_START, LOOP_START, None)
        clock.tick(timedelta(seconds=20))
        assert loop.renew()
        assert tuple(_heartbeat(db_session)) == (
            HOLDER, LOOP_START, LOOP_START + timedelta(seconds=20), None)
        assert db_session.scalar(select(SchedulerLease.expires_at)) == (
            LOOP_START + timedelta(seconds=80))
        clock.tick(timedelta(seconds=5))
        loop.stop(0)
    assert tuple(_heartbeat(db_session)) == (
        HOLDER, LOOP_START, LOOP_START + timedelta(seconds=20), LOOP_START + timedelta(seconds=25))
    assert lease.current() is None
    # Every job has its status row, due by its first run plus its allowance.
    rows = db_session.scalars(select(SchedulerJobStatus.job_id)).all()
    assert sorted(rows) == sorted(spec.id for spec in JOBS)


def test_the_loop_stops_when_its_job_scheduler_has_stopped(loop, db_session, caplog):
    with freeze_time(LOOP_START) as clock:
        assert loop.wait_for_lease()
        loop.start()
        loop.scheduler.shutdown(wait=True)  # its thread ends
        clock.tick(timedelta(seconds=20))
        assert loop.renew() is False
    assert "the job scheduler's thread has stopped" in caplog.text
    assert _heartbeat(db_session).beat_at == LOOP_START  # no heartbeat without running jobs


def test_the_loop_stops_when_another_process_took_the_lease(loop, db_session):
    with freeze_time(LOOP_START) as clock:
        assert loop.wait_for_lease()
        loop.start()
        clock.tick(timedelta(seconds=61))  # not renewed for a whole lease
        assert lease.acquire("sched-2.example:99", 60)
        assert loop.renew() is False
        loop.stop(1)
    assert lease.current().holder == "sched-2.example:99"
    assert _heartbeat(db_session).stopped_at is None  # not a clean stop: it went silent


def test_the_real_scheduler_records_each_jobs_success_and_failure(app, db_session):
    """A job that fails keeps only the kind of its error, never the message."""
    db_session.execute(text("DROP TABLE idempotency_records"))  # rolled back with the test
    db_session.commit()
    with freeze_time(NOON) as freezer:
        running = SchedulerUnderTest(app, freezer).start(
            due=("deliver_outbox", "purge_idempotency_keys"))
        running.stop()
    assert [f.job_id for f in running.errors()] == ["purge_idempotency_keys"]
    delivered = _job(db_session, "deliver_outbox")
    assert (delivered.last_success_at, delivered.last_error_at) == (NOON, None)
    assert delivered.late_after == NOON + timedelta(minutes=5)
    purged = _job(db_session, "purge_idempotency_keys")
    assert (purged.last_success_at, purged.last_error_at) == (None, NOON)
    assert purged.last_error in {"sqlite3.OperationalError",
                                 "psycopg.errors.UndefinedTable (SQLSTATE 42P01)"}
    assert purged.late_after == NOON + timedelta(hours=5)  # registered now, one hour × 5


@pytest.mark.parametrize(("job_id", "succeeded", "late_after"), [
    ("deliver_outbox", NOON, NOON + timedelta(minutes=5)),
    ("purge_idempotency_keys", NOON, NOON + timedelta(hours=5)),
    # 07:00 Stockholm (05:00 UTC) daily: the next run tomorrow, plus two hours.
    ("manager_reminders", datetime(2026, 6, 1, 5, 0, tzinfo=UTC),
     datetime(2026, 6, 2, 7, 0, tzinfo=UTC)),
    ("manager_reminders", datetime(2026, 6, 1, 5, 3, tzinfo=UTC),
     datetime(2026, 6, 2, 7, 0, tzinfo=UTC)),
    ("retention", datetime(2026, 6, 1, 1, 30, tzinfo=UTC),
     datetime(2026, 6, 2, 3, 30, tzinfo=UTC)),
    # The tertial of 1 May: next due on 1 September at 06:00 Stockholm (04:00 UTC).
    ("tertial_summary", datetime(2026, 5, 1, 4, 0, tzinfo=UTC),
     datetime(2026, 9, 1, 6, 0, tzinfo=UTC)),
])
def test_a_job_is_late_after_its_allowance(app, job_id, succeeded, late_after):
    """Every-so-often jobs: SCHEDULER_JOB_LATE_FACTOR intervals; calendar jobs: their next
    time plus SCHEDULER_JOB_GRACE_MINUTES (a daily job: 26 hours)."""
    assert heartbeat.late_after(job_id, app.config, succeeded) == late_after


def test_registering_keeps_known_jobs_and_drops_unknown_ones(app, db_session):
    with freeze_time(NOON):
        heartbeat.job_succeeded(app, "deliver_outbox")
        db_session.add(SchedulerJobStatus(job_id="no_longer_defined", last_success_at=NOON))
        db_session.commit()
        heartbeat.register_jobs(app, NOON + timedelta(seconds=30))
    assert _job(db_session, "deliver_outbox").last_success_at == NOON
    assert _job(db_session, "no_longer_defined") is None
    assert _job(db_session, "tertial_summary").late_after == datetime(2026, 9, 1, 6, 0,
                                                                      tzinfo=UTC)


def test_a_recording_that_fails_does_not_fail_the_job(app, db_session, caplog):
    db_session.execute(text("DROP TABLE scheduler_job_status"))  # rolled back with the test
    db_session.commit()
    with caplog.at_level(logging.ERROR):
        heartbeat.job_succeeded(app, "deliver_outbox", NOON)
    assert "could not record how job deliver_outbox went" in caplog.text


def test_scheduler_status_shows_the_heartbeat_and_how_each_job_went(own_database):
    """On a database of its own: the command's job store reads on connections of its own."""
    with service_on(own_database) as app:
        with app.app_context():
            upgrade()
        with freeze_time(NOON):
            with app.app_context():
                heartbeat.beat(HOLDER, started_at=NOON)
            heartbeat.job_succeeded(app, "deliver_outbox")
            heartbeat.job_failed(app, "retention",
                                 RuntimeError("refused for someone@stad.example"))
        # In its own app context: the test's, of the test app, is already there.
        with freeze_time(NOON + timedelta(seconds=30)), app.app_context():
            result = app.test_cli_runner().invoke(args=["scheduler", "status"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["heartbeat:"] == (f"heartbeat: {HOLDER} at 2026-06-01 12:00:00 UTC (30 s ago), "
                                   "running")
    assert lines["deliver_outbox"].endswith("ok, last success: 2026-06-01 12:00:00 UTC")
    assert lines["retention"].endswith(
        "failing, last success: none, last error: builtins.RuntimeError at 2026-06-01 12:00 UTC")
    assert "someone@stad.example" not in result.output
