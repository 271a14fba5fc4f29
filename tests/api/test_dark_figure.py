"""IA counts and GET /api/v1/stats/dark-figure: the three estimates, reproduced by hand.

The small world below (avdelning A = A1 + A2, avdelning B = B1) is used by most tests. Its
figures, worked out by hand:

Incidents (occurred; times UTC; Stockholm is UTC+1 in winter):

  #   unit  forms               occurred            IA ref  police decision
  1   A1    threat              2026-01-10 10:00    IA-1    report
  2   A1    threat              2026-01-11 10:00    IA-2    report
  3   A1    threat              2026-01-12 10:00    IA-3    report
  4   A2    threat              2026-01-13 10:00    -       report
  5   A2    threat + violence   2026-01-14 10:00    -       report
  6   A2    violence            2026-01-15 10:00    -       do_not_report
  7   A1    violence            2026-01-16 10:00    -       -
  8   A2    property_damage     2026-01-17 10:00    -       -
  9   A1    harassment          2026-01-18 10:00    -       report (not flagged)
  10  A2    harassment          2026-01-19 10:00    "" (empty, does not count)
  11  A     harassment          2026-01-20 10:00    -       -
  12  A2    harassment          2025-12-31 23:30    -       -     (1 January, local)
  13  A1    threat              2026-01-31 23:30    IA-4    -     (1 February, local)
  14  B1    threat              2026-01-15 10:00    IA-5    -     (other subtree)
  15  A2    violence            2024-06-01 10:00    -       -     (before the survey's period)
  16  A1    threat              2026-02-28 10:00    -       -     (after the survey closed)

IA counts: A1 January 6, A2 January 4 (n2 = 10 for A in January); outside: B1 January 7,
A1 December 2025 5, A1 February 2026 3.

A in January (from 2026-01-01 to 2026-01-31): incidents 1–12, so n1 = 12, m = 3 (1–3),
n2 = 6 + 4 = 10. Chapman: N̂ = 13·11/4 − 1 = 34.75 → 34.8; Var = 13·11·9·7/(4²·5) = 112.6125
→ 112.6; N̂ ± 1.96·10.612 = [13.95, 55.55], the lower bound raised to the 12 + 10 − 3 = 19
seen: [19.0, 55.5]; D = 34.75 − 19 = 15.75 → 15.8, [0.0, 36.5].
Police: flagged 1–8 = 8, reported 1–5 = 5, not reported 3; share 3/8 = 0.375, Wilson
[0.1368, 0.6943].

The survey covers A (A1, A2), closes 2026-02-28 00:00 local, asks about 18 months: from
2024-08-28 00:00 local. R per form over incidents 1–13: threat 6 (1–5, 13), violence 3
(5–7), property damage 1, harassment 4 (9–12), corruption 0. Six respondents (see ANSWERS):
threat exposed 5, times 12, reported 6; violence 2, 2, 1; property damage 0; harassment 4, 11,
1; corruption 0.
  threat: exposure 5/6 = 0.8333 [0.4365, 0.9699]; r = 6/12 = 0.5 [0.2538, 0.7462];
          N̂ = 6/0.5 = 12.0 [6/0.7462, 6/0.2538] = [8.0, 23.6]; D = 6.0 [2.0, 17.6];
          dark share 0.5 [0.2538, 0.7462].
  violence: exposure 2/6 = 0.3333 [0.0968, 0.7]; r = 1/2 = 0.5 [0.0945, 0.9055];
          N̂ = 3/0.5 = 6.0 [3.3, 31.7]; D = 3.0 [0.3, 28.7].
  harassment: exposure 4/6 = 0.6667 [0.3, 0.9032]; r = 1/11 = 0.0909 [0.0162, 0.3774];
          N̂ = 4·11 = 44.0 [10.6, 246.4]; D = 40.0 [6.6, 242.4]; dark share 0.9091
          [0.6226, 0.9838].
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from incidents.models import AuditEntry, PoliceReport

SETUP = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
OPENS = datetime(2026, 2, 3, 8, 0, tzinfo=UTC)
CLOSES = datetime(2026, 2, 27, 23, 0, tzinfo=UTC)  # 2026-02-28 00:00 in Stockholm
DURING = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # incidents reported, statistics read

FORMS = ("harassment", "threat", "violence", "property_damage", "corruption")
COUNT_KEYS = {"respondents", "exposed", "survey_incidents", "survey_reported", "registered",
              "n1", "n2", "m", "flagged", "reported", "not_reported", "numerator", "denominator"}


def _no(form=None):
    return {"exposed": False, "times": 0, "reported": 0}


def _yes(times, reported):
    return {"exposed": True, "times": times, "reported": reported}


# One dict per respondent: form → (times, reported) when exposed.
ANSWERS = [
    {"threat": (4, 2), "violence": (1, 1), "harassment": (5, 0)},
    {"threat": (3, 2), "violence": (1, 0), "harassment": (3, 1)},
    {"threat": (2, 1), "harassment": (2, 0)},
    {"threat": (1, 1)},
    {"harassment": (1, 0)},
    {"threat": (2, 0)},
]


def _body(exposed: dict) -> dict:
    return {"answers": {f: _yes(*exposed[f]) if f in exposed else _no() for f in FORMS}}


def _at(year, month, day, hour=10, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _incident(make, db_session, reporter, unit, occurred_at, category="threat", *,
              additional=(), ia_reference=None, decision=None):
    incident = make.incident(
        reporter, unit, category=category, occurred_at=occurred_at,
        additional_categories=list(additional),
        ia_reported=ia_reference is not None, ia_reference=ia_reference,
    )
    if decision is not None:
        db_session.add(PoliceReport(incident_id=incident.id, decision=decision))
        db_session.commit()
    return incident


def _put_ia(client, make, user, unit, start, end, count):
    return client.put("/api/v1/ia-counts", headers=make.headers(user), json={
        "unit_id": unit.id, "period_start": start, "period_end": end, "count": count})


@pytest.fixture
def world(client, make, org, db_session):
    with freeze_time(SETUP):
        r = client.post("/api/v1/surveys", headers=make.headers(org.hr), json={
            "title": "Utsatthet vintern 2026", "unit_ids": [org.dept_a.id],
            "opens_at": OPENS.isoformat(), "closes_at": CLOSES.isoformat()})
        assert r.status_code == 201, r.get_json()
        survey = r.get_json()
        respondents = [org.employee_a1, org.colleague_a1, org.manager_a,
                       *(make.user("employee", unit=org.a2) for _ in range(3))]
    with freeze_time(DURING):
        for person, exposed in zip(respondents, ANSWERS, strict=True):
            r = client.post(f"/api/v1/surveys/{survey['id']}/responses", json=_body(exposed),
                            headers=make.headers(person))
            assert r.status_code == 201, r.get_json()

    with freeze_time(NOW):
        def add(unit, when, category="threat", **kwargs):
            return _incident(make, db_session, org.employee_a1, unit, when, category, **kwargs)

        add(org.a1, _at(2026, 1, 10), ia_reference="IA-1", decision="report")
        add(org.a1, _at(2026, 1, 11), ia_reference="IA-2", decision="report")
        add(org.a1, _at(2026, 1, 12), ia_reference="IA-3", decision="report")
        add(org.a2, _at(2026, 1, 13), decision="report")
        add(org.a2, _at(2026, 1, 14), additional=["violence"], decision="report")
        add(org.a2, _at(2026, 1, 15), "violence", decision="do_not_report")
        add(org.a1, _at(2026, 1, 16), "violence")
        add(org.a2, _at(2026, 1, 17), "property_damage")
        add(org.a1, _at(2026, 1, 18), "harassment", decision="report")
        add(org.a2, _at(2026, 1, 19), "harassment", ia_reference="")
        add(org.dept_a, _at(2026, 1, 20), "harassment")
        add(org.a2, _at(2025, 12, 31, 23, 30), "harassment")
        add(org.a1, _at(2026, 1, 31, 23, 30), ia_reference="IA-4")
        add(org.b1, _at(2026, 1, 15), ia_reference="IA-5")
        add(org.a2, _at(2024, 6, 1), "violence")
        add(org.a1, _at(2026, 2, 28))

        for unit, start, end, count in [
            (org.a1, "2026-01-01", "2026-01-31", 6),
            (org.a2, "2026-01-01", "2026-01-31", 4),
            (org.b1, "2026-01-01", "2026-01-31", 7),
            (org.a1, "2025-12-01", "2025-12-31", 5),
            (org.a1, "2026-02-01", "2026-02-28", 3),
        ]:
            assert _put_ia(client, make, org.hr, unit, start, end, count).status_code == 201
    return SimpleNamespace(survey=survey, org=org)


def _get(client, make, user, **params):
    with freeze_time(NOW):
        headers = make.headers(user) if user else {}
        return client.get("/api/v1/stats/dark-figure", query_string=params, headers=headers)


def _january(client, make, user, unit, **params):
    r = _get(client, make, user, unit_id=unit.id, **{"from": "2026-01-01", "to": "2026-01-31"},
             **params)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def _form(body, category):
    return next(form for form in body["survey"]["forms"] if form["category"] == category)


def _counts(node, path=""):
    """Every count in a response, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in COUNT_KEYS and not isinstance(value, dict | list):
                yield f"{path}.{key}", value
            yield from _counts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _counts(value, f"{path}[{i}]")


