"""What the anonymous channel holds until the next full hour (services/anonymous.py).

A submission, a reporter's message or a reporter's read is not written where it belongs when it
arrives: ids, audit order and mail times would place it to the second among named activity. It
waits here instead, with a random id and only the hour it arrived, and the hourly publication
writes it out with everything else of that hour, in random order, and deletes the row.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from incidents.domain import values
from incidents.extensions import db
from incidents.models.base import UTCDateTime


class HeldKind(StrEnum):
    REPORT = "report"
    MESSAGE = "message"
    READ = "read"


class AnonymousPending(db.Model):
    """One held item of the anonymous channel: a report (with its reserved reference and the
    hash of its receipt code), a message from the reporter, or a read of the status or the
    messages (audited when published)."""

    __tablename__ = "anonymous_pending"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{v}'" for v in values(HeldKind)) + ")", name="kind"
        ),
        CheckConstraint("(kind = 'report') = (code_hash IS NOT NULL)",
                        name="report_has_code_hash"),
        # A reference is reserved by one held report at most (and by no incident: checked when
        # it is drawn, services/anonymous.py).
        Index("ix_anonymous_pending_report_reference", "reference", unique=True,
              postgresql_where=text("kind = 'report'"), sqlite_where=text("kind = 'report'")),
        Index("ix_anonymous_pending_reference", "reference"),
        Index("ix_anonymous_pending_received_hour", "received_hour"),
    )

    # Random, so that the order of the rows says nothing about the order they came in.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    reference: Mapped[str] = mapped_column(String(20), nullable=False)
    # What was validated at submission: the report's fields, a message's body and its place
    # among the reporter's held messages, or which read it was.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    # The full hour it arrived in: all that is kept of when.
    received_hour: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Publication attempts that failed, and the kind of the last error (never its text).
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
