"""Units where nobody would be responsible for a report, for those who can fix it.

Every report has a case handler from the moment it is reported (access.responsible_handlers):
the nearest manager at or above its unit, else the hr reaching the unit. A unit with neither has
nobody, so:

- the admin pages and ``GET /api/v1/units/unanswered`` list those units to the admins who
  administer them (``units_for``; a platform admin sees all);
- once a day the scheduler (``daily_check``, docs/operations.md) logs a warning naming the
  units and mails each active admin who administers one of them, and every active platform
  admin, the list with links to the units' admin pages: at most one mail per person and
  (local) day, through the outbox. Nothing is mailed while the list is empty.

The caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from incidents import access
from incidents.access import UnansweredUnit, UnitTree
from incidents.clock import local_midnight, to_local
from incidents.domain import Role
from incidents.extensions import db
from incidents.models import OutboxMail, User, UserRole
from incidents.services.notifications import page_url

log = logging.getLogger(__name__)

MAIL_KIND = "unanswered_units"
# A longer list is cut here; the mail links to the page with the whole.
MAX_LISTED = 50


def units_for(admin: User) -> list[UnansweredUnit]:
    """The units without anyone responsible that this admin administers (all of them for a
    platform admin), by name."""
    found = access.units_without_handler()
    if not found:
        return []
    tree = UnitTree.load()
    return [unit for unit in found if access.administers_unit(admin, tree, unit.id)]


@dataclass
class CheckRun:
    units: list[int] = field(default_factory=list)
    mailed: list[str] = field(default_factory=list)


def _admins() -> list[User]:
    """Active admins and platform admins, in id order."""
    return list(db.session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role.in_([Role.ADMIN.value, Role.PLATFORM_ADMIN.value]),
               User.active.is_(True))
        .distinct()
        .order_by(User.id)
    ))


def _mailed_today(now: datetime) -> set[str]:
    start = local_midnight(to_local(now).date())
    return set(db.session.scalars(
        select(OutboxMail.recipient).where(OutboxMail.kind == MAIL_KIND,
                                           OutboxMail.created_at >= start,
                                           OutboxMail.created_at < start + timedelta(days=1))
    ))


def daily_check(now: datetime) -> CheckRun:
    """Find the units where nobody would be responsible; log them and mail the admins who
    administer them (and platform admins), once per person and day. Flushes; the caller
    commits."""
    found = access.units_without_handler()
    run = CheckRun(units=sorted(unit.id for unit in found))
    if not found:
        return run
    log.warning("units without anyone responsible for reports: %s",
                ", ".join(str(i) for i in run.units))
    tree = UnitTree.load()
    already = _mailed_today(now)
    for admin in _admins():
        if admin.email in already:
            continue
        theirs = [u for u in found if access.administers_unit(admin, tree, u.id)]
        if not theirs:
            continue
        subject, body = compose(theirs)
        db.session.add(OutboxMail(kind=MAIL_KIND, incident_id=None, recipient=admin.email,
                                  subject=subject, body=body, created_at=now,
                                  next_attempt_at=now))
        already.add(admin.email)
        run.mailed.append(admin.email)
    db.session.flush()
    return run


def compose(units: list[UnansweredUnit]) -> tuple[str, str]:
    """Subject and body: the units' names and links to their admin pages."""
    n = len(units)
    sv = "enhet" if n == 1 else "enheter"
    en = "unit" if n == 1 else "units"
    subject = (f"{n} {sv} utan ansvarig för rapporter / "
               f"{n} {en} without anyone responsible for reports")
    lines = [
        "Ingen skulle hantera en rapport från de här enheterna: ingen aktiv chef leder enheten "
        "eller någon enhet ovanför den, och ingen aktiv HR har den. En rapport därifrån tas "
        "emot men når ingen. Ge enheten (eller en enhet ovanför) en chef, eller HR för den.",
        "Nobody would handle a report from these units: no active manager leads the unit or a "
        "unit above it, and no active HR covers it. A report from there is stored but reaches "
        "nobody. Give the unit (or a unit above it) a manager, or HR for it.",
        "",
    ]
    for unit in units[:MAX_LISTED]:
        lines += [f"- {unit.name}", f"  {page_url('admin_unit', unit_id=unit.id)}"]
    if n > MAX_LISTED:
        lines += ["", f"… och {n - MAX_LISTED} till / and {n - MAX_LISTED} more."]
    lines += [
        "",
        f"Organisationsträdet / The organisation tree:\n{page_url('admin_units')}",
        "",
        "Det här är ett automatiskt meddelande; svara inte på det.",
        "This is an automatic message; please do not reply to it.",
    ]
    return subject, "\n".join(lines) + "\n"
