"""The organisation tree: units, their place in the tree and their head-counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from incidents import access
from incidents.errors import Conflict, NotFound, field_error
from incidents.extensions import db
from incidents.models import Headcount, Incident, Unit, UnitLeader, User
from incidents.models.anonymous import AnonymousPending, HeldKind


def get_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"There is no unit {unit_id}.")
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


def list_units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.id)))


def unit_choices() -> list[tuple[int, str]]:
    """(id, name) of every unit, by name: what a form offers to choose from."""
    return [tuple(row) for row in db.session.execute(
        select(Unit.id, Unit.name).order_by(Unit.name, Unit.id))]


def create_unit(data: dict[str, Any]) -> Unit:
    _existing_parent(data.get("parent_id"))
    unit = Unit(name=data["name"], kind=data["kind"], parent_id=data.get("parent_id"))
    db.session.add(unit)
    db.session.flush()
    return unit


def update_unit(unit: Unit, data: dict[str, Any]) -> Unit:
    """A move may not put a unit below itself: that would make the tree a cycle (409)."""
    if "parent_id" in data and data["parent_id"] != unit.parent_id:
        new_parent_id = data["parent_id"]
        _existing_parent(new_parent_id)
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
    return unit


def delete_unit(unit: Unit) -> None:
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
    # An anonymous report waiting for the full hour is an incident of the unit already.
    held = db.session.scalars(select(AnonymousPending.payload).where(
        AnonymousPending.kind == HeldKind.REPORT.value))
    if any(payload.get("unit_id") == unit.id for payload in held):
        reasons.append("an anonymous report to it waits to be published")
    if reasons:
        raise Conflict(f"Unit {unit.id} cannot be deleted: {', '.join(reasons)}.")
    db.session.delete(unit)
    db.session.flush()


def set_headcount(unit: Unit, year: int, count: int) -> tuple[Headcount, bool]:
    """Returns the head-count and whether it was newly created."""
    if not 1990 <= year <= 2200:
        raise field_error("year", "must be between 1990 and 2200")
    headcount = db.session.scalar(
        select(Headcount).where(Headcount.unit_id == unit.id, Headcount.year == year)
    )
    created = headcount is None
    if created:
        headcount = Headcount(unit_id=unit.id, year=year, count=count)
        db.session.add(headcount)
    else:
        headcount.count = count
    db.session.flush()
    return headcount, created
