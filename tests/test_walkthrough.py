"""The basics walked through end to end, with the CLI and the API only: an admin made with
the CLI builds a unit tree and users, each form is reported once, and each role sees exactly
what it should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

FORMS = ["harassment", "threat", "violence", "property_damage", "corruption"]


def test_new_installation_walkthrough(client, runner):
    result = runner.invoke(args=["users", "add", "admin@stad.example", "--name", "Ada",
                                 "--role", "platform_admin"])
    assert result.exit_code == 0, result.output
    token = runner.invoke(args=["tokens", "issue", "admin@stad.example"]).output.strip()
    admin = {"Authorization": f"Bearer {token}"}

    def post(path, body, headers):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    root = post("/api/v1/units", {"name": "Staden", "kind": "organisation"}, admin)
    forv = post("/api/v1/units", {"name": "Soc", "kind": "forvaltning", "parent_id": root["id"]},
                admin)
    north = post("/api/v1/units", {"name": "Nord", "kind": "enhet", "parent_id": forv["id"]},
                 admin)
    south = post("/api/v1/units", {"name": "Syd", "kind": "enhet", "parent_id": forv["id"]},
                 admin)

    def person(email, roles, unit, leads=(), hr_for=()):
        post("/api/v1/users", {"email": email, "name": email.split("@")[0], "roles": roles,
                               "unit_id": unit["id"], "leads_unit_ids": [u["id"] for u in leads],
                               "hr_unit_ids": [u["id"] for u in hr_for]},
             admin)
        issued = runner.invoke(args=["tokens", "issue", email]).output.strip()
        return {"Authorization": f"Bearer {issued}"}

    eva = person("eva@stad.example", ["employee"], north)
    sam = person("sam@stad.example", ["employee"], south)
    chef_nord = person("chef.nord@stad.example", ["employee", "manager"], north, leads=[north])
    chef_soc = person("chef.soc@stad.example", ["employee", "manager"], forv, leads=[forv])
    hr = person("hr@stad.example", ["employee", "hr"], forv, hr_for=[forv])

    when = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    eva_ids = {
        post("/api/v1/incidents", {"category": form, "perceived_influence_purpose": "yes",
                                   "occurred_at": when, "unit_id": north["id"],
                                   "description": f"{form} i receptionen"}, eva)["id"]
        for form in FORMS
    }
    sam_id = post("/api/v1/incidents", {"category": "threat", "perceived_influence_purpose": "yes",
                                        "occurred_at": when, "unit_id": south["id"],
                                        "description": "Hot per telefon"}, sam)["id"]

    def visible(headers):
        response = client.get("/api/v1/incidents", query_string={"limit": 200}, headers=headers)
        assert response.status_code == 200
        return {item["id"] for item in response.get_json()["items"]}

    assert visible(eva) == eva_ids
    assert visible(sam) == {sam_id}
    assert visible(chef_nord) == eva_ids
    assert visible(chef_soc) == eva_ids | {sam_id}
    assert visible(hr) == eva_ids | {sam_id}
    assert visible(admin) == set()
    assert client.get(f"/api/v1/incidents/{sam_id}", headers=chef_nord).status_code == 404
    assert client.get(f"/api/v1/incidents/{sam_id}", headers=admin).status_code == 404
    # Eva lists the trail of her own cases only; hr that of the cases it handles.
    own = client.get("/api/v1/audit", headers=eva).get_json()
    assert own and {e["incident_id"] for e in own} <= eva_ids
    assert client.get("/api/v1/audit", query_string={"incident_id": sam_id},
                      headers=admin).get_json() == []
    trail = client.get("/api/v1/audit", query_string={"incident_id": sam_id},
                       headers=hr).get_json()
    assert [e["action"] for e in trail] == ["create", "access_denied", "access_denied"]
