"""Notification mails, written to the outbox in the same transaction as the change they are about,
so the reporter is kept informed. A sender outside the request delivers them
(services/outbox.py), so a mail server that is down never fails or slows a request.

Rules: the reporter (and the colleague reported for) gets a mail on every status change and every
new message from a case handler; the people responsible for the incident
(access.responsible_handlers: the managers of the nearest unit at or above it that has one, else
the hr reaching it; never the reporter or the exposed employee) get one for each new incident
and each new message from the reporter, hr told that it is theirs because no manager at or above
the unit can take it. A mail carries the reference, the new status and a link to the
incident's web page (``page_url``) — never the description or anyone's name. An anonymous
reporter has no address and gets no mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from incidents.access import Handler, responsible_handlers
from incidents.clock import this_hour, utcnow
from incidents.domain import STATUS_LABELS, IncidentStatus
from incidents.extensions import db
from incidents.models import Incident, OutboxMail, User

# The web pages a mail links to, where the person acts: the incident's page (the reporter, the
# exposed colleague and the case handlers in scope all open it behind sign-in), the manager's
# overdue list, a summary for hr, and for admins a unit's page and the organisation tree. The
# web layer serves these paths.
PAGES: dict[str, str] = {
    "report": "/reports/{incident_id}",
    "overdue": "/overdue",
    "summary": "/summaries/{summary_id}",
    "admin_unit": "/admin/units/{unit_id}",
    "admin_units": "/admin/units",
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


def _queue(kind: str, incident: Incident, recipients: Iterable[User | Handler], subject: str,
           body: str):
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


def _people_told(incident: Incident) -> list[User]:
    """The reporter and the colleague reported for; nobody for an anonymous report."""
    ids = [i for i in (incident.reporter_id, incident.on_behalf_of_id) if i is not None]
    return [db.session.get(User, i) for i in dict.fromkeys(ids)]


def managers_to_tell(
    unit_id: int, reporter_id: int | None, exposed_user_id: int | None
) -> list[Handler]:
    """Who hears of a new incident in the unit: those responsible for it
    (access.responsible_handlers), never the reporter or the exposed employee themselves. One
    query; read before the report takes its reference number."""
    return responsible_handlers(unit_id, exclude={reporter_id, exposed_user_id})


# Why hr gets a mail about a unit: no manager at or above it can take the case.
HR_REASON = (
    "Du får det här som HR eftersom ingen chef på enheten eller ovanför den kan hantera "
    "ärendet (ingen leder dem, eller händelsen gäller chefen själv).\n"
    "You receive this as HR because no manager at the unit or above it can handle the case "
    "(nobody leads them, or the incident concerns the manager themselves)."
)


def _handlers(recipients: Iterable[User | Handler]) -> list[Handler]:
    """Handlers as they are; a User (from older callers) as a manager leading the unit."""
    found = []
    for person in recipients:
        if isinstance(person, Handler):
            found.append(person)
        elif person.active:
            found.append(Handler(person.id, person.email, person.name, "manager"))
    return found


def new_incident(incident: Incident, recipients: Iterable[User | Handler]) -> None:
    """Mail those responsible (``managers_to_tell``) about a new incident; they are kept on
    the incident for the receipt (``case_handlers``)."""
    handlers = _handlers(recipients)
    _remember(incident, handlers)
    subject = f"Ny händelse / New incident {incident.reference}"
    managers = [h for h in handlers if h.as_role == "manager"]
    hr = [h for h in handlers if h.as_role == "hr"]
    if managers:
        body = (
            f"En ny händelse, {incident.reference}, har rapporterats i en enhet du är chef "
            "för. Kvittera den inom ett dygn.\n"
            f"A new incident, {incident.reference}, was reported in a unit you lead. "
            "Please acknowledge it within a day." + _footer(incident)
        )
        _queue("new_incident", incident, managers, subject, body)
    if hr:
        body = (
            f"En ny händelse, {incident.reference}, har rapporterats i en enhet du är HR "
            "för. Kvittera den inom ett dygn.\n"
            f"A new incident, {incident.reference}, was reported in a unit you are HR for. "
            "Please acknowledge it within a day.\n\n" + HR_REASON + _footer(incident)
        )
        _queue("new_incident", incident, hr, subject, body)


# -- the receipt: who will handle the report ----------------------------------------------------

_TOLD = "_case_handlers_told"


def _remember(incident: Incident, handlers: list[Handler]) -> None:
    # Kept on the object for this request only (not a column): the create's answer names them
    # without asking the database again.
    setattr(incident, _TOLD, list(handlers))


def case_handlers(incident: Incident) -> list[Handler]:
    """Who handles this incident: those told of it when it was reported in this request, else
    those responsible now (the same rule, access.responsible_handlers)."""
    told = getattr(incident, _TOLD, None)
    if told is not None:
        return told
    return responsible_handlers(
        incident.unit_id, exclude={incident.reporter_id, incident.exposed_user_id}
    )


NOBODY_RESPONSIBLE = (
    "Nobody is responsible for reports in this unit yet: no active manager leads it or a unit "
    "above it, and no active hr covers it. The administrators are told every day until "
    "someone is; contact your manager or HR directly meanwhile."
)


@dataclass(frozen=True)
class Created:
    """A new incident as its reporter's receipt shows it: the incident, who will handle it
    (name and role, no address) and a warning when nobody will."""

    incident: Incident
    case_handlers: list[dict[str, str]]
    case_handlers_warning: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.incident, name)


def receipt(incident: Incident) -> Created:
    handlers = case_handlers(incident)
    return Created(
        incident=incident,
        case_handlers=[{"name": h.name, "role": h.as_role} for h in handlers],
        case_handlers_warning=None if handlers else NOBODY_RESPONSIBLE,
    )


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
    """A message from the reporter's side: to those responsible for the incident (not the
    writer, the reporter or the exposed employee)."""
    exclude = {incident.reporter_id, incident.exposed_user_id, by.id if by else None}
    handlers = responsible_handlers(incident.unit_id, exclude=exclude)
    _new_message(incident, [h for h in handlers if h.as_role == "manager"])
    _new_message(incident, [h for h in handlers if h.as_role == "hr"], reason=HR_REASON)


def _new_message(incident: Incident, recipients: list[User] | list[Handler],
                 reason: str = "") -> None:
    if not recipients:
        return
    subject = f"Nytt meddelande / New message {incident.reference}"
    body = (
        f"Det finns ett nytt meddelande i ärendet {incident.reference}.\n"
        f"There is a new message in the incident {incident.reference}."
        + (f"\n\n{reason}" if reason else "") + _footer(incident)
    )
    _queue("new_message", incident, recipients, subject, body)
