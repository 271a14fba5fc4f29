"""Reporting anonymously on the pages: no session, no cookie, the code shown once, and the
report followed by reference and code. What is sent is held until the full hour; most tests
here publish it at once (tests/anonymous_helpers.py)."""

from __future__ import annotations

import logging
import re

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import AnonymousPending, Incident, WebSession
from tests.anonymous_helpers import publish_held
from tests.factories import NOW
from tests.pages.conftest import report_form


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def _anonymous_form(org, **overrides):
    form = report_form(org, **overrides)
    for field in ("for_whom", "subcategory"):
        form.pop(field, None)
    return form


def _report(pages, org, publish=True, **overrides):
    """Report on the page; published as the next full hour does, unless ``publish`` is off."""
    pages.get("/anonymous/report")
    response = pages.post("/anonymous/report", _anonymous_form(org, **overrides))
    page = response.get_data(as_text=True)
    reference = re.search(r'id="reference">([^<]+)<', page)
    code = re.search(r'id="receipt-code">([^<]+)<', page)
    if publish:
        publish_held()
    return response, reference and reference[1], code and code[1]


def _nothing_written(db_session) -> bool:
    return not any(db_session.scalar(select(func.count()).select_from(table))
                   for table in (Incident, AnonymousPending))


def test_an_anonymous_report_sets_no_cookie_and_opens_no_session(pages, org, db_session):
    form_page = pages.get("/anonymous/report")
    response, reference, code = _report(pages, org)
    assert response.status_code == 201
    for answer in (form_page, response):
        assert "Set-Cookie" not in answer.headers
    assert db_session.scalar(select(func.count()).select_from(WebSession)) == 0
    incident = db_session.scalar(select(Incident))
    assert incident.anonymous and incident.reporter_id is None
    assert incident.reference == reference and code
    assert "Write down" in response.get_data(as_text=True) or "Skriv ner" in (
        response.get_data(as_text=True))
    # The code is nowhere in the address and the answer is not kept by any cache.
    assert response.headers["Cache-Control"] == "no-store"


def test_a_signed_in_person_reporting_anonymously_is_not_tied_to_the_report(
    pages, org, db_session
):
    pages.sign_in(org.employee_a1)
    response, _, _ = _report(pages, org)
    assert response.status_code == 201
    incident = db_session.scalar(select(Incident))
    assert incident.reporter_id is None
    row = db_session.scalar(select(WebSession))
    assert "OP-" not in row.data  # the session learned nothing of the report


def test_identifying_fields_are_not_offered_on_the_anonymous_form(pages, org):
    page = pages.get("/anonymous/report").get_data(as_text=True)
    for name in ("on_behalf_of", "injured", "sick_leave", "for_whom", "csrf_token"):
        assert f'name="{name}"' not in page


def test_the_report_is_followed_by_reference_and_code_and_messages_exchanged(
    pages, other_pages, client, make, org
):
    _, reference, code = _report(pages, org)
    follow = other_pages.get("/anonymous/follow")
    assert follow.status_code == 200
    shown = other_pages.post("/anonymous/follow", {"reference": reference, "code": code})
    assert shown.status_code == 200
    assert reference in shown.get_data(as_text=True)
    sent = other_pages.post("/anonymous/follow/messages",
                            {"reference": reference, "code": code, "body": "It happened again."})
    assert sent.status_code == 200
    assert "It happened again." in sent.get_data(as_text=True)
    publish_held()
    incident_id = client.get("/api/v1/incidents", headers=make.headers(org.manager_a)).json[
        "items"][0]["id"]
    thread = client.get(f"/api/v1/incidents/{incident_id}/messages",
                        headers=make.headers(org.manager_a)).json
    assert [m["body"] for m in thread] == ["It happened again."]
    assert thread[0]["author_id"] is None


@pytest.mark.parametrize("wrong", ["code", "reference"])
def test_a_wrong_code_or_reference_finds_nothing_and_says_so(pages, org, wrong):
    _, reference, code = _report(pages, org)
    values = {"reference": reference, "code": code}
    values[wrong] = "OP-2026-999999" if wrong == "reference" else "AAAA-BBBB-CCCC-DDDD"
    pages.get("/anonymous/follow")
    response = pages.post("/anonymous/follow", values)
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert 'href="#code"' in page and "It happened" not in page


