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
from incidents.headers import add_security_headers
from incidents.input_guards import (
    AsciiIntegerConverter,
    TooManyDigits,
    buffer_unsized_body,
    integer_error,
    keep_parsed_body,
    load_json,
    refuse_control_characters,
)
from incidents.request_id import ANONYMOUS_PREFIXES

log = logging.getLogger(__name__)

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        static_folder="web/static",
        template_folder="web/templates",
    )
    app.config.update(config_from_environment(app.instance_path))
    if config:
        app.config.update(config)
    app.url_map.converters["int"] = AsciiIntegerConverter
    register_extensions(app)
    register_operations(app)
    register_request_guards(app)
    register_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    register_blueprints(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from incidents import models  # noqa: F401 - registers the models on the metadata
    from incidents.services import audit_chain

    audit_chain.listen()

    extensions.db.init_app(app)
    extensions.defer_migrate(app, _migrations_dir())
    extensions.api.init_app(app)
    extensions.limiter.init_app(app)
    register_proxy_fix(app)
    with app.app_context():
        _configure_engine(extensions.db.engine)


def register_operations(app: Flask) -> None:
    """Request ids and metrics, registered before the request guards so that every request is
    given its id and timed, whatever a guard answers (docs/operations.md)."""
    from incidents import metrics, request_id

    request_id.init_app(app)
    metrics.init_app(app)


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
    """Refuse what cannot be a valid API call before any view runs: bodies over the limit (413),
    bodies that are not JSON (415), bodies nested too deeply (400), a body for an operation that
    takes none, half characters and integers too long to parse; control characters in the
    query (422) or the path (404) (docs/errors.md). Add security headers to every response."""

    @app.before_request
    def _check_body():
        if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
            return None
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            return problem_response(413, f"The request body is larger than {limit} bytes.")
        if request.content_length is None and not buffer_unsized_body(limit):
            return problem_response(413, f"The request body is larger than {limit} bytes.")
        has_body = (request.content_length or 0) > 0 or request.headers.get("Transfer-Encoding")
        if has_body and not request.is_json:
            return problem_response(
                415,
                "Send the body as JSON with Content-Type: application/json.",
                errors={"Content-Type": [f"{request.mimetype or 'missing'} is not supported"]},
            )
        if has_body:
            return _refuse_what_no_schema_can_hold(
                takes_body=not request.endpoint or _takes_json_body(app))
        return None

    app.before_request(refuse_control_characters)

    app.after_request(add_security_headers)

    @app.errorhandler(413)
    def _too_large(_error):
        limit = app.config["MAX_CONTENT_LENGTH"]
        return problem_response(413, f"The request body is larger than {limit} bytes.")


def _takes_json_body(app: Flask) -> bool:
    """Whether the matched operation documents a JSON body (flask-smorest's @arguments)."""
    view = app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    method = getattr(view_class, request.method.lower(), None) if view_class else view
    arguments = getattr(method, "_apidoc", {}).get("arguments", {})
    return any(parameter.get("in") == "json" for parameter in arguments.get("parameters", []))


# No body of this API nests deeper than a few levels; a deeper one is an attack on the parser
# (Python's JSON decoder raised RecursionError on a megabyte of "[": a 500).
MAX_JSON_DEPTH = 32


def _half_characters(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _lone_surrogates(body) -> tuple[list[tuple[str, str]], int]:
    """Where a JSON body holds "\\ud800" and the like (valid JSON escapes that are half of a
    character, which no database can store: PostgreSQL's driver failed on them, a 500) or an
    integer too long to parse (a ValueError in the parser: a 500), what is wrong there, and how
    deep it nests. Walked without recursion, so depth cannot exhaust the stack."""
    found, deepest = [], 0
    pending = [(body, "", 1)]
    while pending:
        value, path, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(value, TooManyDigits):
            found.append((path or "body", integer_error()))
            continue
        if isinstance(value, str):
            if _half_characters(value):
                found.append((path or "body", "must not contain unpaired surrogates"))
            continue
        items = (value.items() if isinstance(value, dict)
                 else enumerate(value) if isinstance(value, list) else ())
        for key, item in items:
            if isinstance(key, str) and _half_characters(key):
                found.append((path or "body", "must not contain unpaired surrogates"))
            pending.append((item, f"{path}.{key}" if path else str(key), depth + 1))
    return sorted(set(found)), deepest


def _refuse_what_no_schema_can_hold(takes_body: bool):
    """What must not reach a schema or a view: a body nested too deeply for the parser (400), a
    body for an operation that takes none (400 if not JSON, 422 unless it is {}: some clients
    always send one), and half characters (422)."""
    data = request.get_data()
    if not data:
        return None
    try:
        body = load_json(data)
    except RecursionError:
        return _too_deep()
    except ValueError:  # malformed, or not UTF-8
        if takes_body:
            return None  # the schema's parser answers 400 naming the body
        return problem_response(400, "The request body is not valid JSON.",
                                errors={"body": ["not valid JSON"]})
    fields, depth = _lone_surrogates(body)
    if depth > MAX_JSON_DEPTH:
        return _too_deep()
    if not takes_body and body != {}:
        # Named as the schemas name them: an unknown field by its name, else _schema.
        errors = ({str(key): ["Unknown field: this operation takes no body."] for key in body}
                  if isinstance(body, dict) else {"_schema": ["This operation takes no body."]})
        return problem_response(
            422, "This operation takes no request body; send none (or {}).", errors=errors)
    if not fields:
        keep_parsed_body(data, body)  # the schema reads it from here: parsed once
        return None
    errors: dict[str, list[str]] = {}
    for field, message in fields:
        errors.setdefault(field, []).append(message)
    detail = ("The body holds half of a character (an unpaired UTF-16 surrogate escape)."
              if any("surrogates" in m for _, m in fields)
              else f"Invalid input in: {', '.join(sorted(errors))}")
    return problem_response(422, detail, errors=errors)


def _too_deep():
    return problem_response(400, f"The request body nests deeper than {MAX_JSON_DEPTH} levels.",
                            errors={"body": [f"nested deeper than {MAX_JSON_DEPTH} levels"]})


class _AnonymousChannelLogFilter(logging.Filter):
    """The development server logs each request with the client's address and the time; for the
    anonymous channel both are blanked, so its own log cannot point back to a reporter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(prefix in message for prefix in ANONYMOUS_PREFIXES):
            record.msg = _ADDRESS_AND_TIME.sub("- - - [-] ", message, count=1)
            record.args = ()
        return True


_ADDRESS_AND_TIME = re.compile(r"^\S+ - - \[[^\]]*\] ")


def register_logging(level: str = "INFO", log_format: str = "text") -> None:
    """The service's own messages (mails logged without a mail server, job results) go to
    stderr at LOG_LEVEL unless the host (gunicorn, say) has set up logging already. With
    LOG_FORMAT=json every logger of the process writes one JSON object per line instead
    (incidents/logs.py)."""
    ours = logging.getLogger("incidents")
    ours.setLevel(level)
    if log_format == "json":
        from incidents.logs import install_json

        install_json()
    elif not ours.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        ours.addHandler(handler)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, _AnonymousChannelLogFilter) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(_AnonymousChannelLogFilter())


def register_blueprints(app: Flask) -> None:
    from incidents import web
    from incidents.api import register

    register(extensions.api)
    web.register(app)


def register_commands(app: Flask) -> None:
    from incidents.cli import register

    register(app)


__all__ = ["create_app", "DomainError"]
