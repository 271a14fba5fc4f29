"""The administrator's pages: the organisation tree (units, their place, head-counts), the users
with their roles and led units, and the settings the service runs with (the organisation's,
changed here; the installation's, shown as the environment sets them).

Each form validates with the API's schema and calls the service the API calls
(incidents/api/units.py, incidents/api/users.py, incidents/api/settings.py), with the signed-in
admin as the actor; only admins and platform admins reach these pages, as in the API. Each admin
sees the people and units of their own organisations and is offered only what they administer
(incidents/access decides; the services refuse the rest). A change the API
guards with If-Match is guarded here by the version the page was shown with: a stale page is told
so and shown what is saved now.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from incidents import access, auth
from incidents.access import ADMIN_ROLES, UnitTree
from incidents.clock import to_local, utcnow
from incidents.domain import ROLE_LABELS, UNIT_KIND_LABELS, Role, UnitKind
from incidents.errors import Conflict, DomainError, Forbidden
from incidents.extensions import db
from incidents.models import Unit, User
from incidents.schemas.common import MAX_ID
from incidents.schemas.organisation import (
    HeadcountPathSchema,
    HeadcountPutSchema,
    UnitCreateSchema,
    UnitUpdateSchema,
)
from incidents.schemas.people import UserCreateSchema, UserUpdateSchema
from incidents.schemas.settings import SettingsPatchSchema
from incidents.services import organisation, people, settings, unanswered
from incidents.web.boundary import unit_of_work
from incidents.web.forms import FormState, Wording, errors_from, load, service_error, whole_number
from incidents.web.identity import login_required, signed_in_user

blp = Blueprint("admin", __name__, url_prefix="/admin")

# -- the words of the forms (field → the input the summary links to, the sentence shown) ----

UNIT_WORDING: Wording = {
    "name": ("unit-name", _l("Enter the unit's name: at most 200 characters, on one line")),
    "kind": ("unit-kind", _l("Choose what kind of unit it is")),
    "parent_id": ("parent-id", _l("Choose a unit from the list to place it under")),
}
# A refusal that is a conflict with the tree as it is (409 in the API).
MOVE_CONFLICTS: Wording = {
    "parent_id": ("parent-id", _l(
        "A unit cannot be moved under itself or under one of its own sub-units. Choose a unit "
        "outside it.")),
}
# A new organisation (a unit at the top) is the platform admin's (403 in the API).
UNIT_REFUSALS: Wording = {
    "parent_id": ("parent-id", _l(
        "Only a platform administrator adds a new organisation. Choose a unit to place it "
        "under")),
}
HEADCOUNT_WORDING: Wording = {
    "year": ("headcount-year", _l("Enter the year with four digits, from 1990 to 2200")),
    "count": ("headcount-count", _l(
        "Enter the number of employees as a whole number from 0 to 1000000")),
}
DELETE_WORDING: Wording = {
    "delete": ("delete-unit", _l(
        "The unit cannot be deleted: it still has sub-units, people whose home unit it is, "
        "managers who lead it, or incidents. Only a unit with none of these can be deleted.")),
}
USER_WORDING: Wording = {
    "name": ("user-name", _l("Enter the person's name: at most 200 characters, on one line")),
    "email": ("user-email", _l(
        "Enter an email address like name@example.org, in the letters a to z, digits and "
        ". _ - +")),
    "unit_id": ("user-unit", _l("Choose the home unit from the list, or no home unit")),
    "roles": ("role-employee", _l("Choose at least one role")),
    "leads_unit_ids": ("leads-unit-ids", _l(
        "Only a user with the manager role can lead units: tick Manager, or untick the units")),
    "hr_unit_ids": ("hr-unit-ids", _l(
        "The HR role is held for units: tick HR and at least one of your units for it, or "
        "neither")),
    "statistics_unit_ids": ("statistics-unit-ids", _l(
        "The statistics reader role is held for units: tick Statistics reader and at least one "
        "of your units for it, or neither")),
    "admin_unit_ids": ("admin-unit-ids", _l(
        "The administrator role is held for units: tick Administrator and at least one of your "
        "units for it, or neither")),
    "active": ("change-active", _l("Choose whether the account is to be active")),
}
# An admin who does not administer every organisation keeps only people with a home unit.
HOME_UNIT_REQUIRED = ("user-unit", _l("Choose the home unit from the list"))
# What the service refuses an admin (403 in the API) that a field of the form can put right.
SELF_REFUSALS: Wording = {
    "roles": ("role-employee", _l(
        "You cannot give yourself a role that reaches incidents (Manager, HR) or the "
        "administrator role: another administrator must do it")),
    **{name: (anchor, _l("You cannot give yourself more units: another administrator must do "
                         "it"))
       for name, anchor in (("leads_unit_ids", "leads-unit-ids"), ("hr_unit_ids", "hr-unit-ids"),
                            ("statistics_unit_ids", "statistics-unit-ids"),
                            ("admin_unit_ids", "admin-unit-ids"))},
}
PLATFORM_REFUSALS: Wording = {
    "roles": ("role-employee", _l(
        "Only a platform administrator gives or takes the platform administrator role")),
}
USER_CONFLICTS: Wording = {
    "email": ("user-email", _l(
        "Another user already has this email address. Find them in the list of users.")),
    "roles": ("role-platform_admin", _l(
        "Someone must stay an active platform administrator. Make another user platform "
        "administrator first.")),
    "active": ("change-active", _l(
        "This is the last active platform administrator, so the account cannot be "
        "deactivated. Make another user platform administrator first.")),
}

STALE_UNIT = _l("Someone else changed this unit after you opened the page. Here is what is "
                "saved now; make your change again if it is still needed.")
STALE_USER = _l("Someone else changed this user after you opened the page. Here is what is "
                "saved now; make your change again if it is still needed.")


# -- helpers ----------------------------------------------------------------------------------


def _admin() -> User:
    """The signed-in administrator (admin or platform admin): the roles the API requires for
    units and users. Every service call below gets them as the actor, so each list and each
    change stays within the organisations and units they administer."""
    user = signed_in_user()
    auth.require_roles(user, ADMIN_ROLES)
    return user


def _id(value: int) -> int:
    if value > MAX_ID:
        abort(404)
    return value


def attempt(state: FormState, action: Callable[[], Any], wording: Wording,
            conflicts: Mapping[str, tuple[str, Any]] | None = None,
            refusals: Mapping[str, tuple[str, Any]] | None = None) -> Any:
    """Run a service call. A refusal naming fields goes to the form (returns None), worded by
    ``conflicts`` for a conflict with what is saved (409 in the API), by ``refusals`` for
    what the admin may not do naming a field (403 in the API: a role only another admin may
    give them), by ``wording`` for a field the service refuses (422); what the service did
    before refusing is undone, so the page shows what is saved. A 403 naming no field stays
    an error page."""
    try:
        return action()
    except Conflict as exc:
        if conflicts is not None and exc.errors and any(name in conflicts for name in exc.errors):
            db.session.rollback()
            errors_from(state, exc.errors, conflicts)
            return None
        raise
    except Forbidden as exc:
        if refusals is not None and exc.errors and any(name in refusals for name in exc.errors):
            db.session.rollback()
            errors_from(state, exc.errors, refusals)
            return None
        raise
    except DomainError as exc:
        if service_error(state, exc, wording):
            db.session.rollback()
            return None
        raise


def _stale(message, endpoint: str, **values):
    flash(str(message), "error")
    return redirect(url_for(endpoint, **values), 303)


def _text(name: str) -> str:
    """A text field as typed (the schema decides what it may hold)."""
    return request.form.get(name, "")


# -- the tree -------------------------------------------------------------------------------


@dataclass
class Node:
    unit: Unit
    depth: int
    children: list[Node] = field(default_factory=list)


def _tree(units: list[Unit]) -> list[Node]:
    """The units as a tree, each level by name; a unit whose parent is not among them is at
    the top (the units an admin administers within their organisation)."""
    shown = {unit.id for unit in units}
    below: dict[int | None, list[Unit]] = {}
    for unit in units:
        below.setdefault(unit.parent_id if unit.parent_id in shown else None, []).append(unit)
    for siblings in below.values():
        siblings.sort(key=lambda u: (u.name.casefold(), u.id))
    roots = [Node(unit, 0) for unit in below.get(None, [])]
    pending = list(roots)
    while pending:
        node = pending.pop()
        node.children = [Node(child, node.depth + 1) for child in below.get(node.unit.id, [])]
        pending.extend(node.children)
    return roots


def _in_order(roots: list[Node]) -> list[Node]:
    flat: list[Node] = []
    pending = list(reversed(roots))
    while pending:
        node = pending.pop()
        flat.append(node)
        pending.extend(reversed(node.children))
    return flat


def _unit_options(roots: list[Node]) -> list[tuple[str, str]]:
    """Every unit for a select, in tree order, indented by depth."""
    return [(str(node.unit.id), "\u2003" * node.depth + node.unit.name)
            for node in _in_order(roots)]


@blp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "kind_labels": {kind.value: label for kind, label in UNIT_KIND_LABELS.items()},
        "role_labels": {role.value: label for role, label in ROLE_LABELS.items()},
    }


def _kinds() -> list[tuple[str, Any]]:
    return [(kind.value, UNIT_KIND_LABELS[kind]) for kind in UnitKind]


def _roles(admin: User) -> list[tuple[str, Any]]:
    """The roles the form offers: the platform admin role only to a platform admin."""
    return [(role.value, ROLE_LABELS[role]) for role in Role
            if role != Role.PLATFORM_ADMIN or access.is_platform_admin(admin)]


ROLE_HINTS = {
    Role.EMPLOYEE.value: _l("Reports incidents and follows their own reports."),
    Role.MANAGER.value: _l("Also handles the cases of the units they lead, and of every unit "
                           "below them."),
    Role.HR.value: _l("Sees and handles the incidents of the units the HR role is held for, "
                      "and of the units below them; sets head-counts."),
    Role.STATISTICS_READER.value: _l("Sees statistics and summaries, with small numbers "
                                     "hidden, for their units. Never sees a single incident."),
    Role.ADMIN.value: _l("Keeps the organisation tree and the users in their units. Gives no "
                         "access to incidents."),
    Role.PLATFORM_ADMIN.value: _l("Administers the whole service, every organisation. Gives "
                                  "no access to incidents."),
}

# The roles held for units, in the order of the form: the field that names the units, the id
# of its checkboxes' fieldset, the prefix of each checkbox's id.
UNIT_ROLE_FIELDS = (
    (Role.HR.value, "hr_unit_ids", "hr"),
    (Role.STATISTICS_READER.value, "statistics_unit_ids", "statistics"),
    (Role.ADMIN.value, "admin_unit_ids", "admin"),
)


def _administered(admin: User, units: list[Unit]) -> list[Unit]:
    """Of these units, the ones the admin administers: what their forms offer."""
    tree = UnitTree.load()
    return [unit for unit in units if access.administers_unit(admin, tree, unit.id)]


# -- units ------------------------------------------------------------------------------------


def _render_units(state: FormState, status: int = 200):
    admin = signed_in_user()
    units = organisation.list_units(admin)
    roots = _tree(units)
    return render_template(
        "admin_units.html", roots=roots, state=state, kinds=_kinds(),
        parents=_unit_options(_tree(_administered(admin, units))), unit_count=len(units),
        adds_organisations=access.administers_all(admin, UnitTree.load()),
        unanswered=unanswered.units_for(signed_in_user()),
    ), status


@blp.get("/units")
@login_required
@unit_of_work
def units():
    _admin()
    state = FormState()
    parent = whole_number(request.args.get("parent"))
    if isinstance(parent, int):
        state.values["parent_id"] = str(parent)
    return _render_units(state)


@blp.post("/units")
@login_required
@unit_of_work
def create_unit():
    admin = _admin()
    state = FormState(values=request.form.copy())
    payload = {"name": _text("name"), "kind": request.form.get("kind") or None,
               "parent_id": whole_number(request.form.get("parent_id"))}
    data = load(state, UnitCreateSchema(), payload, UNIT_WORDING)
    unit = data and attempt(state, lambda: organisation.create_unit(data, admin), UNIT_WORDING,
                            refusals=UNIT_REFUSALS)
    if not unit:
        return _render_units(state, 422)
    flash(_("The unit %(name)s was added.", name=unit.name), "success")
    return redirect(url_for("admin.unit_page", unit_id=unit.id), 303)


def _unit_form(unit: Unit) -> FormState:
    return FormState(values=MultiDict({
        "name": unit.name, "kind": unit.kind, "parent_id": str(unit.parent_id or ""),
        "version": str(unit.version)}))


def _render_unit(unit: Unit, *, change: FormState | None = None, move: FormState | None = None,
                 headcount: FormState | None = None, delete: FormState | None = None,
                 status: int = 200):
    admin = signed_in_user()
    units = organisation.list_units(admin)
    tree = UnitTree.load()
    administers = access.administers_unit(admin, tree, unit.id)
    by_id = {u.id: u for u in units}
    path = []
    above = by_id.get(unit.parent_id)
    while above is not None and above not in path:
        path.insert(0, above)
        above = by_id.get(above.parent_id)
    users = people.list_users(admin)
    year = str(to_local(utcnow()).year)
    states = {
        "change": change or _unit_form(unit),
        "move": move or _unit_form(unit),
        "headcount": headcount or FormState(values=MultiDict({"year": year})),
        "delete": delete or FormState(),
    }
    return render_template(
        "admin_unit.html", unit=unit, path=path, states=states,
        summary=next((s for s in states.values() if s.summary), FormState()),
        children=sorted((u for u in units if u.parent_id == unit.id),
                        key=lambda u: (u.name.casefold(), u.id)),
        members=[u for u in users if u.unit_id == unit.id],
        leaders=[u for u in users if unit.id in u.leads_unit_ids],
        holders=[(role, [u for u in users if unit.id in u.assigned_unit_ids(role)])
                 for role, _field, _prefix in UNIT_ROLE_FIELDS],
        administers=administers,
        counts=administers or access.covers_units(admin, Role.HR, [unit.id]),
        adds_organisations=access.administers_all(admin, tree),
        kinds=_kinds(), parents=_unit_options(_tree(_administered(admin, units))),
        headcounts=sorted(unit.headcounts, key=lambda h: h.year, reverse=True),
    ), status


@blp.get("/units/<int:unit_id>")
@login_required
@unit_of_work
def unit_page(unit_id: int):
    admin = _admin()
    return _render_unit(organisation.get_unit(_id(unit_id), admin))


def _update_unit(unit_id: int, payload: dict[str, Any], which: str,
                 conflicts: Wording | None = None):
    """Rename (name, kind) or move (parent_id), as PATCH /api/v1/units/{id} with If-Match."""
    admin = _admin()
    state = FormState(values=request.form.copy())
    data = load(state, UnitUpdateSchema(), payload, UNIT_WORDING)
    unit = organisation.unit_to_administer(admin, _id(unit_id))
    if data is None:
        return _render_unit(unit, **{which: state}, status=422)
    if request.form.get("version") != str(unit.version):
        return _stale(STALE_UNIT, "admin.unit_page", unit_id=unit.id)
    try:
        changed = attempt(state, lambda: organisation.update_unit(unit, data, admin),
                          UNIT_WORDING, conflicts, UNIT_REFUSALS)
    except StaleDataError:
        db.session.rollback()
        return _stale(STALE_UNIT, "admin.unit_page", unit_id=unit_id)
    if not changed:
        return _render_unit(organisation.get_unit(unit_id, admin), **{which: state}, status=422)
    flash(_("The unit was saved.") if which == "change" else _("The unit was moved."),
          "success")
    return redirect(url_for("admin.unit_page", unit_id=unit.id), 303)


@blp.post("/units/<int:unit_id>")
@login_required
@unit_of_work
def change_unit(unit_id: int):
    return _update_unit(unit_id, {"name": _text("name"), "kind": request.form.get("kind") or None},
                        "change")


@blp.post("/units/<int:unit_id>/move")
@login_required
@unit_of_work
def move_unit(unit_id: int):
    return _update_unit(unit_id, {"parent_id": whole_number(request.form.get("parent_id"))},
                        "move", MOVE_CONFLICTS)


@blp.post("/units/<int:unit_id>/delete")
@login_required
@unit_of_work
def delete_unit(unit_id: int):
    admin = _admin()
    unit = organisation.unit_to_administer(admin, _id(unit_id))
    name = unit.name
    try:
        organisation.delete_unit(unit, admin)
    except Conflict:
        # The service says why in the API's words; the page says what can be deleted.
        db.session.rollback()
        state = FormState()
        errors_from(state, {"delete": ["in use"]}, DELETE_WORDING)
        return _render_unit(organisation.get_unit(unit_id, admin), delete=state, status=422)
    flash(_("The unit %(name)s was deleted.", name=name), "success")
    return redirect(url_for("admin.units"), 303)


@blp.post("/units/<int:unit_id>/headcounts")
@login_required
@unit_of_work
def set_headcount(unit_id: int):
    """As PUT /api/v1/units/{id}/headcounts/{year}: the year from the form, the count checked
    by the API's schema, the year's range by the service."""
    admin = _admin()
    state = FormState(values=request.form.copy())
    year = load(state, HeadcountPathSchema(), {"year": whole_number(request.form.get("year"))},
                HEADCOUNT_WORDING)
    data = load(state, HeadcountPutSchema(), {"count": whole_number(request.form.get("count"))},
                HEADCOUNT_WORDING)
    unit = organisation.unit_for_headcount(admin, _id(unit_id))
    saved = year and data and attempt(
        state, lambda: organisation.set_headcount(unit, year["year"], data["count"], admin),
        HEADCOUNT_WORDING)
    if not saved:
        return _render_unit(unit, headcount=state, status=422)
    headcount, _created = saved
    flash(_("The head-count for %(year)s was saved.", year=headcount.year), "success")
    return redirect(url_for("admin.unit_page", unit_id=unit.id, _anchor="headcounts"), 303)


# -- users ----------------------------------------------------------------------------------

STATUS_FILTERS = {"active": True, "inactive": False, "all": None}


@blp.get("/users")
@login_required
@unit_of_work
def users():
    admin = _admin()
    status = request.args.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    query = " ".join(request.args.get("q", "").split())[:200]
    found = people.list_users(admin, STATUS_FILTERS[status])
    if query:
        wanted = query.casefold()
        found = [u for u in found if wanted in u.name.casefold() or wanted in u.email]
    found.sort(key=lambda u: (u.name.casefold(), u.id))
    unit_names = dict(organisation.unit_choices(admin))
    return render_template(
        "admin_users.html", users=found, unit_roles=UNIT_ROLE_FIELDS, status=status,
        query=query, unit_names=unit_names,
        statuses=[("active", _("Active")), ("inactive", _("Deactivated")), ("all", _("All"))],
    )


def _user_payload() -> dict[str, Any]:
    """The user form in the API's terms (UserCreateSchema, UserUpdateSchema)."""
    return {
        "email": _text("email"),
        "name": _text("name"),
        "unit_id": whole_number(request.form.get("unit_id")),
        "roles": request.form.getlist("roles"),
        **{name: [whole_number(value) for value in request.form.getlist(name) if value]
           for name in ("leads_unit_ids", *(field for _r, field, _p in UNIT_ROLE_FIELDS))},
    }