# -- two registers ------------------------------------------------------------------------


def test_two_registers_reproduce_the_hand_calculation(client, make, world):
    org = world.org
    body = _january(client, make, org.hr, org.dept_a, unsuppressed="true")
    registers = body["two_registers"]
    assert registers["method"] == "Chapman's estimator (two-sample capture–recapture)"
    assert (registers["n1"], registers["n2"], registers["m"]) == (12, 10, 3)
    assert registers["ia_counts"] == {"entries": 2, "first_day": "2026-01-01",
                                      "last_day": "2026-01-31"}
    assert registers["estimated_total"] == {"value": 34.8, "ci95": [19.0, 55.5]}
    assert registers["dark_figure"] == {"value": 15.8, "ci95": [0.0, 36.5]}
    assert registers["variance"] == 112.6
    assert len(registers["assumptions"]) == 4
    assert registers["suppressed"] is False
    assert body["filters"] == {"from": "2026-01-01", "to": "2026-01-31",
                               "unit_ids": [org.dept_a.id], "survey_id": world.survey["id"]}


def test_two_registers_with_a_small_overlap_are_suppressed(client, make, world):
    org = world.org
    registers = _january(client, make, org.hr, org.dept_a)["two_registers"]
    # m = 3 is below 5: it and the estimates that use it are blanked.
    assert (registers["n1"], registers["n2"], registers["m"]) == (12, 10, None)
    assert registers["estimated_total"] is None and registers["dark_figure"] is None
    assert registers["variance"] is None
    assert registers["suppressed"] is True


