"""A case from report to closing, as three people in three browsers: the employee reports
violence; the manager acknowledges it from the inbox, documents the conversation, records
support, the employer's police report with the workplace address and later its outcome,
notifies Arbetsmiljöverket, is refused closing while something is missing, and closes it; the
employee evaluates the support; HR finds the case in the statistics of the month it happened
and downloads the workbook, which is opened and read here."""

from __future__ import annotations

import io
import re

import openpyxl
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

    # HR, in a third browser: the month the incident happened, for the manager's unit. Four
    # more incidents of the same form there lift the count above the suppression threshold
    # (five), so the case is counted in the open rather than shown as x.
    hr = live_data.user(live_data.email("hr"), "employee", "hr", unit=unit, name="Hanna HR")
    with live_server.app_context():
        from sqlalchemy import select

        from incidents.clock import to_local
        from incidents.extensions import db
        from incidents.models import Incident

        case = db.session.scalar(select(Incident).where(Incident.reference == reference))
        month = to_local(case.occurred_at).strftime("%Y-%m")
        occurred_at = case.occurred_at
    for _ in range(4):
        live_data.incident(employee, unit, category="violence", occurred_at=occurred_at)
    statistics = new_context().new_page()
    sign_in(statistics, live_server, hr.email)
    statistics.get_by_role("link", name="Statistik").click()
    statistics.locator("#period-month").check()
    statistics.locator("#month").select_option(month)
    statistics.locator("#unit-id").select_option(str(unit.id))
    statistics.locator("#group-by-category").check()
    statistics.get_by_role("button", name="Visa statistik").click()
    table = statistics.locator("#incidents-table")
    expect(table).to_be_visible()
    expect(table.locator("tr", has_text="Våld")).to_contain_text("5")
    check_page(statistics, "case-in-statistics")
    with statistics.expect_download() as download:
        statistics.get_by_role("link", name="Händelser som Excel (XLSX)").click()
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()))
    cells = [[cell for cell in row] for sheet in workbook.worksheets
             for row in sheet.iter_rows(values_only=True)]
    assert any("Våld" in row and 5 in row for row in cells), cells
    assert any(unit.name in str(cell) for row in cells for cell in row), cells
    assert any(month in str(cell) for row in cells for cell in row), cells