def _user_wording(admin: User) -> Wording:
    """The user form's words: "no home unit" only for an admin who may choose it."""
    if access.administers_all(admin, UnitTree.load()):
        return USER_WORDING
    return {**USER_WORDING, "unit_id": HOME_UNIT_REQUIRED}


def _render_user_form(template: str, state: FormState, status: int = 200,
                      user: User | None = None, **context):
    """The user form offers the units the admin administers (for the home unit and for each
    role held for units) and the roles they may give."""
    admin = signed_in_user()
    roots = _tree(_administered(admin, organisation.list_units(admin)))
    return render_template(
        template, state=state, roots=roots, units=_unit_options(roots), roles=_roles(admin),
        role_hints=ROLE_HINTS, unit_roles=UNIT_ROLE_FIELDS,
        no_home_unit=access.administers_all(admin, UnitTree.load()), user=user, **context,
    ), status


@blp.get("/users/new")
@login_required
@unit_of_work
def new_user():
    _admin()
    return _render_user_form("admin_user_new.html",
                             FormState(values=MultiDict({"roles": Role.EMPLOYEE.value})))


@blp.post("/users/new")
@login_required
@unit_of_work
def create_user():
    admin = _admin()
    wording = _user_wording(admin)
    state = FormState(values=request.form.copy())
    data = load(state, UserCreateSchema(), _user_payload(), wording)
    user = data and attempt(state, lambda: people.create_user(data, admin), wording,
                            USER_CONFLICTS, PLATFORM_REFUSALS)
    if not user:
        return _render_user_form("admin_user_new.html", state, 422)
    flash(_("%(name)s was added.", name=user.name), "success")
    return redirect(url_for("admin.user_page", user_id=user.id), 303)


