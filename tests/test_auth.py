"""Authentication: who a bearer token says the caller is (GET /api/v1/me), and the settings
that decide which tokens are accepted (incidents.config.load_config).

Every refusal is a 401 problem document with a WWW-Authenticate challenge; an identity provider
whose signing keys cannot be fetched is a 503 with Retry-After, not a 401.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from freezegun import freeze_time
from jwt.algorithms import RSAAlgorithm

from incidents.config import ConfigError, load_config
from tests.factories import NOW

ME = "/api/v1/me"


# -- helpers -------------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_401(response) -> dict:
    body = assert_problem(response, 401)
    assert body["title"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


def assert_me(response, user) -> dict:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["id"] == user.id
    assert body["email"] == user.email
    return body


def local_claims(app, user, **overrides) -> dict:
    """The claims of a valid local token; an override of None removes the claim."""
    now = datetime.now(UTC)
    claims = {
        "iss": app.config["TOKEN_ISSUER"],
        "aud": app.config["TOKEN_AUDIENCE"],
        "sub": str(user.id),
        "email": user.email,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def local_token(app, user, *, key: str | None = None, **overrides) -> str:
    return jwt.encode(
        local_claims(app, user, **overrides), key or app.config["SECRET_KEY"], algorithm="HS256"
    )


# -- local tokens --------------------------------------------------------------------------


def test_missing_authorization_header_is_401(client):
    body = assert_401(client.get(ME))
    assert "Bearer" in body["detail"]
    assert "required" in body["detail"]


@pytest.mark.parametrize("scheme", ["Basic", "Token", "JWT"])
def test_a_scheme_other_than_bearer_is_401(client, make, scheme):
    user = make.user("employee")
    token = make.token(user)
    assert_me(client.get(ME, headers=bearer(token)), user)  # the token itself is fine

    assert_401(client.get(ME, headers={"Authorization": f"{scheme} {token}"}))


def test_bearer_without_a_token_is_401(client):
    assert_401(client.get(ME, headers={"Authorization": "Bearer "}))
    assert_401(client.get(ME, headers={"Authorization": "Bearer"}))


@pytest.mark.parametrize(
    "garbage",
    ["not-a-token", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.garbage.garbage", "....", "Bearer"],
)
def test_a_malformed_token_is_401(client, garbage):
    body = assert_401(client.get(ME, headers=bearer(garbage)))
    assert "not valid" in body["detail"] or "malformed" in body["detail"]


def test_a_valid_local_token_gives_the_user_with_email_and_roles(client, make):
    unit = make.unit()
    user = make.user("employee", "manager", unit=unit, leads=(unit,))

    body = assert_me(client.get(ME, headers=make.headers(user)), user)

    assert body["email"] == user.email
    assert sorted(body["roles"]) == ["employee", "manager"]
    assert body["unit_id"] == unit.id
    assert body["leads_unit_ids"] == [unit.id]
    assert body["active"] is True


def test_the_scheme_name_is_case_insensitive(client, make):
    user = make.user("employee")
    response = client.get(ME, headers={"Authorization": f"bearer {make.token(user)}"})
    assert_me(response, user)


def test_a_hand_made_local_token_is_accepted(app, client, make):
    """The control for the tests below: the claims they start from make a valid token, so
    each of them is refused only for the one thing it changes."""
    user = make.user("hr")
    assert_me(client.get(ME, headers=bearer(local_token(app, user))), user)


def test_an_expired_token_is_401_and_says_so(app, client, make):
    user = make.user("employee")
    leeway = app.config["TOKEN_LEEWAY_SECONDS"]
    with freeze_time(NOW):
        token = make.token(user, hours=1)

    with freeze_time(NOW + timedelta(hours=1, seconds=leeway + 1)):
        body = assert_401(client.get(ME, headers=bearer(token)))

    assert "expired" in body["detail"].lower()


def test_an_expired_token_is_still_accepted_within_the_leeway(app, client, make):
    user = make.user("employee")
    leeway = app.config["TOKEN_LEEWAY_SECONDS"]
    assert leeway > 1
    with freeze_time(NOW):
        token = make.token(user, hours=1)

    with freeze_time(NOW + timedelta(hours=1, seconds=leeway - 1)):
        assert_me(client.get(ME, headers=bearer(token)), user)


def test_a_token_signed_with_another_secret_is_401(app, client, make):
    user = make.user("employee")
    token = local_token(app, user, key="another-secret-that-is-long-enough-for-hs256-987654")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "signature" in body["detail"]


def test_a_token_for_another_audience_is_401(app, client, make):
    user = make.user("employee")
    token = local_token(app, user, aud="some-other-api")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "audience" in body["detail"].lower()


def test_a_token_from_another_issuer_is_401(app, client, make):
    user = make.user("employee")
    token = local_token(app, user, iss="someone-else")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "issuer" in body["detail"].lower()


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud", "iss"])
def test_a_local_token_missing_a_required_claim_is_401(app, client, make, missing):
    user = make.user("employee")
    token = local_token(app, user, **{missing: None})
    assert_401(client.get(ME, headers=bearer(token)))


def test_an_unsigned_alg_none_token_is_401(app, client, make):
    user = make.user("admin")
    token = jwt.encode(local_claims(app, user), None, algorithm="none")
    assert jwt.get_unverified_header(token)["alg"] == "none"

    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "none" in body["detail"]


def test_an_rs256_token_is_401_when_openid_connect_is_not_configured(app, client, make):
    assert not app.config.get("OIDC_JWKS_URL")
    user = make.user("employee")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(local_claims(app, user), key, algorithm="RS256")
    assert_401(client.get(ME, headers=bearer(token)))


@pytest.mark.parametrize("sub", ["999999999", "not-a-number", "-1", ""])
def test_a_token_for_an_unknown_user_is_401(app, client, make, sub):
    user = make.user("employee")
    token = local_token(app, user, sub=sub)
    assert_401(client.get(ME, headers=bearer(token)))


@pytest.mark.parametrize("sub", [
    "²", "1" * 30, str(2**31), "0",
    # The user's own id in Arabic-Indic and full-width digits: int() read them as the id.
    lambda user_id: user_id.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
    lambda user_id: user_id.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
])
def test_a_signed_token_whose_sub_is_not_an_id_a_row_can_have_is_401(app, client, make, sub):
    """Validly signed with SECRET_KEY, but "²" passed str.isdigit() and failed int(), and 30
    digits overflowed the database's integer (500s)."""
    user = make.user("employee")
    sub = sub(str(user.id)) if callable(sub) else sub
    assert_401(client.get(ME, headers=bearer(local_token(app, user, sub=sub))))


