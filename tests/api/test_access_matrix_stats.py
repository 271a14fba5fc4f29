"""Access matrix, part 4: statistics, surveys, IA counts, workshops and summaries
(docs/roles-and-access.md, "Statistics and surveys"; docs/statistics.md; docs/operations.md).

* Statistics (incidents, police, support, dark figure, charts): hr for every unit; a manager for
  the units they lead and every unit below them (403 for any other unit, above or beside); others
  403. ``unsuppressed=true`` is hr's alone, and audited. An unknown unit is 404.
* Surveys and IA counts: hr sets up and reads. An answer (and a workshop rating) is for anyone
  with a reporting role whose own unit is covered, sub-units included; others get 403.
* Workshops: hr sets up, lists, reads, enters tallies and reads the summaries.
* Summaries: hr reads all; a manager those of the units they lead and below, and any other
  summary (of another unit, or of a workshop) is a 404 as if it did not exist. hr makes them.
* No token: 401. A refused request writes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents.models import Summary, SummaryFile, Survey, SurveyUnit, Workshop, WorkshopUnit
from incidents.stats.export import XLSX
from tests.api.test_access_matrix import (
    BAD_TOKEN,
    NO_TOKEN,
    Matrix,
    Row,
    Who,
    authorization_headers,
    grouped,
)

ROLE_COLUMNS = {
    "no_token": Who(NO_TOKEN),
    "bad_token": Who(BAD_TOKEN),
    "employee": Who("employee_a1"),
    "manager_in": Who("manager_a"),  # leads avdelning A, so A1 and A2 too
    "manager_out": Who("manager_b1"),  # leads B1 only
    "hr": Who("hr"),
    "admin": Who("admin"),
    "admin_hr": Who("admin_hr"),
}


def only(ok: int, *roles: str) -> dict[str, int]:
    """``ok`` for the roles named, 403 for the others, 401 without a valid token."""
    return {
        label: 401 if label in ("no_token", "bad_token") else ok if label in roles else 403
        for label in ROLE_COLUMNS
    }


def hr_only(ok: int) -> dict[str, int]:
    return only(ok, "hr", "admin_hr")


# -- statistics ---------------------------------------------------------------------------------

#: The columns of a statistics endpoint: each caller asks for a unit (or none: the top of
#: their scope).
STATS_COLUMNS = {
    "no_token": Who(NO_TOKEN),
    "bad_token": Who(BAD_TOKEN),
    "employee": Who("employee_a1", query={"unit_id": "{a1}"}),
    "manager_in": Who("manager_a", query={"unit_id": "{a1}"}),  # below the unit they lead
    "manager_default": Who("manager_a"),  # the units they lead
    "manager_out": Who("manager_b1", query={"unit_id": "{a1}"}),
    "manager_beside": Who("manager_a", query={"unit_id": "{b1}"}),
    "manager_above": Who("manager_b1", query={"unit_id": "{dept_b}"}),  # above B1
    "manager_unsuppressed": Who("manager_a", query={"unit_id": "{a1}", "unsuppressed": "true"}),
    "hr": Who("hr", query={"unit_id": "{b1}"}),
    "hr_unsuppressed": Who(
        "hr", query={"unsuppressed": "true"}, audited="unsuppressed statistics"
    ),
    "hr_unknown_unit": Who("hr", query={"unit_id": "{missing_unit}"}),
    "admin": Who("admin", query={"unit_id": "{a1}"}),
    "admin_hr": Who("admin_hr"),
}
STATS = {
    "no_token": 401,
    "bad_token": 401,
    "employee": 403,
    "manager_in": 200,
    "manager_default": 200,
    "manager_out": 403,
    "manager_beside": 403,
    "manager_above": 403,
    "manager_unsuppressed": 403,
    "hr": 200,
    "hr_unsuppressed": 200,
    "hr_unknown_unit": 404,
    "admin": 403,
    "admin_hr": 200,
}
#: The chart is drawn from the same tables by the same rules; drawing it takes long, so it does
#: without the columns that only repeat the tables' (the default units, unsuppressed by hr).
CHART = {k: v for k, v in STATS.items() if k not in ("manager_default", "hr_unsuppressed")}
STATS_ROWS = [
    Row("GET", "/api/v1/stats/incidents", STATS),
    Row("GET", "/api/v1/stats/police", STATS),
    Row("GET", "/api/v1/stats/support", STATS),
    # the dark figure also takes a survey: not one that covers units the manager does not lead
    Row("GET", "/api/v1/stats/dark-figure", {**STATS, "manager_survey_beyond": 403},
        who={"manager_survey_beyond": Who("manager_a", query={"survey_id": "{survey_forv}"})}),
    Row("GET", "/api/v1/stats/charts/incidents-by-form.png", CHART, query={"period": "year"}),
    # The files of each table on routes of their own (docs/integrating.md), by the same rules;
    # like the chart, without the columns that only repeat the tables'.
    *[Row("GET", f"/api/v1/stats/{table}.{extension}", CHART)
      for table in ("incidents", "police", "support") for extension in ("csv", "xlsx")],
    *[Row("GET", f"/api/v1/stats/dark-figure.{extension}",
          {**CHART, "manager_survey_beyond": 403},
          who={"manager_survey_beyond": Who("manager_a", query={"survey_id": "{survey_forv}"})})
      for extension in ("csv", "xlsx")],
]

# -- surveys, IA counts, workshops, summaries ---------------------------------------------------
#
# survey_a, workshop_a: for avdelning A (A1, A2 below it); survey_forv, workshop_forv: for the
# förvaltning (everyone but the admins, who have no unit). Summaries of 2025-T1: summary_dept_a
# (avdelning A), summary_forv (the förvaltning) and summary_workshop (of workshop_a).


def _now() -> datetime:
    return datetime.now(UTC)


def new_survey(ids) -> dict:
    return {
        "title": "Utsatthet 2026",
        "unit_ids": [ids["dept_a"]],
        "opens_at": _now().isoformat(),
        "closes_at": (_now() + timedelta(days=14)).isoformat(),
    }


def new_workshop(ids) -> dict:
    return {
        "title": "Otillåten påverkan",
        "held_on": date.today().isoformat(),
        "unit_ids": [ids["dept_a"]],
        "expected_participants": 20,
        "opens_at": _now().isoformat(),
        "closes_at": (_now() + timedelta(days=7)).isoformat(),
    }


NO_EXPOSURE = {"exposed": False, "times": 0, "reported": 0}
ANSWERS = {
    "answers": {
        "harassment": {"exposed": True, "times": 2, "reported": 1},
        "threat": NO_EXPOSURE,
        "violence": NO_EXPOSURE,
        "property_damage": NO_EXPOSURE,
        "corruption": NO_EXPOSURE,
    }
}

#: Answering a survey or rating a workshop of avdelning A: the employees of the units it covers.
COVERED = {
    "no_token": 401,
    "bad_token": 401,
    "employee": 201,  # A1
    "employee_out": 403,  # B1
    "manager_in": 201,  # avdelning A itself
    "manager_out": 403,  # B1
    "hr": 403,  # the förvaltning, above avdelning A: not covered
    "hr_covered": 201,  # … but covered by one for the förvaltning
    "admin": 403,  # no reporting role
    "admin_hr": 403,  # no unit
}


def covered_columns(thing: str) -> dict[str, Who]:
    return {
        "employee_out": Who("employee_b1"),
        "hr_covered": Who("hr", on={thing: f"{thing}_forv"}),
    }


#: Summaries: in and out of a manager's units; a workshop's summary is hr's alone.
SUMMARY = {
    "no_token": 401,
    "bad_token": 401,
    "employee": 403,
    "manager_in": 200,  # avdelning A's
    "manager_out": 404,  # manager_b1: avdelning A's
    "manager_above": 404,  # manager_a: the förvaltning's, above what they lead
    "manager_workshop": 404,  # manager_a: a workshop's
    "hr": 200,
    "hr_workshop": 200,
    "admin": 403,
    "admin_hr": 200,
    "missing": 404,
}
SUMMARY_COLUMNS = {
    "manager_above": Who("manager_a", on={"summary": "summary_forv"}),
    "manager_workshop": Who("manager_a", on={"summary": "summary_workshop"}),
    "hr_workshop": Who("hr", on={"summary": "summary_workshop"}),
    "missing": Who("hr", on={"summary": "missing_summary"}),
}
ALL_SUMMARIES = frozenset({"summary_dept_a", "summary_forv", "summary_workshop"})

ROWS = [
    Row("POST", "/api/v1/surveys", hr_only(201), body=new_survey),
    Row("GET", "/api/v1/surveys", hr_only(200)),
    Row("GET", "/api/v1/surveys/{survey}", hr_only(200), on={"survey": "survey_a"}),
    Row("POST", "/api/v1/surveys/{survey}/responses", COVERED, body=ANSWERS,
        on={"survey": "survey_a"}, who=covered_columns("survey")),
    Row("PUT", "/api/v1/ia-counts", hr_only(201), body=lambda ids: {
        "unit_id": ids["a1"], "period_start": "2025-01-01", "period_end": "2025-12-31",
        "count": 7,
    }),
    Row("GET", "/api/v1/ia-counts", hr_only(200)),
    Row("POST", "/api/v1/workshops", hr_only(201), body=new_workshop),
    Row("GET", "/api/v1/workshops", hr_only(200)),
    Row("GET", "/api/v1/workshops/summary", hr_only(200)),
    Row("GET", "/api/v1/workshops/{workshop}", hr_only(200), on={"workshop": "workshop_a"}),
    Row("POST", "/api/v1/workshops/{workshop}/ratings", COVERED, body={"problem_size": 5},
        on={"workshop": "workshop_a"}, who=covered_columns("workshop")),
    Row("POST", "/api/v1/workshops/{workshop}/ratings/tally", hr_only(201),
        body={"problem_size": {"4": 3}}, on={"workshop": "workshop_a"}),
    Row("GET", "/api/v1/workshops/{workshop}/summary", hr_only(200),
        on={"workshop": "workshop_a"}),
    Row(
        "GET",
        "/api/v1/summaries",
        {**only(200, "manager_in", "manager_out", "hr", "admin_hr"), "manager_above": 200},
        # asking for a unit above what they lead gives nothing, not an error
        who={"manager_above": Who("manager_a", query={"unit_id": "{forv}"})},
        sees={
            "manager_in": frozenset({"summary_dept_a"}),
            "manager_out": frozenset(),
            "manager_above": frozenset(),
            "hr": ALL_SUMMARIES,
            "admin_hr": ALL_SUMMARIES,
        },
    ),
    # 200, not 201: the summary exists, so it is returned as it is (making one takes seconds)
    Row("POST", "/api/v1/summaries", hr_only(200),
        body=lambda ids: {"kind": "tertial", "period": "2025-T1", "unit_ids": [ids["dept_a"]]}),
    Row("GET", "/api/v1/summaries/{summary}", SUMMARY, on={"summary": "summary_dept_a"},
        who=SUMMARY_COLUMNS),
    Row("GET", "/api/v1/summaries/{summary}/charts/incidents-by-form.png", SUMMARY,
        on={"summary": "summary_dept_a"}, who=SUMMARY_COLUMNS),
    # a workshop's summary is JSON only: its files are a 422 for whoever may read it
    Row("GET", "/api/v1/summaries/{summary}.csv", {**SUMMARY, "hr_workshop": 422},
        on={"summary": "summary_dept_a"}, who=SUMMARY_COLUMNS),
    Row("GET", "/api/v1/summaries/{summary}.xlsx", {**SUMMARY, "hr_workshop": 422},
        on={"summary": "summary_dept_a"}, who=SUMMARY_COLUMNS),
]

#: Every (method, path) this file covers, for the coverage guard.
COVERS = [(row.method, row.path) for row in [*STATS_ROWS, *ROWS]]


# -- the world ----------------------------------------------------------------------------------


@pytest.fixture
def stats_world(app, client, make, org, db_session) -> Matrix:
    now = _now()
    ids: dict[str, int] = {
        name: getattr(org, name).id for name in ("forv", "dept_a", "a1", "dept_b", "b1")
    }
    ids["missing_unit"] = max(ids.values()) + 1000
    for name, unit in (("a", org.dept_a), ("forv", org.forv)):
        survey = Survey(
            title=f"Enkät {name}", reference_months=18, opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=14), created_by_id=org.hr.id,
            unit_rows=[SurveyUnit(unit_id=unit.id)],
        )
        workshop = Workshop(
            title=f"Workshop {name}", held_on=date.today(), expected_participants=20,
            opens_at=now - timedelta(hours=1), closes_at=now + timedelta(days=7),
            created_by_id=org.hr.id, unit_rows=[WorkshopUnit(unit_id=unit.id)],
        )
        db_session.add_all([survey, workshop])
        db_session.flush()
        ids[f"survey_{name}"], ids[f"workshop_{name}"] = survey.id, workshop.id
    for name, unit, scope in (
        ("dept_a", org.dept_a, f"unit:{org.dept_a.id}"),
        ("forv", org.forv, f"unit:{org.forv.id}"),
        ("workshop", None, f"workshop:{ids['workshop_a']}"),
    ):
        summary = Summary(
            kind="workshop" if unit is None else "tertial", period="2025-T1", scope=scope,
            unit_id=unit and unit.id, scope_name=name, period_start=date(2025, 1, 1),
            period_end=date(2025, 4, 30), origin="schedule",
            content={"period": "2025-T1", "sv": {}, "en": {}},
            files=[SummaryFile(name="incidents-by-form.en.png", media_type="image/png",
                               size=8, content=b"\x89PNG\r\n\x1a\n"),
                   SummaryFile(name="incidents.en.csv", media_type="text/csv",
                               size=4, content=b"a,b\n"),
                   SummaryFile(name="summary.en.xlsx", media_type=XLSX, size=2,
                               content=b"PK")],
        )
        db_session.add(summary)
        db_session.flush()
        ids[f"summary_{name}"] = summary.id
    ids["missing_summary"] = ids["summary_workshop"] + 1000
    users = {
        name: getattr(org, name)
        for name in ("employee_a1", "employee_b1", "manager_a", "manager_b1", "hr", "admin",
                     "admin_hr")
    }
    matrix = Matrix(
        client=client,
        connection=db_session.get_bind(),
        ids=ids,
        authorization=authorization_headers(app, users),
        columns=ROLE_COLUMNS,
        same_404_as="missing",
    )
    db_session.commit()  # from here on the test's own session stays out of the way
    return matrix


# -- the tests ----------------------------------------------------------------------------------


def area(row: Row) -> str:
    """/api/v1/workshops/… → workshops: the rows of one area run in one test."""
    return row.path.split("/")[3]


@pytest.mark.parametrize("rows", grouped(STATS_ROWS, frozenset(CHART), by=area))
def test_statistics_are_for_hr_and_for_managers_about_the_units_they_lead(stats_world, rows):
    replace(stats_world, columns=STATS_COLUMNS).run(*rows)


@pytest.mark.parametrize("rows", grouped(ROWS, frozenset(ROLE_COLUMNS), by=area))
def test_surveys_workshops_and_summaries_admit_exactly_the_callers_their_rule_names(
    stats_world, rows
):
    stats_world.run(*rows)
