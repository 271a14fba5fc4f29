"""Demo data (incidents/demo.py, `flask demo-data`): only into an empty register, never in
production; the organisation, people and incidents it promises; numbering that real reports
continue; the same data for the same seed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from incidents import demo
from incidents.clock import local_midnight
from incidents.errors import Conflict
from incidents.models import (
    Headcount,
    Incident,
    IncidentForm,
    ReferenceCounter,
    Unit,
    UnitLeader,
    User,
)

UNTIL = date(2026, 10, 31)
PLAN = demo.DemoPlan(units=40, incidents=1500, years=2, until=UNTIL, seed=3,
                     forvaltningar=2, avdelningar_each=3)


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_demo_data_is_refused_in_production(app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "INCIDENTS_ENV", "production")
    with pytest.raises(Conflict, match="production"):
        demo.load(PLAN)
    assert _count(db_session, Unit) == 0


def test_demo_data_is_refused_on_a_register_that_holds_anything(db_session, make):
    make.unit("Riktig enhet")
    with pytest.raises(Conflict, match="units"):
        demo.load(PLAN)
    assert _count(db_session, Unit) == 1 and _count(db_session, Incident) == 0


def test_a_tree_too_small_for_its_levels_is_refused(db_session):
    with pytest.raises(Exception, match="at least 10 units"):
        demo.load(demo.DemoPlan(units=9, forvaltningar=2, avdelningar_each=3))


def test_demo_data_holds_what_it_promises(db_session):
    made = demo.load(PLAN)
    assert (made.units, made.incidents) == (40, 1500)
    kinds = dict(db_session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
    assert kinds == {"organisation": 1, "forvaltning": 2, "avdelning": 6, "enhet": 31}
    assert _count(db_session, Headcount) == 31 * 3  # every enhet, 2024 to 2026
    assert _count(db_session, UnitLeader) == 6  # a manager per avdelning
    emails = db_session.scalars(select(User.email)).all()
    assert len(emails) == made.users == 6 + 31 + 2
    assert all(email.endswith("@demo.invalid") for email in emails)

    assert _count(db_session, Incident) == 1500
    start = local_midnight(UNTIL + timedelta(days=1 - round(365.25 * 2)))
    end = local_midnight(UNTIL + timedelta(days=1))
    first, last = db_session.execute(
        select(func.min(Incident.occurred_at), func.max(Incident.created_at))).one()
    assert start - timedelta(days=2) <= first and last < end
    # Incidents are filed in enheter only; anonymous ones name nobody.
    leaf = select(Unit.id).where(Unit.kind == "enhet")
    assert _count(db_session, Incident, Incident.unit_id.not_in(leaf)) == 0
    anonymous = _count(db_session, Incident, Incident.anonymous.is_(True))
    assert 0 < anonymous < 150
    assert _count(db_session, Incident, Incident.anonymous.is_(True),
                  Incident.reporter_id.is_not(None)) == 0
    # Every incident has its primary form; some a second.
    assert _count(db_session, IncidentForm, IncidentForm.is_primary.is_(True)) == 1500
    assert made.forms > 1500
    # Old incidents are closed, recent ones still reported.
    closed_before = local_midnight(UNTIL) - demo.CLOSED_AFTER
    assert _count(db_session, Incident, Incident.status == "closed",
                  Incident.occurred_at >= closed_before) == 0
    assert _count(db_session, Incident, Incident.status == "reported",
                  Incident.occurred_at < closed_before) == 0
    # Forms follow the documented shares roughly: harassment most, corruption least.
    by_form = dict(db_session.execute(
        select(Incident.category, func.count()).group_by(Incident.category)).all())
    assert by_form["harassment"] > by_form["threat"] > by_form["violence"]
    assert by_form["corruption"] == min(by_form.values())


def test_real_reports_continue_the_numbering_of_the_demo(db_session, client, make):
    demo.load(PLAN)
    counters = dict(db_session.execute(
        select(ReferenceCounter.year, ReferenceCounter.last_number)).all())
    references = db_session.scalars(select(Incident.reference)).all()
    assert len(set(references)) == 1500
    for year, last in counters.items():
        numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references if f"-{year}-" in r)
        assert numbers == list(range(1, last + 1))  # from 1, no gaps, none shared

    employee = db_session.scalars(select(User).where(User.email.like("medarbetare.%"))).first()
    year = max(counters)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("incidents.services.reporting.to_local",
                      lambda moment: moment.replace(year=year))
        incident = make.incident(employee, db_session.get(Unit, employee.unit_id))
    assert incident.reference == f"OP-{year}-{counters[year] + 1:06d}"


def test_the_same_seed_gives_the_same_incidents(app):
    import numpy as np

    def batch(seed):
        start, end = local_midnight(date(2026, 1, 1)), local_midnight(UNTIL)
        return demo._batch(np.random.default_rng(seed), 300, 1, start, end, np.array([7, 8]),
                           {7: 1, 8: 2}, {7: 3, 8: 3}, UNTIL, {})

    (first, first_forms), (again, again_forms) = batch(5), batch(5)
    assert first.equals(again) and first_forms.equals(again_forms)
    assert not first.equals(batch(6)[0])


def test_the_cli_loads_demo_data_and_says_how_to_sign_in(runner, db_session):
    result = runner.invoke(args=["demo-data", "--units", "40", "--incidents", "200",
                                 "--years", "1", "--until", "2026-10-31"])
    assert result.exit_code == 0, result.output
    assert "40 units" in result.output and "200 incidents" in result.output
    assert "hr@demo.invalid (hr)" in result.output
    again = runner.invoke(args=["demo-data", "--units", "40", "--incidents", "10"])
    assert again.exit_code == 1 and "already holds units" in again.output


@pytest.mark.postgresql_only
def test_every_key_check_and_index_is_made_again_after_the_bulk_load(db_session):
    """On PostgreSQL the load drops the tables' keys, checks and indexes and makes them again;
    the schema afterwards is exactly the migrated one, and the keys hold."""
    from sqlalchemy import text

    def schema():
        constraints = db_session.execute(text(
            # A check made again is rendered with other casts; its name and kind must return.
            "SELECT conrelid::regclass::text, conname, contype, convalidated, "
            "CASE WHEN contype <> 'c' THEN pg_get_constraintdef(oid) END FROM pg_constraint "
            "WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
        )).all()
        indexes = db_session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
            "ORDER BY 1")).all()
        return constraints, indexes

    before = schema()
    demo.load(PLAN)
    assert schema() == before
    with pytest.raises(Exception, match="foreign key|violates"):
        with db_session.begin_nested():
            db_session.execute(text(
                "INSERT INTO incident_forms (incident_id, category, is_primary) "
                "VALUES (999999999, 'threat', true)"))
