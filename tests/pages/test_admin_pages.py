"""The administrator's pages (incidents/web/admin.py) through the test client: each action does
what the API does (the API's JSON is read afterwards and compared), errors are shown in place
with the error summary, a stale form is refused and the current state shown, and only admins
reach the pages, as only admins reach the API's units and users."""

from __future__ import annotations

import re

import pytest

from incidents.models import Unit, User

ENGLISH = "/language/en?next=/"
VOLATILE = {"id", "created_at", "updated_at"}


@pytest.fixture
def admin_pages(pages, org):
    """The administrator's browser, in English (the page text is the source text)."""
    pages.get(ENGLISH)
    pages.sign_in(org.admin)
    return pages


def _api(client, make, org, path: str):
    return client.get(f"/api/v1{path}", headers=make.headers(org.admin))


def _patch(client, make, org, path: str, body: dict):
    headers = make.headers(org.admin)
    etag = client.get(f"/api/v1{path}", headers=headers).headers["ETag"]
    return client.patch(f"/api/v1{path}", json=body, headers={**headers, "If-Match": etag})


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def _summary_links(response) -> list[str]:
    page = response.get_data(as_text=True)
    box = re.search(r'<div class="error-summary".*?</div>', page, re.S)
    assert box, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', box.group(0))


def _without(body: dict, *keys: str) -> dict:
    return {key: value for key, value in body.items() if key not in VOLATILE | set(keys)}


def _version(pages, path: str) -> str:
    return re.search(r'name="version" value="(\d+)"', pages.get(path).get_data(as_text=True))[1]


# -- the unit tree ----------------------------------------------------------------------------


def test_an_empty_tree_says_where_to_start_and_the_first_unit_is_the_apis(pages, client,
                                                                          make, db_session):
    admin = make.user("platform_admin")  # a new organisation is the platform admin's
    pages.get(ENGLISH)
    pages.sign_in(admin)
    page = pages.get("/admin/units")
    assert page.status_code == 200
    assert 'id="no-units"' in page.get_data(as_text=True)
    made = pages.post("/admin/units", {"name": "Exempelstad", "kind": "organisation",
                                       "parent_id": ""})
    assert made.status_code == 303
    unit_id = int(made.headers["Location"].rsplit("/", 1)[1])
    by_page = client.get(f"/api/v1/units/{unit_id}", headers=make.headers(admin))
    by_api = client.post("/api/v1/units", json={"name": "Exempelstad", "kind": "organisation"},
                         headers=make.headers(admin))
    assert by_page.status_code == 200 and by_api.status_code == 201
    assert _without(by_page.json) == _without(by_api.json)
    assert by_page.headers["ETag"] == f'"unit-{unit_id}-v1"'
    tree = pages.get("/admin/units").get_data(as_text=True)
    assert 'id="no-units"' not in tree
    assert f'<a href="/admin/units/{unit_id}">Exempelstad</a>' in tree


def test_the_tree_is_nested_lists_with_each_units_kind(admin_pages, org):
    page = admin_pages.get("/admin/units").get_data(as_text=True)
    tree = page[page.index('<ul class="unit-tree">'):page.index('id="new-unit"')]
    tree = " ".join(tree.split())
    # Enhet A1 and A2 in a list inside avdelning A's item, which is inside the förvaltning's.
    dept_a = tree.index(f'href="/admin/units/{org.dept_a.id}"')
    a1 = tree.index(f'href="/admin/units/{org.a1.id}"')
    dept_b = tree.index(f'href="/admin/units/{org.dept_b.id}"')
    assert dept_a < a1 < dept_b
    assert tree[dept_a:a1].count("<ul>") == 1
    assert '<span class="unit-kind">Department</span>' in tree
    assert '<span class="unit-kind">Unit</span>' in tree
    assert tree.count("<ul") == 1 + 4  # the tree, and one list below each unit that has some


