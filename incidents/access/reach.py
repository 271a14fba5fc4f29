"""The reach of a person: which incidents, cases, statistics, surveys and workshops they may see.

The rules (docs/roles-and-access.md):

* **Parts of the organisation.** A manager leads units; hr, statistics readers and admins hold
  their role for units (``UnitAssignment``). Each reaches the unit and every unit below it. HR
  of one district administration reaches that district only; HR at the root reaches all of one
  organisation. Nobody reaches across organisations (roots) except the platform admin, and the
  platform admin reaches no incident.
* **Incidents.** Everyone sees what they reported and what was reported on their behalf. A
  manager also sees the incidents of the units they lead and below; hr those of the units it
  holds and below. A statistics reader and an admin reach no incident.
* **Case handling.** A case handler is a manager leading the incident's unit or a unit above
  it, or hr holding such a unit — never the exposed employee: nobody handles their own case.
* **The exposed employee** is the colleague reported for, else the reporter; unknown (NULL) for
  an anonymous report (``Incident.exposed_user_id``, the same in Python and SQL).
* **Statistics and summaries.** Managers, hr and statistics readers, for the units they reach;
  unsuppressed figures only for hr (audited). Surveys and workshops: hr, for those whose every
  unit it reaches; workshop summaries also statistics readers who reach every unit.

Each rule is written once, as an SQL condition for queries and, where a single record is at
hand, as the same rule in Python.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, has_request_context
from sqlalchemy import and_, exists, false, or_, true
from sqlalchemy.sql.elements import ColumnElement

from incidents.access.tree import UnitTree, one_of, roots_of, subtree, unit_within
from incidents.domain import Role
from incidents.extensions import db
from incidents.models import Incident, Survey, SurveyUnit, User, Workshop, WorkshopUnit

# Who may ask for statistics, stored summaries and the dark figure at all; what they see is
# the reach below.
STATISTICS_ROLES = (Role.HR, Role.MANAGER, Role.STATISTICS_READER)
# Who handles cases (in the units they reach).
HANDLER_ROLES = (Role.MANAGER, Role.HR)
# Who administers users, units and head-counts (an admin in the units they hold).
ADMIN_ROLES = (Role.ADMIN, Role.PLATFORM_ADMIN)


def led_units(user: User) -> set[int]:
    """The units a user leads as manager (their sub-units are reached through them)."""
    return set(user.leads_unit_ids) if user.has_role(Role.MANAGER) else set()


def hr_units(user: User) -> set[int]:
    """The units a user is hr for (and, through them, every unit below)."""
    return set(user.assigned_unit_ids(Role.HR))


def reader_units(user: User) -> set[int]:
    return set(user.assigned_unit_ids(Role.STATISTICS_READER))


def admin_units(user: User) -> set[int]:
    return set(user.assigned_unit_ids(Role.ADMIN))


def is_platform_admin(user: User) -> bool:
    return user.has_role(Role.PLATFORM_ADMIN)


def handling_units(user: User) -> set[int]:
    """The top units whose incidents a user handles: those they lead and those they are hr for."""
    return led_units(user) | hr_units(user)


def handled_subtree(user: User):
    """The units whose incidents a user handles, with everything below them, as one SQL
    selectable, built once per request for each person (the incident and case queries of a
    request share it); a change of role shows on the next request."""
    roots = sorted(handling_units(user))
    if not has_request_context() or getattr(user, "id", None) is None:
        return subtree(roots)
    built = g.setdefault("access_subtrees", {})
    key = (user.id, tuple(roots))
    if key not in built:
        built[key] = subtree(roots)
    return built[key]


def handled_unit_ids(user: User) -> list[int]:
    """The ids of ``handled_subtree``, read once per request for each person. A list's query
    needs the values, not the subquery: with them PostgreSQL reads a whole organisation's page
    from the list order's index and a small team's from the unit's, where a subquery made it
    read and sort every incident of the subtree (docs/performance.md)."""
    roots = sorted(handling_units(user))
    if not roots:
        return []
    if not has_request_context() or getattr(user, "id", None) is None:
        return sorted(db.session.scalars(subtree(roots)))
    read = g.setdefault("access_subtree_ids", {})
    key = (user.id, tuple(roots))
    if key not in read:
        read[key] = sorted(db.session.scalars(subtree(roots)))
    return read[key]


# -- incidents ------------------------------------------------------------------------------


def is_reporter(user: User, incident: Incident) -> bool:
    """Only the reporter may correct a report (not the colleague it was made for)."""
    return incident.reporter_id is not None and incident.reporter_id == user.id


def own_incidents(user: User) -> ColumnElement[bool]:
    """What the user reported, and what was reported on their behalf ("my reports")."""
    return or_(Incident.reporter_id == user.id, Incident.on_behalf_of_id == user.id)


def incident_scope(user: User) -> ColumnElement[bool]:
    """The incidents a user may see: the condition every incident query starts from."""
    conditions: list[ColumnElement[bool]] = [own_incidents(user)]
    if handling_units(user):
        conditions.append(Incident.unit_id.in_(handled_subtree(user)))
    return or_(*conditions)


def list_branches(user: User, *, own_only: bool = False) -> list[ColumnElement[bool]]:
    """``incident_scope`` as disjoint parts, for lists that read each part in order on its own
    index and merge them: what the user reported; what was reported for them by someone else;
    with ``own_only`` unset, the rest of the incidents of the units they handle."""
    branches: list[ColumnElement[bool]] = [
        Incident.reporter_id == user.id,
        and_(Incident.on_behalf_of_id == user.id, Incident.reporter_id.is_distinct_from(user.id)),
    ]
    if not own_only and handling_units(user):
        branches.append(and_(one_of(Incident.unit_id, handled_unit_ids(user)),
                             Incident.reporter_id.is_distinct_from(user.id),
                             Incident.on_behalf_of_id.is_distinct_from(user.id)))
    return branches


def in_units(unit_id: int) -> ColumnElement[bool]:
    """Incidents of a unit and every unit below it (a list filter, not a permission)."""
    return Incident.unit_id.in_(subtree([unit_id]))


# -- cases ----------------------------------------------------------------------------------


def is_exposed_employee(user: User, incident: Incident) -> bool:
    return incident.exposed_user_id is not None and user.id == incident.exposed_user_id


def is_case_handler(user: User, incident: Incident) -> bool:
    if is_exposed_employee(user, incident):
        return False
    return unit_within(incident.unit_id, handling_units(user))


def handler_scope(user: User) -> ColumnElement[bool]:
    """``is_case_handler`` as an SQL condition, for lists (the inbox, overdue items)."""
    if not handling_units(user):
        return false()
    exposed = Incident.exposed_user_id
    # An anonymous report has no known exposed employee (NULL), so nobody is excluded.
    not_own = or_(exposed.is_(None), exposed != user.id)
    return and_(Incident.unit_id.in_(handled_subtree(user)), not_own)


def may_read_part(user: User, incident: Incident, *, exposed_may_read: bool) -> bool:
    """Case handlers read every part of a case; the exposed employee the parts open to them."""
    return is_case_handler(user, incident) or (
        exposed_may_read and is_exposed_employee(user, incident)
    )


# -- statistics and summaries ---------------------------------------------------------------


def statistics_units(user: User) -> set[int]:
    """The top units whose statistics a user may see: led, hr and statistics-reader units."""
    return led_units(user) | hr_units(user) | reader_units(user)


def statistics_roots(user: User, tree: UnitTree) -> list[int]:
    """The top of what a user's statistics cover by default: the top-most units they reach;
    empty for those who may see no statistics."""
    return tree.tops(statistics_units(user) & set(tree.parent))


def statistics_cover(user: User, tree: UnitTree, unit_ids: Iterable[int]) -> bool:
    """Whether the user may see (suppressed) statistics about every one of these units."""
    reached = statistics_units(user)
    unit_ids = list(unit_ids)
    return bool(reached) and all(tree.is_within(unit_id, reached) for unit_id in unit_ids)


def may_see_unsuppressed(user: User, tree: UnitTree, unit_ids: Iterable[int]) -> bool:
    """Unsuppressed figures (small counts shown as they are) are hr's, for units it reaches;
    never a manager's or a statistics reader's (docs/statistics.md)."""
    reached = hr_units(user)
    unit_ids = list(unit_ids)
    return bool(reached) and all(tree.is_within(unit_id, reached) for unit_id in unit_ids)


def readable_summary_units(user: User) -> set[int]:
    """The units whose stored statistics summaries a user may read: those they reach for
    statistics, with everything below them."""
    reached = statistics_units(user)
    if not reached:
        return set()
    tree = UnitTree.load()
    return {u for u in tree.parent if tree.is_within(u, reached)}


# -- surveys and workshops ------------------------------------------------------------------


def _all_units_within(link_units, link_key, owner_id, roots: set[int]) -> ColumnElement[bool]:
    """Every unit the survey or workshop is for lies within ``roots`` (and it has at least one)."""
    if not roots:
        return false()
    outside = exists().where(link_key == owner_id,
                             link_units.not_in(subtree(sorted(roots))))
    return ~outside


def survey_scope(user: User) -> ColumnElement[bool]:
    """The surveys hr may see and run: those whose every unit it reaches."""
    return _all_units_within(SurveyUnit.unit_id, SurveyUnit.survey_id, Survey.id, hr_units(user))


def workshop_scope(user: User, *, summaries: bool = False) -> ColumnElement[bool]:
    """The workshops hr may see and run: those whose every unit it reaches. With ``summaries``,
    whose summaries may be read: also a statistics reader's who reaches every unit."""
    roots = hr_units(user) | (reader_units(user) if summaries else set())
    return _all_units_within(WorkshopUnit.unit_id, WorkshopUnit.workshop_id, Workshop.id, roots)


