"""The police report (polisanmälan): the case handler's decision, the filing and its outcomes
(docs/domain.md).

Rules: threats and violence must, property damage and corruption should be decided on
(DECISION_REQUIRED_FLAGS) within POLICE_DECISION_DAYS of the report, and an incident flagged so
cannot close without a decision. Only a decision to report has a filing. Outcomes follow the
course of a case through police, prosecutor and court (POLICE_OUTCOME_NEXT) and are append-only.
No personnummer is stored: the register records that the exposed employee is the injured party.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from incidents.clock import to_local, utcnow
from incidents.domain import (
    DECISION_REQUIRED_FLAGS,
    POLICE_OUTCOME_LABELS,
    POLICE_OUTCOME_NEXT,
    AuditRecord,
    ClosingItem,
    IncidentStatus,
    Label,
    Missing,
    PoliceDecision,
    PoliceFlag,
    PoliceOutcome,
)
from incidents.errors import ValidationFailed
from incidents.extensions import db
from incidents.models import Incident, PoliceOutcomeEntry, PoliceReport, User
from incidents.services import case_access, settings
from incidents.services.records import (
    Errors,
    OneRowState,
    OverdueRule,
    insert_first,
    moment_problems,
)
from incidents.services.records import add_error as _add

INJURED_PARTY_NOTE = Label(
    "Registret antecknar att den utsatta medarbetaren är målsägande och lagrar inget "
    "personnummer.",
    "The register records that the exposed employee is the injured party and stores no "
    "personnummer.",
)

FILING_FIELDS = ("filed_by", "contact_address", "filed_at", "police_reference")
# What a PUT carries in full: a field left out is cleared.
REPORT_FIELDS = ("decision", "decision_reason", *FILING_FIELDS)



@dataclass
class PoliceReportState(OneRowState):
    """The police report of one incident as read: the row (None until first recorded) and the
    outcome history, oldest first. Its ETag follows the row's version (0 before the row)."""

    row_model = PoliceReport

    incident: Incident
    report: PoliceReport | None
    history: list[PoliceOutcomeEntry]
    decision_due_at: datetime | None
    injured_party: Label = INJURED_PARTY_NOTE

    @property
    def flag(self) -> str:
        return self.incident.police_flag

    @property
    def police_wanted(self) -> str | None:
        """The reporter's wish about the police, shown beside the decision it informs."""
        return self.incident.police_wanted

    @property
    def decision_required(self) -> bool:
        return self.incident.police_flag in DECISION_REQUIRED_FLAGS

    @property
    def decided_by(self) -> int | None:
        return self.stored("decided_by_id")

    @property
    def outcome(self) -> str | None:
        return self.history[-1].outcome if self.history else None

    @property
    def outcome_history(self) -> list[dict[str, Any]]:
        return [
            {
                "outcome": entry.outcome,
                "reached_on": entry.reached_on,
                "reason": entry.reason,
                "recorded_at": entry.recorded_at,
                "label": POLICE_OUTCOME_LABELS[PoliceOutcome(entry.outcome)],
            }
            for entry in self.history
        ]


def _state(incident: Incident) -> PoliceReportState:
    history = db.session.scalars(
        select(PoliceOutcomeEntry)
        .where(PoliceOutcomeEntry.incident_id == incident.id)
        .order_by(PoliceOutcomeEntry.id)
    ).all()
    days = settings.value("POLICE_DECISION_DAYS")
    return PoliceReportState(
        incident=incident,
        report=db.session.get(PoliceReport, incident.id),
        history=list(history),
        # Only the forms flagged for reporting owe a decision (docs/domain.md).
        decision_due_at=(
            incident.created_at + timedelta(days=days)
            if PoliceFlag(incident.police_flag) in DECISION_REQUIRED_FLAGS
            else None
        ),
    )