def _user_form(user: User) -> FormState:
    values = MultiDict({
        "name": user.name, "email": user.email, "unit_id": str(user.unit_id or ""),
        "version": str(user.version)})
    for role in user.roles:
        values.add("roles", role)
    for unit_id in user.leads_unit_ids:
        values.add("leads_unit_ids", str(unit_id))
    for role, name, _prefix in UNIT_ROLE_FIELDS:
        for unit_id in user.assigned_unit_ids(role):
            values.add(name, str(unit_id))
    return FormState(values=values)


def _render_user(user: User, state: FormState | None = None,
                 active_state: FormState | None = None, status: int = 200):
    admin = signed_in_user()
    unit_names = dict(organisation.unit_choices(admin))
    return _render_user_form(
        "admin_user.html", state or _user_form(user), status, user=user,
        active_state=active_state or FormState(values=MultiDict({
            "version": str(user.version)})),
        home_unit=unit_names.get(user.unit_id),
        led_units=[(unit_id, unit_names.get(unit_id)) for unit_id in user.leads_unit_ids],
        held_units=[(role, [(unit_id, unit_names.get(unit_id))
                            for unit_id in sorted(user.assigned_unit_ids(role))])
                    for role, _name, _prefix in UNIT_ROLE_FIELDS if user.has_role(role)],
        myself=user.id == admin.id,
        refused=_why_not_changeable(admin, user),
    )


