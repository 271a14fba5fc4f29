"""The daily reminder digest: one mail a day to each manager with overdue items in the cases
they handle, and to each hr with overdue items in the cases it is responsible for, sent at 07:00
(docs/operations.md, "The jobs").

Rules:

- what is overdue is what the manager's own list shows (GET /api/v1/follow-up/overdue,
  services/support.py ``overdue``): acknowledgements, check-ins, police-report decisions and
  notifications to Arbetsmiljöverket (a duty without delay, AML 3 kap. 3 a §), in the cases the
  manager handles (services/case_access.py ``handler_scope``: the units they lead and below,
  never their own case);
- at most one digest per manager and day, the day reckoned in the organisation's time zone
  (TIMEZONE). A ``ReminderDigest`` row (unique per manager and day) is written in the same
  transaction as the mail, so a second run that day, a catch-up after downtime or a second
  scheduler process writes nothing. Each manager is written in a SAVEPOINT: a run that finds
  another run's row committed meanwhile (the unique key refuses its insert) skips that manager
  and keeps the others;
- an active manager who leads a unit and has something overdue gets a mail, as does an active
  hr with something overdue in a case it is **responsible** for (access.responsible_handlers:
  no manager at or above the unit can handle it — nobody leads there, or the case is the
  manager's own). hr is not reminded of cases a manager handles: it reads those on its overdue
  list when it wants. Nobody else gets a digest, and a person with nothing overdue gets neither
  a mail nor a row (the row's ``manager_id`` is the person reminded, manager or hr);
- the mail, in Swedish and English, lists each item's reference, what is overdue and since when
  (local time) and a link to the incident's web page (a check-in to the page's check-ins), and
  ends with a link to the overdue list's page; never the description, anyone's name or anything
  from the messages. An anonymous report is listed like the others, by its reference; its due
  times follow from a receipt time cut to the hour (services/anonymous.py).

The caller commits: the rows are flushed into the session's transaction (the scheduler job
commits once after the call).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError

from incidents import access
from incidents.clock import to_local
from incidents.domain import Label, Role
from incidents.extensions import db
from incidents.models import (
    Incident,
    OutboxMail,
    ReminderDigest,
    UnitAssignment,
    UnitLeader,
    User,
    UserRole,
)
from incidents.services import authority, lifecycle, police, support
from incidents.services.notifications import page_url

MAIL_KIND = "reminder_digest"
# The part of the incident's page an overdue item is done on; others link to the page's top.
SECTIONS = {"check_in": "check-ins"}
# A longer list is cut here; the mail links to the full list.
MAX_LISTED = 50

KIND_LABELS = {
    "acknowledgement": Label("Kvittens", "Acknowledgement"),
    "check_in": Label("Uppföljningskontakt", "Check-in"),
    "police_decision": Label("Beslut om polisanmälan", "Police-report decision"),
    "work_environment_notification": Label(
        "Anmälan till Arbetsmiljöverket", "Notification to Arbetsmiljöverket"
    ),
}


def overdue_items(manager: User, now: datetime) -> list[dict[str, Any]]:
    """What the manager's overdue list shows at ``now`` (services/support.py ``overdue``),
    oldest first."""
    items = (
        lifecycle.overdue_acknowledgements(manager, now)
        + support.overdue_check_ins(manager, now)
        + police.overdue_decisions(manager, now)
        + authority.overdue_notifications(manager, now)
    )
    return sorted(items, key=lambda item: (item["due_at"], item["incident_id"], item["kind"]))


def active_handlers() -> list[User]:
    """Who may get a digest: active managers who lead a unit and active hr holding the role
    for a unit, in id order (as ``active_managers``)."""
    leads = (UserRole.role == Role.MANAGER.value) & exists().where(UnitLeader.user_id == User.id)
    hr = (UserRole.role == Role.HR.value) & exists().where(
        UnitAssignment.user_id == User.id, UnitAssignment.role == Role.HR.value)
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.active.is_(True), or_(leads, hr))
            .distinct()
            .order_by(User.id)
        )
    )


def digest_items(person: User, now: datetime) -> list[dict[str, Any]]:
    """What the person's digest lists: a manager's overdue items in the units they lead and
    below (all of their overdue list); an hr's only those of the cases it is responsible for."""
    items = overdue_items(person, now)
    if not items or not access.hr_units(person):
        return items  # a manager only: everything on their list is in the units they lead
    led = access.led_units(person)
    responsible = _responsible(person, {item["incident_id"] for item in items})
    return [item for item in items
            if item["incident_id"] in responsible
            or (led and access.unit_within(item["unit_id"], led))]


