"""Identity, roles and the scope query every incident read goes through.

The bearer token says who the caller is; roles and unit leadership come from the database.
Two kinds of token are accepted:

* local tokens (HS256, signed with SECRET_KEY) issued by ``flask tokens issue`` — on by default
  unless OpenID Connect is configured (LOCAL_TOKENS);
* the organisation's OpenID Connect tokens (RS256/ES256), verified against OIDC_JWKS_URL with
  OIDC_ISSUER and OIDC_AUDIENCE; the user is found by the OIDC_USER_CLAIM claim (email).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import jwt
from flask import current_app, g, request
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import joinedload

from incidents.clock import utcnow
from incidents.domain import REPORTING_ROLES
from incidents.errors import Forbidden, ServiceUnavailable, Unauthorized
from incidents.extensions import db
from incidents.input_guards import CONTROL_CHARACTERS
from incidents.models import User
from incidents.schemas.common import MAX_ID, normalise_email

_OIDC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384"]


def issue_local_token(user: User, hours: int | None = None) -> str:
    config = current_app.config
    hours = hours or config["TOKEN_DEFAULT_HOURS"]
    if hours > config["TOKEN_MAX_HOURS"]:
        raise ValueError(f"at most {config['TOKEN_MAX_HOURS']} hours (TOKEN_MAX_HOURS)")
    now = utcnow()
    claims = {
        "iss": config["TOKEN_ISSUER"],
        "aud": config["TOKEN_AUDIENCE"],
        "sub": str(user.id),
        "email": user.email,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode(claims, config["SECRET_KEY"], algorithm="HS256")


def _jwks_client() -> jwt.PyJWKClient:
    clients = current_app.extensions.setdefault("incidents.jwks", {})
    url = current_app.config["OIDC_JWKS_URL"]
    if url not in clients:
        clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
    return clients[url]


def _decode(token: str) -> tuple[str, str]:
    """Verify the token; return (how the user is identified, the value): ("id", "17") for a
    local token, ("email", "a@b.se") for an OpenID Connect token."""
    config = current_app.config
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise Unauthorized("The bearer token is malformed.") from exc
    algorithm = header.get("alg")
    leeway = config["TOKEN_LEEWAY_SECONDS"]
    try:
        if algorithm == "HS256" and config["LOCAL_TOKENS"]:
            claims = jwt.decode(
                token,
                config["SECRET_KEY"],
                algorithms=["HS256"],
                audience=config["TOKEN_AUDIENCE"],
                issuer=config["TOKEN_ISSUER"],
                leeway=leeway,
                options={"require": ["exp", "iat", "sub"]},
            )
            return "id", str(claims["sub"])
        if algorithm in _OIDC_ALGORITHMS and config.get("OIDC_JWKS_URL"):
            try:
                signing_key = _jwks_client().get_signing_key_from_jwt(token)
            except jwt.PyJWKClientConnectionError as exc:
                raise ServiceUnavailable(
                    "The identity provider's signing keys could not be fetched.",
                    headers={"Retry-After": "30"},
                ) from exc
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=_OIDC_ALGORITHMS,
                audience=config["OIDC_AUDIENCE"],
                issuer=config["OIDC_ISSUER"],
                leeway=leeway,
                options={"require": ["exp", "iat"]},
            )
            claim = config["OIDC_USER_CLAIM"]
            if not isinstance(claims.get(claim), str):
                raise Unauthorized(f"The token has no {claim!r} claim.")
            return "email", claims[claim]
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The bearer token has expired.") from exc
    except jwt.InvalidSignatureError as exc:
        raise Unauthorized("The bearer token's signature is not valid.") from exc
    except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
        raise Unauthorized(f"The bearer token is not valid: {exc}.") from exc
    raise Unauthorized(f"Tokens signed with {algorithm!r} are not accepted here.")


def _authenticate() -> User:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <token>'.")
    kind, value = _decode(token.strip())
    if kind == "id":
        # ASCII digits of an id a row can have: "²" passed isdigit() and failed int(), and 30
        # digits overflowed the database's integer (both were 500s).
        is_id = value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_ID
        found = {"id": int(value)} if is_id else None
    else:
        # Normalised as stored (NFKC, lower case); an address that is not ASCII then, or holds
        # a NUL (which PostgreSQL refuses: a 500), is nobody's.
        address = normalise_email(value)
        is_address = address.isascii() and not CONTROL_CHARACTERS.search(address)
        found = {"email": address} if is_address else None
    user = (db.session.scalars(_caller_query(kind), found).unique().one_or_none()
            if found is not None else None)
    if user is None:
        raise Unauthorized("The token's user is not registered in this service.")
    if not user.active:
        raise Unauthorized("The token's user has been deactivated.")
    return user


@cache
def _caller_query(kind: str) -> Select:
    """The caller by id or by e-mail address, with their roles, the units they lead and the
    units they hold a role for, in one query: every request needs them, read fresh each time
    (a removed role takes effect on the next request). Built once per process, with the id or
    address bound per request; a person holds few of each, so the joined rows stay few."""
    query = select(User).options(
        joinedload(User.role_rows),
        joinedload(User.leadership_rows),
        joinedload(User.assignment_rows),
    )
    if kind == "id":
        return query.where(User.id == bindparam("id"))
    return query.where(func.lower(User.email) == bindparam("email"))


def current_user() -> User:
    """The authenticated caller, verified once per request."""
    if "current_user" not in g:
        g.current_user = _authenticate()
    return g.current_user


def optional_user() -> User | None:
    """The caller if the request carries a valid token, else None (never raises 401)."""
    if "current_user" in g:
        return g.current_user
    if not request.headers.get("Authorization"):
        return None
    try:
        return current_user()
    except (Unauthorized, ServiceUnavailable):
        return None


def require_roles(user: User, roles: tuple[str, ...]) -> None:
    if roles and not user.has_role(*roles):
        wanted = " or ".join(roles)
        raise Forbidden(f"This needs the {wanted} role.")


def may_report(user: User) -> bool:
    return user.has_role(*REPORTING_ROLES)
