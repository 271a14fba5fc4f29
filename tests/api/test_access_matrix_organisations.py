"""Access matrix, part 5: two organisations and two district administrations
(docs/roles-and-access.md, "Roles and reach").

The city (org.root) has two district administrations: förvaltning 1 (org.forv, with A1, A2,
B1) and förvaltning 2 (C1). A neighbouring municipality (root 2, with D1) shares the
deployment. hr of förvaltning 1 reaches its incidents, cases, statistics, surveys, workshops and
summaries and nothing of förvaltning 2's or root 2's; hr at the city's root reaches both districts
and nothing of root 2; a statistics reader of förvaltning 1 gets suppressed aggregates of it and
never an incident, a case part, unsuppressed figures or the audit of a case; an admin of root 2
administers root 2's people and units only; the platform admin administers everything and reaches
no incident. Every row: each caller, in and out of their subtree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from incidents.models import Summary, Survey, SurveyUnit, Workshop, WorkshopUnit


@dataclass
class World:
    ids: dict[str, int]
    people: dict[str, object]


@pytest.fixture
def world(make, org, db_session) -> World:
    forv2 = make.unit("Förvaltning 2", "forvaltning", org.root)
    c1 = make.unit("Enhet C1", "enhet", forv2)
    root2 = make.unit("Grannkommunen", "organisation")
    d1 = make.unit("Enhet D1", "enhet", root2)
    people = {
        "hr_city": org.hr,  # made before root 2 existed: hr at the city's root
        "hr_forv1": make.user("employee", "hr", unit=org.forv, reach=(org.forv,)),
        "hr_forv2": make.user("employee", "hr", unit=forv2, reach=(forv2,)),
        "reader_forv1": make.user("statistics_reader", reach=(org.forv,)),
        "admin_org2": make.user("admin", reach=(root2,)),
        "platform_admin": org.platform_admin,
        "employee_a1": org.employee_a1,
        "employee_c1": make.user("employee", unit=c1),
        "employee_d1": make.user("employee", unit=d1),
    }
    ids = {"forv1": org.forv.id, "forv2": forv2.id, "root": org.root.id, "root2": root2.id,
           "a1": org.a1.id, "c1": c1.id, "d1": d1.id,
           "user_a1": org.employee_a1.id, "user_d1": people["employee_d1"].id}
    for name, reporter, unit in (("a1", org.employee_a1, org.a1),
                                 ("c1", people["employee_c1"], c1),
                                 ("d1", people["employee_d1"], d1)):
        ids[f"incident_{name}"] = make.incident(reporter, unit).id
    now = datetime.now(UTC)
    for name, unit in (("forv1", org.forv), ("forv2", forv2)):
        survey = Survey(title=f"Enkät {name}", reference_months=18,
                        opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=14),
                        created_by_id=org.hr.id, unit_rows=[SurveyUnit(unit_id=unit.id)])
        workshop = Workshop(title=f"Workshop {name}", held_on=date.today(),
                            expected_participants=20, opens_at=now - timedelta(hours=1),
                            closes_at=now + timedelta(days=7), created_by_id=org.hr.id,
                            unit_rows=[WorkshopUnit(unit_id=unit.id)])
        db_session.add_all([survey, workshop])
        db_session.flush()
        summary = Summary(kind="tertial", period="2025-T1", scope=f"unit:{unit.id}",
                          unit_id=unit.id, scope_name=name, period_start=date(2025, 1, 1),
                          period_end=date(2025, 4, 30), origin="schedule",
                          content={"period": "2025-T1", "sv": {}, "en": {}})
        workshop_summary = Summary(
            kind="workshop", period=date.today().isoformat(), scope=f"workshop:{workshop.id}",
            unit_id=None, scope_name=workshop.title, period_start=date.today(),
            period_end=date.today(), origin="schedule", content={"summary": {}})
        db_session.add_all([summary, workshop_summary])
        db_session.flush()
        ids.update({f"survey_{name}": survey.id, f"workshop_{name}": workshop.id,
                    f"summary_{name}": summary.id, f"wsummary_{name}": workshop_summary.id})
    db_session.commit()
    return World(ids, people)


CALLERS = ("hr_city", "hr_forv1", "hr_forv2", "reader_forv1", "admin_org2", "platform_admin")

# (path template, expected status per caller). {name} are the world's ids.
ROWS = [
    # Incidents and a case part: hr in its subtree only; readers and admins never.
    ("/api/v1/incidents/{incident_a1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=404, admin_org2=404,
          platform_admin=404)),
    ("/api/v1/incidents/{incident_c1}",
     dict(hr_city=200, hr_forv1=404, hr_forv2=200, reader_forv1=404, admin_org2=404,
          platform_admin=404)),
    ("/api/v1/incidents/{incident_d1}",
     dict(hr_city=404, hr_forv1=404, hr_forv2=404, reader_forv1=404, admin_org2=404,
          platform_admin=404)),
    ("/api/v1/incidents/{incident_a1}/police-report",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=404, admin_org2=404,
          platform_admin=404)),
    ("/api/v1/incidents/{incident_c1}/status-history",
     dict(hr_city=200, hr_forv1=404, hr_forv2=200, reader_forv1=404, admin_org2=404,
          platform_admin=404)),
    # Statistics: suppressed for the reader; another district or organisation is 403.
    ("/api/v1/stats/incidents?unit_id={forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=403, reader_forv1=200, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/stats/incidents?unit_id={forv2}",
     dict(hr_city=200, hr_forv1=403, hr_forv2=200, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/stats/incidents?unit_id={root2}",
     dict(hr_city=403, hr_forv1=403, hr_forv2=403, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/stats/incidents?unit_id={forv1}&unsuppressed=true",
     dict(hr_city=200, hr_forv1=200, hr_forv2=403, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/stats/incidents.csv?unit_id={forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=403, reader_forv1=200, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/stats/police?unit_id={forv2}",
     dict(hr_city=200, hr_forv1=403, hr_forv2=200, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/stats/dark-figure?unit_id={forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=403, reader_forv1=200, admin_org2=403,
          platform_admin=403)),
    # Summaries: another district's is a 404, as if it did not exist.
    ("/api/v1/summaries/{summary_forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=200, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/summaries/{summary_forv2}",
     dict(hr_city=200, hr_forv1=404, hr_forv2=200, reader_forv1=404, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/summaries/{wsummary_forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=200, admin_org2=403,
          platform_admin=403)),
    # Surveys and workshops: hr of the units; workshop summaries also the reader.
    ("/api/v1/surveys/{survey_forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/surveys/{survey_forv2}",
     dict(hr_city=200, hr_forv1=404, hr_forv2=200, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/workshops/{workshop_forv1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=403, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/workshops/{workshop_forv1}/summary",
     dict(hr_city=200, hr_forv1=200, hr_forv2=404, reader_forv1=200, admin_org2=403,
          platform_admin=403)),
    ("/api/v1/workshops/{workshop_forv2}/summary",
     dict(hr_city=200, hr_forv1=404, hr_forv2=200, reader_forv1=404, admin_org2=403,
          platform_admin=403)),
    # Administration: the admin of root 2 keeps root 2's people and units only.
    ("/api/v1/users/{user_d1}",
     dict(hr_city=403, hr_forv1=403, hr_forv2=403, reader_forv1=403, admin_org2=200,
          platform_admin=200)),
    ("/api/v1/users/{user_a1}",
     dict(hr_city=403, hr_forv1=403, hr_forv2=403, reader_forv1=403, admin_org2=404,
          platform_admin=200)),
    ("/api/v1/units/{a1}",
     dict(hr_city=200, hr_forv1=200, hr_forv2=200, reader_forv1=200, admin_org2=404,
          platform_admin=200)),
    ("/api/v1/units/{d1}",
     dict(hr_city=404, hr_forv1=404, hr_forv2=404, reader_forv1=404, admin_org2=200,
          platform_admin=200)),
]


@pytest.mark.parametrize(("template", "expected"), ROWS, ids=[row[0] for row in ROWS])
def test_each_role_in_and_out_of_its_subtree(client, make, world, template, expected):
    path = template.format(**world.ids)
    got = {who: client.get(path, headers=make.headers(world.people[who])).status_code
           for who in CALLERS}
    assert got == expected


def _get(client, make, who, path):
    response = client.get(path, headers=make.headers(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_lists_hold_only_what_each_reaches(client, make, world, org):
    ids, people = world.ids, world.people
    listed = {who: {i["id"] for i in _get(client, make, people[who],
                                          "/api/v1/incidents?limit=100")["items"]}
              for who in ("hr_city", "hr_forv1", "hr_forv2")}
    assert listed["hr_city"] == {ids["incident_a1"], ids["incident_c1"]}
    assert listed["hr_forv1"] == {ids["incident_a1"]}
    assert listed["hr_forv2"] == {ids["incident_c1"]}
    surveys = {s["id"] for s in _get(client, make, people["hr_forv2"], "/api/v1/surveys")}
    assert surveys == {ids["survey_forv2"]}
    workshops = {w["id"] for w in _get(client, make, people["hr_forv1"],
                                       "/api/v1/workshops")["items"]}
    assert workshops == {ids["workshop_forv1"]}
    summaries = {s["id"] for s in _get(client, make, people["reader_forv1"],
                                       "/api/v1/summaries")}
    assert summaries == {ids["summary_forv1"], ids["wsummary_forv1"]}
    # The organisations' trees: each sees its own; the platform admin both.
    units_d1 = {u["id"] for u in _get(client, make, people["employee_d1"], "/api/v1/units")}
    assert units_d1 == {ids["root2"], ids["d1"]}
    units_a1 = {u["id"] for u in _get(client, make, people["employee_a1"], "/api/v1/units")}
    assert ids["d1"] not in units_a1 and ids["c1"] in units_a1
    users_org2 = {u["id"] for u in _get(client, make, people["admin_org2"], "/api/v1/users")}
    assert users_org2 == {ids["user_d1"]}
    users_all = {u["id"] for u in _get(client, make, people["platform_admin"], "/api/v1/users")}
    assert {ids["user_d1"], ids["user_a1"]} <= users_all


def test_default_statistics_cover_the_callers_subtree_only(client, make, world):
    ids, people = world.ids, world.people
    body = _get(client, make, people["hr_forv1"], "/api/v1/stats/incidents")
    assert [u["unit_id"] for u in body["filters"]["units"]] == [ids["forv1"]]
    body = _get(client, make, people["reader_forv1"], "/api/v1/stats/incidents")
    assert [u["unit_id"] for u in body["filters"]["units"]] == [ids["forv1"]]
    assert body["suppression"]["applied"] is True
    body = _get(client, make, people["hr_city"], "/api/v1/stats/incidents")
    assert [u["unit_id"] for u in body["filters"]["units"]] == [ids["root"]]


def test_hr_sets_up_surveys_and_workshops_only_for_its_units(client, make, world):
    ids, people = world.ids, world.people
    now = datetime.now(UTC)
    window = {"opens_at": now.isoformat(), "closes_at": (now + timedelta(days=7)).isoformat()}
    refused = client.post("/api/v1/surveys", json={"title": "Enkät", "unit_ids": [ids["c1"]],
                                                   **window},
                          headers=make.headers(people["hr_forv1"]))
    assert refused.status_code == 422
    assert "unit_ids" in refused.get_json()["errors"]
    made = client.post("/api/v1/surveys", json={"title": "Enkät", "unit_ids": [ids["a1"]],
                                                **window},
                       headers=make.headers(people["hr_forv1"]))
    assert made.status_code == 201, made.get_json()
    refused = client.post("/api/v1/workshops", json={
        "title": "Workshop", "held_on": date.today().isoformat(), "unit_ids": [ids["d1"]],
        "expected_participants": 10, **window}, headers=make.headers(people["hr_city"]))
    assert refused.status_code == 422


def test_nobody_reports_into_another_organisation(client, make, world):
    ids, people = world.ids, world.people
    report = {"category": "threat", "perceived_influence_purpose": "yes",
              "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
              "description": "Hot i telefon."}
    refused = client.post("/api/v1/incidents", json={**report, "unit_id": ids["d1"]},
                          headers=make.headers(people["employee_a1"]))
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == {"unit_id": [f"there is no unit {ids['d1']}"]}
    made = client.post("/api/v1/incidents", json={**report, "unit_id": ids["c1"]},
                       headers=make.headers(people["employee_a1"]))
    assert made.status_code == 201, made.get_json()


def test_statistics_never_mix_two_organisations(client, make, world):
    """hr of both municipalities (as the migration made existing hr) names the one to count."""
    ids = world.ids
    both = make.user("hr", reach=())
    from incidents.extensions import db
    from incidents.models import UnitAssignment

    db.session.add_all([UnitAssignment(user_id=both.id, role="hr", unit_id=ids["root"]),
                        UnitAssignment(user_id=both.id, role="hr", unit_id=ids["root2"])])
    db.session.commit()
    headers = make.headers(both)
    refused = client.get("/api/v1/stats/incidents", headers=headers)
    assert refused.status_code == 422
    assert "unit_id" in refused.get_json()["errors"]
    one = client.get(f"/api/v1/stats/incidents?unit_id={ids['root2']}", headers=headers)
    assert one.status_code == 200
    assert [u["unit_id"] for u in one.get_json()["filters"]["units"]] == [ids["root2"]]


def test_nobody_reports_for_a_colleague_of_another_organisation(client, make, world):
    ids, people = world.ids, world.people
    refused = client.post("/api/v1/incidents", json={
        "category": "threat", "perceived_influence_purpose": "yes", "unit_id": ids["a1"],
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "description": "Hot i telefon.", "on_behalf_of": ids["user_d1"]},
        headers=make.headers(people["employee_a1"]))
    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["on_behalf_of"]


def test_hr_sets_head_counts_only_within_its_units(client, make, world):
    ids, people = world.ids, world.people
    headers = make.headers(people["hr_forv1"])
    inside = client.put(f"/api/v1/units/{ids['a1']}/headcounts/2026", json={"count": 12},
                        headers=headers)
    assert inside.status_code == 201
    beside = client.put(f"/api/v1/units/{ids['c1']}/headcounts/2026", json={"count": 12},
                        headers=headers)
    assert beside.status_code == 403
    other = client.put(f"/api/v1/units/{ids['d1']}/headcounts/2026", json={"count": 12},
                       headers=headers)
    assert other.status_code == 404
