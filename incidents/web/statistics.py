"""The statistics page for hr, and for managers about the units they lead: incidents by form,
unit and period with rates per 100 employees, the two charts, police reports, support and the
dark figure, with the incidents table (and the others) to download as CSV or XLSX.

The filters are a GET form whose query string holds only codes and ids. They are mapped to the
API's query parameters (period → from and to, the unit → unit_id, the grouping → group_by,
which reports → anonymous) and loaded with the API's own schemas; every figure then comes from
the function the API endpoint calls, so the page shows what GET /api/v1/stats/… answers for the
same query, and a download is the same file. Who may see what (hr: everything; a manager: the
units they lead and below, 403 for another unit; others 403) is the services' rule, as in the
API. The page always shows disclosure-controlled figures: unsuppressed=true stays with the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import marshmallow as ma
from flask import Blueprint, Response, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from incidents import access, auth
from incidents.access import UnitTree
from incidents.clock import to_local, utcnow
from incidents.domain import CATEGORY_LABELS, Category, Role
from incidents.errors import ValidationFailed
from incidents.models import User
from incidents.schemas.stats import (
    ChartQuerySchema,
    IncidentStatsQuerySchema,
    PoliceStatsQuerySchema,
    SupportStatsQuerySchema,
)
from incidents.schemas.surveys import DarkFigureQuerySchema
from incidents.services import dark_figure, surveys
from incidents.stats import charts, export
from incidents.stats.incidents import DIMENSIONS, incident_table
from incidents.stats.measures import KEYS as POLICE_KEYS
from incidents.stats.periods import month_label, parse_period, tertial_of
from incidents.stats.police import police_table
from incidents.stats.support import KEYS as SUPPORT_KEYS
from incidents.stats.support import support_table
from incidents.web import figures
from incidents.web.boundary import unit_of_work
from incidents.web.forms import FormState, errors_from, whole_number
from incidents.web.i18n import label, language
from incidents.web.identity import login_required, signed_in_user

blp = Blueprint("statistics", __name__)

STATS_ROLES = access.STATISTICS_ROLES  # as the statistics API
PERIOD_KINDS = ("month", "tertial", "year", "custom")
_PERIOD_FORMS = {
    "month": re.compile(r"\A\d{4}-\d{2}\Z"),
    "tertial": re.compile(r"\A\d{4}-T[1-3]\Z"),
    "year": re.compile(r"\A\d{4}\Z"),
}
# Which reports: the API's anonymous parameter.
REPORTS = {"all": None, "anonymous": "true", "named": "false"}
GROUP_LABELS = {
    "category": _l("Form"), "unit": _l("Unit"), "month": _l("Month"),
    "tertial": _l("Tertial"), "year": _l("Year"), "location": _l("Where it happened"),
    "perpetrator": _l("Who did it"), "anonymous": _l("Anonymous or named"),
}
TABLES = ("incidents", "police", "support", "dark-figure")
FORMATS = ("csv", "xlsx")

WORDING = {  # in the order of the form
    "period": ("period-year", _l("Choose a period: a month, a tertial, a year or your own "
                                 "dates")),
    "month": ("month", _l("Choose a month from the list")),
    "tertial": ("tertial", _l("Choose a tertial from the list")),
    "year": ("year", _l("Choose a year from the list")),
    "from": ("from", _l("Enter the first day as a date, like 2026-01-31")),
    "to": ("to", _l("Enter the last day as a date on or after the first day, at most ten "
                    "years later")),
    "unit_id": ("unit-id", _l("Choose a part of the organisation from the list")),
    "group_by": ("group-by-category", _l("Choose what to group by from the list")),
    "anonymous": ("reports-all", _l("Choose which reports to count")),
    "survey_id": ("survey-id", _l("Choose a survey from the list")),
}

POLICE_COLUMNS = ["incidents", "flagged", "reported", "flagged_not_reported",
                  "share_of_flagged_reported", "filed", "filed_by_employer",
                  "median_days_to_filing"]
SUPPORT_COLUMNS = ["incidents", "support_offered", "share_support_offered", "support_accepted",
                   "support_delivered", "support_declined", "median_days_to_first_support",
                   "evaluations", "felt_supported_mean", "share_acknowledged_on_time",
                   "share_check_ins_on_time", "share_police_decisions_on_time"]


# -- the filters --------------------------------------------------------------------------


@dataclass
class Query:
    """The filters as the API's query parameters, loaded by each endpoint's schema."""

    common: dict[str, Any]  # from, to, unit_id, lang
    keys: list[str]
    anonymous: str | None
    survey_id: int | str | None

    def incidents(self, **extra) -> dict[str, Any]:
        payload = {**self.common, **extra}
        if self.keys:
            payload["group_by"] = ",".join(self.keys)
        if self.anonymous is not None:
            payload["anonymous"] = self.anonymous
        return IncidentStatsQuerySchema().load(payload)

    def police(self, **extra) -> dict[str, Any]:
        keys = [k for k in self.keys if k in POLICE_KEYS]
        # No key: the API's default grouping (form and unit); the API has no ungrouped table.
        payload = {**self.common, **extra, **({"group_by": ",".join(keys)} if keys else {})}
        return PoliceStatsQuerySchema().load(payload)

    def support(self, **extra) -> dict[str, Any]:
        keys = [k for k in self.keys if k in SUPPORT_KEYS]
        payload = {**self.common, **extra, **({"group_by": ",".join(keys)} if keys else {})}
        return SupportStatsQuerySchema().load(payload)

    def dark_figure(self, **extra) -> dict[str, Any]:
        payload = {**self.common, **extra}
        if self.survey_id is not None:
            payload["survey_id"] = self.survey_id
        return DarkFigureQuerySchema().load(payload)

    def chart(self) -> dict[str, Any]:
        return ChartQuerySchema().load(dict(self.common))


def today() -> date:
    return to_local(utcnow()).date()


def _tertial(day: date) -> str:
    return f"{day.year}-T{tertial_of(day.month)}"


def _defaults(day: date) -> dict[str, str]:
    return {"period": "year", "year": str(day.year), "month": month_label(day),
            "tertial": _tertial(day), "from": f"{day.year}-01-01", "to": day.isoformat(),
            "reports": "all"}


def _chosen_values(day: date) -> MultiDict:
    args = request.args
    if "period" not in args:  # a first visit: this year so far, by form
        values = MultiDict(_defaults(day))
        values.add("group_by", "category")
        if "unit_id" in args:
            values["unit_id"] = args["unit_id"]
        return values
    values = MultiDict(args)
    for key, value in _defaults(day).items():
        values.setdefault(key, value)
    return values


def _period(state: FormState, day: date, common: dict[str, Any]) -> bool:
    """The chosen period as the API's from and to; False with the error in the state."""
    kind = state.get("period")
    if kind == "custom":
        for name in ("from", "to"):
            if state.get(name).strip():  # left empty: the API's default
                common[name] = state.get(name).strip()
        return True
    if kind not in _PERIOD_FORMS:
        state.add("period", *WORDING["period"])
        return False
    text = state.get(kind).strip()
    try:
        if not _PERIOD_FORMS[kind].match(text):
            raise ValidationFailed(kind, errors={kind: ["not a period"]})
        first, last = parse_period(text, kind)
    except ValidationFailed:
        state.add(kind, *WORDING[kind])
        return False
    # A period that has not ended counts up to today, as the API's default period does.
    common["from"], common["to"] = first.isoformat(), min(last, day).isoformat()
    return True


