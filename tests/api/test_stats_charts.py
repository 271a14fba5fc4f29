"""GET /api/v1/stats/charts/{name}.png: incidents by form over time and the police-reported
share, drawn with matplotlib from the same disclosure-controlled tables as the JSON
(docs/statistics.md, "Charts").

The clock is frozen at NOW (15 December 2026): the default period is 2026-01-01 to 2026-12-15.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from PIL import Image

from incidents.models import AuditEntry, PoliceReport

BASE = "/api/v1/stats/charts"
BY_FORM = f"{BASE}/incidents-by-form.png"
POLICE_SHARE = f"{BASE}/police-reported-share.png"
CHARTS = pytest.mark.parametrize("url", [BY_FORM, POLICE_SHARE])
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _frozen():
    with freeze_time(NOW):
        yield


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def cases(make, org, db_session):
    """Incidents in three tertials of 2026, threats reported to the police in part.

    a1: six threats in February (four reported), five violence in June (five reported),
    b1: six harassment in October, one property damage in October (not reported).
    Every count in the charts' tables is 0 or at least 5, bar the property damage.
    """
    for day in range(1, 7):
        threat = make.incident(org.employee_a1, org.a1, category="threat",
                               occurred_at=utc(f"2026-02-{day:02d}T12:00"))
        if day <= 4:
            _reported(db_session, threat)
    for day in range(1, 6):
        _reported(db_session, make.incident(org.employee_a1, org.a1, category="violence",
                                            occurred_at=utc(f"2026-06-{day:02d}T12:00")))
    for day in range(1, 7):
        make.incident(org.employee_b1, org.b1, category="harassment",
                      occurred_at=utc(f"2026-10-{day:02d}T12:00"))
    make.incident(org.employee_b1, org.b1, category="property_damage",
                  occurred_at=utc("2026-10-10T12:00"))
    return org


def _reported(db_session, incident):
    db_session.add(PoliceReport(incident_id=incident.id, decision="report",
                                decided_at=incident.created_at))
    db_session.commit()


def chart(client, make, user, url, **params):
    response = client.get(url, query_string=params, headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "image/png"
    assert response.data.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(response.data))
    image.load()  # decodes every pixel: a truncated or corrupt PNG raises
    assert image.format == "PNG"
    assert image.size == (1000, 500)  # 10 × 5 inches at 100 dpi
    return response.data


# ---------------------------------------------------------------------------------------------
# The two charts.

@CHARTS
def test_a_chart_is_a_png(client, make, cases, url):
    chart(client, make, cases.hr, url)


def test_incidents_by_form_drawn_through_the_api(client, make, org):
    """One incident reported through the API, then its chart."""
    response = client.post("/api/v1/incidents", headers=make.headers(org.employee_a1), json={
        "category": "threat", "perceived_influence_purpose": "yes",
        "occurred_at": "2026-12-01T08:00:00+00:00", "unit_id": org.a1.id,
        "description": "Klienten hotade mig i telefon."})
    assert response.status_code == 201, response.get_json()
    chart(client, make, org.hr, BY_FORM, unsuppressed="true")


@CHARTS
def test_the_chart_follows_the_data(client, make, org, url, db_session):
    empty = chart(client, make, org.hr, url)
    for day in range(1, 6):
        _reported(db_session, make.incident(org.employee_a1, org.a1, category="threat",
                                            occurred_at=utc(f"2026-03-{day:02d}T12:00")))
    assert chart(client, make, org.hr, url) != empty


@CHARTS
def test_swedish_labels(client, make, cases, url):
    english = chart(client, make, cases.hr, url)
    assert chart(client, make, cases.hr, url, lang="en") == english  # English is the default
    assert chart(client, make, cases.hr, url, lang="sv") != english  # other title and labels


@CHARTS
def test_bars_per_month_tertial_or_year(client, make, cases, url):
    drawn = {period: chart(client, make, cases.hr, url, period=period)
             for period in ("month", "tertial", "year")}
    assert len(set(drawn.values())) == 3  # three different charts
    # A year or less: by month unless told otherwise.
    assert chart(client, make, cases.hr, url) == drawn["month"]


@CHARTS
def test_bars_per_tertial_by_default_beyond_24_months(client, make, cases, url):
    two_years = {"from": "2025-01-01", "to": "2026-12-15"}  # 24 months: by month
    assert chart(client, make, cases.hr, url, **two_years) == chart(
        client, make, cases.hr, url, period="month", **two_years)
    longer = {"from": "2024-12-01", "to": "2026-12-15"}  # 25 months: by tertial
    by_tertial = chart(client, make, cases.hr, url, period="tertial", **longer)
    assert chart(client, make, cases.hr, url, **longer) == by_tertial
    assert by_tertial != chart(client, make, cases.hr, url, period="month", **longer)


@CHARTS
def test_the_chart_takes_the_statistics_filters(client, make, cases, url):
    everything = chart(client, make, cases.hr, url)
    a1 = chart(client, make, cases.hr, url, unit_id=cases.a1.id)
    # From March: February's threats are out; June and October are left.
    later = chart(client, make, cases.hr, url, **{"from": "2026-03-01", "to": "2026-12-15"})
    assert len({everything, a1, later}) == 3


@CHARTS
def test_a_chart_of_suppressed_cells_still_renders(client, make, org, url, db_session):
    # One reported threat: every non-zero cell of the table behind either chart is 1, hidden.
    _reported(db_session, make.incident(org.employee_a1, org.a1, category="threat",
                                        occurred_at=utc("2026-03-02T12:00")))
    hidden = chart(client, make, org.hr, url)
    shown = chart(client, make, org.hr, url, unsuppressed="true")
    assert hidden != shown  # the hidden cell is not drawn (and the chart says so)


def test_unsuppressed_charts_are_for_hr_and_audited(client, make, cases, db_session):
    def audited():
        db_session.expire_all()
        return db_session.scalars(sa.select(AuditEntry).where(
            AuditEntry.actor_id == cases.hr.id,
            AuditEntry.detail.like("unsuppressed statistics%"))).all()

    before = len(audited())
    chart(client, make, cases.hr, POLICE_SHARE, unsuppressed="true")
    assert len(audited()) == before + 1
    refused = client.get(BY_FORM, query_string={"unsuppressed": "true"},
                         headers=make.headers(cases.manager_a))
    assert refused.status_code == 403


# ---------------------------------------------------------------------------------------------
# Errors and who may see what.

def test_an_unknown_chart_is_404(client, make, org):
    response = client.get(f"{BASE}/pie.png", headers=make.headers(org.hr))
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 404
    assert "incidents-by-form" in body["detail"]  # it names the charts there are


@CHARTS
@pytest.mark.parametrize(("params", "name"), [
    ({"period": "week"}, "period"),
    ({"lang": "de"}, "lang"),
    ({"from": "2026-05-01", "to": "2026-04-30"}, "to"),
    ({"unit_id": "x"}, "unit_id"),
])
def test_bad_input_is_422_naming_the_field(client, make, org, url, params, name):
    response = client.get(url, query_string=params, headers=make.headers(org.hr))
    assert response.status_code == 422, params
    assert response.mimetype == "application/problem+json"
    assert name in response.get_json()["errors"], response.get_json()


@CHARTS
def test_a_manager_sees_charts_of_the_units_they_lead(client, make, cases, url):
    own = chart(client, make, cases.manager_a, url)
    assert own == chart(client, make, cases.hr, url, unit_id=cases.dept_a.id)
    assert own != chart(client, make, cases.hr, url)  # hr's has b1 too
    chart(client, make, cases.manager_a, url, unit_id=cases.a1.id)
    response = client.get(url, query_string={"unit_id": cases.b1.id},
                          headers=make.headers(cases.manager_a))
    assert response.status_code == 403
    assert "unit_id" in response.get_json()["errors"]


