"""The case handler's pages: the inbox, and one page per case that shows the whole case and
holds every action as a small form. Each form validates with the API's schema and calls the
service the API calls; a change guarded by an ETag in the API is guarded here by the version
the page was shown with (a stale page is told so and shown the case as it is now)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from incidents import access, auth
from incidents.clock import to_local, utcnow
from incidents.domain import (
    CLOSING_ITEM_LABELS,
    CONTACT_ADDRESS_LABELS,
    FILED_BY_LABELS,
    FOLLOW_UP_LABELS,
    POLICE_DECISION_LABELS,
    POLICE_FLAG_LABELS,
    POLICE_OUTCOME_LABELS,
    POLICE_WISH_LABELS,
    RATING3_LABELS,
    STATUS_LABELS,
    SUPPORT_LABELS,
    ClosingItem,
    IncidentStatus,
    PoliceFlag,
    Role,
)
from incidents.errors import NotFound
from incidents.schemas.authority import AuthorityReportPutSchema
from incidents.schemas.case import (
    CheckInCompleteSchema,
    FollowUpCreateSchema,
    ReopenSchema,
    SupportDeclineInputSchema,
    SupportMeasureCreateSchema,
    SupportMeasureUpdateSchema,
)
from incidents.schemas.common import MAX_ID
from incidents.schemas.messaging import MessageCreateSchema
from incidents.schemas.police import PoliceReportPutSchema
from incidents.services import (
    authority,
    casework,
    lifecycle,
    messages,
    police,
    reporting,
    support,
)
from incidents.services.reminders import KIND_LABELS
from incidents.web.boundary import unit_of_work
from incidents.web.forms import FormState, call, load, moment, optional, today_and_now
from incidents.web.identity import login_required, signed_in_user

blp = Blueprint("casework", __name__)

# Where on the case page each closing item is done.
CLOSING_ANCHORS = {
    ClosingItem.FOLLOW_UP: "follow-up",
    ClosingItem.ANONYMOUS_ANSWER: "messages",
    ClosingItem.CONVERSATION: "follow-up",
    ClosingItem.SUPPORT_DECISION: "support",
    ClosingItem.POLICE_DECISION: "police",
    ClosingItem.WORK_ENVIRONMENT_NOTIFICATION: "authorities",
    ClosingItem.WORK_INJURY_REPORT: "authorities",
}

FOLLOW_UP_WORDING = {
    "type": ("follow-up-type", _l("Choose what was done")),
    "occurred_at": ("follow-up-date", _l("Enter when it was done: a date that is not in the "
                                         "future and not before the incident")),
    "note": ("follow-up-note", _l("Write what was done and agreed")),
}
SUPPORT_WORDING = {
    "type": ("support-type", _l("Choose the kind of support")),
    "provider": ("support-provider", _l("Shorten who gives the support")),
    "offered_at": ("support-type", _l("The support cannot be offered before the incident")),
    "delivered_at": ("support-type", _l("Support cannot be given before it was offered")),
    "note": ("support-note", _l("Shorten the note")),
}
DECLINE_WORDING = {"note": ("decline-note", _l("Shorten the note")),
                   "declined_at": ("decline-note", _l("Enter a time that is not in the future"))}
CHECK_IN_WORDING = {"note": ("check-in-note", _l("Write how the employee is doing and what "
                                                  "was agreed"))}
POLICE_WORDING = {
    "decision": ("police-decision-report", _l("Choose whether to report to the police")),
    "decision_reason": ("police-reason", _l("Say why the incident is not reported to the police")),
    "filed_by": ("police-filed-by-employer", _l("Choose who filed the police report")),
    "contact_address": ("police-address-work", _l("Choose which address the report gives")),
    "filed_at": ("police-filed-date", _l("Enter the day the police report was filed: not in "
                                         "the future, and not after an outcome")),
    "police_reference": ("police-reference", _l("Enter the police's reference (at most 100 "
                                                "characters) and the day the report was filed")),
    "outcome": ("police-outcome", _l("Check the outcome: its kind, its date, and a reason when "
                                     "the investigation was discontinued")),
}
AUTHORITY_WORDING = {
    "serious": ("serious-yes", _l("Answer whether the incident is serious")),
    "work_environment_authority": ("av-date", _l(
        "Enter when Arbetsmiljöverket was notified, not in the future, and its reference")),
    "work_injury_report": ("fk-date", _l(
        "Enter when the work-injury report was filed, not in the future, and its reference")),
    "safety_representative_informed_at": ("safety-date", _l("Enter a date that is not in the "
                                                            "future")),
    "investigation_done_at": ("investigation-date", _l("Enter a date that is not in the "
                                                       "future")),
}
MESSAGE_WORDING = {"body": ("case-message-body", _l("Write a message before you send it"))}
REOPEN_WORDING = {"reason": ("reopen-reason", _l("Say why the case is reopened"))}
CLOSE_WORDING = {"missing": ("checklist", _l("The case cannot be closed yet: see what is "
                                            "missing")),
                 "status": ("checklist", _l("The case cannot be closed in its current state"))}


def _handler():
    user = signed_in_user()
    auth.require_roles(user, (Role.MANAGER, Role.HR))
    return user


def _id(incident_id: int) -> int:
    if incident_id > MAX_ID:
        raise NotFound(f"There is no incident {incident_id} that you can see.")
    return incident_id


@blp.get("/cases")
@login_required
@unit_of_work
def inbox():
    box = casework.inbox(_handler())
    now = utcnow()
    overdue = [{**item, "late": now - item["due_at"], "label": KIND_LABELS[item["kind"]]}
               for item in box.overdue]
    return render_template("case_inbox.html", box=box, overdue=overdue,
                           status_labels=STATUS_LABELS)


def _maybe(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except NotFound:
        return None


def _render_case(incident_id: int, states: dict[str, FormState] | None = None,
                 status: int = 200):
    user = _handler()
    incident = reporting.read_incident(user, _id(incident_id))
    if access.is_exposed_employee(user, incident):
        # Nobody handles their own case: they see it as the employee does.
        return redirect(url_for("employee.incident_page", incident_id=incident.id))
    if not access.is_case_handler(user, incident):
        return redirect(url_for("employee.incident_page", incident_id=incident.id))
    states = states or {}
    day, clock = today_and_now()
    police_state = police.read_report(user, incident.id)
    authority_state = authority.read_reports(user, incident.id)
    check_ins = support.list_check_ins(user, incident.id)
    checklist = [] if incident.status == IncidentStatus.CLOSED.value else (
        lifecycle.missing_for_close(incident))
    return render_template(
        "case.html",
        incident=incident,
        history=lifecycle.status_history(user, incident.id),
        follow_ups=support.list_follow_ups(user, incident.id),
        measures=support.list_support_measures(user, incident.id),
        decline=_maybe(lambda: support.get_support_declined(user, incident.id)),
        check_ins=check_ins,
        police=police_state,
        authorities=authority_state,
        thread=messages.list_for_user(user, incident.id),
        evaluation=(_maybe(lambda: support.read_evaluation(user, incident.id))
                    if not incident.anonymous else None),
        checklist=[(item, CLOSING_ITEM_LABELS[item.code], CLOSING_ANCHORS[item.code])
                   for item in checklist],
        states={
            **{name: states.get(name, FormState(values=MultiDict({"date": day, "time": clock})))
               for name in ("follow_up", "support", "decline", "check_in", "message", "reopen",
                            "close")},
            # Shown with what is recorded now, or with what was sent when it was refused.
            "police": states.get("police", FormState(values=_police_values(police_state))),
            "authorities": states.get("authorities",
                                      FormState(values=_authority_values(authority_state))),
        },
        # The next check-in not yet done is the one to record (the others wait their turn).
        next_check_in_id=next((c.id for c in check_ins if c.completed_at is None), None),
        police_defaults=_police_values(police_state),
        authority_defaults=_authority_values(authority_state),
        labels={
            "status": STATUS_LABELS, "follow_up": FOLLOW_UP_LABELS, "support": SUPPORT_LABELS,
            "decision": POLICE_DECISION_LABELS, "filed_by": FILED_BY_LABELS,
            "address": CONTACT_ADDRESS_LABELS, "outcome": POLICE_OUTCOME_LABELS,
            "flag": POLICE_FLAG_LABELS, "wish": POLICE_WISH_LABELS, "rating": RATING3_LABELS,
        },
        closed=incident.status == IncidentStatus.CLOSED.value,
        decision_flags={PoliceFlag.REQUIRED.value, PoliceFlag.RECOMMENDED.value},
    ), status


def _local_day(moment_value) -> str:
    return to_local(moment_value).date().isoformat() if moment_value else ""


def _police_values(state) -> MultiDict:
    return MultiDict({
        "decision": state.decision or "", "decision_reason": state.decision_reason or "",
        "filed_by": state.filed_by or "", "contact_address": state.contact_address or "",
        "filed_date": _local_day(state.filed_at), "police_reference": state.police_reference or "",
        "version": str(state.version),
    })


def _authority_values(state) -> MultiDict:
    av, fk = state.work_environment_authority, state.work_injury_report
    return MultiDict({
        "serious": "yes" if state.serious else "no",
        "av_date": _local_day(av["notified_at"]), "av_reference": av["reference"] or "",
        "fk_date": _local_day(fk["filed_at"]), "fk_reference": fk["reference"] or "",
        "safety_date": _local_day(state.safety_representative_informed_at),
        "investigation_date": _local_day(state.investigation_done_at),
        "version": str(state.version),
    })


@blp.get("/cases/<int:incident_id>")
@login_required
@unit_of_work
def case(incident_id: int):
    return _render_case(incident_id)


def _done(incident_id: int, message: str, anchor: str):
    flash(message, "success")
    return redirect(url_for("casework.case", incident_id=incident_id, _anchor=anchor), 303)


def _stale(incident_id: int, anchor: str):
    flash(_("Someone else changed this part of the case after you opened the page. Here is the "
            "case as it is now; make your change again if it is still needed."), "error")
    return redirect(url_for("casework.case", incident_id=incident_id, _anchor=anchor), 303)


def _form(name: str) -> FormState:
    return FormState(values=request.form.copy())


def _act(incident_id: int, name: str, schema, payload: dict[str, Any], wording,
         action: Callable[[dict[str, Any]], Any], done: str, anchor: str):
    """Validate ``payload`` with the API's ``schema``, run the service ``action``; the case
    page again with the errors, or back to the page with ``done``."""
    _handler()
    state = _form(name)
    data = load(state, schema, payload, wording)
    result = data is not None and call(state, lambda: action(data) or True, wording)
    if not result:
        return _render_case(incident_id, {name: state}, 422)
    return _done(incident_id, done, anchor)


@blp.post("/cases/<int:incident_id>/acknowledge")
@login_required
@unit_of_work
def acknowledge(incident_id: int):
    lifecycle.acknowledge(_handler(), _id(incident_id))
    return _done(incident_id, _("The report is acknowledged. The check-ins are planned."),
                 "follow-up")


@blp.post("/cases/<int:incident_id>/follow-ups")
@login_required
@unit_of_work
def add_follow_up(incident_id: int):
    form = request.form
    payload = {"type": optional(form.get("type")), "note": form.get("note", ""),
               "occurred_at": moment(form.get("date", ""), form.get("time", ""))}
    return _act(incident_id, "follow_up", FollowUpCreateSchema(), payload, FOLLOW_UP_WORDING,
                lambda data: support.add_follow_up(signed_in_user(), _id(incident_id), data),
                _("The follow-up is recorded."), "follow-up")


@blp.post("/cases/<int:incident_id>/support-measures")
@login_required
@unit_of_work
def add_support(incident_id: int):
    form = request.form
    answer = form.get("answer")
    payload: dict[str, Any] = {"type": optional(form.get("type")),
                               "provider": optional(form.get("provider")),
                               "note": optional(form.get("note"))}
    if answer in {"accepted", "delivered"}:
        payload["accepted"] = True
    elif answer == "declined":
        payload["accepted"] = False
    if answer == "delivered":
        payload["delivered_at"] = utcnow().isoformat()
    return _act(incident_id, "support", SupportMeasureCreateSchema(), payload, SUPPORT_WORDING,
                lambda data: support.add_support_measure(signed_in_user(), _id(incident_id),
                                                         data),
                _("The support is recorded."), "support")


@blp.post("/cases/<int:incident_id>/support-measures/<int:measure_id>")
@login_required
@unit_of_work
def update_support(incident_id: int, measure_id: int):
    user = _handler()
    measure = support.get_support_measure(user, _id(incident_id), min(measure_id, MAX_ID))
    if request.form.get("version") != str(measure.version):
        return _stale(incident_id, "support")
    answer = request.form.get("answer")
    payload: dict[str, Any] = {"accepted": answer != "declined"}
    if answer == "delivered":
        payload["delivered_at"] = utcnow().isoformat()
    return _act(incident_id, "support", SupportMeasureUpdateSchema(), payload, SUPPORT_WORDING,
                lambda data: support.update_support_measure(user, measure, data),
                _("The support is updated."), "support")


@blp.post("/cases/<int:incident_id>/support-declined")
@login_required
@unit_of_work
def support_declined(incident_id: int):
    payload = {"note": optional(request.form.get("note"))}
    return _act(incident_id, "decline", SupportDeclineInputSchema(), payload, DECLINE_WORDING,
                lambda data: support.record_support_declined(signed_in_user(), _id(incident_id),
                                                             data),
                _("It is recorded that the employee declined support."), "support")


@blp.post("/cases/<int:incident_id>/check-ins/<int:check_in_id>")
@login_required
@unit_of_work
def complete_check_in(incident_id: int, check_in_id: int):
    payload = {"note": request.form.get("note", "")}
    return _act(incident_id, "check_in", CheckInCompleteSchema(), payload, CHECK_IN_WORDING,
                lambda data: support.complete_check_in(
                    signed_in_user(), _id(incident_id), min(check_in_id, MAX_ID), data["note"]),
                _("The check-in is recorded."), "check-ins")


def _date_moment(day: str | None) -> str | None:
    """A date chosen on the page as a moment: now if it is today, else noon of that day in the
    organisation's time zone (a later day stays later, and today is never in the future)."""
    if not optional(day):
        return None
    if day.strip() == today_and_now()[0]:
        return utcnow().isoformat()
    return moment(day, "12:00")