def test_a_unit_is_created_renamed_moved_counted_and_deleted_as_the_api_does(
    admin_pages, client, make, org
):
    pages = admin_pages
    pages.get(f"/admin/units?parent={org.dept_a.id}")
    made = pages.post("/admin/units", {"name": "Enhet A3", "kind": "enhet",
                                       "parent_id": str(org.dept_a.id)})
    assert made.status_code == 303
    unit_id = int(made.headers["Location"].rsplit("/", 1)[1])
    by_api = client.post("/api/v1/units", headers=make.headers(org.admin), json={
        "name": "Enhet A3", "kind": "enhet", "parent_id": org.dept_a.id})
    assert _without(_api(client, make, org, f"/units/{unit_id}").json) == _without(by_api.json)
    assert "The unit Enhet A3 was added." in _text(pages.get(made.headers["Location"]))

    path = f"/admin/units/{unit_id}"
    renamed = pages.post(path, {"name": "Enhet A3 Norr", "kind": "avdelning",
                                "version": _version(pages, path)})
    assert renamed.status_code == 303 and renamed.headers["Location"] == path
    after = _api(client, make, org, f"/units/{unit_id}")
    assert (after.json["name"], after.json["kind"]) == ("Enhet A3 Norr", "avdelning")
    assert after.headers["ETag"] == f'"unit-{unit_id}-v2"'

    moved = pages.post(f"{path}/move", {"parent_id": str(org.dept_b.id),
                                        "version": _version(pages, path)})
    assert moved.status_code == 303
    after = _api(client, make, org, f"/units/{unit_id}")
    assert after.json["parent_id"] == org.dept_b.id
    assert after.headers["ETag"] == f'"unit-{unit_id}-v3"'
    assert f'href="/admin/units/{org.dept_b.id}">Avdelning B</a>' in pages.get(path).get_data(
        as_text=True)

    pages.get(path)
    assert pages.post(f"{path}/headcounts", {"year": "2026", "count": "42"}).status_code == 303
    assert pages.post(f"{path}/headcounts", {"year": "2025", "count": "40"}).status_code == 303
    assert pages.post(f"{path}/headcounts", {"year": "2026", "count": "44"}).status_code == 303
    assert _api(client, make, org, f"/units/{unit_id}").json["headcounts"] == [
        {"year": 2025, "count": 40}, {"year": 2026, "count": 44}]
    page = _text(pages.get(path))
    assert "2026 44" in page and "2025 40" in page

    deleted = pages.post(f"{path}/delete")
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/admin/units"
    assert _api(client, make, org, f"/units/{unit_id}").status_code == 404
    assert "The unit Enhet A3 Norr was deleted." in _text(pages.get("/admin/units"))


def test_a_move_that_would_make_a_cycle_is_refused_on_the_form(admin_pages, client, make, org):
    path = f"/admin/units/{org.dept_a.id}"
    before = _api(client, make, org, f"/units/{org.dept_a.id}")
    refused = admin_pages.post(f"{path}/move", {"parent_id": str(org.a1.id),
                                                "version": _version(admin_pages, path)})
    assert refused.status_code == 422
    assert _summary_links(refused) == ["parent-id"]
    text = _text(refused)
    assert "A unit cannot be moved under itself or under one of its own sub-units" in text
    assert 'id="parent-id-error"' in refused.get_data(as_text=True)
    assert re.search(rf'<option value="{org.a1.id}" selected>', refused.get_data(as_text=True))
    after = _api(client, make, org, f"/units/{org.dept_a.id}")
    assert after.json == before.json and after.headers["ETag"] == before.headers["ETag"]
    # The API refuses the same move.
    api = _patch(client, make, org, f"/units/{org.dept_a.id}", {"parent_id": org.a1.id})
    assert api.status_code == 409 and "parent_id" in api.json["errors"]


def test_form_errors_are_shown_in_place_with_the_summary(admin_pages, client, make, org):
    units_before = len(_api(client, make, org, "/units").json)
    admin_pages.get("/admin/units")
    refused = admin_pages.post("/admin/units", {"name": "", "kind": "",
                                                "parent_id": str(org.forv.id)})
    assert refused.status_code == 422
    assert _summary_links(refused) == ["unit-name", "unit-kind"]
    page = refused.get_data(as_text=True)
    assert f'<option value="{org.forv.id}" selected>' in page  # what was chosen is kept
    assert "Error:" in re.search(r"<title>(.*?)</title>", page, re.S)[1]
    assert len(_api(client, make, org, "/units").json) == units_before

    path = f"/admin/units/{org.a1.id}"
    admin_pages.get(path)
    refused = admin_pages.post(f"{path}/headcounts", {"year": "20x6", "count": "-1"})
    assert refused.status_code == 422
    assert _summary_links(refused) == ["headcount-year", "headcount-count"]
    assert 'value="20x6"' in refused.get_data(as_text=True)
    refused = admin_pages.post(f"{path}/headcounts", {"year": "1989", "count": "3"})
    assert refused.status_code == 422 and _summary_links(refused) == ["headcount-year"]
    assert _api(client, make, org, f"/units/{org.a1.id}").json["headcounts"] == []

    renamed = admin_pages.post(path, {"name": "", "kind": "enhet",
                                      "version": _version(admin_pages, path)})
    assert renamed.status_code == 422 and _summary_links(renamed) == ["unit-name"]
    assert _api(client, make, org, f"/units/{org.a1.id}").json["name"] == "Enhet A1"