def test_an_empty_follow_form_names_both_fields(pages):
    pages.get("/anonymous/follow")
    page = pages.post("/anonymous/follow", {}).get_data(as_text=True)
    assert 'href="#reference"' in page and 'href="#code"' in page


def test_an_anonymous_form_without_its_form_token_or_from_another_site_is_refused(
    pages, org, db_session
):
    pages.get("/anonymous/report")
    assert pages.post("/anonymous/report", _anonymous_form(org), token=False).status_code == 400
    assert pages.post("/anonymous/report", _anonymous_form(org),
                      origin="https://evil.example").status_code == 400
    assert _nothing_written(db_session)


def test_a_wrong_anonymous_report_keeps_what_was_typed(pages, org, db_session):
    pages.get("/anonymous/report")
    response = pages.post("/anonymous/report", _anonymous_form(org, category=None))
    assert response.status_code == 422
    assert "The client said he knows where I live." in response.get_data(as_text=True)
    assert _nothing_written(db_session)


def test_the_request_log_keeps_no_address_or_time_for_anonymous_pages():
    from incidents import _AnonymousChannelLogFilter

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '10.1.2.3 - - [10/Mar/2026 09:30:00] "POST /anonymous/report '
                               'HTTP/1.1" 201 -', (), None)
    _AnonymousChannelLogFilter().filter(record)
    assert "10.1.2.3" not in record.getMessage() and "09:30" not in record.getMessage()


def test_the_anonymous_reporter_sees_statuses_but_not_the_handlers_reasons(
    pages, client, make, org
):
    _, reference, code = _report(pages, org)
    handler = make.headers(org.manager_a)
    incident_id = client.get("/api/v1/incidents", headers=handler).json["items"][0]["id"]
    base = f"/api/v1/incidents/{incident_id}"
    client.post(f"{base}/acknowledge", headers=handler)
    client.post(f"{base}/follow-ups", headers=handler, json={
        "type": "other", "note": "Looked into it.", "occurred_at": NOW.isoformat()})
    client.post(f"{base}/messages", headers=handler, json={"body": "Thank you."})
    client.put(f"{base}/police-report", headers=handler, json={
        "decision": "do_not_report", "decision_reason": "Nobody to report."})
    assert client.post(f"{base}/close", headers=handler).status_code == 200
    assert client.post(f"{base}/reopen", headers=handler,
                       json={"reason": "Internal: the perpetrator came back"}).status_code == 200
    pages.get("/anonymous/follow")
    page = pages.post("/anonymous/follow", {"reference": reference, "code": code}).get_data(
        as_text=True)
    assert "Avslutad" in page and "Under uppföljning" in page
    assert "perpetrator came back" not in page


def test_the_pages_say_when_a_held_report_and_message_reach_the_case_handlers(
    pages, other_pages, org, db_session
):
    """Sent at 10:30 Stockholm time (NOW), it reaches the handlers at 11:00: the receipt says
    so, and so does the follow page for the report and the reporter's message until then."""
    response, reference, code = _report(pages, org, publish=False)
    receipt = response.get_data(as_text=True)
    assert re.search(r'id="reaches-at">[^<]*2026-03-10 11:00', receipt)
    assert "112" in receipt
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0

    other_pages.get("/anonymous/follow")
    shown = other_pages.post("/anonymous/follow", {"reference": reference, "code": code})
    assert shown.status_code == 200
    assert re.search(r'id="not-yet-published"[^>]*>[^<]*2026-03-10 11:00',
                     shown.get_data(as_text=True))
    sent = other_pages.post("/anonymous/follow/messages",
                            {"reference": reference, "code": code, "body": "Han kom igen."})
    page = sent.get_data(as_text=True)
    waiting = page[page.index('class="messages"'):]
    assert "Han kom igen." in waiting and "2026-03-10 11:00" in waiting

    publish_held()
    shown = other_pages.post("/anonymous/follow", {"reference": reference, "code": code})
    page = shown.get_data(as_text=True)
    assert 'id="not-yet-published"' not in page and "Han kom igen." in page
    assert "2026-03-10 11:00" not in page