def _why_not_changeable(admin: User, user: User) -> str | None:
    """Why the admin may not change this person, as the service would refuse (403): a
    platform admin is changed by a platform admin; someone holding roles for units the admin
    does not administer, by an admin of those units."""
    if user.has_role(Role.PLATFORM_ADMIN) and not access.is_platform_admin(admin):
        return _("Only a platform administrator changes a platform administrator.")
    if not access.administers_user(admin, UnitTree.load(), user):
        return _("This person also holds roles for units you do not administer, so an "
                 "administrator of those units, or a platform administrator, changes them.")
    return None


@blp.get("/users/<int:user_id>")
@login_required
@unit_of_work
def user_page(user_id: int):
    admin = _admin()
    return _render_user(people.user_for(admin, _id(user_id)))


def _update_user(user_id: int, payload: dict[str, Any], which: str):
    """As PATCH /api/v1/users/{id} with If-Match."""
    admin = _admin()
    wording = _user_wording(admin)
    state = FormState(values=request.form.copy())
    data = load(state, UserUpdateSchema(), payload, wording)
    user = people.user_for(admin, _id(user_id))
    if data is None:
        return _render_user(user, **{which: state}, status=422)
    if request.form.get("version") != str(user.version):
        return _stale(STALE_USER, "admin.user_page", user_id=user.id)
    try:
        changed = attempt(state, lambda: people.update_user(user, data, admin), wording,
                          USER_CONFLICTS,
                          SELF_REFUSALS if user.id == admin.id else PLATFORM_REFUSALS)
    except StaleDataError:
        db.session.rollback()
        return _stale(STALE_USER, "admin.user_page", user_id=user_id)
    if not changed:
        return _render_user(people.user_for(admin, user_id), **{which: state}, status=422)
    if which == "active_state":
        message = (_("%(name)s can sign in again.", name=changed.name) if changed.active
                   else _("%(name)s was deactivated and can no longer sign in. Their reports "
                          "and history are kept.", name=changed.name))
    else:
        message = _("The changes to %(name)s were saved.", name=changed.name)
    flash(message, "success")
    if not (admin.active and admin.has_role(*ADMIN_ROLES)):
        # One's own administrator role or account was just given up: the page is no longer
        # one's to see.
        return redirect(url_for("employee.start"), 303)
    return redirect(url_for("admin.user_page", user_id=changed.id), 303)


