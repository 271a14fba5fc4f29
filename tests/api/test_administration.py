"""Administration within the organisations an admin keeps (docs/roles-and-access.md,
"Administration"): roles held per unit, no self-granted reach, the other admins told, every
change audited with before and after, deployment-wide acts for the platform admin."""

from __future__ import annotations

from sqlalchemy import select

from incidents.models import AuditEntry, OutboxMail


def _etag(client, headers, user_id):
    return client.get(f"/api/v1/users/{user_id}", headers=headers).headers["ETag"]


def _patch(client, headers, user_id, body):
    return client.patch(f"/api/v1/users/{user_id}", json=body,
                        headers={**headers, "If-Match": _etag(client, headers, user_id)})


def test_hr_is_held_for_units_and_needs_one(client, make, org):
    admin = make.headers(org.admin)
    r = client.post("/api/v1/users", json={"email": "hr.b@stad.example", "name": "HR B",
                                           "roles": ["employee", "hr"], "unit_id": org.b1.id},
                    headers=admin)
    assert r.status_code == 422
    assert "hr_unit_ids" in r.get_json()["errors"]
    r = client.post("/api/v1/users", json={"email": "hr.b@stad.example", "name": "HR B",
                                           "roles": ["employee", "hr"], "unit_id": org.b1.id,
                                           "hr_unit_ids": [org.dept_b.id]}, headers=admin)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["hr_unit_ids"] == [org.dept_b.id]
    # Units without the role are refused, naming the field.
    r = client.post("/api/v1/users", json={"email": "x@stad.example", "name": "X",
                                           "roles": ["employee"],
                                           "statistics_unit_ids": [org.forv.id]}, headers=admin)
    assert r.status_code == 422 and "statistics_unit_ids" in r.get_json()["errors"]


def test_taking_a_role_away_takes_its_units(client, make, org):
    admin = make.headers(org.admin)
    r = _patch(client, admin, org.hr.id, {"roles": ["employee"]})
    assert r.status_code == 200
    assert r.get_json()["hr_unit_ids"] == []


def test_an_admin_cannot_give_themselves_reach(client, make, org, db_session):
    admin = make.headers(org.admin)
    for body in ({"roles": ["admin", "hr"], "hr_unit_ids": [org.root.id]},
                 {"roles": ["admin", "manager"], "leads_unit_ids": [org.dept_a.id]}):
        r = _patch(client, admin, org.admin.id, body)
        assert r.status_code == 403, body
        assert "another admin must" in r.get_json()["detail"]
    db_session.expire_all()
    assert org.admin.roles == ["admin"]
    # Another admin may, and the other admins are told (not the one who did it).
    r = _patch(client, make.headers(org.admin_hr), org.admin.id,
               {"roles": ["admin", "hr"], "hr_unit_ids": [org.forv.id]})
    assert r.status_code == 200, r.get_json()
    told = db_session.scalars(select(OutboxMail.recipient).where(
        OutboxMail.kind == "access_granted")).all()
    assert org.admin_hr.email not in told
    assert org.platform_admin.email in told
    assert org.admin.email in told  # an admin of the person's unit (none: every organisation)


def test_an_admin_works_only_within_their_units(client, make, org):
    district_admin = make.user("admin", unit=org.dept_a, reach=(org.dept_a,))
    headers = make.headers(district_admin)
    r = client.post("/api/v1/users", json={"email": "ny@stad.example", "name": "Ny",
                                           "roles": ["employee"], "unit_id": org.b1.id},
                    headers=headers)
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"unit_id": ["not a unit you administer: "
                                                  f"{org.b1.id}"]}
    assert client.get(f"/api/v1/users/{org.employee_b1.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/users/{org.employee_a1.id}", headers=headers).status_code == 200
    r = client.post("/api/v1/units", json={"name": "Enhet B2", "kind": "enhet",
                                           "parent_id": org.dept_b.id}, headers=headers)
    assert r.status_code == 422 and "parent_id" in r.get_json()["errors"]
    r = client.post("/api/v1/units", json={"name": "Kommun 2", "kind": "organisation",
                                           "parent_id": None}, headers=headers)
    assert r.status_code == 403
    r = client.patch("/api/v1/settings", json={"ACKNOWLEDGE_WITHIN_HOURS": 48}, headers=headers)
    assert r.status_code == 403  # before If-Match: the settings are every organisation's


def test_every_administrative_change_is_audited_with_before_and_after(client, make, org,
                                                                       db_session):
    admin = make.headers(org.admin)
    r = _patch(client, admin, org.employee_a1.id,
               {"roles": ["employee", "statistics_reader"], "statistics_unit_ids": [org.forv.id],
                "name": "Anna Andersson"})
    assert r.status_code == 200, r.get_json()
    unit = client.get(f"/api/v1/units/{org.a2.id}", headers=admin)
    r = client.patch(f"/api/v1/units/{org.a2.id}", json={"name": "Enhet A2 (ny)"},
                     headers={**admin, "If-Match": unit.headers["ETag"]})
    assert r.status_code == 200
    r = client.put(f"/api/v1/units/{org.a2.id}/headcounts/2026", json={"count": 12},
                   headers=admin)
    assert r.status_code == 201
    entries = db_session.scalars(select(AuditEntry).where(
        AuditEntry.record.in_(["user", "unit", "headcount"])).order_by(AuditEntry.id)).all()
    details = [(e.record, e.unit_id, e.actor_id, e.detail) for e in entries]
    user_entry = next(d for d in details if d[0] == "user")
    assert user_entry[1] == org.a1.id and user_entry[2] == org.admin.id
    assert "roles employee → employee, statistics_reader" in user_entry[3]
    assert f"statistics_unit_ids — → {org.forv.id}" in user_entry[3]
    assert "name Person" in user_entry[3] and "→ Anna Andersson" in user_entry[3]
    assert ("unit", org.a2.id, org.admin.id,
            f"unit {org.a2.id} changed: name Enhet A2 → Enhet A2 (ny)") in details
    assert ("headcount", org.a2.id, org.admin.id,
            f"head-count of unit {org.a2.id} for 2026: — → 12") in details


def test_a_unit_someone_holds_a_role_for_is_not_deleted(client, make, org):
    make.user("statistics_reader", reach=(org.a2,))
    r = client.delete(f"/api/v1/units/{org.a2.id}", headers=make.headers(org.admin))
    assert r.status_code == 409
    assert "hold hr, statistics or admin roles for it" in r.get_json()["detail"]
