"""Reaching a case, audited: the incident for a case handler to change, or for reading one of
its parts. Who is a case handler and who the exposed employee is are the access module's rules
(incidents/access); this module applies them to one request and writes the audit entry or the
denial.
"""

from __future__ import annotations

from incidents.access import is_case_handler, is_exposed_employee, may_read_part
from incidents.domain import AuditAction
from incidents.errors import Forbidden
from incidents.models import Incident, User
from incidents.services import audit
from incidents.services.reporting import find_in_scope

__all__ = ["for_exposed_employee", "for_handler", "for_reading", "record_change"]


def _deny(user: User, incident: Incident, what: str, who: str):
    return audit.denied(
        Forbidden(f"Only {who} may {what}."), user, incident.id, f"{what}: not allowed"
    )


def for_handler(user: User, incident_id: int, what: str) -> Incident:
    """The incident, for a case handler to change; 404 outside scope, 403 in scope but not a
    handler. ``what`` names the action for the audit trail and the error."""
    incident = find_in_scope(user, incident_id)
    if is_exposed_employee(user, incident):
        raise audit.denied(
            Forbidden(
                "You are the exposed employee in this case, and nobody handles their own case: "
                "a manager above you or hr does."
            ),
            user, incident.id, f"{what}: own case",
        )
    if not is_case_handler(user, incident):
        raise _deny(
            user, incident, what, "a manager of the incident's unit (or a unit above it) or hr"
        )
    return incident


def for_reading(user: User, incident_id: int, part: str, *, exposed_may_read: bool) -> Incident:
    """The incident, for reading one of its parts (audited as a read of that part)."""
    incident = find_in_scope(user, incident_id)
    if not may_read_part(user, incident, exposed_may_read=exposed_may_read):
        who = "case handlers and the exposed employee" if exposed_may_read else "case handlers"
        raise _deny(user, incident, f"read {part}", who)
    audit.record(user, AuditAction.READ, incident.id, detail=part)
    return incident


def for_exposed_employee(user: User, incident_id: int, what: str) -> Incident:
    incident = find_in_scope(user, incident_id)
    if not is_exposed_employee(user, incident):
        raise _deny(user, incident, what, "the exposed employee")
    return incident


def record_change(user: User, incident: Incident, detail: str) -> None:
    audit.record(user, AuditAction.UPDATE, incident.id, detail=detail)
