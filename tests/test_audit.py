"""The audit trail: what is recorded, who may read it, and that it cannot be changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from incidents.models import AuditEntry


def _trail(db_session, incident_id=None):
    query = select(AuditEntry).order_by(AuditEntry.id)
    if incident_id is not None:
        query = query.where(AuditEntry.incident_id == incident_id)
    db_session.expire_all()
    return [(e.actor_id, e.action, e.incident_id, e.outcome) for e in db_session.scalars(query)]


def test_create_read_update_are_audited(client, make, org, db_session):
    headers = make.headers(org.employee_a1)
    created = client.post("/api/v1/incidents", headers=headers, json={
        "category": "harassment", "perceived_influence_purpose": "unsure",
        "occurred_at": "2026-02-01T10:00:00+01:00", "unit_id": org.a1.id,
        "description": "Upprepade samtal."}).get_json()
    iid = created["id"]
    read = client.get(f"/api/v1/incidents/{iid}", headers=headers)
    client.patch(f"/api/v1/incidents/{iid}", json={"location": "phone"},
                 headers={**headers, "If-Match": read.headers["ETag"]})
    me = org.employee_a1.id
    assert _trail(db_session, iid) == [
        (me, "create", iid, "ok"), (me, "read", iid, "ok"), (me, "update", iid, "ok")]
    update = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert update.detail == "changed: location"


def test_denied_access_is_audited_although_the_request_fails(client, make, org, db_session):
    incident = make.incident(org.employee_a1, org.a1)
    outsider = org.employee_b1
    assert client.get(f"/api/v1/incidents/{incident.id}",
                      headers=make.headers(outsider)).status_code == 404
    assert client.get("/api/v1/incidents/424242",
                      headers=make.headers(outsider)).status_code == 404
    denied = [t for t in _trail(db_session) if t[1] == "access_denied"]
    assert denied == [(outsider.id, "access_denied", incident.id, "denied"),
                      (outsider.id, "access_denied", 424242, "denied")]


def test_a_denied_update_is_audited_and_changes_nothing(client, make, org, db_session):
    incident = make.incident(org.employee_a1, org.a1)
    manager = make.headers(org.manager_a)
    etag = client.get(f"/api/v1/incidents/{incident.id}", headers=manager).headers["ETag"]
    r = client.patch(f"/api/v1/incidents/{incident.id}", json={"description": "omskriven"},
                     headers={**manager, "If-Match": etag})
    assert r.status_code == 403
    assert (org.manager_a.id, "access_denied", incident.id, "denied") in _trail(db_session)
    db_session.expire_all()
    assert db_session.get(type(incident), incident.id).description != "omskriven"


def test_lists_are_not_audited_per_item_but_reads_are(client, make, org, db_session):
    make.incident(org.employee_a1, org.a1)
    before = len(_trail(db_session))
    client.get("/api/v1/incidents", headers=make.headers(org.hr))
    assert len(_trail(db_session)) == before


def test_hr_reads_the_trail_filtered_by_incident_and_an_admin_no_case(client, make, org):
    """Who lists which entries: tests/api/test_audit_scope.py."""
    one = make.incident(org.employee_a1, org.a1)
    two = make.incident(org.employee_a1, org.a1)
    client.get(f"/api/v1/incidents/{two.id}", headers=make.headers(org.manager_a))
    r = client.get("/api/v1/audit", query_string={"incident_id": two.id},
                   headers=make.headers(org.hr))
    assert r.status_code == 200
    assert {e["incident_id"] for e in r.get_json()} == {two.id}
    r = client.get("/api/v1/audit", query_string={"incident_id": two.id},
                   headers=make.headers(org.admin))
    assert r.status_code == 200
    assert r.get_json() == []
    everything = client.get("/api/v1/audit", headers=make.headers(org.hr)).get_json()
    assert {one.id, two.id} <= {e["incident_id"] for e in everything}
    page = client.get("/api/v1/audit", query_string={"after_id": everything[0]["id"], "limit": 1},
                      headers=make.headers(org.hr)).get_json()
    assert [e["id"] for e in page] == [everything[1]["id"]]


def test_no_endpoint_changes_the_trail(client, make, org):
    headers = make.headers(org.admin_hr)
    for method in ("post", "put", "patch", "delete"):
        r = getattr(client, method)("/api/v1/audit", json={}, headers=headers)
        assert r.status_code == 405, method


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET outcome = 'ok'",
    "DELETE FROM audit_entries",
    # Unlinking the actor (retention) is allowed only on its own and only towards NULL.
    "UPDATE audit_entries SET actor_id = NULL, detail = 'rewritten'",
    "UPDATE audit_entries SET actor_id = NULL, action = 'read'",
    "UPDATE audit_entries SET actor_id = actor_id + 1000",
])
def test_the_database_refuses_to_change_audit_entries(make, org, db_session, statement):
    make.incident(org.employee_a1, org.a1)
    with pytest.raises(sa.exc.DatabaseError) as excinfo:
        with db_session.begin_nested():
            db_session.execute(sa.text(statement))
    assert "append-only" in str(excinfo.value)
    assert len(_trail(db_session)) == 1


def test_removing_the_actor_is_allowed_only_on_an_anonymised_incident(make, org, db_session):
    """Retention (services/retention.py) drops who did what from an anonymised incident's
    trail, with the salt of the actor's commitment; the database lets exactly that through,
    and only for entries of an incident that has been anonymised."""
    incident = make.incident(org.employee_a1, org.a1)
    other = make.incident(org.employee_b1, org.b1)
    unlink = sa.text("UPDATE audit_entries SET actor_id = NULL, actor_salt = NULL "
                     "WHERE incident_id = :id")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with db_session.begin_nested():
            db_session.execute(unlink, {"id": incident.id})
    db_session.execute(sa.text("UPDATE incidents SET anonymised_at = created_at WHERE id = :id"),
                       {"id": incident.id})
    before = db_session.execute(sa.text("SELECT id, at, action, outcome, incident_id, detail, "
                                        "chain_index, entry_hash, actor_commitment "
                                        "FROM audit_entries ORDER BY id")).all()
    db_session.execute(unlink, {"id": incident.id})
    after = db_session.execute(sa.text("SELECT id, at, action, outcome, incident_id, detail, "
                                       "chain_index, entry_hash, actor_commitment, actor_id "
                                       "FROM audit_entries ORDER BY id")).all()
    assert [tuple(row[:-1]) for row in after] == [tuple(row) for row in before]
    assert [row[-1] is None for row in after] == [
        row.incident_id == incident.id for row in before]
    for statement in (
        f"UPDATE audit_entries SET actor_id = {org.hr.id} WHERE incident_id = {incident.id}",
        f"UPDATE audit_entries SET actor_id = NULL WHERE incident_id = {other.id}",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with db_session.begin_nested():
                db_session.execute(sa.text(statement))


@pytest.mark.postgresql_only
def test_truncate_is_refused(make, org, db_session):
    make.incident(org.employee_a1, org.a1)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with db_session.begin_nested():
            db_session.execute(sa.text("TRUNCATE audit_entries"))
    assert len(_trail(db_session)) == 1

