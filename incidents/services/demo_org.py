"""A small demo organisation for a newcomer trying the service out (development only): one
organisation, a district administration with two units, and one person per role, every name
marked "(demo)" and every address under ``demo.example`` (RFC 2606: never a real mailbox).

Rules: it goes only into an empty register (no units, no users) and is refused when INCIDENTS_ENV
is production, so demo people never mix with real ones. Units and people are made through the
same services as the admin API (services/organisation.py, services/people.py), after the same
schema checks, so the same rules apply. It flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select

from incidents.domain import Role, UnitKind
from incidents.errors import Conflict
from incidents.extensions import db
from incidents.models import Unit, User
from incidents.schemas.organisation import UnitCreateSchema
from incidents.schemas.people import UserCreateSchema
from incidents.services import organisation, people


@dataclass(frozen=True)
class DemoUnit:
    key: str
    name: str
    kind: UnitKind
    parent: str | None


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: Role
    unit: str | None
    leads: tuple[str, ...] = ()
    # The units the role is held for (hr, statistics_reader, admin).
    reach: tuple[str, ...] = ()


# Parents before their children.
UNITS = (
    DemoUnit("city", "Demostad (demo)", UnitKind.ORGANISATION, None),
    DemoUnit("north", "Norra stadsdelsförvaltningen (demo)", UnitKind.FORVALTNING, "city"),
    DemoUnit("children", "Socialtjänst barn och unga (demo)", UnitKind.ENHET, "north"),
    DemoUnit("aid", "Ekonomiskt bistånd (demo)", UnitKind.ENHET, "north"),
)

# One person per role; two employees in the same unit, so that reporting on behalf of a
# colleague can be tried, and their manager leading that unit.
PEOPLE = (
    DemoPerson("anna.medarbetare@demo.example", "Anna Medarbetare (demo)", Role.EMPLOYEE,
               "children"),
    DemoPerson("erik.kollega@demo.example", "Erik Kollega (demo)", Role.EMPLOYEE, "children"),
    DemoPerson("maria.chef@demo.example", "Maria Chef (demo)", Role.MANAGER, "children",
               leads=("children",)),
    DemoPerson("hanna.hr@demo.example", "Hanna HR (demo)", Role.HR, "north", reach=("north",)),
    DemoPerson("adam.admin@demo.example", "Adam Admin (demo)", Role.ADMIN, None,
               reach=("city",)),
)


@dataclass
class DemoOrganisation:
    """What was made: the units (root first) and the people, in the order of UNITS and
    PEOPLE."""

    units: list[Unit] = field(default_factory=list)
    users: list[User] = field(default_factory=list)


def check_may_create() -> None:
    """Never in production, and only into a register with no units and no users."""
    if current_app.config["INCIDENTS_ENV"] == "production":
        raise Conflict(
            "The demo organisation is refused when INCIDENTS_ENV is production: demo people "
            "never mix with a real register."
        )
    units = db.session.scalar(select(func.count()).select_from(Unit))
    users = db.session.scalar(select(func.count()).select_from(User))
    if units or users:
        raise Conflict(
            f"The register is not empty (it holds {units} unit(s) and {users} user(s)); the "
            "demo organisation goes only into an empty register."
        )


def create_demo_organisation() -> DemoOrganisation:
    """Make the demo units and people in an empty register (flushed, not committed)."""
    check_may_create()
    made = DemoOrganisation()
    ids: dict[str, int] = {}
    for spec in UNITS:
        data = UnitCreateSchema().load({
            "name": spec.name,
            "kind": spec.kind.value,
            "parent_id": ids[spec.parent] if spec.parent else None,
        })
        unit = organisation.create_unit(data)
        ids[spec.key] = unit.id
        made.units.append(unit)
    for person in PEOPLE:
        data = UserCreateSchema().load({
            "email": person.email,
            "name": person.name,
            "roles": [person.role.value],
            "unit_id": ids[person.unit] if person.unit else None,
            "leads_unit_ids": [ids[key] for key in person.leads],
            **({people.UNIT_FIELDS[person.role]: [ids[key] for key in person.reach]}
               if person.reach else {}),
        })
        made.users.append(people.create_user(data))
    return made