def read_report(user: User, incident_id: int) -> PoliceReportState:
    """Case handlers and the exposed employee read the police report (audited)."""
    incident = case_access.for_reading(user, incident_id, AuditRecord.POLICE_REPORT)
    return _state(incident)


def report_for_recording(user: User, incident_id: int) -> PoliceReportState:
    """The police report as it stands, for a case handler about to change it."""
    return _state(case_access.for_handler(user, incident_id, "record the police report",
                                          AuditRecord.POLICE_REPORT))


# -- checks ---------------------------------------------------------------------------------


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _decision_errors(new: dict[str, Any], errors: Errors) -> None:
    """A decision not to report says why; only a decision to report has a filing."""
    decision = new["decision"]
    if decision == PoliceDecision.DO_NOT_REPORT and _blank(new["decision_reason"]):
        _add(errors, "decision_reason", "required when the decision is not to report: say why")
    if decision is None and new["decision_reason"] is not None:
        _add(errors, "decision_reason", "given without a decision")
    if decision != PoliceDecision.REPORT:
        for field in FILING_FIELDS:
            if new[field] is not None:
                _add(errors, field, "only a decision to report (decision: report) has a filing")


def _filing_errors(
    incident: Incident, new: dict[str, Any], history: list[PoliceOutcomeEntry], errors: Errors
) -> None:
    """The filing lies between the incident and now, and before any outcome of the report."""
    filed_at = new["filed_at"]
    if new["police_reference"] is not None and filed_at is None:
        _add(errors, "police_reference", "given without filed_at: say when the report was filed")
    if filed_at is None:
        if history:
            _add(errors, "filed_at", "required: outcomes of the filed report are recorded")
        return
    for problem in moment_problems(incident, filed_at):
        _add(errors, "filed_at", problem)
    if history and to_local(filed_at).date() > history[0].reached_on:
        _add(
            errors,
            "filed_at",
            f"must not be after the first recorded outcome ({history[0].reached_on.isoformat()})",
        )


def _is_latest(history: list[PoliceOutcomeEntry], outcome: dict[str, Any]) -> bool:
    """The outcome repeats the latest entry: a repeated PUT, nothing to append."""
    if not history:
        return False
    latest = history[-1]
    return (latest.outcome, latest.reached_on, latest.reason) == (
        outcome["code"],
        outcome["reached_on"],
        outcome.get("reason"),
    )


def _sequence_message(previous: PoliceOutcome | None, code: str) -> str:
    allowed = [o.value for o in PoliceOutcome if o in POLICE_OUTCOME_NEXT[previous]]
    if previous is None:
        return f"{code} cannot be the first outcome; the first is one of: {', '.join(allowed)}"
    if previous == code:
        return f"{code} is already the latest outcome; the history is append-only"
    if not allowed:
        return f"{code} cannot follow {previous.value}: nothing follows {previous.value}"
    return f"{code} cannot follow {previous.value}; what may follow: {', '.join(allowed)}"


def _outcome_errors(
    outcome: dict[str, Any], filed_at: datetime | None, history: list[PoliceOutcomeEntry],
    errors: Errors,
) -> None:
    """An outcome follows a filing, follows from the previous outcome, and is dated between the
    filing day (local date) and today, not before the previous outcome."""
    if filed_at is None:
        _add(errors, "outcome", "there is no filed report to have an outcome: give filed_at")
        return
    previous = PoliceOutcome(history[-1].outcome) if history else None
    if outcome["code"] not in POLICE_OUTCOME_NEXT[previous]:
        _add(errors, "outcome.code", _sequence_message(previous, outcome["code"]))
    reached_on: date = outcome["reached_on"]
    filed_on = to_local(filed_at).date()
    if reached_on < filed_on:
        _add(errors, "outcome.reached_on", f"must not be before the filing ({filed_on})")
    if reached_on > to_local(utcnow()).date():
        _add(errors, "outcome.reached_on", "must not be in the future")
    if history and reached_on < history[-1].reached_on:
        _add(
            errors,
            "outcome.reached_on",
            f"must not be before the previous outcome ({history[-1].reached_on})",
        )
    if outcome["code"] == PoliceOutcome.INVESTIGATION_DISCONTINUED and _blank(
        outcome.get("reason")
    ):
        _add(errors, "outcome.reason", "required when the investigation is discontinued")


