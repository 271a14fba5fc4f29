"""The report form, the receipt, "my reports" and one report's page, through the test client."""

from __future__ import annotations

import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import AuditEntry, Incident, OutboxMail
from tests.factories import NOW
from tests.pages.conftest import report_form

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time(NOW):
        yield


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _trail(session, incident_id):
    """What a report leaves behind: its audit entries and the mails queued, without ids and
    times, so a report made on the page and one made through the API can be compared."""
    audit = session.execute(
        select(AuditEntry.action, AuditEntry.outcome, AuditEntry.detail)
        .where(AuditEntry.incident_id == incident_id).order_by(AuditEntry.id)
    ).all()
    mails = session.execute(
        select(OutboxMail.kind, OutboxMail.recipient)
        .where(OutboxMail.incident_id == incident_id).order_by(OutboxMail.id)
    ).all()
    return [tuple(row) for row in audit], sorted(tuple(row) for row in mails)


def test_the_start_page_explains_the_five_forms_and_offers_one_button(pages, org):
    pages.sign_in(org.employee_a1)
    page = pages.get("/").get_data(as_text=True)
    for form in ("Trakasserier", "Hot", "Våld", "Skadegörelse", "Korruption"):
        assert f"<dt>{form}</dt>" in page
    assert 'class="button button-start" href="/report"' in page


def test_the_form_starts_with_today_now_and_the_reporters_own_unit(pages, org):
    pages.sign_in(org.employee_a1)
    page = pages.get("/report").get_data(as_text=True)
    assert 'name="occurred_date" value="2026-03-10"' in page
    assert 'name="occurred_time" value="10:30"' in page  # 09:30 UTC is 10:30 in Stockholm
    assert f'<option value="{org.a1.id}" selected>' in page


def test_a_report_from_the_page_is_the_report_the_api_makes(pages, client, make, org, db_session):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    response = pages.post("/report", report_form(org))
    assert response.status_code == 303
    incident_id = int(re.search(r"/reports/(\d+)/receipt$", response.headers["Location"])[1])
    incident = db_session.get(Incident, incident_id)
    assert (incident.category, incident.subcategory, incident.police_wanted) == (
        "threat", "death_threat", "yes")
    assert incident.reporter_id == org.employee_a1.id
    assert incident.occurred_at.isoformat() == "2026-03-10T07:15:00+00:00"

    body = {"category": "threat", "subcategory": "death_threat",
            "description": "The client said he knows where I live.",
            "occurred_at": "2026-03-10T08:15:00+01:00", "unit_id": org.a1.id,
            "perceived_influence_purpose": "yes", "police_wanted": "yes"}
    api = client.post("/api/v1/incidents", json=body, headers=make.headers(org.employee_a1))
    assert api.status_code == 201
    assert _trail(db_session, incident_id) == _trail(db_session, api.json["id"])
    audit, mails = _trail(db_session, incident_id)
    assert audit == [("create", "ok", None)]
    assert (("new_incident", org.manager_a.email) in mails)


def test_the_receipt_gives_the_reference_and_what_happens_next(pages, org, db_session):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    receipt = pages.get(pages.post("/report", report_form(org)).headers["Location"])
    page = receipt.get_data(as_text=True)
    reference = db_session.scalar(select(Incident.reference))
    assert reference in page
    assert "24" in page  # acknowledged within 24 hours
    # Nothing personal in the address or the title (browser history, proxy logs).
    title = re.search(r"<title>(.*?)</title>", page, re.S)[1]
    assert "knows where I live" not in title and org.employee_a1.name not in title


