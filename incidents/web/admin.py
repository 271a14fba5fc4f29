"""The administrator's pages: the organisation tree (units, their place, head-counts), the users
with their roles and led units, and the settings the service runs with (the organisation's,
changed here; the installation's, shown as the environment sets them).

Each form validates with the API's schema and calls the service the API calls
(incidents/api/units.py, incidents/api/users.py, incidents/api/settings.py); only admins reach
these pages, as only admins may change units, users and settings in the API. A change the API
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

from incidents import auth
from incidents.clock import to_local, utcnow
from incidents.domain import ROLE_LABELS, UNIT_KIND_LABELS, Role, UnitKind
from incidents.errors import Conflict, DomainError
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
from incidents.services import organisation, people, settings
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
    "active": ("change-active", _l("Choose whether the account is to be active")),
}
USER_CONFLICTS: Wording = {
    "email": ("user-email", _l(
        "Another user already has this email address. Find them in the list of users.")),
    "roles": ("role-admin", _l(
        "Someone must stay an active administrator. Make another user administrator first.")),
    "active": ("change-active", _l(
        "This is the last active administrator, so the account cannot be deactivated. Make "
        "another user administrator first.")),
}

STALE_UNIT = _l("Someone else changed this unit after you opened the page. Here is what is "
                "saved now; make your change again if it is still needed.")
STALE_USER = _l("Someone else changed this user after you opened the page. Here is what is "
                "saved now; make your change again if it is still needed.")


# -- helpers ----------------------------------------------------------------------------------


def _admin() -> User:
    """The signed-in administrator: the role the API requires for units and users."""
    user = signed_in_user()
    auth.require_roles(user, (Role.ADMIN,))
    return user


def _id(value: int) -> int:
    if value > MAX_ID:
        abort(404)
    return value


def attempt(state: FormState, action: Callable[[], Any], wording: Wording,
            conflicts: Mapping[str, tuple[str, Any]] | None = None) -> Any:
    """Run a service call. A refusal naming fields goes to the form (returns None), worded by
    ``conflicts`` for a conflict with what is saved (409 in the API), by ``wording`` for a
    field the service refuses (422); what the service did before refusing is undone, so the
    page shows what is saved."""
    try:
        return action()
    except Conflict as exc:
        if conflicts is not None and exc.errors and any(name in conflicts for name in exc.errors):
            db.session.rollback()
            errors_from(state, exc.errors, conflicts)
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
    """The units as a tree, each level by name."""
    below: dict[int | None, list[Unit]] = {}
    for unit in units:
        below.setdefault(unit.parent_id, []).append(unit)
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


def _roles() -> list[tuple[str, Any]]:
    return [(role.value, ROLE_LABELS[role]) for role in Role]


ROLE_HINTS = {
    Role.EMPLOYEE.value: _l("Reports incidents and follows their own reports."),
    Role.MANAGER.value: _l("Also handles the cases of the units they lead, and of every unit "
                           "below them."),
    Role.HR.value: _l("Sees and handles every incident; sets head-counts."),
    Role.ADMIN.value: _l("Keeps the organisation tree and the users. Gives no access to "
                         "incidents."),
}


# -- units ------------------------------------------------------------------------------------


def _render_units(state: FormState, status: int = 200):
    units = organisation.list_units()
    roots = _tree(units)
    return render_template(
        "admin_units.html", roots=roots, state=state, kinds=_kinds(),
        parents=_unit_options(roots), unit_count=len(units),
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
    _admin()
    state = FormState(values=request.form.copy())
    payload = {"name": _text("name"), "kind": request.form.get("kind") or None,
               "parent_id": whole_number(request.form.get("parent_id"))}
    data = load(state, UnitCreateSchema(), payload, UNIT_WORDING)
    unit = data and attempt(state, lambda: organisation.create_unit(data), UNIT_WORDING)
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
    units = organisation.list_units()
    roots = _tree(units)
    by_id = {u.id: u for u in units}
    path = []
    above = by_id.get(unit.parent_id)
    while above is not None and above not in path:
        path.insert(0, above)
        above = by_id.get(above.parent_id)
    users = people.list_users()
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
        kinds=_kinds(), parents=_unit_options(roots),
        headcounts=sorted(unit.headcounts, key=lambda h: h.year, reverse=True),
    ), status


@blp.get("/units/<int:unit_id>")
@login_required
@unit_of_work
def unit_page(unit_id: int):
    _admin()
    return _render_unit(organisation.get_unit(_id(unit_id)))


def _update_unit(unit_id: int, payload: dict[str, Any], which: str,
                 conflicts: Wording | None = None):
    """Rename (name, kind) or move (parent_id), as PATCH /api/v1/units/{id} with If-Match."""
    _admin()
    state = FormState(values=request.form.copy())
    data = load(state, UnitUpdateSchema(), payload, UNIT_WORDING)
    unit = organisation.get_unit(_id(unit_id))
    if data is None:
        return _render_unit(unit, **{which: state}, status=422)
    if request.form.get("version") != str(unit.version):
        return _stale(STALE_UNIT, "admin.unit_page", unit_id=unit.id)
    try:
        changed = attempt(state, lambda: organisation.update_unit(unit, data), UNIT_WORDING,
                          conflicts)
    except StaleDataError:
        db.session.rollback()
        return _stale(STALE_UNIT, "admin.unit_page", unit_id=unit_id)
    if not changed:
        return _render_unit(organisation.get_unit(unit_id), **{which: state}, status=422)
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
    _admin()
    unit = organisation.get_unit(_id(unit_id))
    name = unit.name
    try:
        organisation.delete_unit(unit)
    except Conflict:
        # The service says why in the API's words; the page says what can be deleted.
        db.session.rollback()
        state = FormState()
        errors_from(state, {"delete": ["in use"]}, DELETE_WORDING)
        return _render_unit(organisation.get_unit(unit_id), delete=state, status=422)
    flash(_("The unit %(name)s was deleted.", name=name), "success")
    return redirect(url_for("admin.units"), 303)


@blp.post("/units/<int:unit_id>/headcounts")
@login_required
@unit_of_work
def set_headcount(unit_id: int):
    """As PUT /api/v1/units/{id}/headcounts/{year}: the year from the form, the count checked
    by the API's schema, the year's range by the service."""
    _admin()
    state = FormState(values=request.form.copy())
    year = load(state, HeadcountPathSchema(), {"year": whole_number(request.form.get("year"))},
                HEADCOUNT_WORDING)
    data = load(state, HeadcountPutSchema(), {"count": whole_number(request.form.get("count"))},
                HEADCOUNT_WORDING)
    unit = organisation.get_unit(_id(unit_id))
    saved = year and data and attempt(
        state, lambda: organisation.set_headcount(unit, year["year"], data["count"]),
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
    _admin()
    status = request.args.get("status", "active")
    if status not in STATUS_FILTERS:
        status = "active"
    query = " ".join(request.args.get("q", "").split())[:200]
    found = people.list_users(STATUS_FILTERS[status])
    if query:
        wanted = query.casefold()
        found = [u for u in found if wanted in u.name.casefold() or wanted in u.email]
    found.sort(key=lambda u: (u.name.casefold(), u.id))
    unit_names = dict(organisation.unit_choices())
    return render_template(
        "admin_users.html", users=found, status=status, query=query, unit_names=unit_names,
        statuses=[("active", _("Active")), ("inactive", _("Deactivated")), ("all", _("All"))],
    )


def _user_payload() -> dict[str, Any]:
    """The user form in the API's terms (UserCreateSchema, UserUpdateSchema)."""
    return {
        "email": _text("email"),
        "name": _text("name"),
        "unit_id": whole_number(request.form.get("unit_id")),
        "roles": request.form.getlist("roles"),
        "leads_unit_ids": [whole_number(value) for value in request.form.getlist("leads_unit_ids")
                           if value],
    }


