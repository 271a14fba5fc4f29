"""Reports to authorities of an incident (docs/domain.md, "Reports to authorities").

- Arbetsmiljöverket: a serious incident (allvarligt tillbud) is notified without delay
  (arbetsmiljölagen 3 kap. 3 a §); the service counts it overdue AUTHORITY_NOTIFICATION_HOURS
  after the report. The rule proposes "serious" for every act of violence and every death threat;
  the manager's own assessment, once given, decides.
- Försäkringskassan: a work injury — the employee was injured or went on sick leave — is reported
  (socialförsäkringsbalken 42 kap. 10 §).
- When the safety representative (skyddsombud) was informed and when the employer's own
  investigation (AFS 2023:2) was done are recorded.

An incident cannot close while a due report is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from incidents.clock import utcnow
from incidents.domain import AuditRecord, Category, ClosingItem, IncidentStatus, Missing
from incidents.errors import ValidationFailed
from incidents.extensions import db
from incidents.models import AuthorityReport, Incident, IncidentForm, User
from incidents.services import case_access, settings
from incidents.services.records import (
    Errors,
    OneRowState,
    OverdueRule,
    insert_first,
    moment_problems,
)
from incidents.services.records import add_error as _add

# Sub-types that make an incident serious whatever its forms: Arbetsmiljöverket's guidance names
# death threats meant seriously among the incidents that meant serious danger (docs/domain.md).
SERIOUS_SUBCATEGORIES = frozenset({"death_threat"})

# Field of the PUT body (nested objects as "object.field") → column of AuthorityReport.
COLUMNS = {
    "serious": "serious",
    "work_environment_authority.notified_at": "work_environment_authority_notified_at",
    "work_environment_authority.reference": "work_environment_authority_reference",
    "work_injury_report.filed_at": "work_injury_report_filed_at",
    "work_injury_report.reference": "work_injury_report_reference",
    "safety_representative_informed_at": "safety_representative_informed_at",
    "investigation_done_at": "investigation_done_at",
}
MOMENTS = (
    "work_environment_authority.notified_at",
    "work_injury_report.filed_at",
    "safety_representative_informed_at",
    "investigation_done_at",
)
# A reference number comes with the date of what it refers to.
REFERENCE_DATES = {
    "work_environment_authority.reference": "work_environment_authority.notified_at",
    "work_injury_report.reference": "work_injury_report.filed_at",
}



def serious_proposed(incident: Incident) -> bool:
    """The rule's proposal (docs/domain.md): every act of violence, every death threat."""
    violence = any(form.category == Category.VIOLENCE for form in incident.forms)
    return violence or incident.subcategory in SERIOUS_SUBCATEGORIES


def _serious_sql() -> ColumnElement[bool]:
    """serious_proposed unless the manager decided, as an SQL condition on Incident outer-joined
    to AuthorityReport."""
    violence = (
        select(IncidentForm.incident_id)
        .where(
            IncidentForm.incident_id == Incident.id,
            IncidentForm.category == Category.VIOLENCE.value,
        )
        .exists()
    )
    proposed = or_(violence, Incident.subcategory.in_(SERIOUS_SUBCATEGORIES))
    return or_(
        AuthorityReport.serious == true(),
        and_(AuthorityReport.serious.is_(None), proposed),
    )


@dataclass
class AuthorityReportState(OneRowState):
    """The reports to authorities of one incident as read; the row is None until first recorded.
    Its ETag follows the row's version (0 before the row)."""

    row_model = AuthorityReport

    incident: Incident
    report: AuthorityReport | None
    notification_hours: int

    @property
    def serious_proposed(self) -> bool:
        return serious_proposed(self.incident)

    @property
    def serious_decided_by_manager(self) -> bool:
        return self.stored("serious") is not None

    @property
    def serious(self) -> bool:
        decided = self.stored("serious")
        return self.serious_proposed if decided is None else decided

    @property
    def work_environment_authority(self) -> dict[str, Any]:
        notified_at = self.stored("work_environment_authority_notified_at")
        due_at = (
            self.incident.created_at + timedelta(hours=self.notification_hours)
            if self.serious
            else None
        )
        return {
            "due": self.serious,
            "due_at": due_at,
            "notified_at": notified_at,
            "reference": self.stored("work_environment_authority_reference"),
            "overdue": due_at is not None and notified_at is None and utcnow() > due_at,
        }

    @property
    def work_injury_due(self) -> bool:
        return self.incident.injured or self.incident.sick_leave

    @property
    def work_injury_report(self) -> dict[str, Any]:
        return {
            "due": self.work_injury_due,
            "filed_at": self.stored("work_injury_report_filed_at"),
            "reference": self.stored("work_injury_report_reference"),
        }


