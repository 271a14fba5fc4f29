"""Anonymous exposure surveys (the first dark-figure estimate, docs/statistics.md).

hr sets a survey up for some units; each employee of those units (sub-units included) answers
once, while it is open. The answers are kept without the respondent's identity: the
participation record that stops a second answer and the answers themselves are written in one
transaction but share no user, no time finer than the day and no ordered id
(incidents/models/survey.py). Nothing here returns who answered what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import func, select

from incidents import access
from incidents.clock import to_local, utcnow
from incidents.domain import AuditAction, AuditRecord, Category, Role, values
from incidents.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from incidents.extensions import db
from incidents.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
    SurveyUnit,
    User,
)
from incidents.services import audit, organisation


def reference_period(survey: Survey) -> tuple[datetime, datetime]:
    """The period the survey asks about: the reference_months (calendar months on the local
    wall clock) before it closes; the start inclusive, the end exclusive."""
    start = to_local(survey.closes_at) - relativedelta(months=survey.reference_months)
    return start.astimezone(survey.closes_at.tzinfo), survey.closes_at


def status(survey: Survey, now: datetime | None = None) -> str:
    now = now or utcnow()
    if now < survey.opens_at:
        return "scheduled"
    return "open" if now < survey.closes_at else "closed"


def describe(survey: Survey, response_count: int) -> dict[str, Any]:
    start, end = reference_period(survey)
    return {
        "id": survey.id,
        "title": survey.title,
        "unit_ids": survey.unit_ids,
        "reference_months": survey.reference_months,
        "reference_start": start,
        "reference_end": end,
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "status": status(survey),
        "response_count": response_count,
        "created_by_id": survey.created_by_id,
        "created_at": survey.created_at,
    }


def _response_counts(survey_ids: list[int]) -> dict[int, int]:
    if not survey_ids:
        return {}
    rows = db.session.execute(
        select(SurveyResponse.survey_id, func.count())
        .where(SurveyResponse.survey_id.in_(survey_ids))
        .group_by(SurveyResponse.survey_id)
    )
    return {survey_id: count for survey_id, count in rows}


def get_survey(survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(f"There is no survey {survey_id}.")
    return survey


def survey_for_hr(user: User, survey_id: int) -> Survey:
    """A survey hr may see: one whose every unit it reaches (404 for others, as for none)."""
    survey = db.session.scalar(select(Survey).where(Survey.id == survey_id,
                                                    access.survey_scope(user)))
    if survey is None:
        raise NotFound(f"There is no survey {survey_id}.")
    return survey


def describe_to_answer(survey_id: int) -> dict[str, Any]:
    """What the answering page shows of a survey (title, window): open to every employee; who
    may answer is ``survey_to_answer``'s rule."""
    survey = get_survey(survey_id)
    return describe(survey, 0)


def read_survey(user: User, survey_id: int) -> dict[str, Any]:
    survey = survey_for_hr(user, survey_id)
    return describe(survey, _response_counts([survey.id]).get(survey.id, 0))


def list_surveys(user: User) -> list[dict[str, Any]]:
    """The surveys of the units hr reaches, latest closing first."""
    surveys = list(db.session.scalars(select(Survey).where(access.survey_scope(user))
                                      .order_by(Survey.closes_at.desc(), Survey.id.desc())))
    counts = _response_counts([s.id for s in surveys])
    return [describe(s, counts.get(s.id, 0)) for s in surveys]


def create_survey(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A survey needs units that exist, listed once, and a window that closes after it opens
    and in the future (a survey closed already could receive no answers)."""
    unit_ids = data["unit_ids"]
    organisation.existing_units(unit_ids)
    if not access.covers_units(user, Role.HR, unit_ids):
        raise field_error("unit_ids", "only units you are hr for (and units below them)")
    if data["closes_at"] <= data["opens_at"]:
        raise field_error("closes_at", "must be after opens_at")
    if data["closes_at"] <= utcnow():
        raise field_error("closes_at", "must be in the future")
    survey = Survey(
        title=data["title"],
        reference_months=data.get("reference_months")
        or current_app.config["SURVEY_REFERENCE_MONTHS"],
        opens_at=data["opens_at"],
        closes_at=data["closes_at"],
        created_by_id=user.id,
        unit_rows=[SurveyUnit(unit_id=unit_id) for unit_id in sorted(unit_ids)],
    )
    db.session.add(survey)
    db.session.flush()
    audit.record(user, AuditAction.CREATE, None, detail=f"exposure survey {survey.id} created",
                 record=AuditRecord.SURVEY, unit_id=survey.unit_ids[0])
    return describe(survey, 0)


def covers(survey: Survey, unit_id: int | None) -> bool:
    """Whether the unit is one of the survey's units or below one of them."""
    return access.unit_within(unit_id, survey.unit_ids)


# -- answering ----------------------------------------------------------------------------


def _check_answers(answers: dict[str, dict[str, Any]]) -> None:
    """Per form: reported ≤ times, and times = 0 when not exposed. Every fault is named by its
    full field path, e.g. answers.threat.reported."""
    errors: dict[str, list[str]] = {}
    for category in values(Category):
        answer = answers[category]
        prefix = f"answers.{category}"
        if not answer["exposed"] and answer["times"] != 0:
            errors[f"{prefix}.times"] = ["must be 0 when exposed is false"]
        if answer["reported"] > answer["times"]:
            errors[f"{prefix}.reported"] = ["must not be more than times"]
    if errors:
        fields = ", ".join(errors)
        raise ValidationFailed(f"The answers do not add up: {fields}.", errors=errors)


def survey_to_answer(user: User, survey_id: int) -> Survey:
    """The survey, if it covers the user's unit (404 unknown, 403 not covered)."""
    survey = get_survey(survey_id)
    if not covers(survey, user.unit_id):
        raise Forbidden(
            "This survey is for the employees of other units; your unit is not covered.",
            errors={"unit_id": ["not covered by the survey"]},
        )
    return survey


def submit_response(user: User, survey_id: int, answers: dict[str, dict[str, Any]]) -> dict:
    """Store one employee's answers, once, while the survey is open.

    The participation row (survey, user) and the anonymous response are written in the same
    transaction: either both or neither. The participation's primary key refuses a second
    answer, also from two requests at once (the loser's transaction fails as a conflict).
    """
    survey = survey_to_answer(user, survey_id)
    now = utcnow()
    state = status(survey, now)
    if state != "open":
        moment = survey.opens_at if state == "scheduled" else survey.closes_at
        verb = "opens" if state == "scheduled" else "closed"
        raise Conflict(
            f"The survey is not open: it {verb} at {moment.isoformat()}.",
            errors={"opens_at" if state == "scheduled" else "closes_at": [moment.isoformat()]},
        )
    if db.session.get(SurveyParticipation, (survey.id, user.id)) is not None:
        raise Conflict(
            "You have already answered this survey; answers cannot be changed, since they are "
            "not kept with your name.",
            errors={"survey_id": ["already answered"]},
        )
    _check_answers(answers)
    received_on = to_local(now).date()
    db.session.add(SurveyParticipation(survey_id=survey.id, user_id=user.id))
    db.session.add(
        SurveyResponse(
            survey_id=survey.id,
            submitted_on=received_on,
            answers=[
                SurveyAnswer(
                    category=category,
                    exposed=answers[category]["exposed"],
                    times=answers[category]["times"],
                    reported=answers[category]["reported"],
                )
                for category in values(Category)
            ],
        )
    )
    db.session.flush()
    # Deliberately not audited: an audit entry would tie the user to the moment of answering.
    return {"survey_id": survey.id, "received_on": received_on}
