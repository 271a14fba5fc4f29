"""Users, their roles and the units each role is held for (administered by admins, each within
the organisations they administer; docs/roles-and-access.md, "Administration"). Every change is
audited with what it was before and after."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from incidents import access
from incidents.access import UnitTree
from incidents.clock import utcnow
from incidents.domain import ASSIGNED_ROLES, REPORTING_ROLES, AuditAction, AuditRecord, Role
from incidents.errors import Conflict, Forbidden, NotFound, field_error
from incidents.extensions import db
from incidents.input_guards import CONTROL_CHARACTERS
from incidents.models import (
    OutboxMail,
    Unit,
    UnitAssignment,
    UnitLeader,
    User,
    UserRole,
    WebSession,
)
from incidents.schemas.common import normalise_email
from incidents.services import audit


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def find_by_email(email: str) -> User | None:
    """The user with this address, normalised as stored (NFKC, lower case): "ａdmin@…" finds
    admin@…. An address that is not ASCII then is nobody's (schemas.common.EmailAddress)."""
    address = normalise_email(email)
    if not address.isascii() or CONTROL_CHARACTERS.search(address):
        return None
    return db.session.scalar(select(User).where(User.email == address))


def find_active(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    return user if user is not None and user.active else None


def colleagues_of(user: User) -> list[User]:
    """Whom a reporter can report for: the active people who may report, in the same unit."""
    if user.unit_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                User.unit_id == user.unit_id,
                User.id != user.id,
                User.active.is_(True),
                UserRole.role.in_([role.value for role in REPORTING_ROLES]),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def list_users(actor: User | None = None, active: bool | None = None) -> list[User]:
    """The people an admin keeps (everyone for the platform admin, or without an actor: the
    command line and the development sign-in)."""
    query = select(User).order_by(User.id)
    if actor is not None:
        query = query.where(access.user_scope(actor))
    if active is not None:
        query = query.where(User.active == active)
    return list(db.session.scalars(query))


def user_for(actor: User, user_id: int) -> User:
    """A person as an admin may see them: 404 for people outside the admin's organisations,
    as for someone who does not exist."""
    user = db.session.scalar(select(User).where(User.id == user_id, access.user_scope(actor)))
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


# The roles held for units, and the field that names the units (manager: the units they lead).
UNIT_FIELDS = {
    Role.MANAGER: "leads_unit_ids",
    Role.HR: "hr_unit_ids",
    Role.STATISTICS_READER: "statistics_unit_ids",
    Role.ADMIN: "admin_unit_ids",
}
# What reaches incidents: another admin must grant it, and the other admins are told.
REACHES_INCIDENTS = (Role.MANAGER, Role.HR)


def units_held(user: User) -> dict[str, list[int]]:
    """Each unit field of a user as the API shows it."""
    held = {"leads_unit_ids": list(user.leads_unit_ids)}
    for role in ASSIGNED_ROLES:
        held[UNIT_FIELDS[role]] = sorted(
            row.unit_id for row in user.assignment_rows if row.role == role)
    return held


def _check_units(field: str, unit_ids: list[int]) -> None:
    if not unit_ids:
        return
    found = set(db.session.scalars(select(Unit.id).where(Unit.id.in_(unit_ids))))
    missing = sorted(set(unit_ids) - found)
    if missing:
        raise field_error(field, f"no such unit: {', '.join(map(str, missing))}")


@dataclass(frozen=True)
class _Snapshot:
    """What an administrative change is audited as: before and after."""

    email: str
    name: str
    unit_id: int | None
    active: bool
    roles: tuple[str, ...]
    units: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, user: User) -> _Snapshot:
        return cls(user.email, user.name, user.unit_id, bool(user.active),
                   tuple(sorted(user.roles)),
                   tuple((k, tuple(v)) for k, v in sorted(units_held(user).items())))

    def changes(self, after: _Snapshot) -> list[str]:
        def shown(value) -> str:
            if isinstance(value, tuple):
                return ", ".join(map(str, value)) or "—"
            return "—" if value is None else str(value)

        out = [f"{name} {shown(getattr(self, name))} → {shown(getattr(after, name))}"
               for name in ("email", "name", "unit_id", "active", "roles")
               if getattr(self, name) != getattr(after, name)]
        before_units, after_units = dict(self.units), dict(after.units)
        out += [f"{key} {shown(before_units.get(key, ()))} → {shown(after_units.get(key, ()))}"
                for key in sorted(set(before_units) | set(after_units))
                if before_units.get(key, ()) != after_units.get(key, ())]
        return out


