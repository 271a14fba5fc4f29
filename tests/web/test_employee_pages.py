"""The employee's pages in a real Chromium, signed in at a real OpenID Connect provider: every
page checked with axe-core (WCAG 2.1 A/AA), at 320 px, for foreign loads, and photographed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.web.browser import sign_in, sign_out_at_provider


@pytest.fixture
def team(live_data):
    """A unit with an employee, a colleague and the manager who leads it."""
    unit = live_data.unit(f"Barn och unga {live_data.email('u')[:12]}")
    return {
        "unit": unit,
        "employee": live_data.user(live_data.email("anna"), "employee", unit=unit,
                                   name="Anna Andersson"),
        "colleague": live_data.user(live_data.email("bo"), "employee", unit=unit,
                                    name="Bo Berg"),
        "manager": live_data.user(live_data.email("maria"), "employee", "manager", unit=unit,
                                  leads=(unit,), name="Maria Chef"),
    }


def _as(live_server, user_id, action):
    """Run a service call as a person, committed, as the manager's own pages or API would."""
    from incidents.extensions import db
    from incidents.models import User

    with live_server.app_context() as session:
        result = action(db.session.get(User, user_id))
        session.commit()
        return result


def _report_threat(page):
    page.get_by_role("radio", name="Hot").check()
    page.get_by_label("Vad gjordes och vad sades?").fill(
        "Klienten sa att han vet var jag bor och att jag ska akta mig.")
    page.locator("#purpose-yes").check()
    page.locator("#police-wanted-unsure").check()


def test_an_employee_reports_a_threat_follows_it_and_evaluates_the_support(
    page, live_server, team, check_page
):
    from incidents.services import lifecycle, messages, support

    page.goto("/")
    check_page(page, "start-signed-out")
    sign_in(page, live_server, team["employee"].email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rapportera")
    check_page(page, "start")

    page.get_by_role("link", name="Rapportera en händelse").first.click()
    expect(page).to_have_url(re.compile(r"/report$"))
    check_page(page, "report-form")

    # Sent empty: the error summary names each required answer and links to it.
    page.get_by_role("button", name="Skicka rapport").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(3)
    check_page(page, "report-form-errors")
    summary.locator("a[href=\"#description\"]").click()
    expect(page.locator("#description")).to_be_focused()

    _report_threat(page)
    page.get_by_role("button", name="Skicka rapport").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Din rapport har skickats")
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"OP-\d{4}-\d{6}", reference)
    assert "akta mig" not in page.title() and "akta" not in page.url
    check_page(page, "receipt")

    page.get_by_role("link", name="Mina rapporter").first.click()
    item = page.locator(".report-item", has_text=reference)
    expect(item).to_contain_text("Rapporterad")
    check_page(page, "my-reports")

    incident_id = int(item.get_by_role("link").get_attribute("href").rsplit("/", 1)[1])
    _as(live_server, team["manager"].id,
        lambda manager: messages.post_for_user(manager, incident_id,
                                               "Hej Anna, kan vi prata i morgon klockan 10?"))
    item.get_by_role("link", name=reference).click()
    expect(page.locator("#messages")).to_contain_text("kan vi prata i morgon")
    page.get_by_label("Skriv ett meddelande").fill("Ja, klockan 10 passar bra.")
    page.get_by_role("button", name="Skicka meddelande").click()
    expect(page.locator(".messages")).to_contain_text("Ja, klockan 10 passar bra.")
    check_page(page, "report-page")

    def deliver(manager):
        lifecycle.acknowledge(manager, incident_id)
        now = datetime.now(UTC)
        support.add_support_measure(manager, incident_id, {
            "type": "debriefing", "offered_at": now,
            "accepted": True, "delivered_at": now})

    _as(live_server, team["manager"].id, deliver)
    page.reload()
    evaluation = page.locator("#evaluation")
    expect(evaluation).to_be_visible()
    check_page(page, "report-page-evaluation")
    evaluation.locator("#sufficient-partly").check()
    evaluation.locator("#relevant-yes").check()
    evaluation.locator("#felt-supported-4").check()
    evaluation.get_by_role("button").click()
    expect(page.locator(".notice-success")).to_be_visible()

    def answers(employee):
        saved = support.read_evaluation(employee, incident_id)
        return saved.sufficient, saved.relevant, saved.felt_supported_by_employer

    assert _as(live_server, team["employee"].id, answers) == ("partly", "yes", 4)


