"""HR's pages in a real Chromium: every page passes check_page (axe-core, 320 px, nothing from
elsewhere), and a workshop is run as it is in a room: 30 participants open the QR code's link
on their own devices and rate without an account, while HR's projector page shows the count
rising by itself; a second rating from the same device is refused, and the summary matches the
ratings given."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.web.browser import sign_in

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _in_english(page) -> None:
    page.goto("/language/en?next=/")


def _organisation(live_data, stem: str):
    tag = live_data.email(stem)[:-len("@stad.example")]
    root = live_data.unit(f"Kommunen {tag}", kind="organisation")
    unit = live_data.unit(f"Enheten {tag}", parent=root)
    hr = live_data.user(live_data.email("hr"), "employee", "hr", unit=root)
    return root, unit, hr


def test_each_hr_page_passes_the_checks(new_context, live_server, live_data, check_page):
    from incidents.models import User
    from incidents.services import summaries, workshops

    root, unit, hr = _organisation(live_data, "sidor")
    employee = live_data.user(live_data.email("eva"), "employee", unit=unit)
    for day in range(6):
        live_data.incident(employee, unit, occurred_at=datetime.now(UTC) - timedelta(days=day))
    page = new_context().new_page()
    _in_english(page)
    sign_in(page, live_server, hr.email)

    # Statistics: the filters, the tables, the charts and the dark figure.
    page.get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistics")
    page.locator("#unit-id").select_option(str(root.id))
    page.locator("#group-by-unit").check()
    page.get_by_role("button", name="Show statistics").click()
    expect(page.locator("#incidents-table")).to_be_visible()
    expect(page.locator("img.chart").first).to_have_attribute("alt", re.compile("table"))
    # Both charts load: PNGs drawn by the page's own route.
    page.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth)")
    check_page(page, "hr-statistics")
    with page.expect_download() as download:
        page.get_by_role("link", name="Incidents as Excel (XLSX)").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    # Summaries: make those of last month with the button.
    page.get_by_role("link", name="Summaries").click()
    last_month = (datetime.now(STOCKHOLM).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page.locator("#summary-period").select_option(f"monthly:{last_month}")
    page.get_by_role("button", name="Make the summaries").click()
    expect(page.locator(".notice-success, .notice-info")).to_contain_text(last_month)
    check_page(page, "hr-summaries")

    # Surveys: set one up for the unit, read its page, answer it as the employee.
    page.get_by_role("link", name="Surveys").click()
    page.locator("#title").fill("Survey on threats 2026")
    page.locator("#unit-id").select_option(str(unit.id))
    check_page(page, "hr-surveys")
    page.get_by_role("button", name="Set up the survey").click()
    expect(page.locator("#answer-link")).to_contain_text("/answer")
    check_page(page, "hr-survey")
    answer_link = page.locator("#answer-link").inner_text()

    respondent = new_context().new_page()
    _in_english(respondent)
    respondent.goto(answer_link)
    sign_in(respondent, live_server, employee.email)
    expect(respondent).to_have_url(answer_link)
    check_page(respondent, "hr-survey-answer")
    for form in ("harassment", "violence", "property-damage", "corruption"):
        respondent.locator(f"#{form}-exposed-no").check()
    respondent.locator("#threat-exposed-yes").check()
    respondent.locator("#threat-times").fill("2")
    respondent.locator("#threat-reported").fill("1")
    respondent.get_by_role("button", name="Send my answers").click()
    expect(respondent.locator(".notice-success")).to_contain_text("without your name")
    page.reload()
    expect(page.locator("#response-count")).to_have_text("1")

    # Workshops: the list and form, and a stored summary of a workshop that has closed.
    page.get_by_role("link", name="Workshops").click()
    check_page(page, "hr-workshops")
    with live_server.app_context() as session:
        held = datetime.now(UTC) - timedelta(days=1)
        made = workshops.create_workshop(session.get(User, hr.id), {
            "title": "Held yesterday", "held_on": held.date(), "unit_ids": [unit.id],
            "expected_participants": 30, "opens_at": held, "closes_at": held + timedelta(hours=2)})
        workshops.add_tally(session.get(User, hr.id), made["id"], {
            "problem_size": {2: 5, 4: 9, 6: 6}, "usefulness": {4: 10, 5: 10}})
        stored = summaries.summarise_closed_workshops(datetime.now(UTC))
        session.commit()
        summary_id = next(s.id for s in stored if s.scope == f"workshop:{made['id']}")
    page.goto(f"/summaries/{summary_id}")
    expect(page.locator("#stored-groups")).to_contain_text("2 or less")
    check_page(page, "hr-workshop-summary")


def _local_inputs(moment: datetime) -> tuple[str, str]:
    local = moment.astimezone(STOCKHOLM)
    return local.date().isoformat(), local.strftime("%H:%M")


def test_a_workshop_with_thirty_participants(new_context, live_server, live_data, check_page):
    import incidents.web.hr as hr_pages

    _root, unit, hr = _organisation(live_data, "workshop")
    # Five people at each of 2 to 7; usefulness 3, 4 and 5 ten times each.
    problem = [2 + i // 5 for i in range(30)]
    useful = [3 + i % 3 for i in range(30)]

    screen = new_context().new_page()  # HR's page on the projector
    _in_english(screen)
    sign_in(screen, live_server, hr.email)
    screen.goto("/workshops")
    now = datetime.now(UTC)
    screen.locator("#title").fill("Workshop on threats and violence")
    screen.locator("#held-on").fill(_local_inputs(now)[0])
    screen.locator("#unit-id").select_option(str(unit.id))
    screen.locator("#expected").fill("30")
    for what, moment in (("opens", now - timedelta(minutes=10)),
                         ("closes", now + timedelta(hours=2))):
        day, clock = _local_inputs(moment)
        screen.locator(f"#{what}-date").fill(day)
        screen.locator(f"#{what}-time").fill(clock)
    screen.get_by_role("button", name="Set up the workshop").click()
    expect(screen.locator("#rating-count")).to_have_text("0")
    link = screen.locator("#short-link").get_attribute("href")
    assert link.startswith(live_server.url) and re.search(r"/w/[0-9a-z]{6}$", link)
    with live_server.app_context():
        assert screen.locator("#qr-code").get_attribute("src") == hr_pages.qr_code(link)
    check_page(screen, "hr-workshop")

    send = re.compile("Send my rating|Skicka")
    for number in range(1, 31):  # thirty phones, none signed in
        context = new_context()
        phone = context.new_page()
        phone.goto(link)
        if number == 1:
            check_page(phone, "hr-workshop-rate")
            stale = context.new_page()  # the same phone, the link opened twice
            stale.goto(link)
        phone.locator(f"#problem-size-{problem[number - 1]}").check()
        phone.get_by_role("button", name=send).click()
        expect(phone.locator("#problem-saved")).to_be_visible()
        if number == 1:
            check_page(phone, "hr-workshop-usefulness")
            # The second tab still shows the first question: its rating is refused.
            stale.locator("#problem-size-7").check()
            with stale.expect_response(lambda r: r.request.method == "POST") as answer:
                stale.get_by_role("button", name=send).click()
            assert answer.value.status == 409
            expect(stale.locator("#already-rated")).to_be_visible()
            check_page(stale, "hr-workshop-rated-already")
        # At the end of the workshop: the usefulness, on the same page.
        phone.locator(f"#usefulness-{useful[number - 1]}").check()
        phone.get_by_role("button", name=send).click()
        expect(phone.locator("#rating-saved")).to_be_visible()
        if number == 1:
            check_page(phone, "hr-workshop-thanks")
        context.close()
        if number % 10 == 0:  # HR's page follows without a reload
            expect(screen.locator("#rating-count")).to_have_text(str(number), timeout=15_000)

    screen.reload()
    expect(screen.locator("#rating-count")).to_have_text("30")
    expect(screen.locator("#live-n")).to_have_text("30")
    groups = {code: screen.locator(f'#live-groups td[data-group="{code}"]').inner_text()
              for code in ("1-2", "3-5", "6-7")}
    assert groups == {"1-2": "16.7\u00a0%", "3-5": "50.0\u00a0%", "6-7": "33.3\u00a0%"}
    distribution = [screen.locator(f'#live-distribution td[data-value="{v}"]').inner_text()
                    for v in range(1, 8)]
    assert distribution == ["0", "5", "5", "5", "5", "5", "5"]
    useful_counts = [screen.locator(f'#live-usefulness td[data-value="{v}"]').inner_text()
                     for v in range(1, 6)]
    assert useful_counts == ["0", "0", "10", "10", "10"]