def test_a_unit_in_use_is_not_deleted_and_the_page_says_which_can_be(admin_pages, client,
                                                                     make, org):
    admin_pages.get(f"/admin/units/{org.a1.id}")
    refused = admin_pages.post(f"/admin/units/{org.a1.id}/delete")
    assert refused.status_code == 422
    assert _summary_links(refused) == ["delete-unit"]
    assert "Only a unit with none of these can be deleted" in _text(refused)
    assert _api(client, make, org, f"/units/{org.a1.id}").status_code == 200
    api = client.delete(f"/api/v1/units/{org.a1.id}", headers=make.headers(org.admin))
    assert api.status_code == 409


def test_a_stale_unit_form_is_refused_and_shows_what_is_saved(admin_pages, client, make, org):
    path = f"/admin/units/{org.a2.id}"
    version = _version(admin_pages, path)
    assert _patch(client, make, org, f"/units/{org.a2.id}",
                  {"name": "Enhet A2 (renamed elsewhere)"}).status_code == 200
    stale = admin_pages.post(path, {"name": "Enhet A2 Syd", "kind": "enhet",
                                    "version": version})
    assert stale.status_code == 303 and stale.headers["Location"] == path
    shown = admin_pages.get(path)
    assert "Someone else changed this unit after you opened the page" in _text(shown)
    assert 'value="Enhet A2 (renamed elsewhere)"' in shown.get_data(as_text=True)
    assert _api(client, make, org, f"/units/{org.a2.id}").json["name"] == (
        "Enhet A2 (renamed elsewhere)")
    moved = admin_pages.post(f"{path}/move", {"parent_id": str(org.dept_b.id),
                                              "version": version})
    assert moved.status_code == 303
    assert _api(client, make, org, f"/units/{org.a2.id}").json["parent_id"] == org.dept_a.id


# -- users ------------------------------------------------------------------------------------


def _user_form(**fields) -> dict:
    form = {"name": "Chef C", "email": "Chef.C@Stad.example", "unit_id": "",
            "roles": ["employee"], "leads_unit_ids": []}
    form.update(fields)
    return form


def test_a_user_is_created_as_the_api_creates_one(admin_pages, client, make, org):
    page = admin_pages.get("/admin/users/new").get_data(as_text=True)
    assert 'id="role-employee" name="roles" value="employee" aria-describedby' in page
    assert f'id="lead-{org.dept_b.id}"' in page
    made = admin_pages.post("/admin/users/new", _user_form(
        unit_id=str(org.dept_b.id), roles=["employee", "manager"],
        leads_unit_ids=[str(org.dept_b.id)]))
    assert made.status_code == 303
    user_id = int(made.headers["Location"].rsplit("/", 1)[1])
    by_page = _api(client, make, org, f"/users/{user_id}")
    by_api = client.post("/api/v1/users", headers=make.headers(org.admin), json={
        "email": "chef.d@stad.example", "name": "Chef C", "unit_id": org.dept_b.id,
        "roles": ["employee", "manager"], "leads_unit_ids": [org.dept_b.id]})
    assert by_page.json["email"] == "chef.c@stad.example"
    assert _without(by_page.json, "email") == _without(by_api.json, "email")
    shown = _text(admin_pages.get(made.headers["Location"]))
    assert "Chef C was added." in shown and "Employee, Manager" in shown


