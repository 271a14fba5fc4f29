"""Builders for test data, and a small organisation most tests share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from incidents.auth import issue_local_token
from incidents.domain import ASSIGNED_ROLES
from incidents.models import Unit, UnitAssignment, UnitLeader, User, UserRole, Workshop
from incidents.services import reporting, workshops

_seq = itertools.count(1)

# Named frozen times (CTFd's idea): what "now" is in tests that freeze the clock.
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


class Factory:
    def __init__(self, app, session):
        self.app = app
        self.session = session

    def unit(self, name: str | None = None, kind: str = "enhet", parent: Unit | None = None):
        unit = Unit(name=name or f"Unit {next(_seq)}", kind=kind, parent_id=parent and parent.id)
        self.session.add(unit)
        self.session.commit()
        return unit

    def user(
        self,
        *roles: str,
        unit: Unit | None = None,
        leads: tuple[Unit, ...] = (),
        reach: tuple[Unit, ...] | None = None,
        email: str | None = None,
        active: bool = True,
    ) -> User:
        """A user with these roles. hr, statistics_reader and admin are held for ``reach``
        (default: every root that exists now, as the migration gave existing hr)."""
        n = next(_seq)
        user = User(
            email=email or f"user{n}@stad.example",
            name=f"Person {n}",
            unit_id=unit and unit.id,
            active=active,
        )
        user.role_rows = [UserRole(role=r) for r in (roles or ("employee",))]
        user.leadership_rows = [UnitLeader(unit_id=u.id) for u in leads]
        if reach is None:
            roots = self.session.scalars(select(Unit).where(Unit.parent_id.is_(None))).all()
            reach = tuple(roots)
        user.assignment_rows = [
            UnitAssignment(role=r, unit_id=u.id)
            for r in dict.fromkeys(roles) if r in {a.value for a in ASSIGNED_ROLES}
            for u in reach
        ]
        self.session.add(user)
        self.session.commit()
        return user

    def token(self, user: User, hours: int | None = None) -> str:
        return issue_local_token(user, hours)

    def headers(self, user: User, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}", **extra}

    def incident(self, reporter: User, unit: Unit, **overrides):
        data = {
            "category": "threat",
            "perceived_influence_purpose": "yes",
            "occurred_at": datetime.now(UTC) - timedelta(hours=2),
            "unit_id": unit.id,
            "description": "The client said he knows where I live.",
            **overrides,
        }
        incident = reporting.report_incident(reporter, data)
        self.session.commit()
        return incident

    def workshop(self, hr: User, units: list[Unit], hours_open: float = 3, **overrides):
        """A workshop set up through the service; its rating window opened an hour ago (or at
        ``opens_at``) and stays open ``hours_open``."""
        now = datetime.now(UTC)
        opens_at = overrides.pop("opens_at", now - timedelta(hours=1))
        data = {
            "title": "Workshop om otillåten påverkan",
            "held_on": now.date(),
            "unit_ids": [unit.id for unit in units],
            "expected_participants": 30,
            "opens_at": opens_at,
            "closes_at": opens_at + timedelta(hours=hours_open),
            **overrides,
        }
        created = workshops.create_workshop(hr, data)
        self.session.commit()
        return self.session.get(Workshop, created["id"])


@dataclass
class Org:
    """organisation → förvaltning → avdelning A (A1, A2) and avdelning B (B1)."""

    root: Unit
    forv: Unit
    dept_a: Unit
    a1: Unit
    a2: Unit
    dept_b: Unit
    b1: Unit
    employee_a1: User
    colleague_a1: User
    employee_b1: User
    manager_a: User  # leads avdelning A, so A1 and A2 too
    manager_b1: User
    hr: User
    admin: User
    admin_hr: User
    platform_admin: User


def build_org(make: Factory) -> Org:
    root = make.unit("Staden", "organisation")
    forv = make.unit("Socialförvaltningen", "forvaltning", root)
    dept_a = make.unit("Avdelning A", "avdelning", forv)
    a1 = make.unit("Enhet A1", "enhet", dept_a)
    a2 = make.unit("Enhet A2", "enhet", dept_a)
    dept_b = make.unit("Avdelning B", "avdelning", forv)
    b1 = make.unit("Enhet B1", "enhet", dept_b)
    return Org(
        root=root,
        forv=forv,
        dept_a=dept_a,
        a1=a1,
        a2=a2,
        dept_b=dept_b,
        b1=b1,
        employee_a1=make.user("employee", unit=a1),
        colleague_a1=make.user("employee", unit=a1),
        employee_b1=make.user("employee", unit=b1),
        manager_a=make.user("employee", "manager", unit=dept_a, leads=(dept_a,)),
        manager_b1=make.user("employee", "manager", unit=b1, leads=(b1,)),
        hr=make.user("employee", "hr", unit=forv),
        admin=make.user("admin"),
        admin_hr=make.user("admin", "hr"),
        platform_admin=make.user("platform_admin"),
    )
