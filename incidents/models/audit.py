"""The audit trail: append-only. No endpoint changes it, and the database refuses UPDATE and
DELETE on it (a trigger, created by the migration, on PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from incidents.clock import utcnow
from incidents.domain import AuditAction, AuditOutcome, values
from incidents.extensions import db
from incidents.models.base import UTCDateTime


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (
        CheckConstraint(
            "action IN (" + ", ".join(f"'{v}'" for v in values(AuditAction)) + ")",
            name="action",
        ),
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{v}'" for v in values(AuditOutcome)) + ")",
            name="outcome",
        ),
        Index("ix_audit_entries_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # Plain integers, not foreign keys: the trail must outlive and never block what it records,
    # and a denied access may name an id that does not exist.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20), nullable=False)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(10), nullable=False)
    # Which fields changed, or why access was denied; never incident content.
    detail: Mapped[str | None] = mapped_column(String(500))
