"""A case from report to closing, as two people in two browsers: the employee reports a threat;
the manager acknowledges it from the inbox, documents the conversation, records support, the
employer's police report with the workplace address and later its outcome, notifies
Arbetsmiljöverket, is refused closing while something is missing, and closes it; the employee
evaluates the support."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.browser import sign_in


def test_a_manager_takes_a_threat_from_report_to_closing(new_context, live_server, live_data,
                                                         check_page):
    unit = live_data.unit(f"Mottagningen {live_data.email('u')[:10]}")
    employee = live_data.user(live_data.email("sara"), "employee", unit=unit, name="Sara Sund")
    manager = live_data.user(live_data.email("chef"), "employee", "manager", unit=unit,
                             leads=(unit,), name="Mats Chef")

    reporter = new_context().new_page()
    sign_in(reporter, live_server, employee.email)
    reporter.goto("/report")
    reporter.get_by_role("radio", name="Våld").check()
    reporter.get_by_label("Vad gjordes och vad sades?").fill(
        "Klienten slog mig i armen när jag sa nej till ansökan.")
    reporter.locator("#purpose-yes").check()
    reporter.locator("#police-wanted-yes").check()
    reporter.get_by_role("button", name="Skicka rapport").click()
    reference = reporter.locator(".reference").inner_text()

    page = new_context().new_page()
    sign_in(page, live_server, manager.email)
    page.get_by_role("link", name="Ärenden").click()
    check_page(page, "case-inbox")
    page.locator("#new ~ ul").get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    check_page(page, "case-reported")
    page.get_by_role("button", name="Kvittera rapporten").click()
    expect(page.locator(".notice-success")).to_be_visible()

    # Closing now is refused, the missing items listed, each a link to where it is done.
    page.get_by_role("button", name="Avsluta ärendet").click()
    checklist = page.locator("#checklist")
    expect(page.locator("#error-summary")).to_be_visible()
    expect(checklist.get_by_role("link")).to_have_count(4)
    check_page(page, "case-close-refused")

    follow_up = page.locator("#follow-up")
    follow_up.get_by_label("Vad gjordes?").select_option("conversation")
    follow_up.get_by_label("Vad som gjordes och bestämdes").fill(
        "Samtal med Sara om händelsen och om stöd.")
    follow_up.get_by_role("button", name="Spara uppföljningen").click()
    expect(page.locator("#follow-up .messages")).to_contain_text("Samtal med Sara")

    support = page.locator("#support")
    support.get_by_label("Typ av stöd").select_option("debriefing")
    support.locator("#support-answer-delivered").check()
    support.get_by_role("button", name="Spara stödet").click()
    expect(page.locator("#support .report-item")).to_have_count(1)

    police = page.locator("#police")
    police.locator("#police-decision-report").check()
    police.locator("#police-filed-by-employer").check()
    police.locator("#police-address-work").check()
    today = page.evaluate("new Date().toLocaleDateString('sv-SE')")
    police.locator("#police-filed-date").fill(today)
    police.get_by_label("Polisens diarienummer").fill("5000-K1234-26")
    police.get_by_role("button", name="Spara polisanmälan").click()
    expect(page.locator(".notice-success")).to_be_visible()

    authorities = page.locator("#authorities")
    authorities.locator("#serious-yes").check()
    authorities.locator("#av-date").fill(today)
    authorities.get_by_label("Arbetsmiljöverkets diarienummer").fill("AV 2026/77")
    authorities.get_by_role("button", name="Spara anmälningarna").click()
    expect(page.locator(".notice-success")).to_be_visible()
    check_page(page, "case-in-follow-up")

    # Later: the police's outcome.
    police = page.locator("#police")
    police.get_by_label("Utfall", exact=True).select_option("investigation_opened")
    police.get_by_label("Datum för utfallet").fill(today)
    police.get_by_role("button", name="Spara polisanmälan").click()
    expect(page.locator("#police")).to_contain_text("Förundersökning inledd")

    page.get_by_role("button", name="Avsluta ärendet").click()
    expect(page.locator("#checklist")).to_contain_text("Ärendet är avslutat")
    check_page(page, "case-closed")

    reporter.goto("/my-reports")
    reporter.locator(".report-item", has_text=reference).get_by_role("link").click()
    expect(reporter.locator(".tag").first).to_have_text("Avslutad")
    evaluation = reporter.locator("#evaluation")
    evaluation.locator("#sufficient-yes").check()
    evaluation.locator("#relevant-yes").check()
    evaluation.locator("#felt-supported-5").check()
    evaluation.get_by_role("button").click()
    expect(reporter.locator(".notice-success")).to_be_visible()
    assert re.search(r"/reports/\d+", reporter.url)