def test_the_suppression_threshold_is_a_setting(app, client, make, world, monkeypatch):
    org = world.org
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 3)
    body = _january(client, make, org.hr, org.dept_a)
    assert body["suppression"]["threshold"] == 3
    assert body["two_registers"]["m"] == 3  # 3 is published at threshold 3
    assert body["two_registers"]["estimated_total"]["value"] == 34.8
    violence = _form(body, "violence")
    assert (violence["exposed"], violence["survey_incidents"], violence["survey_reported"],
            violence["registered"]) == (None, None, None, 3)
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 1)
    body = _january(client, make, org.hr, org.dept_a)
    assert not any(block["suppressed"] for block in
                   (body["survey"], body["two_registers"], body["police"]))


def test_without_ia_counts_for_the_period_there_is_no_estimate(client, make, world):
    org = world.org
    r = _get(client, make, org.hr, unit_id=org.dept_a.id, **{"from": "2025-06-01",
                                                             "to": "2025-06-30"})
    registers = r.get_json()["two_registers"]
    assert (registers["n1"], registers["n2"], registers["m"]) == (0, None, 0)
    assert registers["estimated_total"] is None
    assert "no IA counts" in registers["note"]
    police = r.get_json()["police"]
    assert police["flagged"] == 0 and police["share_not_reported"]["value"] is None
    assert "denominator is 0" in police["share_not_reported"]["note"]


def test_no_overlap_gives_an_explained_null(client, make, world):
    org = world.org
    registers = _january(client, make, org.hr, org.a2, unsuppressed="true")["two_registers"]
    assert (registers["n1"], registers["n2"], registers["m"]) == (6, 4, 0)
    assert registers["estimated_total"] == {"value": None, "ci95": None}
    assert "m = 0" in registers["note"]


def test_more_overlap_than_ia_holds_gives_an_explained_null(client, make, world):
    org = world.org
    with freeze_time(NOW):
        replaced = _put_ia(client, make, org.hr, org.a1, "2026-01-01", "2026-01-31", 2)
    assert replaced.status_code == 200 and replaced.get_json()["count"] == 2
    registers = _january(client, make, org.hr, org.a1, unsuppressed="true")["two_registers"]
    assert (registers["n1"], registers["n2"], registers["m"]) == (5, 2, 3)
    assert registers["estimated_total"] is None
    assert "more incidents here carry an IA reference" in registers["note"]


