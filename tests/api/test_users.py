"""/api/v1/users and /api/v1/me."""

from __future__ import annotations


def _etag(client, headers, user_id):
    return client.get(f"/api/v1/users/{user_id}", headers=headers).headers["ETag"]


def test_admin_registers_a_manager_who_then_sees_their_units(client, make, org):
    headers = make.headers(org.admin)
    r = client.post("/api/v1/users", json={
        "email": "Chef.B@Stad.example", "name": "Chef B", "roles": ["employee", "manager"],
        "unit_id": org.dept_b.id, "leads_unit_ids": [org.dept_b.id],
    }, headers=headers)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["email"] == "chef.b@stad.example"
    assert body["roles"] == ["employee", "manager"]
    assert body["leads_unit_ids"] == [org.dept_b.id]
    incident = make.incident(org.employee_b1, org.b1)
    from incidents.services.people import get_user

    new_manager = get_user(body["id"])
    seen = client.get(f"/api/v1/incidents/{incident.id}", headers=make.headers(new_manager))
    assert seen.status_code == 200


def test_duplicate_email_is_409(client, make, org):
    r = client.post("/api/v1/users", json={
        "email": org.employee_a1.email.upper(), "name": "Dubblett", "roles": ["employee"]},
        headers=make.headers(org.admin))
    assert r.status_code == 409
    assert "email" in r.get_json()["errors"]


def test_leading_units_needs_the_manager_role_and_real_units(client, make, org):
    headers = make.headers(org.admin)
    r = client.post("/api/v1/users", json={
        "email": "x@stad.example", "name": "X", "roles": ["employee"],
        "leads_unit_ids": [org.a1.id]}, headers=headers)
    assert r.status_code == 422 and "leads_unit_ids" in r.get_json()["errors"]
    r = client.post("/api/v1/users", json={
        "email": "y@stad.example", "name": "Y", "roles": ["manager"],
        "leads_unit_ids": [999999]}, headers=headers)
    assert r.status_code == 422 and "leads_unit_ids" in r.get_json()["errors"]
    r = client.post("/api/v1/users", json={
        "email": "z@stad.example", "name": "Z", "roles": []}, headers=headers)
    assert r.status_code == 422 and "roles" in r.get_json()["errors"]


def test_deactivating_keeps_reports_and_blocks_sign_in(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    token_headers = make.headers(org.employee_a1)
    admin = make.headers(org.admin)
    r = client.patch(f"/api/v1/users/{org.employee_a1.id}", json={"active": False},
                     headers={**admin, "If-Match": _etag(client, admin, org.employee_a1.id)})
    assert r.status_code == 200 and r.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=token_headers).status_code == 401
    kept = client.get(f"/api/v1/incidents/{incident.id}", headers=make.headers(org.hr))
    assert kept.status_code == 200
    assert kept.get_json()["reporter_id"] == org.employee_a1.id
    listed = client.get("/api/v1/users", query_string={"active": "false"}, headers=admin)
    assert [u["id"] for u in listed.get_json()] == [org.employee_a1.id]


def test_roles_and_leadership_can_be_changed(client, make, org):
    admin = make.headers(org.admin)
    r = client.patch(f"/api/v1/users/{org.manager_a.id}",
                     json={"leads_unit_ids": [org.a1.id]},
                     headers={**admin, "If-Match": _etag(client, admin, org.manager_a.id)})
    assert r.status_code == 200 and r.get_json()["leads_unit_ids"] == [org.a1.id]
    in_a2 = make.incident(org.employee_a1, org.a2)
    seen = client.get(f"/api/v1/incidents/{in_a2.id}", headers=make.headers(org.manager_a))
    assert seen.status_code == 404


def test_the_last_active_platform_admin_cannot_be_removed(client, make, org):
    """Only a platform admin adds organisations and gives the role: one must stay."""
    platform = make.headers(org.platform_admin)
    r = client.patch(f"/api/v1/users/{org.platform_admin.id}", json={"active": False},
                     headers={**platform,
                              "If-Match": _etag(client, platform, org.platform_admin.id)})
    assert r.status_code == 409
    assert r.get_json()["errors"] == {"active": ["last active platform admin"]}
    second = make.user("platform_admin")
    r = client.patch(f"/api/v1/users/{org.platform_admin.id}", json={"active": False},
                     headers={**platform,
                              "If-Match": _etag(client, platform, org.platform_admin.id)})
    assert r.status_code == 200 and second.active


def test_an_admin_cannot_change_a_platform_admin(client, make, org):
    admin = make.headers(org.admin)
    r = client.patch(f"/api/v1/users/{org.platform_admin.id}", json={"active": False},
                     headers={**admin, "If-Match": _etag(client, admin, org.platform_admin.id)})
    assert r.status_code == 403
    r = client.patch(f"/api/v1/users/{org.employee_a1.id}",
                     json={"roles": ["employee", "platform_admin"]},
                     headers={**admin, "If-Match": _etag(client, admin, org.employee_a1.id)})
    assert r.status_code == 403


def test_me_shows_roles_and_led_units(client, make, org):
    body = client.get("/api/v1/me", headers=make.headers(org.manager_a)).get_json()
    assert body["email"] == org.manager_a.email
    assert body["roles"] == ["employee", "manager"]
    assert body["leads_unit_ids"] == [org.dept_a.id]


def test_a_role_change_changes_the_etag(client, make, org):
    admin = make.headers(org.admin)
    before = _etag(client, admin, org.employee_a1.id)
    r = client.patch(f"/api/v1/users/{org.employee_a1.id}",
                     json={"roles": ["employee", "hr"], "hr_unit_ids": [org.forv.id]},
                     headers={**admin, "If-Match": before})
    assert r.status_code == 200
    assert r.headers["ETag"] != before
    stale = client.patch(f"/api/v1/users/{org.employee_a1.id}", json={"roles": ["employee"]},
                         headers={**admin, "If-Match": before})
    assert stale.status_code == 412
