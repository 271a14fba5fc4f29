"""Notification mails waiting to be sent (the transactional outbox).

A change and the mail about it are written in the same transaction, so a mail exists exactly
when its change was committed; a sender outside the request delivers it later, with retries.
No foreign keys: a mail is addressed to an address, and the trail of what was sent must not
block anonymising or removing what it was about.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from incidents import request_id as request_ids
from incidents.clock import utcnow
from incidents.domain import OutboxStatus, values
from incidents.extensions import db
from incidents.models.base import UTCDateTime


class OutboxMail(db.Model):
    __tablename__ = "outbox_mails"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{v}'" for v in values(OutboxStatus)) + ")",
            name="status",
        ),
        # What a sender looks for: due pending mails, and claims whose lease ran out.
        Index("ix_outbox_mails_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # new_incident, status_changed, new_message, …: what the mail is about, for operators.
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    incident_id: Mapped[int | None] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(
        String(10), nullable=False, default=OutboxStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), nullable=False, default=utcnow
    )
    # The sender holding a claim and until when; another sender may take over only after it.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The request that queued the mail (incidents/request_id.py), sent as its X-Request-Id
    # header; none for mails queued by the scheduler or the anonymous channel.
    request_id: Mapped[str | None] = mapped_column(String(64), default=request_ids.current)
