"""The organisation tree: units, their place in the tree and their head-counts.

Each root is an organisation (a municipality). An admin keeps the units within the units they
hold admin for; a new organisation is the platform admin's (or an admin's of every organisation
there is). hr sets the head-counts of the units it reaches. Every change is audited with what it
was before and after (docs/roles-and-access.md, "Administration")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from incidents import access
from incidents.access import UnitTree
from incidents.domain import AuditAction, AuditRecord, Role
from incidents.errors import Conflict, Forbidden, NotFound, field_error
from incidents.extensions import db
from incidents.models import Headcount, Incident, Unit, UnitAssignment, UnitLeader, User
from incidents.models.anonymous import AnonymousPending, HeldKind
from incidents.services import audit


def get_unit(unit_id: int, user: User | None = None) -> Unit:
    """The unit; for a ``user``, only one of the organisations they belong to (404 for
    another's, as for one that does not exist)."""
    unit = db.session.get(Unit, unit_id)
    if unit is None or (user is not None
                        and unit.id not in access.unit_scope(user, UnitTree.load())):
        raise NotFound(f"There is no unit {unit_id}.")
    return unit


def unit_to_administer(admin: User, unit_id: int) -> Unit:
    """A unit for an admin to change: 404 outside their organisations, 403 inside them but
    outside the units they hold admin for."""
    unit = get_unit(unit_id, admin)
    if not access.administers_unit(admin, UnitTree.load(), unit.id):
        raise Forbidden("You administer other units than this one; an admin of this unit (or a "
                        "platform admin) changes it.")
    return unit


def unit_for_headcount(user: User, unit_id: int) -> Unit:
    """Head-counts are set by an admin who keeps the unit, or by hr reaching it."""
    unit = get_unit(unit_id, user)
    tree = UnitTree.load()
    if not (access.administers_unit(user, tree, unit.id)
            or access.covers_units(user, Role.HR, [unit.id])):
        raise Forbidden("Head-counts are set by hr reaching the unit or by its admin.")
    return unit


def existing_units(unit_ids: list[int], field: str = "unit_ids") -> list[Unit]:
    """The units named, each once and each existing (422 naming ``field`` otherwise), in the
    order given: what a survey, a workshop or a summary covers."""
    if len(set(unit_ids)) != len(unit_ids):
        raise field_error(field, "must not list a unit twice")
    known = {unit.id: unit for unit in db.session.scalars(
        select(Unit).where(Unit.id.in_(unit_ids)))}
    unknown = [unit_id for unit_id in unit_ids if unit_id not in known]
    if unknown:
        raise field_error(field, f"there is no unit {', '.join(map(str, unknown))}")
    return [known[unit_id] for unit_id in unit_ids]


def _existing_parent(parent_id: int | None) -> Unit | None:
    if parent_id is None:
        return None
    parent = db.session.get(Unit, parent_id)
    if parent is None:
        raise field_error("parent_id", f"there is no unit {parent_id}")
    return parent


def list_units(user: User | None = None) -> list[Unit]:
    """Every unit of the organisations the user belongs to (all, without a user)."""
    query = select(Unit).order_by(Unit.id)
    if user is not None:
        query = query.where(Unit.id.in_(sorted(access.unit_scope(user, UnitTree.load()))))
    return list(db.session.scalars(query))


def unit_choices(user: User | None = None) -> list[tuple[int, str]]:
    """(id, name) of the units a form offers the user, by name: their organisations' units."""
    query = select(Unit.id, Unit.name).order_by(Unit.name, Unit.id)
    if user is not None:
        query = query.where(Unit.id.in_(sorted(access.unit_scope(user, UnitTree.load()))))
    return [tuple(row) for row in db.session.execute(query)]


def _audit_unit(actor: User | None, unit: Unit, action: AuditAction, what: str,
                unit_id: int | None = None) -> None:
    """Under the unit itself (``unit_id``: its parent, for a unit deleted and so no longer in
    the tree its admins reach)."""
    audit.record(actor, action, None, detail=f"unit {unit.id} {what}"[:500],
                 record=AuditRecord.UNIT, unit_id=unit_id or unit.id)


def _check_parent_administered(actor: User | None, parent_id: int | None) -> None:
    if actor is None:
        return
    tree = UnitTree.load()
    if parent_id is None:
        if not access.administers_all(actor, tree):
            raise Forbidden("A new organisation (a unit without a parent) is made by a platform "
                            "admin.", errors={"parent_id": ["only a platform admin adds an "
                                                         "organisation"]})
    elif not access.administers_unit(actor, tree, parent_id):
        raise field_error("parent_id", "not a unit you administer")


def create_unit(data: dict[str, Any], actor: User | None = None) -> Unit:
    _existing_parent(data.get("parent_id"))
    _check_parent_administered(actor, data.get("parent_id"))
    unit = Unit(name=data["name"], kind=data["kind"], parent_id=data.get("parent_id"))
    db.session.add(unit)
    db.session.flush()
    _audit_unit(actor, unit, AuditAction.CREATE,
                f"created: name {unit.name}; kind {unit.kind}; parent_id {unit.parent_id or '—'}")
    return unit


def update_unit(unit: Unit, data: dict[str, Any], actor: User | None = None) -> Unit:
    """A move may not put a unit below itself: that would make the tree a cycle (409)."""
    before = {"name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id}
    if "parent_id" in data and data["parent_id"] != unit.parent_id:
        new_parent_id = data["parent_id"]
        _existing_parent(new_parent_id)
        _check_parent_administered(actor, new_parent_id)
        if new_parent_id is not None:
            below = set(db.session.scalars(access.subtree([unit.id])))
            if new_parent_id in below:
                raise Conflict(
                    f"Unit {unit.id} cannot be moved under unit {new_parent_id}: that unit is "
                    "the unit itself or below it, and the tree would become a cycle.",
                    errors={"parent_id": ["would make a cycle"]},
                )
        unit.parent_id = new_parent_id
    for field in ("name", "kind"):
        if field in data:
            setattr(unit, field, data[field])
    db.session.flush()
    after = {"name": unit.name, "kind": unit.kind, "parent_id": unit.parent_id}
    changes = [f"{k} {before[k] if before[k] is not None else '—'} → "
               f"{after[k] if after[k] is not None else '—'}"
               for k in before if before[k] != after[k]]
    if changes:
        _audit_unit(actor, unit, AuditAction.UPDATE, "changed: " + "; ".join(changes))
    return unit


def delete_unit(unit: Unit, actor: User | None = None) -> None:
    """Units that incidents, people or other units refer to stay: deleting them would lose
    history or orphan the tree (409)."""
    reasons = []
    if db.session.scalar(select(func.count()).where(Incident.unit_id == unit.id)):
        reasons.append("it has incidents")
    if db.session.scalar(select(func.count()).where(User.unit_id == unit.id)):
        reasons.append("it is the home unit of users")
    if db.session.scalar(select(func.count()).where(Unit.parent_id == unit.id)):
        reasons.append("it has sub-units")
    if db.session.scalar(select(func.count()).where(UnitLeader.unit_id == unit.id)):
        reasons.append("managers lead it")
    if db.session.scalar(select(func.count()).where(UnitAssignment.unit_id == unit.id)):
        reasons.append("people hold hr, statistics or admin roles for it")
    # An anonymous report waiting for the full hour is an incident of the unit already.
    held = db.session.scalars(select(AnonymousPending.payload).where(
        AnonymousPending.kind == HeldKind.REPORT.value))
    if any(payload.get("unit_id") == unit.id for payload in held):
        reasons.append("an anonymous report to it waits to be published")
    if reasons:
        raise Conflict(f"Unit {unit.id} cannot be deleted: {', '.join(reasons)}.")
    _audit_unit(actor, unit, AuditAction.UPDATE,
                f"deleted: name {unit.name}; kind {unit.kind}; parent_id {unit.parent_id or '—'}",
                unit_id=unit.parent_id)
    db.session.delete(unit)
    db.session.flush()


def set_headcount(unit: Unit, year: int, count: int,
                  actor: User | None = None) -> tuple[Headcount, bool]:
    """Returns the head-count and whether it was newly created."""
    if not 1990 <= year <= 2200:
        raise field_error("year", "must be between 1990 and 2200")
    headcount = db.session.scalar(
        select(Headcount).where(Headcount.unit_id == unit.id, Headcount.year == year)
    )
    created = headcount is None
    before = None if created else headcount.count
    if created:
        headcount = Headcount(unit_id=unit.id, year=year, count=count)
        db.session.add(headcount)
    else:
        headcount.count = count
    db.session.flush()
    if before != count:
        audit.record(actor, AuditAction.CREATE if created else AuditAction.UPDATE, None,
                     detail=f"head-count of unit {unit.id} for {year}: "
                            f"{'—' if before is None else before} → {count}",
                     record=AuditRecord.HEADCOUNT, unit_id=unit.id)
    return headcount, created
