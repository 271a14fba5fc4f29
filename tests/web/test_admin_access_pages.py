"""The user form with the roles held for units, in a real Chromium: an administrator of one
organisation gives a person the HR role for one district (förvaltning) through the form; the
empty units are refused in the error summary, whose link leads to the field; the page is checked
with axe-core (WCAG 2.1 A/AA) and at 320 px. In English, so the page text is the source
text."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.browser import sign_in


def test_an_admin_gives_hr_for_one_district_through_the_form(new_context, live_server,
                                                             live_data, check_page):
    from incidents.models import User

    suffix = live_data.email("org").split("@")[0]
    city = live_data.unit(f"Exempelstad {suffix}", kind="organisation")
    social = live_data.unit("Socialförvaltningen", city, kind="forvaltning")
    school = live_data.unit("Utbildningsförvaltningen", city, kind="forvaltning")
    north = live_data.unit("Försörjningsstöd Norr", social)
    admin = live_data.user(live_data.email("unit.admin"), "employee", "admin", unit=city,
                           reach=(city,), name="Ada Admin")

    page = new_context().new_page()
    page.goto("/language/en?next=/")
    sign_in(page, live_server, admin.email)
    page.goto("/admin/users/new")
    # Only this organisation's units are offered, for each role held for units.
    expect(page.locator(f"#hr-{social.id}")).to_have_count(1)
    expect(page.locator(f"#statistics-{school.id}")).to_have_count(1)
    expect(page.locator("#role-platform_admin")).to_have_count(0)
    expect(page.locator("#role-hr-hint")).to_contain_text("Sees and handles the incidents")
    check_page(page, "admin-user-new-units")

    email = live_data.email("hanna.hr")
    page.locator("#user-name").fill("Hanna HR")
    page.locator("#user-email").fill(email)
    page.locator("#user-unit").select_option(str(north.id))
    page.locator("#role-hr").check()
    page.get_by_role("button", name="Add user").click()
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("The HR role is held for units")
    expect(page.locator("#hr-error")).to_be_visible()
    check_page(page, "admin-user-new-units-errors")
    summary.locator('a[href="#hr-unit-ids"]').click()
    expect(page.locator("#hr-unit-ids")).to_be_focused()

    page.locator(f"#hr-{social.id}").check()
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hanna HR")
    expect(page.locator("#held-hr")).to_contain_text("Socialförvaltningen")
    check_page(page, "admin-user-held-units")
    user_id = int(re.search(r"/admin/users/(\d+)$", page.url)[1])
    with live_server.app_context() as session:
        hanna = session.get(User, user_id)
        assert (hanna.roles, hanna.hr_unit_ids, hanna.unit_id) == (
            ["employee", "hr"], [social.id], north.id)