def test_a_token_for_a_deactivated_user_is_401(client, make):
    user = make.user("employee", active=False)
    token = make.token(user)  # issued before the deactivation, say
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "deactivated" in body["detail"]


# -- OpenID Connect ------------------------------------------------------------------------

OIDC_ISSUER = "https://login.stad.example/realms/stad"
OIDC_AUDIENCE = "incidents"
KID = "stad-2026"


@dataclass
class Keys:
    signing: rsa.RSAPrivateKey
    other: rsa.RSAPrivateKey


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(
        signing=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        other=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


class _JWKSHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # http.server's naming
        body = json.dumps(self.server.jwks).encode()
        self.server.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep the test output quiet
        pass


@pytest.fixture
def jwks_server(keys):
    jwk = RSAAlgorithm.to_jwk(keys.signing.public_key(), as_dict=True)
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    server = HTTPServer(("127.0.0.1", 0), _JWKSHandler)
    server.jwks = {"keys": [jwk]}
    server.hits = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _jwks_url(server) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/realms/stad/protocol/openid-connect/certs"


@pytest.fixture
def oidc(app, monkeypatch, jwks_server):
    """OpenID Connect configured against the local JWKS server, with an empty key cache."""
    monkeypatch.setitem(app.extensions, "incidents.jwks", {})
    monkeypatch.setitem(app.config, "OIDC_ISSUER", OIDC_ISSUER)
    monkeypatch.setitem(app.config, "OIDC_AUDIENCE", OIDC_AUDIENCE)
    monkeypatch.setitem(app.config, "OIDC_JWKS_URL", _jwks_url(jwks_server))
    assert app.config["OIDC_USER_CLAIM"] == "email"
    yield jwks_server
    app.extensions["incidents.jwks"].clear()


def oidc_token(keys: Keys, *, key=None, kid: str = KID, **overrides) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": OIDC_ISSUER,
        "aud": OIDC_AUDIENCE,
        "sub": "5f1c7e0a-9d1b-4c33-a2f0-0b7e1d9c4a11",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key or keys.signing, algorithm="RS256", headers={"kid": kid})


def test_a_valid_oidc_token_finds_the_user_by_email_case_insensitively(client, make, keys, oidc):
    user = make.user("employee", "hr", email="anna.berg@stad.example")
    token = oidc_token(keys, email="Anna.Berg@Stad.EXAMPLE")

    body = assert_me(client.get(ME, headers=bearer(token)), user)

    assert sorted(body["roles"]) == ["employee", "hr"]
    assert oidc.hits >= 1  # the key came from the provider's JWKS