def test_user_form_errors_are_shown_in_place(admin_pages, client, make, org):
    users_before = len(_api(client, make, org, "/users").json)
    admin_pages.get("/admin/users/new")
    refused = admin_pages.post("/admin/users/new", _user_form(
        name="", email="not an address", roles=[]))
    assert refused.status_code == 422
    assert _summary_links(refused) == ["user-name", "user-email", "role-employee"]

    refused = admin_pages.post("/admin/users/new", _user_form(
        leads_unit_ids=[str(org.a1.id)]))  # leads a unit without the manager role
    assert refused.status_code == 422 and _summary_links(refused) == ["leads-unit-ids"]
    assert "Only a user with the manager role can lead units" in _text(refused)
    assert re.search(rf'id="lead-{org.a1.id}" name="leads_unit_ids" value="{org.a1.id}" '
                     r"checked", refused.get_data(as_text=True))

    refused = admin_pages.post("/admin/users/new", _user_form(
        email=org.employee_a1.email.upper()))
    assert refused.status_code == 422 and _summary_links(refused) == ["user-email"]
    assert "Another user already has this email address" in _text(refused)
    assert len(_api(client, make, org, "/users").json) == users_before


def test_roles_and_led_units_are_changed_with_the_version(admin_pages, client, make, org):
    path = f"/admin/users/{org.manager_a.id}"
    page = admin_pages.get(path).get_data(as_text=True)
    assert re.search(rf'id="lead-{org.dept_a.id}" name="leads_unit_ids" '
                     rf'value="{org.dept_a.id}" checked', page)
    before = _api(client, make, org, f"/users/{org.manager_a.id}")
    saved = admin_pages.post(path, _user_form(
        name=org.manager_a.name, email=org.manager_a.email, unit_id=str(org.dept_a.id),
        roles=["employee", "manager", "hr"], leads_unit_ids=[str(org.a1.id), str(org.b1.id)],
        hr_unit_ids=[str(org.dept_b.id)], version=_version(admin_pages, path)))
    assert saved.status_code == 303 and saved.headers["Location"] == path
    after = _api(client, make, org, f"/users/{org.manager_a.id}")
    assert after.json["roles"] == ["employee", "hr", "manager"]
    assert after.json["leads_unit_ids"] == sorted([org.a1.id, org.b1.id])
    assert after.json["hr_unit_ids"] == [org.dept_b.id]
    assert _without(after.json, "roles", "leads_unit_ids", "hr_unit_ids") == _without(
        before.json, "roles", "leads_unit_ids", "hr_unit_ids")
    assert after.headers["ETag"] != before.headers["ETag"]


def test_deactivating_and_reactivating_as_the_api_does(admin_pages, pages, other_pages, client,
                                                       make, org):
    other_pages.sign_in(org.employee_a1)
    assert other_pages.get("/my-reports").status_code == 200
    path = f"/admin/users/{org.employee_a1.id}"
    off = admin_pages.post(f"{path}/active", {"active": "false",
                                              "version": _version(admin_pages, path)})
    assert off.status_code == 303
    assert _api(client, make, org, f"/users/{org.employee_a1.id}").json["active"] is False
    assert "can no longer sign in" in _text(admin_pages.get(path))
    # Signed out at once, as with the API's PATCH.
    assert other_pages.get("/my-reports").headers["Location"] == "/signin"
    listed = _text(admin_pages.get("/admin/users?status=inactive"))
    assert org.employee_a1.name in listed and org.employee_b1.name not in listed

    on = admin_pages.post(f"{path}/active", {"active": "true",
                                             "version": _version(admin_pages, path)})
    assert on.status_code == 303
    assert _api(client, make, org, f"/users/{org.employee_a1.id}").json["active"] is True


