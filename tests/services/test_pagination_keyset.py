"""Keyset pagination as a row comparison (services/pagination.before): deep pages return the
right rows, ties on the time are broken by the id, and on PostgreSQL the next page is an index
seek, not a filter over every newer row (docs/performance.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from incidents.models import Incident, User
from incidents.services import reporting
from incidents.services.pagination import before

BASE = datetime(2025, 5, 1, 12, tzinfo=UTC)


def _insert(session, unit_id: int, reporter_id: int, count: int) -> None:
    """``count`` incidents, three to an instant, so ties run across page boundaries."""
    session.execute(sa.insert(Incident), [
        {"reference": f"OP-2025-{900000 + n:06d}", "status": "reported", "category": "threat",
         "perceived_influence_purpose": "yes", "occurred_at": BASE + timedelta(hours=n // 3),
         "unit_id": unit_id, "description": "x", "police_flag": "required",
         "reporter_id": reporter_id, "anonymous": False}
        for n in range(count)])
    session.flush()


def _pages(session, limit: int) -> list[int]:
    order = (Incident.occurred_at.desc(), Incident.id.desc())
    seen, cursor = [], None
    while True:
        query = sa.select(Incident.id, Incident.occurred_at)
        if cursor is not None:
            query = query.where(before(Incident.occurred_at, Incident.id, *cursor))
        rows = session.execute(query.order_by(*order).limit(limit)).all()
        if not rows:
            return seen
        seen += [row.id for row in rows]
        cursor = (rows[-1].occurred_at, rows[-1].id)


def test_every_page_deep_in_the_list_holds_the_next_rows(db_session, make, org):
    _insert(db_session, org.a1.id, org.employee_a1.id, 200)
    expected = db_session.scalars(
        sa.select(Incident.id).order_by(Incident.occurred_at.desc(), Incident.id.desc())).all()
    assert _pages(db_session, 7) == list(expected)


def test_the_row_after_a_cursor_at_a_tie_is_the_lower_id_at_the_same_time(db_session, org):
    _insert(db_session, org.a1.id, org.employee_a1.id, 6)
    rows = db_session.execute(sa.select(Incident.id, Incident.occurred_at)
                              .order_by(Incident.occurred_at.desc(), Incident.id.desc())).all()
    middle = rows[1]  # the second of the newest three, which share their time
    after = db_session.execute(
        sa.select(Incident.id)
        .where(before(Incident.occurred_at, Incident.id, middle.occurred_at, middle.id))
        .order_by(Incident.occurred_at.desc(), Incident.id.desc())).scalars().all()
    assert after == [row.id for row in rows[2:]]


def _plan(session, query) -> str:
    compiled = query.compile(dialect=session.get_bind().dialect,
                             compile_kwargs={"literal_binds": True})
    return "\n".join(session.execute(sa.text(f"EXPLAIN {compiled}")).scalars())


@pytest.mark.postgresql_only
def test_a_deep_page_is_an_index_seek_on_postgresql(db_session, org):
    _insert(db_session, org.a1.id, org.employee_a1.id, 3000)
    db_session.execute(sa.text("ANALYZE incidents"))
    cursor = db_session.execute(sa.select(Incident.occurred_at, Incident.id)
                                .order_by(Incident.id).limit(1)).one()
    query = (sa.select(Incident.id)
             .where(before(Incident.occurred_at, Incident.id, *cursor))
             .order_by(Incident.occurred_at.desc(), Incident.id.desc()).limit(51))
    plan = _plan(db_session, query)
    assert "Scan Backward using ix_incidents_occurred_at_id" in plan, plan
    assert "Index Cond: (ROW(occurred_at, id) < ROW(" in plan, plan


@pytest.mark.postgresql_only
@pytest.mark.parametrize("reports", [0, 2000])
def test_an_employees_page_merges_two_index_scans_whatever_their_reports(
        db_session, org, reports):
    """The employee's list (reporting.list_query): what they reported and what was reported
    for them, each read in the list's order and cut at the page's length, merged. With no
    reports of their own, each part is an index lookup on its person; written as one OR,
    PostgreSQL read the whole list's order backwards and filtered it: 360 ms on 1,000,000
    incidents (docs/performance.md). With thousands, each part stops at the page's length."""
    someone, nobody = org.employee_a1.id, org.employee_b1.id
    _insert(db_session, org.a1.id, someone, 3000)
    person = db_session.get(User, someone if reports else nobody)
    db_session.execute(sa.text("ANALYZE incidents"))
    query = reporting.list_query(person, {"limit": 50, "own": True})
    plan = _plan(db_session, query)
    assert "Merge Append" in plan, plan
    assert plan.count("Limit") >= 3, plan  # each part, and the page
    if not reports:
        assert "Index Cond: (reporter_id = " in plan, plan
        assert "Index Cond: (on_behalf_of_id = " in plan, plan
    assert len(db_session.scalars(query).all()) == (51 if reports else 0)


@pytest.mark.postgresql_only
def test_a_small_teams_page_reads_its_units_index(db_session, org):
    """A manager of one unit among many incidents elsewhere: the handled units go into the
    list's query as values (access.handled_unit_ids), so the page comes from an index on the
    unit. With the subtree as a subquery PostgreSQL could not know how few they are and read the
    list's whole order backwards (and for hr reaching 500 units it read and sorted every
    incident: 13 ms on 10,000, docs/performance.md)."""
    _insert(db_session, org.a1.id, org.employee_a1.id, 3000)
    _insert_more(db_session, org.b1.id, org.employee_a1.id, 20)
    db_session.execute(sa.text("ANALYZE incidents"))
    query = reporting.list_query(db_session.get(User, org.manager_b1.id), {"limit": 50})
    plan = _plan(db_session, query)
    assert "Index Cond: (unit_id = " in plan, plan
    assert "ix_incidents_occurred_at_id" not in plan, plan
    assert "Seq Scan on incidents" not in plan, plan
    assert len(db_session.scalars(query).all()) == 20


def _insert_more(session, unit_id: int, reporter_id: int, count: int) -> None:
    session.execute(sa.insert(Incident), [
        {"reference": f"OP-2025-{800000 + n:06d}", "status": "reported", "category": "threat",
         "perceived_influence_purpose": "yes", "occurred_at": BASE + timedelta(minutes=n),
         "unit_id": unit_id, "description": "x", "police_flag": "required",
         "reporter_id": reporter_id, "anonymous": False}
        for n in range(count)])
    session.flush()