def _check_actor(actor: User, user: User, data: dict[str, Any], tree: UnitTree) -> None:
    """An admin changes only people and units within the organisations they administer; the
    platform admin role only a platform admin gives; and nobody gives themselves a role that
    reaches incidents (hr, manager) or more units — another admin must (docs/roles-and-access.md,
    "Administration")."""
    wanted_roles = set(data.get("roles", user.roles))
    if user.id is not None and user.has_role(Role.PLATFORM_ADMIN) and not (
            access.is_platform_admin(actor)):
        raise Forbidden("A platform admin is changed only by a platform admin.")
    if Role.PLATFORM_ADMIN in (wanted_roles ^ set(user.roles)) and not access.is_platform_admin(
            actor):
        raise Forbidden("Only a platform admin gives or takes the platform_admin role.",
                        errors={"roles": ["platform_admin: only a platform admin"]})
    unit_fields = [("unit_id", [data["unit_id"]] if data.get("unit_id") is not None else [])]
    unit_fields += [(f, data[f]) for f in UNIT_FIELDS.values() if f in data]
    for field, unit_ids in unit_fields:
        outside = [u for u in unit_ids if not access.administers_unit(actor, tree, u)]
        if outside:
            raise field_error(field, "not a unit you administer: "
                              + ", ".join(map(str, sorted(set(outside)))))
    if "unit_id" in data and data["unit_id"] is None and not access.administers_all(actor, tree):
        raise field_error("unit_id", "only an admin of every organisation keeps people without "
                                     "a unit")
    if user.id is not None and user.id == actor.id:
        held = units_held(user)
        gained = [r for r in wanted_roles - set(user.roles)
                  if r in (*REACHES_INCIDENTS, Role.ADMIN, Role.PLATFORM_ADMIN)]
        widened = [f for f in UNIT_FIELDS.values()
                   if f in data and set(data[f]) - set(held.get(f, []))]
        if gained or widened:
            raise Forbidden(
                "You cannot give yourself a role or units that reach more: another admin must "
                "(" + ", ".join(gained + widened) + ").",
                errors={("roles" if gained else widened[0]): ["another admin must give you this"]},
            )


def _apply(user: User, data: dict[str, Any]) -> None:
    roles = set(data.get("roles", user.roles))
    leads = data.get("leads_unit_ids", user.leads_unit_ids)
    if leads and Role.MANAGER not in roles:
        raise field_error("leads_unit_ids", "only a user with the manager role can lead units")
    held = units_held(user)
    for role in ASSIGNED_ROLES:
        field = UNIT_FIELDS[role]
        if data.get(field) and role not in roles:
            raise field_error(field, f"only a user with the {role} role holds it for units")
        # A role taken away takes its units with it; a role held needs at least one unit.
        units = data.get(field, held[field] if role in roles else [])
        if role in roles and not units:
            raise field_error(field, f"the {role} role is held for at least one unit (the unit "
                                     "and everything below it)")
    if "unit_id" in data:
        _check_units("unit_id", [data["unit_id"]] if data["unit_id"] is not None else [])
        user.unit_id = data["unit_id"]
    if "leads_unit_ids" in data:
        _check_units("leads_unit_ids", data["leads_unit_ids"])
        wanted = set(data["leads_unit_ids"])
        user.leadership_rows = [r for r in user.leadership_rows if r.unit_id in wanted] + [
            UnitLeader(unit_id=u) for u in sorted(wanted - set(user.leads_unit_ids))
        ]
    _assign(user, data, roles, held)
    if "roles" in data:
        user.role_rows = [r for r in user.role_rows if r.role in roles] + [
            UserRole(role=r) for r in sorted(roles - set(user.roles))
        ]
    for field in ("name", "active"):
        if field in data:
            setattr(user, field, data[field])
    if user.id is not None and ("roles" in data or any(f in data for f in UNIT_FIELDS.values())):
        # Roles and units live in other tables; touching the user row bumps its version (the
        # ETag), so two admins cannot silently overwrite each other's role changes.
        user.updated_at = utcnow()


def _assign(user: User, data: dict[str, Any], roles: set[str],
            held: dict[str, list[int]]) -> None:
    """The units each held role is held for: as given, else as before; none for a role
    taken away."""
    wanted: set[tuple[str, int]] = set()
    for role in ASSIGNED_ROLES:
        field = UNIT_FIELDS[role]
        if role in roles:
            if field in data:
                _check_units(field, data[field])
            wanted |= {(role.value, u) for u in data.get(field, held[field])}
    current = {(row.role, row.unit_id) for row in user.assignment_rows}
    user.assignment_rows = [r for r in user.assignment_rows if (r.role, r.unit_id) in wanted] + [
        UnitAssignment(role=r, unit_id=u) for r, u in sorted(wanted - current)
    ]


