"""The employee's pages: the start page, the report form, the receipt, "my reports" and one
report with its status history, messages, check-ins and the support evaluation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from incidents import access, auth
from incidents.domain import (
    RATING3_LABELS,
    REPORTING_ROLES,
    STATUS_LABELS,
    AuditRecord,
    IncidentStatus,
    Rating3,
)
from incidents.errors import ValidationFailed
from incidents.schemas.case import SupportEvaluationInputSchema
from incidents.schemas.common import MAX_ID
from incidents.schemas.incidents import IncidentCreateSchema
from incidents.schemas.messaging import MessageCreateSchema
from incidents.services import (
    audit,
    lifecycle,
    messages,
    notifications,
    organisation,
    people,
    reporting,
    support,
)
from incidents.web import report_form
from incidents.web.boundary import unit_of_work
from incidents.web.forms import (
    EVALUATION_WORDING,
    MESSAGE_WORDING,
    REPORT_WORDING,
    FormState,
    call,
    load,
    optional,
    whole_number,
)
from incidents.web.identity import login_required, signed_in_user, take_kept_form

blp = Blueprint("employee", __name__)

MY_REPORTS_PAGE = 20


@blp.get("/")
@unit_of_work
def start():
    return render_template("start.html", user=signed_in_user(),
                           categories=report_form.choices()["categories"])


def _render_report_form(state: FormState, status: int = 200):
    user = signed_in_user()
    return render_template(
        "report_form.html",
        state=state,
        anonymous=False,
        units=organisation.unit_choices(user),
        colleagues=people.colleagues_of(user),
        **report_form.choices(),
    ), status


@blp.route("/report", methods=["GET", "POST"])
@login_required
@unit_of_work
def report():
    user = signed_in_user()
    # As the API: reporting needs a reporting role (a statistics reader or an admin has none).
    auth.require_roles(user, tuple(sorted(REPORTING_ROLES)))
    if request.method == "GET":
        kept = take_kept_form("employee.report")
        if kept is not None:
            flash(_("What you wrote before you were signed out is still here. Check it and "
                    "send the report again."), "info")
            return _render_report_form(FormState(values=MultiDict(
                [(key, value) for key, values in kept.items() for value in values])))
        return _render_report_form(report_form.blank(user.unit_id))
    state = FormState(values=request.form.copy())
    data = load(state, IncidentCreateSchema(), report_form.payload(request.form, False),
                REPORT_WORDING)
    incident = data and call(state, lambda: reporting.report_incident(user, data),
                             REPORT_WORDING)
    if not incident:
        return _render_report_form(state, 422)
    return redirect(url_for("employee.receipt", incident_id=incident.id), 303)


def _incident_id(incident_id: int) -> int:
    if incident_id > MAX_ID:
        abort(404)
    return incident_id


@blp.get("/reports/<int:incident_id>/receipt")
@login_required
@unit_of_work
def receipt(incident_id: int):
    incident = reporting.read_incident(signed_in_user(), _incident_id(incident_id))
    handlers = notifications.case_handlers(incident)
    return render_template("receipt.html", incident=incident, handlers=handlers,
                           handled_by=handled_by(handlers),
                           by_hr=bool(handlers) and handlers[0].as_role == "hr")


def handled_by(handlers) -> str:
    """"Maria Chef (chef) och Per Chef (chef)": who handles a report, with their role."""
    roles = {"manager": _("manager"), "hr": _("HR")}
    parts = [_("%(name)s (%(role)s)", name=h.name, role=roles[h.as_role]) for h in handlers]
    if len(parts) < 2:
        return "".join(parts)
    return _("%(first)s and %(last)s", first=", ".join(parts[:-1]), last=parts[-1])


@blp.get("/my-reports")
@login_required
@unit_of_work
def my_reports():
    filters = {"own": True, "limit": MY_REPORTS_PAGE}
    cursor = optional(request.args.get("after"))
    if cursor:
        filters["cursor"] = cursor[:200]
    try:
        page = reporting.list_incidents(signed_in_user(), filters)
    except ValidationFailed:
        return redirect(url_for("employee.my_reports"))
    due = support.evaluations_due(signed_in_user(), page.items)
    return render_template("my_reports.html", page=page, evaluation_due=due,
                           status_labels=STATUS_LABELS, first_page=not cursor)


# "Who has read or changed this report": the kinds of record and what was done, in the words of
# the page (the entries' own details are the API's, in English).
AUDIT_RECORD_LABELS = {
    AuditRecord.INCIDENT.value: _l("The report"),
    AuditRecord.STATUS.value: _l("Status"),
    AuditRecord.SUPPORT.value: _l("Support"),
    AuditRecord.CHECK_IN.value: _l("Check-ins"),
    AuditRecord.SUPPORT_EVALUATION.value: _l("Your evaluation of the support"),
    AuditRecord.POLICE_REPORT.value: _l("Police report"),
    AuditRecord.MESSAGES.value: _l("Messages"),
}
AUDIT_ACTION_LABELS = {
    "create": _l("reported"),
    "read": _l("read"),
    "update": _l("changed"),
    "access_denied": _l("tried to open, and was refused"),
}


def _render_report(incident_id: int, message_state: FormState | None = None,
                   evaluation_state: FormState | None = None, status: int = 200):
    user = signed_in_user()
    incident = reporting.read_incident(user, _incident_id(incident_id))
    history = (lifecycle.status_history(user, incident.id)
               if access.may_read(user, incident, AuditRecord.STATUS) else None)
    check_ins = (support.list_check_ins(user, incident.id)
                 if access.may_read(user, incident, AuditRecord.CHECK_IN) else None)
    thread = messages.list_for_user(user, incident.id)
    evaluation = None
    if access.is_exposed_employee(user, incident) and support.find_evaluation(incident.id):
        evaluation = support.read_evaluation(user, incident.id)
    due = support.evaluation_due(user, incident)
    trail = (audit.about_my_case(user, incident.id)
             if access.is_exposed_employee(user, incident) else None)
    if evaluation_state is None:
        evaluation_state = FormState()
        if evaluation is not None:
            evaluation_state.values = MultiDict({
                "sufficient": evaluation.sufficient,
                "relevant": evaluation.relevant,
                "felt_supported_by_employer": str(evaluation.felt_supported_by_employer),
                "comment": evaluation.comment or "",
                "version": str(evaluation.version),
            })
    return render_template(
        "report.html",
        incident=incident,
        history=history,
        check_ins=check_ins,
        thread=thread,
        evaluation=evaluation,
        evaluation_due=due,
        trail=trail,
        record_labels=AUDIT_RECORD_LABELS,
        action_labels=AUDIT_ACTION_LABELS,
        message_state=message_state or FormState(),
        evaluation_state=evaluation_state,
        ratings=[(r.value, RATING3_LABELS[r]) for r in Rating3],
        status_labels=STATUS_LABELS,
        closed=incident.status == IncidentStatus.CLOSED.value,
    ), status


@blp.get("/reports/<int:incident_id>")
@login_required
@unit_of_work
def incident_page(incident_id: int):
    user = signed_in_user()
    found = reporting.find_in_scope(user, _incident_id(incident_id))
    if access.is_case_handler(user, found):
        # Mails give everyone the report's address; a case handler works on the case page.
        return redirect(url_for("casework.case", incident_id=found.id))
    return _render_report(incident_id)


@blp.post("/reports/<int:incident_id>/messages")
@login_required
@unit_of_work
def post_message(incident_id: int):
    user = signed_in_user()
    state = FormState(values=request.form.copy())
    data = load(state, MessageCreateSchema(), {"body": request.form.get("body", "")},
                MESSAGE_WORDING)
    sent = data and call(state, lambda: messages.post_for_user(
        user, _incident_id(incident_id), data["body"]), MESSAGE_WORDING)
    if not sent:
        return _render_report(incident_id, message_state=state, status=422)
    flash(_("Your message was sent."), "success")
    return redirect(url_for("employee.incident_page", incident_id=incident_id,
                            _anchor="messages"), 303)


@blp.post("/reports/<int:incident_id>/evaluation")
@login_required
@unit_of_work
def evaluate(incident_id: int):
    user = signed_in_user()
    # Who may evaluate is settled before what was sent is looked at (as in the API).
    incident, evaluation = support.evaluation_for_writing(user, _incident_id(incident_id))
    state = FormState(values=request.form.copy())
    payload = {
        "sufficient": optional(request.form.get("sufficient")),
        "relevant": optional(request.form.get("relevant")),
        "felt_supported_by_employer": whole_number(
            request.form.get("felt_supported_by_employer")),
        "comment": optional(request.form.get("comment")),
    }
    data = load(state, SupportEvaluationInputSchema(), payload, EVALUATION_WORDING)
    if data is None:
        return _render_report(incident_id, evaluation_state=state, status=422)
    if evaluation is not None and request.form.get("version") != str(evaluation.version):
        # The page was stale (the API's If-Match rule): show what is saved now.
        flash(_("Your evaluation was changed elsewhere after you opened this page. Here is "
                "what is saved now; change it again if you want to."), "error")
        return redirect(url_for("employee.incident_page", incident_id=incident_id,
                                _anchor="evaluation"), 303)
    saved = call(state, lambda: support.save_evaluation(user, incident, evaluation, data),
                 EVALUATION_WORDING)
    if not saved:
        return _render_report(incident_id, evaluation_state=state, status=422)
    flash(_("Thank you. Your evaluation of the support was saved."), "success")
    return redirect(url_for("employee.incident_page", incident_id=incident_id,
                            _anchor="evaluation"), 303)
