"""The browser-test tools prove themselves, without any page of the service: the provider is a
real OpenID Connect provider (discovery, PKCE S256 required, signed ID tokens carrying the
email typed at its form), the live server serves the app on its own database, and each check
of check_page can fail."""

from __future__ import annotations

import http.client
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from authlib.integrations.requests_client import OAuth2Session

from tests.web import browser as web
from tests.web.live import INFRA_CALLBACK_PATH, get_json

SCOPE = "openid email profile"


def test_the_provider_publishes_pkce_s256_and_sign_out(oidc_provider):
    discovery = get_json(oidc_provider.discovery_url)
    assert discovery["issuer"] == oidc_provider.issuer
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert "plain" not in discovery["code_challenge_methods_supported"]
    assert discovery["end_session_endpoint"].startswith(oidc_provider.issuer)
    assert {"openid", "email", "profile"} <= set(discovery["scopes_supported"])
    assert "client_secret_basic" in discovery["token_endpoint_auth_methods_supported"]
    assert get_json(discovery["jwks_uri"])["keys"]


def test_the_provider_refuses_an_authorization_request_without_pkce(oidc_provider, ports):
    redirect_uri = ports.service_url + INFRA_CALLBACK_PATH
    query = urlencode({"client_id": oidc_provider.client_id, "response_type": "code",
                       "scope": SCOPE, "redirect_uri": redirect_uri, "state": "s"})
    endpoint = urlsplit(oidc_provider.discovery["authorization_endpoint"])
    connection = http.client.HTTPConnection(endpoint.netloc, timeout=5)
    try:
        connection.request("GET", f"{endpoint.path}?{query}")
        response = connection.getresponse()
        location = response.getheader("Location") or ""
    finally:
        connection.close()
    assert response.status in {302, 303}
    assert location.startswith(redirect_uri)
    error = parse_qs(urlsplit(location).query)
    assert error["error"] == ["invalid_request"]
    assert "PKCE" in error["error_description"][0]


def test_a_person_signs_in_at_the_provider_and_the_id_token_carries_their_email(
    oidc_provider, ports, page
):
    """The authorization code flow as the service runs it, with the browser at the provider's
    login form: PKCE S256, the code exchanged with client_secret_basic, and an RS256 ID token
    verified against the provider's JWKS."""
    discovery = oidc_provider.discovery
    redirect_uri = ports.service_url + INFRA_CALLBACK_PATH
    email = "kim.svensson@stad.example"
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    client = OAuth2Session(
        oidc_provider.client_id, oidc_provider.client_secret, scope=SCOPE,
        redirect_uri=redirect_uri, code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    assert "code_challenge_method=S256" in url

    # The code comes back to the service's address; this test answers it itself.
    page.route(
        redirect_uri + "?*",
        lambda route: route.fulfill(status=200, content_type="text/html",
                                    body="<!doctype html><title>back</title><p>back</p>"),
    )
    page.goto(url)
    page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("whatever")
    page.locator("button[type=submit]").click()
    page.wait_for_url(redirect_uri + "?*")
    answer = parse_qs(urlsplit(page.url).query)
    assert answer["state"] == [state]
    assert answer["iss"] == [oidc_provider.issuer]

    try:
        token = client.fetch_token(
            discovery["token_endpoint"], authorization_response=page.url,
            code_verifier=verifier,
        )
    finally:
        client.close()
    id_token = token["id_token"]
    signing_key = jwt.PyJWKClient(oidc_provider.jwks_uri).get_signing_key_from_jwt(id_token)
    claims = jwt.decode(
        id_token, signing_key.key, algorithms=["RS256"], audience=oidc_provider.client_id,
        issuer=oidc_provider.issuer,
    )
    assert claims["sub"] == email
    assert claims["email"] == email
    assert claims["email_verified"] is True
    assert claims["name"]
    assert claims["nonce"] == nonce


def test_the_accessibility_check_finds_an_image_without_alt(page):
    page.set_content("<!doctype html><html lang='sv'><head><title>Broken</title></head>"
                     "<body><main><h1>Broken</h1><img src='data:,'></main></body></html>")
    assert "image-alt" in {violation["id"] for violation in web.axe_violations(page)}
    with pytest.raises(AssertionError, match=r"image-alt[\s\S]*img"):
        web.assert_accessible(page)


def _serve(page, url: str, body: str) -> None:
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=body))


GOOD_PAGE = ("<!doctype html><html lang='sv'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             "<title>Bra sida</title></head><body><main><h1>Bra sida</h1>"
             "<p>Inget här laddas från någon annanstans.</p></main></body></html>")


def test_check_page_passes_a_good_page_and_keeps_both_screenshots(page, ports):
    url = ports.service_url + "/__infrastructure-test__/good"
    _serve(page, url, GOOD_PAGE)
    page.goto(url)
    web.check_page(page, "infrastructure-good", ports.service_url)
    for width in ("desktop", "phone"):
        assert (web.SCREENSHOTS / f"infrastructure-good-{width}.png").stat().st_size > 0
    assert page.viewport_size == web.DESKTOP


def test_check_page_finds_a_page_that_scrolls_sideways_on_a_phone(page, ports):
    url = ports.service_url + "/__infrastructure-test__/wide"
    _serve(page, url, GOOD_PAGE.replace("<p>", "<p style='width: 600px'>"))
    page.goto(url)
    with pytest.raises(AssertionError, match="scrolls sideways at 320 px"):
        web.check_widths(page, "infrastructure-wide")
    assert page.viewport_size == web.DESKTOP


def test_check_page_finds_what_a_page_loads_from_elsewhere(page, ports):
    url = ports.service_url + "/__infrastructure-test__/foreign"
    _serve(page, url, GOOD_PAGE.replace(
        "</head>", "<link rel='stylesheet' href='https://cdn.example/style.css'></head>"))
    page.goto(url)
    foreign = web.requests_of(page).foreign(ports.service_url)
    assert [loaded.url for loaded in foreign] == ["https://cdn.example/style.css"]
    with pytest.raises(AssertionError, match="loaded from outside"):
        web.assert_same_origin(page, ports.service_url)


def test_the_live_server_serves_the_app_on_its_own_database(live_server, live_data, page):
    from incidents.models import User

    unit = live_data.unit("Enhet Infrastruktur")
    person = live_data.user(live_data.email("infra"), "employee", "manager", unit=unit,
                            leads=(unit,))
    assert person.roles == ("employee", "manager")
    assert person.leads_unit_ids == (unit.id,)
    with live_server.app_context() as session:
        assert session.get(User, person.id).email == person.email
    assert live_server.app.config["OIDC_ISSUER"] == live_server.provider.issuer
    assert live_server.app.config["TESTING"] is False

    response = page.goto(live_server.url + "/api/v1/categories")
    assert response.status == 200
    assert "threat" in {category["code"] for category in response.json()}
    web.assert_same_origin(page, live_server.url)
