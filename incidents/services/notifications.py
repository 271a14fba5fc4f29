"""Notification mails, written to the outbox in the same transaction as the change they are about,
so the reporter is kept informed. A sender outside the request delivers them
(services/outbox.py), so a mail server that is down never fails or slows a request.

Rules: the reporter (and the colleague reported for) gets a mail on every status change and every
new message from a case handler; the managers of the unit get one for each new incident and each
new message from the reporter. A mail carries the reference, the new status and a link to the
incident's web page (``page_url``) — never the description or anyone's name. An anonymous
reporter has no address and gets no mail.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from incidents.clock import this_hour, utcnow
from incidents.domain import STATUS_LABELS, IncidentStatus, Role
from incidents.extensions import db
from incidents.models import Incident, OutboxMail, Unit, UnitLeader, User, UserRole

# The web pages a mail links to, where the person acts: the incident's page (the reporter, the
# exposed colleague and the case handlers in scope all open it behind sign-in), the manager's
# overdue list, and a summary for hr. The web layer serves these paths.
PAGES: dict[str, str] = {
    "report": "/reports/{incident_id}",
    "overdue": "/overdue",
    "summary": "/summaries/{summary_id}",
}


def page_url(page: str, *, section: str | None = None, **params: int) -> str:
    """The address of one of PAGES as people reach it (PUBLIC_BASE_URL), with ``section`` as
    its anchor. Every link in every mail is built here, so a mail always leads to a page,
    never to the JSON API."""
    path = PAGES[page].format(**params)
    anchor = f"#{section}" if section else ""
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}{anchor}"


def _link(incident: Incident) -> str:
    return page_url("report", incident_id=incident.id)


def _queue(kind: str, incident: Incident, recipients: Iterable[User], subject: str, body: str):
    # Mails about an anonymous report are queued only when it or the reporter's message is
    # published at the full hour (services/anonymous.py), and keep their times to that hour;
    # due at once, as the hour has begun. The Date header says the hour too (services/outbox.py).
    at = this_hour() if incident.anonymous else utcnow()
    seen: set[str] = set()
    for user in recipients:
        if not user.active or user.email in seen:
            continue
        seen.add(user.email)
        db.session.add(
            OutboxMail(
                kind=kind,
                incident_id=incident.id,
                recipient=user.email,
                subject=subject,
                body=body,
                created_at=at,
                next_attempt_at=at,
            )
        )


def _footer(incident: Incident) -> str:
    return (
        f"\n\nÖppna ärendet / Open the incident:\n{_link(incident)}\n\n"
        "Det här är ett automatiskt meddelande; svara inte på det.\n"
        "This is an automatic message; please do not reply to it.\n"
    )


def unit_managers(unit_id: int, exclude: set[int | None]) -> list[User]:
    """The active managers leading the incident's unit; where nobody (other than those
    excluded) leads it, those of the nearest unit above that has one."""
    current: int | None = unit_id
    visited: set[int] = set()
    while current is not None and current not in visited:
        visited.add(current)
        managers = db.session.scalars(
            select(User)
            .join(UnitLeader, UnitLeader.user_id == User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UnitLeader.unit_id == current,
                UserRole.role == Role.MANAGER.value,
                User.active.is_(True),
            )
            .order_by(User.id)
        ).all()
        chosen = [m for m in managers if m.id not in exclude]
        if chosen:
            return chosen
        current = db.session.scalar(select(Unit.parent_id).where(Unit.id == current))
    return []


def _people_told(incident: Incident) -> list[User]:
    """The reporter and the colleague reported for; nobody for an anonymous report."""
    ids = [i for i in (incident.reporter_id, incident.on_behalf_of_id) if i is not None]
    return [db.session.get(User, i) for i in dict.fromkeys(ids)]


def managers_to_tell(unit_id: int, reporter_id: int | None, exposed_user_id: int | None):
    """Who hears of a new incident in the unit: its managers, but not the reporter or the
    exposed employee themselves. Read before the report takes its reference number (the year's
    counter stays locked from then until commit, so what follows should be writes only)."""
    return unit_managers(unit_id, exclude={reporter_id, exposed_user_id})


def new_incident(incident: Incident, recipients: list[User]) -> None:
    subject = f"Ny händelse / New incident {incident.reference}"
    body = (
        f"En ny händelse, {incident.reference}, har rapporterats i en enhet du är chef för. "
        "Kvittera den inom ett dygn.\n"
        f"A new incident, {incident.reference}, was reported in a unit you lead. "
        "Please acknowledge it within a day." + _footer(incident)
    )
    _queue("new_incident", incident, recipients, subject, body)


def status_changed(incident: Incident, to: IncidentStatus, by: User | None) -> None:
    label = STATUS_LABELS[to]
    recipients = [u for u in _people_told(incident) if by is None or u.id != by.id]
    subject = f"{incident.reference}: {label.sv} / {label.en}"
    body = (
        f"Händelsen {incident.reference} har fått ny status: {label.sv}.\n"
        f"The incident {incident.reference} has a new status: {label.en}." + _footer(incident)
    )
    _queue("status_changed", incident, recipients, subject, body)


def new_message_for_reporter(incident: Incident, by: User) -> None:
    recipients = [u for u in _people_told(incident) if u.id != by.id]
    _new_message(incident, recipients)


def new_message_for_handlers(incident: Incident, by: User | None) -> None:
    exclude = {incident.reporter_id, incident.exposed_user_id, by.id if by else None}
    _new_message(incident, unit_managers(incident.unit_id, exclude=exclude))


def _new_message(incident: Incident, recipients: list[User]) -> None:
    subject = f"Nytt meddelande / New message {incident.reference}"
    body = (
        f"Det finns ett nytt meddelande i ärendet {incident.reference}.\n"
        f"There is a new message in the incident {incident.reference}." + _footer(incident)
    )
    _queue("new_message", incident, recipients, subject, body)
