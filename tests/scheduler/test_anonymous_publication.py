"""The hourly publication of the anonymous channel, fired by the real scheduler at the full hour
(services/anonymous.py): what came in during an hour is published at the next full hour and not
a moment before, hour after hour, and a run missed while the scheduler was down is made when it
is back."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun import freeze_time
from sqlalchemy import delete, func, select

from incidents.models import AnonymousPending, AuditEntry, Incident, SchedulerJobStatus
from incidents.services import anonymous
from tests.scheduler.harness import SchedulerUnderTest


def _held_report(db_session, org) -> str:
    report, _code = anonymous.report({
        "category": "threat", "perceived_influence_purpose": "yes",
        "occurred_at": datetime(2026, 3, 9, 12, tzinfo=UTC), "unit_id": org.a1.id,
        "description": "Han väntade utanför kontoret."})
    db_session.commit()
    return report["incident"].reference


def _published(db_session, reference: str) -> Incident | None:
    db_session.expire_all()
    return db_session.scalar(select(Incident).where(Incident.reference == reference))


def test_the_job_publishes_at_each_full_hour_and_not_before(app, org, db_session):
    with freeze_time("2026-03-10 09:47:13+00:00") as freezer:
        first = _held_report(db_session, org)
        running = SchedulerUnderTest(app, freezer).start()
        try:
            running.advance_to(datetime(2026, 3, 10, 9, 59, 59, tzinfo=UTC))
            assert _published(db_session, first) is None
            running.advance_to(datetime(2026, 3, 10, 10, 0, 1, tzinfo=UTC))
            incident = _published(db_session, first)
            assert incident is not None and incident.created_at == datetime(
                2026, 3, 10, 9, tzinfo=UTC)

            freezer.move_to(datetime(2026, 3, 10, 10, 5, tzinfo=UTC))
            second = _held_report(db_session, org)
            running.advance_to(datetime(2026, 3, 10, 10, 59, 59, tzinfo=UTC))
            assert _published(db_session, second) is None
            running.advance_to(datetime(2026, 3, 10, 11, 0, 1, tzinfo=UTC))
            assert _published(db_session, second) is not None
        finally:
            running.stop()
    assert running.errors() == []
    assert [run.scheduled for run in running.runs("publish_anonymous")] == [
        datetime(2026, 3, 10, 10, tzinfo=UTC), datetime(2026, 3, 10, 11, tzinfo=UTC)]
    assert db_session.scalar(select(func.count()).select_from(AnonymousPending)) == 0
    entries = db_session.scalars(
        select(AuditEntry.at).where(AuditEntry.detail == "anonymous report"))
    assert sorted(entries) == [datetime(2026, 3, 10, 9, tzinfo=UTC),
                               datetime(2026, 3, 10, 10, tzinfo=UTC)]
    status = db_session.get(SchedulerJobStatus, "publish_anonymous")
    assert status.last_success_at == datetime(2026, 3, 10, 11, 0, 1, tzinfo=UTC)


def test_held_items_wait_while_the_scheduler_is_down_and_go_out_at_the_next_run(
    app, org, db_session
):
    """Down from 09:50 to 12:20: the missed runs are made once when it is back, and what was
    held is published then, each item still with the hour it came in."""
    with freeze_time("2026-03-10 09:40:00+00:00") as freezer:
        reference = _held_report(db_session, org)
        running = SchedulerUnderTest(app, freezer).start(paused=True)
        try:
            freezer.move_to(datetime(2026, 3, 10, 12, 20, tzinfo=UTC))
            running.scheduler.modify_job("publish_anonymous",
                                         next_run_time=datetime(2026, 3, 10, 10, tzinfo=UTC))
            running.resume()
        finally:
            running.stop()
    assert len(running.runs("publish_anonymous")) == 1  # coalesced
    incident = _published(db_session, reference)
    assert incident is not None and incident.created_at == datetime(2026, 3, 10, 9, tzinfo=UTC)


def test_a_job_that_could_not_publish_everything_is_recorded_as_failing(app, make, org,
                                                                        db_session):
    from incidents.models import Unit

    spare = make.unit("Tillfällig enhet", "enhet", org.b1)
    with freeze_time("2026-03-10 09:40:00+00:00") as freezer:
        report, _code = anonymous.report({
            "category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": datetime(2026, 3, 9, 12, tzinfo=UTC), "unit_id": spare.id,
            "description": "Hot."})
        # Removed in the database: the service refuses to delete a unit with a held report.
        db_session.execute(delete(Unit).where(Unit.id == spare.id))
        db_session.commit()
        running = SchedulerUnderTest(app, freezer).start()
        try:
            running.advance_to(datetime(2026, 3, 10, 10, 0, 1, tzinfo=UTC))
        finally:
            running.stop()
    assert [type(run.result).__name__ for run in running.errors()] == ["PublicationIncomplete"]
    status = db_session.get(SchedulerJobStatus, "publish_anonymous")
    assert status.last_error == "incidents.services.anonymous.PublicationIncomplete"
    assert db_session.scalar(select(func.count()).select_from(AnonymousPending)) == 1