@blp.post("/users/<int:user_id>")
@login_required
@unit_of_work
def change_user(user_id: int):
    return _update_user(user_id, _user_payload(), "state")


@blp.post("/users/<int:user_id>/active")
@login_required
@unit_of_work
def change_active(user_id: int):
    wanted = request.form.get("active", "")
    return _update_user(user_id, {"active": {"true": True, "false": False}.get(wanted, wanted)},
                        "active_state")


# -- settings -------------------------------------------------------------------------------
#
# The settings of the organisation are changed here with the service the API's
# PATCH /api/v1/settings calls (services/settings.py), checked by the API's schema; the
# deployment's (the mail server, its credentials, the sender, the public address) are shown as
# the environment sets them.


def _bounds(key: str) -> dict[str, int | None]:
    definition = settings.REGISTRY[key]
    return {"minimum": definition.minimum, "maximum": definition.maximum}


SETTINGS_WORDING: Wording = {
    "RETENTION_AFTER_CLOSE_DAYS": ("setting-retention", _l(
        "Enter the number of days as a whole number from %(minimum)s to %(maximum)s, or leave "
        "it empty so that nothing is anonymised", **_bounds("RETENTION_AFTER_CLOSE_DAYS"))),
    "ACKNOWLEDGE_WITHIN_HOURS": ("setting-acknowledge", _l(
        "Enter the number of hours as a whole number from %(minimum)s to %(maximum)s",
        **_bounds("ACKNOWLEDGE_WITHIN_HOURS"))),
    "POLICE_DECISION_DAYS": ("setting-police", _l(
        "Enter the number of days as a whole number from %(minimum)s to %(maximum)s",
        **_bounds("POLICE_DECISION_DAYS"))),
    "AUTHORITY_NOTIFICATION_HOURS": ("setting-authority", _l(
        "Enter the number of hours as a whole number from %(minimum)s to %(maximum)s",
        **_bounds("AUTHORITY_NOTIFICATION_HOURS"))),
    "CHECK_IN_OFFSETS": ("setting-check-ins", _l(
        "Enter when to check in as numbers followed by d, w or m, separated by commas, like "
        "1d, 1w, 1m, 3m: each only once, and at most %(maximum)s of them",
        maximum=settings.MAX_OFFSETS)),
    "MAIL_KEEP_SENT_DAYS": ("setting-mail-kept", _l(
        "Enter the number of days as a whole number from %(minimum)s to %(maximum)s",
        **_bounds("MAIL_KEEP_SENT_DAYS"))),
}

