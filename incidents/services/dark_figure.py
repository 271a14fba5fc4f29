"""The dark figure (mörkertal): IA counts entered by hr, and the three estimates of
``GET /api/v1/stats/dark-figure`` (docs/statistics.md).

Every count is aggregated in the database (COUNT/SUM, grouped where there are groups); no
incident row is loaded. The estimators are incidents.stats.estimators; small counts are
suppressed with incidents.stats.disclosure.suppress_value unless hr asks otherwise (audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from flask import current_app
from sqlalchemy import and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement

from incidents import access
from incidents.access import UnitTree
from incidents.clock import to_local, utcnow
from incidents.domain import (
    CATEGORY_LABELS,
    DECISION_REQUIRED_FLAGS,
    AuditAction,
    AuditRecord,
    Category,
    PoliceDecision,
    Role,
    values,
)
from incidents.errors import Conflict, Forbidden, NotFound, field_error
from incidents.extensions import db
from incidents.models import (
    IaCount,
    Incident,
    IncidentForm,
    PoliceReport,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    SurveyUnit,
    Unit,
    User,
)
from incidents.services import audit, surveys
from incidents.stats.disclosure import suppress_value
from incidents.stats.estimators import (
    CHAPMAN,
    CHAPMAN_ASSUMPTIONS,
    POLICE_METHOD,
    SURVEY_METHOD,
    chapman,
    police_dark_figure,
    proportion,
    survey_dark_figure,
)
from incidents.stats.incidents import require_hr_for_unsuppressed
from incidents.stats.periods import occurred_within
from incidents.stats.scope import select_units

MAX_YEARS = 10
"""The longest period asked about, as in the other statistics."""

# -- IA counts ----------------------------------------------------------------------------


def _existing_unit(unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None:
        raise field_error("unit_id", f"there is no unit {unit_id}")
    return unit


def put_ia_count(user: User, data: dict[str, Any]) -> tuple[IaCount, bool]:
    """Set how many incidents IA holds for a unit (that unit itself, not its sub-units) over a
    period; the same unit and period again replaces the figure. Periods of one unit must not
    overlap, or the overlap would be counted twice in n2 (409)."""
    unit = _existing_unit(data["unit_id"])
    if not access.covers_units(user, Role.HR, [unit.id]):
        raise field_error("unit_id", "not a unit you are hr for")
    start, end = data["period_start"], data["period_end"]
    if end < start:
        raise field_error("period_end", "must not be before period_start")
    existing = db.session.scalar(
        select(IaCount).where(
            IaCount.unit_id == unit.id, IaCount.period_start == start, IaCount.period_end == end
        )
    )
    overlapping = db.session.scalar(
        select(IaCount)
        .where(
            IaCount.unit_id == unit.id,
            IaCount.period_start <= end,
            IaCount.period_end >= start,
            IaCount.id != (existing.id if existing else -1),
        )
        .order_by(IaCount.period_start)
        .limit(1)
    )
    if overlapping is not None:
        other = f"{overlapping.period_start.isoformat()}–{overlapping.period_end.isoformat()}"
        raise Conflict(
            f"Unit {unit.id} already has an IA count for {other}, which overlaps this period; "
            "IA counts of one unit must not overlap, or incidents would be counted twice.",
            errors={"period_start": [f"overlaps {other}"]},
        )
    created = existing is None
    if created:
        existing = IaCount(unit_id=unit.id, period_start=start, period_end=end)
        db.session.add(existing)
    existing.count = data["count"]
    existing.entered_by_id = user.id
    db.session.flush()
    audit.record(
        user,
        AuditAction.CREATE if created else AuditAction.UPDATE,
        None,
        detail=f"IA count for unit {unit.id}, {start.isoformat()}–{end.isoformat()}: "
        f"{existing.count}",
        record=AuditRecord.STATISTICS,
        unit_id=unit.id,
    )
    return existing, created


def list_ia_counts(user: User, unit_id: int | None) -> list[IaCount]:
    """The IA counts of the units hr reaches (of one unit's subtree, if given)."""
    query = select(IaCount).order_by(IaCount.unit_id, IaCount.period_start)
    query = query.where(IaCount.unit_id.in_(access.subtree(sorted(access.hr_units(user)))))
    if unit_id is not None:
        _existing_unit(unit_id)
        query = query.where(IaCount.unit_id.in_(access.subtree([unit_id])))
    return list(db.session.scalars(query))


# -- what the estimates are about ---------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """The units (sub-units included) and the local days, both inclusive, of the two-register
    and police estimates; the survey estimate follows its survey."""

    unit_ids: list[int]
    first_day: date
    last_day: date

    def incident_filter(self) -> ColumnElement[bool]:
        return and_(
            Incident.unit_id.in_(access.subtree(self.unit_ids)),
            *occurred_within(self.first_day, self.last_day),
        )


def _period(args: dict[str, Any], survey: Survey | None) -> tuple[date, date]:
    """from and to as given; neither given: the local days of the survey's reference period,
    or without a survey (as in the other statistics) 1 January this year to today."""
    first, last = args.get("from_"), args.get("to")
    if survey is not None and first is None and last is None:
        start, end = surveys.reference_period(survey)
        return to_local(start).date(), to_local(end - timedelta(microseconds=1)).date()
    today = to_local(utcnow()).date()
    first = first or date(today.year, 1, 1)
    last = last or today
    if first > last:
        raise field_error("to", "must not be before from")
    if last >= first + relativedelta(years=MAX_YEARS):
        raise field_error("to", f"a period may span at most {MAX_YEARS} years")
    return first, last


def _selection(user: User, args: dict[str, Any], survey: Survey | None) -> Selection:
    """The units: unit_id; else the survey's units; else, as in the other statistics, the top
    of the caller's scope (hr: the organisation's top units; a manager: the units they lead).
    An unknown unit is 404, a unit outside a manager's scope 403."""
    if args.get("unit_id") is None and survey is not None:
        unit_ids = survey.unit_ids
    else:
        unit_ids = select_units(user, args.get("unit_id")).unit_ids
    first, last = _period(args, survey)
    return Selection(unit_ids=unit_ids, first_day=first, last_day=last)