def test_the_last_active_platform_admin_is_kept_and_the_page_says_so(pages, client, make,
                                                                     org):
    """Someone must be able to add an organisation and give the platform admin role."""
    pages.get(ENGLISH)
    pages.sign_in(org.platform_admin)
    mine = f"/admin/users/{org.platform_admin.id}"
    refused = pages.post(mine, _user_form(
        name=org.platform_admin.name, email=org.platform_admin.email, roles=["employee"],
        version=_version(pages, mine)))
    assert refused.status_code == 422
    assert _summary_links(refused) == ["role-platform_admin"]
    assert "Someone must stay an active platform administrator" in _text(refused)

    refused = pages.post(f"{mine}/active", {"active": "false", "version": _version(pages, mine)})
    assert refused.status_code == 422 and _summary_links(refused) == ["change-active"]
    assert "This is the last active platform administrator" in _text(refused)
    headers = make.headers(org.platform_admin)
    body = client.get(mine.replace("/admin", "/api/v1"), headers=headers).json
    assert body["roles"] == ["platform_admin"] and body["active"] is True
    etag = client.get(mine.replace("/admin", "/api/v1"), headers=headers).headers["ETag"]
    api = client.patch(mine.replace("/admin", "/api/v1"), json={"active": False},
                       headers={**headers, "If-Match": etag})
    assert api.status_code == 409


def test_an_admin_is_not_offered_changes_to_a_platform_admin(admin_pages, org):
    page = admin_pages.get(f"/admin/users/{org.platform_admin.id}")
    assert "Only a platform administrator changes a platform administrator." in _text(page)
    assert 'name="roles"' not in page.get_data(as_text=True)
    assert 'id="change-active"' not in page.get_data(as_text=True)
    assert admin_pages.post(f"/admin/users/{org.platform_admin.id}/active", {
        "active": "false", "version": "1"}).status_code == 403


def test_giving_up_ones_own_admin_role_leaves_the_pages(admin_pages, client, make, org):
    mine = f"/admin/users/{org.admin.id}"
    left = admin_pages.post(mine, _user_form(
        name=org.admin.name, email=org.admin.email, roles=["employee"],
        version=_version(admin_pages, mine)))
    assert left.status_code == 303 and left.headers["Location"] == "/"
    body = client.get(f"/api/v1/users/{org.admin.id}", headers=make.headers(org.admin_hr)).json
    assert body["roles"] == ["employee"]
    assert admin_pages.get(mine).status_code == 403


def test_a_stale_user_form_is_refused_and_shows_what_is_saved(admin_pages, client, make, org):
    path = f"/admin/users/{org.employee_b1.id}"
    version = _version(admin_pages, path)
    assert _patch(client, make, org, f"/users/{org.employee_b1.id}",
                  {"name": "Berit Byttnamn"}).status_code == 200
    stale = admin_pages.post(path, _user_form(
        name=org.employee_b1.name, email=org.employee_b1.email, roles=["employee", "hr"],
        version=version))
    assert stale.status_code == 303 and stale.headers["Location"] == path
    shown = admin_pages.get(path)
    assert "Someone else changed this user after you opened the page" in _text(shown)
    assert "Berit Byttnamn" in _text(shown)
    body = _api(client, make, org, f"/users/{org.employee_b1.id}").json
    assert body["name"] == "Berit Byttnamn" and body["roles"] == ["employee"]
    stale = admin_pages.post(f"{path}/active", {"active": "false", "version": version})
    assert stale.status_code == 303
    assert _api(client, make, org, f"/users/{org.employee_b1.id}").json["active"] is True


def test_the_user_list_is_filtered_and_searched_with_a_get_form(admin_pages, make, org):
    make.user("employee", email="gone@stad.example", active=False)
    page = admin_pages.get("/admin/users")
    text = _text(page)
    assert org.manager_a.name in text and "gone@stad.example" not in text
    assert '<form method="get"' in page.get_data(as_text=True)
    assert "gone@stad.example" in _text(admin_pages.get("/admin/users?status=inactive"))
    found = _text(admin_pages.get(f"/admin/users?q={org.manager_b1.email.upper()}&status=all"))
    assert org.manager_b1.name in found and org.manager_a.name not in found
    assert "1 user found." in found
    by_name = _text(admin_pages.get(f"/admin/users?q={org.hr.name.lower()}"))
    assert org.hr.email in by_name
    assert "0 users found." in _text(admin_pages.get("/admin/users?q=nobody-at-all"))


# -- settings, navigation and access -----------------------------------------------------------