STALE_SETTINGS = _l("Someone else changed the settings after you opened the page. Here is what "
                    "is saved now; make your change again if it is still needed.")


@dataclass
class SettingField:
    """A setting on the form: the service's state of it and the page's words."""

    key: str
    anchor: str
    label: Any
    hint: Any
    effect: Any
    current: settings.Effective
    numeric: bool

    @property
    def value(self) -> str:
        return _shown(self.current.definition, self.current.value)

    @property
    def environment_value(self) -> str:
        return _shown(self.current.definition, self.current.environment_value)


def _shown(definition: settings.Definition, value: Any) -> str:
    """A setting's value in the page's words."""
    if value is None:
        return _("Not set: nothing is anonymised")
    if definition.kind == "offsets":
        return ", ".join(value)
    if definition.kind == "hours":
        return _("%(hours)s hours", hours=value)
    return _("%(days)s days", days=value)


# key → (the page's label, the hint on what to enter, what the setting does and what a change
# affects); in the order of the form.
SETTING_TEXTS: dict[str, tuple[Any, Any, Any]] = {
    "RETENTION_AFTER_CLOSE_DAYS": (
        _l("Closed incidents are anonymised after"),
        _l("A number of days from %(minimum)s to %(maximum)s. Leave it empty if your "
           "organisation has not decided: then nothing is anonymised.",
           **_bounds("RETENTION_AFTER_CLOSE_DAYS")),
        _l("The period comes from your organisation's information-management plan. The "
           "scheduler anonymises closed incidents every night once it has passed. A change "
           "applies from the next night's run.")),
    "ACKNOWLEDGE_WITHIN_HOURS": (
        _l("Acknowledge a new report within"),
        _l("A number of hours from %(minimum)s to %(maximum)s.",
           **_bounds("ACKNOWLEDGE_WITHIN_HOURS")),
        _l("After that the report is overdue for its managers and HR. A change applies at once "
           "to every report not yet acknowledged, and to the statistics.")),
    "POLICE_DECISION_DAYS": (
        _l("Decide on a police report within"),
        _l("A number of days from %(minimum)s to %(maximum)s.",
           **_bounds("POLICE_DECISION_DAYS")),
        _l("For incidents flagged for a police report. A change applies at once to every "
           "decision not yet made, and to the statistics.")),
    "AUTHORITY_NOTIFICATION_HOURS": (
        _l("Notify the Work Environment Authority within"),
        _l("A number of hours from %(minimum)s to %(maximum)s.",
           **_bounds("AUTHORITY_NOTIFICATION_HOURS")),
        _l("For serious incidents, which are to be notified without delay. A change applies at "
           "once to every notification not yet made.")),
    "CHECK_IN_OFFSETS": (
        _l("Check in with the employee after"),
        _l("d: days, w: weeks, m: months, separated by commas, like 1d, 1w, 1m, 3m."),
        _l("Counted from when the incident happened, and planned when a manager acknowledges "
           "the report. A change applies to reports acknowledged after it: check-ins already "
           "planned keep their dates.")),
    "MAIL_KEEP_SENT_DAYS": (
        _l("Sent mails are kept for"),
        _l("A number of days from %(minimum)s to %(maximum)s.",
           **_bounds("MAIL_KEEP_SENT_DAYS")),
        _l("For tracing; then they are deleted. A change applies the next time the service "
           "sends mails, within a few minutes.")),
}

