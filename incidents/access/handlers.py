"""Who is responsible for a report: every incident has a case handler from the moment it is
reported (docs/roles-and-access.md, "Who handles a report").

The rule:

* the active managers of the nearest unit, at or above the incident's unit, that has one — other
  than those excluded (the reporter and the exposed employee: nobody handles their own case);
* where there is none, the active hr whose hr units reach the unit (the unit or a unit above
  it), other than those excluded.

So a manager's own report goes to their own manager above, else to HR; a report in a unit
nobody leads, at or above, goes to the HR of that part of the organisation. A unit where both
are missing has nobody responsible: ``units_without_handler`` lists those units, for the admin
pages and the daily check (services/unanswered.py).

Both are answered by one query: a recursive walk up from the unit(s) with each ancestor's
depth, joined to the managers who lead an ancestor and to the hr assigned to one. Only ids,
addresses, names and the kind of handler are read, never whole users.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from sqlalchemy import and_, bindparam, literal, select, union_all
from sqlalchemy.sql import Select

from incidents.domain import Role
from incidents.extensions import db
from incidents.models import Unit, UnitAssignment, UnitLeader, User, UserRole

HandlerRole = Literal["manager", "hr"]

# A tree deeper than this is a cycle (the API refuses to make one); the walk stops there.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Handler:
    """A person responsible for a report, and as what: the manager above the unit, or hr."""

    user_id: int
    email: str
    name: str
    as_role: HandlerRole

    # Mails are queued for active people only (services/notifications.py); a handler is one.
    active = True


def _ancestors(unit_ids: Select | list[int]):
    """(start, unit, depth): each start unit, itself at depth 0 and every unit above it."""
    start = select(Unit.id.label("start_id"), Unit.id.label("unit_id"),
                   literal(0).label("depth"))
    start = start.where(Unit.id.in_(unit_ids))
    up = start.cte("handler_ancestors", recursive=True)
    parent = select(up.c.start_id, Unit.parent_id, up.c.depth + 1).join(
        Unit, Unit.id == up.c.unit_id
    ).where(Unit.parent_id.is_not(None), up.c.depth < MAX_DEPTH)
    return up.union_all(parent)


def _candidates(up) -> Select:
    """Every active manager leading an ancestor and every active hr assigned to one, with the
    start unit and the ancestor's depth."""
    manager_role = UserRole.__table__.alias("manager_role")
    hr_role = UserRole.__table__.alias("hr_role")
    managers = (
        select(up.c.start_id, up.c.depth, User.id, User.email, User.name,
               literal(Role.MANAGER.value).label("kind"))
        .select_from(up)
        .join(UnitLeader, UnitLeader.unit_id == up.c.unit_id)
        .join(User, User.id == UnitLeader.user_id)
        .join(manager_role, and_(manager_role.c.user_id == User.id,
                                 manager_role.c.role == Role.MANAGER.value))
        .where(User.active.is_(True))
    )
    hr = (
        select(up.c.start_id, up.c.depth, User.id, User.email, User.name,
               literal(Role.HR.value).label("kind"))
        .select_from(up)
        .join(UnitAssignment, and_(UnitAssignment.unit_id == up.c.unit_id,
                                   UnitAssignment.role == Role.HR.value))
        .join(User, User.id == UnitAssignment.user_id)
        .join(hr_role, and_(hr_role.c.user_id == User.id, hr_role.c.role == Role.HR.value))
        .where(User.active.is_(True))
    )
    return union_all(managers, hr)


def _choose(rows, exclude: set[int | None]) -> list[Handler]:
    """The rule applied to one unit's candidates (rows of depth, id, email, name, kind)."""
    managers = [r for r in rows if r.kind == Role.MANAGER.value and r.id not in exclude]
    if managers:
        nearest = min(r.depth for r in managers)
        chosen = [r for r in managers if r.depth == nearest]
        kind: HandlerRole = "manager"
    else:
        chosen = [r for r in rows if r.kind == Role.HR.value and r.id not in exclude]
        kind = "hr"
    seen: dict[int, Handler] = {}
    for row in sorted(chosen, key=lambda r: r.id):
        seen.setdefault(row.id, Handler(row.id, row.email, row.name, kind))
    return list(seen.values())


def responsible_handlers(unit_id: int, exclude: Iterable[int | None] = ()) -> list[Handler]:
    """Who handles a report in this unit (one query): the active managers of the nearest unit
    at or above it that has one, else the active hr reaching it; never anyone in ``exclude``
    (the reporter and the exposed employee). Empty only where nobody is responsible."""
    return responsible_for_units([unit_id], exclude).get(unit_id, [])


@lru_cache(maxsize=1)
def _candidates_of_units() -> Select:
    """``_candidates`` of the units bound as ``handler_units``, made once per process: building
    the recursive statement cost a report more than running it."""
    return _candidates(_ancestors(bindparam("handler_units", expanding=True)))


def _candidates_by_unit(unit_ids: Iterable[int]) -> dict[int, list]:
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    rows = db.session.execute(_candidates_of_units(), {"handler_units": ids}).all()
    by_unit: dict[int, list] = {unit_id: [] for unit_id in ids}
    for row in rows:
        by_unit.setdefault(row.start_id, []).append(row)
    return by_unit


def responsible_for_units(
    unit_ids: Iterable[int], exclude: Iterable[int | None] = ()
) -> dict[int, list[Handler]]:
    """``responsible_handlers`` for several units at once (one query), each unit's list by
    its id; the same people are excluded for every unit."""
    excluded = set(exclude)
    return {unit_id: _choose(found, excluded)
            for unit_id, found in _candidates_by_unit(unit_ids).items()}


def responsible_for_incidents(incidents: Iterable) -> dict[int, list[Handler]]:
    """``responsible_handlers`` for each incident (anything with ``id``, ``unit_id``,
    ``reporter_id`` and ``exposed_user_id``), by incident id, in one query."""
    incidents = list(incidents)
    by_unit = _candidates_by_unit(i.unit_id for i in incidents)
    return {i.id: _choose(by_unit.get(i.unit_id, []), {i.reporter_id, i.exposed_user_id})
            for i in incidents}


@dataclass(frozen=True)
class UnansweredUnit:
    """A unit where nobody would be responsible for a report."""

    id: int
    name: str
    parent_id: int | None


def units_without_handler() -> list[UnansweredUnit]:
    """The units where nobody would be responsible for a report: no active manager leads the
    unit or a unit above it, and no active hr is assigned to it or a unit above it (one
    query), by name."""
    answered = _candidates(_ancestors(select(Unit.id))).subquery()
    rows = db.session.execute(
        select(Unit.id, Unit.name, Unit.parent_id)
        .where(Unit.id.not_in(select(answered.c.start_id)))
        .order_by(Unit.name, Unit.id)
    ).all()
    return [UnansweredUnit(r.id, r.name, r.parent_id) for r in rows]
