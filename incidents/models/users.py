"""People: their roles and the units they lead. Identity comes from the token; what a person may
do comes from here."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.domain import ASSIGNED_ROLES, Role, values
from incidents.extensions import db
from incidents.models.base import TimestampMixin, VersionedMixin


class User(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased; tokens are matched on it.
    email: Mapped[str] = mapped_column(String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    unit = relationship("Unit", foreign_keys=[unit_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )
    leadership_rows: Mapped[list[UnitLeader]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UnitLeader.unit_id"
    )
    assignment_rows: Mapped[list[UnitAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin",
        order_by="(UnitAssignment.role, UnitAssignment.unit_id)",
    )

    @property
    def roles(self) -> list[str]:
        return [row.role for row in self.role_rows]

    @property
    def leads_unit_ids(self) -> list[int]:
        return [row.unit_id for row in self.leadership_rows]

    def has_role(self, *roles: str) -> bool:
        held = set(self.roles)
        return any(role in held for role in roles)

    @property
    def hr_unit_ids(self) -> list[int]:
        return self.assigned_unit_ids(Role.HR)

    @property
    def statistics_unit_ids(self) -> list[int]:
        return self.assigned_unit_ids(Role.STATISTICS_READER)

    @property
    def admin_unit_ids(self) -> list[int]:
        return self.assigned_unit_ids(Role.ADMIN)

    def assigned_unit_ids(self, role: str) -> list[int]:
        """The units this person holds ``role`` for (hr, statistics_reader, admin); each reaches
        its subtree. Nothing unless the person also holds the role itself."""
        if not self.has_role(role):
            return []
        return [row.unit_id for row in self.assignment_rows if row.role == role]


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{v}'" for v in values(Role)) + ")", name="role"
        ),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class UnitLeader(db.Model):
    """A manager leads a unit and, through it, every unit below it."""

    __tablename__ = "unit_leaders"
    __table_args__ = (UniqueConstraint("user_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False, index=True)


class UnitAssignment(db.Model):
    """A role held for a part of the organisation: hr, statistics_reader or admin for a unit
    and every unit below it (HR of one district administration, a steering group's reader, an
    organisation's admin)."""

    __tablename__ = "unit_assignments"
    __table_args__ = (
        UniqueConstraint("user_id", "role", "unit_id"),
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r.value}'" for r in ASSIGNED_ROLES) + ")",
            name="assigned_role",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False, index=True)