def _within_scope(user: User, unit_ids: list[int]) -> bool:
    """The statistics rule of the access module: the units a person reaches for statistics."""
    return access.statistics_cover(user, UnitTree.load(), unit_ids)


def _surveys_covering(unit_id: int):
    """The ids of the surveys covering a unit: one of their units is the unit or above it."""
    above = select(Unit.id, Unit.parent_id).where(Unit.id == unit_id).cte(recursive=True)
    above = above.union_all(select(Unit.id, Unit.parent_id).where(Unit.id == above.c.parent_id))
    return select(SurveyUnit.survey_id).where(SurveyUnit.unit_id.in_(select(above.c.id)))


def _latest_closed_survey_covering(unit_ids: list[int]) -> Survey | None:
    """The survey that closed last among those covering every one of the units."""
    query = select(Survey).where(Survey.closes_at <= utcnow())
    for unit_id in unit_ids:
        query = query.where(Survey.id.in_(_surveys_covering(unit_id)))
    return db.session.scalar(query.order_by(Survey.closes_at.desc(), Survey.id.desc()).limit(1))


# -- suppression --------------------------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    threshold: int
    applied: bool

    def hides(self, count: int | None) -> bool:
        return self.applied and count is not None and suppress_value(count, self.threshold)

    def describe(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "applied": self.applied,
            "rule": f"counts from 1 to {self.threshold - 1} are null, and so are the "
            "figures derived from them; each block says whether it was suppressed"
            if self.applied and self.threshold > 1
            else "no count is suppressed",
        }


