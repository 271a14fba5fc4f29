"""/api/v1/units: the organisation tree, moves, deletes and head-counts."""

from __future__ import annotations

from sqlalchemy import func, select

from incidents.models import Headcount, Unit


def _etag(client, headers, unit_id):
    return client.get(f"/api/v1/units/{unit_id}", headers=headers).headers["ETag"]


def test_admin_builds_a_tree(client, make):
    # A new organisation is a platform admin's to add; the tree below it an admin's too.
    admin = make.user("platform_admin")
    headers = make.headers(admin)
    ids = {}
    parent = None
    for name, kind in [("Staden", "organisation"), ("Socialförvaltningen", "forvaltning"),
                       ("Avdelning Nord", "avdelning"), ("Enhet 1", "enhet")]:
        r = client.post("/api/v1/units", json={"name": name, "kind": kind, "parent_id": parent},
                        headers=headers)
        assert r.status_code == 201, r.get_json()
        parent = ids[kind] = r.get_json()["id"]
    units = {u["id"]: u for u in client.get("/api/v1/units", headers=headers).get_json()}
    assert units[ids["enhet"]]["parent_id"] == ids["avdelning"]
    assert units[ids["organisation"]]["parent_id"] is None


def test_unknown_parent_and_kind_are_422(client, make):
    headers = make.headers(make.user("admin"))
    r = client.post("/api/v1/units", json={"name": "X", "kind": "enhet", "parent_id": 999999},
                    headers=headers)
    assert r.status_code == 422 and "parent_id" in r.get_json()["errors"]
    r = client.post("/api/v1/units", json={"name": "X", "kind": "team"}, headers=headers)
    assert r.status_code == 422 and "kind" in r.get_json()["errors"]
    r = client.post("/api/v1/units", json={"name": "Line\nbreak", "kind": "enhet"},
                    headers=headers)
    assert r.status_code == 422 and "name" in r.get_json()["errors"]


def test_a_move_that_would_make_a_cycle_is_409(client, make, org):
    headers = make.headers(org.admin)
    for target in (org.a1.id, org.dept_a.id):  # below itself, or itself
        r = client.patch(f"/api/v1/units/{org.dept_a.id}", json={"parent_id": target},
                         headers={**headers, "If-Match": _etag(client, headers, org.dept_a.id)})
        assert r.status_code == 409
        assert "parent_id" in r.get_json()["errors"]


def test_a_legal_move_and_rename(client, make, org):
    headers = make.headers(org.admin)
    r = client.patch(f"/api/v1/units/{org.a2.id}",
                     json={"parent_id": org.dept_b.id, "name": "Enhet B2"},
                     headers={**headers, "If-Match": _etag(client, headers, org.a2.id)})
    assert r.status_code == 200
    assert (r.get_json()["parent_id"], r.get_json()["name"]) == (org.dept_b.id, "Enhet B2")


def test_a_moved_unit_leaves_its_old_managers_scope(client, make, org):
    incident = make.incident(org.employee_a1, org.a2)
    manager = make.headers(org.manager_a)
    assert client.get(f"/api/v1/incidents/{incident.id}", headers=manager).status_code == 200
    admin = make.headers(org.admin)
    client.patch(f"/api/v1/units/{org.a2.id}", json={"parent_id": org.dept_b.id},
                 headers={**admin, "If-Match": _etag(client, admin, org.a2.id)})
    assert client.get(f"/api/v1/incidents/{incident.id}", headers=manager).status_code == 404


def test_patch_needs_a_current_etag(client, make, org):
    headers = make.headers(org.admin)
    r = client.patch(f"/api/v1/units/{org.a1.id}", json={"name": "Nytt"}, headers=headers)
    assert r.status_code == 428
    r = client.patch(f"/api/v1/units/{org.a1.id}", json={"name": "Nytt"},
                     headers={**headers, "If-Match": '"unit-1-v999"'})
    assert r.status_code == 412


def test_units_in_use_cannot_be_deleted(client, make, org, db_session):
    headers = make.headers(org.admin)
    make.incident(org.employee_a1, org.a2)
    cases = {
        org.a1.id: "home unit of users",
        org.a2.id: "has incidents",
        org.dept_b.id: "sub-units",
    }
    for unit_id, reason in cases.items():
        r = client.delete(f"/api/v1/units/{unit_id}", headers=headers)
        assert r.status_code == 409
        assert reason in r.get_json()["detail"]
    led = make.unit("Ledd enhet", "enhet", org.dept_b)
    make.user("manager", leads=(led,))
    r = client.delete(f"/api/v1/units/{led.id}", headers=headers)
    assert r.status_code == 409 and "lead" in r.get_json()["detail"]
    before = db_session.scalar(select(func.count()).select_from(Unit))
    assert before == 8


def test_a_unit_with_an_anonymous_report_waiting_for_the_hour_cannot_be_deleted(
        client, make, org, db_session):
    """The report is the unit's incident already; deleting the unit would leave it unpublishable."""
    spare = make.unit("Tom enhet", "enhet", org.dept_b)
    sent = client.post("/api/v1/anonymous-reports", json={
        "category": "threat", "perceived_influence_purpose": "yes", "unit_id": spare.id,
        "occurred_at": "2026-03-01T10:00:00+01:00", "description": "Han hotade mig."})
    assert sent.status_code == 201, sent.get_json()
    r = client.delete(f"/api/v1/units/{spare.id}", headers=make.headers(org.admin))
    assert r.status_code == 409 and "waits to be published" in r.get_json()["detail"]
    assert db_session.get(Unit, spare.id) is not None


def test_an_unused_unit_is_deleted(client, make, org, db_session):
    spare = make.unit("Tom enhet", "enhet", org.dept_b)
    r = client.delete(f"/api/v1/units/{spare.id}", headers=make.headers(org.admin))
    assert r.status_code == 204
    assert client.get(f"/api/v1/units/{spare.id}",
                      headers=make.headers(org.admin)).status_code == 404


def test_headcount_is_set_then_replaced(client, make, org, db_session):
    headers = make.headers(org.hr)
    first = client.put(f"/api/v1/units/{org.a1.id}/headcounts/2026", json={"count": 40},
                       headers=headers)
    second = client.put(f"/api/v1/units/{org.a1.id}/headcounts/2026", json={"count": 42},
                        headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    rows = db_session.scalars(select(Headcount).where(Headcount.unit_id == org.a1.id)).all()
    assert [(h.year, h.count) for h in rows] == [(2026, 42)]
    unit = client.get(f"/api/v1/units/{org.a1.id}", headers=headers).get_json()
    assert unit["headcounts"] == [{"year": 2026, "count": 42}]


def test_bad_headcounts_are_422(client, make, org):
    headers = make.headers(org.hr)
    for year, body, field in [(2026, {"count": -1}, "count"), (2026, {"count": "40"}, "count"),
                              (1800, {"count": 4}, "year"), (2026, {}, "count")]:
        r = client.put(f"/api/v1/units/{org.a1.id}/headcounts/{year}", json=body,
                       headers=headers)
        assert r.status_code == 422, (year, body)
        assert field in r.get_json()["errors"]