def read_filters() -> tuple[FormState, Query | None]:
    """The filters from the query string as the API's parameters; None with the errors in the
    state if they do not load."""
    day = today()
    state = FormState(values=_chosen_values(day))
    common: dict[str, Any] = {"lang": language()}
    if not _period(state, day, common):
        return state, None
    unit_id = whole_number(state.get("unit_id"))
    if unit_id is not None:
        common["unit_id"] = unit_id
    reports = state.get("reports")
    if reports not in REPORTS:
        state.add("anonymous", *WORDING["anonymous"])
        return state, None
    keys = state.getlist("group_by")
    query = Query(common=common, keys=[k for k in DIMENSIONS if k in keys] + [
        k for k in keys if k not in DIMENSIONS], anonymous=REPORTS[reports],
        survey_id=whole_number(state.get("survey_id")))
    try:
        query.incidents()
        query.dark_figure()
    except ma.ValidationError as exc:  # the API's 422
        errors_from(state, exc.messages if isinstance(exc.messages, dict) else {}, WORDING)
        return state, None
    return state, query


# -- what the form offers -------------------------------------------------------------------


def unit_options(user: User) -> list[tuple[str, str]]:
    """The units the user may see statistics for, as a tree (a dash per level): every unit for
    hr; for a manager the units they lead and everything below them (the access module's
    rule)."""
    tree = UnitTree.load()
    roots = access.statistics_roots(user, tree)
    options: list[tuple[str, str]] = []
    stack = [(u, 0) for u in sorted(roots, key=lambda u: tree.name[u], reverse=True)]
    while stack:
        unit_id, depth = stack.pop()
        options.append((str(unit_id), "\u2013 " * depth + tree.name[unit_id]))
        children = sorted(tree.children.get(unit_id, []), key=lambda u: tree.name[u],
                          reverse=True)
        stack.extend((child, depth + 1) for child in children)
    return options


