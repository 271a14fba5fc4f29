"""Reporting without signing in, and following the report with its receipt code.

Nothing here opens a session or sets a cookie (sessions.SESSIONLESS_PREFIXES), the receipt code
travels only in form bodies (never in a URL, so no history or proxy log holds it), and the
request log leaves out the address and time of these paths (incidents/__init__.py). The same
rate limits as the API's anonymous channel apply, shared with it per client. What the reporter
sends reaches the case handlers at the next full hour (services/anonymous.py), and the pages say
so."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from incidents.api.anonymous import _report_limit, receipt_limit
from incidents.domain import STATUS_LABELS
from incidents.errors import NotFound
from incidents.extensions import limiter
from incidents.schemas.messaging import AnonymousReportCreateSchema, MessageCreateSchema
from incidents.services import anonymous, notifications, organisation
from incidents.services.anonymous import ReceiptRequired
from incidents.web import report_form
from incidents.web.boundary import unit_of_work
from incidents.web.forms import MESSAGE_WORDING, REPORT_WORDING, FormState, call, load

blp = Blueprint("anonymous_pages", __name__, url_prefix="/anonymous")

FOLLOW_WORDING = {
    "reference": ("reference",
                  _l("Enter the reference of your report, like OP-2026-4829301756")),
    "code": ("code", _l("Enter the receipt code you wrote down")),
}


def _render_form(state: FormState, status: int = 200):
    return render_template(
        "report_form.html", state=state, anonymous=True, units=organisation.unit_choices(),
        colleagues=[], **report_form.choices(),
    ), status


@blp.get("/report")
@unit_of_work
def report_page():
    return _render_form(report_form.blank(None))


@blp.post("/report")
@limiter.limit(_report_limit, methods=["POST"])
@unit_of_work
def report():
    state = FormState(values=request.form.copy())
    data = load(state, AnonymousReportCreateSchema(), report_form.payload(request.form, True),
                REPORT_WORDING)
    created = data and call(state, lambda: anonymous.report(data), REPORT_WORDING)
    if not created:
        return _render_form(state, 422)
    report, code = created
    # Who will handle it, by role only: the managers above the unit, else hr (no names).
    handlers = notifications.managers_to_tell(data["unit_id"], None, None)
    # Shown in this answer only: no redirect could carry the code without storing it.
    return render_template("anonymous_receipt.html", incident=report["incident"], code=code,
                           reaches_at=report["reaches_case_handlers_at"],
                           handled_as=handlers[0].as_role if handlers else None), 201


def _follow(state: FormState, message_state: FormState | None = None, status: int = 200):
    reference = state.get("reference").strip()
    code = state.get("code").strip()
    if not reference:
        state.add("reference", *FOLLOW_WORDING["reference"])
    if not code:
        state.add("code", *FOLLOW_WORDING["code"])
    if state.errors:
        return render_template("anonymous_follow.html", state=state, found=None), 422
    try:
        found = anonymous.status(reference, code)
        thread = anonymous.list_messages(reference, code)
    except (NotFound, ReceiptRequired):
        state.add("code", "code", _("No report matches this reference and receipt code. "
                                    "Check both and try again."))
        return render_template("anonymous_follow.html", state=state, found=None), 404
    return render_template(
        "anonymous_follow.html", state=state, found=found, thread=thread,
        message_state=message_state or FormState(), status_labels=STATUS_LABELS,
    ), status


@blp.get("/follow")
def follow_page():
    return render_template("anonymous_follow.html", state=FormState(), found=None)


@blp.post("/follow")
@receipt_limit
@unit_of_work
def follow():
    return _follow(FormState(values=request.form.copy()))


@blp.post("/follow/messages")
@receipt_limit
@unit_of_work
def post_message():
    values = request.form.copy()
    reference, code = values.get("reference", ""), values.get("code", "")
    message_state = FormState(values=values)
    data = load(message_state, MessageCreateSchema(), {"body": values.get("body", "")},
                MESSAGE_WORDING)
    sent = data and call(message_state,
                         lambda: anonymous.post_message(reference, code, data["body"]),
                         MESSAGE_WORDING)
    state = FormState(values=MultiDict({"reference": reference, "code": code}))
    if not sent:
        return _follow(state, message_state, 422)
    message_state = FormState()
    message_state.values["sent"] = "yes"
    return _follow(state, message_state)
