"""The employee guide quotes the pages in «Swedish»: every quote must be on a page the guide
describes (rendered here, in Swedish) or be a label of the service's vocabulary, so the guide
cannot go stale when a page changes."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import render_template
from freezegun import freeze_time

from incidents import domain
from tests.factories import NOW
from tests.pages.conftest import report_form

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "employee-guide.md"


def _text(response_or_html) -> str:
    raw = response_or_html if isinstance(response_or_html, str) else (
        response_or_html.get_data(as_text=True))
    raw = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def _labels() -> list[str]:
    found = []
    for value in vars(domain).values():
        if isinstance(value, dict):
            for label in value.values():
                if isinstance(label, domain.Label):
                    found.append(label.sv)
    return found


def quotes(text: str) -> list[str]:
    return [" ".join(q.split()) for q in re.findall(r"«([^»]+)»", text)]


@pytest.fixture
def employee_pages(app, pages, other_pages, client, make, org):
    """The text of every page the employee guide shows, in Swedish."""
    seen: list[str] = []
    with freeze_time(NOW) as clock:
        seen += [_text(pages.get("/")), _text(pages.get("/anonymous/report"))]
        app.config["OIDC_CLIENT_ID"] = "guide"  # the sign-in button as with a provider
        try:
            seen.append(_text(pages.get("/signin")))
        finally:
            app.config["OIDC_CLIENT_ID"] = None
        with app.test_request_context("/signin/callback"):
            seen.append(_text(render_template("not_registered.html", inactive=False)))

        pages.sign_in(org.employee_a1)
        seen.append(_text(pages.get("/report")))
        seen.append(_text(pages.post("/report", report_form(org, occurred_date="2026-04-01"))))
        seen.append(_text(pages.get(pages.post("/report", report_form(org)).headers["Location"])))
        handler = make.headers(org.manager_a)
        acknowledged = make.incident(org.employee_a1, org.a1)
        client.post(f"/api/v1/incidents/{acknowledged.id}/acknowledge", headers=handler)
        followed = make.incident(org.employee_a1, org.a1)
        client.post(f"/api/v1/incidents/{followed.id}/acknowledge", headers=handler)
        client.post(f"/api/v1/incidents/{followed.id}/follow-ups", headers=handler, json={
            "type": "conversation", "note": "Talked.", "occurred_at": NOW.isoformat()})
        in_follow_up = make.incident(org.employee_a1, org.a1)
        client.post(f"/api/v1/incidents/{in_follow_up.id}/acknowledge", headers=handler)
        client.post(f"/api/v1/incidents/{in_follow_up.id}/follow-ups", headers=handler, json={
            "type": "conversation", "note": "Talked.", "occurred_at": NOW.isoformat()})
        client.post(f"/api/v1/incidents/{followed.id}/support-measures", headers=handler, json={
            "type": "debriefing", "accepted": True, "offered_at": NOW.isoformat(),
            "delivered_at": NOW.isoformat()})
        seen.append(_text(pages.get("/my-reports")))
        seen.append(_text(pages.get(f"/reports/{followed.id}")))
        pages.post(f"/reports/{followed.id}/evaluation", {
            "sufficient": "yes", "relevant": "yes", "felt_supported_by_employer": "5"})
        seen.append(_text(pages.get(f"/reports/{followed.id}")))
        seen.append(_text(pages.get("/reports/999999")))

        clock.tick(timedelta(minutes=31))
        pages.get("/my-reports")
        seen.append(_text(pages.get("/signin")))  # the notice of an ended session

        other_pages.get("/anonymous/report")
        receipt = other_pages.post("/anonymous/report", {
            key: value for key, value in report_form(org).items()
            if key not in {"for_whom", "subcategory"}})
        seen.append(_text(receipt))
        seen.append(_text(other_pages.get("/anonymous/follow")))
        reference = re.search(r'id="reference">([^<]+)<', receipt.get_data(as_text=True))[1]
        code = re.search(r'id="receipt-code">([^<]+)<', receipt.get_data(as_text=True))[1]
        seen.append(_text(other_pages.post("/anonymous/follow",
                                           {"reference": reference, "code": code})))
    return seen


def test_every_quote_of_the_employee_guide_is_on_a_page(employee_pages):
    quoted = quotes(GUIDE.read_text())
    assert len(quoted) > 40
    everything = " ".join(employee_pages)
    labels = _labels()
    missing = [q for q in quoted if q not in everything and q not in labels]
    assert not missing, "quoted in docs/employee-guide.md but on no page:\n  " + "\n  ".join(
        missing)


def test_the_guide_check_finds_a_quote_that_is_on_no_page(employee_pages):
    everything = " ".join(employee_pages)
    assert "Skicka rapport" in everything
    assert "Skicka rapporten nu" not in everything


MANAGER_GUIDE = GUIDE.parent / "manager-guide.md"


@pytest.fixture
def manager_pages(pages, client, make, org):
    """The text of every page the manager guide shows, in Swedish."""
    seen: list[str] = []
    with freeze_time(NOW) as clock:
        waiting = make.incident(org.employee_a1, org.a1, category="violence")
        case = make.incident(org.colleague_a1, org.a1, category="violence")
        clock.tick(timedelta(days=3))
        pages.sign_in(org.manager_a)
        seen.append(_text(pages.get("/cases")))
        seen.append(_text(pages.get(f"/cases/{case.id}")))
        pages.post(f"/cases/{case.id}/acknowledge")
        seen.append(_text(pages.get(f"/cases/{case.id}")))
        seen.append(_text(pages.post(f"/cases/{case.id}/close")))
        handler = make.headers(org.manager_a)
        client.post(f"/api/v1/incidents/{waiting.id}/acknowledge", headers=handler)
        client.post(f"/api/v1/incidents/{waiting.id}/follow-ups", headers=handler, json={
            "type": "conversation", "note": "Talked.", "occurred_at": NOW.isoformat()})
        client.put(f"/api/v1/incidents/{waiting.id}/support-declined", headers=handler,
                   json={})
        client.put(f"/api/v1/incidents/{waiting.id}/police-report", headers=handler, json={
            "decision": "do_not_report", "decision_reason": "The employee does not want it."})
        client.put(f"/api/v1/incidents/{waiting.id}/authority-reports", headers=handler,
                   json={"serious": False})
        closed = client.post(f"/api/v1/incidents/{waiting.id}/close", headers=handler)
        assert closed.status_code == 200, closed.json
        seen.append(_text(pages.get(f"/cases/{waiting.id}")))
    return seen


def test_every_quote_of_the_manager_guide_is_on_a_page(manager_pages):
    quoted = quotes(MANAGER_GUIDE.read_text())
    assert len(quoted) > 30
    everything = " ".join(manager_pages)
    labels = _labels()
    missing = [q for q in quoted if q not in everything and q not in labels]
    assert not missing, "quoted in docs/manager-guide.md but on no page:\n  " + "\n  ".join(
        missing)
