"""The case handler's pages: the inbox, and every action of the case page doing what the API
does, refused where the API refuses, and a stale page told so."""

from __future__ import annotations

import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import AuditEntry, FollowUpEntry, Incident, SupportMeasure
from tests.factories import NOW


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW) as clock:
        yield clock


def _case(pages, incident_id):
    return pages.get(f"/cases/{incident_id}").get_data(as_text=True)


def test_the_inbox_lists_new_overdue_and_open_cases_of_the_managers_units(
    pages, make, org, client, frozen
):
    new = make.incident(org.employee_a1, org.a1)
    opened = make.incident(org.colleague_a1, org.a1)
    client.post(f"/api/v1/incidents/{opened.id}/acknowledge", headers=make.headers(org.manager_a))
    elsewhere = make.incident(org.employee_b1, org.b1)
    frozen.tick(60 * 60 * 30)  # 30 hours: the new one is overdue for acknowledgement
    pages.sign_in(org.manager_a)
    page = pages.get("/cases").get_data(as_text=True)
    new_part = page[page.index('id="new"'):page.index('id="overdue"')]
    overdue_part = page[page.index('id="overdue"'):page.index('id="open"')]
    open_part = page[page.index('id="open"'):]
    assert new.reference in new_part and opened.reference not in new_part
    assert new.reference in overdue_part
    assert opened.reference in open_part and new.reference not in open_part
    assert elsewhere.reference not in page


def test_the_inbox_is_for_case_handlers(pages, org):
    pages.sign_in(org.employee_a1)
    assert pages.get("/cases").status_code == 403


def test_acknowledge_follow_up_support_and_close_as_the_api_would(pages, make, org, db_session):
    incident = make.incident(org.employee_a1, org.a1, category="harassment")
    pages.sign_in(org.manager_a)
    _case(pages, incident.id)
    assert pages.post(f"/cases/{incident.id}/acknowledge").status_code == 303
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == "acknowledged"

    # Closing before the checklist is empty is refused, the missing items listed.
    _case(pages, incident.id)
    refused = pages.post(f"/cases/{incident.id}/close")
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    checklist = page[page.index('id="checklist"'):page.index('id="report"')]
    assert 'href="#follow-up"' in checklist and 'href="#support"' in checklist
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == "acknowledged"

    _case(pages, incident.id)
    done = pages.post(f"/cases/{incident.id}/follow-ups", {
        "type": "conversation", "date": "2026-03-10", "time": "10:00",
        "note": "Talked with the employee about what happened."})
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    assert db_session.scalar(select(FollowUpEntry.type)) == "conversation"
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == "in_follow_up"

    assert pages.post(f"/cases/{incident.id}/support-measures", {
        "type": "debriefing", "answer": "delivered", "provider": "Företagshälsan"},
    ).status_code == 303
    measure = db_session.scalar(select(SupportMeasure))
    assert (measure.accepted, measure.delivered_at is not None) == (True, True)

    _case(pages, incident.id)
    closed = pages.post(f"/cases/{incident.id}/close")
    assert closed.status_code == 303
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).status == "closed"
    actions = db_session.scalars(select(AuditEntry.detail).where(
        AuditEntry.incident_id == incident.id, AuditEntry.action == "update")).all()
    assert "acknowledged" in actions and "closed" in actions


@pytest.mark.parametrize(("form", "anchor"), [
    ({"type": "", "date": "2026-03-10", "time": "10:00", "note": "x"}, "follow-up-type"),
    ({"type": "conversation", "date": "2026-03-11", "time": "12:00", "note": "x"},
     "follow-up-date"),
    ({"type": "conversation", "date": "2026-03-10", "time": "10:00", "note": "   "},
     "follow-up-note"),
])
def test_a_wrong_follow_up_is_shown_in_place_and_nothing_is_written(
    pages, make, org, client, db_session, form, anchor
):
    incident = make.incident(org.employee_a1, org.a1)
    client.post(f"/api/v1/incidents/{incident.id}/acknowledge", headers=make.headers(org.manager_a))
    pages.sign_in(org.manager_a)
    _case(pages, incident.id)
    response = pages.post(f"/cases/{incident.id}/follow-ups", form)
    assert response.status_code == 422
    assert f'href="#{anchor}"' in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(FollowUpEntry)) == 0