def _blank(block: dict[str, Any], hidden: set[str], derived: dict[str, tuple[str, ...]]) -> None:
    for name in hidden:
        block[name] = None
        for figure in derived.get(name, ()):
            block[figure] = None
    block["suppressed"] = bool(hidden)


# -- 1. the survey reporting rate ---------------------------------------------------------

_SURVEY_RATE_FIGURES = ("reporting_rate", "estimated_total", "dark_figure", "dark_share")
_SURVEY_DERIVED = {
    "respondents": ("exposure_rate", *_SURVEY_RATE_FIGURES),
    "exposed": ("exposure_rate",),
    "survey_incidents": _SURVEY_RATE_FIGURES,
    "survey_reported": _SURVEY_RATE_FIGURES,
    "registered": ("estimated_total", "dark_figure"),
}
_ANSWER_COUNTS = ("exposed", "survey_incidents", "survey_reported")


def _answer_sums(survey_id: int) -> dict[str, tuple[int, int, int, int]]:
    """Per form: respondents, exposed, times, reported — summed in the database."""
    rows = db.session.execute(
        select(
            SurveyAnswer.category,
            func.count(),
            func.sum(case((SurveyAnswer.exposed, 1), else_=0)),
            func.sum(SurveyAnswer.times),
            func.sum(SurveyAnswer.reported),
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey_id)
        .group_by(SurveyAnswer.category)
    )
    return {row[0]: tuple(int(value) for value in row[1:]) for row in rows}


def _registered_by_form(survey: Survey) -> dict[str, int]:
    """R per form: incidents of the survey's units (sub-units included) that occurred in its
    reference period; an incident with several forms counts under each."""
    start, end = surveys.reference_period(survey)
    rows = db.session.execute(
        select(IncidentForm.category, func.count())
        .join(Incident, Incident.id == IncidentForm.incident_id)
        .where(
            Incident.unit_id.in_(access.subtree(survey.unit_ids)),
            Incident.occurred_at >= start,
            Incident.occurred_at < end,
        )
        .group_by(IncidentForm.category)
    )
    return {category: int(count) for category, count in rows}


def _form_block(
    category: str, answers: tuple[int, int, int, int], registered: int, disclosure: Disclosure
) -> dict[str, Any]:
    respondents, exposed, times, reported = answers
    label = CATEGORY_LABELS[Category(category)]
    estimate = survey_dark_figure(registered, reported, times)
    block: dict[str, Any] = {
        "category": category,
        "label": {"sv": label.sv, "en": label.en},
        "respondents": respondents,
        "exposed": exposed,
        "exposure_rate": proportion(exposed, respondents),
        "survey_incidents": times,
        "survey_reported": reported,
        "registered": registered,
        **{figure: estimate[figure] for figure in _SURVEY_RATE_FIGURES},
    }
    if "note" in estimate:
        block["note"] = estimate["note"]
    hidden = {name for name in _SURVEY_DERIVED if disclosure.hides(block[name])}
    if "respondents" in hidden:
        # The answers of fewer people than the threshold are not published at all.
        hidden.update(_ANSWER_COUNTS)
    _blank(block, hidden, _SURVEY_DERIVED)
    return block


def _survey_block(survey: Survey | None, note: str | None, disclosure: Disclosure) -> dict:
    if survey is None:
        return {
            "method": SURVEY_METHOD,
            "survey": None,
            "respondents": None,
            "forms": None,
            "suppressed": False,
            "note": note,
        }
    start, end = surveys.reference_period(survey)
    respondents = db.session.scalar(
        select(func.count()).select_from(SurveyResponse)
        .where(SurveyResponse.survey_id == survey.id)
    )
    sums = _answer_sums(survey.id)
    registered = _registered_by_form(survey)
    forms = [
        _form_block(c, sums.get(c, (0, 0, 0, 0)), registered.get(c, 0), disclosure)
        for c in values(Category)
    ]
    notes = [
        "R counts the incidents registered for the survey's units (sub-units included) that "
        "occurred in its reference period; an incident with several forms counts under each."
    ]
    state = surveys.status(survey)
    if state != "closed":
        notes.append(f"The survey is {state}; its figures may still change.")
    if note:
        notes.insert(0, note)
    hidden = disclosure.hides(respondents)
    return {
        "method": SURVEY_METHOD,
        "survey": {
            "id": survey.id,
            "title": survey.title,
            "unit_ids": survey.unit_ids,
            "reference_start": start.isoformat(),
            "reference_end": end.isoformat(),
            "status": state,
        },
        "respondents": None if hidden else respondents,
        "forms": forms,
        "suppressed": hidden or any(form["suppressed"] for form in forms),
        "note": " ".join(notes),
    }


