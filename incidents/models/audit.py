"""The audit trail: append-only. No endpoint changes it, and the database refuses UPDATE, DELETE
and TRUNCATE on it (triggers, created by the migrations, on PostgreSQL and SQLite), but for two
narrow updates: sealing an entry into the hash chain once (services/audit_chain.py), and
retention removing the actor of an anonymised incident's entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from incidents import request_id as request_ids
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
        # The entries not yet sealed into the chain: only those of transactions in flight.
        Index("ix_audit_entries_unsealed", "id", postgresql_where=text("chain_index IS NULL"),
              sqlite_where=text("chain_index IS NULL")),
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
    # Which kind of record was read or changed (``AuditRecord``): what decides who may list the
    # entry (access.audit_scope). NULL on entries written before it was recorded.
    record: Mapped[str | None] = mapped_column(String(40))
    # The unit the record belongs to (a user's, a unit itself, a survey's first unit), for the
    # entries that name no incident: whose subtree the entry is in.
    unit_id: Mapped[int | None] = mapped_column(Integer)
    # The request it was written in (incidents/request_id.py), to find its log lines; none
    # outside a request and on the anonymous channel. Retention removes it with the actor.
    request_id: Mapped[str | None] = mapped_column(String(64), default=request_ids.current)
    # The hash chain (services/audit_chain.py): each entry, in commit order, holds the hash of
    # the one before; set once, when its transaction commits.
    chain_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    # The actor as the chain sees it: a salted hash. Retention removes the actor and the salt,
    # and the commitment alone cannot be turned back into the actor.
    actor_salt: Mapped[str | None] = mapped_column(String(32))
    actor_commitment: Mapped[str | None] = mapped_column(String(64))
