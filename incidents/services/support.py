"""Follow-up entries, support measures, check-ins and the employee's evaluation of the support.

The city's follow-up found that nobody checked whether support to an exposed employee was
enough, relevant and lasting; these records are how that gets checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select

from incidents import access
from incidents.clock import utcnow
from incidents.domain import AuditRecord, IncidentStatus
from incidents.errors import Conflict, NotFound, ValidationFailed, field_error
from incidents.extensions import db
from incidents.models import (
    CheckIn,
    FollowUpEntry,
    Incident,
    SupportDecline,
    SupportEvaluation,
    SupportMeasure,
    User,
)
from incidents.services import case_access, lifecycle
from incidents.services.records import moment_problems


def _check_moment(incident: Incident, field: str, moment: datetime | None) -> None:
    """A recorded moment cannot precede the incident or lie in the future."""
    problems = moment_problems(incident, moment) if moment is not None else []
    if problems:
        raise ValidationFailed(f"{field}: {problems[0]}", errors={field: problems})


# -- follow-up entries --------------------------------------------------------------------


def add_follow_up(user: User, incident_id: int, data: dict[str, Any]) -> FollowUpEntry:
    """Append-only: a correction is a new entry pointing to the one it corrects. The first
    entry moves an acknowledged incident into follow-up."""
    incident = case_access.for_handler(user, incident_id, "document follow-up",
                                       AuditRecord.FOLLOW_UP)
    lifecycle.require_open_case(incident, "document follow-up")
    _check_moment(incident, "occurred_at", data["occurred_at"])
    corrects_id = data.get("corrects_id")
    if corrects_id is not None:
        corrected = db.session.get(FollowUpEntry, corrects_id)
        if corrected is None or corrected.incident_id != incident.id:
            raise field_error("corrects_id", "no follow-up entry with that id on this incident")
    entry = FollowUpEntry(
        incident_id=incident.id,
        type=data["type"],
        note=data["note"],
        occurred_at=data["occurred_at"],
        author_id=user.id,
        corrects_id=corrects_id,
    )
    db.session.add(entry)
    if incident.status == IncidentStatus.ACKNOWLEDGED:
        lifecycle.change_status(incident, IncidentStatus.IN_FOLLOW_UP, user)
    db.session.flush()
    case_access.record_change(user, incident, f"follow-up entry {entry.id} added",
                              AuditRecord.FOLLOW_UP)
    return entry


def list_follow_ups(user: User, incident_id: int) -> list[dict[str, Any]]:
    incident = case_access.for_reading(user, incident_id, AuditRecord.FOLLOW_UP)
    entries = list(
        db.session.scalars(
            select(FollowUpEntry)
            .where(FollowUpEntry.incident_id == incident.id)
            .order_by(FollowUpEntry.id)
        )
    )
    corrected_by = {e.corrects_id: e.id for e in entries if e.corrects_id is not None}
    return [{"entry": e, "corrected_by": corrected_by.get(e.id)} for e in entries]


# -- support measures ---------------------------------------------------------------------


def _check_measure(incident: Incident, measure: dict[str, Any]) -> None:
    for field in ("offered_at", "delivered_at"):
        _check_moment(incident, field, measure.get(field))
    if measure.get("delivered_at") is not None:
        if measure.get("accepted") is not True:
            raise field_error("delivered_at", "support can be delivered only once accepted")
        if measure["delivered_at"] < measure["offered_at"]:
            raise field_error("delivered_at", "must not be before offered_at")


def add_support_measure(user: User, incident_id: int, data: dict[str, Any]) -> SupportMeasure:
    incident = case_access.for_handler(user, incident_id, "offer support", AuditRecord.SUPPORT)
    lifecycle.require_open_case(incident, "offer support")
    if data.get("offered_at") is None:
        # Not given: now, or the delivery time if support was recorded as already delivered.
        delivered = data.get("delivered_at")
        data = {**data, "offered_at": min(utcnow(), delivered) if delivered else utcnow()}
    _check_measure(incident, data)
    measure = SupportMeasure(incident_id=incident.id, offered_by_id=user.id, **data)
    db.session.add(measure)
    db.session.flush()
    case_access.record_change(user, incident, f"support measure {measure.id} added",
                              AuditRecord.SUPPORT)
    return measure


def read_support_measure(user: User, incident_id: int, measure_id: int) -> SupportMeasure:
    incident = case_access.for_reading(user, incident_id, AuditRecord.SUPPORT)
    return _measure_of(incident, measure_id)


def get_support_measure(user: User, incident_id: int, measure_id: int) -> SupportMeasure:
    incident = case_access.for_handler(user, incident_id, "change support", AuditRecord.SUPPORT)
    return _measure_of(incident, measure_id)


def _measure_of(incident: Incident, measure_id: int) -> SupportMeasure:
    incident_id = incident.id
    measure = db.session.get(SupportMeasure, measure_id)
    if measure is None or measure.incident_id != incident.id:
        raise NotFound(f"There is no support measure {measure_id} on incident {incident_id}.")
    return measure


def update_support_measure(
    user: User, measure: SupportMeasure, data: dict[str, Any]
) -> SupportMeasure:
    """Recording acceptance or delivery stays possible after closing: it records a fact."""
    incident = db.session.get(Incident, measure.incident_id)
    fields = ("type", "offered_at", "accepted", "delivered_at", "provider", "note")
    merged = {f: data.get(f, getattr(measure, f)) for f in fields}
    if merged["offered_at"] is None:
        raise field_error("offered_at", "must not be null")
    _check_measure(incident, merged)
    changed = sorted(f for f in data if getattr(measure, f) != data[f])
    for field in changed:
        setattr(measure, field, data[field])
    db.session.flush()
    case_access.record_change(
        user, incident, f"support measure {measure.id} changed: {', '.join(changed) or 'nothing'}",
        AuditRecord.SUPPORT,
    )
    return measure


def list_support_measures(user: User, incident_id: int) -> list[SupportMeasure]:
    incident = case_access.for_reading(user, incident_id, AuditRecord.SUPPORT)
    return list(
        db.session.scalars(
            select(SupportMeasure)
            .where(SupportMeasure.incident_id == incident.id)
            .order_by(SupportMeasure.id)
        )
    )


def record_support_declined(user: User, incident_id: int, data: dict[str, Any]) -> SupportDecline:
    """Support is voluntary: an employee who declines all support is recorded, not chased.
    The record is a fact with a date, written once; support accepted later is a new measure."""
    incident = case_access.for_handler(user, incident_id, "record that support was declined",
                                       AuditRecord.SUPPORT)
    lifecycle.require_open_case(incident, "record that support was declined")
    existing = db.session.get(SupportDecline, incident.id)
    if existing is not None:
        raise Conflict(
            "Declined support was already recorded on "
            f"{existing.declined_at.isoformat()}; the record is kept as written. Record "
            "support accepted later as a support measure.",
            errors={"declined_at": [existing.declined_at.isoformat()]},
        )
    declined_at = data.get("declined_at") or utcnow()
    _check_moment(incident, "declined_at", declined_at)
    decline = SupportDecline(
        incident_id=incident.id,
        declined_at=declined_at,
        note=data.get("note"),
        recorded_by_id=user.id,
    )
    db.session.add(decline)
    db.session.flush()
    case_access.record_change(user, incident, "declined support recorded", AuditRecord.SUPPORT)
    return decline


def get_support_declined(user: User, incident_id: int) -> SupportDecline:
    incident = case_access.for_reading(user, incident_id, AuditRecord.SUPPORT)
    decline = db.session.get(SupportDecline, incident.id)
    if decline is None:
        raise NotFound("No declined support is recorded for this incident.")
    return decline


# -- check-ins ----------------------------------------------------------------------------


def list_check_ins(user: User, incident_id: int) -> list[CheckIn]:
    incident = case_access.for_reading(user, incident_id, AuditRecord.CHECK_IN)
    return list(
        db.session.scalars(
            select(CheckIn).where(CheckIn.incident_id == incident.id).order_by(CheckIn.due_at)
        )
    )


def complete_check_in(user: User, incident_id: int, check_in_id: int, note: str) -> CheckIn:
    incident = case_access.for_handler(user, incident_id, "complete a check-in",
                                       AuditRecord.CHECK_IN)
    check_in = db.session.get(CheckIn, check_in_id)
    if check_in is None or check_in.incident_id != incident.id:
        raise NotFound(f"There is no check-in {check_in_id} on incident {incident_id}.")
    if check_in.completed_at is not None:
        raise Conflict(
            f"The check-in was already completed at {check_in.completed_at.isoformat()}.",
            errors={"completed_at": [check_in.completed_at.isoformat()]},
        )
    check_in.completed_at = utcnow()
    check_in.completed_by_id = user.id
    check_in.note = note
    db.session.flush()
    case_access.record_change(user, incident, f"check-in {check_in.offset_label} completed",
                              AuditRecord.CHECK_IN)
    return check_in


def _check_in_overdue(now: datetime) -> tuple:
    """A check-in not completed by when it was due."""
    return CheckIn.completed_at.is_(None), CheckIn.due_at < now


def overdue_check_ins(user: User, now: datetime) -> list[dict]:
    rows = db.session.execute(
        select(Incident.id, Incident.reference, Incident.unit_id, CheckIn.id.label("check_in_id"),
               CheckIn.offset_label, CheckIn.due_at)
        .join(CheckIn, CheckIn.incident_id == Incident.id)
        .where(access.handler_scope(user), *_check_in_overdue(now))
        .order_by(CheckIn.due_at)
    ).all()
    return [
        {
            "kind": "check_in",
            "incident_id": row.id,
            "reference": row.reference,
            "unit_id": row.unit_id,
            "due_at": row.due_at,
            "check_in_id": row.check_in_id,
            "offset": row.offset_label,
        }
        for row in rows
    ]


# -- the employee's evaluation ------------------------------------------------------------


def _support_settled(incident: Incident) -> bool:
    """Evaluation is possible once support was delivered or declined."""
    delivered_or_declined = select(
        exists().where(
            SupportMeasure.incident_id == incident.id,
            or_(SupportMeasure.delivered_at.is_not(None), SupportMeasure.accepted.is_(False)),
        )
    )
    return bool(db.session.scalar(delivered_or_declined)) or (
        db.session.get(SupportDecline, incident.id) is not None
    )


def evaluation_due(user: User, incident: Incident) -> bool:
    """The exposed employee may evaluate the support once it was delivered or declined."""
    return access.is_exposed_employee(user, incident) and _support_settled(incident)


def evaluations_due(user: User, incidents: list[Incident]) -> set[int]:
    """The same rule for a list, in one query: the incidents among these where the user is the
    exposed employee, support was delivered or declined, and no evaluation exists yet."""
    own = [i.id for i in incidents if access.is_exposed_employee(user, i)]
    if not own:
        return set()
    settled = or_(
        exists().where(
            SupportMeasure.incident_id == Incident.id,
            or_(SupportMeasure.delivered_at.is_not(None), SupportMeasure.accepted.is_(False)),
        ),
        exists().where(SupportDecline.incident_id == Incident.id),
    )
    evaluated = exists().where(SupportEvaluation.incident_id == Incident.id)
    return set(db.session.scalars(
        select(Incident.id).where(Incident.id.in_(own), settled, ~evaluated)))


def find_evaluation(incident_id: int) -> SupportEvaluation | None:
    return db.session.get(SupportEvaluation, incident_id)


def evaluation_for_writing(
    user: User, incident_id: int
) -> tuple[Incident, SupportEvaluation | None]:
    incident = case_access.for_exposed_employee(user, incident_id, "evaluate the support",
                                                AuditRecord.SUPPORT_EVALUATION)
    return incident, find_evaluation(incident.id)


def save_evaluation(
    user: User, incident: Incident, evaluation: SupportEvaluation | None, data: dict[str, Any]
) -> tuple[SupportEvaluation, bool]:
    if not _support_settled(incident):
        raise Conflict(
            "The support can be evaluated once a support measure has been delivered or "
            "declined.",
            errors={"support": ["not yet delivered or declined"]},
        )
    created = evaluation is None
    if created:
        evaluation = SupportEvaluation(incident_id=incident.id, evaluated_by_id=user.id)
        db.session.add(evaluation)
    evaluation.sufficient = data["sufficient"]
    evaluation.relevant = data["relevant"]
    evaluation.felt_supported_by_employer = data["felt_supported_by_employer"]
    evaluation.comment = data.get("comment")
    db.session.flush()
    case_access.record_change(user, incident, "support evaluated by the employee",
                              AuditRecord.SUPPORT_EVALUATION)
    return evaluation, created


def read_evaluation(user: User, incident_id: int) -> SupportEvaluation:
    incident = case_access.for_reading(user, incident_id, AuditRecord.SUPPORT_EVALUATION)
    evaluation = find_evaluation(incident.id)
    if evaluation is None:
        raise NotFound("The employee has not evaluated the support yet.")
    return evaluation


def overdue_counts(now: datetime) -> dict[str, int]:
    """How many items are overdue across the whole organisation, by kind (acknowledgement,
    check_in, police_decision, work_environment_notification): the rules of ``overdue`` for
    every incident, whoever handles it. Counted in the database; nobody is loaded."""
    from incidents.services import authority, police

    check_ins = db.session.scalar(
        select(func.count(CheckIn.id))
        .join(Incident, CheckIn.incident_id == Incident.id)
        .where(*_check_in_overdue(now))
    )
    return {
        "acknowledgement": lifecycle.acknowledgement_rule().count(now),
        "check_in": check_ins or 0,
        "police_decision": police.decision_rule().count(now),
        "work_environment_notification": authority.notification_rule().count(now),
    }


def overdue(user: User) -> list[dict]:
    """Overdue acknowledgements, check-ins, police decisions and notifications to
    Arbetsmiljöverket in the cases the user handles, most overdue first."""
    from incidents.services import authority, police

    now = utcnow()
    items = (
        lifecycle.overdue_acknowledgements(user, now)
        + overdue_check_ins(user, now)
        + police.overdue_decisions(user, now)
        + authority.overdue_notifications(user, now)
    )
    return sorted(items, key=lambda item: (item["due_at"], item["incident_id"]))


