"""Who reaches which page: the access-matrix idea applied to the pages. Every page route has a
row (a guard fails for a new one without); each row is tried signed out, as an employee whose
report it is not, and as the reporter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from incidents.models import Incident, Message
from tests.pages.conftest import report_form

# Who may open each page: "public" (anyone, no sign-in), "signed in" (else sent to sign-in),
# "dev" (development sign-in only; absent when DEV_SIGNIN is off), "reporter side" (signed in,
# and the report in their scope; else 404 as in the API), "case handler" (managers and hr:
# tests/pages/test_handler_pages.py).
PAGES = {
    ("GET", "/"): "public",
    ("GET", "/signin"): "public",
    ("POST", "/signin/oidc"): "public",
    ("GET", "/signin/callback"): "public",
    ("POST", "/signout"): "public",
    ("GET", "/signed-out"): "public",
    ("GET", "/language/<code>"): "public",
    ("GET", "/report"): "signed in",
    ("POST", "/report"): "signed in",
    ("GET", "/my-reports"): "signed in",
    ("GET", "/reports/<int:incident_id>"): "reporter side",
    ("GET", "/reports/<int:incident_id>/receipt"): "reporter side",
    ("POST", "/reports/<int:incident_id>/messages"): "reporter side",
    ("POST", "/reports/<int:incident_id>/evaluation"): "reporter side",
    ("GET", "/anonymous/report"): "public",
    ("POST", "/anonymous/report"): "public",
    ("GET", "/anonymous/follow"): "public",
    ("POST", "/anonymous/follow"): "public",
    ("POST", "/anonymous/follow/messages"): "public",
    ("GET", "/overdue"): "case handler",
    ("GET", "/summaries/<int:summary_id>"): "case handler",
    ("GET", "/summaries/<int:summary_id>/files/<string:name>"): "case handler",
    ("GET", "/dev/signin"): "dev",
    ("POST", "/dev/signin"): "dev",
    ("POST", "/dev/demo-organisation"): "dev",
    ("GET", "/dev/mailbox"): "dev",
}


def page_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(("/api/", "/static/"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_page_has_a_row_and_every_row_a_page(app):
    assert page_routes(app) == set(PAGES)


def _path(rule: str, incident_id: int) -> str:
    return (rule.replace("<int:incident_id>", str(incident_id)).replace("<code>", "sv")
            .replace("<int:summary_id>", "1").replace("<string:name>", "summary.sv.xlsx"))


SIGNED_IN = [key for key, who in PAGES.items()
             if who in {"signed in", "reporter side", "case handler"}]


@pytest.mark.parametrize(("method", "rule"), SIGNED_IN)
def test_signed_out_a_page_for_people_with_an_account_sends_to_sign_in(
    pages, make, org, db_session, method, rule
):
    incident = make.incident(org.employee_a1, org.a1)
    pages.get("/anonymous/report")  # a form token, which does not stand in for a session
    response = (pages.get(_path(rule, incident.id)) if method == "GET"
                else pages.post(_path(rule, incident.id), report_form(org)))
    if method == "GET":
        assert response.status_code == 302 and response.headers["Location"] == "/signin"
    else:  # no session, so no CSRF token: refused before anything else
        assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Message)) == 0
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 1


@pytest.mark.parametrize(
    ("method", "rule"), [key for key, who in PAGES.items() if who == "reporter side"]
)
def test_a_report_outside_ones_scope_is_not_found_and_one_inside_is_reached(
    pages, other_pages, make, org, method, rule
):
    incident = make.incident(org.employee_a1, org.a1)
    body = {"body": "Hello", "sufficient": "yes"}
    pages.sign_in(org.employee_b1)  # another unit: not theirs
    outside = (pages.get(_path(rule, incident.id)) if method == "GET"
               else pages.post(_path(rule, incident.id), body))
    assert outside.status_code == 404
    assert incident.reference not in outside.get_data(as_text=True)

    other_pages.sign_in(org.employee_a1)
    inside = (other_pages.get(_path(rule, incident.id)) if method == "GET"
              else other_pages.post(_path(rule, incident.id), body))
    # Reached: the page, or the service's own answer (a message sent; an evaluation with
    # answers missing is shown again with its errors).
    assert inside.status_code in {200, 303, 422}, inside.status_code


@pytest.mark.parametrize(("method", "rule"), [k for k, who in PAGES.items() if who == "public"])
def test_public_pages_need_no_sign_in(pages, method, rule):
    if method == "POST":
        pages.get("/anonymous/report" if rule.startswith("/anonymous") else "/dev/signin")
    response = (pages.get(_path(rule, 1)) if method == "GET" else pages.post(_path(rule, 1), {}))
    assert response.status_code not in {401, 403, 404, 500}
    if not rule.startswith("/signin"):  # without a provider configured, sign-in is the page
        assert response.headers.get("Location") != "/signin"
