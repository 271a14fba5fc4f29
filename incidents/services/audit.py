"""Audit trail of incident data: every create, read of one incident, update and denied access
(docs/roles-and-access.md, "Audit trail")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, or_, select

from incidents import access
from incidents.clock import utcnow
from incidents.domain import AuditAction, AuditOutcome, AuditRecord
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
    *,
    record: AuditRecord | None = None,
    unit_id: int | None = None,
) -> int:
    """Write one entry; its id. ``at`` defaults to now; the anonymous channel passes the hour
    its item arrived in, and writes its entries only when the item is published at the full
    hour (services/anonymous.py), so neither the time nor the place in the trail says more
    than the hour.

    ``record`` is the kind of record read or changed (``AuditRecord``) and ``unit_id``, for an
    entry naming no incident, the unit the record belongs to: together they decide who may list
    the entry (access.audit_scope). ``detail`` says what was done, never a fact of the case."""
    salt, commitment = audit_chain.actor_commitment(actor.id if actor else None)
    # Inserted now, as one statement of the table: the ORM's unit of work cost a read twice
    # this insert's time (docs/performance.md). What the session still holds goes first (the
    # entry may name an incident not yet flushed).
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.flush()
    written = session.execute(insert(AuditEntry.__table__).values(
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_salt=salt,
        actor_commitment=commitment,
        action=action.value,
        incident_id=incident_id,
        outcome=outcome.value,
        detail=detail[:500] if detail else None,
        record=AuditRecord(record).value if record is not None else None,
        unit_id=unit_id,
    ))
    return written.inserted_primary_key[0]


def denied(
    error: DomainError, actor: User, incident_id: int, detail: str, *, record: AuditRecord
) -> DomainError:
    """Attach a denied-access entry to an error. The request's own changes are rolled back, but
    this entry must survive the rollback, so the request boundary writes it afterwards.
    ``record`` is the kind of record that was asked for (who may list the entry follows)."""
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
            "record": AuditRecord(record).value,
        }
    )
    error.audit_after_rollback = pending
    return error


def write_after_rollback(error: BaseException) -> None:
    for values in getattr(error, "audit_after_rollback", []):
        db.session.add(AuditEntry(**values))
    if getattr(error, "audit_after_rollback", None):
        db.session.commit()


def entries(
    user: User, incident_id: int | None, after_id: int | None, limit: int
) -> list[AuditEntry]:
    """The entries the user may list (access.audit_scope), in order of id; optionally for one
    incident, after an id. Someone who may list nothing gets an empty list."""
    query = select(AuditEntry).where(access.audit_scope(user)).order_by(AuditEntry.id)
    if incident_id is not None:
        query = query.where(AuditEntry.incident_id == incident_id)
    if after_id is not None:
        query = query.where(AuditEntry.id > after_id)
    return list(db.session.scalars(query.limit(limit)))


def about_my_case(user: User, incident_id: int, limit: int = 50) -> list[dict]:
    """For the report's own page: the latest entries about the incident that the user may list
    (access.audit_scope) written by someone else, newest first, each with its actor's name
    (None for the service itself)."""
    found = list(db.session.scalars(
        select(AuditEntry)
        .where(access.audit_scope(user), AuditEntry.incident_id == incident_id,
               or_(AuditEntry.actor_id.is_(None), AuditEntry.actor_id != user.id))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ))
    actor_ids = {entry.actor_id for entry in found if entry.actor_id is not None}
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_(actor_ids))).all()
    ) if actor_ids else {}
    return [{"at": entry.at, "action": entry.action, "record": entry.record,
             "actor": names.get(entry.actor_id)} for entry in found]
