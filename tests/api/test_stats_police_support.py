"""GET /api/v1/stats/police and GET /api/v1/stats/support: police-report statistics with the
police dark figure, and support outcomes with timeliness
(docs/statistics.md).

Every expected figure is worked out by hand from the small fixture of the test and written as a
literal, with the arithmetic beside it. The clock is frozen at NOW (15 December 2026), so the
default period is 2026-01-01 to 2026-12-15. Counting tests set the suppression threshold to 1
(no disclosure control); the suppression tests keep the default 5.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.models import (
    AuditEntry,
    CheckIn,
    Incident,
    PoliceOutcomeEntry,
    PoliceReport,
    SupportDecline,
    SupportEvaluation,
    SupportMeasure,
)
from tests.anonymous_helpers import report_and_publish

POLICE = "/api/v1/stats/police"
SUPPORT = "/api/v1/stats/support"
NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
OUTCOMES = ["pending", "not_investigated", "investigation_opened", "investigation_discontinued",
            "indicted", "summary_fine", "prosecution_waived", "convicted", "acquitted",
            "appealed"]
SUPPORT_TYPES = ["debriefing", "occupational_health", "peer_support", "safety_measures",
                 "changed_duties", "legal_support", "accompaniment", "other"]


@pytest.fixture(autouse=True)
def clock():
    """Every test runs at NOW unless it moves the clock; tokens are issued inside."""
    with freeze_time(NOW) as frozen:
        yield frozen


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def incident(make, org, unit, when: str, category: str = "threat", *extra: str, **fields):
    """A named incident on ``unit`` that occurred at the UTC moment ``when``."""
    return make.incident(org.employee_a1, unit, occurred_at=utc(when), category=category,
                         additional_categories=list(extra), **fields)


def get(client, make, user, url, **params):
    response = client.get(url, query_string=params, headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    return response


def stats(client, make, user, url, **params) -> dict:
    return get(client, make, user, url, **params).get_json()


def only_row(body) -> dict:
    assert len(body["rows"]) == 1, body["rows"]
    return body["rows"][0]


def by(body, *keys) -> dict:
    """Rows keyed by one key, or a tuple of keys."""
    return {(row[keys[0]] if len(keys) == 1 else tuple(row[k] for k in keys)): row
            for row in body["rows"]}


def pick(row: dict, *columns: str) -> dict:
    return {c: row[c] for c in columns}


def audit_entries(db_session, user):
    db_session.expire_all()
    return db_session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
    ).all()


# =============================================================================================
# Police reports.

def police_report(db_session, org, inc, decision: str | None, *, filed_by: str | None = None,
                  filed_at: str | None = None, outcomes: tuple[tuple[str, str], ...] = (),
                  reason: str | None = None):
    """The police report row of ``inc`` as the case handler would have recorded it, with its
    outcome history (oldest first)."""
    db_session.add(PoliceReport(
        incident_id=inc.id, decision=decision,
        decision_reason=reason or ("Avstår." if decision == "do_not_report" else None),
        decided_at=inc.created_at if decision else None,
        decided_by_id=org.manager_a.id if decision else None,
        filed_by=filed_by, contact_address="work" if filed_at else None,
        filed_at=utc(filed_at) if filed_at else None,
    ))
    for code, reached_on in outcomes:
        db_session.add(PoliceOutcomeEntry(incident_id=inc.id, outcome=code,
                                          reached_on=date.fromisoformat(reached_on),
                                          recorded_by_id=org.manager_a.id))
    db_session.commit()


@pytest.fixture
def police_cases(make, org, db_session):
    """Eight incidents in 2026 under Socialförvaltningen (noon UTC unless said):

    P1 a1  threat              02-02 08:00  report, employer, filed 02-05 07:00 (2d 23h → 2)
                                            outcomes pending, then investigation_opened
    P2 a1  threat + violence   02-10        report, employee, filed 02-20 12:00 (10d → 10)
                                            outcome not_investigated
    P3 a1  violence            03-01        do_not_report
    P4 a2  harassment          05-10        report, employer, filed 05-11 13:00 (1d 1h → 1)
    P5 a2  property_damage     06-01        no decision
    P6 b1  corruption          09-10        report, not yet filed
    P7 b1  harassment          10-01        no police report at all
    P8 b1  threat              11-03        report, employer, filed 11-08 00:00 (4d 12h → 4)
                                            outcome pending
    And one in 2025 (b1, threat, reported), outside the default period.
    """
    p1 = incident(make, org, org.a1, "2026-02-02T08:00", "threat")
    police_report(db_session, org, p1, "report", filed_by="employer",
                  filed_at="2026-02-05T07:00",
                  outcomes=(("pending", "2026-02-10"), ("investigation_opened", "2026-03-01")))
    p2 = incident(make, org, org.a1, "2026-02-10T12:00", "threat", "violence")
    police_report(db_session, org, p2, "report", filed_by="employee",
                  filed_at="2026-02-20T12:00", outcomes=(("not_investigated", "2026-03-15"),))
    p3 = incident(make, org, org.a1, "2026-03-01T12:00", "violence")
    police_report(db_session, org, p3, "do_not_report")
    p4 = incident(make, org, org.a2, "2026-05-10T12:00", "harassment")
    police_report(db_session, org, p4, "report", filed_by="employer",
                  filed_at="2026-05-11T13:00")
    incident(make, org, org.a2, "2026-06-01T12:00", "property_damage")  # P5
    p6 = incident(make, org, org.b1, "2026-09-10T12:00", "corruption")
    police_report(db_session, org, p6, "report")
    incident(make, org, org.b1, "2026-10-01T12:00", "harassment")  # P7
    p8 = incident(make, org, org.b1, "2026-11-03T12:00", "threat")
    police_report(db_session, org, p8, "report", filed_by="employer",
                  filed_at="2026-11-08T00:00", outcomes=(("pending", "2026-11-20"),))
    old = incident(make, org, org.b1, "2025-12-20T12:00", "threat")
    police_report(db_session, org, old, "report", filed_by="employer",
                  filed_at="2025-12-21T12:00")
    return org


COUNTS = ["incidents", "flagged", "flagged_for_consideration", "decided", "reported", "filed",
          "filed_by_employer", "flagged_not_reported"]
SHARES = ["share_reported", "share_of_flagged_reported", "share_filed_by_employer"]


def counts_of(row) -> tuple:
    return tuple(row[c] for c in COUNTS)


def test_police_by_form_and_unit_is_the_default(client, make, police_cases, no_suppression):
    org = police_cases
    body = stats(client, make, org.hr, POLICE, unit_id=org.forv.id)
    assert body["filters"]["group_by"] == ["category", "unit"]
    rows = by(body, "category", "unit_id")
    a, b = org.dept_a.id, org.dept_b.id
    # (incidents, flagged, for consideration, decided, reported, filed, filed by employer,
    #  flagged but not reported)
    assert {key: counts_of(row) for key, row in rows.items()} == {
        ("harassment", a): (1, 0, 1, 1, 1, 1, 1, 0),  # P4
        ("threat", a): (2, 2, 0, 2, 2, 2, 1, 0),  # P1, P2; P1 filed by the employer
        ("violence", a): (2, 2, 0, 2, 1, 1, 0, 1),  # P2 (its second form), P3 not reported
        ("property_damage", a): (1, 1, 0, 0, 0, 0, 0, 1),  # P5, no decision
        ("corruption", b): (1, 1, 0, 1, 1, 0, 0, 0),  # P6, reported, not filed
        ("harassment", b): (1, 0, 1, 0, 0, 0, 0, 0),  # P7
        ("threat", b): (1, 1, 0, 1, 1, 1, 1, 0),  # P8 (the 2025 one is outside the period)
    }
    assert pick(rows[("threat", a)], *SHARES, "median_days_to_filing") == {
        "share_reported": 1.0,  # 2 / 2
        "share_of_flagged_reported": 1.0,  # (2 − 0) / 2
        "share_filed_by_employer": 0.5,  # 1 / 2
        "median_days_to_filing": 6.0,  # P1 2, P2 10: (2 + 10) / 2
    }
    assert pick(rows[("violence", a)], *SHARES, "median_days_to_filing") == {
        "share_reported": 0.5,  # 1 / 2
        "share_of_flagged_reported": 0.5,  # (2 − 1) / 2
        "share_filed_by_employer": 0.0,  # 0 / 1 (P2 filed by the employee)
        "median_days_to_filing": 10.0,  # P2 alone
    }
    assert pick(rows[("property_damage", a)], *SHARES, "median_days_to_filing") == {
        "share_reported": 0.0,  # 0 / 1
        "share_of_flagged_reported": 0.0,  # (1 − 1) / 1
        "share_filed_by_employer": None,  # nothing filed: 0 / 0 is no share
        "median_days_to_filing": None,
    }
    # Harassment is flagged for consideration only: no share of flagged.
    assert rows[("harassment", a)]["share_of_flagged_reported"] is None
    assert rows[("harassment", a)]["median_days_to_filing"] == 1.0  # P4: 1d 1h
    assert rows[("threat", b)]["median_days_to_filing"] == 4.0  # P8: 4d 12h
    assert rows[("threat", a)]["unit_name"] == "Avdelning A"
    assert rows[("threat", a)]["category_label"] == "Threat"
    assert all(row["suppressed"] == [] for row in body["rows"])


def test_police_without_group_by_is_one_row(client, make, police_cases, no_suppression):
    body = stats(client, make, police_cases.hr, POLICE, group_by="")
    assert body["filters"]["group_by"] == []
    row = only_row(body)
    assert counts_of(row) == (
        8,  # P1..P8 (the 2025 incident is outside the period)
        6,  # P1, P2, P3, P5, P6, P8 — P2 counted once though it has two forms
        2,  # P4, P7
        6,  # P1, P2, P3, P4, P6, P8
        5,  # P1, P2, P4, P6, P8
        4,  # P1, P2, P4, P8
        3,  # P1, P4, P8
        2,  # P3 (do_not_report), P5 (no decision): the police dark figure
    )
    assert pick(row, *SHARES) == {
        "share_reported": 0.625,  # 5 / 8
        "share_of_flagged_reported": 0.6667,  # (6 − 2) / 6 = 0.66666…
        "share_filed_by_employer": 0.75,  # 3 / 4
    }
    assert row["median_days_to_filing"] == 3.0  # days 1, 2, 4, 10: (2 + 4) / 2
    assert "unit_id" not in row and "category" not in row


def test_police_median_days_to_filing_rounds_down(client, make, org, no_suppression):
    # Filing 2d 23h 59m after the incident is 2 whole days, not 3.
    late = incident(make, org, org.a1, "2026-04-01T10:00")
    police_report(make.session, org, late, "report", filed_by="employer",
                  filed_at="2026-04-04T09:59")
    row = only_row(stats(client, make, org.hr, POLICE, group_by=""))
    assert row["median_days_to_filing"] == 2.0  # floor(2.999…)


def test_police_median_is_the_middle_value_of_an_odd_count(
    client, make, police_cases, no_suppression
):
    org = police_cases
    body = stats(client, make, org.hr, POLICE, group_by="unit", unit_id=org.forv.id)
    rows = by(body, "unit_id")
    assert rows[org.dept_a.id]["median_days_to_filing"] == 2.0  # P4 1, P1 2, P2 10: the middle
    assert rows[org.dept_b.id]["median_days_to_filing"] == 4.0  # P8 alone
    # Grouped by unit, an incident counts once: P2 is one incident in dept_a.
    assert counts_of(rows[org.dept_a.id]) == (5, 4, 1, 4, 3, 3, 2, 2)  # P1..P5
    assert counts_of(rows[org.dept_b.id]) == (3, 2, 1, 2, 2, 1, 1, 0)  # P6..P8


def test_police_by_tertial(client, make, police_cases, no_suppression):
    body = stats(client, make, police_cases.hr, POLICE, group_by="tertial")
    rows = by(body, "tertial")
    assert {t: counts_of(row) for t, row in rows.items()} == {
        "2026-T1": (3, 3, 0, 3, 2, 2, 1, 1),  # P1, P2, P3 (Jan–Apr)
        "2026-T2": (2, 1, 1, 1, 1, 1, 1, 1),  # P4, P5 (May–Aug)
        "2026-T3": (3, 2, 1, 2, 2, 1, 1, 0),  # P6, P7, P8 (Sep–Dec)
    }
    assert {t: row["median_days_to_filing"] for t, row in rows.items()} == {
        "2026-T1": 6.0,  # P1 2, P2 10
        "2026-T2": 1.0,  # P4
        "2026-T3": 4.0,  # P8
    }
    assert rows["2026-T2"]["share_reported"] == 0.5  # 1 / 2


def test_police_by_year(client, make, police_cases, no_suppression):
    body = stats(client, make, police_cases.hr, POLICE, group_by="year",
                 **{"from": "2025-01-01"})
    rows = by(body, "year")
    assert {y: (r["incidents"], r["reported"], r["median_days_to_filing"])
            for y, r in rows.items()} == {
        2025: (1, 1, 1.0),  # the b1 threat of 12-20, filed a day later
        2026: (8, 5, 3.0),  # P1..P8; days 1, 2, 4, 10: (2 + 4) / 2
    }


def test_police_by_month(client, make, police_cases, no_suppression):
    body = stats(client, make, police_cases.hr, POLICE, group_by="month")
    rows = by(body, "month")
    assert {m: row["incidents"] for m, row in rows.items()} == {
        "2026-02": 2,  # P1, P2
        "2026-03": 1,  # P3
        "2026-05": 1,  # P4
        "2026-06": 1,  # P5
        "2026-09": 1,  # P6
        "2026-10": 1,  # P7
        "2026-11": 1,  # P8
    }
    assert rows["2026-02"]["median_days_to_filing"] == 6.0  # (2 + 10) / 2
    assert rows["2026-03"]["flagged_not_reported"] == 1  # P3
    assert rows["2026-03"]["median_days_to_filing"] is None  # nothing filed in March


def test_police_outcomes_count_the_latest_outcome_of_each_report(
    client, make, police_cases, no_suppression
):
    row = only_row(stats(client, make, police_cases.hr, POLICE, group_by=""))
    assert {code: row[f"outcome_{code}"] for code in OUTCOMES} == {
        "pending": 1,  # P8; P1's pending was followed by investigation_opened
        "not_investigated": 1,  # P2
        "investigation_opened": 1,  # P1
        "investigation_discontinued": 0, "indicted": 0, "summary_fine": 0,
        "prosecution_waived": 0, "convicted": 0, "acquitted": 0, "appealed": 0,
    }


def test_police_an_incident_with_two_forms_counts_under_both(client, make, org, no_suppression):
    both = incident(make, org, org.a1, "2026-03-01T12:00", "threat", "violence")
    police_report(make.session, org, both, "do_not_report")
    body = stats(client, make, org.hr, POLICE, group_by="category")
    rows = by(body, "category")
    assert set(rows) == {"threat", "violence"}
    for form in ("threat", "violence"):
        assert pick(rows[form], "incidents", "flagged", "decided", "flagged_not_reported") == {
            "incidents": 1, "flagged": 1, "decided": 1, "flagged_not_reported": 1}
    assert any("counts once under each of its forms" in note for note in body["notes"])
    assert only_row(stats(client, make, org.hr, POLICE, group_by=""))["incidents"] == 1


def test_police_figures_from_reports_recorded_through_the_api(client, make, org, clock,
                                                              no_suppression):
    start = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    clock.move_to(start)
    eh, mh = make.headers(org.employee_a1), make.headers(org.manager_a)
    ids = []
    for category in ("threat", "violence"):
        created = client.post("/api/v1/incidents", headers=eh, json={
            "category": category, "perceived_influence_purpose": "yes",
            "occurred_at": (start - timedelta(hours=2)).isoformat(),  # 06:00
            "unit_id": org.a1.id, "description": "Klienten hotade mig i receptionen."})
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
        assert client.post(f"/api/v1/incidents/{ids[-1]}/acknowledge",
                           headers=mh).status_code == 200
    threat, violence = (f"/api/v1/incidents/{i}/police-report" for i in ids)
    filing = {"decision": "report", "filed_by": "employer", "contact_address": "work",
              "filed_at": datetime(2026, 4, 4, 5, 0, tzinfo=UTC).isoformat()}  # 2d 23h: 2

    clock.move_to(datetime(2026, 4, 5, 9, 0, tzinfo=UTC))
    mh = make.headers(org.manager_a)
    assert client.put(threat, json=filing, headers=mh).status_code == 200
    refused = {"decision": "do_not_report", "decision_reason": "Den anställda avstår."}
    assert client.put(violence, json=refused, headers=mh).status_code == 200
    for moment, code, reached_on in (
        (datetime(2026, 4, 15, 9, 0, tzinfo=UTC), "pending", "2026-04-10"),
        (datetime(2026, 4, 25, 9, 0, tzinfo=UTC), "investigation_opened", "2026-04-20"),
    ):
        clock.move_to(moment)
        mh = make.headers(org.manager_a)
        etag = client.get(threat, headers=mh).headers["ETag"]
        put = client.put(threat, json={**filing, "outcome": {"code": code,
                                                             "reached_on": reached_on}},
                         headers={**mh, "If-Match": etag})
        assert put.status_code == 200, put.get_json()

    clock.move_to(NOW)
    row = only_row(stats(client, make, org.hr, POLICE, group_by=""))
    assert counts_of(row) == (2, 2, 0, 2, 1, 1, 1, 1)  # the violence one is the dark figure
    assert pick(row, *SHARES, "median_days_to_filing") == {
        "share_reported": 0.5,  # 1 / 2
        "share_of_flagged_reported": 0.5,  # (2 − 1) / 2
        "share_filed_by_employer": 1.0,  # 1 / 1
        "median_days_to_filing": 2.0,  # 04-01 06:00 → 04-04 05:00 is 2d 23h
    }
    assert (row["outcome_pending"], row["outcome_investigation_opened"]) == (0, 1)


# ---------------------------------------------------------------------------------------------
# Police: disclosure control (default threshold 5).

@pytest.fixture
def police_small(make, org, db_session):
    """a1 in March 2026: seven harassment incidents (no police report), six threats reported
    and filed by the employer 3 days later, one violence with no decision."""
    for day in range(1, 8):
        incident(make, org, org.a1, f"2026-03-{day:02d}T12:00", "harassment")
    for day in range(1, 7):
        threat = incident(make, org, org.a1, f"2026-03-{day:02d}T10:00", "threat")
        police_report(db_session, org, threat, "report", filed_by="employer",
                      filed_at=f"2026-03-{day + 3:02d}T10:00")
    incident(make, org, org.a1, "2026-03-10T12:00", "violence")
    return org


def test_police_suppresses_each_count_column_on_its_own(client, make, police_small):
    body = stats(client, make, police_small.hr, POLICE, group_by="category")
    rows = by(body, "category")
    # incidents: harassment 7, threat 6, violence 1. violence hidden (1); the one total
    # (the column) would give it away as 14 − 7 − 6, so the smallest published non-zero cell,
    # threat's 6, is hidden too. flagged: 0, 6, 1: violence hidden, and threat with it.
    # flagged_not_reported: 0, 0, 1: violence hidden; only zeros left to hide.
    # The other columns hold no count from 1 to 4 and are published.
    assert rows["harassment"]["suppressed"] == []
    assert rows["threat"]["suppressed"] == ["incidents", "flagged"]
    assert rows["violence"]["suppressed"] == ["incidents", "flagged", "flagged_not_reported"]
    assert counts_of(rows["harassment"]) == (7, 0, 7, 0, 0, 0, 0, 0)
    assert counts_of(rows["threat"]) == (None, None, 0, 6, 6, 6, 6, 0)
    assert counts_of(rows["violence"]) == (None, None, 0, 0, 0, 0, 0, None)
    # Shares from a hidden count are hidden; from published ones they stay.
    assert pick(rows["threat"], *SHARES) == {
        "share_reported": None,  # 6 / hidden
        "share_of_flagged_reported": None,  # hidden flagged
        "share_filed_by_employer": 1.0,  # 6 / 6
    }
    assert rows["threat"]["median_days_to_filing"] == 3.0  # six filings, each 3 days
    assert pick(rows["harassment"], *SHARES) == {
        "share_reported": 0.0, "share_of_flagged_reported": None,
        "share_filed_by_employer": None}
    assert rows["violence"]["share_reported"] is None
    assert body["suppression"]["applied"] is True
    assert body["suppression"]["threshold"] == 5


def test_police_one_row_hides_small_counts_and_what_derives_from_them(client, make, org,
                                                                      db_session):
    # Six threats in a1: five reported (four filed, days 2, 2, 2, 2; one of them pending with
    # the police), one not.
    for day in range(1, 7):
        threat = incident(make, org, org.a1, f"2026-03-{day:02d}T10:00")
        if day <= 4:
            police_report(db_session, org, threat, "report", filed_by="employer",
                          filed_at=f"2026-03-{day + 2:02d}T10:00",
                          outcomes=(("pending", "2026-03-20"),) if day == 1 else ())
        elif day == 5:
            police_report(db_session, org, threat, "report")
    row = only_row(stats(client, make, org.hr, POLICE, group_by=""))
    assert row["suppressed"] == ["filed", "filed_by_employer", "flagged_not_reported",
                                 "outcome_pending"]
    assert counts_of(row) == (6, 6, 0, 5, 5, None, None, None)  # 4, 4 and 1 hidden
    assert row["outcome_pending"] is None  # 1 hidden
    assert row["outcome_not_investigated"] == 0
    assert row["share_reported"] == 0.8333  # 5 / 6
    assert row["share_of_flagged_reported"] is None  # (6 − hidden 1) / 6
    assert row["share_filed_by_employer"] is None  # hidden 4 / hidden 4
    assert row["median_days_to_filing"] is None  # a median of four hidden filings


def test_police_csv_shows_hidden_cells_blank_and_names_them(client, make, police_small):
    header, *rows = _csv(get(client, make, police_small.hr, POLICE, group_by="category",
                             format="csv", lang="sv"))
    table = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert (table["Hot"]["Händelser"], table["Hot"]["Polisanmälda"]) == ("", "6")
    assert table["Hot"]["Undertryckt"] == "Händelser, Flaggade för anmälan"
    assert table["Våld"]["Flaggade men inte anmälda"] == ""
    assert table["Trakasserier"]["Händelser"] == "7"
    assert table["Trakasserier"]["Undertryckt"] == ""


def test_police_a_hidden_count_is_not_recoverable_from_the_rows_total(client, make, org):
    for day in range(1, 6):
        incident(make, org, org.a1, f"2026-03-{day:02d}T10:00", "threat")
    incident(make, org, org.a1, "2026-03-06T10:00", "harassment")
    row = only_row(stats(client, make, org.hr, POLICE, group_by=""))
    assert row["flagged_for_consideration"] is None  # 1: hidden
    assert row["incidents"] is None or row["flagged"] is None


def test_hr_may_see_unsuppressed_police_figures_and_it_is_audited(client, make, police_small,
                                                                  db_session):
    org = police_small
    before = len(audit_entries(db_session, org.hr))
    body = stats(client, make, org.hr, POLICE, group_by="category", unsuppressed="true")
    assert counts_of(by(body, "category")["violence"]) == (1, 1, 0, 0, 0, 0, 0, 1)
    assert all(row["suppressed"] == [] for row in body["rows"])
    assert body["suppression"]["applied"] is False
    entries = audit_entries(db_session, org.hr)
    assert len(entries) == before + 1
    assert entries[-1].detail.startswith("unsuppressed statistics")
    assert "police" in entries[-1].detail
    assert entries[-1].action == "read"


# =============================================================================================
# Support outcomes.

def measure(db_session, org, inc, type_: str, offered: str, accepted: bool | None = None,
            delivered: str | None = None):
    db_session.add(SupportMeasure(
        incident_id=inc.id, type=type_, offered_at=utc(offered), offered_by_id=org.manager_a.id,
        accepted=accepted, delivered_at=utc(delivered) if delivered else None))
    db_session.commit()


def evaluation(db_session, org, inc, sufficient: str, relevant: str, felt: int):
    db_session.add(SupportEvaluation(
        incident_id=inc.id, sufficient=sufficient, relevant=relevant,
        felt_supported_by_employer=felt, evaluated_by_id=inc.reporter_id or org.hr.id))
    db_session.commit()


def check_in(db_session, inc, offset: str, due: str, completed: str | None = None):
    db_session.add(CheckIn(incident_id=inc.id, offset_label=offset, due_at=utc(due),
                           completed_at=utc(completed) if completed else None))
    db_session.commit()


def reported_at(db_session, inc, created: str, acknowledged: str | None = None):
    """When the incident was reported (created_at) and acknowledged."""
    inc.created_at = utc(created)
    inc.acknowledged_at = utc(acknowledged) if acknowledged else None
    db_session.commit()


def decided(db_session, org, inc, decision: str, at: str):
    db_session.add(PoliceReport(
        incident_id=inc.id, decision=decision, decided_at=utc(at),
        decided_by_id=org.manager_a.id,
        decision_reason="Avstår." if decision == "do_not_report" else None))
    db_session.commit()


def anonymous_report(db_session, org, when: str, category: str = "threat") -> Incident:
    inc, _ = report_and_publish({
        "category": category, "perceived_influence_purpose": "yes",
        "occurred_at": utc(when), "unit_id": org.a1.id,
        "description": "Klienten sa att han vet var jag bor."})
    db_session.commit()
    return inc


@pytest.fixture
def support_cases(make, org, db_session):
    """Five named incidents in avdelning A and one anonymous report, 2026:

    S1 a1 threat      occ 03-02 08:00, reported 09:00, acknowledged 03-03 08:00 (23 h)
       debriefing offered 03-04 08:00 (2 d), accepted, delivered; peer_support offered 03-06,
       declined (accepted false); evaluation yes / yes / 5; police report decided 03-05 09:00
       (3 d); check-ins 1d due 03-03 08:00 done 07:00 (on time), 1w due 03-09 done 03-10
       (late), 1m due 04-02 and 3m due 06-02 not done
    S2 a1 violence    occ 04-06 10:00, reported 12:00, acknowledged 04-07 13:00 (25 h)
       occupational_health offered 04-10 10:00 (4 d), accepted, not delivered; debriefing
       offered 04-11, not answered; do_not_report decided 04-14 12:01 (8 d 1 min: late);
       check-in 1d due 04-07 10:00 done at exactly 10:00 (on time)
    S3 a2 harassment  occ 05-04 10:00, reported 11:00, acknowledged 12:00 (1 h)
       peer_support offered 05-06 09:00 (1 d 23 h → 1), declined; all support declined;
       evaluation partly / no / 2; check-ins 1d due 05-05 10:00 done 09:00 (on time), 3m
       due 12-20 (after NOW) done early on 12-14: not due, so not counted
    S4 a2 threat      occ 06-01 10:00, reported 11:00, never acknowledged
       debriefing offered 06-02 10:00 (1 d), accepted, delivered; debriefing again 06-20,
       accepted, delivered; evaluation no / partly / 3; no police decision
    S6 a1 property_damage occ 09-07 10:00, reported 10:30; nothing else
    S5 anonymous threat in a1, 07-01, with support, an evaluation and a check-in: left out.
    """
    s1 = incident(make, org, org.a1, "2026-03-02T08:00", "threat")
    reported_at(db_session, s1, "2026-03-02T09:00", "2026-03-03T08:00")
    measure(db_session, org, s1, "debriefing", "2026-03-04T08:00", True, "2026-03-05T08:00")
    measure(db_session, org, s1, "peer_support", "2026-03-06T08:00", False)
    evaluation(db_session, org, s1, "yes", "yes", 5)
    decided(db_session, org, s1, "report", "2026-03-05T09:00")
    check_in(db_session, s1, "1d", "2026-03-03T08:00", "2026-03-03T07:00")
    check_in(db_session, s1, "1w", "2026-03-09T08:00", "2026-03-10T08:00")
    check_in(db_session, s1, "1m", "2026-04-02T08:00")
    check_in(db_session, s1, "3m", "2026-06-02T08:00")

    s2 = incident(make, org, org.a1, "2026-04-06T10:00", "violence")
    reported_at(db_session, s2, "2026-04-06T12:00", "2026-04-07T13:00")
    measure(db_session, org, s2, "occupational_health", "2026-04-10T10:00", True)
    measure(db_session, org, s2, "debriefing", "2026-04-11T10:00", None)
    decided(db_session, org, s2, "do_not_report", "2026-04-14T12:01")
    check_in(db_session, s2, "1d", "2026-04-07T10:00", "2026-04-07T10:00")

    s3 = incident(make, org, org.a2, "2026-05-04T10:00", "harassment")
    reported_at(db_session, s3, "2026-05-04T11:00", "2026-05-04T12:00")
    measure(db_session, org, s3, "peer_support", "2026-05-06T09:00", False)
    db_session.add(SupportDecline(incident_id=s3.id, declined_at=utc("2026-05-06T10:00"),
                                  recorded_by_id=org.manager_a.id))
    evaluation(db_session, org, s3, "partly", "no", 2)
    check_in(db_session, s3, "1d", "2026-05-05T10:00", "2026-05-05T09:00")
    check_in(db_session, s3, "3m", "2026-12-20T10:00", "2026-12-14T10:00")

    s4 = incident(make, org, org.a2, "2026-06-01T10:00", "threat")
    reported_at(db_session, s4, "2026-06-01T11:00")
    measure(db_session, org, s4, "debriefing", "2026-06-02T10:00", True, "2026-06-03T10:00")
    measure(db_session, org, s4, "debriefing", "2026-06-20T10:00", True, "2026-06-21T10:00")
    evaluation(db_session, org, s4, "no", "partly", 3)

    s6 = incident(make, org, org.a1, "2026-09-07T10:00", "property_damage")
    reported_at(db_session, s6, "2026-09-07T10:30")

    s5 = anonymous_report(db_session, org, "2026-07-01T10:00")
    s5.acknowledged_at = utc("2026-07-01T11:00")
    db_session.commit()
    measure(db_session, org, s5, "debriefing", "2026-07-01T12:00", True, "2026-07-02T12:00")
    evaluation(db_session, org, s5, "yes", "yes", 1)
    check_in(db_session, s5, "1d", "2026-07-02T10:00", "2026-07-02T09:00")
    return org


def type_counts(row) -> dict:
    return {t: (row[f"{t}_offered"], row[f"{t}_accepted"], row[f"{t}_delivered"])
            for t in SUPPORT_TYPES}


def test_support_figures_by_hand(client, make, support_cases, no_suppression):
    body = stats(client, make, support_cases.hr, SUPPORT)
    row = only_row(body)
    assert row["incidents"] == 5  # S1, S2, S3, S4, S6 (S5 is anonymous)
    assert pick(row, "support_offered", "support_accepted", "support_delivered",
                "support_declined") == {
        "support_offered": 4,  # S1, S2, S3, S4
        "support_accepted": 3,  # S1 (debriefing), S2 (occupational_health), S4
        "support_delivered": 2,  # S1, S4 (S4's two deliveries count once)
        "support_declined": 1,  # S3
    }
    assert type_counts(row) == {
        "debriefing": (3, 2, 2),  # offered S1, S2, S4; accepted and delivered S1, S4
        "occupational_health": (1, 1, 0),  # S2, accepted, not delivered
        "peer_support": (2, 0, 0),  # S1 and S3, both declined
        "safety_measures": (0, 0, 0), "changed_duties": (0, 0, 0),
        "legal_support": (0, 0, 0), "accompaniment": (0, 0, 0), "other": (0, 0, 0),
    }
    assert pick(row, "evaluations", "sufficient_yes", "sufficient_partly", "sufficient_no",
                "relevant_yes", "relevant_partly", "relevant_no") == {
        "evaluations": 3,  # S1, S3, S4
        "sufficient_yes": 1, "sufficient_partly": 1, "sufficient_no": 1,  # S1, S3, S4
        "relevant_yes": 1, "relevant_partly": 1, "relevant_no": 1,  # S1, S4, S3
    }
    assert row["felt_supported_mean"] == 3.33  # (5 + 2 + 3) / 3 = 3.333…
    assert pick(row, "acknowledged", "acknowledged_on_time", "check_ins_due",
                "check_ins_on_time", "police_decisions_due", "police_decisions_on_time") == {
        "acknowledged": 3,  # S1, S2, S3
        "acknowledged_on_time": 2,  # S1 at 23 h, S3 at 1 h; not S2 at 25 h
        "check_ins_due": 6,  # S1 4, S2 1, S3 1 (its 3m is due after NOW)
        "check_ins_on_time": 3,  # S1 1d, S2 1d (at the due time), S3 1d
        "police_decisions_due": 4,  # S1, S2, S4, S6 flagged; S3 harassment is not
        "police_decisions_on_time": 1,  # S1 at 3 d; S2 at 8 d; S4 and S6 none
    }
    assert pick(row, "share_support_offered", "share_support_accepted",
                "share_support_delivered", "share_acknowledged_on_time",
                "share_check_ins_on_time", "share_police_decisions_on_time") == {
        "share_support_offered": 0.8,  # 4 / 5
        "share_support_accepted": 0.75,  # 3 / 4 offered
        "share_support_delivered": 0.5,  # 2 / 4 offered
        "share_acknowledged_on_time": 0.4,  # 2 / 5
        "share_check_ins_on_time": 0.5,  # 3 / 6
        "share_police_decisions_on_time": 0.25,  # 1 / 4
    }
    # First offer: S1 2 d, S2 4 d, S3 1 d 23 h → 1, S4 1 d; sorted 1, 1, 2, 4: (1 + 2) / 2.
    assert row["median_days_to_first_support"] == 1.5
    assert row["suppressed"] == []
    assert any("anonymous" in note for note in body["notes"])


def test_support_by_unit(client, make, support_cases, no_suppression):
    org = support_cases
    body = stats(client, make, org.hr, SUPPORT, group_by="unit", unit_id=org.dept_a.id)
    rows = by(body, "unit_id")
    assert set(rows) == {org.a1.id, org.a2.id}
    a1, a2 = rows[org.a1.id], rows[org.a2.id]
    columns = ("incidents", "support_offered", "support_accepted", "support_delivered",
               "support_declined", "evaluations", "acknowledged", "acknowledged_on_time",
               "police_decisions_due", "police_decisions_on_time")
    assert pick(a1, *columns) == dict(zip(columns, (
        3,  # S1, S2, S6
        2, 2, 1,  # offered S1, S2; accepted S1, S2; delivered S1
        0, 1,  # declined none; evaluated S1
        2, 1,  # acknowledged S1, S2; on time S1
        3, 1,  # flagged S1, S2, S6; on time S1
    ), strict=True))
    assert pick(a2, *columns) == dict(zip(columns, (
        2,  # S3, S4
        2, 1, 1,  # offered S3, S4; accepted and delivered S4
        1, 2,  # declined S3; evaluated S3, S4
        1, 1,  # S3 at 1 h
        1, 0,  # S4 flagged, no decision
    ), strict=True))
    assert a1["share_check_ins_on_time"] == 0.4  # 2 / 5 (the counts: the next test)
    assert a2["share_check_ins_on_time"] == 1.0  # 1 / 1
    assert a1["felt_supported_mean"] == 5.0  # S1
    assert a2["felt_supported_mean"] == 2.5  # (2 + 3) / 2
    assert a1["median_days_to_first_support"] == 3.0  # S1 2, S2 4: (2 + 4) / 2
    assert a2["median_days_to_first_support"] == 1.0  # S3 1, S4 1
    assert a1["unit_name"] == "Enhet A1"


def test_support_check_ins_by_unit_are_the_same_numbers_on_both_databases(
    client, make, support_cases, no_suppression
):
    org = support_cases
    body = stats(client, make, org.hr, SUPPORT, group_by="unit", unit_id=org.dept_a.id)
    rows = by(body, "unit_id")
    assert pick(rows[org.a1.id], "check_ins_due", "check_ins_on_time") == {
        "check_ins_due": 5,  # S1 4 + S2 1
        "check_ins_on_time": 2,  # S1's 1d, S2's 1d (at the due time)
    }
    assert pick(rows[org.a2.id], "check_ins_due", "check_ins_on_time") == {
        "check_ins_due": 1,  # S3's 1d; its 3m is due after NOW
        "check_ins_on_time": 1,
    }


def test_support_by_tertial(client, make, support_cases, no_suppression):
    body = stats(client, make, support_cases.hr, SUPPORT, group_by="tertial")
    rows = by(body, "tertial")
    assert {t: (r["incidents"], r["support_offered"], r["evaluations"])
            for t, r in rows.items()} == {
        "2026-T1": (2, 2, 1),  # S1 (March), S2 (April)
        "2026-T2": (2, 2, 2),  # S3 (May), S4 (June); S5 in July is anonymous
        "2026-T3": (1, 0, 0),  # S6 (September)
    }


def test_two_measures_on_one_incident_count_once(client, make, org, db_session,
                                                 no_suppression):
    inc = incident(make, org, org.a1, "2026-03-02T08:00")
    measure(db_session, org, inc, "debriefing", "2026-03-02T09:00", True, "2026-03-02T10:00")
    measure(db_session, org, inc, "debriefing", "2026-03-09T09:00", True, "2026-03-09T10:00")
    measure(db_session, org, inc, "safety_measures", "2026-03-03T09:00", True,
            "2026-03-04T09:00")
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert (row["support_offered"], row["support_accepted"], row["support_delivered"]) == (
        1, 1, 1)  # three measures, one incident
    assert type_counts(row)["debriefing"] == (1, 1, 1)  # two debriefings, one incident
    assert type_counts(row)["safety_measures"] == (1, 1, 1)
    assert row["median_days_to_first_support"] == 0.0  # the first offer, 1 h after


def test_acknowledged_within_24_hours_counts_as_on_time(client, make, org, db_session,
                                                         no_suppression):
    on_time = incident(make, org, org.a1, "2026-03-02T08:00")
    reported_at(db_session, on_time, "2026-03-02T09:00", "2026-03-03T08:00")  # 23 h
    late = incident(make, org, org.a1, "2026-03-02T08:00")
    reported_at(db_session, late, "2026-03-02T09:00", "2026-03-03T10:00")  # 25 h
    incident(make, org, org.a1, "2026-03-02T08:00")  # not acknowledged
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert (row["incidents"], row["acknowledged"], row["acknowledged_on_time"]) == (3, 2, 1)
    assert row["share_acknowledged_on_time"] == 0.3333  # 1 / 3


def test_check_ins_on_time_of_those_due(client, make, org, db_session, no_suppression):
    inc = incident(make, org, org.a1, "2026-03-02T08:00")
    check_in(db_session, inc, "1d", "2026-03-03T08:00", "2026-03-03T08:00")  # at the due time
    check_in(db_session, inc, "1w", "2026-03-09T08:00", "2026-03-09T08:01")  # a minute late
    check_in(db_session, inc, "1m", "2026-04-02T08:00")  # never
    check_in(db_session, inc, "3m", "2026-12-16T08:00", "2026-12-14T08:00")  # due tomorrow
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert (row["check_ins_due"], row["check_ins_on_time"]) == (3, 1)
    assert row["share_check_ins_on_time"] == 0.3333  # 1 / 3


def test_police_decisions_on_time_within_seven_days_of_flagged_reports(
    client, make, org, db_session, no_suppression
):
    threat = incident(make, org, org.a1, "2026-03-02T08:00", "threat")
    reported_at(db_session, threat, "2026-03-02T09:00")
    decided(db_session, org, threat, "report", "2026-03-09T08:00")  # 6 d 23 h
    violence = incident(make, org, org.a1, "2026-03-02T08:00", "violence")
    reported_at(db_session, violence, "2026-03-02T09:00")
    decided(db_session, org, violence, "report", "2026-03-09T10:00")  # 7 d 1 h
    harassment = incident(make, org, org.a1, "2026-03-02T08:00", "harassment")
    reported_at(db_session, harassment, "2026-03-02T09:00")
    decided(db_session, org, harassment, "do_not_report", "2026-03-03T09:00")  # not flagged
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert (row["police_decisions_due"], row["police_decisions_on_time"]) == (2, 1)


def test_anonymous_reports_are_left_out_of_support(client, make, org, db_session,
                                                    no_suppression):
    named = incident(make, org, org.a1, "2026-03-02T08:00")
    reported_at(db_session, named, "2026-03-02T09:00")  # its police decision is long overdue
    anon = anonymous_report(db_session, org, "2026-03-03T08:00")
    measure(db_session, org, anon, "debriefing", "2026-03-03T09:00", True, "2026-03-03T10:00")
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert (row["incidents"], row["support_offered"], row["police_decisions_due"]) == (1, 0, 1)
    assert row["median_days_to_first_support"] is None


def test_support_figures_from_a_case_followed_up_through_the_api(client, make, org, clock,
                                                                 no_suppression):
    start = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    clock.move_to(start)
    eh = make.headers(org.employee_a1)
    ids = []
    for category in ("threat", "harassment"):
        created = client.post("/api/v1/incidents", headers=eh, json={
            "category": category, "perceived_influence_purpose": "yes",
            "occurred_at": (start - timedelta(hours=2)).isoformat(),  # 06:00 UTC
            "unit_id": org.a1.id, "description": "Klienten hotade mig i receptionen."})
        assert created.status_code == 201, created.get_json()
        ids.append(created.get_json()["id"])
    threat, harassment = (f"/api/v1/incidents/{i}" for i in ids)

    clock.move_to(start + timedelta(hours=23))  # 04-02 07:00
    mh = make.headers(org.manager_a)
    assert client.post(f"{threat}/acknowledge", headers=mh).status_code == 200
    assert client.post(f"{threat}/support-measures", headers=mh, json={
        "type": "debriefing", "accepted": True,
        "delivered_at": (start + timedelta(hours=23)).isoformat()}).status_code == 201
    assert client.put(f"{threat}/police-report", headers=mh, json={
        "decision": "report", "filed_by": "employee"}).status_code == 200  # 23 h: on time
    check_ins = client.get(f"{threat}/check-ins", headers=mh).get_json()
    # Due on the wall clock from 08:00 local (06:00 UTC): 04-02, 04-08, 05-01, 07-01.
    assert [c["offset"] for c in check_ins] == ["1d", "1w", "1m", "3m"]
    done = client.post(f"{threat}/check-ins/{check_ins[0]['id']}/complete", headers=mh,
                       json={"note": "Sover dåligt."})
    assert done.status_code == 200  # an hour after its due time: late

    clock.move_to(start + timedelta(hours=25))  # 04-02 09:00
    mh = make.headers(org.manager_a)
    assert client.post(f"{harassment}/acknowledge", headers=mh).status_code == 200
    assert client.put(f"{harassment}/support-declined", headers=mh,
                      json={"note": "Vill inte ha stöd."}).status_code == 201

    clock.move_to(datetime(2026, 4, 7, 9, 0, tzinfo=UTC))
    mh, eh = make.headers(org.manager_a), make.headers(org.employee_a1)
    done = client.post(f"{threat}/check-ins/{check_ins[1]['id']}/complete", headers=mh,
                       json={"note": "Bättre."})
    assert done.status_code == 200  # before 04-08: on time
    evaluated = client.put(f"{threat}/support-evaluation", headers=eh, json={
        "sufficient": "partly", "relevant": "yes", "felt_supported_by_employer": 4})
    assert evaluated.status_code == 201, evaluated.get_json()

    clock.move_to(NOW)
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert pick(row, "incidents", "support_offered", "support_accepted", "support_delivered",
                "support_declined", "debriefing_offered", "debriefing_delivered",
                "evaluations", "sufficient_partly", "relevant_yes", "felt_supported_mean",
                "acknowledged", "acknowledged_on_time", "check_ins_due",
                "check_ins_on_time", "police_decisions_due", "police_decisions_on_time",
                "median_days_to_first_support") == {
        "incidents": 2,
        "support_offered": 1, "support_accepted": 1, "support_delivered": 1,  # the threat
        "support_declined": 1,  # the harassment
        "debriefing_offered": 1, "debriefing_delivered": 1,
        "evaluations": 1, "sufficient_partly": 1, "relevant_yes": 1,
        "felt_supported_mean": 4.0,
        "acknowledged": 2,
        "acknowledged_on_time": 1,  # the threat at 23 h; the harassment at 25 h
        "check_ins_due": 8,  # 4 + 4, all due by December
        "check_ins_on_time": 1,  # the threat's 1w
        "police_decisions_due": 1,  # the threat; harassment is not flagged
        "police_decisions_on_time": 1,  # decided 23 h after the report
        "median_days_to_first_support": 1.0,  # 04-01 06:00 → 04-02 07:00: 1 d 1 h
    }


# ---------------------------------------------------------------------------------------------
# Support: disclosure control (default threshold 5).

def test_support_suppresses_counts_from_1_to_4(client, make, support_cases):
    row = only_row(stats(client, make, support_cases.hr, SUPPORT))
    hidden = {
        "support_offered", "support_accepted", "support_delivered", "support_declined",  # 4 3 2 1
        "evaluations", "sufficient_yes", "sufficient_partly", "sufficient_no",  # 3 1 1 1
        "relevant_yes", "relevant_partly", "relevant_no",  # 1 1 1
        "acknowledged", "acknowledged_on_time", "check_ins_on_time",  # 3 2 3
        "police_decisions_due", "police_decisions_on_time",  # 4 1
        "debriefing_offered", "debriefing_accepted", "debriefing_delivered",  # 3 2 2
        "occupational_health_offered", "occupational_health_accepted",  # 1 1
        "peer_support_offered",  # 2
    }
    assert set(row["suppressed"]) == hidden
    assert all(row[column] is None for column in hidden)
    assert row["incidents"] == 5  # 5 is published
    assert row["check_ins_due"] == 6
    assert row["occupational_health_delivered"] == 0  # 0 is published
    assert row["safety_measures_offered"] == 0
    # Everything derived from a hidden count is hidden.
    for share in ("share_support_offered", "share_support_accepted", "share_support_delivered",
                  "share_acknowledged_on_time", "share_check_ins_on_time",
                  "share_police_decisions_on_time"):
        assert row[share] is None, share
    assert row["felt_supported_mean"] is None  # over 3 hidden evaluations
    assert row["median_days_to_first_support"] is None  # over 4 hidden offers


def test_support_a_hidden_rating_is_not_recoverable_from_the_evaluations(client, make, org,
                                                                         db_session):
    for day in range(1, 7):
        inc = incident(make, org, org.a1, f"2026-03-{day:02d}T08:00")
        evaluation(db_session, org, inc, "yes" if day == 1 else "partly", "yes", 4)
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert row["sufficient_yes"] is None  # 1: hidden
    assert row["evaluations"] is None or row["sufficient_partly"] is None


def test_hr_may_see_unsuppressed_support_figures_and_it_is_audited(client, make,
                                                                   support_cases, db_session):
    org = support_cases
    before = len(audit_entries(db_session, org.hr))
    row = only_row(stats(client, make, org.hr, SUPPORT, unsuppressed="true"))
    assert (row["support_offered"], row["support_declined"], row["suppressed"]) == (4, 1, [])
    entries = audit_entries(db_session, org.hr)
    assert len(entries) == before + 1
    assert entries[-1].detail.startswith("unsuppressed statistics")
    assert "support" in entries[-1].detail


# ---------------------------------------------------------------------------------------------
# Support: formats.

def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_support_csv_in_swedish(client, make, support_cases, no_suppression):
    response = get(client, make, support_cases.hr, SUPPORT, format="csv", lang="sv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = _csv(response)
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Händelser"] == "5"
    assert row["Stöd erbjudet"] == "4"
    assert row["Stöd accepterat"] == "3"
    assert row["Stöd givet"] == "2"
    assert row["Stöd avböjt"] == "1"
    assert row["Utvärderingar"] == "3"
    assert row["Mottagna i tid"] == "2"
    assert row["Polisbeslut att fatta"] == "4"
    assert float(row["Andel med stöd erbjudet"]) == 0.8
    assert float(row["Kände stöd, medel (1–5)"]) == 3.33
    assert float(row["Median dagar till första stöd"]) == 1.5
    assert row["Undertryckt"] == ""  # nothing suppressed: the list is empty


def test_support_csv_in_english_by_default(client, make, support_cases, no_suppression):
    header, *rows = _csv(get(client, make, support_cases.hr, SUPPORT, format="csv"))
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Support offered"], row["Support declined"]) == ("4", "1")


def test_support_xlsx(client, make, support_cases, no_suppression):
    org = support_cases
    response = get(client, make, org.hr, SUPPORT, format="xlsx", lang="sv",
                   group_by="unit", unit_id=org.dept_a.id)
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    workbook = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Stöd"
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Enhets-id", "Enhet", "Händelser")
    table = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(table) == {"Enhet A1", "Enhet A2"}
    assert table["Enhet A1"]["Händelser"] == 3  # S1, S2, S6
    assert table["Enhet A1"]["Stöd erbjudet"] == 2  # S1, S2
    assert table["Enhet A2"]["Stöd avböjt"] == 1  # S3
    assert table["Enhet A2"]["Kände stöd, medel (1–5)"] == 2.5  # (2 + 3) / 2
    assert "Om" in workbook.sheetnames


def test_police_csv_and_xlsx_in_swedish(client, make, police_cases, no_suppression):
    org = police_cases
    header, *rows = _csv(get(client, make, org.hr, POLICE, format="csv", lang="sv",
                             group_by=""))
    row = dict(zip(header, rows[0], strict=True))
    assert (row["Händelser"], row["Flaggade men inte anmälda"], row["Polisanmälda"]) == (
        "8", "2", "5")
    assert float(row["Median dagar till anmälan"]) == 3.0
    workbook = openpyxl.load_workbook(io.BytesIO(
        get(client, make, org.hr, POLICE, format="xlsx", lang="sv", group_by="").data))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Polisanmälan"
    header, values = list(sheet.iter_rows(values_only=True))
    assert dict(zip(header, values, strict=True))["Anmälda av arbetsgivaren"] == 3


# =============================================================================================
# Who may see what, and bad input (both endpoints).

ENDPOINTS = pytest.mark.parametrize("url", [POLICE, SUPPORT])


@pytest.fixture
def spread(make, org):
    """One named threat in a1 and one in b1."""
    incident(make, org, org.a1, "2026-03-02T08:00")
    incident(make, org, org.b1, "2026-03-03T08:00")
    return org


@ENDPOINTS
def test_hr_sees_everything(client, make, spread, url, no_suppression):
    body = stats(client, make, spread.hr, url, group_by="")
    assert only_row(body)["incidents"] == 2  # a1 and b1
    assert body["filters"]["units"] == [{"unit_id": spread.root.id, "unit_name": "Staden"}]


@ENDPOINTS
def test_a_manager_sees_the_units_they_lead(client, make, spread, url, no_suppression):
    body = stats(client, make, spread.manager_a, url, group_by="")
    assert only_row(body)["incidents"] == 1  # a1's; not b1's
    assert body["filters"]["units"] == [{"unit_id": spread.dept_a.id,
                                         "unit_name": "Avdelning A"}]
    a1 = stats(client, make, spread.manager_a, url, group_by="", unit_id=spread.a1.id)
    assert only_row(a1)["incidents"] == 1
    for unit in (spread.b1, spread.forv):
        response = client.get(url, query_string={"unit_id": unit.id},
                              headers=make.headers(spread.manager_a))
        assert response.status_code == 403, unit.name
        assert "unit_id" in response.get_json()["errors"]
    mine = stats(client, make, spread.manager_b1, url, group_by="")
    assert only_row(mine)["incidents"] == 1  # b1's


@ENDPOINTS
def test_a_manager_may_not_ask_for_unsuppressed_figures(client, make, spread, url,
                                                        db_session):
    response = client.get(url, query_string={"unsuppressed": "true"},
                          headers=make.headers(spread.manager_a))
    assert response.status_code == 403
    assert "unsuppressed" in response.get_json()["errors"]
    assert not [e for e in audit_entries(db_session, spread.manager_a)
                if (e.detail or "").startswith("unsuppressed statistics")]


@pytest.mark.parametrize(("url", "params", "name"), [
    (POLICE, {"group_by": "location"}, "group_by"),
    (POLICE, {"group_by": "category,perpetrator"}, "group_by"),
    (POLICE, {"format": "pdf"}, "format"),
    (POLICE, {"lang": "de"}, "lang"),
    (POLICE, {"unsuppressed": "maybe"}, "unsuppressed"),
    (POLICE, {"from": "2026-05-01", "to": "2026-04-30"}, "to"),
    (SUPPORT, {"group_by": "category"}, "group_by"),
    (SUPPORT, {"format": "pdf"}, "format"),
    (SUPPORT, {"from": "not-a-date"}, "from"),
])
def test_bad_input_is_422_naming_the_field(client, make, org, url, params, name):
    response = client.get(url, query_string=params, headers=make.headers(org.hr))
    assert response.status_code == 422, params
    assert name in response.get_json()["errors"], response.get_json()


def test_a_police_decision_not_yet_due_is_not_counted_as_due(client, make, org, db_session,
                                                             no_suppression):
    """Like check-ins: a flagged incident counts as due once decided or once its deadline
    (POLICE_DECISION_DAYS after the report) has passed by now; reported just now, it is not."""
    incident(make, org, org.a1, "2026-03-02T08:00")  # reported now (the frozen clock)
    row = only_row(stats(client, make, org.hr, SUPPORT))
    assert (row["police_decisions_due"], row["police_decisions_on_time"]) == (0, 0)