def period_options(day: date) -> dict[str, list[tuple[str, str]]]:
    months, tertials, years = [], [], []
    current = date(day.year, day.month, 1)
    for _i in range(36):
        months.append((month_label(current), format_date(current, "LLLL yyyy")))
        current = date(current.year - (current.month == 1), (current.month - 2) % 12 + 1, 1)
    for year in range(day.year, day.year - 10, -1):
        years.append((str(year), str(year)))
        for number in (3, 2, 1):
            if date(year, (number - 1) * 4 + 1, 1) <= day and len(tertials) < 12:
                tertials.append((f"{year}-T{number}", _tertial_name(year, number)))
    return {"month": months, "tertial": tertials, "year": years}


def _tertial_name(year: int, number: int) -> str:
    first = date(year, (number - 1) * 4 + 1, 1)
    last = date(year, number * 4, 1)
    return _("T%(number)s %(year)s (%(first)s–%(last)s)", number=number, year=year,
             first=format_date(first, "LLLL"), last=format_date(last, "LLLL"))


def survey_options(user: User) -> list[tuple[str, str]] | None:
    """hr chooses the survey of the survey estimate (listing surveys is hr's, as in the API);
    a manager gets the service's default: the latest closed survey covering the units."""
    if not user.has_role(Role.HR):
        return None
    return [(str(s["id"]), s["title"]) for s in surveys.list_surveys(user)]


# -- the page ----------------------------------------------------------------------------------


def _query_args(state: FormState) -> dict[str, Any]:
    """The filters for the links to the charts and files: the same query string."""
    keep = ("period", "month", "tertial", "year", "from", "to", "unit_id", "reports",
            "survey_id")
    args: dict[str, Any] = {k: state.get(k) for k in keep if state.get(k)}
    args["group_by"] = state.getlist("group_by")
    return args


def _incidents_section(user: User, query: Query) -> dict[str, Any]:
    body = export.json_body(incident_table(user, query.incidents()), language())
    table = figures.stats_table("incidents-table", _("Incidents"), body,
                                ["count", "rate_per_100"])
    totals = body["totals"]
    table.foot = [figures.Cell(_("Total, each incident once"))] + [
        figures.Cell() for _k in range(table.row_headers - 1)] + [
        figures.count(totals["count"], bool(totals["suppressed"])),
        figures.value_cell("rate_per_100", totals["rate_per_100"],
                           {"count"} if totals["suppressed"] else set()),
    ]
    rates = any(r.get("rate_per_100") is not None for r in body["rows"]) or (
        totals["rate_per_100"] is not None)
    return {"table": table, "body": body, "rates": rates,
            "anonymous": figures.count(totals["anonymous"], totals["count"] is not None)}


