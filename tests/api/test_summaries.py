"""/api/v1/summaries: made on demand by hr, read by hr and by managers within their units,
with their JSON, CSV, XLSX and charts; each made once, and kept as it was made."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import AuditEntry, OutboxMail, Summary

IN_T1 = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
IN_MAY = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)  # T1 and May have ended, T2 has not


def _post(client, make, user, **body):
    with freeze_time(NOW):
        return client.post("/api/v1/summaries", json=body, headers=make.headers(user))


def _get(client, make, user, url):
    with freeze_time(NOW):
        return client.get(url, headers=make.headers(user))


def _t1(client, make, org, **body):
    """Five threats in A1 and five violences in B1 in T1 (enough not to be suppressed), then
    T1 summaries."""
    for unit, category in ((org.a1, "threat"),) * 5 + ((org.b1, "violence"),) * 5:
        with freeze_time(IN_T1):
            make.incident(org.employee_a1, unit, category=category, occurred_at=IN_T1)
    r = _post(client, make, org.hr, kind="tertial", period="2026-T1", **body)
    assert r.status_code == 201, r.get_json()
    return {s["scope_name"]: s for s in r.get_json()["created"]}


@pytest.fixture
def t1(client, make, org):
    """The T1 summaries of the organisation and the förvaltning."""
    return _t1(client, make, org)


@pytest.fixture
def forv_t1(client, make, org):
    """The förvaltning's T1 summary alone (a summary costs a second or two to make)."""
    return _t1(client, make, org, unit_ids=[org.forv.id])["Socialförvaltningen"]


def test_hr_makes_the_summaries_of_an_ended_period_for_each_organisation_and_forvaltning(
    t1, org, db_session
):
    assert sorted(t1) == ["Socialförvaltningen", "Staden"]
    forv = t1["Socialförvaltningen"]
    assert (forv["kind"], forv["period"], forv["unit_id"], forv["origin"]) == (
        "tertial", "2026-T1", org.forv.id, "request")
    assert (forv["period_start"], forv["period_end"]) == ("2026-01-01", "2026-04-30")
    assert forv["kind_label"] == {"sv": "Tertialsammanställning", "en": "Tertial summary"}
    assert {"incidents.sv.csv", "summary.en.xlsx", "incidents-by-form.sv.png"} <= {
        f["name"] for f in forv["files"]}
    audit = db_session.scalars(select(AuditEntry.detail).where(
        AuditEntry.actor_id == org.hr.id, AuditEntry.detail.like("summary %"))).all()
    assert len(audit) == 2
    # Asked for on demand: the one who asked has it; hr is not mailed.
    assert db_session.scalar(select(func.count()).select_from(OutboxMail)
                             .where(OutboxMail.kind.like("summary_%"))) == 0


def test_asking_again_returns_the_summaries_made_and_makes_none(client, make, org, t1,
                                                                db_session):
    r = _post(client, make, org.admin_hr, kind="tertial", period="2026-T1")
    assert r.status_code == 200
    assert r.get_json()["created"] == []
    assert sorted(s["id"] for s in r.get_json()["existing"]) == sorted(
        s["id"] for s in t1.values())
    assert db_session.scalar(select(func.count()).select_from(Summary)) == 2


def test_the_figures_are_those_of_the_statistics_and_stay_as_they_were_made(
    client, make, org, forv_t1
):
    summary_id = forv_t1["id"]
    body = _get(client, make, org.hr, f"/api/v1/summaries/{summary_id}").get_json()
    live = _get(client, make, org.hr, "/api/v1/stats/incidents?from=2026-01-01&to=2026-04-30"
                f"&unit_id={org.forv.id}&group_by=category,unit").get_json()
    assert body["content"]["incidents"]["rows"] == live["rows"]
    assert body["content"]["incidents"]["totals"]["count"] == 10  # 5 threats + 5 violences
    # A report that arrives late for T1 changes the statistics, not the summary.
    with freeze_time(NOW):
        make.incident(org.employee_a1, org.a1, occurred_at=IN_T1)
    again = _get(client, make, org.hr, f"/api/v1/summaries/{summary_id}").get_json()
    assert again["content"]["incidents"]["totals"]["count"] == 10
    live = _get(client, make, org.hr, "/api/v1/stats/incidents?from=2026-01-01&to=2026-04-30"
                f"&unit_id={org.forv.id}").get_json()
    assert live["totals"]["count"] == 11


def test_json_comes_in_the_language_asked_for(client, make, org, forv_t1):
    summary_id = forv_t1["id"]
    sv = _get(client, make, org.hr, f"/api/v1/summaries/{summary_id}?lang=sv").get_json()
    en = _get(client, make, org.hr, f"/api/v1/summaries/{summary_id}").get_json()
    assert {r["category_label"] for r in sv["content"]["incidents"]["rows"]} >= {"Hot", "Våld"}
    assert {r["category_label"] for r in en["content"]["incidents"]["rows"]} >= {
        "Threat", "Violence"}
    assert set(en["content"]) == {"period", "incidents", "police", "support", "dark_figure"}


def test_the_workbook_has_a_sheet_per_table(client, make, org, forv_t1):
    r = _get(client, make, org.hr,
             f"/api/v1/summaries/{forv_t1['id']}?format=xlsx&lang=sv")
    assert r.status_code == 200
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["Händelser", "Polisanmälan", "Stöd", "Mörkertal", "Om"]