def _render_user_form(template: str, state: FormState, status: int = 200, **context):
    roots = _tree(organisation.list_units())
    return render_template(
        template, state=state, roots=roots, units=_unit_options(roots), roles=_roles(),
        role_hints=ROLE_HINTS, **context,
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
    _admin()
    state = FormState(values=request.form.copy())
    data = load(state, UserCreateSchema(), _user_payload(), USER_WORDING)
    user = data and attempt(state, lambda: people.create_user(data), USER_WORDING,
                            USER_CONFLICTS)
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
    return FormState(values=values)


def _render_user(user: User, state: FormState | None = None,
                 active_state: FormState | None = None, status: int = 200):
    unit_names = dict(organisation.unit_choices())
    return _render_user_form(
        "admin_user.html", state or _user_form(user), status, user=user,
        active_state=active_state or FormState(values=MultiDict({
            "version": str(user.version)})),
        home_unit=unit_names.get(user.unit_id),
        led_units=[(unit_id, unit_names.get(unit_id)) for unit_id in user.leads_unit_ids],
        myself=user.id == signed_in_user().id,
    )


@blp.get("/users/<int:user_id>")
@login_required
@unit_of_work
def user_page(user_id: int):
    _admin()
    return _render_user(people.get_user(_id(user_id)))


def _update_user(user_id: int, payload: dict[str, Any], which: str):
    """As PATCH /api/v1/users/{id} with If-Match."""
    admin = _admin()
    state = FormState(values=request.form.copy())
    data = load(state, UserUpdateSchema(), payload, USER_WORDING)
    user = people.get_user(_id(user_id))
    if data is None:
        return _render_user(user, **{which: state}, status=422)
    if request.form.get("version") != str(user.version):
        return _stale(STALE_USER, "admin.user_page", user_id=user.id)
    try:
        changed = attempt(state, lambda: people.update_user(user, data), USER_WORDING,
                          USER_CONFLICTS)
    except StaleDataError:
        db.session.rollback()
        return _stale(STALE_USER, "admin.user_page", user_id=user_id)
    if not changed:
        return _render_user(people.get_user(user_id), **{which: state}, status=422)
    if which == "active_state":
        message = (_("%(name)s can sign in again.", name=changed.name) if changed.active
                   else _("%(name)s was deactivated and can no longer sign in. Their reports "
                          "and history are kept.", name=changed.name))
    else:
        message = _("The changes to %(name)s were saved.", name=changed.name)
    flash(message, "success")
    if not (admin.active and admin.has_role(Role.ADMIN)):
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
