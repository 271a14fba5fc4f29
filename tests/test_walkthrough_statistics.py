"""The statistics walked through end to end: for one tertial (T1 2026), hr gets the incidents
table, the police statistics and a dark-figure estimate with intervals for a unit tree (avdelning
A: enhet A1 and A2), as JSON, CSV, XLSX and a chart, with small cells suppressed, and the figures
match this hand calculation:

  A1: 6 threats (IA-1 … IA-6 in the general incident system; 3 police-reported),
      7 harassment, 2 violence
  A2: 9 threats, 8 harassment, 6 violence;   B1 (another subtree): 3 threats, not counted for A
  Head-counts 2026: A1 40, A2 20.

  Incidents by unit and form (T1), disclosure control at 5:
    A1 violence 2: primary.
    A1's row then has one hidden cell → its smallest other non-zero cell, threat 6, is hidden.
    The violence and threat columns each have one hidden cell → A2 violence 6 and A2 threat 9.
    Every row and column now has 0 or 2 hidden cells. Published: harassment, A1 7 (7 × 100 / 40
    = 17.5 per 100) and A2 8 (8 × 100 / 20 = 40.0).
  Totals: 38 incidents; 38 × 100 / 60 = 63.33 per 100 employees.

  Police (one row for A): incidents 38, flagged 23 (threats and violence), for consideration 15,
  decided = reported = 3 → both suppressed, flagged_not_reported 23 − 3 = 20.

  Two registers: n1 = 38, IA holds n2 = 10 + 8 = 18, overlap m = 6.
  N̂ = 39·19/7 − 1 = 104.857 → 104.9; Var = 39·19·32·12 / (7²·8) = 284544/392 = 725.9;
  104.857 ± 1.959964·26.942 = [52.1, 157.7] (above the 38 + 18 − 6 = 50 seen);
  D = 104.857 − 50 = 54.9, [2.1, 107.7].
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
from freezegun import freeze_time

from incidents.models import Headcount, PoliceReport

NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
T1 = {"from": "2026-01-01", "to": "2026-04-30"}


def _world(client, make, org, db_session):
    db_session.add_all([Headcount(unit_id=org.a1.id, year=2026, count=40),
                        Headcount(unit_id=org.a2.id, year=2026, count=20)])
    db_session.commit()
    reporter = org.employee_a1

    def add(unit, month, day, category, ia=None, reported=False):
        incident = make.incident(reporter, unit, category=category,
                                 occurred_at=datetime(2026, month, day, 10, tzinfo=UTC),
                                 ia_reported=ia is not None, ia_reference=ia)
        if reported:
            db_session.add(PoliceReport(incident_id=incident.id, decision="report"))
            db_session.commit()

    for n in range(6):
        add(org.a1, 1 + n % 4, 3 + n, "threat", ia=f"IA-{n + 1}", reported=n < 3)
    for n in range(7):
        add(org.a1, 1 + n % 4, 10 + n, "harassment")
    for n in range(2):
        add(org.a1, 4, 20 + n, "violence")
    for category, count in (("threat", 9), ("harassment", 8), ("violence", 6)):
        for n in range(count):
            add(org.a2, 1 + n % 4, 1 + n, category)
    for n in range(3):
        add(org.b1, 2, 20 + n, "threat")
    for unit, count in ((org.a1, 10), (org.a2, 8)):
        response = client.put("/api/v1/ia-counts", headers=make.headers(org.hr), json={
            "unit_id": unit.id, "period_start": "2026-01-01", "period_end": "2026-04-30",
            "count": count})
        assert response.status_code == 201, response.get_json()


def _get(client, make, user, path, **params):
    response = client.get(path, query_string=params, headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    return response


@freeze_time(NOW)
def test_hr_gets_one_tertial_in_every_format_with_small_cells_suppressed(
    client, make, org, db_session
):
    _world(client, make, org, db_session)
    hr, unit = org.hr, org.dept_a.id

    table = _get(client, make, hr, "/api/v1/stats/incidents", unit_id=unit,
                 group_by="unit,category", **T1).get_json()
    cells = {(r["unit_name"], r["category"]): (r["count"], r["rate_per_100"])
             for r in table["rows"] if r["category"] in ("threat", "harassment", "violence")}
    assert cells == {
        ("Enhet A1", "violence"): (None, None),    # primary: 2
        ("Enhet A1", "threat"): (None, None),      # secondary: A1's row
        ("Enhet A2", "violence"): (None, None),    # secondary: the violence column
        ("Enhet A2", "threat"): (None, None),      # secondary: the threat column
        ("Enhet A1", "harassment"): (7, 17.5),     # 7 × 100 / 40
        ("Enhet A2", "harassment"): (8, 40.0),     # 8 × 100 / 20
    }
    assert table["totals"]["count"] == 38 and table["totals"]["rate_per_100"] == 63.33

    police = _get(client, make, hr, "/api/v1/stats/police", unit_id=unit, group_by="",
                  **T1).get_json()
    [row] = police["rows"]
    assert (row["incidents"], row["flagged"], row["flagged_for_consideration"],
            row["flagged_not_reported"]) == (38, 23, 15, 20)
    assert (row["decided"], row["reported"]) == (None, None)
    assert {"decided", "reported"} <= set(row["suppressed"])

    dark = _get(client, make, hr, "/api/v1/stats/dark-figure", unit_id=unit,
                **T1).get_json()
    registers = dark["two_registers"]
    assert "Chapman" in registers["method"] and registers["assumptions"]
    assert registers["estimated_total"] == {"value": 104.9, "ci95": [52.1, 157.7]}
    assert registers["dark_figure"] == {"value": 54.9, "ci95": [2.1, 107.7]}

    # The same incidents table as CSV and XLSX, in Swedish; hidden cells are empty.
    text = _get(client, make, hr, "/api/v1/stats/incidents", unit_id=unit,
                group_by="unit,category", format="csv", lang="sv", **T1).data.decode("utf-8-sig")
    rows = {(r["Enhet"], r["Form"]): r["Antal"] for r in csv.DictReader(io.StringIO(text))}
    assert rows[("Enhet A1", "Trakasserier")] == "7" and rows[("Enhet A1", "Våld")] == ""
    workbook = openpyxl.load_workbook(io.BytesIO(_get(
        client, make, hr, "/api/v1/stats/incidents", unit_id=unit, group_by="unit,category",
        format="xlsx", lang="sv", **T1).data))
    sheet = workbook[workbook.sheetnames[0]]
    header = [c.value for c in sheet[1]]
    values = {(r[header.index("Enhet")], r[header.index("Form")]): r[header.index("Antal")]
              for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values[("Enhet A2", "Trakasserier")] == 8 and values[("Enhet A1", "Våld")] is None

    # The dark figure as a table: one row per figure, with its interval and method.
    text = _get(client, make, hr, "/api/v1/stats/dark-figure", unit_id=unit, format="csv",
                lang="sv", **T1).data.decode("utf-8-sig")
    figures = {(r["Skattning"], r["Mått"]): r for r in csv.DictReader(io.StringIO(text))}
    total = figures[("Två register (Chapman)", "estimated_total")]
    assert (total["Värde"], total["Nedre gräns 95 %"], total["Övre gräns 95 %"]) == (
        "104.9", "52.1", "157.7")
    assert "Chapman" in total["Metod"]
    workbook = openpyxl.load_workbook(io.BytesIO(_get(
        client, make, hr, "/api/v1/stats/dark-figure", unit_id=unit, format="xlsx", **T1).data))
    assert workbook.sheetnames == ["Dark figure", "About"]
    about = [row for row in workbook["About"].iter_rows(values_only=True)]
    assert any(key == "two_registers.assumption" for key, _ in about)

    chart = _get(client, make, hr, "/api/v1/stats/charts/incidents-by-form.png", unit_id=unit,
                 period="tertial", lang="sv", **T1)
    assert chart.mimetype == "image/png" and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