def _chart_sections(user: User, query: Query) -> list[dict[str, Any]]:
    params = query.chart()
    lang = language()
    forms = [c.value for c in Category]
    by_form = export.json_body(charts.chart_table("incidents-by-form", user, params), lang)
    police = export.json_body(charts.chart_table("police-reported-share", user, params), lang)
    # The chart's bars: month, tertial or year (its table is by that and by form).
    period = next(k for k in by_form["filters"]["group_by"] if k != "category")
    period_name = str(GROUP_LABELS[period]).lower()
    return [
        {
            "name": "incidents-by-form",
            "title": _("Incidents per %(period)s, by form", period=period_name),
            "alt": _("Bar chart of the incidents per %(period)s from %(first)s to %(last)s, "
                     "each bar divided by form. Its figures are in the table below the chart.",
                     period=period_name, first=params["from"], last=params["to"]),
            "table": figures.pivot("chart-incidents-by-form-table",
                                   _("Incidents per %(period)s and form", period=period_name),
                                   by_form, period, "category", forms),
        },
        {
            "name": "police-reported-share",
            "title": _("Share of incidents flagged for police reporting that were reported"),
            "alt": _("Line chart of the per cent of incidents flagged for police reporting "
                     "that were reported, per %(period)s from %(first)s to %(last)s. Its "
                     "figures are in the table below the chart.",
                     period=period_name, first=params["from"], last=params["to"]),
            "table": figures.stats_table(
                "chart-police-reported-share-table",
                _("Police reporting per %(period)s", period=period_name), police,
                ["flagged", "flagged_not_reported", "share_of_flagged_reported"], wide=True),
        },
    ]


def _measures_table(table_id: str, caption: str, body: dict[str, Any],
                    columns: list[str]) -> figures.Table:
    if not body["filters"]["group_by"]:
        return figures.transposed(table_id, caption, body, columns)
    return figures.stats_table(table_id, caption, body, columns, wide=True)