def covers_units(user: User, role: str, unit_ids: Iterable[int],
                 tree: UnitTree | None = None) -> bool:
    """Whether the user holds ``role`` for every one of these units (to set a survey or a
    workshop up for them, to set their head-counts, to be told of their summaries)."""
    roots = set(user.assigned_unit_ids(role))
    unit_ids = list(unit_ids)
    if not roots or not unit_ids:
        return False
    tree = tree or UnitTree.load()
    return all(tree.is_within(unit_id, roots) for unit_id in unit_ids)


# -- organisations and administration -------------------------------------------------------


def reached_units(user: User) -> set[int]:
    """Every unit the user reaches in any role (as the top of a subtree), and their own unit."""
    units = handling_units(user) | reader_units(user) | admin_units(user)
    if user.unit_id is not None:
        units.add(user.unit_id)
    return units


def organisations_of(user: User, tree: UnitTree) -> set[int]:
    """The organisations (roots) a user belongs to or works in; every root for a platform admin."""
    if is_platform_admin(user):
        return set(tree.roots)
    return {tree.root_of(u) for u in reached_units(user) if u in tree.parent}


def in_organisations_of(user: User, unit_id: int) -> bool:
    """Whether the unit belongs to an organisation the user belongs to or works in (where they
    may report; a unit of another municipality is as unknown to them as one that does not
    exist). One query."""
    if is_platform_admin(user):
        return True
    reached = reached_units(user)
    roots = roots_of([unit_id, *reached])
    return unit_id in roots and roots[unit_id] in {roots[u] for u in reached if u in roots}