def _responsible(person: User, incident_ids: set[int]) -> set[int]:
    """Of these incidents, those the person is responsible for (one query for the incidents,
    one for who is responsible)."""
    rows = db.session.execute(
        select(Incident.id, Incident.unit_id, Incident.reporter_id,
               Incident.exposed_user_id.label("exposed_user_id"))
        .where(Incident.id.in_(sorted(incident_ids)))
    ).all()
    handlers = access.responsible_for_incidents(rows)
    return {incident_id for incident_id, found in handlers.items()
            if any(h.user_id == person.id for h in found)}


def send_daily_digests(now: datetime) -> int:
    """Queue today's digest for every active manager and hr with overdue items (as
    ``digest_items``) who has none yet today; returns how many were written. Flushes; the
    caller commits."""
    day = to_local(now).date()
    already = set(
        db.session.scalars(select(ReminderDigest.manager_id).where(ReminderDigest.day == day))
    )
    written = 0
    for person in active_handlers():
        if person.id in already:
            continue
        items = digest_items(person, now)
        if items and _write(person, day, items, now):
            written += 1
    return written


def _write(manager: User, day: date, items: list[dict[str, Any]], now: datetime) -> bool:
    """The digest row and its mail, together or not at all. False when another run wrote this
    manager's digest for the day first (the unique key of reminder_digests)."""
    subject, body = compose(day, items)
    try:
        with db.session.begin_nested():
            db.session.add(
                ReminderDigest(manager_id=manager.id, day=day, items=len(items), created_at=now)
            )
            db.session.add(
                OutboxMail(
                    kind=MAIL_KIND,
                    incident_id=None,
                    recipient=manager.email,
                    subject=subject,
                    body=body,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            db.session.flush()
    except IntegrityError:
        return False
    return True


def _since(moment: datetime) -> str:
    return to_local(moment).strftime("%Y-%m-%d %H:%M %Z")


def _what(item: dict[str, Any]) -> str:
    label = KIND_LABELS[item["kind"]]
    suffix = f" ({item['offset']})" if item["kind"] == "check_in" else ""
    return f"{label.sv}{suffix} / {label.en}{suffix}"


def _link(item: dict[str, Any]) -> str:
    """The incident's page, at the part where the overdue item is done."""
    return page_url("report", section=SECTIONS.get(item["kind"]), incident_id=item["incident_id"])


def compose(day: date, items: list[dict[str, Any]]) -> tuple[str, str]:
    """Subject and body: references, what is overdue, since when (local time) and links; no
    case content."""
    n = len(items)
    sv = "försenad åtgärd" if n == 1 else "försenade åtgärder"
    en = "overdue item" if n == 1 else "overdue items"
    subject = f"Påminnelse: {n} {sv} / Reminder: {n} {en}"
    lines = [
        f"Försenade åtgärder i ärenden du hanterar, {day.isoformat()}:",
        f"Overdue items in the cases you handle, {day.isoformat()}:",
        "",
    ]
    for item in items[:MAX_LISTED]:
        lines += [
            f"- {item['reference']}: {_what(item)}",
            f"  försenad sedan / overdue since {_since(item['due_at'])}",
            f"  {_link(item)}",
        ]
    if n > MAX_LISTED:
        lines += ["", f"… och {n - MAX_LISTED} till / and {n - MAX_LISTED} more."]
    lines += [
        "",
        f"Hela listan / The full list:\n{page_url('overdue')}",
        "",
        "Det här är ett automatiskt meddelande; svara inte på det.",
        "This is an automatic message; please do not reply to it.",
    ]
    return subject, "\n".join(lines) + "\n"
