"""The message thread between the reporter and the case handlers, and the receipt that lets an
anonymous reporter into it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from incidents.clock import utcnow
from incidents.domain import MessageSender, values
from incidents.extensions import db
from incidents.models.base import UTCDateTime


class Message(db.Model):
    """One message; append-only. A reporter's message has no author when the report is
    anonymous; a case handler's message names the handler (shown to handlers only)."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(
            "sender IN (" + ", ".join(f"'{v}'" for v in values(MessageSender)) + ")",
            name="sender",
        ),
        CheckConstraint(
            "sender = 'reporter' OR author_id IS NOT NULL", name="handler_message_has_author"
        ),
        Index("ix_messages_incident_id_id", "incident_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), nullable=False)
    sender: Mapped[str] = mapped_column(String(20), nullable=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)


class AnonymousReceipt(db.Model):
    """The hash of an anonymous report's receipt code. The code itself is shown once, to the
    reporter, and never stored; it is long and random, so SHA-256 of it cannot be reversed by
    guessing."""

    __tablename__ = "anonymous_receipts"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
