"""Who reaches which page: the access-matrix idea applied to the pages. Every page route has a
row (a guard fails for a new one without); each row is tried signed out, as an employee whose
report it is not, and as the reporter."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from incidents.models import Incident, Message, Unit, User
from tests.pages.conftest import report_form

# Who may open each page: "public" (anyone, no sign-in), "signed in" (else sent to sign-in),
# "dev" (development sign-in only; absent when DEV_SIGNIN is off), "reporter side" (signed in,
# and the report in their scope; else 404 as in the API), "case handler" (managers and hr:
# tests/pages/test_handler_pages.py), "admin" (the admin and platform admin roles only, everyone
# else 403 as from the API's units and users; each admin within the organisations and units
# they administer: tests/pages/test_admin_pages.py), "statistics" (managers, hr and
# statistics readers about the units they reach; everyone else 403, as the API's statistics:
# tests/pages/test_statistics_reader_pages.py), "hr" (the hr role
# only, everyone else 403), "participant" (employee, manager or hr of a unit the survey or
# workshop is for; everyone else 403, as the API's answers and ratings:
# tests/pages/test_hr_pages.py), "room" (a workshop's short link: anyone, no sign-in; a code that
# is no workshop's is 404).
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
    ("GET", "/cases"): "case handler",
    ("GET", "/cases/<int:incident_id>"): "case handler",
    ("POST", "/cases/<int:incident_id>/acknowledge"): "case handler",
    ("POST", "/cases/<int:incident_id>/follow-ups"): "case handler",
    ("POST", "/cases/<int:incident_id>/support-measures"): "case handler",
    ("POST", "/cases/<int:incident_id>/support-measures/<int:measure_id>"): "case handler",
    ("POST", "/cases/<int:incident_id>/support-declined"): "case handler",
    ("POST", "/cases/<int:incident_id>/check-ins/<int:check_in_id>"): "case handler",
    ("POST", "/cases/<int:incident_id>/police-report"): "case handler",
    ("POST", "/cases/<int:incident_id>/authority-reports"): "case handler",
    ("POST", "/cases/<int:incident_id>/messages"): "case handler",
    ("POST", "/cases/<int:incident_id>/close"): "case handler",
    ("POST", "/cases/<int:incident_id>/reopen"): "case handler",
    ("GET", "/summaries/<int:summary_id>"): "case handler",
    ("GET", "/summaries/<int:summary_id>/files/<string:name>"): "case handler",
    ("GET", "/metrics"): "public",  # operations: no personal data (docs/operations.md)
    ("GET", "/admin/units"): "admin",
    ("POST", "/admin/units"): "admin",
    ("GET", "/admin/units/<int:unit_id>"): "admin",
    ("POST", "/admin/units/<int:unit_id>"): "admin",
    ("POST", "/admin/units/<int:unit_id>/move"): "admin",
    ("POST", "/admin/units/<int:unit_id>/delete"): "admin",
    ("POST", "/admin/units/<int:unit_id>/headcounts"): "admin",
    ("GET", "/admin/users"): "admin",
    ("GET", "/admin/users/new"): "admin",
    ("POST", "/admin/users/new"): "admin",
    ("GET", "/admin/users/<int:user_id>"): "admin",
    ("POST", "/admin/users/<int:user_id>"): "admin",
    ("POST", "/admin/users/<int:user_id>/active"): "admin",
    ("GET", "/admin/settings"): "admin",
    ("POST", "/admin/settings"): "admin",
    ("GET", "/statistics"): "statistics",
    ("GET", "/statistics/charts/<any('incidents-by-form', 'police-reported-share'):name>.png"):
        "statistics",
    ("GET", "/statistics/<any(incidents, police, support, 'dark-figure'):table>."
            "<any(csv, xlsx):fmt>"): "statistics",
    ("GET", "/summaries"): "statistics",
    ("POST", "/summaries"): "hr",
    ("GET", "/surveys"): "hr",
    ("POST", "/surveys"): "hr",
    ("GET", "/surveys/<int:survey_id>"): "hr",
    ("GET", "/surveys/<int:survey_id>/answer"): "participant",
    ("POST", "/surveys/<int:survey_id>/answer"): "participant",
    ("GET", "/workshops"): "hr",
    ("POST", "/workshops"): "hr",
    ("GET", "/workshops/<int:workshop_id>"): "hr",
    ("POST", "/workshops/<int:workshop_id>/tally"): "hr",
    ("GET", "/workshops/<int:workshop_id>/count"): "hr",
    ("GET", "/w/<room_code>"): "room",
    ("POST", "/w/<room_code>"): "room",
    ("POST", "/w/<room_code>/usefulness"): "room",
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
            .replace("<int:summary_id>", "1").replace("<string:name>", "summary.sv.xlsx")
            .replace("<int:measure_id>", "1").replace("<int:check_in_id>", "1")
            .replace("<int:unit_id>", "1").replace("<int:user_id>", "1")
            .replace("<int:survey_id>", "1").replace("<int:workshop_id>", "1")
            .replace("<any('incidents-by-form', 'police-reported-share'):name>",
                     "incidents-by-form")
            .replace("<any(incidents, police, support, 'dark-figure'):table>", "incidents")
            .replace("<any(csv, xlsx):fmt>", "csv"))


SIGNED_IN = [key for key, who in PAGES.items()
             if who in {"signed in", "reporter side", "case handler", "admin", "statistics",
                        "hr", "participant"}]


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


@pytest.mark.parametrize(("method", "rule"), [k for k, who in PAGES.items() if who == "room"])
def test_a_workshop_room_needs_no_sign_in_but_a_real_code(pages, make, org, db_session,
                                                         method, rule):
    """Anyone in the room rates without an account; a code that is no workshop's is 404 (and
    the workshop's id is not its code)."""
    workshop = make.workshop(org.hr, [org.dept_a])
    pages.get(f"/w/{workshop.room_code}")  # the form token and the device cookie
    for code, wanted in ((workshop.room_code, {200, 303, 422}), (str(workshop.id), {404}),
                         ("zzzzzz", {404})):
        path = rule.replace("<room_code>", code)
        response = pages.get(path) if method == "GET" else pages.post(path, {})
        assert response.status_code in wanted, (path, response.status_code)
        assert response.headers.get("Location") != "/signin"


