"""HR's pages: the summaries with a button to make those of an ended period, the exposure
surveys (set one up, share its link, read its results) and the workshops (set one up, show
its short link and QR code on a projector, follow the ratings coming in, enter a paper tally,
read the summary grouped as the city reports it).

Like every page here, each view calls the service the API endpoint calls, with the payload
checked by the API's own schema, and requires the roles the API requires at the same place:
POST /summaries, the surveys and the workshops are hr's; the summaries list is hr's and the
managers' (a manager sees those of the units they lead and below, the service's rule). The
pages where employees answer a survey or rate a workshop are in participation.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import marshmallow as ma
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from incidents import auth
from incidents.access import STATISTICS_ROLES, UnitTree
from incidents.clock import to_local, utcnow
from incidents.domain import (
    SUMMARY_KIND_LABELS,
    WORKSHOP_SCALE_LABELS,
    WORKSHOP_SCALE_RANGE,
    Role,
    SummaryKind,
    WorkshopScale,
)
from incidents.errors import ValidationFailed
from incidents.schemas.summaries import SummaryCreateSchema, SummaryListQuerySchema
from incidents.schemas.surveys import DarkFigureQuerySchema, SurveyCreateSchema
from incidents.schemas.workshops import WorkshopCreateSchema, WorkshopTallyCreateSchema
from incidents.services import dark_figure, summaries, surveys, workshops
from incidents.stats.periods import month_label
from incidents.stats.workshops import workshop_summary
from incidents.web import figures
from incidents.web.boundary import unit_of_work
from incidents.web.forms import FormState, call, load, moment, optional, whole_number
from incidents.web.i18n import language
from incidents.web.identity import login_required, signed_in_user
from incidents.web.statistics import survey_rows, unit_options

blp = Blueprint("hr", __name__)

HR = (Role.HR,)
SUMMARY_READERS = STATISTICS_ROLES

SUMMARY_WORDING = {
    "kind": ("summary-period", _l("Choose a tertial or a month that has ended")),
    "period": ("summary-period", _l("Choose a tertial or a month that has ended")),
}
SURVEY_WORDING = {
    "title": ("title", _l("Enter a title of at most 200 characters")),
    "unit_ids": ("unit-id", _l("Choose the part of the organisation the survey is for")),
    "reference_months": ("reference-months", _l(
        "Enter how many months back the survey asks about, a whole number from 1 to 120")),
    "opens_at": ("opens-date", _l("Enter when the survey opens: a date and a time")),
    "closes_at": ("closes-date", _l(
        "Enter when the survey closes: a date and a time after it opens and in the future")),
}
WORKSHOP_WORDING = {
    "title": ("title", _l("Enter a title of at most 200 characters")),
    "held_on": ("held-on", _l("Enter the day the workshop is held, as a date")),
    "unit_ids": ("unit-id", _l("Choose the part of the organisation taking part")),
    "expected_participants": ("expected", _l(
        "Enter how many are expected to take part, a whole number from 1 to 100000")),
    "opens_at": ("opens-date", _l("Enter when rating opens: a date and a time")),
    "closes_at": ("closes-date", _l(
        "Enter when rating closes: a date and a time after it opens")),
}
SCALES = (WorkshopScale.PROBLEM_SIZE, WorkshopScale.USEFULNESS)


def _local_today() -> date:
    return to_local(utcnow()).date()


@blp.app_template_global("workshop_figures")
def _workshop_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """For the page of a stored workshop summary (summary.html, handler.summary)."""
    return figures.workshop_figures(summary)


def unit_names(unit_ids: list[int]) -> str:
    names = UnitTree.load().name
    return ", ".join(names.get(u, str(u)) for u in unit_ids)


def public_url(endpoint: str, **values: Any) -> str:
    """An address to give people (in a mail, on a projector): PUBLIC_BASE_URL, as the mails'
    links are."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


# -- summaries ----------------------------------------------------------------------------