def survey_rows(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The survey estimate per form (the survey block of the dark figure), as cells."""
    rows = []
    for form in block.get("forms") or []:
        hidden = bool(form["suppressed"])
        rows.append({
            "label": label(CATEGORY_LABELS[Category(form["category"])]),
            "exposed": figures.count(form["exposed"], hidden),
            "exposure_rate": figures.estimate(form["exposure_rate"], as_share=True,
                                              hidden=hidden),
            "survey_incidents": figures.count(form["survey_incidents"], hidden),
            "survey_reported": figures.count(form["survey_reported"], hidden),
            "registered": figures.count(form["registered"], hidden),
            "rate": figures.estimate(form["reporting_rate"], as_share=True, hidden=hidden),
            "total": figures.estimate(form["estimated_total"], hidden=hidden),
            "dark": figures.estimate(form["dark_figure"], hidden=hidden),
            "share": figures.estimate(form["dark_share"], as_share=True, hidden=hidden),
        })
    return rows


def _dark_figure_section(user: User, query: Query) -> dict[str, Any]:
    body = dark_figure.dark_figure(user, query.dark_figure())
    survey = body["survey"]
    forms = survey_rows(survey)
    registers = body["two_registers"]
    police = body["police"]
    return {
        "body": body,
        "survey": survey,
        "reference": reference_days(survey.get("survey")),
        "forms": forms,
        "respondents": figures.count(survey.get("respondents"), bool(survey.get("suppressed"))),
        "registers": {
            name: figures.count(registers[name], bool(registers["suppressed"]))
            for name in ("n1", "n2", "m")
        } | {
            "total": figures.estimate(registers["estimated_total"],
                                      hidden=bool(registers["suppressed"])),
            "dark": figures.estimate(registers["dark_figure"],
                                     hidden=bool(registers["suppressed"])),
            "no_ia": registers["n2"] is None and not registers["suppressed"],
        },
        "police": {
            name: figures.count(police[name], bool(police["suppressed"]))
            for name in ("flagged", "reported", "not_reported")
        } | {"share": figures.estimate(police["share_not_reported"], as_share=True,
                                       hidden=bool(police["suppressed"]))},
    }


def reference_days(survey: dict[str, Any] | None) -> tuple[str, str] | None:
    """The local first and last day of a survey's reference period (its end is exclusive)."""
    if not survey:
        return None
    start = to_local(datetime.fromisoformat(survey["reference_start"])).date()
    end = to_local(datetime.fromisoformat(survey["reference_end"]) - timedelta(microseconds=1))
    return start.isoformat(), end.date().isoformat()


def _render(user: User, state: FormState, query: Query | None, status: int = 200):
    context: dict[str, Any] = {
        "state": state,
        "units": unit_options(user),
        "periods": period_options(today()),
        "group_labels": GROUP_LABELS,
        "surveys": survey_options(user),
        "is_hr": user.has_role(Role.HR),
        "threshold": None,
    }
    if query is not None:
        try:
            incidents = _incidents_section(user, query)
        except ValidationFailed as refused:  # e.g. a reach over several organisations
            errors_from(state, refused.errors or {}, WORDING)
            return render_template("hr_statistics.html", **context), 422
        police = export.json_body(police_table(user, query.police()), language())
        support = export.json_body(support_table(user, query.support()), language())
        context.update(
            query=query,
            args=_query_args(state),
            incidents=incidents,
            threshold=incidents["body"]["suppression"]["threshold"],
            charts=_chart_sections(user, query),
            police=_measures_table("police-table", _("Police reports"), police,
                                   POLICE_COLUMNS),
            support=_measures_table("support-table", _("Support for the exposed employee"),
                                    support, SUPPORT_COLUMNS),
            dark=_dark_figure_section(user, query),
            multi_form="category" in query.keys,
        )
    return render_template("hr_statistics.html", **context), status


@blp.get("/statistics")
@login_required
@unit_of_work
def page():
    user = signed_in_user()
    auth.require_roles(user, STATS_ROLES)
    state, query = read_filters()
    return _render(user, state, query, 200 if query is not None else 422)


def _refused_query():
    return render_template(
        "error.html", title=_("The request could not be handled"),
        message=_("The filters in the address could not be read. Go back to the statistics "
                  "page and choose them again.")), 422


@blp.get("/statistics/charts/<any('incidents-by-form', 'police-reported-share'):name>.png")
@login_required
@unit_of_work
def chart(name: str):
    """The API's chart for the same filters, drawn by the same code."""
    user = signed_in_user()
    auth.require_roles(user, STATS_ROLES)
    _state, query = read_filters()
    if query is None:
        return _refused_query()
    return Response(charts.render(name, user, query.chart()), mimetype="image/png")


@blp.get("/statistics/<any(incidents, police, support, 'dark-figure'):table>."
         "<any(csv, xlsx):fmt>")
@login_required
@unit_of_work
def download(table: str, fmt: str):
    """The file GET /api/v1/stats/<table>?format=<fmt> gives for the same filters."""
    user = signed_in_user()
    auth.require_roles(user, STATS_ROLES)
    _state, query = read_filters()
    if query is None:
        return _refused_query()
    lang = language()
    if table == "dark-figure":
        body = dark_figure.dark_figure(user, query.dark_figure(format=fmt))
        return export.dark_figure_response(body, fmt, lang)
    built = {
        "incidents": lambda: incident_table(user, query.incidents(format=fmt)),
        "police": lambda: police_table(user, query.police(format=fmt)),
        "support": lambda: support_table(user, query.support(format=fmt)),
    }[table]()
    if fmt == "csv":
        return export.csv_response(built, lang)
    return export.xlsx_response(built, lang)