def test_the_settings_are_shown_with_where_they_are_set(admin_pages, app):
    """The environment's values, with the variables that set them; the organisation's
    settings in a form (tests/pages/test_settings_page.py), the deployment's read-only."""
    page = admin_pages.get("/admin/settings")
    text = _text(page)
    assert "RETENTION_AFTER_CLOSE_DAYS" in text and "nothing is anonymised" in text
    assert "MAIL_SERVER" in text and "CHECK_IN_OFFSETS" in text
    saved = {key: app.config[key] for key in ("RETENTION_AFTER_CLOSE_DAYS", "MAIL_SERVER",
                                              "MAIL_USERNAME", "MAIL_PASSWORD")}
    app.config.update(RETENTION_AFTER_CLOSE_DAYS=730, MAIL_SERVER="smtp.stad.example",
                      MAIL_USERNAME="incidents", MAIL_PASSWORD="never-shown-secret")
    try:
        page = admin_pages.get("/admin/settings")
    finally:
        app.config.update(saved)
    text = _text(page)
    assert 'name="RETENTION_AFTER_CLOSE_DAYS" value="730"' in page.get_data(as_text=True)
    assert "smtp.stad.example:25" in text
    assert "never-shown-secret" not in page.get_data(as_text=True)


def test_the_main_menu_offers_administration_to_admins_only(admin_pages, other_pages, org):
    assert 'id="nav-admin"' in admin_pages.get("/my-reports").get_data(as_text=True)
    current = admin_pages.get("/admin/users").get_data(as_text=True)
    assert 'id="nav-admin" href="/admin/units" aria-current="true"' in current
    other_pages.sign_in(org.hr)
    assert 'id="nav-admin"' not in other_pages.get("/my-reports").get_data(as_text=True)


@pytest.mark.parametrize("who", ["employee_a1", "manager_a", "hr"])
def test_non_admins_get_403_as_from_the_api(pages, client, make, org, db_session, who):
    """As the API: 403 for the units' and users' changes and the user list. (HR may set a
    head-count through the API; these pages are the administrator's.)"""
    person = getattr(org, who)
    pages.sign_in(person)
    units = db_session.query(Unit).count()
    for path in ("/admin/units", f"/admin/units/{org.a1.id}", "/admin/users",
                 f"/admin/users/{person.id}", "/admin/users/new", "/admin/settings"):
        assert pages.get(path).status_code == 403, path
    pages.get("/my-reports")
    assert pages.post("/admin/units", {"name": "X", "kind": "enhet"}).status_code == 403
    assert pages.post(f"/admin/users/{person.id}", _user_form(
        roles=["admin"], version="1")).status_code == 403
    assert client.post("/api/v1/units", json={"name": "X", "kind": "enhet"},
                       headers=make.headers(person)).status_code == 403
    assert client.get("/api/v1/users", headers=make.headers(person)).status_code == 403
    assert db_session.query(Unit).count() == units
    assert db_session.get(User, person.id).roles == list(person.roles)


# -- roles held for units, and the admin's own organisations and units --------------------------


@pytest.fixture
def admin_b(pages, make, org):
    """An administrator of avdelning B only (and the units below it), signed in, in English."""
    admin = make.user("employee", "admin", unit=org.dept_b, reach=(org.dept_b,))
    pages.get(ENGLISH)
    pages.sign_in(admin)
    return admin


def test_an_hr_user_for_district_b_is_created_with_the_units_hr_is_held_for(
        pages, admin_b, client, make, org):
    page = pages.get("/admin/users/new").get_data(as_text=True)
    # Each role held for units has its units as checkboxes, as the units a manager leads.
    for prefix, name in (("lead", "leads_unit_ids"), ("hr", "hr_unit_ids"),
                         ("statistics", "statistics_unit_ids"), ("admin", "admin_unit_ids")):
        assert f'id="{prefix}-{org.dept_b.id}" name="{name}" value="{org.dept_b.id}"' in page
        assert f'id="{prefix}-{org.a1.id}"' not in page  # not a unit this admin administers
    assert 'id="role-statistics_reader"' in page and 'id="role-platform_admin"' not in page
    assert "Sees and handles the incidents of the units the HR role is held for" in _text(
        pages.last)
    made = pages.post("/admin/users/new", _user_form(
        name="Hanna HR", email="hanna.hr@stad.example", unit_id=str(org.b1.id),
        roles=["employee", "hr"], hr_unit_ids=[str(org.dept_b.id)]))
    assert made.status_code == 303, _text(made)
    user_id = int(made.headers["Location"].rsplit("/", 1)[1])
    body = client.get(f"/api/v1/users/{user_id}", headers=make.headers(admin_b)).json
    assert body["roles"] == ["employee", "hr"]
    assert body["hr_unit_ids"] == [org.dept_b.id]
    assert body["statistics_unit_ids"] == [] and body["admin_unit_ids"] == []
    shown = pages.get(made.headers["Location"])
    held = re.search(r'<div id="held-hr">.*?</div>', shown.get_data(as_text=True), re.S)[0]
    assert "HR for" in held and "Avdelning B" in held
    assert re.search(rf'id="hr-{org.dept_b.id}" name="hr_unit_ids" value="{org.dept_b.id}" '
                     r"checked", shown.get_data(as_text=True))
    # The unit page says who holds HR for it, beside who leads it.
    unit = pages.get(f"/admin/units/{org.dept_b.id}").get_data(as_text=True)
    holders = re.search(r'<div id="holders-hr">.*?</div>', unit, re.S)[0]
    assert "Hanna HR" in holders


