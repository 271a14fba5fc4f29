"""GET /api/v1/audit lists only the entries the caller may see (access.audit_scope,
docs/roles-and-access.md "Audit trail"): hr those of its own part of the organisation, an admin
the administrative ones and no case's, the exposed employee those about the parts of their case
they may read, and entries written before their kind was recorded only to those who could read
the case (or, without a case, the whole organisation) anyway."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from incidents.access import ADMINISTRATIVE_RECORDS, EXPOSED_EMPLOYEE_READS
from incidents.domain import AuditAction, AuditRecord
from incidents.models import AuditEntry
from incidents.services import audit
from tests.factories import NOW


@pytest.fixture
def frozen():
    with freeze_time(NOW) as clock:
        yield clock


def _listed(client, make, user, **query) -> list[dict]:
    response = client.get("/api/v1/audit", query_string={"limit": 1000, **query},
                          headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _case(client, make, org, incident) -> None:
    """The case handled a little: acknowledged, a follow-up entry, the police report and the
    follow-up read by the manager, the police report read by the exposed employee."""
    base = f"/api/v1/incidents/{incident.id}"
    manager = make.headers(org.manager_a)
    assert client.post(f"{base}/acknowledge", headers=manager).status_code == 200
    assert client.post(f"{base}/follow-ups", headers=manager, json={
        "type": "conversation", "note": "Samtal med medarbetaren.",
        "occurred_at": (NOW - timedelta(minutes=30)).isoformat()}).status_code == 201
    assert client.get(f"{base}/follow-ups", headers=manager).status_code == 200
    assert client.get(f"{base}/police-report", headers=manager).status_code == 200
    exposed = make.headers(org.employee_a1)
    assert client.get(f"{base}/police-report", headers=exposed).status_code == 200


# -- hr ---------------------------------------------------------------------------------------


def test_hr_of_one_district_does_not_see_the_entries_of_another(client, make, org, frozen):
    hr_a = make.user("employee", "hr", unit=org.dept_a, reach=(org.dept_a,))
    hr_b = make.user("employee", "hr", unit=org.dept_b, reach=(org.dept_b,))
    in_a = make.incident(org.employee_a1, org.a1)
    in_b = make.incident(org.employee_b1, org.b1)
    client.get(f"/api/v1/incidents/{in_b.id}", headers=make.headers(org.manager_b1))
    make.workshop(hr_b, [org.b1])
    make.workshop(hr_a, [org.a2])

    seen_a = _listed(client, make, hr_a)
    seen_b = _listed(client, make, hr_b)

    assert {e["incident_id"] for e in seen_a} == {in_a.id, None}
    assert {e["incident_id"] for e in seen_b} == {in_b.id, None}
    assert {(e["record"], e["unit_id"]) for e in seen_a if e["incident_id"] is None} == {
        ("workshop", org.a2.id)}
    assert {(e["record"], e["unit_id"]) for e in seen_b if e["incident_id"] is None} == {
        ("workshop", org.b1.id)}
    assert _listed(client, make, hr_a, incident_id=in_b.id) == []
    # hr of the whole organisation sees both districts.
    assert {in_a.id, in_b.id} <= {e["incident_id"] for e in _listed(client, make, org.hr)}


def test_hr_does_not_see_the_parts_of_its_own_case_it_may_not_read(client, make, org, frozen):
    """hr exposed in its own case sees what the exposed employee sees, not the follow-up."""
    own = make.incident(org.hr, org.a1)
    base = f"/api/v1/incidents/{own.id}"
    manager = make.headers(org.manager_a)
    client.post(f"{base}/acknowledge", headers=manager)
    client.get(f"{base}/follow-ups", headers=manager)
    client.get(f"{base}/police-report", headers=manager)

    records = {e["record"] for e in _listed(client, make, org.hr, incident_id=own.id)}

    assert {"status", "police_report"} <= records
    assert "follow_up" not in records


# -- admin ------------------------------------------------------------------------------------


def test_an_admin_sees_administrative_entries_and_no_case_entry(client, make, org, frozen):
    incident = make.incident(org.employee_a1, org.a1)
    _case(client, make, org, incident)
    admin = make.headers(org.admin)
    etag = client.get("/api/v1/settings", headers=admin).headers["ETag"]
    assert client.patch("/api/v1/settings", json={"ACKNOWLEDGE_WITHIN_HOURS": 36},
                        headers={**admin, "If-Match": etag}).status_code == 200
    make.workshop(org.hr, [org.a1])

    seen = _listed(client, make, org.admin)

    assert {"setting"} <= {e["record"] for e in seen}
    assert {e["record"] for e in seen} <= {r.value for r in ADMINISTRATIVE_RECORDS}
    assert all(e["incident_id"] is None for e in seen)
    assert _listed(client, make, org.admin, incident_id=incident.id) == []
    # hr, however far it reaches, sees no administrative entry.
    assert "setting" not in {e["record"] for e in _listed(client, make, org.hr)}


def test_an_admin_of_one_district_sees_only_its_administrative_entries(client, make, org):
    """Entries of users and units are listed by the unit they belong to; an entry without a
    unit (a setting) is for an admin of every organisation."""
    admin_a = make.user("admin", reach=(org.dept_a,))
    for unit in (org.a1, org.b1):
        audit.record(org.admin, AuditAction.UPDATE, None, detail=f"unit {unit.id} renamed",
                     record=AuditRecord.UNIT, unit_id=unit.id)
    audit.record(org.admin, AuditAction.UPDATE, None, detail="setting X: 1 → 2",
                 record=AuditRecord.SETTING)
    make.session.commit()

    assert [(e["record"], e["unit_id"]) for e in _listed(client, make, admin_a)] == [
        ("unit", org.a1.id)]
    assert {(e["record"], e["unit_id"]) for e in _listed(client, make, org.admin)} >= {
        ("unit", org.a1.id), ("unit", org.b1.id), ("setting", None)}
    assert {(e["record"], e["unit_id"]) for e in _listed(client, make, org.platform_admin)} >= {
        ("unit", org.a1.id), ("unit", org.b1.id), ("setting", None)}


# -- the exposed employee -------------------------------------------------------------------


def test_the_exposed_employee_sees_their_police_report_read_but_not_the_follow_up(
    client, make, org, frozen
):
    incident = make.incident(org.employee_a1, org.a1)
    _case(client, make, org, incident)

    seen = _listed(client, make, org.employee_a1)

    assert {e["incident_id"] for e in seen} == {incident.id}
    police_reads = [e for e in seen if e["record"] == "police_report" and e["action"] == "read"]
    assert {e["actor_id"] for e in police_reads} == {org.manager_a.id, org.employee_a1.id}
    assert "follow_up" not in {e["record"] for e in seen}
    assert {e["record"] for e in seen} <= {
        part.value for part, readable in EXPOSED_EMPLOYEE_READS.items() if readable}
    # The handler's trail has the follow-up entries the employee does not see.
    handled = _listed(client, make, org.hr, incident_id=incident.id)
    assert {"follow_up", "police_report", "status"} <= {e["record"] for e in handled}


def test_the_colleague_who_reported_for_someone_and_outsiders_see_nothing(
    client, make, org, frozen
):
    incident = make.incident(org.colleague_a1, org.a1, on_behalf_of=org.employee_a1.id)
    _case(client, make, org, incident)

    assert _listed(client, make, org.colleague_a1) == []
    assert _listed(client, make, org.employee_b1) == []
    assert _listed(client, make, org.manager_b1) == []
    assert {e["incident_id"] for e in _listed(client, make, org.employee_a1)} == {incident.id}


def test_entries_carry_their_kind_and_unit(client, make, org, frozen):
    incident = make.incident(org.employee_a1, org.a1)
    client.get(f"/api/v1/incidents/{incident.id}", headers=make.headers(org.manager_a))
    workshop = make.workshop(org.hr, [org.b1, org.a2])

    (read,) = [e for e in _listed(client, make, org.hr, incident_id=incident.id)
               if e["action"] == "read"]
    (made,) = [e for e in _listed(client, make, org.hr)
               if e["detail"] == f"workshop {workshop.id} created"]

    assert (read["record"], read["unit_id"]) == ("incident", None)
    assert (made["record"], made["unit_id"]) == ("workshop", org.a2.id)  # its first unit
    assert set(read) >= {"id", "at", "actor_id", "action", "incident_id", "outcome",
                            "detail", "record", "unit_id", "request_id"}


# -- entries written before the kind was recorded -----------------------------------------------


def test_entries_without_a_kind_are_only_for_those_who_could_read_the_case(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    admin_a = make.user("admin", reach=(org.dept_a,))
    hr_a = make.user("employee", "hr", unit=org.dept_a, reach=(org.dept_a,))
    with_case, without = [
        audit.record(org.manager_a, AuditAction.UPDATE, incident.id,
                     detail="police report: outcome convicted recorded"),
        audit.record(org.admin, AuditAction.UPDATE, None, detail="setting X: 1 → 2"),
    ]
    make.session.commit()
    assert make.session.scalars(select(AuditEntry.record).where(
        AuditEntry.id.in_([with_case, without]))).all() == [None, None]

    def legacy_seen(user):
        return {e["id"] for e in _listed(client, make, user)} & {with_case, without}

    assert legacy_seen(org.employee_a1) == set()
    assert legacy_seen(admin_a) == set()
    assert legacy_seen(org.admin) == {without}  # an admin of every organisation
    assert legacy_seen(org.platform_admin) == {without}
    assert legacy_seen(hr_a) == {with_case}  # hr handling the case, not of every organisation
    assert legacy_seen(org.hr) == {with_case, without}
