"""What a case handler's inbox holds: new reports to acknowledge, what is overdue, and the open
cases, all within the cases the user handles (access.handler_scope, the same rule as the
case parts and the overdue list)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from incidents import access
from incidents.domain import IncidentStatus
from incidents.extensions import db
from incidents.models import Incident, User
from incidents.services import support

OPEN_LIMIT = 200


@dataclass
class Inbox:
    new: list[Incident] = field(default_factory=list)
    overdue: list[dict[str, Any]] = field(default_factory=list)
    open: list[Incident] = field(default_factory=list)


def inbox(user: User) -> Inbox:
    """Reported cases oldest first (the oldest has waited longest), overdue items most overdue
    first, open cases newest first (at most OPEN_LIMIT)."""
    handled = select(Incident).where(access.handler_scope(user))
    new = db.session.scalars(
        handled.where(Incident.status == IncidentStatus.REPORTED.value)
        .order_by(Incident.created_at, Incident.id)
    ).all()
    open_cases = db.session.scalars(
        handled.where(Incident.status.in_([IncidentStatus.ACKNOWLEDGED.value,
                                           IncidentStatus.IN_FOLLOW_UP.value]))
        .order_by(Incident.created_at.desc(), Incident.id.desc()).limit(OPEN_LIMIT)
    ).all()
    return Inbox(new=list(new), overdue=support.overdue(user), open=list(open_cases))