def ended_periods(day: date) -> list[tuple[str, list[tuple[str, str]]]]:
    """The tertials and months that have ended, latest first, as the form offers them."""
    tertials = []
    for year in range(day.year, day.year - 4, -1):
        for number in (3, 2, 1):
            last = date(year + (number == 3), (number * 4) % 12 + 1, 1) - timedelta(days=1)
            if last < day:
                tertials.append((f"tertial:{year}-T{number}", _(
                    "T%(number)s %(year)s (%(first)s–%(last)s)", number=number, year=year,
                    first=format_date(date(year, number * 4 - 3, 1), "LLLL"),
                    last=format_date(date(year, number * 4, 1), "LLLL"))))
    months = []
    current = date(day.year, day.month, 1)
    for _i in range(24):
        current = (current - timedelta(days=1)).replace(day=1)
        months.append((f"monthly:{month_label(current)}", format_date(current, "LLLL yyyy")))
    return [(_("Tertials"), tertials), (_("Months"), months)]


def _render_summaries(user, state: FormState, status: int = 200):
    filters = {"limit": 200}
    kind = request.args.get("kind") or None
    period = request.args.get("period") or None
    try:
        args = SummaryListQuerySchema().load(
            {**filters, **({"kind": kind} if kind else {}), **({"period": period} if period
                                                                  else {})})
    except ma.ValidationError:  # an unknown kind in the address: show them all
        args, kind, period = SummaryListQuerySchema().load(filters), None, None
    found = summaries.list_summaries(user, args)
    return render_template(
        "hr_summaries.html",
        summaries=found,
        kind_labels={k.value: SUMMARY_KIND_LABELS[k] for k in SummaryKind},
        kind=kind,
        period=period,
        state=state,
        periods=ended_periods(_local_today()) if user.has_role(Role.HR) else None,
        is_hr=user.has_role(Role.HR),
    ), status


@blp.get("/summaries")
@login_required
@unit_of_work
def summaries_page():
    user = signed_in_user()
    auth.require_roles(user, SUMMARY_READERS)
    return _render_summaries(user, FormState())


@blp.post("/summaries")
@login_required
@unit_of_work
def make_summaries():
    """POST /api/v1/summaries: the tertial or monthly summaries of an ended period, one per
    organisation and förvaltning; those that exist are kept as they were made."""
    user = signed_in_user()
    auth.require_roles(user, HR)
    state = FormState(values=request.form.copy())
    kind, _sep, period = request.form.get("period", "").partition(":")
    data = load(state, SummaryCreateSchema(), {"kind": kind or None, "period": period or None},
                SUMMARY_WORDING)
    run = data and call(state, lambda: summaries.request(user, data), SUMMARY_WORDING)
    if not run:
        return _render_summaries(user, state, 422)
    if run.created:
        flash(_("%(count)s summaries of %(period)s were made.", count=len(run.created),
                period=period), "success")
    else:
        flash(_("The summaries of %(period)s had been made already. They are kept as they "
                "were made.", period=period), "info")
    return redirect(url_for("hr.summaries_page", kind=kind, period=period), 303)


# -- exposure surveys -----------------------------------------------------------------------


def _blank_survey_form() -> FormState:
    """Opens now, closes in three weeks, and asks about the default reference period."""
    now = to_local(utcnow())
    today = now.date()
    return FormState(values=MultiDict({
        "reference_months": str(current_app.config["SURVEY_REFERENCE_MONTHS"]),
        "opens_date": today.isoformat(), "opens_time": now.strftime("%H:%M"),
        "closes_date": (today + timedelta(days=21)).isoformat(), "closes_time": "16:00",
    }))


def _render_surveys(user, state: FormState, status: int = 200):
    found = surveys.list_surveys(user)
    return render_template(
        "hr_surveys.html", surveys=found, state=state, units=unit_options(user),
        names={s["id"]: unit_names(s["unit_ids"]) for s in found},
    ), status


@blp.get("/surveys")
@login_required
@unit_of_work
def surveys_page():
    user = signed_in_user()
    auth.require_roles(user, HR)
    return _render_surveys(user, _blank_survey_form())