@pytest.mark.parametrize(
    ("change", "field_anchor"),
    [
        ({"category": None}, "category-harassment"),
        ({"description": "   "}, "description"),
        ({"description": ""}, "description"),
        ({"occurred_date": "2026-03-11"}, "occurred-date"),  # tomorrow
        ({"occurred_date": "not a date"}, "occurred-date"),
        ({"unit_id": "999999"}, "unit-id"),
        ({"unit_id": "x"}, "unit-id"),
        ({"perceived_influence_purpose": None}, "purpose-yes"),
        ({"subcategory": "violence:weapon"}, "subcategory"),
        ({"for_whom": "colleague", "on_behalf_of": ""}, "on-behalf-of"),
        ({"police_wanted": "maybe"}, "police-wanted-yes"),
    ],
)
def test_a_wrong_field_is_named_in_the_summary_and_nothing_is_lost_or_written(
    pages, org, db_session, change, field_anchor
):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    before = (_count(db_session, Incident), _count(db_session, AuditEntry),
              _count(db_session, OutboxMail))
    response = pages.post("/report", report_form(org, **change))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)[0]
    assert f'href="#{field_anchor}"' in summary
    assert f'id="{field_anchor}"' in page
    assert page.count('class="field-error"') >= 1
    assert "<title>Fel:" in page
    # What was typed is still there.
    if change.get("description", "x").strip():
        assert "The client said he knows where I live." in page
    assert (_count(db_session, Incident), _count(db_session, AuditEntry),
            _count(db_session, OutboxMail)) == before


def test_whitespace_only_description_is_refused(pages, org, db_session):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    response = pages.post("/report", report_form(org, description=" \n\t "))
    assert response.status_code == 422
    assert _count(db_session, Incident) == 0


def test_reporting_for_a_colleague_names_them_as_the_exposed_employee(pages, org, db_session):
    pages.sign_in(org.employee_a1)
    page = pages.get("/report").get_data(as_text=True)
    offered = re.search(r'<select id="on-behalf-of".*?</select>', page, re.S)[0]
    assert f'<option value="{org.colleague_a1.id}"' in offered
    assert f'<option value="{org.employee_b1.id}"' not in offered  # another unit: not offered
    assert f'<option value="{org.employee_a1.id}"' not in offered  # not oneself
    response = pages.post("/report", report_form(
        org, for_whom="colleague", on_behalf_of=str(org.colleague_a1.id)))
    assert response.status_code == 303
    assert db_session.scalar(select(Incident.on_behalf_of_id)) == org.colleague_a1.id


def test_a_report_needs_the_reporting_role_as_in_the_api(pages, org, db_session):
    pages.sign_in(org.admin)
    pages.get("/report")
    response = pages.post("/report", report_form(org))
    assert response.status_code == 403
    assert _count(db_session, Incident) == 0


def test_my_reports_lists_own_reports_newest_first_with_status_and_next_step(
    pages, make, org, db_session
):
    older = make.incident(org.employee_a1, org.a1, occurred_at=NOW.replace(day=1))
    newer = make.incident(org.employee_a1, org.a1, occurred_at=NOW.replace(day=5))
    for_me = make.incident(org.colleague_a1, org.a1, on_behalf_of=org.employee_a1.id,
                           occurred_at=NOW.replace(day=3))
    someone_elses = make.incident(org.employee_b1, org.b1)
    pages.sign_in(org.employee_a1)
    page = pages.get("/my-reports").get_data(as_text=True)
    positions = [page.find(i.reference) for i in (newer, for_me, older)]
    assert -1 not in positions and positions == sorted(positions)
    assert someone_elses.reference not in page
    assert "Rapporterad" in page and "24" in page

    # A manager's list holds their own reports, not those of the units they lead.
    pages.sign_in(org.manager_a)
    assert older.reference not in pages.get("/my-reports").get_data(as_text=True)


def test_one_report_page_reads_and_writes_messages(pages, client, make, org, db_session):
    incident = make.incident(org.employee_a1, org.a1)
    client.post(f"/api/v1/incidents/{incident.id}/messages", json={"body": "Can we talk at 10?"},
                headers=make.headers(org.manager_a))
    pages.sign_in(org.employee_a1)
    page = pages.get(f"/reports/{incident.id}").get_data(as_text=True)
    assert "Can we talk at 10?" in page
    response = pages.post(f"/reports/{incident.id}/messages", {"body": "Yes, 10 is fine."})
    assert response.status_code == 303
    assert "Yes, 10 is fine." in pages.get(response.headers["Location"]).get_data(as_text=True)
    thread = client.get(f"/api/v1/incidents/{incident.id}/messages",
                        headers=make.headers(org.manager_a)).json
    assert [m["body"] for m in thread] == ["Can we talk at 10?", "Yes, 10 is fine."]
    # An empty message is refused in place.
    refused = pages.post(f"/reports/{incident.id}/messages", {"body": "  "})
    assert refused.status_code == 422 and 'href="#message-body"' in refused.get_data(as_text=True)


