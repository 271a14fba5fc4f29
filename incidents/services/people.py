"""Users, their roles and the units they lead (administered by admins)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from incidents.clock import utcnow
from incidents.domain import REPORTING_ROLES, Role
from incidents.errors import Conflict, NotFound, field_error
from incidents.extensions import db
from incidents.input_guards import CONTROL_CHARACTERS
from incidents.models import Unit, UnitLeader, User, UserRole, WebSession
from incidents.schemas.common import normalise_email


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


def list_users(active: bool | None = None) -> list[User]:
    query = select(User).order_by(User.id)
    if active is not None:
        query = query.where(User.active == active)
    return list(db.session.scalars(query))


def _check_units(field: str, unit_ids: list[int]) -> None:
    if not unit_ids:
        return
    found = set(db.session.scalars(select(Unit.id).where(Unit.id.in_(unit_ids))))
    missing = sorted(set(unit_ids) - found)
    if missing:
        raise field_error(field, f"no such unit: {', '.join(map(str, missing))}")


def _apply(user: User, data: dict[str, Any]) -> None:
    roles = data.get("roles", user.roles)
    leads = data.get("leads_unit_ids", user.leads_unit_ids)
    if leads and Role.MANAGER not in roles:
        raise field_error("leads_unit_ids", "only a user with the manager role can lead units")
    if "unit_id" in data:
        _check_units("unit_id", [data["unit_id"]] if data["unit_id"] is not None else [])
        user.unit_id = data["unit_id"]
    if "leads_unit_ids" in data:
        _check_units("leads_unit_ids", data["leads_unit_ids"])
        wanted = set(data["leads_unit_ids"])
        user.leadership_rows = [r for r in user.leadership_rows if r.unit_id in wanted] + [
            UnitLeader(unit_id=u) for u in sorted(wanted - set(user.leads_unit_ids))
        ]
    if "roles" in data:
        wanted_roles = set(data["roles"])
        user.role_rows = [r for r in user.role_rows if r.role in wanted_roles] + [
            UserRole(role=r) for r in sorted(wanted_roles - set(user.roles))
        ]
    for field in ("name", "active"):
        if field in data:
            setattr(user, field, data[field])
    if user.id is not None and ("roles" in data or "leads_unit_ids" in data):
        # Roles and leadership live in other tables; touching the user row bumps its version
        # (the ETag), so two admins cannot silently overwrite each other's role changes.
        user.updated_at = utcnow()


def create_user(data: dict[str, Any]) -> User:
    email = normalise_email(data["email"])
    if find_by_email(email) is not None:
        raise Conflict(
            f"A user with the email {email} already exists.",
            errors={"email": ["already registered"]},
        )
    user = User(email=email, name=data["name"], active=data.get("active", True))
    db.session.add(user)
    _apply(user, {**data, "roles": data["roles"]})
    db.session.flush()
    return user


def update_user(user: User, data: dict[str, Any]) -> User:
    """Deactivating keeps the user's reports and history; the person can no longer sign in."""
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
    if count_admins() == 0:
        raise Conflict(
            "This change would leave no active admin; make another user admin first.",
            errors={"roles" if "roles" in data else "active": ["last active admin"]},
        )
    return user


def count_admins() -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(UserRole)
        .join(User, User.id == UserRole.user_id)
        .where(UserRole.role == Role.ADMIN, User.active.is_(True))
    )