@blp.post("/surveys")
@login_required
@unit_of_work
def create_survey():
    user = signed_in_user()
    auth.require_roles(user, HR)
    form = request.form
    state = FormState(values=form.copy())
    unit_id = whole_number(form.get("unit_id"))
    payload: dict[str, Any] = {
        "title": form.get("title", "").strip(),
        "unit_ids": [unit_id] if unit_id is not None else [],
        "opens_at": moment(form.get("opens_date", ""), form.get("opens_time", "")),
        "closes_at": moment(form.get("closes_date", ""), form.get("closes_time", "")),
    }
    if optional(form.get("reference_months")):
        payload["reference_months"] = whole_number(form.get("reference_months"))
    data = load(state, SurveyCreateSchema(), payload, SURVEY_WORDING)
    created = data and call(state, lambda: surveys.create_survey(user, data), SURVEY_WORDING)
    if not created:
        return _render_surveys(user, state, 422)
    flash(_("The survey was set up. Share the link below with the employees it is for."),
          "success")
    return redirect(url_for("hr.survey_page", survey_id=created["id"]), 303)


@blp.get("/surveys/<int:survey_id>")
@login_required
@unit_of_work
def survey_page(survey_id: int):
    """The survey, the link employees answer it at, and its results: the survey estimate of
    GET /api/v1/stats/dark-figure?survey_id= (disclosure-controlled)."""
    user = signed_in_user()
    auth.require_roles(user, HR)
    survey = surveys.read_survey(user, survey_id)
    body = dark_figure.dark_figure(
        user, DarkFigureQuerySchema().load({"survey_id": survey_id, "lang": language()}))
    block = body["survey"]
    return render_template(
        "hr_survey.html",
        survey=survey,
        units=unit_names(survey["unit_ids"]),
        link=public_url("participation.answer_survey_page", survey_id=survey_id),
        block=block,
        respondents=figures.count(block.get("respondents"), bool(block.get("suppressed"))),
        rows=survey_rows(block),
        threshold=body["suppression"]["threshold"],
    )


# -- workshops ------------------------------------------------------------------------------


def _blank_workshop_form() -> FormState:
    today = _local_today().isoformat()
    return FormState(values=MultiDict({
        "held_on": today, "opens_date": today, "opens_time": "08:00",
        "closes_date": today, "closes_time": "17:00",
    }))


def _render_workshops(user, state: FormState, status: int = 200):
    args: dict[str, Any] = {"limit": 50}
    cursor = optional(request.args.get("after"))
    if cursor:
        args["cursor"] = cursor[:200]
    try:
        page = workshops.list_workshops(user, args)
    except ValidationFailed:  # a cursor that is not one: the first page
        page = workshops.list_workshops(user, {"limit": 50})
    return render_template("hr_workshops.html", page=page, state=state,
                           units=unit_options(user)), status


@blp.get("/workshops")
@login_required
@unit_of_work
def workshops_page():
    user = signed_in_user()
    auth.require_roles(user, HR)
    return _render_workshops(user, _blank_workshop_form())


@blp.post("/workshops")
@login_required
@unit_of_work
def create_workshop():
    user = signed_in_user()
    auth.require_roles(user, HR)
    form = request.form
    state = FormState(values=form.copy())
    unit_id = whole_number(form.get("unit_id"))
    payload = {
        "title": form.get("title", "").strip(),
        "held_on": optional(form.get("held_on")),
        "unit_ids": [unit_id] if unit_id is not None else [],
        "expected_participants": whole_number(form.get("expected_participants")),
        "opens_at": moment(form.get("opens_date", ""), form.get("opens_time", "")),
        "closes_at": moment(form.get("closes_date", ""), form.get("closes_time", "")),
    }
    data = load(state, WorkshopCreateSchema(), payload, WORKSHOP_WORDING)
    created = data and call(state, lambda: workshops.create_workshop(user, data),
                            WORKSHOP_WORDING)
    if not created:
        return _render_workshops(user, state, 422)
    flash(_("The workshop was set up. Show this page on the projector when rating opens."),
          "success")
    return redirect(url_for("hr.workshop_page", workshop_id=created["id"]), 303)