CASE_ROUTES = [key for key, who in PAGES.items()
               if who == "case handler" and key[1].startswith("/cases/")]


@pytest.mark.parametrize(("method", "rule"), CASE_ROUTES)
def test_case_pages_reach_the_cases_one_handles_and_no_others(
    pages, make, org, method, rule
):
    """Outside the handler's scope a case is not found (404) and an employee is no case
    handler (403), on every page and form of a case, as in the API."""
    incident = make.incident(org.employee_a1, org.a1)
    for user, status in ((org.manager_b1, 404), (org.employee_b1, 403)):
        pages.sign_in(user)
        path = _path(rule, incident.id)
        response = pages.get(path) if method == "GET" else pages.post(path, {})
        assert response.status_code == status, (user, path, response.status_code)
        assert incident.reference not in response.get_data(as_text=True)


ADMIN_ROUTES = [key for key, who in PAGES.items() if who == "admin"]


@pytest.mark.parametrize(("method", "rule"), ADMIN_ROUTES)
def test_admin_pages_are_for_admins_only(pages, other_pages, org, db_session, method, rule):
    """Every other role gets 403 on every page and form, as from the API's units and users;
    an admin reaches each: the page, or the form shown again with what is wrong (422), or,
    for a form without the version it was shown with, the page as it is now (303). The empty
    forms posted here change nothing."""
    path = (rule.replace("<int:unit_id>", str(org.b1.id))
            .replace("<int:user_id>", str(org.employee_b1.id)))
    for user in (org.employee_a1, org.manager_a, org.hr):
        pages.sign_in(user)
        pages.get("/my-reports")
        response = pages.get(path) if method == "GET" else pages.post(path, {})
        assert response.status_code == 403, (user, path, response.status_code)
    other_pages.sign_in(org.admin)
    other_pages.get("/admin/units")
    response = other_pages.get(path) if method == "GET" else other_pages.post(path, {})
    expected = {200} if method == "GET" else {303, 422}
    assert response.status_code in expected, (path, response.status_code)
    assert (db_session.get(Unit, org.b1.id).parent_id, db_session.get(User, org.employee_b1.id)
            .active) == (org.dept_b.id, True)


