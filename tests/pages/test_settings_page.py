"""/admin/settings through the test client: the form changes what PATCH /api/v1/settings changes
(the API's JSON and the audit trail are read afterwards), errors are shown beside their field
and in the error summary with nothing saved, a stale form is refused, a changed setting goes
back to the environment's value, and who changed what when is shown."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from incidents.models import AuditEntry, Setting
from incidents.services import settings

ENGLISH = "/language/en?next=/"
URL = "/admin/settings"


@pytest.fixture
def admin_pages(pages, org):
    pages.get(ENGLISH)
    pages.sign_in(org.admin)
    return pages


def _text(response) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
                                  .split()))


def _form(pages, **changes) -> dict:
    """The form as the page shows it, with ``changes`` typed in."""
    page = pages.get(URL).get_data(as_text=True)
    form = dict(re.findall(r'<input type="(?:text|hidden)" id="[^"]*" name="([A-Z_]+)" '
                           r'value="([^"]*)"', page))
    form["version"] = re.search(r'name="version" value="([^"]+)"', page)[1]
    return {**form, **changes}


def _api(client, make, org) -> dict:
    response = client.get("/api/v1/settings", headers=make.headers(org.admin))
    return {item["key"]: item for item in response.get_json()["settings"]}


def _audit(db_session) -> list[str]:
    return list(db_session.scalars(sa.select(AuditEntry.detail).where(
        AuditEntry.detail.like("setting %")).order_by(AuditEntry.id)))


def _summary_links(response) -> list[str]:
    box = re.search(r'<div class="error-summary".*?</div>', response.get_data(as_text=True), re.S)
    assert box, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', box.group(0))


def test_the_form_shows_every_setting_with_the_environments_value(admin_pages):
    form = _form(admin_pages)
    assert {key: form[key] for key in settings.REGISTRY} == {
        "RETENTION_AFTER_CLOSE_DAYS": "", "ACKNOWLEDGE_WITHIN_HOURS": "24",
        "POLICE_DECISION_DAYS": "7", "AUTHORITY_NOTIFICATION_HOURS": "24",
        "CHECK_IN_OFFSETS": "1d, 1w, 1m, 3m", "MAIL_KEEP_SENT_DAYS": "30"}
    text = _text(admin_pages.last)
    assert "No setting has been changed in the service" in text
    assert "Set by whoever runs the service" in text and "PUBLIC_BASE_URL" in text


def test_saving_the_form_changes_what_the_api_changes_and_is_audited(admin_pages, client,
                                                                     make, org, db_session):
    response = admin_pages.post(URL, _form(
        admin_pages, ACKNOWLEDGE_WITHIN_HOURS=" 48 ", CHECK_IN_OFFSETS="2d, 2w,6m,",
        RETENTION_AFTER_CLOSE_DAYS="730"))
    assert response.status_code == 303 and response.headers["Location"] == URL

    saved = _api(client, make, org)
    assert {key: item["value"] for key, item in saved.items()} == {
        "RETENTION_AFTER_CLOSE_DAYS": 730, "ACKNOWLEDGE_WITHIN_HOURS": 48,
        "POLICE_DECISION_DAYS": 7, "AUTHORITY_NOTIFICATION_HOURS": 24,
        "CHECK_IN_OFFSETS": ["2d", "2w", "6m"], "MAIL_KEEP_SENT_DAYS": 30}
    assert saved["ACKNOWLEDGE_WITHIN_HOURS"]["changed_by"]["id"] == org.admin.id
    assert saved["POLICE_DECISION_DAYS"]["source"] == "environment"  # sent unchanged
    assert sorted(_audit(db_session)) == sorted([
        "setting ACKNOWLEDGE_WITHIN_HOURS: 24 → 48",
        "setting CHECK_IN_OFFSETS: 1d,1w,1m,3m → 2d,2w,6m",
        "setting RETENTION_AFTER_CLOSE_DAYS: not set → 730"])

    page = admin_pages.get(URL)
    text = _text(page)
    assert "The settings were saved." in text
    # Who changed what when: beside the field and in the list of changes, in local time.
    at = datetime.fromisoformat(saved["ACKNOWLEDGE_WITHIN_HOURS"]["changed_at"]).astimezone(
        ZoneInfo("Europe/Stockholm")).strftime("%Y-%m-%d %H:%M")
    assert (f"Changed in the service by {org.admin.name} on {at}. The environment's value is "
            "24 hours.") in text
    assert f"Changed by {org.admin.name} on {at}." in text
    assert re.findall(r'name="reset" value="([A-Z_]+)"', page.get_data(as_text=True)) == [
        "RETENTION_AFTER_CLOSE_DAYS", "ACKNOWLEDGE_WITHIN_HOURS", "CHECK_IN_OFFSETS"]


def test_the_page_and_the_api_write_the_same_audit_entry(admin_pages, client, make, org,
                                                         db_session):
    admin_pages.post(URL, _form(admin_pages, POLICE_DECISION_DAYS="5"))
    etag = client.get("/api/v1/settings", headers=make.headers(org.admin)).headers["ETag"]
    client.patch("/api/v1/settings", json={"POLICE_DECISION_DAYS": 7},
                 headers=make.headers(org.admin, **{"If-Match": etag}))
    client.patch("/api/v1/settings", json={"POLICE_DECISION_DAYS": 5},
                 headers=make.headers(org.admin, **{"If-Match": "*"}))
    assert _audit(db_session) == ["setting POLICE_DECISION_DAYS: 7 → 5",
                                  "setting POLICE_DECISION_DAYS: 5 → 7",
                                  "setting POLICE_DECISION_DAYS: 7 → 5"]


def test_sending_the_form_unchanged_says_so_and_writes_nothing(admin_pages, db_session):
    response = admin_pages.post(URL, _form(admin_pages))
    assert response.status_code == 303
    assert "Nothing was changed" in _text(admin_pages.get(URL))
    assert db_session.scalars(sa.select(Setting)).all() == [] and _audit(db_session) == []


def test_an_environments_value_beyond_the_pages_bounds_does_not_block_the_form(
        admin_pages, app, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "AUTHORITY_NOTIFICATION_HOURS", 200)
    form = _form(admin_pages, MAIL_KEEP_SENT_DAYS="60")
    assert form["AUTHORITY_NOTIFICATION_HOURS"] == "200"

    assert admin_pages.post(URL, form).status_code == 303

    assert {row.key: row.value for row in db_session.scalars(sa.select(Setting))} == {
        "MAIL_KEEP_SENT_DAYS": 60}


def test_errors_are_shown_in_place_and_nothing_is_saved(admin_pages, db_session):
    response = admin_pages.post(URL, _form(
        admin_pages, RETENTION_AFTER_CLOSE_DAYS="ten", ACKNOWLEDGE_WITHIN_HOURS="48",
        AUTHORITY_NOTIFICATION_HOURS="169", CHECK_IN_OFFSETS="1d, 1y", MAIL_KEEP_SENT_DAYS=""))

    assert response.status_code == 422
    assert _summary_links(response) == ["setting-retention", "setting-authority",
                                        "setting-check-ins", "setting-mail-kept"]
    page = response.get_data(as_text=True)
    text = _text(response)
    assert "Enter the number of hours as a whole number from 1 to 168" in text
    assert "Enter the number of days as a whole number from 1 to 36500, or leave it empty" in text
    assert 'id="setting-authority-error"' in page
    assert 'aria-describedby="setting-authority-hint setting-authority-error"' in page
    # What was typed is kept.
    assert 'name="RETENTION_AFTER_CLOSE_DAYS" value="ten"' in page
    assert 'name="CHECK_IN_OFFSETS" value="1d, 1y"' in page
    assert "<title>Error:" in page
    assert db_session.scalars(sa.select(Setting)).all() == [] and _audit(db_session) == []


def test_a_form_opened_before_someone_elses_change_is_refused(admin_pages, org, db_session):
    form = _form(admin_pages, ACKNOWLEDGE_WITHIN_HOURS="48")
    settings.change(org.admin, {"POLICE_DECISION_DAYS": 3})
    db_session.commit()

    response = admin_pages.post(URL, form)

    assert response.status_code == 303
    assert "Someone else changed the settings" in _text(admin_pages.get(URL))
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 24


def test_a_changed_setting_goes_back_to_the_environments_value(admin_pages, org, db_session):
    admin_pages.post(URL, _form(admin_pages, MAIL_KEEP_SENT_DAYS="90"))
    page = admin_pages.get(URL).get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page)[1]

    response = admin_pages.post(URL, {"version": version, "reset": "MAIL_KEEP_SENT_DAYS"})

    assert response.status_code == 303
    text = _text(admin_pages.get(URL))
    assert "Sent mails are kept for: back to the environment's value, 30 days." in text
    assert "No setting has been changed in the service" in text
    assert db_session.scalars(sa.select(Setting)).all() == []
    assert _audit(db_session)[-1] == (
        "setting MAIL_KEEP_SENT_DAYS back to the environment's value: 90 → 30")


def test_going_back_with_a_stale_page_or_an_unknown_setting_changes_nothing(admin_pages, org,
                                                                           db_session):
    settings.change(org.admin, {"MAIL_KEEP_SENT_DAYS": 90})
    db_session.commit()
    version = _form(admin_pages)["version"]
    settings.change(org.admin, {"POLICE_DECISION_DAYS": 3})
    db_session.commit()
    stale = admin_pages.post(URL, {"version": version, "reset": "MAIL_KEEP_SENT_DAYS"})
    assert stale.status_code == 303
    assert "Someone else changed the settings" in _text(admin_pages.get(URL))
    unknown = admin_pages.post(URL, {"version": _form(admin_pages)["version"],
                                     "reset": "MAIL_SERVER"})
    assert unknown.status_code == 404
    assert settings.value("MAIL_KEEP_SENT_DAYS") == 90


@pytest.mark.parametrize("who", ["employee_a1", "manager_a", "hr"])
def test_others_get_403_and_change_nothing(pages, org, db_session, who):
    pages.sign_in(getattr(org, who))
    pages.get("/my-reports")
    assert pages.get(URL).status_code == 403
    assert pages.post(URL, {"ACKNOWLEDGE_WITHIN_HOURS": "48"}).status_code == 403
    assert pages.post(URL, {"reset": "ACKNOWLEDGE_WITHIN_HOURS"}).status_code == 403
    assert db_session.scalars(sa.select(Setting)).all() == []


def test_the_form_needs_its_csrf_token(admin_pages, db_session):
    form = _form(admin_pages, ACKNOWLEDGE_WITHIN_HOURS="48")
    response = admin_pages.post(URL, form, token=False)
    assert response.status_code in {400, 403}
    assert db_session.scalars(sa.select(Setting)).all() == []