def test_the_police_report_with_the_workplace_address_and_a_later_outcome(
    pages, make, org, client
):
    incident = make.incident(org.employee_a1, org.a1)  # a threat: a decision is required
    pages.sign_in(org.manager_a)
    page = _case(pages, incident.id)
    version = re.search(r'action="/cases/\d+/police-report".*?name="version" value="(\d+)"',
                        page, re.S)[1]
    assert pages.post(f"/cases/{incident.id}/police-report", {
        "version": version, "decision": "report", "filed_by": "employer",
        "contact_address": "work", "filed_date": "2026-03-10",
        "police_reference": "5000-K123456-26"}).status_code == 303
    report = client.get(f"/api/v1/incidents/{incident.id}/police-report",
                        headers=make.headers(org.manager_a)).json
    assert (report["decision"], report["filed_by"], report["contact_address"],
            report["police_reference"]) == ("report", "employer", "work", "5000-K123456-26")

    page = _case(pages, incident.id)
    version = re.search(r'action="/cases/\d+/police-report".*?name="version" value="(\d+)"',
                        page, re.S)[1]
    assert pages.post(f"/cases/{incident.id}/police-report", {
        "version": version, "decision": "report", "filed_by": "employer",
        "contact_address": "work", "filed_date": "2026-03-10",
        "police_reference": "5000-K123456-26", "outcome": "investigation_opened",
        "outcome_date": "2026-03-10"}).status_code == 303
    report = client.get(f"/api/v1/incidents/{incident.id}/police-report",
                        headers=make.headers(org.manager_a)).json
    assert report["outcome"] == "investigation_opened"


def test_a_stale_police_form_does_not_overwrite_a_newer_decision(pages, other_pages, make, org,
                                                                 client):
    incident = make.incident(org.employee_a1, org.a1)
    pages.sign_in(org.manager_a)
    page = _case(pages, incident.id)
    version = re.search(r'action="/cases/\d+/police-report".*?name="version" value="(\d+)"',
                        page, re.S)[1]
    other_pages.sign_in(org.hr)
    other_page = _case(other_pages, incident.id)
    other_version = re.search(
        r'action="/cases/\d+/police-report".*?name="version" value="(\d+)"', other_page, re.S)[1]
    assert other_pages.post(f"/cases/{incident.id}/police-report", {
        "version": other_version, "decision": "do_not_report",
        "decision_reason": "The employee does not want it."}).status_code == 303
    stale = pages.post(f"/cases/{incident.id}/police-report", {
        "version": version, "decision": "report", "filed_by": "employer"})
    assert stale.status_code == 303
    assert 'notice-error' in pages.get(stale.headers["Location"]).get_data(as_text=True)
    report = client.get(f"/api/v1/incidents/{incident.id}/police-report",
                        headers=make.headers(org.manager_a)).json
    assert report["decision"] == "do_not_report"


def test_arbetsmiljoverket_notified_from_the_page(pages, make, org, client):
    incident = make.incident(org.employee_a1, org.a1, category="violence")  # serious by rule
    pages.sign_in(org.manager_a)
    page = _case(pages, incident.id)
    version = re.search(r'action="/cases/\d+/authority-reports".*?name="version" value="(\d+)"',
                        page, re.S)[1]
    assert pages.post(f"/cases/{incident.id}/authority-reports", {
        "version": version, "serious": "yes", "av_date": "2026-03-10",
        "av_reference": "AV 2026/123"}).status_code == 303
    state = client.get(f"/api/v1/incidents/{incident.id}/authority-reports",
                       headers=make.headers(org.manager_a)).json
    assert state["work_environment_authority"]["reference"] == "AV 2026/123"
    assert state["work_environment_authority"]["notified_at"] is not None


def test_messages_with_the_reporter_from_the_case_page(pages, make, org, client):
    incident = make.incident(org.employee_a1, org.a1)
    pages.sign_in(org.manager_a)
    _case(pages, incident.id)
    assert pages.post(f"/cases/{incident.id}/messages", {"body": "Kan vi ses i dag?"}
                      ).status_code == 303
    thread = client.get(f"/api/v1/incidents/{incident.id}/messages",
                        headers=make.headers(org.employee_a1)).json
    assert [m["body"] for m in thread] == ["Kan vi ses i dag?"]


def test_who_sees_the_case_page(pages, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    own = make.incident(org.manager_a, org.dept_a)  # the manager's own report
    pages.sign_in(org.manager_b1)
    assert pages.get(f"/cases/{incident.id}").status_code == 404  # not their unit
    pages.sign_in(org.employee_a1)
    assert pages.get(f"/cases/{incident.id}").status_code == 403  # not a case handler
    pages.sign_in(org.manager_a)
    # A manager who is the exposed employee sees the employee's view.
    response = pages.get(f"/cases/{own.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/reports/{own.id}"
    # A case handler following a mail's link to the report lands on the case page.
    response = pages.get(f"/reports/{incident.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{incident.id}"