HR_ROUTES = [(method, rule, who) for (method, rule), who in PAGES.items()
             if who in {"statistics", "hr"}]


@pytest.mark.parametrize(("method", "rule", "who"), HR_ROUTES)
def test_hr_pages_are_for_hr_and_statistics_for_managers_too(pages, other_pages, org, make,
                                                              method, rule, who):
    """Employees and admins get 403 on every page and form; managers reach the statistics
    and the list of summaries (the API's statistics and summaries) and get 403 elsewhere; hr
    reaches each: the page, or an empty form shown again with what is wrong (422)."""
    from datetime import UTC, datetime, timedelta

    from incidents.services import surveys, workshops

    now = datetime.now(UTC)
    survey = surveys.create_survey(org.hr, {
        "title": "S", "unit_ids": [org.dept_a.id], "opens_at": now - timedelta(hours=1),
        "closes_at": now + timedelta(days=1)})
    workshop = workshops.create_workshop(org.hr, {
        "title": "W", "held_on": now.date(), "unit_ids": [org.dept_a.id],
        "expected_participants": 10, "opens_at": now - timedelta(hours=1),
        "closes_at": now + timedelta(hours=1)})
    path = rule
    for placeholder, value in (("<int:survey_id>", survey["id"]),
                               ("<int:workshop_id>", workshop["id"])):
        path = path.replace(placeholder, str(value))
    path = _path(path, 1)
    refused = [org.employee_a1, org.admin] + ([] if who == "statistics" else [org.manager_a])
    for user in refused:
        pages.sign_in(user)
        pages.get("/my-reports")
        response = pages.get(path) if method == "GET" else pages.post(path, {})
        assert response.status_code == 403, (user, path, response.status_code)
    for user in [org.hr] + ([org.manager_a] if who == "statistics" else []):
        other_pages.sign_in(user)
        other_pages.get("/my-reports")
        response = other_pages.get(path) if method == "GET" else other_pages.post(path, {})
        assert response.status_code in ({200} if method == "GET" else {422}), (
            user, path, response.status_code)


PARTICIPANT_ROUTES = [key for key, who in PAGES.items() if who == "participant"]


@pytest.mark.parametrize(("method", "rule"), PARTICIPANT_ROUTES)
def test_a_survey_or_workshop_is_answered_by_its_units_only(pages, other_pages, org, method,
                                                            rule):
    """Someone of another unit, or an admin, gets 403, as from the API; an employee of the
    unit reaches the page, or the empty form shown again with what is wrong (422)."""
    from datetime import UTC, datetime, timedelta

    from incidents.services import surveys, workshops

    now = datetime.now(UTC)
    survey = surveys.create_survey(org.hr, {
        "title": "S", "unit_ids": [org.dept_a.id], "opens_at": now - timedelta(hours=1),
        "closes_at": now + timedelta(days=1)})
    workshop = workshops.create_workshop(org.hr, {
        "title": "W", "held_on": now.date(), "unit_ids": [org.dept_a.id],
        "expected_participants": 10, "opens_at": now - timedelta(hours=1),
        "closes_at": now + timedelta(hours=1)})
    path = (rule.replace("<int:survey_id>", str(survey["id"]))
            .replace("<int:workshop_id>", str(workshop["id"])))
    for user in (org.employee_b1, org.admin):
        pages.sign_in(user)
        pages.get("/my-reports")
        response = pages.get(path) if method == "GET" else pages.post(path, {})
        assert response.status_code == 403, (user, path, response.status_code)
    other_pages.sign_in(org.employee_a1)
    other_pages.get("/my-reports")
    response = other_pages.get(path) if method == "GET" else other_pages.post(path, {})
    assert response.status_code == (200 if method == "GET" else 422), response.status_code
