"""GET /api/v1/stats/incidents: counts by form, unit and period, rates per 100 employees,
disclosure control, access and formats (docs/statistics.md).

Every expected figure is worked out by hand from the small fixture of the test and written as a
literal, with the arithmetic beside it. The clock is frozen at NOW (15 December 2026), so the
default period is 2026-01-01 to 2026-12-15.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.extensions import db, limiter
from incidents.models import AuditEntry, Headcount
from tests.anonymous_helpers import publish_held

URL = "/api/v1/stats/incidents"
ANON = "/api/v1/anonymous-reports"
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
DESCRIPTION = "Klienten sa att han vet var jag bor och vilken skola mina barn går i."
FORMS = ["harassment", "threat", "violence", "property_damage", "corruption"]
MONTHS_2026 = [f"2026-{m:02d}" for m in range(1, 13)]


@pytest.fixture(autouse=True)
def _frozen():
    """Every test runs at NOW; tokens are issued inside, so they are valid at NOW."""
    with freeze_time(NOW):
        yield


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def file(make, org, unit, when: str, n: int = 1, **fields):
    """n incidents on ``unit`` at the UTC moment ``when``."""
    return [make.incident(org.employee_a1, unit, occurred_at=utc(when), **fields)
            for _ in range(n)]


def stats(client, make, user, **params):
    response = client.get(URL, query_string=params, headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def counts(body, *keys) -> dict:
    """Row key (or tuple of keys) → count."""
    out = {}
    for row in body["rows"]:
        key = tuple(row[k] for k in keys)
        out[key[0] if len(keys) == 1 else key] = row["count"]
    return out


def field(body, key, *keys) -> dict:
    return {row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys): row[key]
            for row in body["rows"]}


def headcount(db_session, unit, year: int, n: int) -> None:
    db_session.add(Headcount(unit_id=unit.id, year=year, count=n))
    db_session.commit()


# ---------------------------------------------------------------------------------------------
# 1. Counts by category, unit, month, tertial, year, location, perpetrator and combinations.

@pytest.fixture
def spread(make, org):
    """Six incidents in 2026 and one in 2025, at noon UTC (the same day in Stockholm):

    I1 a1      2026-01-10 threat           office      client
    I2 a1      2026-02-05 threat           office      relative
    I3 a1      2026-05-20 harassment       phone       client
    I4 a2      2026-03-15 violence         home_visit  client
    I5 b1      2026-09-01 threat           office      unknown
    I6 dept_b  2026-12-01 property_damage  phone       client   (filed on the department itself)
    I7 b1      2025-12-20 threat           office      client   (before the default period)
    """
    rows = [
        (org.a1, "2026-01-10T12:00", "threat", "office", "client"),
        (org.a1, "2026-02-05T12:00", "threat", "office", "relative"),
        (org.a1, "2026-05-20T12:00", "harassment", "phone", "client"),
        (org.a2, "2026-03-15T12:00", "violence", "home_visit", "client"),
        (org.b1, "2026-09-01T12:00", "threat", "office", "unknown"),
        (org.dept_b, "2026-12-01T12:00", "property_damage", "phone", "client"),
        (org.b1, "2025-12-20T12:00", "threat", "office", "client"),
    ]
    for unit, when, category, location, perpetrator in rows:
        file(make, org, unit, when, category=category, location=location,
             perpetrator=perpetrator)
    return org


def test_counts_by_category_include_zero_forms(client, make, spread, no_suppression):
    body = stats(client, make, spread.hr, group_by="category")
    assert [row["category"] for row in body["rows"]] == FORMS
    assert counts(body, "category") == {
        "harassment": 1,  # I3
        "threat": 3,  # I1, I2, I5 (I7 is in 2025, outside the default period)
        "violence": 1,  # I4
        "property_damage": 1,  # I6
        "corruption": 0,
    }
    assert body["totals"]["count"] == 6  # I1..I6


def test_counts_by_unit_are_the_direct_sub_units_with_everything_below(
    client, make, spread, no_suppression
):
    body = stats(client, make, spread.hr, group_by="unit", unit_id=spread.forv.id)
    # Rows are forv's direct sub-units; dept_b's row holds b1's I5 and its own I6.
    assert counts(body, "unit_id") == {
        spread.dept_a.id: 4,  # a1: I1, I2, I3 + a2: I4
        spread.dept_b.id: 2,  # b1: I5 + dept_b itself: I6
    }
    assert field(body, "unit_name", "unit_id") == {
        spread.dept_a.id: "Avdelning A",
        spread.dept_b.id: "Avdelning B",
    }
    assert body["filters"]["units"] == [
        {"unit_id": spread.forv.id, "unit_name": "Socialförvaltningen"}
    ]


def test_the_selected_units_own_row_only_for_incidents_filed_on_it(
    client, make, spread, no_suppression
):
    # dept_b has I6 filed on it directly: its own row appears beside b1's.
    dept_b = stats(client, make, spread.hr, group_by="unit", unit_id=spread.dept_b.id)
    assert counts(dept_b, "unit_id") == {spread.b1.id: 1, spread.dept_b.id: 1}  # I5; I6
    # dept_a has none filed on it directly: only a1 and a2 (a2 with I4).
    dept_a = stats(client, make, spread.hr, group_by="unit", unit_id=spread.dept_a.id)
    assert counts(dept_a, "unit_id") == {spread.a1.id: 3, spread.a2.id: 1}  # I1-I3; I4
    # a1 has no sub-units: its own row is the table.
    a1 = stats(client, make, spread.hr, group_by="unit", unit_id=spread.a1.id)
    assert counts(a1, "unit_id") == {spread.a1.id: 3}
    # A unit with sub-units and no incidents of its own: a zero row for the empty sub-unit.
    empty = stats(client, make, spread.hr, group_by="unit", unit_id=spread.dept_a.id,
                  **{"from": "2026-06-01"})
    assert counts(empty, "unit_id") == {spread.a1.id: 0, spread.a2.id: 0}


def test_counts_by_month_tertial_and_year(client, make, spread, no_suppression):
    months = counts(stats(client, make, spread.hr, group_by="month"), "month")
    assert list(months) == MONTHS_2026  # January up to today's month, December
    assert months == {
        "2026-01": 1, "2026-02": 1, "2026-03": 1, "2026-04": 0,  # I1, I2, I4
        "2026-05": 1, "2026-06": 0, "2026-07": 0, "2026-08": 0,  # I3
        "2026-09": 1, "2026-10": 0, "2026-11": 0, "2026-12": 1,  # I5, I6
    }
    tertials = counts(stats(client, make, spread.hr, group_by="tertial"), "tertial")
    assert tertials == {
        "2026-T1": 3,  # Jan–Apr: I1, I2, I4
        "2026-T2": 1,  # May–Aug: I3
        "2026-T3": 2,  # Sep–Dec: I5, I6
    }
    years = counts(stats(client, make, spread.hr, group_by="year",
                         **{"from": "2025-01-01", "to": "2026-12-15"}), "year")
    assert years == {2025: 1, 2026: 6}  # I7; I1..I6


def test_counts_by_location_and_perpetrator(client, make, spread, no_suppression):
    locations = stats(client, make, spread.hr, group_by="location")
    assert counts(locations, "location") == {
        "office": 3,  # I1, I2, I5
        "phone": 2,  # I3, I6
        "home_visit": 1,  # I4
    }
    perpetrators = stats(client, make, spread.hr, group_by="perpetrator")
    assert counts(perpetrators, "perpetrator") == {
        "client": 4,  # I1, I3, I4, I6
        "relative": 1,  # I2
        "unknown": 1,  # I5
    }


@pytest.mark.parametrize("group_by", ["location", "perpetrator", "location,category"])
def test_grouping_by_location_or_perpetrator_with_no_incidents(client, make, org, app,
                                                               monkeypatch, group_by):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    file(make, org, org.b1, "2026-03-01T12:00", location="office", perpetrator="client")
    response = client.get(URL, query_string={"group_by": group_by, "unit_id": org.a1.id},
                          headers=make.headers(org.hr))
    assert response.status_code == 200
    # No incidents in a1: no rows, or only zero rows.
    assert all(row["count"] == 0 for row in response.get_json()["rows"])
    assert response.get_json()["totals"]["count"] == 0


def test_counts_by_category_and_month(client, make, spread, no_suppression):
    body = stats(client, make, spread.hr, group_by="category,month")
    table = counts(body, "category", "month")
    assert len(table) == 60  # 5 forms × 12 months, zeros filled in
    non_zero = {key: n for key, n in table.items() if n}
    assert non_zero == {
        ("threat", "2026-01"): 1,  # I1
        ("threat", "2026-02"): 1,  # I2
        ("violence", "2026-03"): 1,  # I4
        ("harassment", "2026-05"): 1,  # I3
        ("threat", "2026-09"): 1,  # I5
        ("property_damage", "2026-12"): 1,  # I6
    }
    assert body["filters"]["group_by"] == ["category", "month"]


def test_counts_by_unit_and_tertial(client, make, spread, no_suppression):
    body = stats(client, make, spread.hr, group_by="unit,tertial", unit_id=spread.forv.id)
    assert counts(body, "unit_id", "tertial") == {
        (spread.dept_a.id, "2026-T1"): 3,  # I1, I2 (a1), I4 (a2)
        (spread.dept_a.id, "2026-T2"): 1,  # I3
        (spread.dept_a.id, "2026-T3"): 0,
        (spread.dept_b.id, "2026-T1"): 0,
        (spread.dept_b.id, "2026-T2"): 0,
        (spread.dept_b.id, "2026-T3"): 2,  # I5 (b1), I6 (dept_b)
    }


# ---------------------------------------------------------------------------------------------
# 2. The Stockholm wall clock.

def test_months_are_stockholm_months(client, make, org, no_suppression):
    file(make, org, org.a1, "2026-01-31T22:30")  # 23:30 on 31 January in Stockholm (UTC+1)
    file(make, org, org.a1, "2026-01-31T23:30")  # 00:30 on 1 February in Stockholm
    body = stats(client, make, org.hr, group_by="month",
                 **{"from": "2026-01-01", "to": "2026-02-28"})
    assert counts(body, "month") == {"2026-01": 1, "2026-02": 1}


def test_tertials_are_stockholm_tertials(client, make, org, no_suppression):
    file(make, org, org.a1, "2026-04-30T21:30")  # 23:30 on 30 April in Stockholm (UTC+2): T1
    file(make, org, org.a1, "2026-04-30T22:30")  # 00:30 on 1 May in Stockholm: T2
    file(make, org, org.a1, "2026-04-30T22:45")  # 00:45 on 1 May: T2
    body = stats(client, make, org.hr, group_by="tertial",
                 **{"from": "2026-01-01", "to": "2026-08-31"})
    assert counts(body, "tertial") == {"2026-T1": 1, "2026-T2": 2}


def test_from_and_to_are_local_days_inclusive(client, make, org, no_suppression):
    file(make, org, org.a1, "2026-03-09T22:59")  # 23:59 on 9 March in Stockholm (UTC+1): out
    file(make, org, org.a1, "2026-03-09T23:00")  # 00:00 on 10 March: in
    file(make, org, org.a1, "2026-03-09T23:30")  # 00:30 on 10 March: in
    file(make, org, org.a1, "2026-03-12T22:59")  # 23:59 on 12 March: in (to is inclusive)
    file(make, org, org.a1, "2026-03-12T23:00")  # 00:00 on 13 March: out
    body = stats(client, make, org.hr, **{"from": "2026-03-10", "to": "2026-03-12"})
    # 3 local; UTC days would give 2 (the 12T22:59 and 12T23:00), an exclusive to 2 as well.
    assert body["totals"]["count"] == 3
    assert (body["filters"]["from"], body["filters"]["to"]) == ("2026-03-10", "2026-03-12")


# ---------------------------------------------------------------------------------------------
# 3. Incidents with several forms.

def test_an_incident_with_several_forms_counts_under_each_form_and_once_in_totals(
    client, make, org, no_suppression
):
    file(make, org, org.a1, "2026-02-01T12:00", category="threat",
         additional_categories=["violence"])
    file(make, org, org.a1, "2026-02-02T12:00", category="threat")
    body = stats(client, make, org.hr, group_by="category")
    assert counts(body, "category") == {
        "harassment": 0,
        "threat": 2,  # both incidents
        "violence": 1,  # the first, by its additional form
        "property_damage": 0,
        "corruption": 0,
    }
    assert body["totals"]["count"] == 2  # two incidents, though the rows add up to 3
    note = ("An incident with several forms counts once under each of its forms in rows by "
            "category, and once in the totals.")
    assert note in body["notes"]
    by_unit = stats(client, make, org.hr, group_by="unit")
    assert counts(by_unit, "unit_id") == {org.forv.id: 2}  # once each outside by-form tables
    assert note not in by_unit["notes"]


# ---------------------------------------------------------------------------------------------
# 4. Anonymous reports.

def _anonymous(client, org, when: str, **fields):
    limiter.reset()
    response = client.post(ANON, json={
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": utc(when).isoformat(),
        "unit_id": org.a1.id,
        "description": DESCRIPTION,
        **fields,
    })
    assert response.status_code == 201, response.get_json()
    publish_held()


@pytest.fixture
def mixed(client, make, org):
    """Three named incidents and two anonymous reports, all in a1."""
    file(make, org, org.a1, "2026-04-01T12:00", n=3)
    _anonymous(client, org, "2026-04-02T12:00")
    _anonymous(client, org, "2026-04-03T12:00", additional_categories=["violence"])
    return org


def test_anonymous_reports_are_counted_and_counted_apart(client, make, mixed, no_suppression):
    body = stats(client, make, mixed.hr)
    assert body["totals"]["count"] == 5  # 3 named + 2 anonymous
    assert body["totals"]["anonymous"] == 2
    by_form = stats(client, make, mixed.hr, group_by="category")
    assert counts(by_form, "category")["threat"] == 5  # anonymous reports in the form table
    assert counts(by_form, "category")["violence"] == 1  # the second anonymous report


def test_group_by_anonymous_separates_them(client, make, mixed, no_suppression):
    body = stats(client, make, mixed.hr, group_by="anonymous")
    assert counts(body, "anonymous") == {False: 3, True: 2}


def test_the_anonymous_filter(client, make, mixed, no_suppression):
    only = stats(client, make, mixed.hr, anonymous="true")
    assert (only["totals"]["count"], only["totals"]["anonymous"]) == (2, 2)
    assert only["filters"]["anonymous"] is True
    named = stats(client, make, mixed.hr, anonymous="false", group_by="category")
    assert (named["totals"]["count"], named["totals"]["anonymous"]) == (3, 0)
    assert counts(named, "category")["violence"] == 0  # the violence form was anonymous


# ---------------------------------------------------------------------------------------------
# 5. Rates per 100 employees.

def test_rate_per_100_from_the_units_headcount(client, make, org):
    put = client.put(f"/api/v1/units/{org.a1.id}/headcounts/2026", json={"count": 40},
                     headers=make.headers(org.hr))
    assert put.status_code == 201
    file(make, org, org.a1, "2026-03-01T12:00", n=6)
    body = stats(client, make, org.hr, unit_id=org.a1.id)
    assert body["totals"]["count"] == 6
    assert body["totals"]["rate_per_100"] == 15.0  # 6 × 100 / 40
    by_unit = stats(client, make, org.hr, unit_id=org.a1.id, group_by="unit")
    assert field(by_unit, "rate_per_100", "unit_id") == {org.a1.id: 15.0}
    by_month = stats(client, make, org.hr, unit_id=org.a1.id, group_by="month",
                     **{"from": "2026-03-01", "to": "2026-04-30"})
    # Each month against the year's head-count: 6 × 100 / 40 and 0 × 100 / 40.
    assert field(by_month, "rate_per_100", "month") == {"2026-03": 15.0, "2026-04": 0.0}


def test_a_parents_headcount_is_its_own_else_the_sum_of_its_sub_units(
    client, make, org, db_session
):
    file(make, org, org.a1, "2026-03-01T12:00", n=6)
    headcount(db_session, org.a1, 2026, 40)
    # a2's head-count unknown: dept_a's is unknown, so is its rate; a2's own rate too.
    unknown = stats(client, make, org.hr, unit_id=org.dept_a.id, group_by="unit")
    assert field(unknown, "rate_per_100", "unit_id") == {org.a1.id: 15.0, org.a2.id: None}
    assert unknown["totals"]["rate_per_100"] is None
    # a2 known: dept_a counts 40 + 20 = 60 employees: 6 × 100 / 60 = 10.0.
    headcount(db_session, org.a2, 2026, 20)
    summed = stats(client, make, org.hr, unit_id=org.dept_a.id, group_by="unit")
    assert field(summed, "rate_per_100", "unit_id") == {org.a1.id: 15.0, org.a2.id: 0.0}
    assert summed["totals"]["rate_per_100"] == 10.0
    # dept_a's own record (50) is its head-count, not the sum (60): 6 × 100 / 50 = 12.0;
    # grouped by unit under forv, dept_a's row uses it too.
    headcount(db_session, org.dept_a, 2026, 50)
    own = stats(client, make, org.hr, unit_id=org.dept_a.id)
    assert own["totals"]["rate_per_100"] == 12.0
    forv = stats(client, make, org.hr, unit_id=org.forv.id, group_by="unit")
    # dept_b: b1's head-count unknown, so dept_b's rate is unknown.
    assert field(forv, "rate_per_100", "unit_id") == {org.dept_a.id: 12.0, org.dept_b.id: None}
    assert forv["totals"]["rate_per_100"] is None


def test_a_period_over_two_years_has_no_rate_without_a_time_grouping(
    client, make, org, db_session
):
    file(make, org, org.a1, "2026-03-01T12:00", n=6)
    headcount(db_session, org.a1, 2025, 40)
    headcount(db_session, org.a1, 2026, 40)
    period = {"from": "2025-12-01", "to": "2026-12-15", "unit_id": org.a1.id}
    spanning = stats(client, make, org.hr, **period)
    assert spanning["totals"]["count"] == 6
    assert spanning["totals"]["rate_per_100"] is None  # which year's head-count? neither
    by_form = stats(client, make, org.hr, group_by="category", **period)
    assert field(by_form, "rate_per_100", "category")["threat"] is None
    by_year = stats(client, make, org.hr, group_by="year", **period)
    assert field(by_year, "rate_per_100", "year") == {2025: 0.0, 2026: 15.0}  # 0/40, 6/40
    one_year = stats(client, make, org.hr, group_by="category", unit_id=org.a1.id)
    assert field(one_year, "rate_per_100", "category")["threat"] == 15.0  # 6 × 100 / 40


# ---------------------------------------------------------------------------------------------
# 6. Disclosure control.

def test_counts_from_1_to_4_are_suppressed_and_0_is_not(client, make, org, db_session):
    headcount(db_session, org.a1, 2026, 100)
    file(make, org, org.a1, "2026-03-01T12:00", n=5, category="threat")
    file(make, org, org.a1, "2026-03-02T12:00", n=4, category="violence")
    file(make, org, org.a1, "2026-03-03T12:00", n=1, category="harassment")
    body = stats(client, make, org.hr, group_by="category", unit_id=org.a1.id)
    # Two hidden cells (1 and 4) protect each other in the total: no second suppression.
    assert {r["category"]: (r["count"], r["rate_per_100"], r["suppressed"])
            for r in body["rows"]} == {
        "harassment": (None, None, True),  # 1
        "threat": (5, 5.0, False),  # 5 × 100 / 100
        "violence": (None, None, True),  # 4
        "property_damage": (0, 0.0, False),
        "corruption": (0, 0.0, False),
    }
    assert body["totals"]["count"] == 10  # 5 + 4 + 1
    assert body["suppression"]["applied"] is True
    assert body["suppression"]["threshold"] == 5


def test_second_cell_suppression_in_a_unit_by_form_table(client, make, org):
    # a1: threat 5, violence 1; a2: threat 6, violence 7; 19 incidents.
    file(make, org, org.a1, "2026-03-01T12:00", n=5, category="threat")
    file(make, org, org.a1, "2026-03-02T12:00", n=1, category="violence")
    file(make, org, org.a2, "2026-03-03T12:00", n=6, category="threat")
    file(make, org, org.a2, "2026-03-04T12:00", n=7, category="violence")
    body = stats(client, make, org.hr, group_by="unit,category", unit_id=org.dept_a.id)
    table = {(r["unit_id"], r["category"]): (r["count"], r["suppressed"]) for r in body["rows"]}
    # a1×violence = 1 is hidden. Else a1×violence = a1's total − a1×threat (5) and
    # = violence total − a2×violence (7): so a1×threat and a2×violence are hidden too, and
    # then a2×threat, the other published cell in a2's row and in the threat column.
    for unit in (org.a1.id, org.a2.id):
        for form in ("threat", "violence"):
            assert table[(unit, form)] == (None, True), (unit, form)
        for form in ("harassment", "property_damage", "corruption"):
            assert table[(unit, form)] == (0, False), (unit, form)
    assert body["totals"]["count"] == 19  # 5 + 1 + 6 + 7: the hidden cells share it


def test_second_cell_suppression_in_a_one_way_table(client, make, org):
    file(make, org, org.a1, "2026-03-01T12:00", n=6, category="threat")
    file(make, org, org.a1, "2026-03-02T12:00", n=1, category="violence")
    body = stats(client, make, org.hr, group_by="category")
    # violence = 1 hidden; threat would give it away as the total 7 − 6: hidden too.
    assert field(body, "suppressed", "category") == {
        "harassment": False, "threat": True, "violence": True,
        "property_damage": False, "corruption": False,
    }
    assert counts(body, "category")["threat"] is None
    assert body["totals"]["count"] == 7


def test_totals_count_from_1_to_4_is_suppressed(client, make, org, db_session):
    headcount(db_session, org.a1, 2026, 40)
    file(make, org, org.a1, "2026-03-01T12:00", n=3)
    body = stats(client, make, org.hr, group_by="category", unit_id=org.a1.id)
    assert body["totals"]["count"] is None
    assert body["totals"]["rate_per_100"] is None  # 3 × 100 / 40 would give it away
    assert body["totals"]["suppressed"] is True
    file(make, org, org.a1, "2026-03-02T12:00", n=2)
    five = stats(client, make, org.hr, group_by="category", unit_id=org.a1.id)
    assert five["totals"] == {"count": 5, "anonymous": 0, "rate_per_100": 12.5,  # 5 × 100 / 40
                              "suppressed": False}


def test_without_group_by_the_one_row_is_suppressed_like_the_total(client, make, org):
    file(make, org, org.a1, "2026-03-01T12:00", n=3)
    body = stats(client, make, org.hr)
    assert body["totals"]["count"] is None
    assert body["rows"] == [{"count": None, "rate_per_100": None, "suppressed": True}]


def test_a_suppressed_named_count_is_not_recoverable_from_the_totals(client, make, org):
    file(make, org, org.a1, "2026-04-01T12:00", n=2)
    for day in range(1, 7):
        _anonymous(client, org, f"2026-04-{day:02d}T12:00")
    body = stats(client, make, org.hr, group_by="anonymous")
    assert field(body, "suppressed", "anonymous")[False] is True  # 2 named: hidden
    totals = body["totals"]
    assert totals["count"] is None or totals["anonymous"] is None


def test_the_suppression_threshold_setting_is_honoured(client, make, org, app, monkeypatch):
    file(make, org, org.a1, "2026-03-01T12:00", n=3, category="threat")
    file(make, org, org.a1, "2026-03-02T12:00", n=2, category="violence")
    file(make, org, org.a1, "2026-03-03T12:00", n=2, category="harassment")
    default = stats(client, make, org.hr, group_by="category")
    assert counts(default, "category")["threat"] is None  # 3 < 5
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 3)
    body = stats(client, make, org.hr, group_by="category")
    # Threshold 3: 2 and 2 hidden (and protect each other), 3 published.
    assert {r["category"]: (r["count"], r["suppressed"]) for r in body["rows"]} == {
        "harassment": (None, True),
        "threat": (3, False),
        "violence": (None, True),
        "property_damage": (0, False),
        "corruption": (0, False),
    }
    assert body["suppression"]["threshold"] == 3
    assert body["totals"]["count"] == 7  # 3 + 2 + 2


def _audit_entries(db_session, user):
    db_session.expire_all()
    return db_session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
    ).all()


def test_hr_may_ask_for_unsuppressed_figures_and_it_is_audited(client, make, org, db_session):
    file(make, org, org.a1, "2026-03-01T12:00", n=6, category="threat")
    file(make, org, org.a1, "2026-03-02T12:00", n=1, category="violence")
    before = len(_audit_entries(db_session, org.hr))
    body = stats(client, make, org.hr, group_by="category", unsuppressed="true")
    assert counts(body, "category") == {
        "harassment": 0, "threat": 6, "violence": 1, "property_damage": 0, "corruption": 0,
    }
    assert not any(row["suppressed"] for row in body["rows"])
    assert body["suppression"]["applied"] is False
    entries = _audit_entries(db_session, org.hr)
    assert len(entries) == before + 1
    assert entries[-1].detail.startswith("unsuppressed statistics")
    assert entries[-1].action == "read"


def test_a_manager_may_not_ask_for_unsuppressed_figures(client, make, org, db_session):
    file(make, org, org.a1, "2026-03-01T12:00", n=1)
    response = client.get(URL, query_string={"unsuppressed": "true"},
                          headers=make.headers(org.manager_a))
    assert response.status_code == 403
    assert "unsuppressed" in response.get_json()["errors"]
    assert not [e for e in _audit_entries(db_session, org.manager_a)
                if (e.detail or "").startswith("unsuppressed statistics")]


# ---------------------------------------------------------------------------------------------
# 7. Who may see what.

def test_hr_sees_everything_from_the_organisation_roots(client, make, spread, no_suppression):
    body = stats(client, make, spread.hr, group_by="unit")
    assert body["filters"]["units"] == [{"unit_id": spread.root.id, "unit_name": "Staden"}]
    assert counts(body, "unit_id") == {spread.forv.id: 6}  # I1..I6, a1 to dept_b
    assert body["totals"]["count"] == 6


def test_a_manager_sees_the_units_they_lead(client, make, spread, no_suppression):
    body = stats(client, make, spread.manager_a, group_by="unit")
    assert body["filters"]["units"] == [{"unit_id": spread.dept_a.id, "unit_name": "Avdelning A"}]
    assert counts(body, "unit_id") == {spread.a1.id: 3, spread.a2.id: 1}  # not b1 or dept_b
    assert body["totals"]["count"] == 4
    a1 = stats(client, make, spread.manager_a, unit_id=spread.a1.id)
    assert a1["totals"]["count"] == 3  # I1, I2, I3
    for unit in (spread.b1, spread.forv, spread.root):
        response = client.get(URL, query_string={"unit_id": unit.id},
                              headers=make.headers(spread.manager_a))
        assert response.status_code == 403, unit.name
        assert "unit_id" in response.get_json()["errors"]


# ---------------------------------------------------------------------------------------------
# 8. Formats.

@pytest.fixture
def small(make, org):
    file(make, org, org.a1, "2026-03-01T12:00", n=2, category="threat")
    file(make, org, org.a1, "2026-03-02T12:00", n=1, category="violence")
    return org


SV_ROWS = [
    ["Form", "Antal", "Per 100 anställda", "Undertryckt"],
    ["Trakasserier", "0", "", "nej"],
    ["Hot", "2", "", "nej"],
    ["Våld", "1", "", "nej"],
    ["Skadegörelse", "0", "", "nej"],
    ["Korruption", "0", "", "nej"],
]


def _get(client, make, user, **params):
    response = client.get(URL, query_string=params, headers=make.headers(user))
    assert response.status_code == 200
    return response


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_in_swedish(client, make, small, no_suppression):
    response = _get(client, make, small.hr, group_by="category", format="csv", lang="sv")
    assert response.mimetype == "text/csv"
    assert _csv(response) == SV_ROWS
    by_month = _get(client, make, small.hr, group_by="unit,month", format="csv", lang="sv",
                    unit_id=small.dept_a.id, **{"from": "2026-03-01", "to": "2026-03-31"})
    assert _csv(by_month) == [
        ["Enhets-id", "Enhet", "Månad", "Antal", "Per 100 anställda", "Undertryckt"],
        [str(small.a1.id), "Enhet A1", "2026-03", "3", "", "nej"],  # 2 threat + 1 violence
        [str(small.a2.id), "Enhet A2", "2026-03", "0", "", "nej"],
    ]


def test_csv_in_english_by_default(client, make, small, no_suppression):
    response = _get(client, make, small.hr, group_by="category", format="csv")
    assert response.mimetype == "text/csv"
    assert _csv(response) == [
        ["Form", "Count", "Per 100 employees", "Suppressed"],
        ["Harassment", "0", "", "no"],
        ["Threat", "2", "", "no"],
        ["Violence", "1", "", "no"],
        ["Property damage", "0", "", "no"],
        ["Corruption", "0", "", "no"],
    ]


def test_csv_shows_suppressed_cells_blank(client, make, small):
    response = _get(client, make, small.hr, group_by="category", format="csv", lang="sv")
    rows = {row[0]: row[1:] for row in _csv(response)[1:]}
    assert rows["Hot"] == ["", "", "ja"]  # 2: suppressed
    assert rows["Våld"] == ["", "", "ja"]  # 1: suppressed
    assert float(rows["Korruption"][0]) == 0 and rows["Korruption"][1:] == ["", "nej"]


def test_csv_counts_stay_whole_numbers_beside_suppressed_cells(client, make, small):
    file(make, small, small.a1, "2026-03-03T12:00", n=4, category="threat")  # threat: 2 + 4
    file(make, small, small.a1, "2026-03-04T12:00", n=5, category="harassment")
    response = _get(client, make, small.hr, group_by="category", format="csv", lang="sv")
    # threat 2 + 4 = 6, harassment 5, violence 1: violence hidden, and harassment with it
    # (the smallest published non-zero cell); threat 6 and the zeros published.
    rows = {row[0]: row[1] for row in _csv(response)[1:]}
    assert rows["Våld"] == ""
    assert rows["Korruption"] == "0"
    assert rows["Hot"] == "6"


def test_xlsx_holds_the_same_rows(client, make, small, no_suppression):
    response = _get(client, make, small.hr, group_by="category", format="xlsx", lang="sv")
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Händelser"
    cells = [["" if v is None else str(v) for v in row]
             for row in sheet.iter_rows(values_only=True)]
    assert cells == SV_ROWS


def test_json_rows_carry_labels_in_the_chosen_language(client, make, small, no_suppression):
    sv = stats(client, make, small.hr, group_by="category", lang="sv")
    assert field(sv, "category_label", "category") == {
        "harassment": "Trakasserier", "threat": "Hot", "violence": "Våld",
        "property_damage": "Skadegörelse", "corruption": "Korruption",
    }
    assert sv["filters"]["lang"] == "sv"
    en = stats(client, make, small.hr, group_by="category")
    assert field(en, "category_label", "category")["threat"] == "Threat"
    location = stats(client, make, small.hr, group_by="location", lang="sv")
    assert field(location, "location_label", "location") == {None: None}  # none given


# ---------------------------------------------------------------------------------------------
# 9. Bad input.

@pytest.mark.parametrize(("params", "names"), [
    ({"group_by": "bogus"}, {"group_by"}),
    ({"group_by": "category,bogus"}, {"group_by"}),
    ({"from": "2026-05-01", "to": "2026-04-30"}, {"from", "to"}),
    ({"from": "not-a-date"}, {"from"}),
    ({"to": "2026-13-01"}, {"to"}),
    ({"format": "pdf"}, {"format"}),
    ({"lang": "de"}, {"lang"}),
    ({"from": "2016-01-01", "to": "2026-01-01"}, {"from", "to"}),  # 10 years and a day
    ({"anonymous": "maybe"}, {"anonymous"}),
])
def test_bad_input_is_422_naming_the_field(client, make, org, params, names):
    response = client.get(URL, query_string=params, headers=make.headers(org.hr))
    assert response.status_code == 422, params
    assert set(response.get_json()["errors"]) & names, response.get_json()


def test_a_period_of_ten_years_is_allowed(client, make, org):
    body = stats(client, make, org.hr, **{"from": "2017-01-01", "to": "2026-12-15"})
    assert body["totals"]["count"] == 0


# ---------------------------------------------------------------------------------------------
# 11. The database counts.

def test_the_database_counts_with_group_by(client, make, spread, no_suppression):
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        body = stats(client, make, spread.hr, group_by="category,tertial,location")
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert sum(n for n in counts(body, "category", "tertial", "location").values()) == 6
    reading = [s for s in statements if re.search(r"\bFROM incidents\b", s)]
    assert reading, statements
    grouped = [s for s in reading if "GROUP BY" in s]
    assert grouped, reading
    assert all("count(*)" in s.lower() for s in grouped)
    # No statement reads incident rows: each is grouped or a bare aggregate.
    for statement in reading:
        assert "GROUP BY" in statement or re.match(r"SELECT count\(\*\)", statement), statement
        assert "incidents.description" not in statement
        assert "incidents.id AS" not in statement
