"""The daily check for units where nobody would be responsible for a report
(services/unanswered.py, scheduler job ``unanswered_units`` at 07:05 Stockholm time): a warning
in the log naming the units, and one mail a day to each admin who administers one of them and to
every platform admin, through the outbox; nothing while every unit is answered.

The real scheduler of ``python -m scheduler`` runs under freezegun (tests/scheduler/harness.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from incidents.models import OutboxMail
from incidents.services import unanswered
from tests.scheduler.harness import SchedulerUnderTest

# Stockholm is UTC+1 on 10 March 2026: 07:05 local is 06:05 UTC.
EVENING = datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
BEFORE = datetime(2026, 3, 10, 6, 4, tzinfo=UTC)
AT_0705 = datetime(2026, 3, 10, 6, 5, 30, tzinfo=UTC)
NEXT_MORNING = datetime(2026, 3, 11, 6, 5, 30, tzinfo=UTC)


def _mails(session) -> list[OutboxMail]:
    return session.scalars(select(OutboxMail).where(OutboxMail.kind == unanswered.MAIL_KIND)
                           .order_by(OutboxMail.id)).all()


@pytest.fixture
def nobody_there(make, org):
    """A second organisation, made after everyone's roles, with its own admin: nobody leads it
    and no hr reaches it."""
    other = make.unit("Grannkommunen", "organisation")
    school = make.unit("Skolförvaltningen", "forvaltning", other)
    their_admin = make.user("admin", unit=school, reach=(other,))
    return other, school, their_admin


def test_the_scheduler_mails_the_admins_once_a_day_and_logs_the_units(
    app, make, org, db_session, nobody_there, caplog
):
    other, school, their_admin = nobody_there
    with caplog.at_level(logging.WARNING, logger="incidents.services.unanswered"):
        with freeze_time(EVENING) as freezer:
            running = SchedulerUnderTest(app, freezer).start()
            try:
                running.advance_to(BEFORE)
                assert _mails(db_session) == []
                running.advance_to(AT_0705)
                first = [(m.recipient, m.created_at) for m in _mails(db_session)]
                running.advance_to(AT_0705 + timedelta(hours=3))
                same_day = len(_mails(db_session))
                running.advance_to(NEXT_MORNING)
            finally:
                running.stop()
    assert running.errors() == []
    # Their admin and the platform admin; Staden's admin administers neither unit.
    assert sorted(r for r, _ in first) == sorted([their_admin.email, org.platform_admin.email])
    assert {at for _, at in first} == {AT_0705}
    assert same_day == 2
    assert len(_mails(db_session)) == 4  # and again the next morning
    assert [r.scheduled for r in running.runs("unanswered_units")] == [
        datetime(2026, 3, 10, 6, 5, tzinfo=UTC), datetime(2026, 3, 11, 6, 5, tzinfo=UTC)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"units without anyone responsible for reports: {other.id}, {school.id}" in warnings

    mail = _mails(db_session)[0]
    assert "Skolförvaltningen" in mail.body and f"/admin/units/{school.id}" in mail.body
    assert "ingen aktiv chef leder enheten" in mail.body
    assert "no active manager leads the unit" in mail.body
    assert mail.subject == ("2 enheter utan ansvarig för rapporter / "
                            "2 units without anyone responsible for reports")


def test_nothing_is_mailed_or_logged_when_every_unit_is_answered(app, org, db_session, caplog):
    with caplog.at_level(logging.WARNING, logger="incidents.services.unanswered"):
        run = unanswered.daily_check(AT_0705)
    assert run.units == [] and run.mailed == []
    assert _mails(db_session) == []
    assert not [r for r in caplog.records if r.name == "incidents.services.unanswered"]


def test_an_admin_is_mailed_only_the_units_they_administer(app, make, org, db_session,
                                                           nobody_there):
    """Staden's B1 loses its manager and avdelning B's hr: Staden's admin gets B1 only; the
    other organisation's admin only theirs; the platform admin everything."""
    other, school, their_admin = nobody_there
    org.hr.active = False
    org.admin_hr.active = False
    db_session.commit()
    with freeze_time(AT_0705):
        run = unanswered.daily_check(AT_0705)
    db_session.commit()
    assert org.dept_b.id in run.units and org.b1.id not in run.units  # B1 has its manager
    by_recipient = {m.recipient: m.body for m in _mails(db_session)}
    assert set(by_recipient) == {org.admin.email, their_admin.email, org.platform_admin.email}
    assert "Avdelning B" in by_recipient[org.admin.email]
    assert "Skolförvaltningen" not in by_recipient[org.admin.email]
    assert "Avdelning B" not in by_recipient[their_admin.email]
    assert all(name in by_recipient[org.platform_admin.email]
               for name in ("Avdelning B", "Skolförvaltningen"))


def test_a_deactivated_admin_is_not_mailed(app, make, org, db_session, nobody_there):
    _other, _school, their_admin = nobody_there
    their_admin.active = False
    db_session.commit()
    run = unanswered.daily_check(AT_0705)
    assert run.mailed == [org.platform_admin.email]
