"""What happens after a report: status history, follow-up, support, check-ins, the employee's
evaluation, the police report and the reports to authorities."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from incidents.clock import utcnow
from incidents.domain import (
    ContactAddress,
    FiledBy,
    FollowUpType,
    IncidentStatus,
    PoliceDecision,
    PoliceOutcome,
    Rating3,
    SupportType,
)
from incidents.extensions import db
from incidents.models.base import TimestampMixin, UTCDateTime, VersionedMixin
from incidents.models.incident import one_of


class StatusChange(db.Model):
    """Every move of an incident through its life cycle, with who, when and why."""

    __tablename__ = "status_changes"
    __table_args__ = (
        one_of("to_status", IncidentStatus),
        Index("ix_status_changes_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)


class FollowUpEntry(db.Model):
    """A dated note by a case handler. Append-only: a correction is a new entry pointing to the
    entry it corrects."""

    __tablename__ = "follow_up_entries"
    __table_args__ = (
        one_of("type", FollowUpType),
        Index("ix_follow_up_entries_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), nullable=False)
    type: Mapped[str] = mapped_column(String(30), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("follow_up_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class SupportMeasure(TimestampMixin, VersionedMixin, db.Model):
    """Support offered to the exposed employee. Support is voluntary: accepted=false is a
    recorded answer, not an error; accepted=null means not yet answered."""

    __tablename__ = "support_measures"
    __table_args__ = (one_of("type", SupportType),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id"), nullable=False, index=True
    )
    type: Mapped[str] = mapped_column(String(30), nullable=False)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    offered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class SupportDecline(db.Model):
    """The exposed employee declined all support; recorded by the case handler. Counts as the
    support decision a case needs to close."""

    __tablename__ = "support_declines"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    declined_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class CheckIn(VersionedMixin, db.Model):
    """A scheduled contact with the exposed employee, so support is not short-lived."""

    __tablename__ = "check_ins"
    __table_args__ = (
        UniqueConstraint("incident_id", "offset_label"),
        Index("ix_check_ins_due_at_open", "due_at", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id"), nullable=False, index=True
    )
    offset_label: Mapped[str] = mapped_column(String(10), nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)


class SupportEvaluation(TimestampMixin, VersionedMixin, db.Model):
    """The exposed employee's own verdict on the support: enough, relevant, supported?"""

    __tablename__ = "support_evaluations"
    __table_args__ = (
        one_of("sufficient", Rating3),
        one_of("relevant", Rating3),
        CheckConstraint(
            "felt_supported_by_employer BETWEEN 1 AND 5", name="felt_supported_range"
        ),
    )

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    sufficient: Mapped[str] = mapped_column(String(10), nullable=False)
    relevant: Mapped[str] = mapped_column(String(10), nullable=False)
    felt_supported_by_employer: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    # The exposed employee's own; removed by retention (services/retention.py).
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PoliceReport(TimestampMixin, VersionedMixin, db.Model):
    """The decision on and tracking of a police report (polisanmälan). No personnummer: the
    register records that the employee is the injured party, nothing more."""

    __tablename__ = "police_reports"
    __table_args__ = (
        one_of("decision", PoliceDecision),
        one_of("filed_by", FiledBy),
        one_of("contact_address", ContactAddress),
    )

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filed_by: Mapped[str | None] = mapped_column(String(20))
    contact_address: Mapped[str | None] = mapped_column(String(10))
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    police_reference: Mapped[str | None] = mapped_column(String(100))


class PoliceOutcomeEntry(db.Model):
    """One step in the history of a police report's outcome."""

    __tablename__ = "police_outcomes"
    __table_args__ = (
        one_of("outcome", PoliceOutcome),
        Index("ix_police_outcomes_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), nullable=False)
    outcome: Mapped[str] = mapped_column(String(30), nullable=False)
    reached_on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AuthorityReport(TimestampMixin, VersionedMixin, db.Model):
    """Reports to authorities: Arbetsmiljöverket (AML 3 kap. 3 a §, serious incidents, without
    delay), Försäkringskassan (work injuries), the safety representative (skyddsombud), and the
    employer's own investigation (AFS 2023:2)."""

    __tablename__ = "authority_reports"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    # None: the manager has not decided, and the rule's proposal applies.
    serious: Mapped[bool | None] = mapped_column(Boolean)
    work_environment_authority_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    work_environment_authority_reference: Mapped[str | None] = mapped_column(String(100))
    work_injury_report_filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    work_injury_report_reference: Mapped[str | None] = mapped_column(String(100))
    safety_representative_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    investigation_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