# -- changes --------------------------------------------------------------------------------


def record_report(
    user: User, state: PoliceReportState, data: dict[str, Any]
) -> PoliceReportState:
    """Replace the decision and filing with ``data``; append its outcome unless it repeats the
    latest one. The decision's time and maker are recorded when the decision changes."""
    incident, history = state.incident, state.history
    new = {field: data.get(field) for field in REPORT_FIELDS}
    outcome = data.get("outcome")
    if outcome is not None and _is_latest(history, outcome):
        outcome = None
    errors: Errors = {}
    _decision_errors(new, errors)
    _filing_errors(incident, new, history, errors)
    if outcome is not None:
        _outcome_errors(outcome, new["filed_at"], history, errors)
    if errors:
        raise ValidationFailed("The police report does not hold together.", errors=errors)

    report = state.report or PoliceReport(incident_id=incident.id)
    changed = [field for field in REPORT_FIELDS if getattr(report, field) != new[field]]
    if "decision" in changed:
        report.decided_at = utcnow() if new["decision"] is not None else None
        report.decided_by_id = user.id if new["decision"] is not None else None
    for field in changed:
        setattr(report, field, new[field])
    if state.report is None and changed:
        insert_first(report, "the police report")
    elif state.report is not None and outcome is not None:
        # The outcome is part of the resource: the row's version moves, so the ETag changes.
        report.updated_at = utcnow()
        flag_modified(report, "updated_at")
    if outcome is not None:
        db.session.add(
            PoliceOutcomeEntry(
                incident_id=incident.id,
                outcome=outcome["code"],
                reached_on=outcome["reached_on"],
                reason=outcome.get("reason"),
                recorded_by_id=user.id,
            )
        )
    db.session.flush()
    case_access.record_change(user, incident, _audit_detail(changed, outcome),
                              AuditRecord.POLICE_REPORT)
    return _state(incident)


def _audit_detail(changed: list[str], outcome: dict[str, Any] | None) -> str:
    """The fields that changed, never their values: an added outcome is "outcome", not which."""
    fields = changed + (["outcome"] if outcome is not None else [])
    return f"police report changed: {', '.join(fields)}" if fields else "police report: no change"


# -- for the close check and the overdue list ------------------------------------------------


def missing_for_close(incident: Incident) -> list[str]:
    """What the police report still lacks before the incident may close: a decision, when the
    forms call for one (docs/domain.md)."""
    if incident.police_flag not in DECISION_REQUIRED_FLAGS:
        return []
    decision = db.session.scalar(
        select(PoliceReport.decision).where(PoliceReport.incident_id == incident.id)
    )
    if decision is not None:
        return []
    return [Missing(f"a police-report decision (the incident is flagged '{incident.police_flag}')",
                    ClosingItem.POLICE_DECISION)]


def decision_rule() -> OverdueRule:
    """Open incidents whose police-report decision is past due: flagged required or
    recommended, no decision, reported more than POLICE_DECISION_DAYS ago."""
    days = timedelta(days=settings.value("POLICE_DECISION_DAYS"))
    return OverdueRule(
        "police_decision", days,
        (
            Incident.police_flag.in_([flag.value for flag in DECISION_REQUIRED_FLAGS]),
            Incident.status != IncidentStatus.CLOSED.value,
            PoliceReport.decision.is_(None),
        ),
        join=(PoliceReport, PoliceReport.incident_id == Incident.id),
    )


def overdue_decisions(user: User, now: datetime) -> list[dict[str, Any]]:
    """Open incidents the user handles whose police-report decision is past due."""
    return decision_rule().items(user, now)