def qr_code(link: str) -> str:
    """The link as a QR code, an SVG data URI (the pages allow images from data:), drawn
    here: no service elsewhere sees the link. segno is imported here, on the first projector
    page, not by every worker at start (docs/performance.md, memory)."""
    import segno

    return segno.make(link, error="m").svg_data_uri(scale=10, border=4, dark="#000",
                                                    light="#fff")


def tally_wording() -> dict[str, tuple[str, str]]:
    wording: dict[str, tuple[str, str]] = {}
    for scale in SCALES:
        low, high = WORKSHOP_SCALE_RANGE[scale]
        wording[scale.value] = (f"tally-{scale.value}-{low}", _(
            "Enter how many gave each rating, as whole numbers, with at least one above 0"))
        for value in range(low, high + 1):
            wording[f"{scale.value}.{value}"] = (f"tally-{scale.value}-{value}", _(
                "Enter the number of ratings of %(value)s as a whole number from 0 to 100000",
                value=value))
    return wording


def _render_workshop(user, workshop_id: int, tally_state: FormState | None = None,
                     status: int = 200):
    workshop = workshops.read_workshop(user, workshop_id)
    summary = workshop_summary(workshop_id)
    link = public_url("participation.room", room_code=workshop["room_code"])
    return render_template(
        "hr_workshop.html",
        workshop=workshop,
        units=unit_names(workshop["unit_ids"]),
        link=link,
        short_link=link.split("://", 1)[-1],
        qr=qr_code(link),
        figures=figures.workshop_figures(summary),
        threshold=summary["suppression"]["threshold"],
        scales=[(s.value, WORKSHOP_SCALE_LABELS[s], range(WORKSHOP_SCALE_RANGE[s][0],
                 WORKSHOP_SCALE_RANGE[s][1] + 1)) for s in SCALES],
        tally_state=tally_state or FormState(),
    ), status


@blp.get("/workshops/<int:workshop_id>")
@login_required
@unit_of_work
def workshop_page(workshop_id: int):
    user = signed_in_user()
    auth.require_roles(user, HR)
    return _render_workshop(user, workshop_id)


@blp.get("/workshops/<int:workshop_id>/count")
@login_required
@unit_of_work
def workshop_count(workshop_id: int):
    """The rating count for the projector page, which asks every few seconds while rating is
    open (static/site.js); the same figure as GET /api/v1/workshops/{id}."""
    user = signed_in_user()
    auth.require_roles(user, HR)
    workshop = workshops.read_workshop(user, workshop_id)
    return jsonify(rating_count=workshop["rating_count"], status=workshop["status"])


@blp.post("/workshops/<int:workshop_id>/tally")
@login_required
@unit_of_work
def add_tally(workshop_id: int):
    """POST /api/v1/workshops/{id}/ratings/tally: counts from paper forms or a polling tool,
    added to the ratings (a second tally is more ratings, not a correction)."""
    user = signed_in_user()
    auth.require_roles(user, HR)
    state = FormState(values=request.form.copy())
    payload: dict[str, dict[str, Any]] = {}
    for scale in SCALES:
        low, high = WORKSHOP_SCALE_RANGE[scale]
        counts = {str(v): whole_number(request.form.get(f"{scale.value}-{v}"))
                  for v in range(low, high + 1)}
        counts = {value: n for value, n in counts.items() if n is not None}
        if counts:
            payload[scale.value] = counts
    wording = tally_wording()
    data = load(state, WorkshopTallyCreateSchema(), payload, wording)
    tally = data and call(state, lambda: workshops.add_tally(user, workshop_id, data), wording)
    if not tally:
        return _render_workshop(user, workshop_id, state, 422)
    flash(_("Added %(problem)s problem-size ratings and %(useful)s usefulness ratings.",
            problem=sum(tally["problem_size"].values()),
            useful=sum(tally["usefulness"].values())), "success")
    return redirect(url_for("hr.workshop_page", workshop_id=workshop_id, _anchor="summary"),
                    303)
