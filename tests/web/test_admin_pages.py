"""The administrator's pages in a real Chromium: an administrator sets up a small organisation
through the pages alone, starting from a tree of its own with nothing in it (the first admin
comes from the command line, as in docs/getting-started.md), and every admin page is checked
with axe-core (WCAG 2.1 A/AA), at 320 px, for foreign loads, and photographed. In English, so
the page text is the source text."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.browser import sign_in


def _id_in(url: str) -> int:
    return int(re.search(r"/admin/(?:units|users)/(\d+)$", url)[1])


def _add_unit(page, name: str, kind: str, parent_id: int | None = None) -> int:
    if parent_id is None:
        page.goto("/admin/units")
    else:
        page.goto(f"/admin/units?parent={parent_id}#new-unit")
        expect(page.locator("#parent-id")).to_have_value(str(parent_id))
    page.locator("#unit-name").fill(name)
    page.locator("#unit-kind").select_option(kind)
    page.get_by_role("button", name="Add unit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    expect(page.locator(".notice-success")).to_contain_text(f"The unit {name} was added.")
    return _id_in(page.url)


def _add_user(page, name: str, email: str, unit_id: int, roles=("employee",),
              leads: tuple[int, ...] = ()) -> int:
    page.goto("/admin/users/new")
    page.locator("#user-name").fill(name)
    page.locator("#user-email").fill(email)
    page.locator("#user-unit").select_option(str(unit_id))
    for role in roles:
        page.locator(f"#role-{role}").check()
    for unit in leads:
        page.locator(f"#lead-{unit}").check()
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return _id_in(page.url)


def test_an_admin_sets_up_an_organisation_through_the_pages(new_context, live_server,
                                                            live_data, check_page):
    from incidents.models import Unit, User

    suffix = live_data.email("org").split("@")[0]
    admin = live_data.user(live_data.email("admin"), "platform_admin", name="Ada Admin")
    page = new_context().new_page()
    page.goto("/language/en?next=/")
    sign_in(page, live_server, admin.email)
    page.locator("#nav-admin").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisation tree")
    check_page(page, "admin-units")

    # Sent empty: the summary names the name and the kind and leads to them.
    page.get_by_role("button", name="Add unit").click()
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("link")).to_have_count(2)
    check_page(page, "admin-units-errors")
    summary.locator('a[href="#unit-name"]').click()
    expect(page.locator("#unit-name")).to_be_focused()

    # The tree, top down, each unit under the one before.
    city = _add_unit(page, f"Exempelstad {suffix}", "organisation")
    check_page(page, "admin-unit")
    page.get_by_role("link", name="Add a unit under this one").click()
    expect(page.locator("#parent-id")).to_have_value(str(city))
    page.locator("#unit-name").fill("Socialförvaltningen")
    page.locator("#unit-kind").select_option("forvaltning")
    page.get_by_role("button", name="Add unit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Socialförvaltningen")
    social = _id_in(page.url)
    department = _add_unit(page, "Ekonomiskt bistånd", "avdelning", social)
    north = _add_unit(page, "Försörjningsstöd Norr", "enhet", department)
    south = _add_unit(page, "Försörjningsstöd Syd", "enhet", department)

    page.goto("/admin/units")
    branch = page.locator(".unit-tree li", has=page.locator(f'a[href="/admin/units/{city}"]'))
    expect(branch.first.locator("ul ul ul li")).to_have_count(2)  # the two enheter, 3 deep
    expect(branch.first).to_contain_text("Organisation")
    check_page(page, "admin-units-tree")

    # A move under its own sub-unit is refused on the form.
    page.goto(f"/admin/units/{department}")
    page.locator("#parent-id").select_option(str(north))
    page.get_by_role("button", name="Move unit").click()
    expect(page.locator("#error-summary")).to_contain_text("cannot be moved under itself")
    expect(page.locator("#parent-id-error")).to_be_visible()
    check_page(page, "admin-unit-errors")

    # Rename, head-count, and an empty unit deleted.
    page.goto(f"/admin/units/{south}")
    page.locator("#unit-name").fill("Försörjningsstöd Söder")
    page.get_by_role("button", name="Save name and kind").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Försörjningsstöd Söder")
    page.get_by_role("button", name="Delete unit").click()
    expect(page.locator(".notice-success")).to_contain_text("Försörjningsstöd Söder was deleted")
    page.goto(f"/admin/units/{north}")
    page.locator("#headcount-year").fill("2026")
    page.locator("#headcount-count").fill("12")
    page.get_by_role("button", name="Save head-count").click()
    expect(page.locator("#headcounts table")).to_contain_text("2026")
    expect(page.locator("#headcounts table")).to_contain_text("12")
    check_page(page, "admin-unit-headcounts")

    # People: a manager who leads the department, and an employee in the unit below it.
    page.locator(".admin-nav").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    check_page(page, "admin-users")
    page.get_by_role("link", name="Add a user").click()
    check_page(page, "admin-user-new")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check_page(page, "admin-user-new-errors")

    manager_email = live_data.email("maria.chef")
    manager = _add_user(page, "Maria Chef", manager_email, department,
                        roles=("employee", "manager"), leads=(department,))
    check_page(page, "admin-user")
    employee_email = live_data.email("sam")
    employee = _add_user(page, "Sam Handläggare", employee_email, north)

    # Led units can only be the manager's: ticking one for the employee is refused in place.
    page.goto(f"/admin/users/{employee}")
    page.locator(f"#lead-{north}").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#error-summary")).to_contain_text("manager role")
    check_page(page, "admin-user-errors")

    page.goto("/admin/users")
    page.locator("#q").fill(manager_email.upper())
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#user-count")).to_contain_text("1 user found.")
    expect(page.locator(".user-list")).to_contain_text("Maria Chef")
    assert "maria" not in page.title().lower()

    page.locator(".admin-nav").get_by_role("link", name="Settings").click()
    expect(page.locator("#settings-read-only")).to_be_visible()
    expect(page.locator("main")).to_contain_text("RETENTION_AFTER_CLOSE_DAYS")
    check_page(page, "admin-settings")

    with live_server.app_context() as session:
        saved = {unit.id: (unit.name, unit.kind, unit.parent_id) for unit in session.query(
            Unit).filter(Unit.id.in_([city, social, department, north, south]))}
        maria, sam = session.get(User, manager), session.get(User, employee)
        assert saved == {
            city: (f"Exempelstad {suffix}", "organisation", None),
            social: ("Socialförvaltningen", "forvaltning", city),
            department: ("Ekonomiskt bistånd", "avdelning", social),
            north: ("Försörjningsstöd Norr", "enhet", department),
        }
        assert (maria.roles, maria.leads_unit_ids, maria.unit_id) == (
            ["employee", "manager"], [department], department)
        assert (sam.roles, sam.leads_unit_ids, sam.unit_id) == (["employee"], [], north)

    # The manager signs in: no administration for them.
    manager_page = new_context().new_page()
    sign_in(manager_page, live_server, manager_email)
    expect(manager_page.locator("#nav-admin")).to_have_count(0)
    assert manager_page.goto("/admin/users").status == 403


def test_an_admin_changes_settings_and_goes_back_to_the_environments_value(
        new_context, live_server, live_data, check_page):
    """The settings form: errors in the summary and beside their fields, a change saved and
    shown with who made it, then each changed setting back to the environment's value. The
    live server's database is shared by the session's tests, so nothing changed is left."""
    from incidents.models import Setting

    admin = live_data.user(live_data.email("settings.admin"), "admin", name="Sig Settings")
    page = new_context().new_page()
    page.goto("/language/en?next=/")
    sign_in(page, live_server, admin.email)
    try:
        page.goto("/admin/settings")
        expect(page.locator("#setting-acknowledge")).to_have_value("24")
        expect(page.locator("#settings-none-changed")).to_be_visible()

        # Two bad fields: both in the summary, each link leading to its field.
        page.locator("#setting-acknowledge").fill("forty")
        page.locator("#setting-check-ins").fill("1d, 1y")
        page.get_by_role("button", name="Save settings").click()
        summary = page.locator("#error-summary")
        expect(summary.get_by_role("link")).to_have_count(2)
        expect(page.locator("#setting-acknowledge-error")).to_contain_text("from 1 to 720")
        expect(page.locator("#setting-check-ins")).to_have_value("1d, 1y")
        check_page(page, "admin-settings-errors")
        summary.locator('a[href="#setting-check-ins"]').click()
        expect(page.locator("#setting-check-ins")).to_be_focused()

        page.locator("#setting-acknowledge").fill("48")
        page.locator("#setting-check-ins").fill("1d, 2w, 3m")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator(".notice-success")).to_contain_text("The settings were saved.")
        changed = page.locator("section", has=page.locator("#settings-changed"))
        expect(changed.locator("dt")).to_have_text(["Acknowledge a new report within",
                                                    "Check in with the employee after"])
        expect(changed).to_contain_text("48 hours")
        expect(changed).to_contain_text("Changed by Sig Settings on")
        expect(page.locator("#setting-acknowledge-source")).to_contain_text(
            "The environment's value is 24 hours.")
        check_page(page, "admin-settings-changed")
        with live_server.app_context() as session:
            assert {row.key: row.value for row in session.query(Setting)} == {
                "ACKNOWLEDGE_WITHIN_HOURS": 48, "CHECK_IN_OFFSETS": ["1d", "2w", "3m"]}

        page.get_by_role(
            "button", name="Go back to the environment's value (Acknowledge a new report within)"
        ).click()
        expect(page.locator(".notice-success")).to_contain_text(
            "Acknowledge a new report within: back to the environment's value, 24 hours.")
        expect(page.locator("#setting-acknowledge")).to_have_value("24")
        page.get_by_role(
            "button", name="Go back to the environment's value (Check in with the employee after)"
        ).click()
        expect(page.locator("#settings-none-changed")).to_be_visible()
        expect(page.locator("#setting-check-ins")).to_have_value("1d, 1w, 1m, 3m")
        with live_server.app_context() as session:
            assert session.query(Setting).count() == 0
    finally:
        with live_server.app_context() as session:
            session.query(Setting).delete()
            session.commit()
