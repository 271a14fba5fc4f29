"""The organisation tree (organisation → förvaltning → avdelning → enhet) and head-counts."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.domain import UnitKind, values
from incidents.extensions import db
from incidents.models.base import TimestampMixin, VersionedMixin


class Unit(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{v}'" for v in values(UnitKind)) + ")", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id"), nullable=True, index=True
    )

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.name")
    headcounts: Mapped[list[Headcount]] = relationship(
        back_populates="unit", order_by="Headcount.year", cascade="all, delete-orphan"
    )


class Headcount(db.Model):
    """Employees in a unit in a year: the denominator for rates per 100 employees."""

    __tablename__ = "unit_headcounts"
    __table_args__ = (
        UniqueConstraint("unit_id", "year"),
        CheckConstraint("count >= 0", name="count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)

    unit: Mapped[Unit] = relationship(back_populates="headcounts")


def subtree_ids_query(root_ids):
    """A recursive query for the given units and every unit below them (works on SQLite and
    PostgreSQL). ``root_ids`` may be a list or a scalar subquery of unit ids."""
    # Anonymous: one statement may hold several subtrees (a scope and a filter).
    tree = select(Unit.id).where(Unit.id.in_(root_ids)).cte(recursive=True)
    tree = tree.union(select(Unit.id).where(Unit.parent_id == tree.c.id))
    return select(tree.c.id)