# -- police -------------------------------------------------------------------------------


def test_police_dark_figure_reproduces_the_hand_calculation(client, make, world):
    org = world.org
    police = _january(client, make, org.hr, org.dept_a, unsuppressed="true")["police"]
    assert police["method"].startswith("Share of incidents flagged for police reporting")
    assert (police["flagged"], police["reported"], police["not_reported"]) == (8, 5, 3)
    assert police["share_not_reported"]["value"] == 0.375
    assert police["share_not_reported"]["ci95"] == [0.1368, 0.6943]
    assert police["suppressed"] is False


def test_police_suppression_also_hides_the_count_that_would_give_it_away(client, make, world):
    org = world.org
    police = _january(client, make, org.hr, org.dept_a)["police"]
    # not reported (3) is small; with 8 flagged published, 5 reported would reveal it.
    assert (police["flagged"], police["reported"], police["not_reported"]) == (8, None, None)
    assert police["share_not_reported"] is None
    assert police["suppressed"] is True


# -- the survey ---------------------------------------------------------------------------


def test_survey_estimate_reproduces_the_hand_calculation(client, make, world):
    org = world.org
    survey = _january(client, make, org.hr, org.dept_a, unsuppressed="true")["survey"]
    assert survey["method"].startswith("Survey reporting rate")
    assert survey["survey"]["id"] == world.survey["id"]
    assert survey["survey"]["reference_start"] == "2024-08-27T22:00:00+00:00"
    assert survey["respondents"] == 6
    assert [f["category"] for f in survey["forms"]] == list(FORMS)

    threat = _form({"survey": survey}, "threat")
    assert (threat["respondents"], threat["exposed"], threat["survey_incidents"],
            threat["survey_reported"], threat["registered"]) == (6, 5, 12, 6, 6)
    assert threat["exposure_rate"]["value"] == 0.8333
    assert threat["exposure_rate"]["ci95"] == [0.4365, 0.9699]
    assert threat["reporting_rate"]["value"] == 0.5
    assert threat["reporting_rate"]["ci95"] == [0.2538, 0.7462]
    assert threat["estimated_total"] == {"value": 12.0, "ci95": [8.0, 23.6]}
    assert threat["dark_figure"] == {"value": 6.0, "ci95": [2.0, 17.6]}
    assert threat["dark_share"] == {"value": 0.5, "ci95": [0.2538, 0.7462]}
    assert threat["label"] == {"sv": "Hot", "en": "Threat"}

    violence = _form({"survey": survey}, "violence")
    assert (violence["exposed"], violence["survey_incidents"], violence["survey_reported"],
            violence["registered"]) == (2, 2, 1, 3)
    assert violence["exposure_rate"]["ci95"] == [0.0968, 0.7]
    assert violence["reporting_rate"]["ci95"] == [0.0945, 0.9055]
    assert violence["estimated_total"] == {"value": 6.0, "ci95": [3.3, 31.7]}
    assert violence["dark_figure"] == {"value": 3.0, "ci95": [0.3, 28.7]}

    harassment = _form({"survey": survey}, "harassment")
    assert (harassment["exposed"], harassment["survey_incidents"],
            harassment["survey_reported"], harassment["registered"]) == (4, 11, 1, 4)
    assert harassment["exposure_rate"]["value"] == 0.6667
    assert harassment["reporting_rate"]["value"] == 0.0909
    assert harassment["estimated_total"] == {"value": 44.0, "ci95": [10.6, 246.4]}
    assert harassment["dark_figure"] == {"value": 40.0, "ci95": [6.6, 242.4]}
    assert harassment["dark_share"] == {"value": 0.9091, "ci95": [0.6226, 0.9838]}

    damage = _form({"survey": survey}, "property_damage")
    assert (damage["exposed"], damage["survey_incidents"], damage["registered"]) == (0, 0, 1)
    assert damage["exposure_rate"]["ci95"] == [0.0, 0.3903]
    assert damage["estimated_total"] == {"value": None, "ci95": None}
    assert "r is undefined" in damage["note"]

    corruption = _form({"survey": survey}, "corruption")
    assert (corruption["exposed"], corruption["survey_incidents"],
            corruption["registered"]) == (0, 0, 0)


