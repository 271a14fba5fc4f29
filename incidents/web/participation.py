"""Where people take part: answering an exposure survey, and rating a workshop in the room
from the short link or QR code on the projector.

A survey answer is the API's POST /surveys/{id}/responses: signed in (employee, manager or
hr), for the people of the units covered (sub-units included), once per person, while the
survey is open. The service stores the answer without the person (a participation row that
says only *that* they took part, and the answer with a random id and the day).

A workshop is rated in the room without an account, once per device, while its rating window
is open (services/workshops.py, ``rate_in_room`` and ``add_usefulness``): the problem's size
first, the usefulness at the end. The device is known by a random token in the ``op_device``
cookie (HttpOnly, SameSite=Lax, only sent to /w/); the service stores only a keyed hash of it per
workshop. These pages have no session (sessions.SESSIONLESS_PREFIXES) and carry the anonymous
form token against CSRF.

Neither writes an audit entry, keeps what was sent in the session, or puts anything about the
answer in a URL, a flash message or a log line. A second answer is refused by a primary key,
also when two arrive at once (a double tap): that race is answered as the API answers it, 409.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from incidents import auth
from incidents.domain import (
    CATEGORY_DESCRIPTIONS,
    CATEGORY_LABELS,
    REPORTING_ROLES,
    WORKSHOP_SCALE_ANCHORS,
    WORKSHOP_SCALE_LABELS,
    WORKSHOP_SCALE_RANGE,
    Category,
    WorkshopScale,
)
from incidents.errors import Conflict, ValidationFailed
from incidents.extensions import db, limiter
from incidents.schemas.surveys import SurveyResponseCreateSchema
from incidents.schemas.workshops import WorkshopRatingCreateSchema, WorkshopUsefulnessSchema
from incidents.services import surveys, workshops
from incidents.stats.workshops import status as workshop_status
from incidents.web.boundary import unit_of_work
from incidents.web.forms import FormState, errors_from, load, optional, whole_number
from incidents.web.i18n import label
from incidents.web.identity import login_required, signed_in_user

blp = Blueprint("participation", __name__)

TAKING_PART = tuple(sorted(REPORTING_ROLES))  # as authenticated(blp, *sorted(REPORTING_ROLES))

RATING_WORDING = {
    "problem_size": ("problem-size-1", _l("Choose how large the problem is, from 1 to 7")),
    "usefulness": ("usefulness-1", _l("Choose how useful the workshop was, from 1 to 5")),
    "group": ("group", _l("Shorten your group's name to at most 50 characters")),
}

DEVICE_COOKIE = "op_device"
DEVICE_COOKIE_DAYS = 400  # the longest browsers keep a cookie


def _not_for_you(title: str, message: str):
    return render_template("error.html", title=title, message=message), 403


# -- exposure surveys -----------------------------------------------------------------------


def answer_wording() -> dict[str, tuple[str, str]]:
    """Per form and question, the input and the sentence; in the page's language."""
    wording: dict[str, tuple[str, str]] = {}
    for category in Category:
        name, code = label(CATEGORY_LABELS[category]), category.value
        anchor = code.replace("_", "-")
        wording[f"answers.{code}.exposed"] = (f"{anchor}-exposed-yes", _(
            "%(form)s: answer yes or no", form=name))
        wording[f"answers.{code}.times"] = (f"{anchor}-times", _(
            "%(form)s: enter how many times, a whole number up to 1000, or 0 if you answered "
            "no", form=name))
        wording[f"answers.{code}.reported"] = (f"{anchor}-reported", _(
            "%(form)s: enter how many of them you reported to your employer, a whole number "
            "no larger than the number of times", form=name))
    return wording


def _answers(form) -> dict[str, Any]:
    """The page's answers in the API's terms. With "no", an empty number is 0."""
    answers: dict[str, Any] = {}
    for category in Category:
        code = category.value
        exposed = {"yes": True, "no": False}.get(form.get(f"{code}-exposed", ""))
        times = whole_number(form.get(f"{code}-times"))
        reported = whole_number(form.get(f"{code}-reported"))
        if exposed is False:
            times = 0 if times is None else times
            reported = 0 if reported is None else reported
        answers[code] = {"exposed": exposed, "times": times, "reported": reported}
    return {"answers": answers}


def _render_answer(survey_id: int, state: FormState, situation: str | None = None,
                   status: int = 200):
    user = signed_in_user()
    survey = surveys.describe_to_answer(survey_id)
    if not surveys.covers(surveys.get_survey(survey_id), user.unit_id):
        return _not_for_you(_("This survey is for other units"), _(
            "The survey is for the employees of other parts of the organisation, so you "
            "cannot answer it. If you think it is for you, ask HR."))
    if situation is None and survey["status"] != "open":
        situation = survey["status"]
    return render_template(
        "hr_survey_answer.html",
        survey=survey,
        state=state,
        situation=situation,
        forms=[(c.value, CATEGORY_LABELS[c], CATEGORY_DESCRIPTIONS[c]) for c in Category],
    ), status


@blp.get("/surveys/<int:survey_id>/answer")
@login_required
@unit_of_work
def answer_survey_page(survey_id: int):
    auth.require_roles(signed_in_user(), TAKING_PART)
    return _render_answer(survey_id, FormState())