SETTING_SECTIONS = (
    ("retention", _l("Retention"), ("RETENTION_AFTER_CLOSE_DAYS",)),
    ("deadlines", _l("Deadlines that reminders follow"),
     ("ACKNOWLEDGE_WITHIN_HOURS", "POLICE_DECISION_DAYS", "AUTHORITY_NOTIFICATION_HOURS",
      "CHECK_IN_OFFSETS")),
    ("mail", _l("Notification mails"), ("MAIL_KEEP_SENT_DAYS",)),
)


def _setting_fields(current: settings.Settings) -> list[tuple[str, Any, list[SettingField]]]:
    sections = []
    for name, title, keys in SETTING_SECTIONS:
        fields = []
        for key in keys:
            label, hint, effect = SETTING_TEXTS[key]
            item = current.get(key)
            fields.append(SettingField(key, SETTINGS_WORDING[key][0], label, hint, effect, item,
                                       numeric=item.definition.kind != "offsets"))
        sections.append((name, title, fields))
    return sections


def _settings_form(current: settings.Settings) -> FormState:
    """The form as saved now: each setting's value in effect, as typed on the form."""
    values = MultiDict({"version": current.version})
    for item in current.items:
        if item.definition.kind == "offsets":
            values[item.key] = ", ".join(item.value)
        else:
            values[item.key] = "" if item.value is None else str(item.value)
    return FormState(values=values)


