"""The message thread of an incident: the reporter's side and the case handlers, which keeps
the reporter informed.

Who takes part: the case handlers (services/case_access.py), and on the reporter's side the
reporter and the colleague reported for. Outside the scope it is 404. Today everyone in scope is
one or the other, so the 403 (audited) for someone in scope who is neither only guards against a
wider scope rule later. An anonymous reporter takes
part through the receipt code (services/anonymous.py); their messages and reads are held and
written here at the next full hour, with the hour as their time. Messages are append-only; every
read and every new message is audited, and the other side is told by mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from incidents.domain import AuditAction, AuditRecord, MessageSender
from incidents.errors import Forbidden
from incidents.extensions import db
from incidents.models import Incident, Message, User
from incidents.services import audit, notifications
from incidents.services.case_access import is_case_handler
from incidents.services.reporting import find_in_scope


def thread(incident: Incident) -> list[Message]:
    return list(
        db.session.scalars(
            select(Message).where(Message.incident_id == incident.id).order_by(Message.id)
        )
    )


def add(
    incident: Incident,
    sender: MessageSender,
    author: User | None,
    body: str,
    at: datetime | None = None,
) -> Message:
    message = Message(
        incident_id=incident.id,
        sender=sender.value,
        author_id=author.id if author else None,
        body=body,
    )
    if at is not None:
        message.created_at = at
    db.session.add(message)
    if sender == MessageSender.CASE_HANDLER:
        notifications.new_message_for_reporter(incident, author)
    else:
        notifications.new_message_for_handlers(incident, author)
    db.session.flush()
    return message


def _side(user: User, incident: Incident) -> MessageSender | None:
    """A case handler writes as one even when they also filed the report for a colleague."""
    if is_case_handler(user, incident):
        return MessageSender.CASE_HANDLER
    if user.id in (incident.reporter_id, incident.on_behalf_of_id):
        return MessageSender.REPORTER
    return None


def participant(user: User, incident_id: int, what: str) -> tuple[Incident, MessageSender]:
    """The incident and the side the user writes on; 404 outside the scope, 403 when the user
    is on neither side of the thread."""
    incident = find_in_scope(user, incident_id)
    side = _side(user, incident)
    if side is None:
        raise audit.denied(
            Forbidden(
                f"Only the case handlers and the reporter may {what}: the thread is between "
                "them."
            ),
            user,
            incident.id,
            f"{what}: not a participant",
            record=AuditRecord.MESSAGES,
        )
    return incident, side


def list_for_user(user: User, incident_id: int) -> list[Message]:
    incident, _side_ = participant(user, incident_id, "read the messages")
    audit.record(user, AuditAction.READ, incident.id, detail="messages",
                 record=AuditRecord.MESSAGES)
    return thread(incident)


def post_for_user(user: User, incident_id: int, body: str) -> Message:
    incident, side = participant(user, incident_id, "write a message")
    message = add(incident, side, user, body)
    audit.record(user, AuditAction.UPDATE, incident.id, detail=f"message {message.id} added",
                 record=AuditRecord.MESSAGES)
    return message