def test_survey_figures_from_small_counts_are_suppressed(client, make, world):
    org = world.org
    body = _january(client, make, org.hr, org.dept_a)
    survey = body["survey"]
    assert survey["suppressed"] is True and survey["respondents"] == 6

    threat = _form(body, "threat")  # every count 5 or more: published in full
    assert threat["suppressed"] is False
    assert threat["estimated_total"] == {"value": 12.0, "ci95": [8.0, 23.6]}

    violence = _form(body, "violence")
    assert violence["suppressed"] is True
    assert (violence["respondents"], violence["exposed"], violence["survey_incidents"],
            violence["survey_reported"], violence["registered"]) == (6, None, None, None, None)
    for figure in ("exposure_rate", "reporting_rate", "estimated_total", "dark_figure",
                   "dark_share"):
        assert violence[figure] is None

    harassment = _form(body, "harassment")
    assert (harassment["exposed"], harassment["survey_incidents"],
            harassment["survey_reported"], harassment["registered"]) == (None, 11, None, None)
    assert harassment["exposure_rate"] is None and harassment["reporting_rate"] is None
    assert harassment["dark_share"] is None

    damage = _form(body, "property_damage")  # R = 1 is hidden; the zeros are published
    assert (damage["exposed"], damage["registered"], damage["suppressed"]) == (0, None, True)
    assert damage["exposure_rate"]["value"] == 0.0
    assert _form(body, "corruption")["suppressed"] is False


def test_no_count_from_1_to_4_is_published_unless_asked(client, make, world):
    org = world.org
    suppressed = _january(client, make, org.hr, org.dept_a)
    leaks = [(where, n) for where, n in _counts(suppressed) if n is not None and 1 <= n < 5]
    assert leaks == []
    assert suppressed["suppression"]["applied"] is True
    unsuppressed = _january(client, make, org.hr, org.dept_a, unsuppressed="true")
    assert unsuppressed["suppression"]["applied"] is False
    assert any(n is not None and 1 <= n < 5 for _, n in _counts(unsuppressed))


def test_unsuppressed_figures_are_audited(client, make, world, db_session):
    org = world.org
    _january(client, make, org.hr, org.dept_a)
    assert db_session.scalars(select(AuditEntry).where(
        AuditEntry.detail.like("unsuppressed statistics%"))).all() == []
    _january(client, make, org.hr, org.dept_a, unsuppressed="true")
    entry = db_session.scalars(select(AuditEntry).where(
        AuditEntry.detail.like("unsuppressed statistics: dark-figure%"))).one()
    assert entry.actor_id == org.hr.id and entry.action == "read"
    assert entry.incident_id is None
    assert f"[{org.dept_a.id}]" in entry.detail and "2026-01-01" in entry.detail


def test_a_survey_alone_sets_the_units_and_period(client, make, world):
    """survey_id only: units A, days 2024-08-28 to 2026-02-27. Incidents 1–13: n1 = 13,
    m = 4 (IA-1…IA-4); IA counts A1 Dec 5 + A1 Jan 6 + A2 Jan 4 = 15 (A1 February ends on
    the 28th, outside). N̂ = 14·16/5 − 1 = 43.8; Var = 14·16·9·11/(25·6) = 147.84; interval
    [19.97, 67.63] raised to 13 + 15 − 4 = 24 seen: [24.0, 67.6]; D = 19.8 [0.0, 43.6].
    Police: flagged 1–8 and 13 = 9, reported 5, share 4/9 = 0.4444 [0.1888, 0.7333]."""
    org = world.org
    r = _get(client, make, org.hr, survey_id=world.survey["id"], unsuppressed="true")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["filters"] == {"from": "2024-08-28", "to": "2026-02-27",
                               "unit_ids": [org.dept_a.id], "survey_id": world.survey["id"]}
    registers = body["two_registers"]
    assert (registers["n1"], registers["n2"], registers["m"]) == (13, 15, 4)
    assert registers["estimated_total"] == {"value": 43.8, "ci95": [24.0, 67.6]}
    assert registers["dark_figure"] == {"value": 19.8, "ci95": [0.0, 43.6]}
    assert registers["variance"] == 147.8
    police = body["police"]
    assert (police["flagged"], police["reported"], police["not_reported"]) == (9, 5, 4)
    assert police["share_not_reported"]["value"] == 0.4444
    assert police["share_not_reported"]["ci95"] == [0.1888, 0.7333]
    assert _form(body, "threat")["registered"] == 6