def test_a_role_held_for_units_without_units_names_the_field(pages, admin_b, client, make, org):
    users_before = len(client.get("/api/v1/users", headers=make.headers(admin_b)).json)
    pages.get("/admin/users/new")
    refused = pages.post("/admin/users/new", _user_form(
        unit_id=str(org.b1.id), roles=["employee", "hr", "statistics_reader"],
        statistics_unit_ids=[str(org.b1.id)]))
    assert refused.status_code == 422
    assert _summary_links(refused) == ["hr-unit-ids"]
    assert "The HR role is held for units: tick HR and at least one of your units" in _text(
        refused)
    assert 'id="hr-error"' in refused.get_data(as_text=True)
    # What was ticked is kept.
    assert re.search(rf'id="statistics-{org.b1.id}" name="statistics_unit_ids" '
                     rf'value="{org.b1.id}" checked', refused.get_data(as_text=True))
    refused = pages.post("/admin/users/new", _user_form(
        unit_id=str(org.b1.id), roles=["employee"], admin_unit_ids=[str(org.b1.id)]))
    assert refused.status_code == 422 and _summary_links(refused) == ["admin-unit-ids"]
    assert len(client.get("/api/v1/users", headers=make.headers(admin_b)).json) == users_before


def test_an_admin_sees_only_their_organisations_people_and_units(pages, client, make, org):
    neighbour = make.unit("Grannstad", "organisation")
    g1 = make.unit("Enhet G1", "enhet", neighbour)
    stranger = make.user("employee", unit=g1)
    admin = make.user("employee", "admin", unit=org.forv, reach=(org.root,))
    pages.get(ENGLISH)
    pages.sign_in(admin)
    listed = _text(pages.get("/admin/users?status=all"))
    assert org.employee_b1.name in listed and stranger.name not in listed
    assert stranger.email not in listed
    tree = pages.get("/admin/units").get_data(as_text=True)
    assert "Staden" in tree and "Grannstad" not in tree and "Enhet G1" not in tree
    form = pages.get("/admin/users/new").get_data(as_text=True)
    assert "Grannstad" not in form and f'value="{g1.id}"' not in form
    assert f'id="hr-{org.root.id}"' in form
    # Not even the home unit "none": people without a unit belong to no organisation of theirs.
    assert "No home unit" not in form
    for path in (f"/admin/users/{stranger.id}", f"/admin/units/{neighbour.id}",
                 f"/admin/units/{g1.id}"):
        assert pages.get(path).status_code == 404, path
    pages.get("/admin/units")
    assert pages.post(f"/admin/units/{g1.id}", {"name": "Mine now", "kind": "enhet",
                                                "version": "1"}).status_code == 404
    assert pages.post(f"/admin/users/{stranger.id}/active", {
        "active": "false", "version": "1"}).status_code == 404
    assert client.get(f"/api/v1/users/{stranger.id}", headers=make.headers(
        stranger)).status_code == 403
    assert client.get(f"/api/v1/users/{stranger.id}", headers=make.headers(
        admin)).status_code == 404


