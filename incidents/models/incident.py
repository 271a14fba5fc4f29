"""An incident of unauthorised influence as reported, with its forms."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.domain import (
    Category,
    Channel,
    IncidentStatus,
    Location,
    PerceivedPurpose,
    Perpetrator,
    PoliceFlag,
    PoliceWish,
    TargetedMatter,
    values,
)
from incidents.extensions import db
from incidents.models.base import TimestampMixin, UTCDateTime, VersionedMixin


def one_of(column: str, enum: type[StrEnum], name: str | None = None) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values(enum))
    return CheckConstraint(f"{column} IN ({allowed})", name=name or column)


class Incident(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("reference"),
        one_of("category", Category),
        one_of("status", IncidentStatus),
        one_of("perceived_influence_purpose", PerceivedPurpose),
        one_of("location", Location),
        one_of("perpetrator", Perpetrator),
        one_of("channel", Channel),
        one_of("targeted_matter", TargetedMatter),
        one_of("police_flag", PoliceFlag),
        one_of("police_wanted", PoliceWish),
        # An anonymous report has no reporter and names nobody it was made for; a named one
        # loses its reporter only when the retention job anonymises it.
        CheckConstraint(
            "(anonymous AND reporter_id IS NULL AND on_behalf_of_id IS NULL) "
            "OR (NOT anonymous AND (reporter_id IS NOT NULL OR anonymised_at IS NOT NULL))",
            name="anonymous_has_no_reporter",
        ),
        # The keyset order of incident lists (occurred_at desc, id desc), scanned backwards: for
        # everyone, per unit (a manager's units), and per person in either role of "my
        # reports" (an employee's scope), so each list seeks to its cursor instead of
        # filtering (docs/performance.md).
        Index("ix_incidents_occurred_at_id", "occurred_at", "id"),
        Index("ix_incidents_unit_id_occurred_at_id", "unit_id", "occurred_at", "id"),
        Index("ix_incidents_reporter_id_occurred_at_id", "reporter_id", "occurred_at", "id"),
        Index("ix_incidents_on_behalf_of_id_occurred_at_id", "on_behalf_of_id", "occurred_at",
              "id"),
        Index("ix_incidents_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="reported")

    category: Mapped[str] = mapped_column(String(20), nullable=False)
    subcategory: Mapped[str | None] = mapped_column(String(40))
    perceived_influence_purpose: Mapped[str] = mapped_column(String(10), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    location: Mapped[str | None] = mapped_column(String(20))
    perpetrator: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    targeted_matter: Mapped[str | None] = mapped_column(String(30))
    family_targeted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    injured: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sick_leave: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ia_reported: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ia_reference: Mapped[str | None] = mapped_column(String(100))
    police_flag: Mapped[str] = mapped_column(String(20), nullable=False)
    # The reporter's wish about the police; null when not answered (older and some anonymous
    # reports). Information for the police decision, not a rule: the flag ignores it.
    police_wanted: Mapped[str | None] = mapped_column(String(10))

    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the retention job removed the free text and the links to people
    # (services/retention.py); what statistics need is kept.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Null only for an anonymous report: nothing stored with it points back to the reporter.
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The exposed colleague when someone else reported for them.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    forms: Mapped[list[IncidentForm]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="IncidentForm.category"
    )
    unit = relationship("Unit")

    @property
    def additional_categories(self) -> list[str]:
        return [form.category for form in self.forms if not form.is_primary]

    @hybrid_property
    def exposed_user_id(self) -> int | None:
        """The exposed employee: the colleague reported for, else the reporter (unknown, None,
        for an anonymous report). The same rule in SQL (below) and in Python."""
        return self.on_behalf_of_id or self.reporter_id

    @exposed_user_id.inplace.expression
    @classmethod
    def _exposed_user_id_expression(cls):
        return func.coalesce(cls.on_behalf_of_id, cls.reporter_id)


class IncidentForm(db.Model):
    """Every form an incident carries, the primary one included. An incident counts once under
    each of its forms in by-form statistics (docs/statistics.md)."""

    __tablename__ = "incident_forms"
    __table_args__ = (one_of("category", Category),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ReferenceCounter(db.Model):
    """The last reference number handed out per year; references are sequential per year and
    never reused (the counter only moves forward, in the same transaction as the incident)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