def _reach_gained(before: _Snapshot | None, user: User) -> list[str]:
    """What the change gave that reaches incidents: the manager or hr role, or more units."""
    after = _Snapshot.of(user)
    before_roles = set(before.roles) if before else set()
    before_units = dict(before.units) if before else {}
    gained = [str(r) for r in REACHES_INCIDENTS if r in after.roles and r not in before_roles]
    for role in REACHES_INCIDENTS:
        field = UNIT_FIELDS[role]
        added = set(dict(after.units).get(field, ())) - set(before_units.get(field, ()))
        if added and str(role) not in gained:
            gained.append(f"{field} +{', '.join(map(str, sorted(added)))}")
    return gained


def _tell_other_admins(actor: User | None, user: User, gained: list[str]) -> None:
    """A role that reaches incidents was given: every other admin who keeps the person (and
    every platform admin) is told, so that no admin gives such reach unseen."""
    tree = UnitTree.load()
    admins = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role.in_([Role.ADMIN.value, Role.PLATFORM_ADMIN.value]),
               User.active.is_(True))
        .distinct().order_by(User.id)
    ).all()
    who = f"admin {actor.name} <{actor.email}>" if actor else "the command line"
    subject = f"Behörighet ändrad / Access changed: {user.name}"
    body = (
        f"{user.name} <{user.email}> har fått behörighet som når händelser: {'; '.join(gained)}.\n"
        f"Ändrat av {who}.\n\n"
        f"{user.name} <{user.email}> was given access that reaches incidents: "
        f"{'; '.join(gained)}.\nChanged by {who}.\n\n"
        "Det här är ett automatiskt meddelande; svara inte på det.\n"
        "This is an automatic message; please do not reply to it.\n"
    )
    for admin in admins:
        if actor is not None and admin.id == actor.id:
            continue
        if not access.administers_unit(admin, tree, user.unit_id):
            continue
        db.session.add(OutboxMail(kind="access_granted", recipient=admin.email,
                                  subject=subject, body=body))


def _audit(actor: User | None, user: User, before: _Snapshot | None) -> None:
    after = _Snapshot.of(user)
    if before is None:
        detail = f"user {user.id} created: " + "; ".join(_Snapshot(
            "", "", None, False, (), ()).changes(after))
        action = AuditAction.CREATE
    else:
        changes = before.changes(after)
        if not changes:
            return
        detail = f"user {user.id}: " + "; ".join(changes)
        action = AuditAction.UPDATE
    audit.record(actor, action, None, detail=detail, record=AuditRecord.USER,
                 unit_id=user.unit_id)


def create_user(data: dict[str, Any], actor: User | None = None) -> User:
    """``actor`` is the admin registering the person; None for the command line (whoever runs
    it on the server administers the deployment)."""
    email = normalise_email(data["email"])
    if find_by_email(email) is not None:
        raise Conflict(
            f"A user with the email {email} already exists.",
            errors={"email": ["already registered"]},
        )
    user = User(email=email, name=data["name"], active=data.get("active", True))
    if actor is not None:
        _check_actor(actor, user, {**data, "unit_id": data.get("unit_id")}, UnitTree.load())
    db.session.add(user)
    _apply(user, {**data, "roles": data["roles"]})
    db.session.flush()
    _audit(actor, user, None)
    gained = _reach_gained(None, user)
    if gained:
        _tell_other_admins(actor, user, gained)
    return user


def update_user(user: User, data: dict[str, Any], actor: User | None = None) -> User:
    """Deactivating keeps the user's reports and history; the person can no longer sign in."""
    before = _Snapshot.of(user)
    if actor is not None:
        tree = UnitTree.load()
        if not access.administers_user(actor, tree, user):
            raise Forbidden(
                "This person also holds roles for units you do not administer; an admin of "
                "those units (or a platform admin) changes them."
            )
        _check_actor(actor, user, data, tree)
    if "email" in data:
        email = normalise_email(data["email"])
        other = find_by_email(email)
        if other is not None and other.id != user.id:
            raise Conflict(
                f"A user with the email {email} already exists.",
                errors={"email": ["already registered"]},
            )
        user.email = email
    _apply(user, data)
    if not user.active:
        # Signed-in pages end at once, not at the session's timeout.
        db.session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    db.session.flush()
    if count_platform_admins() == 0:
        raise Conflict(
            "This change would leave no active platform admin, and nobody could then add an "
            "organisation or give the role; make another user platform admin first.",
            errors={"roles" if "roles" in data else "active": ["last active platform admin"]},
        )
    _audit(actor, user, before)
    gained = _reach_gained(before, user)
    if gained:
        _tell_other_admins(actor, user, gained)
    return user


def count_platform_admins() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(UserRole)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role == Role.PLATFORM_ADMIN.value, User.active.is_(True))
    )
