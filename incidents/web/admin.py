"""The administrator's pages: the organisation tree (units, their place, head-counts), the users
with their roles and led units, and the settings the service runs with.

Each form validates with the API's schema and calls the service the API calls
(incidents/api/units.py, incidents/api/users.py); only admins reach these pages, as only admins
may change units and users in the API. A change the API guards with If-Match is guarded here by
the version the page was shown with: a stale page is told so and shown what is saved now.
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
from incidents.services import organisation, people
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


@dataclass
class Setting:
    label: Any
    value: str
    variables: tuple[str, ...]
    meaning: Any


def _yes_no(flag: bool) -> str:
    return _("Yes") if flag else _("No")


def _settings() -> list[tuple[Any, Any, list[Setting]]]:
    """The retention and notification settings as they are now (environment only: no API or
    service changes them), with the variables that set them. No password is shown."""
    config = current_app.config
    retention = config["RETENTION_AFTER_CLOSE_DAYS"]
    server = config["MAIL_SERVER"]
    return [
        ("retention", _l("Retention"), [
            Setting(_l("Closed incidents are anonymised after"),
                    _("%(days)s days", days=retention) if retention else
                    _("Not set: nothing is anonymised"),
                    ("RETENTION_AFTER_CLOSE_DAYS",),
                    _l("The period comes from your organisation's information-management plan. "
                       "The scheduler anonymises closed incidents every night once it has "
                       "passed.")),
        ]),
        ("mail", _l("Notification mails"), [
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
            Setting(_l("Sent mails are kept for"),
                    _("%(days)s days", days=config["MAIL_KEEP_SENT_DAYS"]),
                    ("MAIL_KEEP_SENT_DAYS",), _l("For tracing; then they are deleted.")),
        ]),
        ("deadlines", _l("Deadlines that reminders follow"), [
            Setting(_l("Acknowledge a new report within"),
                    _("%(hours)s hours", hours=config["ACKNOWLEDGE_WITHIN_HOURS"]),
                    ("ACKNOWLEDGE_WITHIN_HOURS",),
                    _l("After that the report is overdue for its managers and HR.")),
            Setting(_l("Decide on a police report within"),
                    _("%(days)s days", days=config["POLICE_DECISION_DAYS"]),
                    ("POLICE_DECISION_DAYS",),
                    _l("For incidents flagged for a police report.")),
            Setting(_l("Notify the Work Environment Authority within"),
                    _("%(hours)s hours", hours=config["AUTHORITY_NOTIFICATION_HOURS"]),
                    ("AUTHORITY_NOTIFICATION_HOURS",), _l("For serious incidents.")),
            Setting(_l("Check in with the employee after"),
                    ", ".join(config["CHECK_IN_OFFSETS"]), ("CHECK_IN_OFFSETS",),
                    _l("d: days, w: weeks, m: months, counted from when the incident "
                       "happened.")),
        ]),
    ]


@blp.get("/settings")
@login_required
@unit_of_work
def settings():
    _admin()
    return render_template("admin_settings.html", sections=_settings())