def _tab_to(page, element_id: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} was not reached with Tab")


def test_a_report_can_be_made_with_the_keyboard_alone(page, live_server, team):
    sign_in(page, live_server, team["employee"].email)
    page.goto("/report")
    _tab_to(page, "category-harassment")
    page.keyboard.press("ArrowDown")  # radios move with the arrows: Hot
    assert page.evaluate("document.activeElement.id") == "category-threat"
    _tab_to(page, "description")
    page.keyboard.type("Han ringde tre gånger och sa att han vet var mina barn går i skolan.")
    _tab_to(page, "purpose-yes")
    page.keyboard.press("Space")
    _tab_to(page, "police-wanted-yes")
    page.keyboard.press("Space")
    # On to the button and send it, still by keyboard.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Din rapport har skickats")


def test_a_form_without_the_csrf_token_is_refused(page, live_server, team):
    sign_in(page, live_server, team["employee"].email)
    page.goto("/report")
    answer = page.request.post(f"{live_server.url}/report", headers={"Origin": live_server.url},
                               form={"category": "threat", "description": "x",
                                     "occurred_date": "2026-01-01", "unit_id": "1",
                                     "perceived_influence_purpose": "yes"})
    assert answer.status == 400
    page.goto("/my-reports")
    expect(page.locator(".report-item")).to_have_count(0)


def test_an_expired_session_sends_back_to_sign_in_without_losing_the_report(
    page, live_server, team
):
    from incidents.models import WebSession

    sign_in(page, live_server, team["employee"].email)
    page.goto("/report")
    _report_threat(page)
    with live_server.app_context() as session:
        row = session.query(WebSession).filter_by(user_id=team["employee"].id).one()
        row.last_seen_at = datetime.now(UTC) - timedelta(hours=1)  # idle past 30 minutes
        session.commit()
    page.get_by_role("button", name="Skicka rapport").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.locator(".notice")).to_be_visible()
    page.get_by_role("button", name=re.compile("Logga in")).click()
    expect(page).to_have_url(re.compile(r"/report$"))
    expect(page.locator("#description")).to_have_value(re.compile("akta mig"))
    expect(page.locator("#category-threat")).to_be_checked()
    page.get_by_role("button", name="Skicka rapport").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Din rapport har skickats")


def test_someone_the_service_does_not_know_gets_a_clear_page(page, live_server, check_page):
    sign_in(page, live_server, "stranger@elsewhere.example", must_succeed=False)
    expect(page.get_by_role("heading", level=1)).to_contain_text("kan inte")
    check_page(page, "not-registered")


def test_signing_out_ends_the_session_here_and_at_the_provider(page, live_server, team,
                                                               check_page):
    sign_in(page, live_server, team["employee"].email)
    page.get_by_role("button", name="Logga ut").click()
    sign_out_at_provider(page, live_server)
    expect(page).to_have_url(re.compile(r"/signed-out$"))
    check_page(page, "signed-out")
    page.goto("/my-reports")
    expect(page).to_have_url(re.compile(r"/signin$"))
    check_page(page, "signin")
    # The provider's session is gone too: signing in asks for the account again.
    page.get_by_role("button", name=re.compile("Logga in")).click()
    page.wait_for_url(re.compile(r"/interaction/"))


def test_english_is_selectable_and_remembered(page, live_server, team, check_page):
    sign_in(page, live_server, team["employee"].email)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/report")
    expect(page.get_by_role("heading", level=1)).to_have_text("Report an incident")
    check_page(page, "report-form-english")
    page.goto("/my-reports")
    expect(page.get_by_role("heading", level=1)).to_have_text("My reports")


def test_a_missing_page_is_a_page(page, check_page):
    page.goto("/reports/999999")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_page(page, "not-found")