def test_an_openid_connect_token_with_a_look_alike_address_finds_the_user(
    client, make, keys, oidc
):
    """The provider's claim is normalised as stored: full-width letters are the plain ones,
    a Cyrillic а is nobody, and a NUL reaches no database."""
    user = make.user("employee", email="admin@kommun.example")
    r = client.get("/api/v1/me", headers=bearer(oidc_token(keys, email="ａdmin@kommun.example")))
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["id"] == user.id
    for claim in ("\u0430dmin@kommun.example", "admin\x00@kommun.example"):
        assert_401(client.get("/api/v1/me", headers=bearer(oidc_token(keys, email=claim))))


def test_an_oidc_token_from_another_issuer_is_401(client, make, keys, oidc):
    make.user("employee", email="anna.berg@stad.example")
    token = oidc_token(keys, email="anna.berg@stad.example", iss="https://evil.example/")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "issuer" in body["detail"].lower()


def test_an_oidc_token_for_another_audience_is_401(client, make, keys, oidc):
    make.user("employee", email="anna.berg@stad.example")
    token = oidc_token(keys, email="anna.berg@stad.example", aud="some-other-client")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "audience" in body["detail"].lower()


def test_an_oidc_token_signed_by_another_key_with_the_same_kid_is_401(
    client, make, keys, oidc
):
    make.user("employee", email="anna.berg@stad.example")
    token = oidc_token(keys, key=keys.other, email="anna.berg@stad.example")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "signature" in body["detail"]


def test_an_oidc_token_with_an_unknown_kid_is_401(client, make, keys, oidc):
    make.user("employee", email="anna.berg@stad.example")
    token = oidc_token(keys, kid="not-a-known-kid", email="anna.berg@stad.example")
    assert_401(client.get(ME, headers=bearer(token)))


def test_an_expired_oidc_token_is_401(client, make, keys, oidc):
    make.user("employee", email="anna.berg@stad.example")
    past = datetime.now(UTC) - timedelta(hours=2)
    token = oidc_token(
        keys, email="anna.berg@stad.example", iat=past, exp=past + timedelta(hours=1)
    )
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "expired" in body["detail"].lower()


@pytest.mark.parametrize("email", [None, 42, ["anna.berg@stad.example"]])
def test_an_oidc_token_without_an_email_claim_is_401(client, make, keys, oidc, email):
    make.user("employee", email="anna.berg@stad.example")
    token = oidc_token(keys, email=email)
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "email" in body["detail"]


def test_the_user_claim_is_configurable(app, client, make, keys, oidc, monkeypatch):
    user = make.user("employee", email="anna.berg@stad.example")
    monkeypatch.setitem(app.config, "OIDC_USER_CLAIM", "upn")
    token = oidc_token(keys, upn="anna.berg@stad.example")
    assert_me(client.get(ME, headers=bearer(token)), user)

    token = oidc_token(keys, email="anna.berg@stad.example")
    assert_401(client.get(ME, headers=bearer(token)))


def test_an_oidc_token_for_an_unregistered_email_is_401(client, make, keys, oidc):
    make.user("employee", email="anna.berg@stad.example")
    token = oidc_token(keys, email="someone.else@stad.example")
    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "not registered" in body["detail"]


def test_an_oidc_token_for_a_deactivated_user_is_401(client, make, keys, oidc):
    make.user("employee", email="anna.berg@stad.example", active=False)
    token = oidc_token(keys, email="anna.berg@stad.example")
    assert_401(client.get(ME, headers=bearer(token)))


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_jwks_endpoint_is_503_with_retry_after(
    app, client, make, keys, oidc, monkeypatch
):
    make.user("employee", email="anna.berg@stad.example")
    url = f"http://127.0.0.1:{_closed_port()}/certs"
    monkeypatch.setitem(app.config, "OIDC_JWKS_URL", url)
    token = oidc_token(keys, email="anna.berg@stad.example")

    response = client.get(ME, headers=bearer(token))

    body = assert_problem(response, 503)
    assert body["title"] == "Service unavailable"
    assert int(response.headers["Retry-After"]) > 0


def test_local_tokens_are_refused_when_local_tokens_is_off(
    app, client, make, oidc, monkeypatch
):
    user = make.user("employee")
    token = make.token(user)
    assert_me(client.get(ME, headers=bearer(token)), user)  # accepted while LOCAL_TOKENS is on

    monkeypatch.setitem(app.config, "LOCAL_TOKENS", False)

    body = assert_401(client.get(ME, headers=bearer(token)))
    assert "HS256" in body["detail"]


def test_oidc_and_local_tokens_work_side_by_side(client, make, keys, oidc):
    user = make.user("employee", email="anna.berg@stad.example")
    assert_me(client.get(ME, headers=make.headers(user)), user)
    assert_me(client.get(ME, headers=bearer(oidc_token(keys, email=user.email))), user)