def test_the_latest_closed_survey_covering_the_unit_is_used(client, make, world):
    org = world.org
    body = _january(client, make, org.hr, org.a1)  # A1 lies below the survey's unit A
    assert body["survey"]["survey"]["id"] == world.survey["id"]
    assert "latest closed survey covering" in body["survey"]["note"]
    other = _january(client, make, org.hr, org.b1)
    assert other["survey"]["survey"] is None and other["survey"]["forms"] is None
    assert f"no closed exposure survey covers unit {org.b1.id}" in other["survey"]["note"]


def test_a_manager_is_not_shown_a_survey_reaching_beyond_their_units(client, make, world):
    org = world.org
    with freeze_time(SETUP):
        wider = client.post("/api/v1/surveys", headers=make.headers(org.hr), json={
            "title": "Hela förvaltningen", "unit_ids": [org.forv.id],
            "opens_at": OPENS.isoformat(), "closes_at": "2026-03-01T00:00:00+00:00"})
    assert wider.status_code == 201
    hr_view = _january(client, make, org.hr, org.dept_a)
    assert hr_view["survey"]["survey"]["id"] == wider.get_json()["id"]
    manager_view = _january(client, make, org.manager_a, org.dept_a)
    assert manager_view["survey"]["survey"] is None
    assert "outside those you reach" in manager_view["survey"]["note"]


# -- access and input ---------------------------------------------------------------------


def test_who_may_read_the_dark_figure(client, make, world):
    org = world.org
    january = {"from": "2026-01-01", "to": "2026-01-31"}
    expected = [
        (org.hr, org.b1, 200),
        (org.admin_hr, org.root, 200),
        (org.manager_a, org.dept_a, 200),
        (org.manager_a, org.a2, 200),
        (org.manager_a, org.b1, 403),
        (org.manager_a, org.forv, 403),
        (org.manager_b1, org.dept_a, 403),
        (org.manager_b1, org.b1, 200),
        (org.employee_a1, org.a1, 403),
        (org.admin, org.a1, 403),
        (None, org.a1, 401),
    ]
    for user, unit, status in expected:
        r = _get(client, make, user, unit_id=unit.id, **january)
        assert r.status_code == status, (user and user.email, unit.name, r.get_json())
    survey_id = world.survey["id"]
    assert _get(client, make, org.manager_a, survey_id=survey_id).status_code == 200
    assert _get(client, make, org.manager_b1, survey_id=survey_id).status_code == 403


def test_a_manager_may_not_ask_for_unsuppressed_figures(client, make, world, db_session):
    org = world.org
    r = _get(client, make, org.manager_a, unit_id=org.dept_a.id, unsuppressed="true",
             **{"from": "2026-01-01", "to": "2026-01-31"})
    assert r.status_code == 403
    assert db_session.scalars(select(AuditEntry).where(
        AuditEntry.detail.like("unsuppressed%"))).all() == []


