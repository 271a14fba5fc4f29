"""Settings, read from the environment (docs/configuration.md lists every one).

Development needs nothing set: the database is a SQLite file under instance/ and a signing key is
generated once and kept in instance/secret_key. With INCIDENTS_ENV=production a missing
SECRET_KEY or DATABASE_URL stops start-up instead of silently using a default.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"expected a boolean (true/false), got {value!r}")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _optional_int(
    env: Mapping[str, str], name: str, minimum: int, maximum: int
) -> int | None:
    """A whole number that may be left unset (None), e.g. a period only the organisation can
    decide on."""
    if (env.get(name) or "").strip() == "":
        return None
    value = _int(env, name, 0, minimum=minimum)
    if value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def _offsets(raw: str) -> list[str]:
    """Check-in offsets after the incident, e.g. "1d,1w,1m,3m" (days, weeks, calendar months)."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts:
        raise ConfigError("CHECK_IN_OFFSETS must name at least one offset, e.g. 1d,1w,1m,3m")
    # At most about ten years ahead: further is a typo, and would overflow date arithmetic.
    limits = {"d": 3660, "w": 522, "m": 120}
    offsets = []
    for part in parts:
        number, unit = part[:-1], part[-1:]
        if not (number.isascii() and number.isdigit()) or unit not in limits:
            raise ConfigError(f"CHECK_IN_OFFSETS: {part!r} is not a number followed by d, w or m")
        if not 1 <= int(number) <= limits[unit]:
            raise ConfigError(
                f"CHECK_IN_OFFSETS: {part!r} must be between 1{unit} and {limits[unit]}{unit}"
            )
        offsets.append(f"{int(number)}{unit}")
    if len(set(offsets)) != len(offsets):
        raise ConfigError("CHECK_IN_OFFSETS lists an offset twice")
    return offsets


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    try:
        return _bool(env.get(name), default)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from exc


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate limit in the limits library's notation, e.g. "5 per hour;20 per day"."""
    from limits import parse_many

    raw = env.get(name) or default
    try:
        parse_many(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}: {raw!r} is not a rate limit like '5 per hour'") from exc
    return raw


