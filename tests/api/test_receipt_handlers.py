"""Nobody left unanswered: every report has a responsible case handler from the moment it is
reported (docs/roles-and-access.md, "Who handles a report"). The create answer names them; hr
is told when no manager at or above the unit can take it; GET /api/v1/units/unanswered lists the
units where nobody would be (the pages: tests/pages/test_receipt_handler_pages.py).

The organisation (tests/factories.py build_org): avdelning A led by manager_a, B1 by
manager_b1; nobody leads avdelning B, the förvaltning or Staden; org.hr and org.admin_hr are hr
for Staden.
"""

from __future__ import annotations

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from incidents.models import Incident, OutboxMail
from tests.factories import NOW


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def _report(client, make, reporter, unit, **fields):
    body = {"category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": "2026-03-10T08:15:00+01:00", "unit_id": unit.id,
            "description": "Klienten sa att han vet var jag bor.", **fields}
    return client.post("/api/v1/incidents", json=body, headers=make.headers(reporter))


def _mails(db_session, incident_id: int, kind: str = "new_incident") -> list[OutboxMail]:
    return db_session.scalars(select(OutboxMail).where(
        OutboxMail.incident_id == incident_id, OutboxMail.kind == kind)
        .order_by(OutboxMail.recipient)).all()


def _other_organisation(make):
    """An organisation made after everyone's roles: nobody leads it and no hr reaches it."""
    other = make.unit("Grannkommunen", "organisation")
    school = make.unit("Skolförvaltningen", "forvaltning", other)
    return other, school


# -- the create answer ----------------------------------------------------------------------


def test_the_answer_names_the_manager_who_handles_it(client, make, named, db_session):
    response = _report(client, make, named.employee_a1, named.a1)
    assert response.status_code == 201
    assert response.json["case_handlers"] == [{"name": "Maria Chef", "role": "manager"}]
    assert response.json["case_handlers_warning"] is None
    assert [m.recipient for m in _mails(db_session, response.json["id"])] == [
        named.manager_a.email]


def test_a_unit_with_no_manager_above_is_told_to_the_hr_reaching_it(client, make, named,
                                                                     db_session):
    response = _report(client, make, named.employee_b1, named.dept_b)
    assert response.status_code == 201
    assert response.json["case_handlers"] == [
        {"name": "Hanna HR", "role": "hr"}, {"name": "Anders HR", "role": "hr"}]
    assert response.json["case_handlers_warning"] is None
    mails = _mails(db_session, response.json["id"])
    assert sorted(m.recipient for m in mails) == sorted([named.hr.email, named.admin_hr.email])
    for mail in mails:
        assert "ingen chef på enheten eller ovanför den" in mail.body
        assert "no manager at the unit or above it" in mail.body
        assert "Hanna HR" not in mail.body and "vet var jag bor" not in mail.body


def test_a_managers_own_report_with_nobody_above_goes_to_hr(client, make, named, db_session):
    response = _report(client, make, named.manager_b1, named.b1)
    assert response.status_code == 201
    assert {h["role"] for h in response.json["case_handlers"]} == {"hr"}
    recipients = {m.recipient for m in _mails(db_session, response.json["id"])}
    assert recipients == {named.hr.email, named.admin_hr.email}


def test_the_reporter_and_the_exposed_colleague_are_never_their_own_handlers(
    client, make, named, db_session
):
    """HR reports for manager_a in A1: manager_a is the exposed employee, hr the reporter, so
    nobody of A handles it and the other hr does."""
    response = _report(client, make, named.hr, named.a1, on_behalf_of=named.manager_a.id)
    assert response.status_code == 201
    assert response.json["case_handlers"] == [{"name": "Anders HR", "role": "hr"}]


def test_a_unit_where_nobody_is_responsible_is_still_stored_with_a_warning(client, make, org,
                                                                           db_session):
    _other, school = _other_organisation(make)
    teacher = make.user("employee", unit=school)
    response = _report(client, make, teacher, school)
    assert response.status_code == 201
    assert response.json["case_handlers"] == []
    assert "Nobody is responsible" in response.json["case_handlers_warning"]
    assert db_session.get(Incident, response.json["id"]) is not None
    assert _mails(db_session, response.json["id"]) == []


def test_a_replayed_create_answers_the_same_handlers(client, make, named):
    headers = make.headers(named.employee_b1, **{"Idempotency-Key": "rep-1"})
    body = {"category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": "2026-03-10T08:15:00+01:00", "unit_id": named.dept_b.id,
            "description": "Hot."}
    first = client.post("/api/v1/incidents", json=body, headers=headers)
    again = client.post("/api/v1/incidents", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json["case_handlers"] == first.json["case_handlers"] != []


def test_the_read_answer_has_no_receipt_fields(client, make, named):
    created = _report(client, make, named.employee_a1, named.a1).json
    read = client.get(f"/api/v1/incidents/{created['id']}",
                      headers=make.headers(named.employee_a1)).json
    assert "case_handlers" not in read and "case_handlers_warning" not in read


def test_a_message_from_the_reporter_reaches_the_hr_responsible(client, make, named,
                                                                db_session):
    created = _report(client, make, named.employee_b1, named.dept_b).json
    response = client.post(f"/api/v1/incidents/{created['id']}/messages",
                           json={"body": "Han stod utanför igen."},
                           headers=make.headers(named.employee_b1))
    assert response.status_code == 201
    mails = _mails(db_session, created["id"], "new_message")
    assert sorted(m.recipient for m in mails) == sorted([named.hr.email, named.admin_hr.email])
    assert all("no manager at the unit or above it" in m.body for m in mails)


# -- units where nobody would be responsible ------------------------------------------------


def test_the_api_lists_unanswered_units_to_the_admins_who_administer_them(client, make, org):
    other, school = _other_organisation(make)
    their_admin = make.user("admin", unit=school, reach=(other,))
    listed = client.get("/api/v1/units/unanswered", headers=make.headers(their_admin))
    assert listed.status_code == 200
    assert listed.json == [
        {"id": other.id, "name": "Grannkommunen", "parent_id": None},
        {"id": school.id, "name": "Skolförvaltningen", "parent_id": other.id}]
    # Staden's admin administers none of them; the platform admin all.
    assert client.get("/api/v1/units/unanswered",
                      headers=make.headers(org.admin)).json == []
    everything = client.get("/api/v1/units/unanswered", headers=make.headers(org.platform_admin))
    assert [u["id"] for u in everything.json] == [other.id, school.id]


@pytest.mark.parametrize("who", ["employee_a1", "manager_a", "hr"])
def test_only_admins_list_unanswered_units(client, make, org, who):
    response = client.get("/api/v1/units/unanswered", headers=make.headers(getattr(org, who)))
    assert response.status_code == 403


def test_the_list_empties_once_someone_is_responsible(client, make, org):
    other, school = _other_organisation(make)
    make.user("employee", "hr", unit=school, reach=(other,))
    assert client.get("/api/v1/units/unanswered",
                      headers=make.headers(org.platform_admin)).json == []
