"""The Flask application: create_app() builds it from settings, extensions and blueprints."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from incidents import extensions
from incidents.config import config_from_environment
from incidents.errors import DomainError
from incidents.extensions import problem_response

log = logging.getLogger(__name__)

_BODY_METHODS = {"POST", "PUT", "PATCH"}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(config_from_environment(app.instance_path))
    if config:
        app.config.update(config)
    register_extensions(app)
    register_request_guards(app)
    register_logging(app.config["LOG_LEVEL"])
    register_blueprints(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from incidents import models  # noqa: F401 - registers the models on the metadata

    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=_migrations_dir())
    extensions.api.init_app(app)
    extensions.limiter.init_app(app)
    register_proxy_fix(app)
    with app.app_context():
        _configure_engine(extensions.db.engine)


def register_proxy_fix(app: Flask) -> None:
    """Behind PROXY_FIX_X_FOR proxies, the client's address is the one they forwarded, so
    rate limits count per client rather than per proxy."""
    if app.config.get("PROXY_FIX_X_FOR"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"])


def _migrations_dir() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent / "migrations")


def _configure_engine(engine: Engine) -> None:
    """SQLite: foreign keys on, a busy timeout, and real transactions.

    pysqlite's own transaction handling skips BEGIN before reads and breaks SAVEPOINT; we turn it
    off and emit BEGIN IMMEDIATE ourselves, so a request that reads and then writes holds the
    write lock from the start instead of failing on a lock upgrade under concurrency.
    """
    if engine.dialect.name != "sqlite" or getattr(engine, "_incidents_configured", False):
        return
    engine._incidents_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_request_guards(app: Flask) -> None:
    """Refuse what cannot be a valid API call before any view runs: bodies over the limit (413)
    and bodies that are not JSON (415). Add security headers to every response."""

    @app.before_request
    def _check_body():
        if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
            return None
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            return problem_response(413, f"The request body is larger than {limit} bytes.")
        has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
        if has_body and not request.is_json:
            return problem_response(
                415,
                "Send the body as JSON with Content-Type: application/json.",
                errors={"Content-Type": [f"{request.mimetype or 'missing'} is not supported"]},
            )
        return None

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith("/api/v1/docs"):
            return response
        headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
        headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(413)
    def _too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return problem_response(413, f"The request body is larger than {limit} bytes.")


class _AnonymousChannelLogFilter(logging.Filter):
    """The development server logs each request with the client's address and the time; for the
    anonymous channel both are blanked, so its own log cannot point back to a reporter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if ANONYMOUS_PREFIX in message:
            record.msg = _ADDRESS_AND_TIME.sub("- - - [-] ", message, count=1)
            record.args = ()
        return True


ANONYMOUS_PREFIX = "/api/v1/anonymous-reports"
_ADDRESS_AND_TIME = re.compile(r"^\S+ - - \[[^\]]*\] ")


def register_logging(level: str = "INFO") -> None:
    """The service's own messages (mails logged without a mail server, job results) go to
    stderr at LOG_LEVEL unless the host (gunicorn, say) has set up logging already."""
    ours = logging.getLogger("incidents")
    ours.setLevel(level)
    if not ours.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.addHandler(handler)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _AnonymousChannelLogFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_AnonymousChannelLogFilter())


def register_blueprints(app: Flask) -> None:
    from incidents.api import register

    register(extensions.api)


def register_commands(app: Flask) -> None:
    from incidents.cli import register

    register(app)


__all__ = ["create_app", "DomainError"]