def test_a_manager_of_two_subtrees_gets_both_and_only_surveys_within_them(
    client, make, world
):
    org = world.org
    both = make.user("employee", "manager", unit=org.a1, leads=(org.a1, org.b1))
    body = _january(client, make, both, org.a1)
    # The survey covers A1 but also A2, which this manager does not lead.
    assert body["survey"]["survey"] is None
    assert "outside those you reach" in body["survey"]["note"]
    r = _get(client, make, both, unsuppressed="false",
             **{"from": "2026-01-01", "to": "2026-01-31"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["filters"]["unit_ids"] == [org.a1.id, org.b1.id]
    assert body["survey"]["survey"] is None
    assert "no closed exposure survey covers" in body["survey"]["note"]
    # A1 in January: 1, 2, 3, 7, 9; B1: 14. n2: A1 6 + B1 7. m: IA-1…IA-3 and IA-5.
    registers = body["two_registers"]
    assert (registers["n1"], registers["n2"], registers["m"]) == (6, 13, None)


@pytest.mark.parametrize(("params", "fields"), [
    ({"unit_id": "UNIT", "from": "2026-02-01", "to": "2026-01-31"}, {"to"}),
    ({"unit_id": "UNIT", "from": "2016-01-01", "to": "2026-01-01"}, {"to"}),  # over 10 years
    ({"unit_id": "UNIT", "from": "2026-13-01", "to": "2026-01-31"}, {"from"}),
    ({"unit_id": "six"}, {"unit_id"}),
    ({"unit_id": "UNIT", "unsuppressed": "maybe"}, {"unsuppressed"}),
])
def test_bad_queries_are_422_naming_the_fields(client, make, world, params, fields):
    substitutes = {"UNIT": world.org.dept_a.id, "SURVEY": world.survey["id"]}
    params = {k: substitutes.get(v, v) for k, v in params.items()}
    r = _get(client, make, world.org.hr, **params)
    assert r.status_code == 422, r.get_json()
    assert fields <= set(r.get_json()["errors"]), r.get_json()


def test_an_unknown_unit_or_survey_is_404(client, make, world):
    r = _get(client, make, world.org.hr, unit_id=999_999)
    assert r.status_code == 404 and "unit_id" in r.get_json()["errors"]
    r = _get(client, make, world.org.hr, survey_id=999_999)
    assert r.status_code == 404 and "survey_id" in r.get_json()["errors"]


def test_without_parameters_the_period_is_this_year_and_the_units_your_scope(
    client, make, world
):
    org = world.org
    hr = _get(client, make, org.hr).get_json()
    assert hr["filters"] == {"from": "2026-01-01", "to": "2026-03-20",
                             "unit_ids": [org.root.id], "survey_id": None}
    assert "no closed exposure survey covers" in hr["survey"]["note"]
    manager = _get(client, make, org.manager_a).get_json()
    assert manager["filters"] == {"from": "2026-01-01", "to": "2026-03-20",
                                  "unit_ids": [org.dept_a.id], "survey_id": world.survey["id"]}
    # 2026 so far in A: incidents 1–11, 13 and 16 (12 fell on 1 January local, so it counts).
    assert _get(client, make, org.hr, unit_id=org.dept_a.id,
                unsuppressed="true").get_json()["two_registers"]["n1"] == 14


# -- the worked examples of docs/statistics.md --------------------------------------------


def test_chapman_and_police_worked_examples_through_the_api(client, make, org, db_session):
    """docs/statistics.md: n1 = 60, n2 = 80, m = 20 → N̂ 234.3 [165.8, 302.8], Var 1222.3,
    D 114.3 [45.8, 182.8]; 25 flagged, 15 reported → 10, 0.4 [0.234, 0.5926]."""
    with freeze_time(NOW):
        for i in range(60):
            _incident(make, db_session, org.employee_a1, org.a1, _at(2026, 1, 1 + i % 28),
                      "threat" if i < 25 else "harassment",
                      ia_reference=f"IA-{i}" if i % 3 == 0 else None,
                      decision="report" if i < 15 else None)
        assert _put_ia(client, make, org.hr, org.a1, "2026-01-01", "2026-01-31",
                       80).status_code == 201
    body = _january(client, make, org.hr, org.a1)
    registers = body["two_registers"]
    assert (registers["n1"], registers["n2"], registers["m"]) == (60, 80, 20)
    assert registers["estimated_total"] == {"value": 234.3, "ci95": [165.8, 302.8]}
    assert registers["variance"] == 1222.3
    assert registers["dark_figure"] == {"value": 114.3, "ci95": [45.8, 182.8]}
    police = body["police"]
    assert (police["flagged"], police["reported"], police["not_reported"]) == (25, 15, 10)
    assert police["share_not_reported"]["value"] == 0.4
    assert police["share_not_reported"]["ci95"] == [0.234, 0.5926]
    assert not registers["suppressed"] and not police["suppressed"]


def test_survey_worked_example_through_the_api(client, make, org, db_session):
    """docs/statistics.md: R = 40 threats, 120 in the survey answers of which 30 reported →
    r 0.25 [0.1811, 0.3344], N̂ 160.0 [119.6, 220.9], D 120.0 [79.6, 180.9], dark share
    0.75 [0.6656, 0.8189]. Six respondents each exposed: exposure 1.0 [0.6097, 1.0]."""
    with freeze_time(SETUP):
        r = client.post("/api/v1/surveys", headers=make.headers(org.hr), json={
            "title": "A2", "unit_ids": [org.a2.id],
            "opens_at": OPENS.isoformat(), "closes_at": CLOSES.isoformat()})
        survey_id = r.get_json()["id"]
        people = [make.user("employee", unit=org.a2) for _ in range(6)]
    with freeze_time(DURING):
        for person in people:
            r = client.post(f"/api/v1/surveys/{survey_id}/responses",
                            json=_body({"threat": (20, 5)}), headers=make.headers(person))
            assert r.status_code == 201
    with freeze_time(NOW):
        for i in range(40):
            _incident(make, db_session, org.employee_a1, org.a2, _at(2025, 3 + i % 10, 1 + i // 10))
    r = _get(client, make, org.hr, survey_id=survey_id)
    assert r.status_code == 200, r.get_json()
    threat = _form(r.get_json(), "threat")
    assert (threat["survey_incidents"], threat["survey_reported"], threat["registered"]) == (
        120, 30, 40)
    assert threat["reporting_rate"]["value"] == 0.25
    assert threat["reporting_rate"]["ci95"] == [0.1811, 0.3344]
    assert threat["estimated_total"] == {"value": 160.0, "ci95": [119.6, 220.9]}
    assert threat["dark_figure"] == {"value": 120.0, "ci95": [79.6, 180.9]}
    assert threat["dark_share"] == {"value": 0.75, "ci95": [0.6656, 0.8189]}
    assert threat["exposure_rate"]["value"] == 1.0
    assert threat["exposure_rate"]["ci95"] == [0.6097, 1.0]


# -- IA counts ----------------------------------------------------------------------------


def test_ia_counts_are_upserted_on_unit_and_period(client, make, org):
    with freeze_time(NOW):
        first = _put_ia(client, make, org.hr, org.a1, "2026-01-01", "2026-04-30", 9)
        again = _put_ia(client, make, org.hr, org.a1, "2026-01-01", "2026-04-30", 11)
        _put_ia(client, make, org.hr, org.a2, "2026-01-01", "2026-04-30", 2)
        _put_ia(client, make, org.hr, org.b1, "2026-01-01", "2026-04-30", 4)
        headers = make.headers(org.hr)
        dept_a = client.get("/api/v1/ia-counts", query_string={"unit_id": org.dept_a.id},
                            headers=headers)
        everything = client.get("/api/v1/ia-counts", headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["count"] == 11 and again.get_json()["entered_by_id"] == org.hr.id
    assert [(c["unit_id"], c["count"]) for c in dept_a.get_json()] == [(org.a1.id, 11),
                                                                        (org.a2.id, 2)]
    assert dept_a.get_json()[0]["period_end"] == "2026-04-30"
    assert len(everything.get_json()) == 3


def test_overlapping_ia_periods_of_a_unit_are_409(client, make, org):
    with freeze_time(NOW):
        assert _put_ia(client, make, org.hr, org.a1, "2026-01-01", "2026-04-30",
                       9).status_code == 201
        r = _put_ia(client, make, org.hr, org.a1, "2026-04-30", "2026-08-31", 3)
        assert r.status_code == 409 and "period_start" in r.get_json()["errors"]
        # Adjacent periods and other units are fine.
        assert _put_ia(client, make, org.hr, org.a1, "2026-05-01", "2026-08-31",
                       3).status_code == 201
        assert _put_ia(client, make, org.hr, org.a2, "2026-04-30", "2026-08-31",
                       3).status_code == 201


@pytest.mark.parametrize(("body", "field"), [
    ({"period_end": "2025-12-31"}, "period_end"),
    ({"unit_id": 999_999}, "unit_id"),
    ({"count": -1}, "count"),
    ({"count": "ten"}, "count"),
    ({"period_start": "1 januari"}, "period_start"),
    ({"count": None}, "count"),
    ({"source": "IA"}, "source"),
])
def test_bad_ia_counts_are_422_naming_the_field(client, make, org, body, field):
    full = {"unit_id": org.a1.id, "period_start": "2026-01-01", "period_end": "2026-04-30",
            "count": 9, **body}
    with freeze_time(NOW):
        r = client.put("/api/v1/ia-counts", json=full, headers=make.headers(org.hr))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]


def test_only_hr_enters_and_reads_ia_counts(client, make, org):
    body = {"unit_id": org.a1.id, "period_start": "2026-01-01", "period_end": "2026-04-30",
            "count": 9}
    with freeze_time(NOW):
        for user in (org.manager_a, org.employee_a1, org.admin):
            headers = make.headers(user)
            assert client.put("/api/v1/ia-counts", json=body, headers=headers).status_code == 403
            assert client.get("/api/v1/ia-counts", headers=headers).status_code == 403
        assert client.put("/api/v1/ia-counts", json=body).status_code == 401
        assert client.get("/api/v1/ia-counts").status_code == 401