@blp.post("/cases/<int:incident_id>/police-report")
@login_required
@unit_of_work
def police_report(incident_id: int):
    user = _handler()
    state = police.report_for_recording(user, _id(incident_id))
    if request.form.get("version") != str(state.version):
        return _stale(incident_id, "police")
    form = request.form
    payload: dict[str, Any] = {
        "decision": optional(form.get("decision")),
        "decision_reason": optional(form.get("decision_reason")),
        "filed_by": optional(form.get("filed_by")),
        "contact_address": optional(form.get("contact_address")),
        "filed_at": _date_moment(form.get("filed_date")),
        "police_reference": optional(form.get("police_reference")),
    }
    if optional(form.get("outcome")):
        payload["outcome"] = {"code": form.get("outcome"),
                              "reached_on": optional(form.get("outcome_date")),
                              "reason": optional(form.get("outcome_reason"))}
    return _act(incident_id, "police", PoliceReportPutSchema(), payload, POLICE_WORDING,
                lambda data: police.record_report(user, state, data),
                _("The police report is recorded."), "police")


@blp.post("/cases/<int:incident_id>/authority-reports")
@login_required
@unit_of_work
def authority_reports(incident_id: int):
    user = _handler()
    state = authority.reports_for_recording(user, _id(incident_id))
    if request.form.get("version") != str(state.version):
        return _stale(incident_id, "authorities")
    form = request.form
    payload = {
        "serious": {"yes": True, "no": False}.get(form.get("serious", "")),
        "work_environment_authority": {"notified_at": _date_moment(form.get("av_date")),
                                       "reference": optional(form.get("av_reference"))},
        "work_injury_report": {"filed_at": _date_moment(form.get("fk_date")),
                               "reference": optional(form.get("fk_reference"))},
        "safety_representative_informed_at": _date_moment(form.get("safety_date")),
        "investigation_done_at": _date_moment(form.get("investigation_date")),
    }
    return _act(incident_id, "authorities", AuthorityReportPutSchema(), payload,
                AUTHORITY_WORDING, lambda data: authority.record_reports(user, state, data),
                _("The reports to the authorities are recorded."), "authorities")


@blp.post("/cases/<int:incident_id>/messages")
@login_required
@unit_of_work
def post_message(incident_id: int):
    payload = {"body": request.form.get("body", "")}
    return _act(incident_id, "message", MessageCreateSchema(), payload, MESSAGE_WORDING,
                lambda data: messages.post_for_user(signed_in_user(), _id(incident_id),
                                                    data["body"]),
                _("Your message was sent."), "messages")


@blp.post("/cases/<int:incident_id>/close")
@login_required
@unit_of_work
def close(incident_id: int):
    _handler()
    state = _form("close")
    closed = call(state, lambda: lifecycle.close(signed_in_user(), _id(incident_id)),
                  CLOSE_WORDING)
    if not closed:
        return _render_case(incident_id, {"close": state}, 409)
    return _done(incident_id, _("The case is closed."), "checklist")


@blp.post("/cases/<int:incident_id>/reopen")
@login_required
@unit_of_work
def reopen(incident_id: int):
    payload = {"reason": request.form.get("reason", "")}
    return _act(incident_id, "reopen", ReopenSchema(), payload, REOPEN_WORDING,
                lambda data: lifecycle.reopen(signed_in_user(), _id(incident_id),
                                              data["reason"]),
                _("The case is reopened."), "checklist")