# -- 2. two registers and 3. the police dark figure ---------------------------------------


def _register_counts(selection: Selection) -> dict[str, int]:
    """n1, m, flagged and police-reported in one aggregate over the selection."""
    has_ia_reference = func.coalesce(func.trim(Incident.ia_reference), "") != ""
    flagged = Incident.police_flag.in_([flag.value for flag in DECISION_REQUIRED_FLAGS])
    reported = and_(flagged, PoliceReport.decision == PoliceDecision.REPORT.value)
    row = db.session.execute(
        select(
            func.count(Incident.id),
            func.sum(case((has_ia_reference, 1), else_=0)),
            func.sum(case((flagged, 1), else_=0)),
            func.sum(case((reported, 1), else_=0)),
        )
        .select_from(Incident)
        .outerjoin(PoliceReport, PoliceReport.incident_id == Incident.id)
        .where(selection.incident_filter())
    ).one()
    n1, m, flagged_count, reported_count = (int(value or 0) for value in row)
    return {"n1": n1, "m": m, "flagged": flagged_count, "reported": reported_count}


def _ia_totals(selection: Selection) -> dict[str, Any]:
    """The IA counts of the selected units whose periods lie within the selected days."""
    row = db.session.execute(
        select(
            func.count(IaCount.id),
            func.sum(IaCount.count),
            func.min(IaCount.period_start),
            func.max(IaCount.period_end),
        ).where(
            IaCount.unit_id.in_(access.subtree(selection.unit_ids)),
            IaCount.period_start >= selection.first_day,
            IaCount.period_end <= selection.last_day,
        )
    ).one()
    entries, total, first, last = row
    return {
        "entries": int(entries),
        "n2": None if not entries else int(total),
        "first_day": first.isoformat() if first else None,
        "last_day": last.isoformat() if last else None,
    }


_CHAPMAN_FIGURES = ("estimated_total", "dark_figure", "variance")


def _registers_block(counts: dict[str, int], ia: dict[str, Any], disclosure: Disclosure) -> dict:
    n1, m, n2 = counts["n1"], counts["m"], ia["n2"]
    block: dict[str, Any] = {
        "method": CHAPMAN,
        "n1": n1,
        "n2": n2,
        "m": m,
        "ia_counts": {key: ia[key] for key in ("entries", "first_day", "last_day")},
        "assumptions": list(CHAPMAN_ASSUMPTIONS),
        **{figure: None for figure in _CHAPMAN_FIGURES},
    }
    if n2 is None:
        block["note"] = (
            "no IA counts are entered for these units with periods within the selected days, "
            "so there is no second register to compare with (hr enters them with "
            "PUT /api/v1/ia-counts)"
        )
    elif m > n2:
        block["note"] = (
            "more incidents here carry an IA reference (m) than the IA counts hold (n2); the "
            "IA counts entered do not cover the period, so no estimate is given"
        )
    else:
        estimate = chapman(n1, n2, m)
        block.update({figure: estimate[figure] for figure in _CHAPMAN_FIGURES})
        if "note" in estimate:
            block["note"] = estimate["note"]
    hidden = {name for name in ("n1", "n2", "m") if disclosure.hides(block[name])}
    _blank(block, hidden, {name: _CHAPMAN_FIGURES for name in ("n1", "n2", "m")})
    return block