def unit_scope(user: User, tree: UnitTree) -> set[int]:
    """The units a user may see in the unit tree (to report in, to choose from): those of the
    organisations they belong to. Nobody sees another organisation's units but a platform admin."""
    roots = organisations_of(user, tree)
    return {u for u in tree.parent if tree.root_of(u) in roots}


def administers_all(user: User, tree: UnitTree) -> bool:
    """Deployment-wide acts (settings, a new organisation, people without a unit) are for the
    platform admin, or an admin of every organisation there is."""
    if is_platform_admin(user):
        return True
    held = admin_units(user)
    return bool(held) and all(root in held for root in tree.roots)


def administers_unit(user: User, tree: UnitTree, unit_id: int | None) -> bool:
    """Whether an admin keeps this unit (and the people in it): it lies within a unit they hold
    admin for. No unit (a person without one) is the deployment's: ``administers_all``."""
    if is_platform_admin(user):
        return True
    if unit_id is None:
        return administers_all(user, tree)
    return tree.is_within(unit_id, admin_units(user))


def administers_user(admin: User, tree: UnitTree, person: User) -> bool:
    """An admin keeps the people whose unit they keep, and whose every led or assigned unit
    they keep too (an admin of one district cannot touch the city's hr)."""
    units = {person.unit_id, *person.leads_unit_ids,
             *(row.unit_id for row in person.assignment_rows)}
    if units == {None}:
        return administers_unit(admin, tree, None)
    return all(administers_unit(admin, tree, u) for u in units if u is not None) and (
        person.unit_id is not None or administers_all(admin, tree))


def user_scope(admin: User) -> ColumnElement[bool]:
    """The people an admin lists: everyone for a platform admin; else those whose unit lies in
    a unit the admin holds (people without a unit: for an admin of every organisation)."""
    if is_platform_admin(admin):
        return true()
    held = admin_units(admin)
    if not held:
        return false()
    tree = UnitTree.load()
    within = User.unit_id.in_(subtree(sorted(held)))
    return or_(within, User.unit_id.is_(None)) if administers_all(admin, tree) else within

