"""The overdue list and a summary page, where mails send managers and HR, in a real Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.web.browser import sign_in


def test_a_manager_follows_the_overdue_list_to_the_case(page, live_server, live_data,
                                                        check_page):
    unit = live_data.unit(f"Vuxenenheten {live_data.email('u')[:10]}")
    employee = live_data.user(live_data.email("eva"), "employee", unit=unit)
    manager = live_data.user(live_data.email("chef"), "employee", "manager", unit=unit,
                             leads=(unit,))
    late = live_data.incident(employee, unit,
                              occurred_at=datetime.now(UTC) - timedelta(days=3))
    with live_server.app_context() as session:
        from incidents.models import Incident

        incident = session.get(Incident, late.id)
        incident.created_at = datetime.now(UTC) - timedelta(days=3)  # reported three days ago
        session.commit()
    sign_in(page, live_server, manager.email)
    page.goto("/overdue")  # where the daily digest's mail leads
    expect(page.get_by_role("heading", level=1)).to_have_text("Försenat i dina ärenden")
    item = page.locator(".report-item", has_text=late.reference)
    expect(item).to_contain_text("Kvittens")
    check_page(page, "overdue")
    item.get_by_role("link", name=late.reference).click()
    # A case handler lands on the case page, where the acknowledgement is done.
    expect(page.get_by_role("heading", level=1)).to_contain_text(late.reference)
    expect(page.get_by_role("button", name="Kvittera rapporten")).to_be_visible()


def test_hr_opens_a_summary_from_its_mail(page, live_server, live_data, check_page):
    from incidents.services import summaries

    root = live_data.unit(f"Kommunen {live_data.email('k')[:10]}", kind="organisation")
    hr = live_data.user(live_data.email("hr"), "employee", "hr", unit=root)
    with live_server.app_context() as session:
        from incidents.models import User

        run = summaries.request(session.get(User, hr.id), {
            "kind": "monthly", "period": "2026-01", "unit_ids": [root.id]})
        session.commit()
        summary_id = (run.created or run.existing)[0].id
    sign_in(page, live_server, hr.email)
    page.goto(f"/summaries/{summary_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026-01")
    check_page(page, "summary")
    with page.expect_download() as download:
        page.get_by_role("link", name="summary.sv.xlsx").click()
    assert download.value.suggested_filename == "summary.sv.xlsx"