def test_an_admin_of_a_district_is_offered_only_what_they_administer(pages, admin_b, org):
    units = pages.get("/admin/units").get_data(as_text=True)
    new_unit = units[units.index('id="new-unit"'):]
    assert f'<option value="{org.b1.id}"' in new_unit
    assert f'<option value="{org.a1.id}"' not in new_unit
    assert "Nothing: at the top of the tree" not in new_unit
    refused = pages.post("/admin/units", {"name": "Ny organisation", "kind": "organisation",
                                          "parent_id": ""})
    assert refused.status_code == 422 and _summary_links(refused) == ["parent-id"]
    made = pages.post("/admin/units", {"name": "Enhet B2", "kind": "enhet",
                                       "parent_id": str(org.dept_b.id)})
    assert made.status_code == 303
    # Within their organisation but not theirs: shown, not offered for change.
    other = pages.get(f"/admin/units/{org.a1.id}")
    assert other.status_code == 200 and 'id="not-administered"' in other.get_data(as_text=True)
    assert "Save name and kind" not in _text(other) and "Delete unit" not in _text(other)
    assert pages.post(f"/admin/units/{org.a1.id}", {"name": "Taken", "kind": "enhet",
                                                    "version": "1"}).status_code == 403
    assert pages.post(f"/admin/units/{org.a1.id}/delete").status_code == 403
    assert pages.get(f"/admin/users/{org.manager_a.id}").status_code == 404
    # The settings hold for every organisation: read here, changed by a platform admin.
    settings = pages.get("/admin/settings")
    assert 'id="settings-platform-only"' in settings.get_data(as_text=True)
    assert "Save settings" not in _text(settings)
    assert pages.post("/admin/settings", {"ACKNOWLEDGE_WITHIN_HOURS": "48"}).status_code == 403


def test_an_admin_cannot_give_themselves_hr_and_the_page_says_so(admin_pages, client, make,
                                                                 org):
    mine = f"/admin/users/{org.admin.id}"
    page = admin_pages.get(mine)
    assert "A role that reaches incidents (Manager, HR), the administrator role and more units " \
           "are given to you by another administrator" in _text(page)
    before = _api(client, make, org, f"/users/{org.admin.id}")
    refused = admin_pages.post(mine, _user_form(
        name=org.admin.name, email=org.admin.email, roles=["admin", "hr"],
        admin_unit_ids=[str(org.root.id)], hr_unit_ids=[str(org.forv.id)],
        version=_version(admin_pages, mine)))
    assert refused.status_code == 422
    assert _summary_links(refused) == ["role-employee"]
    assert "You cannot give yourself a role that reaches incidents" in _text(refused)
    after = _api(client, make, org, f"/users/{org.admin.id}")
    assert after.json == before.json and after.headers["ETag"] == before.headers["ETag"]
    # More units for a role already held: the same.
    refused = admin_pages.post(mine, _user_form(
        name=org.admin.name, email=org.admin.email, roles=["admin"],
        admin_unit_ids=[str(org.root.id), str(org.forv.id)],
        version=_version(admin_pages, mine)))
    assert refused.status_code == 422 and _summary_links(refused) == ["admin-unit-ids"]
    assert _api(client, make, org, f"/users/{org.admin.id}").json == before.json
    # What does not reach further is one's own to change.
    saved = admin_pages.post(mine, _user_form(
        name="Ada Admin", email=org.admin.email, roles=["admin"],
        admin_unit_ids=[str(org.root.id)], version=_version(admin_pages, mine)))
    assert saved.status_code == 303
    assert _api(client, make, org, f"/users/{org.admin.id}").json["name"] == "Ada Admin"


def test_only_a_platform_admin_is_offered_the_platform_admin_role(admin_pages, other_pages,
                                                                  org):
    assert 'id="role-platform_admin"' not in admin_pages.get("/admin/users/new").get_data(
        as_text=True)
    refused = admin_pages.post("/admin/users/new", _user_form(roles=["platform_admin"]))
    assert refused.status_code == 422 and _summary_links(refused) == ["role-employee"]
    assert "Only a platform administrator gives or takes" in _text(refused)
    platform = other_pages
    platform.get(ENGLISH)
    platform.sign_in(org.platform_admin)
    form = platform.get("/admin/users/new").get_data(as_text=True)
    assert 'id="role-platform_admin"' in form
    assert "Administers the whole service, every organisation" in _text(platform.last)
    assert 'id="settings-platform-only"' not in platform.get("/admin/settings").get_data(
        as_text=True)
