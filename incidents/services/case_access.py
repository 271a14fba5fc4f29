"""Reaching a case, audited: the incident for a case handler to change, or for reading one of
its parts. Who is a case handler, who the exposed employee is and which parts each may read are
the access module's rules (incidents/access, the parts in access/parts.py); this module applies
them to one request and writes the audit entry or the denial.
"""

from __future__ import annotations

from incidents.access import PART_NAMES, exposed_may_read, is_case_handler, is_exposed_employee
from incidents.access import may_read as may_read_this
from incidents.domain import AuditAction, AuditRecord
from incidents.errors import Forbidden
from incidents.models import Incident, User
from incidents.services import audit
from incidents.services.reporting import find_in_scope

__all__ = ["for_exposed_employee", "for_handler", "for_reading", "record_change"]


def _deny(user: User, incident: Incident, what: str, who: str, record: AuditRecord):
    return audit.denied(
        Forbidden(f"Only {who} may {what}."), user, incident.id, f"{what}: not allowed",
        record=record,
    )


def for_handler(user: User, incident_id: int, what: str, record: AuditRecord) -> Incident:
    """The incident, for a case handler to change; 404 outside scope, 403 in scope but not a
    handler. ``what`` names the action for the audit trail and the error, ``record`` the part
    of the case it changes."""
    incident = find_in_scope(user, incident_id)
    if is_exposed_employee(user, incident):
        raise audit.denied(
            Forbidden(
                "You are the exposed employee in this case, and nobody handles their own case: "
                "a manager above you or hr does."
            ),
            user, incident.id, f"{what}: own case", record=record,
        )
    if not is_case_handler(user, incident):
        raise _deny(
            user, incident, what, "a manager of the incident's unit (or a unit above it) or hr",
            record,
        )
    return incident


def for_reading(user: User, incident_id: int, part: AuditRecord) -> Incident:
    """The incident, for reading one of its parts (audited as a read of that part). Who may
    read which part is the access module's table (access/parts.py)."""
    incident = find_in_scope(user, incident_id)
    name = PART_NAMES[part]
    if not may_read_this(user, incident, part):
        who = ("case handlers and the exposed employee" if exposed_may_read(part)
               else "case handlers")
        raise _deny(user, incident, f"read {name}", who, part)
    audit.record(user, AuditAction.READ, incident.id, detail=name, record=part)
    return incident


def for_exposed_employee(
    user: User, incident_id: int, what: str, record: AuditRecord
) -> Incident:
    incident = find_in_scope(user, incident_id)
    if not is_exposed_employee(user, incident):
        raise _deny(user, incident, what, "the exposed employee", record)
    return incident


def record_change(user: User, incident: Incident, detail: str, record: AuditRecord) -> None:
    """An audited change of a part of the case; ``detail`` says what was done to which record
    (ids and field names), never a value of the case."""
    audit.record(user, AuditAction.UPDATE, incident.id, detail=detail, record=record)
