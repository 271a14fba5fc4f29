"""The reach of a person: which incidents, cases and statistics they may see.

The rules (docs/roles-and-access.md):

* **Incidents.** Everyone sees what they reported and what was reported on their behalf. A
  manager also sees the incidents of the units they lead and every unit below them. hr sees all.
  admin alone gives nothing.
* **Case handling.** A case handler is hr, or a manager leading the incident's unit or a unit
  above it — never the exposed employee: nobody handles their own case.
* **The exposed employee** is the colleague reported for, else the reporter; unknown (NULL) for
  an anonymous report (``Incident.exposed_user_id``, the same in Python and SQL).
* **Statistics and summaries.** hr: every unit; a manager: the units they lead and everything
  below them; others none.

Each rule is written once, as an SQL condition for queries and, where a single record is at
hand, as the same rule in Python.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from incidents.access.tree import UnitTree, subtree
from incidents.domain import Role
from incidents.extensions import db
from incidents.models import Incident, User


def led_units(user: User) -> set[int]:
    """The units a user leads as manager (their sub-units are reached through them)."""
    return set(user.leads_unit_ids) if user.has_role(Role.MANAGER) else set()


# -- incidents ------------------------------------------------------------------------------


def is_reporter(user: User, incident: Incident) -> bool:
    """Only the reporter may correct a report (not the colleague it was made for)."""
    return incident.reporter_id is not None and incident.reporter_id == user.id


def own_incidents(user: User) -> ColumnElement[bool]:
    """What the user reported, and what was reported on their behalf ("my reports")."""
    return or_(Incident.reporter_id == user.id, Incident.on_behalf_of_id == user.id)


def incident_scope(user: User) -> ColumnElement[bool]:
    """The incidents a user may see: the condition every incident query starts from."""
    if user.has_role(Role.HR):
        return true()
    conditions: list[ColumnElement[bool]] = [own_incidents(user)]
    led = led_units(user)
    if led:
        conditions.append(Incident.unit_id.in_(subtree(sorted(led))))
    return or_(*conditions)


def in_units(unit_id: int) -> ColumnElement[bool]:
    """Incidents of a unit and every unit below it (a list filter, not a permission)."""
    return Incident.unit_id.in_(subtree([unit_id]))


# -- cases ----------------------------------------------------------------------------------


def is_exposed_employee(user: User, incident: Incident) -> bool:
    return incident.exposed_user_id is not None and user.id == incident.exposed_user_id


def is_case_handler(user: User, incident: Incident) -> bool:
    if is_exposed_employee(user, incident):
        return False
    if user.has_role(Role.HR):
        return True
    led = led_units(user)
    if led:
        reached = db.session.scalars(subtree(sorted(led))).all()
        return incident.unit_id in set(reached)
    return False


def handler_scope(user: User) -> ColumnElement[bool]:
    """``is_case_handler`` as an SQL condition, for lists (the inbox, overdue items)."""
    exposed = Incident.exposed_user_id
    # An anonymous report has no known exposed employee (NULL), so nobody is excluded.
    not_own = or_(exposed.is_(None), exposed != user.id)
    if user.has_role(Role.HR):
        return not_own
    led = led_units(user)
    if led:
        return and_(Incident.unit_id.in_(subtree(sorted(led))), not_own)
    return false()


def may_read_part(user: User, incident: Incident, *, exposed_may_read: bool) -> bool:
    """Case handlers read every part of a case; the exposed employee the parts open to them."""
    return is_case_handler(user, incident) or (
        exposed_may_read and is_exposed_employee(user, incident)
    )


# -- statistics and summaries ---------------------------------------------------------------


def sees_all_statistics(user: User) -> bool:
    return user.has_role(Role.HR)


def statistics_roots(user: User, tree: UnitTree) -> list[int]:
    """The top of what a user's statistics cover by default: the organisation's roots for hr,
    the top-most units a manager leads; empty for others."""
    if sees_all_statistics(user):
        return tree.roots
    return tree.tops(led_units(user))


def statistics_cover(user: User, tree: UnitTree, unit_ids: list[int]) -> bool:
    """Whether the user may see statistics about every one of these units."""
    if sees_all_statistics(user):
        return True
    led = led_units(user)
    return bool(led) and all(tree.is_within(unit_id, led) for unit_id in unit_ids)


def readable_summary_units(user: User) -> set[int] | None:
    """The units whose stored summaries a user may read: None for all (hr); for a manager the
    units they lead and those below them. Workshop summaries are hr's alone."""
    if sees_all_statistics(user):
        return None
    tree = UnitTree.load()
    led = led_units(user)
    return {u for u in tree.parent if tree.is_within(u, led)}
