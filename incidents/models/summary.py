"""Summaries produced on a schedule or on demand, the manager reminder digests, and the lease
that lets only one scheduler process run the jobs.

Every one of these is idempotent by a unique key, so a job that runs twice (two scheduler
processes, a catch-up after a crash) writes nothing the second time.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.clock import utcnow
from incidents.domain import SummaryKind, SummaryOrigin
from incidents.extensions import db
from incidents.models.base import UTCDateTime
from incidents.models.incident import one_of


class Summary(db.Model):
    """One summary per kind, period and scope (``unit:<id>`` for an organisation or a
    förvaltning, ``workshop:<id>`` for a workshop). The tables are kept as they were when it
    was made: a summary is a document of its time, not a live view."""

    __tablename__ = "summaries"
    __table_args__ = (
        UniqueConstraint("kind", "period", "scope"),
        one_of("kind", SummaryKind),
        one_of("origin", SummaryOrigin),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    period: Mapped[str] = mapped_column(String(20), nullable=False)
    scope: Mapped[str] = mapped_column(String(40), nullable=False)
    # The unit an organisation or förvaltning summary covers (with its sub-units).
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # The name of the unit or workshop when the summary was made.
    scope_name: Mapped[str] = mapped_column(String(200), nullable=False)
    period_start: Mapped[date] = mapped_column(Date, nullable=False)
    period_end: Mapped[date] = mapped_column(Date, nullable=False)
    origin: Mapped[str] = mapped_column(String(10), nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, index=True
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)

    files: Mapped[list[SummaryFile]] = relationship(
        cascade="all, delete-orphan", order_by="SummaryFile.name", lazy="selectin"
    )


class SummaryFile(db.Model):
    """A file of a summary: a CSV per table, the workbook, a chart."""

    __tablename__ = "summary_files"
    __table_args__ = (UniqueConstraint("summary_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    summary_id: Mapped[int] = mapped_column(ForeignKey("summaries.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)


class ReminderDigest(db.Model):
    """The daily digest of overdue items mailed to one manager: once per manager and day (in
    the organisation's time zone), however often the job runs."""

    __tablename__ = "reminder_digests"
    __table_args__ = (UniqueConstraint("manager_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    items: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


# The one row of the lease and of the heartbeat: one scheduler per deployment.
SCHEDULER_ROW = "scheduler"


class SchedulerLease(db.Model):
    """The one scheduler process allowed to run jobs holds this lease and renews it; another
    process waits until it runs out: one active scheduler, elected through the database
    (docs/operations.md)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100), nullable=False)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class SchedulerHeartbeat(db.Model):
    """The sign of life of the scheduler that holds the lease: written each time it renews the
    lease, while its job scheduler runs. Kept after it stops (``stopped_at``), so readiness can
    tell a scheduler that stopped or died from one that never ran (docs/operations.md)."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # host:pid of the process, never a person.
    holder: Mapped[str] = mapped_column(String(100), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SchedulerJobStatus(db.Model):
    """How each scheduled job last went: when it last succeeded and failed, and by when its
    next success is due (``late_after``, from its timetable) before readiness calls it late.
    ``last_error`` names the kind of error only, never its message, which can carry what a
    reporter wrote or an address."""

    __tablename__ = "scheduler_job_status"

    job_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    late_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
