"""Who is responsible for a report (incidents/access/handlers.py): the active managers of the
nearest unit at or above the incident's unit that has one, else the active hr reaching the unit;
never the reporter or the exposed employee. And the units where nobody would be.

The organisation (tests/factories.py build_org): Staden → Socialförvaltningen → avdelning A
(led by manager_a; A1, A2) and avdelning B (B1, led by manager_b1). Nobody leads avdelning B,
the förvaltning or Staden; org.hr and org.admin_hr are hr for Staden (so for all of it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import event, select

from incidents import access
from incidents.access import Handler, responsible_handlers, units_without_handler
from incidents.extensions import db
from incidents.models import OutboxMail, UnitAssignment
from incidents.services import reminders


def _who(handlers: list[Handler]) -> list[tuple[int, str]]:
    return [(h.user_id, h.as_role) for h in handlers]


@pytest.fixture
def statements(app):
    """The SQL statements run while the test collects them."""
    seen: list[str] = []

    def collect(conn, cursor, statement, *args):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", collect)
    yield seen
    event.remove(engine, "before_cursor_execute", collect)


def test_the_manager_leading_the_unit_above_handles_it(org, db_session):
    assert _who(responsible_handlers(org.a1.id, set())) == [(org.manager_a.id, "manager")]


def test_the_nearest_manager_wins_over_a_higher_one(make, org, db_session):
    head = make.user("employee", "manager", unit=org.forv, leads=(org.forv,))
    assert _who(responsible_handlers(org.a1.id, set())) == [(org.manager_a.id, "manager")]
    # Avdelning B has nobody of its own: the förvaltning's head, not hr.
    assert _who(responsible_handlers(org.dept_b.id, set())) == [(head.id, "manager")]


def test_every_manager_of_the_nearest_unit_is_responsible(make, org, db_session):
    second = make.user("employee", "manager", unit=org.dept_a, leads=(org.dept_a,))
    assert _who(responsible_handlers(org.a2.id, set())) == [
        (org.manager_a.id, "manager"), (second.id, "manager")]


def test_a_unit_with_no_manager_at_or_above_goes_to_the_hr_reaching_it(org, db_session):
    handlers = responsible_handlers(org.dept_b.id, set())
    assert _who(handlers) == [(org.hr.id, "hr"), (org.admin_hr.id, "hr")]
    assert handlers[0] == Handler(org.hr.id, org.hr.email, org.hr.name, "hr")


def test_a_managers_own_report_with_nobody_above_goes_to_hr(org, db_session):
    exclude = {org.manager_b1.id}
    assert _who(responsible_handlers(org.b1.id, exclude)) == [
        (org.hr.id, "hr"), (org.admin_hr.id, "hr")]


def test_a_managers_own_report_goes_to_their_own_manager_above(make, org, db_session):
    head = make.user("employee", "manager", unit=org.forv, leads=(org.forv,))
    assert _who(responsible_handlers(org.a1.id, {org.manager_a.id})) == [(head.id, "manager")]


def test_the_reporter_and_the_exposed_employee_are_left_out(make, org, db_session):
    """An hr user's own case is another hr's; a manager reporting for a colleague is left out
    as the reporter, the colleague as the exposed employee."""
    assert _who(responsible_handlers(org.dept_b.id, {org.hr.id, None})) == [
        (org.admin_hr.id, "hr")]
    both = make.user("employee", "manager", unit=org.dept_a, leads=(org.dept_a,))
    assert _who(responsible_handlers(org.a1.id, {org.manager_a.id, both.id})) == [
        (org.hr.id, "hr"), (org.admin_hr.id, "hr")]


def test_hr_of_one_district_is_not_responsible_for_another(make, org, db_session):
    north = make.unit("Norra förvaltningen", "forvaltning", org.root)
    team = make.unit("Enhet N1", "enhet", north)
    hr_social = make.user("employee", "hr", unit=org.forv, reach=(org.forv,))
    hr_north = make.user("employee", "hr", unit=north, reach=(north,))
    in_north = _who(responsible_handlers(team.id, set()))
    assert (hr_north.id, "hr") in in_north and (hr_social.id, "hr") not in in_north
    in_social = _who(responsible_handlers(org.b1.id, {org.manager_b1.id}))
    assert (hr_social.id, "hr") in in_social and (hr_north.id, "hr") not in in_social


def test_inactive_people_and_missing_roles_do_not_count(make, org, db_session):
    """A deactivated manager, a leader without the manager role, a deactivated hr and an
    assignment without the hr role are nobody."""
    make.user("employee", "manager", unit=org.dept_b, leads=(org.dept_b,), active=False)
    make.user("employee", unit=org.dept_b, leads=(org.dept_b,))
    org.hr.active = False
    stray = make.user("employee", unit=org.forv)
    db_session.add(UnitAssignment(user_id=stray.id, role="hr", unit_id=org.root.id))
    db_session.commit()
    assert _who(responsible_handlers(org.dept_b.id, set())) == [(org.admin_hr.id, "hr")]


def test_one_query_and_no_whole_users(org, db_session, statements):
    unit_id, reporter_id, manager_id = org.a1.id, org.employee_a1.id, org.manager_a.id
    db_session.expire_all()
    statements.clear()
    handlers = responsible_handlers(unit_id, {reporter_id})
    assert _who(handlers) == [(manager_id, "manager")]
    assert len(statements) == 1
    assert "user_roles" in statements[0] and "unit_assignments" in statements[0]


def test_units_without_anyone_responsible(make, org, db_session, statements):
    """A second organisation made after everyone's roles: nobody leads or is hr there. Once
    someone is hr for it, it is answered."""
    assert units_without_handler() == []
    other = make.unit("Grannkommunen", "organisation")
    school = make.unit("Skolförvaltningen", "forvaltning", other)
    statements.clear()
    found = units_without_handler()
    assert len(statements) == 1
    assert [(u.id, u.name) for u in found] == [(other.id, "Grannkommunen"),
                                               (school.id, "Skolförvaltningen")]
    make.user("employee", "manager", unit=school, leads=(school,))
    assert [u.id for u in units_without_handler()] == [other.id]
    make.user("employee", "hr", unit=other, reach=(other,))
    assert units_without_handler() == []


def test_every_incident_gets_its_own_exclusions_in_one_query(make, org, db_session):
    own = make.incident(org.manager_b1, org.b1)
    theirs = make.incident(org.employee_b1, org.b1)
    found = access.responsible_for_incidents([own, theirs])
    assert _who(found[own.id]) == [(org.hr.id, "hr"), (org.admin_hr.id, "hr")]
    assert _who(found[theirs.id]) == [(org.manager_b1.id, "manager")]


def test_hr_is_reminded_of_the_overdue_cases_it_is_responsible_for(make, org, db_session):
    """The daily digest (services/reminders.py) goes to the responsible: an unacknowledged
    report in avdelning B (nobody leads it or above) is in hr's digest; one in A1 (manager_a's)
    is in manager_a's, not hr's."""
    reported = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    with freeze_time(reported):
        unanswered = make.incident(org.employee_b1, org.dept_b,
                                   occurred_at=reported - timedelta(hours=1))
        led = make.incident(org.employee_a1, org.a1, occurred_at=reported - timedelta(hours=1))
    morning = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
    with freeze_time(morning):
        assert reminders.send_daily_digests(morning) == 3  # manager_a, hr, admin_hr
    db_session.commit()
    bodies = dict(db_session.execute(
        select(OutboxMail.recipient, OutboxMail.body)
        .where(OutboxMail.kind == reminders.MAIL_KIND)).all())
    assert set(bodies) == {org.manager_a.email, org.hr.email, org.admin_hr.email}
    assert unanswered.reference in bodies[org.hr.email]
    assert led.reference not in bodies[org.hr.email]
    assert led.reference in bodies[org.manager_a.email]