# -- configuration -------------------------------------------------------------------------

PROD_SECRET = "x" * 48
PROD_DB = "postgresql://incidents@db.stad.example/incidents"
OIDC_ENV = {
    "OIDC_ISSUER": OIDC_ISSUER,
    "OIDC_AUDIENCE": OIDC_AUDIENCE,
    "OIDC_JWKS_URL": "https://login.stad.example/certs",
}


def test_development_needs_no_settings(tmp_path):
    config = load_config({}, tmp_path)
    assert config["INCIDENTS_ENV"] == "development"
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert len(config["SECRET_KEY"]) >= 32
    # the generated key is kept, so tokens survive a restart
    assert load_config({}, tmp_path)["SECRET_KEY"] == config["SECRET_KEY"]


def test_production_without_secret_key_is_refused(tmp_path):
    env = {"INCIDENTS_ENV": "production", "DATABASE_URL": PROD_DB}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env, tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_without_database_url_is_refused(tmp_path):
    env = {"INCIDENTS_ENV": "production", "SECRET_KEY": PROD_SECRET}
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_config(env, tmp_path)


def test_production_with_a_short_secret_key_is_refused(tmp_path):
    env = {"INCIDENTS_ENV": "production", "DATABASE_URL": PROD_DB, "SECRET_KEY": "short"}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(env, tmp_path)


def test_production_with_both_set_loads(tmp_path):
    env = {"INCIDENTS_ENV": "production", "DATABASE_URL": PROD_DB, "SECRET_KEY": PROD_SECRET}
    config = load_config(env, tmp_path)
    assert config["INCIDENTS_ENV"] == "production"
    assert config["SECRET_KEY"] == PROD_SECRET


@pytest.mark.parametrize("present", [("OIDC_ISSUER",), ("OIDC_ISSUER", "OIDC_JWKS_URL")])
def test_partial_openid_connect_settings_are_refused(tmp_path, present):
    env = {name: OIDC_ENV[name] for name in present}
    missing = sorted(set(OIDC_ENV) - set(present))

    with pytest.raises(ConfigError) as excinfo:
        load_config(env, tmp_path)

    for name in missing:
        assert name in str(excinfo.value)
    for name in present:
        assert name not in str(excinfo.value)


@pytest.mark.parametrize("timezone", ["Europe/Stokholm", "Mars/Olympus", "../etc/passwd", "+01"])
def test_an_unknown_timezone_is_refused(tmp_path, timezone):
    with pytest.raises(ConfigError, match="TIMEZONE"):
        load_config({"TIMEZONE": timezone}, tmp_path)


def test_the_default_timezone_is_stockholm(tmp_path):
    assert load_config({}, tmp_path)["TIMEZONE"] == "Europe/Stockholm"
    assert load_config({"TIMEZONE": "Europe/Helsinki"}, tmp_path)["TIMEZONE"] == "Europe/Helsinki"


def test_local_tokens_default_on_without_openid_connect(tmp_path):
    config = load_config({}, tmp_path)
    assert config["LOCAL_TOKENS"] is True
    assert config["OIDC_JWKS_URL"] is None


def test_local_tokens_default_off_with_openid_connect(tmp_path):
    config = load_config(OIDC_ENV, tmp_path)
    assert config["LOCAL_TOKENS"] is False
    assert config["OIDC_ISSUER"] == OIDC_ISSUER
    assert config["OIDC_USER_CLAIM"] == "email"


def test_local_tokens_can_be_set_explicitly(tmp_path):
    assert load_config({**OIDC_ENV, "LOCAL_TOKENS": "true"}, tmp_path)["LOCAL_TOKENS"] is True
    assert load_config({"LOCAL_TOKENS": "off"}, tmp_path)["LOCAL_TOKENS"] is False
    with pytest.raises(ConfigError, match="LOCAL_TOKENS"):
        load_config({"LOCAL_TOKENS": "maybe"}, tmp_path)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/inc", "postgresql+psycopg://u:p@db:5432/inc"),
        ("postgresql://u:p@db:5432/inc", "postgresql+psycopg://u:p@db:5432/inc"),
        ("postgresql+psycopg://u@db/inc", "postgresql+psycopg://u@db/inc"),
        ("sqlite:////var/lib/incidents.db", "sqlite:////var/lib/incidents.db"),
    ],
)
def test_postgres_urls_use_the_psycopg_driver(tmp_path, given, expected):
    config = load_config({"DATABASE_URL": given}, tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == expected


def test_an_unknown_environment_name_is_refused(tmp_path):
    from incidents.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="INCIDENTS_ENV"):
        load_config({"INCIDENTS_ENV": "prod"}, tmp_path)
