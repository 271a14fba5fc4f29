"""The incident life cycle: reported → acknowledged → in_follow_up → closed (→ reopened to
in_follow_up), as docs/domain.md describes it; any other move is a 409 that says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import exists, select

from incidents.clock import to_local, utcnow
from incidents.domain import (
    AuditRecord,
    ClosingItem,
    FollowUpType,
    IncidentStatus,
    MessageSender,
    Missing,
)
from incidents.errors import Conflict
from incidents.extensions import db
from incidents.models import (
    CheckIn,
    FollowUpEntry,
    Incident,
    Message,
    StatusChange,
    SupportDecline,
    SupportMeasure,
    User,
)
from incidents.services import case_access, notifications, settings
from incidents.services.records import OverdueRule

S = IncidentStatus


def change_status(incident: Incident, to: IncidentStatus, by: User, reason: str | None = None):
    """Every status change is kept in the history, and the reporter hears of it by mail."""
    db.session.add(
        StatusChange(
            incident_id=incident.id,
            from_status=incident.status,
            to_status=to.value,
            by_id=by.id,
            reason=reason,
        )
    )
    incident.status = to.value
    notifications.status_changed(incident, to, by)


def add_offset(moment: datetime, offset: str) -> datetime:
    """"1d", "2w", "3m" after a moment, on the organisation's wall clock: a check-in a month
    after 10:00 on 31 January is due at 10:00 on 28 February, whatever daylight saving did."""
    number, unit = int(offset[:-1]), offset[-1]
    local = to_local(moment)
    if unit == "d":
        later = local + timedelta(days=number)
    elif unit == "w":
        later = local + timedelta(weeks=number)
    else:
        later = local + relativedelta(months=number)
    return later.replace(tzinfo=local.tzinfo).astimezone(UTC)


def schedule_check_ins(incident: Incident) -> list[CheckIn]:
    """Support must not be short-lived: check-ins with the exposed employee at the configured
    offsets from the incident (default 1 day, 1 week, 1 month, 3 months). An anonymous report
    has nobody known to check in with: its handlers reach the reporter through messages."""
    if incident.anonymous:
        return []
    existing = set(
        db.session.scalars(select(CheckIn.offset_label).where(CheckIn.incident_id == incident.id))
    )
    created = []
    for offset in settings.value("CHECK_IN_OFFSETS"):
        if offset in existing:
            continue
        check_in = CheckIn(
            incident_id=incident.id,
            offset_label=offset,
            due_at=add_offset(incident.occurred_at, offset),
        )
        db.session.add(check_in)
        created.append(check_in)
    return created


def acknowledge(user: User, incident_id: int) -> Incident:
    incident = case_access.for_handler(user, incident_id, "acknowledge the incident",
                                       AuditRecord.STATUS)
    if incident.status != S.REPORTED:
        raise Conflict(
            f"The incident is already {incident.status}; only a reported incident can be "
            "acknowledged.",
            errors={"status": [incident.status]},
        )
    incident.acknowledged_at = utcnow()
    incident.acknowledged_by_id = user.id
    change_status(incident, S.ACKNOWLEDGED, user)
    schedule_check_ins(incident)
    case_access.record_change(user, incident, "acknowledged", AuditRecord.STATUS)
    db.session.flush()
    return incident


def missing_for_close(incident: Incident) -> list[str]:
    """Everything a case still needs before it may close (docs/domain.md)."""
    from incidents.services import authority, police

    missing = _missing_anonymous(incident) if incident.anonymous else _missing_named(incident)
    missing += police.missing_for_close(incident)
    missing += authority.missing_for_close(incident)
    return missing


def _missing_anonymous(incident: Incident) -> list[str]:
    """Nobody is known to hold a conversation with or to decide on support: the handlers must
    have documented what they did and have answered the reporter through the message thread,
    where support can be offered."""
    missing = []
    if not db.session.scalar(select(exists().where(FollowUpEntry.incident_id == incident.id))):
        missing.append(Missing("a follow-up entry documenting what was done",
                               ClosingItem.FOLLOW_UP))
    answered = db.session.scalar(
        select(
            exists().where(
                Message.incident_id == incident.id,
                Message.sender == MessageSender.CASE_HANDLER,
            )
        )
    )
    if not answered:
        missing.append(Missing(
            "a message to the anonymous reporter (where support can be offered)",
            ClosingItem.ANONYMOUS_ANSWER))
    return missing


def _missing_named(incident: Incident) -> list[str]:
    missing = []
    has_conversation = db.session.scalar(
        select(
            exists().where(
                FollowUpEntry.incident_id == incident.id,
                FollowUpEntry.type == FollowUpType.CONVERSATION,
            )
        )
    )
    if not has_conversation:
        missing.append(Missing("a follow-up entry of type conversation with the exposed employee",
                               ClosingItem.CONVERSATION))
    # A support decision is support given or declined, recorded: an offer nobody has answered
    # yet is not a decision.
    has_support_decision = db.session.scalar(
        select(
            exists().where(
                SupportMeasure.incident_id == incident.id, SupportMeasure.accepted.is_not(None)
            )
        )
    ) or db.session.get(SupportDecline, incident.id) is not None
    if not has_support_decision:
        missing.append(Missing(
            "a support decision: a support measure the employee accepted or declined, or "
            "support declined by the employee", ClosingItem.SUPPORT_DECISION
        ))
    return missing


def close(user: User, incident_id: int) -> Incident:
    incident = case_access.for_handler(user, incident_id, "close the incident", AuditRecord.STATUS)
    if incident.status == S.CLOSED:
        raise Conflict("The incident is already closed.", errors={"status": [incident.status]})
    if incident.status == S.REPORTED:
        raise Conflict(
            "The incident has not been acknowledged; acknowledge it and document the follow-up "
            "before closing.",
            errors={"status": [incident.status]},
        )
    missing = missing_for_close(incident)
    if missing:
        raise Conflict(
            "The incident cannot be closed yet. Missing: " + "; ".join(missing) + ".",
            errors={"missing": missing},
        )
    incident.closed_at = utcnow()
    change_status(incident, S.CLOSED, user)
    case_access.record_change(user, incident, "closed", AuditRecord.STATUS)
    db.session.flush()
    return incident


def reopen(user: User, incident_id: int, reason: str) -> Incident:
    incident = case_access.for_handler(user, incident_id, "reopen the incident", AuditRecord.STATUS)
    if incident.status != S.CLOSED:
        raise Conflict(
            f"The incident is {incident.status}; only a closed incident can be reopened.",
            errors={"status": [incident.status]},
        )
    incident.closed_at = None
    change_status(incident, S.IN_FOLLOW_UP, user, reason)
    case_access.record_change(user, incident, "reopened", AuditRecord.STATUS)
    db.session.flush()
    return incident


def require_open_case(incident: Incident, what: str) -> None:
    """Case work needs an acknowledged, not yet closed incident."""
    if incident.status == S.REPORTED:
        raise Conflict(
            f"Acknowledge the incident before you {what}.", errors={"status": [incident.status]}
        )
    if incident.status == S.CLOSED:
        raise Conflict(
            f"The incident is closed; reopen it before you {what}.",
            errors={"status": [incident.status]},
        )


def status_history(user: User, incident_id: int) -> list[StatusChange]:
    incident = case_access.for_reading(user, incident_id, AuditRecord.STATUS)
    return list(
        db.session.scalars(
            select(StatusChange)
            .where(StatusChange.incident_id == incident.id)
            .order_by(StatusChange.id)
        )
    )


def acknowledgement_rule() -> OverdueRule:
    """Reported incidents nobody has acknowledged within ACKNOWLEDGE_WITHIN_HOURS."""
    hours = timedelta(hours=settings.value("ACKNOWLEDGE_WITHIN_HOURS"))
    return OverdueRule("acknowledgement", hours, (Incident.status == S.REPORTED,))


def overdue_acknowledgements(user: User, now: datetime) -> list[dict]:
    """Reported incidents the user handles that nobody has acknowledged in time."""
    return acknowledgement_rule().items(user, now)
