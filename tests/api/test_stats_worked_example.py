"""docs/statistics.md, "Incidents … Worked example", reproduced number for number."""

from __future__ import annotations

from datetime import UTC, datetime

from freezegun import freeze_time

from incidents.models import Headcount

URL = "/api/v1/stats/incidents?from=2026-01-01&to=2026-04-30&group_by=unit,category"


def _example(make, db_session):
    forv = make.unit("Socialförvaltningen", "forvaltning")
    fs = make.unit("Försörjningsstöd", "enhet", forv)
    bu = make.unit("Barn och unga", "enhet", forv)
    db_session.add_all([Headcount(unit_id=fs.id, year=2026, count=40),
                        Headcount(unit_id=bu.id, year=2026, count=25)])
    reporter, hr = make.user("employee", unit=fs), make.user("hr")

    def report(unit, category, month, day, *extra):
        make.incident(reporter, unit, category=category, additional_categories=list(extra),
                      occurred_at=datetime(2026, month, day, 10, tzinfo=UTC))

    for day in (3, 9, 14, 20, 27):
        report(fs, "harassment", 2, day)
    for day in (5, 12, 19):
        report(fs, "threat", 3, day)
    report(fs, "threat", 3, 25, "violence")
    for day in (2, 9, 16, 23, 30):
        report(bu, "harassment", 3, day)
    report(bu, "harassment", 2, 11)
    report(bu, "threat", 2, 17)
    return forv, hr


def _cells(body):
    return {(r["unit_name"], r["category"]): (r["count"], r["rate_per_100"])
            for r in body["rows"]}


@freeze_time("2026-05-04 08:00:00+00:00")
def test_the_worked_example_unsuppressed(client, make, db_session):
    forv, hr = _example(make, db_session)
    body = client.get(f"{URL}&unit_id={forv.id}&unsuppressed=true",
                      headers=make.headers(hr)).get_json()
    cells = _cells(body)
    assert cells[("Försörjningsstöd", "harassment")] == (5, 12.5)   # 5 × 100 / 40
    assert cells[("Försörjningsstöd", "threat")] == (4, 10.0)       # 4 × 100 / 40
    assert cells[("Försörjningsstöd", "violence")] == (1, 2.5)      # 1 × 100 / 40
    assert cells[("Barn och unga", "harassment")] == (6, 24.0)      # 6 × 100 / 25
    assert cells[("Barn och unga", "threat")] == (1, 4.0)           # 1 × 100 / 25
    assert cells[("Barn och unga", "violence")] == (0, 0.0)
    # 16 incidents, the threat-and-violence one once; 16 × 100 / 65 = 24.615…
    assert body["totals"]["count"] == 16 and body["totals"]["rate_per_100"] == 24.62


@freeze_time("2026-05-04 08:00:00+00:00")
def test_the_worked_example_with_disclosure_control(client, make, db_session):
    forv, hr = _example(make, db_session)
    body = client.get(f"{URL}&unit_id={forv.id}", headers=make.headers(hr)).get_json()
    hidden = {key for key, (count, _rate) in _cells(body).items() if count is None}
    assert hidden == {
        ("Försörjningsstöd", "threat"), ("Försörjningsstöd", "violence"),  # primary: 4 and 1
        ("Barn och unga", "threat"),                                        # primary: 1
        ("Barn och unga", "harassment"),      # secondary: the row total would give threat away
        ("Försörjningsstöd", "harassment"),   # secondary: the column total would give 6 away
    }
    assert body["suppression"]["suppressed_totals"] == [{"category": "violence"}]
    assert body["totals"]["count"] == 16 and body["totals"]["rate_per_100"] == 24.62
