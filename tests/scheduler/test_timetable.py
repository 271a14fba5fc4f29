"""The real scheduler fires each job at its local time: across the year boundary, across both
daylight-saving changes, and exactly once however often the clock is looked at.

Each test starts the APScheduler of `python -m scheduler` (its job definitions, its executor,
an in-memory job store) under freezegun and moves the clock in steps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import OutboxMail, Summary, SummaryFile
from tests.scheduler.harness import SchedulerUnderTest

# Named moments (UTC). Stockholm is UTC+1 in winter, UTC+2 in summer.
LAST_EVENING_OF_T1 = datetime(2026, 4, 30, 20, 0, tzinfo=UTC)
MAY_1_0559_LOCAL = datetime(2026, 5, 1, 3, 59, tzinfo=UTC)
MAY_1_0600_LOCAL = datetime(2026, 5, 1, 4, 0, 30, tzinfo=UTC)
NEW_YEARS_EVE_2330_LOCAL = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)
JAN_1_0559_LOCAL = datetime(2027, 1, 1, 4, 59, tzinfo=UTC)
JAN_1_0600_LOCAL = datetime(2027, 1, 1, 5, 0, 30, tzinfo=UTC)


def _hours(start: datetime, end: datetime, step: timedelta = timedelta(hours=1)):
    moment = start
    while moment <= end:
        yield moment
        moment += step


def _summaries(session, kind: str) -> list[tuple[str, str]]:
    return sorted(session.execute(
        select(Summary.period, Summary.scope_name).where(Summary.kind == kind)
    ).all())


def test_passing_1_may_makes_the_t1_summary_once_with_its_files_and_a_mail_to_hr(
    app, make, org, db_session
):
    """At 06:00 Stockholm time on 1 May (04:00 UTC) the T1 summary appears for the
    organisation and the förvaltning, each with its CSVs, workbooks and charts; hr gets one
    mail each; an hour and a day later nothing more is made."""
    days = [datetime(2026, 1, 15, 9, tzinfo=UTC)] * 4 + [datetime(2026, 4, 29, 9, tzinfo=UTC)]
    for day in days:  # five, so that the total is not suppressed
        with freeze_time(day + timedelta(hours=3)):
            make.incident(org.employee_a1, org.a1, occurred_at=day)
    with freeze_time(LAST_EVENING_OF_T1) as freezer:
        running = SchedulerUnderTest(app, freezer).start()
        try:
            running.advance_to(MAY_1_0559_LOCAL)
            assert _summaries(db_session, "tertial") == []
            running.advance_to(MAY_1_0600_LOCAL)
            made = _summaries(db_session, "tertial")
            for later in (MAY_1_0600_LOCAL + timedelta(hours=1),
                          MAY_1_0600_LOCAL + timedelta(days=1)):
                running.advance_to(later)
        finally:
            running.stop()
    assert running.errors() == []
    assert made == [("2026-T1", "Socialförvaltningen"), ("2026-T1", "Staden")]
    assert _summaries(db_session, "tertial") == made
    assert [r.scheduled for r in running.runs("tertial_summary")] == [
        datetime(2026, 5, 1, 4, 0, tzinfo=UTC)]
    assert _summaries(db_session, "monthly") == [
        ("2026-04", "Socialförvaltningen"), ("2026-04", "Staden")]

    root = db_session.scalar(select(Summary).where(Summary.kind == "tertial",
                                                   Summary.unit_id == org.root.id))
    assert root.content["en"]["incidents"]["totals"]["count"] == 5  # the five T1 incidents
    names = set(db_session.scalars(select(SummaryFile.name)
                                   .where(SummaryFile.summary_id == root.id)))
    for lang in ("sv", "en"):
        assert {f"incidents.{lang}.csv", f"police.{lang}.csv", f"support.{lang}.csv",
                f"dark-figure.{lang}.csv", f"summary.{lang}.xlsx",
                f"incidents-by-form.{lang}.png", f"police-reported-share.{lang}.png"} <= names
    mails = db_session.execute(
        select(OutboxMail.recipient, OutboxMail.body).where(OutboxMail.kind == "summary_tertial")
    ).all()
    assert sorted(m.recipient for m in mails) == sorted([org.hr.email, org.admin_hr.email])
    assert f"- Staden: http://127.0.0.1:5000/summaries/{root.id}\n" in mails[0].body


def test_the_year_boundary_makes_t3_and_december_at_0600_on_1_january(app, org, db_session):
    """Midnight passes in Stockholm an hour before it does in UTC; the T3 and December
    summaries are made at 06:00 local time on 1 January (05:00 UTC), for the year ending."""
    with freeze_time(NEW_YEARS_EVE_2330_LOCAL) as freezer:
        running = SchedulerUnderTest(app, freezer).start()
        try:
            running.advance_to(JAN_1_0559_LOCAL)
            assert _summaries(db_session, "tertial") == []
            running.advance_to(JAN_1_0600_LOCAL)
        finally:
            running.stop()
    assert running.errors() == []
    assert {p for p, _ in _summaries(db_session, "tertial")} == {"2026-T3"}
    assert {p for p, _ in _summaries(db_session, "monthly")} == {"2026-12"}
    assert [r.scheduled for r in running.runs("tertial_summary")] == [
        datetime(2027, 1, 1, 5, 0, tzinfo=UTC)]


def test_nightly_retention_runs_at_0330_local_on_both_daylight_saving_days(app, db_session):
    """03:30 exists once on both change-over nights: 01:30 UTC after the clocks go forward
    (29 March 2026), 02:30 UTC after they go back (25 October 2026)."""
    fired = []
    for start in (datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 10, 23, 12, tzinfo=UTC)):
        with freeze_time(start) as freezer:
            running = SchedulerUnderTest(app, freezer).start()
            try:
                for moment in _hours(start, start + timedelta(days=3)):
                    running.advance_to(moment)
            finally:
                running.stop()
        assert running.errors() == []
        fired += [r.scheduled for r in running.runs("retention")]
    assert fired == [
        datetime(2026, 3, 28, 2, 30, tzinfo=UTC),  # 03:30 CET
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST, the first summer night
        datetime(2026, 3, 30, 1, 30, tzinfo=UTC),
        datetime(2026, 10, 24, 1, 30, tzinfo=UTC),  # 03:30 CEST
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC),  # 03:30 CET, the first winter night
        datetime(2026, 10, 26, 2, 30, tzinfo=UTC),
    ]


def test_a_job_looked_at_many_times_in_a_minute_runs_once(app, db_session):
    """Waking the scheduler again and again within the same minute does not repeat a run:
    coalescing and max_instances=1 leave one run per due time."""
    start = datetime(2026, 6, 10, 8, 0, 5, tzinfo=UTC)
    with freeze_time(start) as freezer:
        running = SchedulerUnderTest(app, freezer).start()
        try:
            for second in range(10, 60, 5):
                running.advance_to(start.replace(second=second))
            running.advance_to(start + timedelta(minutes=1))
        finally:
            running.stop()
    assert [r.scheduled for r in running.runs("deliver_outbox")] == [
        datetime(2026, 6, 10, 8, 1, 5, tzinfo=UTC)]
    assert db_session.scalar(select(func.count()).select_from(Summary)) == 0