def test_someone_elses_report_is_not_found(pages, make, org):
    incident = make.incident(org.employee_b1, org.b1)
    pages.sign_in(org.employee_a1)
    response = pages.get(f"/reports/{incident.id}")
    assert response.status_code == 404
    assert incident.reference not in response.get_data(as_text=True)
    assert pages.get("/reports/99999999999999999999999").status_code == 404


def _deliver_support(client, make, org, incident):
    headers = make.headers(org.manager_a)
    assert client.post(f"/api/v1/incidents/{incident.id}/acknowledge",
                       headers=headers).status_code == 200
    measure = client.post(
        f"/api/v1/incidents/{incident.id}/support-measures",
        json={"type": "debriefing", "offered_at": NOW.isoformat(), "accepted": True,
              "delivered_at": NOW.isoformat()},
        headers=headers,
    )
    assert measure.status_code == 201, measure.json


def test_the_support_evaluation_is_offered_when_due_and_saved(pages, client, make, org,
                                                                db_session):
    incident = make.incident(org.employee_a1, org.a1)
    pages.sign_in(org.employee_a1)
    assert 'id="evaluation"' not in pages.get(f"/reports/{incident.id}").get_data(as_text=True)
    _deliver_support(client, make, org, incident)
    page = pages.get(f"/reports/{incident.id}").get_data(as_text=True)
    assert 'id="evaluation"' in page
    assert "Berätta om stödet räckte." in pages.get("/my-reports").get_data(as_text=True)

    missing = pages.post(f"/reports/{incident.id}/evaluation", {"sufficient": "yes"})
    assert missing.status_code == 422
    assert 'href="#relevant-yes"' in missing.get_data(as_text=True)

    saved = pages.post(f"/reports/{incident.id}/evaluation", {
        "sufficient": "partly", "relevant": "yes", "felt_supported_by_employer": "4",
        "comment": "Good talk."})
    assert saved.status_code == 303
    evaluation = client.get(f"/api/v1/incidents/{incident.id}/support-evaluation",
                            headers=make.headers(org.manager_a)).json
    assert (evaluation["sufficient"], evaluation["felt_supported_by_employer"]) == ("partly", 4)
    # Evaluated: no longer the next step.
    assert "Berätta om stödet räckte." not in pages.get("/my-reports").get_data(as_text=True)


def _version(response) -> str:
    return re.search(r'name="version" value="(\d*)"', response.get_data(as_text=True))[1]


def test_a_stale_evaluation_form_does_not_overwrite_a_newer_one(pages, other_pages, client,
                                                                  make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _deliver_support(client, make, org, incident)
    answers = {"sufficient": "yes", "relevant": "yes", "felt_supported_by_employer": "5"}
    pages.sign_in(org.employee_a1)
    pages.get(f"/reports/{incident.id}")
    pages.post(f"/reports/{incident.id}/evaluation", answers)
    seen = _version(pages.get(f"/reports/{incident.id}"))
    other_pages.sign_in(org.employee_a1)
    newer = _version(other_pages.get(f"/reports/{incident.id}"))
    assert seen == newer
    assert other_pages.post(f"/reports/{incident.id}/evaluation",
                            {**answers, "sufficient": "no", "version": newer}).status_code == 303
    stale = pages.post(f"/reports/{incident.id}/evaluation",
                       {**answers, "sufficient": "partly", "version": seen})
    assert stale.status_code == 303
    assert 'class="notice notice-error"' in pages.get(stale.headers["Location"]).get_data(
        as_text=True)
    evaluation = client.get(f"/api/v1/incidents/{incident.id}/support-evaluation",
                            headers=make.headers(org.employee_a1)).json
    assert evaluation["sufficient"] == "no"