def _settings_payload() -> dict[str, Any]:
    """The form in the API's terms (SettingsPatchSchema): whole numbers as numbers (empty:
    null), the check-in offsets as a list of what is between the commas."""
    payload: dict[str, Any] = {}
    for key, definition in settings.REGISTRY.items():
        typed = request.form.get(key, "")
        if definition.kind == "offsets":
            payload[key] = [part.strip() for part in typed.split(",") if part.strip()]
        else:
            payload[key] = whole_number(typed)
    return payload


@dataclass
class Setting:
    """A setting only the environment sets, shown as it is."""

    label: Any
    value: str
    variables: tuple[str, ...]
    meaning: Any


def _yes_no(flag: bool) -> str:
    return _("Yes") if flag else _("No")


def _environment_only() -> list[Setting]:
    """The deployment's mail settings as the environment sets them, with the variables that
    set them. No password is shown."""
    config = current_app.config
    server = config["MAIL_SERVER"]
    return [
        Setting(_l("Mail server"),
                f"{server}:{config['MAIL_PORT']}" if server else
                _("Not set: mails are written to the service's log, not sent"),
                ("MAIL_SERVER", "MAIL_PORT"),
                _l("Where the service sends its mails.")),
        Setting(_l("Encryption"),
                _("TLS from the start") if config["MAIL_USE_SSL"] else
                _("STARTTLS") if config["MAIL_USE_TLS"] else _("None"),
                ("MAIL_USE_SSL", "MAIL_USE_TLS"), _l("How the connection is protected.")),
        Setting(_l("Signs in to the mail server"), _yes_no(bool(config["MAIL_USERNAME"])),
                ("MAIL_USERNAME", "MAIL_PASSWORD"),
                _l("The password is never shown or logged.")),
        Setting(_l("Sender address"), config["MAIL_FROM"], ("MAIL_FROM",),
                _l("The address mails come from.")),
        Setting(_l("Links in mails start with"), config["PUBLIC_BASE_URL"],
                ("PUBLIC_BASE_URL",),
                _l("The service's address as people reach it. Mails carry a reference, "
                   "a status and a link, never a description or a name.")),
    ]


def _render_settings(state: FormState | None = None, status: int = 200):
    current = settings.effective()
    sections = _setting_fields(current)
    return render_template(
        "admin_settings.html", state=state or _settings_form(current), current=current,
        sections=sections,
        # The settings hold for every organisation: changed by a platform admin (or an admin
        # of every organisation); other admins read them.
        may_change=access.administers_all(signed_in_user(), UnitTree.load()),
        changed=[field for _name, _title, fields in sections for field in fields
                 if field.current.changed],
        environment_only=_environment_only(),
    ), status


@blp.route("/settings", methods=("GET", "POST"), endpoint="settings")
@login_required
@unit_of_work
def settings_page():
    """The settings: shown (GET), changed (POST), or one back to the environment's value (POST
    with ``reset``), as PATCH and DELETE /api/v1/settings with the version the page was shown
    with as If-Match."""
    admin = _admin()
    if request.method == "GET":
        return _render_settings()
    if not access.administers_all(admin, UnitTree.load()):
        # As the service refuses it (services/settings.py), before the form is read.
        raise Forbidden("The settings hold for every organisation in the service: a platform "
                        "admin changes them.")
    if "reset" in request.form:
        return _reset_setting(admin, request.form["reset"])
    state = FormState(values=request.form.copy())
    data = load(state, SettingsPatchSchema(), _settings_payload(), SETTINGS_WORDING)
    if data is None:
        return _render_settings(state, 422)
    before = settings.effective().version
    if request.form.get("version") != before:
        return _stale(STALE_SETTINGS, "admin.settings")
    saved = attempt(state, lambda: settings.change(admin, data), SETTINGS_WORDING)
    if not saved:
        return _render_settings(state, 422)
    flash(_("The settings were saved.") if saved.version != before else
          _("Nothing was changed: the settings already had these values."), "success")
    return redirect(url_for("admin.settings"), 303)


def _reset_setting(admin: User, key: str):
    """As DELETE /api/v1/settings/{key}: the setting follows the environment again."""
    if request.form.get("version") != settings.effective().version:
        return _stale(STALE_SETTINGS, "admin.settings")
    label = SETTING_TEXTS.get(key, (None,))[0]
    current = settings.reset(admin, key)
    flash(_("%(setting)s: back to the environment's value, %(value)s.", setting=label,
            value=_shown(current.get(key).definition, current.get(key).value)), "success")
    return redirect(url_for("admin.settings"), 303)
