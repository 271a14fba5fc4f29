"""Sessions kept on the server, their timeouts, CSRF and origin checks, headers, languages and
the development sign-in."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.config import ConfigError, load_config
from incidents.models import Incident, UserRole, WebSession
from tests.factories import NOW
from tests.pages.conftest import report_form


def _cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("op_session="))


def _session_id(response) -> str:
    return _cookie(response).split(";")[0].split("=", 1)[1]


def test_the_session_cookie_is_httponly_lax_and_renewed_at_sign_in(pages, org, db_session):
    before = pages.get("/dev/signin")
    anonymous_id = _session_id(before)
    signed_in = pages.sign_in(org.employee_a1)
    cookie = _cookie(signed_in)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # ends with the browser
    new_id = _session_id(signed_in)
    assert new_id != anonymous_id
    rows = db_session.scalars(select(WebSession)).all()
    # The row is found by a hash of the id; the id itself is stored nowhere.
    assert {row.id for row in rows} == {hashlib.sha256(new_id.encode()).hexdigest()}
    assert rows[0].user_id == org.employee_a1.id


def test_the_cookie_is_secure_outside_development(tmp_path):
    env = {"INCIDENTS_ENV": "production", "DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 40}
    assert load_config(env, tmp_path)["SESSION_COOKIE_SECURE"] is True
    assert load_config({}, tmp_path)["SESSION_COOKIE_SECURE"] is False


def test_production_refuses_to_start_with_the_development_sign_in(tmp_path):
    env = {"INCIDENTS_ENV": "production", "DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 40}
    assert load_config(env, tmp_path)["DEV_SIGNIN"] is False
    with pytest.raises(ConfigError, match="DEV_SIGNIN"):
        load_config({**env, "DEV_SIGNIN": "true"}, tmp_path)
    assert load_config({}, tmp_path)["DEV_SIGNIN"] is True


def test_without_the_development_sign_in_its_pages_do_not_exist(tmp_path, database_url):
    from incidents import create_app

    app = create_app({"DEV_SIGNIN": False, "SQLALCHEMY_DATABASE_URI": database_url})
    client = app.test_client()
    assert client.get("/dev/signin").status_code == 404
    assert client.get("/dev/mailbox").status_code == 404
    assert "/dev/signin" not in client.get("/signin").get_data(as_text=True)


def test_oidc_client_settings_are_checked_at_start_up(tmp_path):
    with pytest.raises(ConfigError, match="OIDC_CLIENT_SECRET"):
        load_config({"OIDC_ISSUER": "https://idp", "OIDC_AUDIENCE": "a",
                     "OIDC_JWKS_URL": "https://idp/jwks", "OIDC_CLIENT_ID": "c"}, tmp_path)
    with pytest.raises(ConfigError, match="OIDC_ISSUER"):
        load_config({"OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"}, tmp_path)


def test_an_idle_session_ends_and_a_half_written_report_survives_sign_in(pages, org, db_session):
    with freeze_time(NOW) as clock:
        pages.sign_in(org.employee_a1)
        pages.get("/report")
        clock.tick(timedelta(minutes=31))  # SESSION_IDLE_MINUTES is 30
        typed = report_form(org, description="He waited for me by my car.")
        response = pages.post("/report", typed)
        assert response.status_code == 302 and response.headers["Location"] == "/signin"
        assert db_session.scalar(select(func.count()).select_from(Incident)) == 0
        notice = pages.get("/signin").get_data(as_text=True)
        assert "notice" in notice
        pages.sign_in(org.employee_a1)
        assert pages.last.headers["Location"] == "/report"
        page = pages.get("/report").get_data(as_text=True)
        assert "He waited for me by my car." in page
        assert re.search(r'value="threat"[^>]*checked', page)
        # Kept once: a second visit starts afresh.
        assert "He waited for me by my car." not in pages.get("/report").get_data(as_text=True)


def test_a_session_ends_after_the_absolute_timeout_even_when_used(pages, org):
    with freeze_time(NOW) as clock:
        pages.sign_in(org.employee_a1)
        for _ in range(21):  # every 29 minutes for ten hours and more
            clock.tick(timedelta(minutes=29))
            response = pages.get("/my-reports")
        assert response.status_code == 302 and response.headers["Location"] == "/signin"


def test_a_deactivated_user_or_removed_role_takes_effect_on_the_next_page(pages, org,
                                                                           db_session):
    pages.sign_in(org.employee_a1)
    assert pages.get("/my-reports").status_code == 200
    db_session.query(UserRole).filter_by(user_id=org.employee_a1.id).delete()
    db_session.commit()
    pages.get("/report")
    assert pages.post("/report", report_form(org)).status_code == 403
    org.employee_a1.active = False
    db_session.commit()
    response = pages.get("/my-reports")
    assert response.status_code == 302 and response.headers["Location"] == "/signin"
    assert db_session.scalar(select(func.count()).select_from(WebSession).where(
        WebSession.user_id == org.employee_a1.id)) == 0


def test_sign_out_ends_the_session_on_the_server(pages, org, db_session):
    signed_in = pages.sign_in(org.employee_a1)
    old_cookie = _session_id(signed_in)
    response = pages.post("/signout")
    assert response.status_code == 303
    assert db_session.scalar(select(func.count()).select_from(WebSession).where(
        WebSession.user_id == org.employee_a1.id)) == 0
    # The old cookie, replayed, signs nobody in.
    replay = pages.client
    replay.set_cookie("op_session", old_cookie)
    assert replay.get("/my-reports").status_code == 302


def test_a_form_without_its_csrf_token_is_refused_and_writes_nothing(pages, org, db_session):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    response = pages.post("/report", report_form(org), token=False)
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0


@pytest.mark.parametrize("origin", ["https://evil.example", None, "null"])
def test_a_form_from_another_site_is_refused(pages, org, db_session, origin):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    response = pages.post("/report", report_form(org), origin=origin)
    assert response.status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Incident)) == 0


def test_pages_allow_only_the_services_own_files(pages, org):
    pages.sign_in(org.employee_a1)
    response = pages.get("/report")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_template_loads_anything_from_another_site():
    from pathlib import Path

    import incidents

    templates = Path(incidents.__file__).parent / "web" / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        for attribute in ("src=", "href="):
            for part in text.split(attribute)[1:]:
                assert not part.lstrip("\"'").startswith(("http:", "https:", "//")), template


def test_the_language_is_swedish_first_english_chosen_and_remembered(pages):
    assert '<html lang="sv">' in pages.get("/signin").get_data(as_text=True)
    chosen = pages.get("/language/en?next=/signin")
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/signin"
    assert '<html lang="en">' in pages.get("/signin").get_data(as_text=True)
    assert '<html lang="en">' in pages.get("/anonymous/report").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil"])
def test_the_language_switch_goes_nowhere_but_this_site(pages, target):
    response = pages.get(f"/language/en?next={target}")
    assert response.headers["Location"] == "/"


def test_an_unknown_page_is_a_page_not_json(pages):
    response = pages.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert pages.get("/api/v1/no-such").mimetype == "application/problem+json"


def test_the_development_mailbox_shows_the_mail_at_once_with_a_link_to_the_page(pages, org):
    pages.sign_in(org.employee_a1)
    pages.get("/report")
    pages.post("/report", report_form(org))
    page = pages.get("/dev/mailbox").get_data(as_text=True)
    assert org.manager_a.email in page
    assert "/reports/" in page and "/api/" not in page


def test_the_demo_organisation_is_offered_on_an_empty_register(pages, db_session):
    page = pages.get("/dev/signin").get_data(as_text=True)
    assert 'action="/dev/demo-organisation"' in page
    assert pages.post("/dev/demo-organisation").status_code == 303
    page = pages.get("/dev/signin").get_data(as_text=True)
    assert "(demo)" in page and 'action="/dev/demo-organisation"' not in page


def test_deactivating_a_user_through_the_api_ends_their_sessions(pages, client, make, org,
                                                                 db_session):
    pages.sign_in(org.employee_a1)
    response = client.patch(f"/api/v1/users/{org.employee_a1.id}", json={"active": False},
                            headers=make.headers(org.admin, **{"If-Match": "*"}))
    assert response.status_code == 200, response.json
    assert db_session.scalar(select(func.count()).select_from(WebSession).where(
        WebSession.user_id == org.employee_a1.id)) == 0
    assert pages.get("/my-reports").status_code == 302
