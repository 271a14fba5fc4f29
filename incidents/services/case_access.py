"""Who may handle a case and who may read its parts.

A case handler is hr, or a manager leading the incident's unit or a unit above it — but never
the exposed employee themselves: nobody handles their own case. The exposed employee (the
colleague reported for, else the reporter) reads the parts about their own support and police
report. Everyone else in scope sees the incident itself only. Every access is audited.
"""

from __future__ import annotations

from sqlalchemy import and_, false, func, or_
from sqlalchemy.sql.elements import ColumnElement

from incidents.domain import AuditAction, Role
from incidents.errors import Forbidden
from incidents.extensions import db
from incidents.models import Incident, User, subtree_ids_query
from incidents.services import audit
from incidents.services.reporting import find_in_scope


def is_exposed_employee(user: User, incident: Incident) -> bool:
    return incident.exposed_user_id is not None and user.id == incident.exposed_user_id


def is_case_handler(user: User, incident: Incident) -> bool:
    if is_exposed_employee(user, incident):
        return False
    if user.has_role(Role.HR):
        return True
    if user.has_role(Role.MANAGER) and user.leads_unit_ids:
        led = db.session.scalars(subtree_ids_query(user.leads_unit_ids)).all()
        return incident.unit_id in set(led)
    return False


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


def may_read_part(user: User, incident: Incident, *, exposed_may_read: bool) -> bool:
    """Case handlers read every part; the exposed employee the parts open to them."""
    return is_case_handler(user, incident) or (
        exposed_may_read and is_exposed_employee(user, incident)
    )


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


def handler_scope(user: User) -> ColumnElement[bool]:
    """The same rule as is_case_handler, as an SQL condition for lists (overdue items)."""
    exposed = func.coalesce(Incident.on_behalf_of_id, Incident.reporter_id)
    # An anonymous report has no known exposed employee (NULL), so nobody is excluded.
    not_own = or_(exposed.is_(None), exposed != user.id)
    if user.has_role(Role.HR):
        return not_own
    if user.has_role(Role.MANAGER) and user.leads_unit_ids:
        led = Incident.unit_id.in_(subtree_ids_query(user.leads_unit_ids))
        return and_(led, not_own)
    return false()