_POLICE_COUNTS = ("flagged", "reported", "not_reported")


def _police_block(counts: dict[str, int], disclosure: Disclosure) -> dict:
    estimate = police_dark_figure(counts["flagged"], counts["reported"])
    block = {"method": POLICE_METHOD, **{key: estimate[key] for key in _POLICE_COUNTS},
             "share_not_reported": estimate["share_not_reported"]}
    hidden = {name for name in _POLICE_COUNTS if disclosure.hides(block[name])}
    if len(hidden) == 1:
        # flagged = reported + not_reported: with one of the three hidden, the other two would
        # give it away, so the smallest non-zero of them is hidden too.
        others = [n for n in _POLICE_COUNTS if n not in hidden and block[n]]
        if others:
            hidden.add(min(others, key=lambda n: (block[n], _POLICE_COUNTS.index(n))))
    _blank(block, hidden, {name: ("share_not_reported",) for name in _POLICE_COUNTS})
    return block


# -- the three estimates ------------------------------------------------------------------


def _chosen_survey(user: User, args: dict[str, Any]) -> tuple[Survey | None, str | None]:
    survey_id = args.get("survey_id")
    if survey_id is not None:
        survey = db.session.get(Survey, survey_id)
        if survey is None:
            raise NotFound(f"There is no survey {survey_id}.",
                           errors={"survey_id": ["no such survey"]})
        if not _within_scope(user, survey.unit_ids):
            raise Forbidden(
                "The survey covers units outside those you reach.",
                errors={"survey_id": ["covers units you do not reach"]},
            )
        return survey, None
    return None, None


def _default_survey(user: User, unit_ids: list[int]) -> tuple[Survey | None, str | None]:
    units = ", ".join(map(str, unit_ids))
    survey = _latest_closed_survey_covering(unit_ids)
    if survey is None:
        return None, f"no closed exposure survey covers unit {units}"
    if not _within_scope(user, survey.unit_ids):
        return None, (
            f"the latest closed survey covering unit {units} (survey {survey.id}) also covers "
            "units outside those you reach"
        )
    return survey, (
        f"survey {survey.id} is the latest closed survey covering unit {units}; its figures "
        "are for all of its units"
    )


def dark_figure(user: User, args: dict[str, Any]) -> dict[str, Any]:
    """All three estimates for a unit tree and period, or for a survey (hr: any unit; a
    manager: the units they lead and below). Small counts are suppressed unless hr asks for
    ``unsuppressed``, which is audited."""
    unsuppressed = args.get("unsuppressed", False)
    survey, survey_note = _chosen_survey(user, args)
    selection = _selection(user, args, survey)
    require_hr_for_unsuppressed(user, args, selection.unit_ids)
    if survey is None:
        survey, survey_note = _default_survey(user, selection.unit_ids)

    threshold = current_app.config["STATS_SUPPRESSION_THRESHOLD"]
    disclosure = Disclosure(threshold=threshold, applied=not unsuppressed)
    counts = _register_counts(selection)
    result = {
        "filters": {
            "from": selection.first_day.isoformat(),
            "to": selection.last_day.isoformat(),
            "unit_ids": selection.unit_ids,
            "survey_id": survey.id if survey else None,
        },
        "suppression": disclosure.describe(),
        "survey": _survey_block(survey, survey_note, disclosure),
        "two_registers": _registers_block(counts, _ia_totals(selection), disclosure),
        "police": _police_block(counts, disclosure),
    }
    if unsuppressed:
        audit.record(
            user,
            AuditAction.READ,
            None,
            detail=f"unsuppressed statistics: dark-figure units {selection.unit_ids} "
            f"{selection.first_day.isoformat()}–{selection.last_day.isoformat()} "
            f"survey {survey.id if survey else None}",
            record=AuditRecord.STATISTICS,
            unit_id=selection.unit_ids[0] if selection.unit_ids else None,
        )
    return result
