"""Reporting anonymously and following the report by its code, in a real Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_an_anonymous_report_is_followed_by_its_code(new_context, live_server, live_data,
                                                      check_page):
    from incidents.services import messages
    from tests.anonymous_helpers import publish_held

    unit = live_data.unit(f"Ekonomiskt bistånd {live_data.email('u')[:10]}")
    manager = live_data.user(live_data.email("chef"), "employee", "manager", unit=unit,
                             leads=(unit,))
    reporter = new_context()
    page = reporter.new_page()
    page.goto("/anonymous/report")
    check_page(page, "anonymous-form")
    page.get_by_role("radio", name="Våld").check()
    page.get_by_label("Vad gjordes och vad sades?").fill("Jag blev knuffad i receptionen.")
    page.get_by_label("Vilken enhet gäller det?").select_option(str(unit.id))
    page.locator("#purpose-unsure").check()
    page.get_by_role("button", name="Skicka rapport").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("anonyma rapport")
    reference = page.locator("#reference").inner_text()
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"OP-\d{4}-\d{10}", reference) and len(code) >= 16
    expect(page.get_by_role("alert")).to_contain_text("Skriv ner")
    check_page(page, "anonymous-receipt")
    assert reporter.cookies() == [c for c in reporter.cookies() if c["name"] == "lang"]
    assert code not in page.url

    with live_server.app_context() as session:
        from incidents.models import Incident, User

        publish_held()  # as the next full hour does
        incident = session.query(Incident).filter_by(reference=reference).one()
        messages.post_for_user(session.get(User, manager.id), incident.id,
                               "Tack för din rapport. Vill du berätta mer?")
        session.commit()

    follower = new_context()  # another day, another browser
    page = follower.new_page()
    page.goto("/anonymous/follow")
    check_page(page, "anonymous-follow")
    page.get_by_label("Referens").fill(reference)
    page.get_by_label("Kvittokod").fill(code)
    page.get_by_role("button", name=re.compile("Visa")).click()
    expect(page.locator("#messages")).to_contain_text("Vill du berätta mer?")
    check_page(page, "anonymous-follow-report")
    page.get_by_label("Skriv ett meddelande").fill("Det var en anhörig till en klient.")
    page.get_by_role("button", name="Skicka meddelande").click()
    expect(page.locator(".messages")).to_contain_text("Det var en anhörig till en klient.")
    check_page(page, "anonymous-follow-message-waiting")
    assert follower.cookies() == []

    # A wrong code shows nothing of the report.
    page.goto("/anonymous/follow")
    page.get_by_label("Referens").fill(reference)
    page.get_by_label("Kvittokod").fill("AAAA-BBBB-CCCC-DDDD")
    page.get_by_role("button", name=re.compile("Visa")).click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("anhörig")
    check_page(page, "anonymous-follow-wrong-code")
