"""The statistics' rows by unit are counted by the database (docs/performance.md, "Statistics on
a million incidents"): the incidents join the selection's unit → row mapping, so a grouped query
returns one row per (month, row unit, …) whatever the units filed on, and pandas only folds
months into tertials and years.

Every expected figure is worked out by hand from the small fixture and written as a literal. The
clock is frozen at NOW (15 December 2026), so the default period is 2026-01-01 to 2026-12-15.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from incidents.models import Headcount
from incidents.stats.incidents import _grouped_counts
from incidents.stats.scope import Selection, UnitTree

URL = "/api/v1/stats/incidents"
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
FORMS = ["harassment", "threat", "violence", "property_damage", "corruption"]
YEAR_2026 = {"from": date(2026, 1, 1), "to": date(2026, 12, 15)}


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


def file(make, org, unit, when: str, n: int = 1, **fields):
    at = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return [make.incident(org.employee_a1, unit, occurred_at=at, **fields) for _ in range(n)]


def stats(client, make, user, **params):
    response = client.get(URL, query_string=params, headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def counts(body, *keys) -> dict:
    return {row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys): row["count"]
            for row in body["rows"]}


@pytest.fixture
def deep(make, org):
    """org with a unit below b1, and incidents on four levels under forv:

    a1      2026-03-10  threat   ×2
    a2      2026-03-11  threat   ×1
    dept_a  2026-03-12  threat   ×1   (filed on the department itself)
    b1      2026-03-13  violence ×1
    b1x     2026-03-14  violence ×2   (b1's sub-unit)
    """
    org.b1x = make.unit("Grupp B1x", "enhet", org.b1)
    file(make, org, org.a1, "2026-03-10T12:00", n=2, category="threat")
    file(make, org, org.a2, "2026-03-11T12:00", category="threat")
    file(make, org, org.dept_a, "2026-03-12T12:00", category="threat")
    file(make, org, org.b1, "2026-03-13T12:00", category="violence")
    file(make, org, org.b1x, "2026-03-14T12:00", n=2, category="violence")
    return org


def test_the_database_returns_one_row_per_row_unit_not_per_unit_filed_on(deep):
    selection = Selection(UnitTree.load(), [deep.forv.id])
    frame = _grouped_counts(selection, YEAR_2026, ["unit", "category", "month"])
    # Four units filed on under dept_a and two under dept_b: one row each.
    got = {(r.unit, r.category, r.month): r.count for r in frame.itertuples()}
    assert got == {
        (deep.dept_a.id, "threat", "2026-03"): 4,  # a1 ×2, a2, dept_a itself
        (deep.dept_b.id, "violence", "2026-03"): 3,  # b1, b1x ×2
    }
    # Each group counts its incidents once (one primary form each) beside the rows.
    assert frame["_incidents"].tolist() == frame["count"].tolist()


def test_without_unit_the_database_groups_by_the_other_keys_alone(deep):
    selection = Selection(UnitTree.load(), [deep.forv.id])
    frame = _grouped_counts(selection, YEAR_2026, ["category"])
    assert "unit" not in frame
    assert {(r.month, r.category): r.count for r in frame.itertuples()} == {
        ("2026-03", "threat"): 4,
        ("2026-03", "violence"): 3,
    }


def test_only_the_selections_units_are_counted(deep):
    selection = Selection(UnitTree.load(), [deep.dept_b.id])
    frame = _grouped_counts(selection, YEAR_2026, ["unit"])
    # Under dept_b the rows are b1 (with b1x below it); dept_a's four are not counted.
    assert {r.unit: r.count for r in frame.itertuples()} == {deep.b1.id: 3}


def test_rows_by_unit_under_a_department_and_a_forvaltning(client, make, deep, no_suppression):
    forv = stats(client, make, deep.hr, group_by="unit", unit_id=deep.forv.id)
    assert counts(forv, "unit_id") == {deep.dept_a.id: 4, deep.dept_b.id: 3}
    dept_a = stats(client, make, deep.hr, group_by="unit", unit_id=deep.dept_a.id)
    # dept_a's own row for the incident filed on it, beside a1 and a2.
    assert counts(dept_a, "unit_id") == {deep.a1.id: 2, deep.a2.id: 1, deep.dept_a.id: 1}
    hr = stats(client, make, deep.hr, group_by="unit")  # from the root: forv holds all seven
    assert counts(hr, "unit_id") == {deep.forv.id: 7}
    assert hr["totals"]["count"] == 7


def test_a_unit_moved_to_another_department_counts_under_its_new_row(
    client, make, deep, db_session, no_suppression
):
    for unit, n in ((deep.a1, 40), (deep.a2, 20), (deep.b1, 30)):
        db_session.add(Headcount(unit_id=unit.id, year=2026, count=n))
    db_session.commit()
    before = stats(client, make, deep.hr, group_by="unit,category", unit_id=deep.forv.id)
    assert counts(before, "unit_id", "category")[deep.dept_a.id, "violence"] == 0
    # b1, with b1x below it, moves from dept_b to dept_a.
    deep.b1.parent_id = deep.dept_a.id
    db_session.commit()
    after = stats(client, make, deep.hr, group_by="unit,category", unit_id=deep.forv.id)
    table = counts(after, "unit_id", "category")
    assert len(table) == 10  # 2 departments × 5 forms, zeros filled in
    assert {key: n for key, n in table.items() if n} == {
        (deep.dept_a.id, "threat"): 4,  # a1 ×2, a2, dept_a
        (deep.dept_a.id, "violence"): 3,  # b1 and b1x, now under dept_a
    }
    # dept_b has no unit left: its row stays, with zeros, and no rate (no head-count).
    rates = {(r["unit_id"], r["category"]): r["rate_per_100"] for r in after["rows"]}
    assert rates[deep.dept_b.id, "threat"] is None
    # dept_a counts a1 + a2 + b1 = 40 + 20 + 30 = 90 employees: 3 × 100 / 90 = 3.33.
    assert rates[deep.dept_a.id, "violence"] == 3.33
    assert after["totals"]["count"] == before["totals"]["count"] == 7


def test_rows_of_units_with_no_incidents_are_zeros(client, make, org, no_suppression):
    file(make, org, org.a1, "2026-02-01T12:00", category="harassment")
    body = stats(client, make, org.hr, group_by="unit,category,tertial", unit_id=org.forv.id)
    table = counts(body, "unit_id", "category", "tertial")
    assert len(table) == 30  # 2 departments × 5 forms × 3 tertials
    assert {key: n for key, n in table.items() if n} == {
        (org.dept_a.id, "harassment", "2026-T1"): 1,
    }
    assert sorted({row["unit_name"] for row in body["rows"]}) == ["Avdelning A", "Avdelning B"]


def test_an_incident_with_several_forms_by_unit_and_form(client, make, org, no_suppression):
    file(make, org, org.a1, "2026-02-01T12:00", category="threat",
         additional_categories=["violence"])
    file(make, org, org.b1, "2026-02-02T12:00", category="threat")
    body = stats(client, make, org.hr, group_by="unit,category", unit_id=org.forv.id)
    assert {k: n for k, n in counts(body, "unit_id", "category").items() if n} == {
        (org.dept_a.id, "threat"): 1,
        (org.dept_a.id, "violence"): 1,  # the same incident, by its additional form
        (org.dept_b.id, "threat"): 1,
    }
    assert body["totals"]["count"] == 2  # two incidents, though the rows add up to 3


def test_several_selected_units_each_keep_their_rows(client, make, org, no_suppression):
    """A manager leading two units apart: each is a root of the selection."""
    manager = make.user("employee", "manager", unit=org.a1, leads=(org.a1, org.dept_b))
    file(make, org, org.a1, "2026-04-01T12:00", n=2)
    file(make, org, org.a2, "2026-04-01T12:00", n=5)  # not led by the manager
    file(make, org, org.b1, "2026-04-02T12:00")
    file(make, org, org.dept_b, "2026-04-03T12:00")
    body = stats(client, make, manager, group_by="unit,month", **{"from": "2026-04-01",
                                                                  "to": "2026-04-30"})
    # a1 has no sub-units: its own row; dept_b: b1's row and its own.
    assert counts(body, "unit_id", "month") == {
        (org.a1.id, "2026-04"): 2,
        (org.b1.id, "2026-04"): 1,
        (org.dept_b.id, "2026-04"): 1,
    }
    assert body["totals"]["count"] == 4