def _anonymous_channel(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """Rate limits of the anonymous channel and where they are counted (docs/configuration.md,
    "The anonymous channel"). memory:// counts in each process apart: in production that is a
    warning, not a refusal, as a single-process installation is served right by it."""
    storage = (env.get("RATELIMIT_STORAGE_URI") or "memory://").strip()
    from limits.storage import SCHEMES

    scheme = storage.partition("://")[0]
    if "://" not in storage or scheme not in SCHEMES or scheme.startswith("async+"):
        raise ConfigError(
            f"RATELIMIT_STORAGE_URI: {storage!r} is not a storage, e.g. redis://127.0.0.1:6379/0")
    if production and scheme == "memory":
        logging.getLogger("incidents.config").warning(
            "RATELIMIT_STORAGE_URI is memory://: each worker process counts the anonymous "
            "channel's limits on its own, so N workers allow N times the limits. Set "
            "RATELIMIT_STORAGE_URI=redis://… when running more than one worker.")
    return {
        "ANONYMOUS_REPORT_RATE_LIMIT": _rate_limit(
            env, "ANONYMOUS_REPORT_RATE_LIMIT", "5 per hour;20 per day"
        ),
        # Answers that served a report (the right code): their own budget per client.
        "ANONYMOUS_READ_RATE_LIMIT": _rate_limit(
            env, "ANONYMOUS_READ_RATE_LIMIT", "60 per hour"
        ),
        # Wrong codes (or unknown references) per client: beyond, a wrong code is a 429.
        "ANONYMOUS_WRONG_CODE_RATE_LIMIT": _rate_limit(
            env, "ANONYMOUS_WRONG_CODE_RATE_LIMIT", "20 per hour"
        ),
        # Wrong codes per reference, from anyone: beyond, the reference answers 429 to all.
        "ANONYMOUS_WRONG_CODES_PER_REFERENCE": _rate_limit(
            env, "ANONYMOUS_WRONG_CODES_PER_REFERENCE", "10 per hour"
        ),
        "RATELIMIT_STORAGE_URI": storage,
        # A store that goes away (Redis restarting) is not a 500: the limits are counted in
        # the process's memory until it is back.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Only a 429 says when to come back (Retry-After); other answers carry no limit headers.
        "RATELIMIT_HEADERS_ENABLED": False,
    }


def _mail(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """SMTP settings. With no MAIL_SERVER, mails are written to the log instead of sent."""
    server = env.get("MAIL_SERVER") or None
    use_tls = _flag(env, "MAIL_USE_TLS", False)
    use_ssl = _flag(env, "MAIL_USE_SSL", False)
    if use_tls and use_ssl:
        raise ConfigError("MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL exclude each other")
    mail_from = env.get("MAIL_FROM") or None
    if server and production and not mail_from:
        raise ConfigError("MAIL_FROM must be set when MAIL_SERVER is set in production")
    return {
        "MAIL_SERVER": server,
        "MAIL_PORT": _int(env, "MAIL_PORT", 465 if use_ssl else (587 if use_tls else 25), 1),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": mail_from or "otillaten-paverkan@localhost",
        "MAIL_TIMEOUT_SECONDS": _int(env, "MAIL_TIMEOUT_SECONDS", 10, minimum=1),
        # Retries: 1 min, 2, 4, … doubling up to an hour, for as long as the server is away.
        "MAIL_RETRY_BASE_SECONDS": _int(env, "MAIL_RETRY_BASE_SECONDS", 60, minimum=1),
        "MAIL_RETRY_MAX_SECONDS": _int(env, "MAIL_RETRY_MAX_SECONDS", 3600, minimum=1),
        # A claimed mail not marked sent within the lease is taken over by another sender.
        "MAIL_LEASE_SECONDS": _int(env, "MAIL_LEASE_SECONDS", 300, minimum=30),
        "MAIL_BATCH_SIZE": _int(env, "MAIL_BATCH_SIZE", 100, minimum=1),
        "MAIL_KEEP_SENT_DAYS": _int(env, "MAIL_KEEP_SENT_DAYS", 30, minimum=1),
    }


def _web(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """Sign-in to the pages (OpenID Connect authorization code + PKCE), the server-side session
    and its timeouts, and the development sign-in, which production refuses to start with."""
    dev_signin = _flag(env, "DEV_SIGNIN", not production)
    if dev_signin and production:
        raise ConfigError(
            "DEV_SIGNIN lets anyone sign in as anyone; it cannot be enabled with "
            "INCIDENTS_ENV=production"
        )
    client_id = env.get("OIDC_CLIENT_ID") or None
    client_secret = env.get("OIDC_CLIENT_SECRET") or None
    if client_id and not env.get("OIDC_ISSUER"):
        raise ConfigError("OIDC_CLIENT_ID needs OIDC_ISSUER (the provider's issuer URL)")
    if client_id and not client_secret:
        raise ConfigError("OIDC_CLIENT_ID needs OIDC_CLIENT_SECRET (a confidential client)")
    idle = _int(env, "SESSION_IDLE_MINUTES", 30, minimum=1)
    absolute = _int(env, "SESSION_ABSOLUTE_HOURS", 10, minimum=1)
    if idle > absolute * 60:
        raise ConfigError("SESSION_IDLE_MINUTES must not be longer than SESSION_ABSOLUTE_HOURS")
    return {
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": client_secret,
        "OIDC_SCOPES": env.get("OIDC_SCOPES") or "openid email profile",
        # Where the provider sends the browser after signing out there (RP-initiated logout).
        "OIDC_END_SESSION": _flag(env, "OIDC_END_SESSION", True),
        "DEV_SIGNIN": dev_signin,
        "SESSION_IDLE_MINUTES": idle,
        "SESSION_ABSOLUTE_HOURS": absolute,
        "SESSION_COOKIE_NAME": "op_session",
        "SESSION_COOKIE_SECURE": _flag(env, "SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Rating a workshop in the room, without an account: per client (a keyed hash of the
        # address), generous, since a whole room may share one address behind the city's proxy.
        "WORKSHOP_ROOM_RATE_LIMIT": _rate_limit(env, "WORKSHOP_ROOM_RATE_LIMIT", "600 per hour"),
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": env.get("TIMEZONE", "Europe/Stockholm"),
        # Flask-WTF: CSRF tokens live as long as the session; checked on web forms only.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_CHECK_DEFAULT": False,
        "WTF_CSRF_SSL_STRICT": production,
    }


def _operations(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """Health, readiness, metrics and logs (docs/operations.md, "Health, readiness and
    metrics"). Readiness needs a live scheduler in production, not in development, so that
    `make run` without one stays ready."""
    log_format = (env.get("LOG_FORMAT") or "text").strip().lower()
    if log_format not in {"text", "json"}:
        raise ConfigError(f"LOG_FORMAT must be text or json, got {env.get('LOG_FORMAT')!r}")
    lease = _int(env, "SCHEDULER_LEASE_SECONDS", 60, minimum=15)
    max_age = _int(env, "SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS", 180, minimum=15)
    if max_age < lease:
        # The heartbeat is written every third of the lease; a limit under a whole lease
        # would call a scheduler silent after two late beats.
        raise ConfigError(
            f"SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS ({max_age}) must be at least "
            f"SCHEDULER_LEASE_SECONDS ({lease})"
        )
    token = env.get("METRICS_TOKEN") or None
    if token is not None and len(token) < 16:
        raise ConfigError("METRICS_TOKEN must be at least 16 characters")
    return {
        "LOG_FORMAT": log_format,
        "SCHEDULER_REQUIRED": _flag(env, "SCHEDULER_REQUIRED", production),
        "SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS": max_age,
        "SCHEDULER_JOB_LATE_FACTOR": _int(env, "SCHEDULER_JOB_LATE_FACTOR", 5, minimum=2),
        "SCHEDULER_JOB_GRACE_MINUTES": _int(env, "SCHEDULER_JOB_GRACE_MINUTES", 120, minimum=1),
        "PROBE_TIMEOUT_SECONDS": _int(env, "PROBE_TIMEOUT_SECONDS", 2, minimum=1),
        "METRICS_TOKEN": token,
    }


def _dev_secret_key(instance_path: Path) -> str:
    """A per-installation key for local use, created on first start and kept across restarts
    so that issued tokens stay valid."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(env: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    environment = env.get("INCIDENTS_ENV", "development")
    if environment not in {"development", "production"}:
        raise ConfigError(
            f"INCIDENTS_ENV must be development or production, got {environment!r}"
        )
    production = environment == "production"

    database_url = env.get("DATABASE_URL")
    if not database_url:
        if production:
            raise ConfigError("DATABASE_URL must be set when INCIDENTS_ENV=production")
        instance_path.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance_path / 'incidents.db'}"

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set when INCIDENTS_ENV=production")
        secret_key = _dev_secret_key(instance_path)
    elif production and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters in production")

    timezone = env.get("TIMEZONE", "Europe/Stockholm")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"TIMEZONE {timezone!r} is not a known time zone") from exc

    oidc = {key: env.get(key) or None for key in ("OIDC_ISSUER", "OIDC_AUDIENCE", "OIDC_JWKS_URL")}
    oidc_set = [key for key, value in oidc.items() if value]
    if oidc_set and len(oidc_set) != 3:
        missing = sorted(set(oidc) - set(oidc_set))
        raise ConfigError(f"OpenID Connect needs all three settings; missing: {', '.join(missing)}")

    try:
        local_tokens = _bool(env.get("LOCAL_TOKENS"), default=not oidc_set)
    except ConfigError as exc:
        raise ConfigError(f"LOCAL_TOKENS: {exc}") from exc

    web = _web(env, production)

    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")

    return {
        "INCIDENTS_ENV": "production" if production else "development",
        "LOG_LEVEL": log_level,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # No pre-ping: it cost a round trip on every request (6.6 % of a create). A pooled
        # connection the database dropped fails its request instead, which is answered 503 with
        # Retry-After (extensions.Api.handle_database_error); SQLAlchemy then discards every
        # connection of the pool made before the failure, so the service is back by itself as
        # soon as the database is (tests/reliability). Errors never carry the parameters.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False, "hide_parameters": True},
        # While the database is away, requests get 503 with this Retry-After.
        "DATABASE_RETRY_AFTER_SECONDS": _int(env, "DATABASE_RETRY_AFTER_SECONDS", 2, minimum=1),
        "TIMEZONE": timezone,
        # Tokens issued by `flask tokens issue` (HS256, signed with SECRET_KEY).
        "LOCAL_TOKENS": local_tokens,
        "TOKEN_ISSUER": env.get("TOKEN_ISSUER", "incidents-local"),
        "TOKEN_AUDIENCE": env.get("TOKEN_AUDIENCE", "incidents-api"),
        "TOKEN_DEFAULT_HOURS": _int(env, "TOKEN_DEFAULT_HOURS", 8, minimum=1),
        "TOKEN_MAX_HOURS": _int(env, "TOKEN_MAX_HOURS", 24 * 30, minimum=1),
        "TOKEN_LEEWAY_SECONDS": _int(env, "TOKEN_LEEWAY_SECONDS", 30),
        # The organisation's OpenID Connect provider (RS256 tokens verified against its JWKS).
        **oidc,
        "OIDC_USER_CLAIM": env.get("OIDC_USER_CLAIM", "email"),
        # Requests: bodies over 1 MB are refused with 413 before they are read.
        "MAX_CONTENT_LENGTH": _int(env, "MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
        "CLOCK_SKEW_SECONDS": _int(env, "CLOCK_SKEW_SECONDS", 300),
        "IDEMPOTENCY_TTL_HOURS": _int(env, "IDEMPOTENCY_TTL_HOURS", 24, minimum=1),
        # Follow-up deadlines (docs/configuration.md, "Follow-up deadlines").
        "ACKNOWLEDGE_WITHIN_HOURS": _int(env, "ACKNOWLEDGE_WITHIN_HOURS", 24, minimum=1),
        "POLICE_DECISION_DAYS": _int(env, "POLICE_DECISION_DAYS", 7, minimum=1),
        "AUTHORITY_NOTIFICATION_HOURS": _int(env, "AUTHORITY_NOTIFICATION_HOURS", 24, minimum=1),
        "CHECK_IN_OFFSETS": _offsets(env.get("CHECK_IN_OFFSETS", "1d,1w,1m,3m")),
        # Statistics (docs/statistics.md): counts from 1 to threshold − 1 are suppressed;
        # exposure surveys ask about this many months by default (BRÅ used 18).
        "STATS_SUPPRESSION_THRESHOLD": _int(env, "STATS_SUPPRESSION_THRESHOLD", 5, minimum=1),
        "SURVEY_REFERENCE_MONTHS": _int(env, "SURVEY_REFERENCE_MONTHS", 18, minimum=1),
        # Retention (gallring): closed incidents are anonymised this many days after closing
        # (services/retention.py). The period comes from the organisation's own
        # information-management plan, so there is no default: unset, nothing is anonymised.
        # At most about a hundred years: further is a typo, and would overflow date arithmetic.
        "RETENTION_AFTER_CLOSE_DAYS": _optional_int(
            env, "RETENTION_AFTER_CLOSE_DAYS", minimum=1, maximum=36_500
        ),
        # The scheduler (python -m scheduler): the process holding the lease renews it every
        # third of this; a standby takes over when it has gone unrenewed this long.
        "SCHEDULER_LEASE_SECONDS": _int(env, "SCHEDULER_LEASE_SECONDS", 60, minimum=15),
        # Health, readiness, metrics, the scheduler's heartbeat and job checks, log format.
        **_operations(env, production),
        # The web pages: sign-in, sessions, languages (docs/configuration.md, "Web pages").
        **web,
        # Notifications: the mails that keep the reporter informed.
        **_mail(env, production),
        # Links in mails point here.
        # Without it, the address `make run` serves (its PORT, default 5000).
        "PUBLIC_BASE_URL": (
            env.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{_int(env, 'PORT', 5000, 1)}"
        ).rstrip("/"),
        # The anonymous channel: per client (known only by a daily keyed hash) and per report.
        **_anonymous_channel(env, production),
        # How many proxies in front of the service set X-Forwarded-For (0: none, trust no one).
        "PROXY_FIX_X_FOR": _int(env, "PROXY_FIX_X_FOR", 0),
        # OpenAPI (flask-smorest)
        "API_TITLE": "Otillåten påverkan – incident register",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Swagger UI from this service (flask-swagger-ui's files), never from a CDN.
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    }


def config_from_environment(instance_path: str | Path) -> dict[str, Any]:
    return load_config(os.environ, Path(instance_path))