def _state(incident: Incident) -> AuthorityReportState:
    return AuthorityReportState(
        incident=incident,
        report=db.session.get(AuthorityReport, incident.id),
        notification_hours=settings.value("AUTHORITY_NOTIFICATION_HOURS"),
    )


def read_reports(user: User, incident_id: int) -> AuthorityReportState:
    """Case handlers only read the reports to authorities (audited)."""
    incident = case_access.for_reading(user, incident_id, AuditRecord.AUTHORITY_REPORTS)
    return _state(incident)


def reports_for_recording(user: User, incident_id: int) -> AuthorityReportState:
    """The reports to authorities as they stand, for a case handler about to change them."""
    return _state(
        case_access.for_handler(user, incident_id, "record the reports to authorities",
                                AuditRecord.AUTHORITY_REPORTS)
    )


# -- checks ---------------------------------------------------------------------------------


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """{"work_injury_report": {"filed_at": t}} → {"work_injury_report.filed_at": t}."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{inner}": v for inner, v in value.items()})
        else:
            flat[key] = value
    return flat


def _errors(state: AuthorityReportState, changes: dict[str, Any]) -> Errors:
    """Every time lies between the incident and now; a reference comes with its date."""
    errors: Errors = {}
    for path in MOMENTS:
        moment = changes.get(path)
        for problem in moment_problems(state.incident, moment) if moment is not None else []:
            _add(errors, path, problem)

    def after(path: str) -> Any:
        return changes[path] if path in changes else state.stored(COLUMNS[path])

    for reference_path, date_path in REFERENCE_DATES.items():
        if after(reference_path) is not None and after(date_path) is None:
            date_field = date_path.split(".")[-1]
            _add(errors, reference_path, f"given without {date_field}: say when it was done")
    return errors


# -- changes --------------------------------------------------------------------------------


def record_reports(
    user: User, state: AuthorityReportState, data: dict[str, Any]
) -> AuthorityReportState:
    """Change the fields sent (like a PATCH); null clears a field, and serious: null goes back
    to the rule's proposal."""
    changes = _flatten(data)
    errors = _errors(state, changes)
    if errors:
        raise ValidationFailed("The reports to authorities do not hold together.", errors=errors)
    report = state.report or AuthorityReport(incident_id=state.incident.id)
    changed = [path for path, value in changes.items() if getattr(report, COLUMNS[path]) != value]
    for path in changed:
        setattr(report, COLUMNS[path], changes[path])
    if changed and state.report is None:
        insert_first(report, "the reports to authorities")
    db.session.flush()
    detail = (f"reports to authorities changed: {', '.join(changed)}" if changed
              else "reports to authorities: no change")
    case_access.record_change(user, state.incident, detail, AuditRecord.AUTHORITY_REPORTS)
    return _state(state.incident)


# -- for the close check and the overdue list ------------------------------------------------


def missing_for_close(incident: Incident) -> list[str]:
    """The reports that are due but not done: they block closing (docs/domain.md)."""
    state = _state(incident)
    missing = []
    if state.serious and state.work_environment_authority["notified_at"] is None:
        missing.append(Missing(
            "the notification of a serious incident to Arbetsmiljöverket (AML 3 kap. 3 a §)",
            ClosingItem.WORK_ENVIRONMENT_NOTIFICATION,
        ))
    if state.work_injury_due and state.work_injury_report["filed_at"] is None:
        missing.append(Missing(
            "the work-injury report to Försäkringskassan (socialförsäkringsbalken 42 kap. 10 §)",
            ClosingItem.WORK_INJURY_REPORT,
        ))
    return missing


def notification_rule() -> OverdueRule:
    """Open serious incidents that Arbetsmiljöverket has not been notified of within
    AUTHORITY_NOTIFICATION_HOURS of the report (AML 3 kap. 3 a §: without delay)."""
    hours = timedelta(hours=settings.value("AUTHORITY_NOTIFICATION_HOURS"))
    return OverdueRule(
        "work_environment_notification", hours,
        (
            Incident.status != IncidentStatus.CLOSED.value,
            AuthorityReport.work_environment_authority_notified_at.is_(None),
            _serious_sql(),
        ),
        join=(AuthorityReport, AuthorityReport.incident_id == Incident.id),
    )


def overdue_notifications(user: User, now: datetime) -> list[dict[str, Any]]:
    """Open serious incidents the user handles whose notification to Arbetsmiljöverket is
    overdue."""
    return notification_rule().items(user, now)