def test_csv_gives_the_table_asked_for(client, make, org, forv_t1):
    r = _get(client, make, org.hr,
             f"/api/v1/summaries/{forv_t1['id']}?format=csv&table=police&lang=sv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Form") or "Polis" in text.splitlines()[0]
    assert "attachment" in r.headers["Content-Disposition"]
    dark = _get(client, make, org.hr,
                f"/api/v1/summaries/{forv_t1['id']}?format=csv&table=dark-figure")
    assert "Survey reporting rate" in dark.data.decode("utf-8-sig")


def test_charts_are_png(client, make, org, forv_t1):
    for name in ("incidents-by-form", "police-reported-share"):
        r = _get(client, make, org.hr,
                 f"/api/v1/summaries/{forv_t1['id']}/charts/{name}.png?lang=sv")
        assert r.status_code == 200 and r.mimetype == "image/png"
        assert r.data.startswith(b"\x89PNG")
    r = _get(client, make, org.hr, f"/api/v1/summaries/{forv_t1['id']}/charts/pie.png")
    assert r.status_code == 404


def test_a_manager_reads_the_summaries_of_units_they_lead_and_no_others(
    client, make, org, t1
):
    head = make.user("employee", "manager", unit=org.forv, leads=(org.forv,))
    listed = _get(client, make, head, "/api/v1/summaries").get_json()
    assert [s["scope_name"] for s in listed] == ["Socialförvaltningen"]
    assert _get(client, make, head,
                f"/api/v1/summaries/{t1['Socialförvaltningen']['id']}").status_code == 200
    # The organisation's summary covers units they do not lead: as if it did not exist.
    assert _get(client, make, head, f"/api/v1/summaries/{t1['Staden']['id']}").status_code == 404
    # Leading avdelning A only: neither summary.
    assert _get(client, make, org.manager_a, "/api/v1/summaries").get_json() == []
    assert _get(client, make, org.manager_a,
                f"/api/v1/summaries/{t1['Socialförvaltningen']['id']}").status_code == 404


def test_only_hr_asks_for_summaries_and_employees_read_none(client, make, org, forv_t1):
    assert _post(client, make, org.manager_a, kind="tertial", period="2026-T1").status_code == 403
    assert _get(client, make, org.employee_a1, "/api/v1/summaries").status_code == 403
    assert _get(client, make, org.employee_a1,
                f"/api/v1/summaries/{forv_t1['id']}").status_code == 403
    with freeze_time(NOW):
        assert client.get("/api/v1/summaries").status_code == 401


def test_lists_filter_by_kind_period_and_unit(client, make, org, t1):
    r = _post(client, make, org.hr, kind="monthly", period="2026-05")
    assert r.status_code == 201
    by_kind = _get(client, make, org.hr, "/api/v1/summaries?kind=monthly").get_json()
    assert {(s["kind"], s["period"]) for s in by_kind} == {("monthly", "2026-05")}
    by_unit = _get(client, make, org.hr, f"/api/v1/summaries?unit_id={org.root.id}").get_json()
    assert [(s["period"]) for s in by_unit] == ["2026-05", "2026-T1"]  # latest period first
    by_period = _get(client, make, org.hr, "/api/v1/summaries?period=2026-T1").get_json()
    assert len(by_period) == 2


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kind": "tertial", "period": "2026-T2"}, 409, "period"),  # ends 31 August
        ({"kind": "monthly", "period": "2026-06"}, 409, "period"),
        ({"kind": "tertial", "period": "2026-05"}, 422, "period"),
        ({"kind": "monthly", "period": "2026-T1"}, 422, "period"),
        ({"kind": "monthly", "period": "2026-13"}, 422, "period"),
        ({"kind": "workshop", "period": "2026-T1"}, 422, "kind"),
        ({"period": "2026-T1"}, 422, "kind"),
        ({"kind": "tertial", "period": "2026-T1", "unit_ids": [999999]}, 422, "unit_ids"),
        ({"kind": "tertial", "period": "2026-T1", "scope": "x"}, 422, "scope"),
    ],
)
def test_bad_requests_name_the_field_and_make_nothing(client, make, org, db_session, body,
                                                      status, field):
    r = _post(client, make, org.hr, **body)
    assert r.status_code == status, r.get_json()
    assert field in str(r.get_json()["errors"])
    assert db_session.scalar(select(func.count()).select_from(Summary)) == 0


def test_only_the_units_asked_for(client, make, org, db_session):
    r = _post(client, make, org.hr, kind="tertial", period="2026-T1", unit_ids=[org.dept_a.id])
    assert r.status_code == 201
    assert [s["scope_name"] for s in r.get_json()["created"]] == ["Avdelning A"]


def test_unknown_summaries_and_formats(client, make, org, forv_t1):
    assert _get(client, make, org.hr, "/api/v1/summaries/999999").status_code == 404
    r = _get(client, make, org.hr, f"/api/v1/summaries/{forv_t1['id']}?format=pdf")
    assert r.status_code == 422 and "format" in str(r.get_json()["errors"])
    r = _get(client, make, org.hr, f"/api/v1/summaries/{forv_t1['id']}?format=csv&table=x")
    assert r.status_code == 422 and "table" in str(r.get_json()["errors"])


def test_the_openapi_description_lists_the_summary_operations(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/summaries"])
    assert "get" in paths["/api/v1/summaries/{summary_id}"]
    assert "get" in paths["/api/v1/summaries/{summary_id}/charts/{name}.png"]
