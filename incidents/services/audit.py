"""Audit trail of incident data: every create, read of one incident, update and denied access
(docs/roles-and-access.md, "Audit trail")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from incidents.clock import utcnow
from incidents.domain import AuditAction, AuditOutcome
from incidents.errors import DomainError
from incidents.extensions import db
from incidents.models import AuditEntry, User
from incidents.services import audit_chain


def record(
    actor: User | None,
    action: AuditAction,
    incident_id: int | None,
    outcome: AuditOutcome = AuditOutcome.OK,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """``at`` defaults to now; the anonymous channel passes the hour its item arrived in, and
    writes its entries only when the item is published at the full hour (services/anonymous.py),
    so neither the time nor the place in the trail says more than the hour."""
    salt, commitment = audit_chain.actor_commitment(actor.id if actor else None)
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_salt=salt,
        actor_commitment=commitment,
        action=action.value,
        incident_id=incident_id,
        outcome=outcome.value,
        detail=detail[:500] if detail else None,
    )
    db.session.add(entry)
    return entry


def denied(error: DomainError, actor: User, incident_id: int, detail: str) -> DomainError:
    """Attach a denied-access entry to an error. The request's own changes are rolled back, but
    this entry must survive the rollback, so the request boundary writes it afterwards."""
    pending = getattr(error, "audit_after_rollback", [])
    salt, commitment = audit_chain.actor_commitment(actor.id)
    pending.append(
        {
            "actor_id": actor.id,
            "actor_salt": salt,
            "actor_commitment": commitment,
            "action": AuditAction.ACCESS_DENIED.value,
            "incident_id": incident_id,
            "outcome": AuditOutcome.DENIED.value,
            "detail": detail,
        }
    )
    error.audit_after_rollback = pending
    return error


def write_after_rollback(error: BaseException) -> None:
    for values in getattr(error, "audit_after_rollback", []):
        db.session.add(AuditEntry(**values))
    if getattr(error, "audit_after_rollback", None):
        db.session.commit()


def entries(incident_id: int | None, after_id: int | None, limit: int) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if incident_id is not None:
        query = query.where(AuditEntry.incident_id == incident_id)
    if after_id is not None:
        query = query.where(AuditEntry.id > after_id)
    return list(db.session.scalars(query.limit(limit)))