@blp.post("/surveys/<int:survey_id>/answer")
@login_required
@unit_of_work
def answer_survey(survey_id: int):
    user = signed_in_user()
    auth.require_roles(user, TAKING_PART)
    state = FormState(values=request.form.copy())
    wording = answer_wording()
    data = load(state, SurveyResponseCreateSchema(), _answers(request.form), wording)
    if data is None:
        return _render_answer(survey_id, state, status=422)
    try:
        surveys.submit_response(user, survey_id, data["answers"])
    except ValidationFailed as exc:
        errors_from(state, exc.errors or {}, wording)
        return _render_answer(survey_id, state, status=422)
    except Conflict as exc:
        situation = "answered" if "survey_id" in (exc.errors or {}) else None
        return _render_answer(survey_id, FormState(), situation, 409)
    except IntegrityError:  # answered at the same moment in another tab: the API's 409
        db.session.rollback()
        return _render_answer(survey_id, FormState(), "answered", 409)
    flash(_("Thank you. Your answers were saved without your name, so no one can tell what "
            "you answered, and they cannot be changed."), "success")
    return redirect(url_for("employee.start"), 303)


# -- workshop ratings in the room ------------------------------------------------------------


def _scale(scale: WorkshopScale) -> dict[str, Any]:
    low, high = WORKSHOP_SCALE_RANGE[scale]
    anchors = WORKSHOP_SCALE_ANCHORS[scale]
    return {
        "name": scale.value,
        "id": scale.value.replace("_", "-"),
        "question": WORKSHOP_SCALE_LABELS[scale],
        "options": [(str(v), anchors.get(v)) for v in range(low, high + 1)],
    }


def _device_token() -> str | None:
    token = request.cookies.get(DEVICE_COOKIE, "")
    return token if 20 <= len(token) <= 100 else None


def _room_limit() -> str:
    return current_app.config["WORKSHOP_ROOM_RATE_LIMIT"]


def _render_room(room_code: str, state: FormState, situation: str | None = None,
                 status: int = 200):
    """The page of the room: what this device is to do next (rate the problem, then the
    usefulness), or why it cannot (not open yet, closed, done)."""
    workshop = workshops.workshop_in_room(room_code)
    token = _device_token()
    rating = workshops.rating_of_device(workshop, token)
    current = workshop_status(workshop)
    if situation is None:
        if rating is not None and rating.usefulness is not None:
            situation = "done"
        elif current != "open":
            situation = current
        elif rating is not None:
            situation = "usefulness"
    response = make_response(render_template(
        "hr_workshop_rate.html",
        workshop=workshop,
        state=state,
        situation=situation,
        problem=_scale(WorkshopScale.PROBLEM_SIZE),
        useful=_scale(WorkshopScale.USEFULNESS),
    ), status)
    if token is None:
        response.set_cookie(
            DEVICE_COOKIE, secrets.token_urlsafe(32), max_age=DEVICE_COOKIE_DAYS * 86400,
            path="/w/", httponly=True, samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _no_cookie(room_code: str):
    """Without the device cookie no one could tell a second rating from the device."""
    state = FormState(values=request.form.copy())
    state.add("device", "rate-form", _(
        "Your browser did not send back the small file (cookie) that tells this page it has "
        "already been rated from this device. Allow cookies for this site and send again, or "
        "rate on paper."))
    return _render_room(room_code, state, status=400)


@blp.get("/w/<room_code>")
@unit_of_work
def room(room_code: str):
    return _render_room(room_code, FormState())


@blp.post("/w/<room_code>")
@limiter.limit(_room_limit, methods=["POST"])
@unit_of_work
def rate_in_room(room_code: str):
    """The problem's size (and the discussion group) from this device."""
    token = _device_token()
    if token is None:
        return _no_cookie(room_code)
    state = FormState(values=request.form.copy())
    payload = {"problem_size": whole_number(request.form.get("problem_size")),
               "group": optional(request.form.get("group"))}
    data = load(state, WorkshopRatingCreateSchema(), payload, RATING_WORDING)
    if data is None:
        return _render_room(room_code, state, status=422)
    return _rated(room_code, lambda: workshops.rate_in_room(room_code, token, data))


@blp.post("/w/<room_code>/usefulness")
@limiter.limit(_room_limit, methods=["POST"])
@unit_of_work
def add_usefulness(room_code: str):
    """The usefulness, at the end of the workshop, added to this device's rating."""
    token = _device_token()
    if token is None:
        return _no_cookie(room_code)
    state = FormState(values=request.form.copy())
    payload = {"usefulness": whole_number(request.form.get("usefulness"))}
    data = load(state, WorkshopUsefulnessSchema(), payload, RATING_WORDING)
    if data is None:
        return _render_room(room_code, state, "usefulness", status=422)
    return _rated(room_code,
                  lambda: workshops.add_usefulness(room_code, token, data["usefulness"]))


def _rated(room_code: str, rate):
    try:
        rate()
    except Conflict as exc:
        situation = "rated" if "device" in (exc.errors or {}) else None
        return _render_room(room_code, FormState(), situation, 409)
    except IntegrityError:  # a double tap: the second is refused as the API refuses it
        db.session.rollback()
        return _render_room(room_code, FormState(), "rated", 409)
    # Back to the room's page, which says what is next for this device.
    return redirect(url_for("participation.room", room_code=room_code, _anchor="next"), 303)
