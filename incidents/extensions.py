"""Extension objects, created unbound here and bound to the app in create_app()."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from http import HTTPStatus
from pathlib import Path

import click
import marshmallow as ma
from flask import (
    Flask,
    Response,
    current_app,
    json,
    render_template_string,
    request,
    send_from_directory,
    url_for,
)
from flask_limiter import Limiter
from flask_smorest import Api as _SmorestApi
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from incidents.errors import DomainError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))

# Flask-Migrate's options for every migration command: column types compared by autogenerate,
# and batch operations (ALTER on SQLite copies the table).
MIGRATE_OPTIONS = {"compare_type": True, "render_as_batch": True}


def defer_migrate(app: Flask, directory: str) -> None:
    """Flask-Migrate for ``app``, with the migrations in ``directory``, bound on first use.

    Flask-Migrate imports alembic, mako and pygments (11 MB per process), which only the
    `flask db` commands and callers of its functions (``flask_migrate.upgrade()``, the
    migrations' env.py) need, never a request. So ``app.extensions['migrate']`` and the `db`
    command group start as stand-ins that import and bind it (``init_migrate``) the first time
    they are used, and a worker that only serves requests never loads it.
    """
    app.extensions["migrate"] = _DeferredMigrate(app, directory)
    app.cli.add_command(_DeferredMigrateCommands(app))


def init_migrate(app: Flask):
    """Flask-Migrate bound to ``app`` now (idempotent): ``app.extensions['migrate']`` becomes
    its entry and `flask db` its command group, with the directory ``defer_migrate`` was given
    and MIGRATE_OPTIONS. Returns the entry."""
    entry = app.extensions["migrate"]
    if not isinstance(entry, _DeferredMigrate):
        return entry
    from flask_migrate import Migrate

    Migrate(app, db, directory=entry.directory, **MIGRATE_OPTIONS)
    return app.extensions["migrate"]


class _DeferredMigrate:
    """``app.extensions['migrate']`` until Flask-Migrate is bound. ``directory`` is known
    without it (readiness reads it); any other attribute, as Flask-Migrate's functions and
    env.py read them, binds Flask-Migrate and is answered by its entry."""

    def __init__(self, app: Flask, directory: str) -> None:
        self._app = app
        self.directory = directory

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "_app":
            raise AttributeError(name)
        return getattr(init_migrate(self._app), name)


class _DeferredMigrateCommands(click.Group):
    """`flask db` until Flask-Migrate is bound: listed with its help, and when it runs it binds
    Flask-Migrate, whose own `db` group takes its place and parses and runs the command."""

    def __init__(self, app: Flask) -> None:
        super().__init__("db", help="Perform database migrations.")
        self._app = app

    def make_context(self, info_name, args, parent=None, **extra):
        init_migrate(self._app)
        return self._app.cli.commands["db"].make_context(info_name, args, parent=parent,
                                                         **extra)


def hashed_client() -> str:
    """The rate-limit key of a client: a keyed hash of its address and today's date, so the
    limiter's storage never holds an address, and the key of one day cannot be linked to the
    next (the anonymous channel must not keep anything that points back to a reporter)."""
    from incidents.clock import utcnow

    address = request.remote_addr or "unknown"
    message = f"{utcnow().date().isoformat()}|{address}".encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


# Limits are set per route (the anonymous channel); storage from RATELIMIT_STORAGE_URI.
limiter = Limiter(key_func=hashed_client)


def page_error(status: int, headers: dict[str, str] | None = None) -> Response | None:
    """For a page (any path outside /api/), the error as an HTML page the web layer renders
    (incidents/web/errors.py); None for the API, which answers problem+json."""
    renderer = current_app.extensions.get("incidents.page_errors")
    if renderer is None or request.path.startswith("/api/"):
        return None
    response = renderer(status)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _retry_after(status: int | None) -> dict[str, str]:
    return {"Retry-After": str(_seconds_until_reset())} if status == 429 else {}


class ProblemSchema(ma.Schema):
    """The body of every error response (RFC 9457 problem details)."""

    type = ma.fields.String(metadata={"description": "Always about:blank"})
    title = ma.fields.String(metadata={"description": "Short name of the status"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong, for a person"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Field name → list of messages, for the fields at fault"},
    )


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: dict | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten_webargs_messages(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {"field": [...]}}); callers care about the
    field, and the location is implied by the endpoint, so merge the locations."""
    flat: dict = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            flat.update(errors)
        else:
            flat["body" if location == "json" else location] = errors
    return flat


def _describe(errors: dict) -> str:
    fields = ", ".join(sorted(str(k) for k in errors))
    return f"Invalid input in: {fields}" if fields else "Invalid input"


# The browsable docs (/api/v1/docs): Swagger UI served by this service, never from a CDN, so
# the page works on a network without internet and under a policy that allows only 'self'.
SWAGGER_UI_ASSETS = "/api/v1/docs/assets/"
_SWAGGER_DIR = Path(__file__).resolve().parent / "api" / "swagger"
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)


def _swagger_ui_dist() -> Path:
    """Swagger UI's files, as the flask-swagger-ui package ships them."""
    import flask_swagger_ui

    return Path(flask_swagger_ui.__file__).resolve().parent / "dist"


def swagger_ui_asset(filename: str) -> Response:
    """Swagger UI's scripts and style, and this service's init.js (no inline script)."""
    if filename == "init.js":
        return send_from_directory(_SWAGGER_DIR, filename, mimetype="text/javascript")
    if filename not in {"swagger-ui.css", "swagger-ui-bundle.js",
                        "swagger-ui-standalone-preset.js"}:
        return problem_response(404, "There is nothing at this path.")
    return send_from_directory(_swagger_ui_dist(), filename)


class Api(_SmorestApi):
    """flask-smorest's Api with problem-details error bodies for every error, and the docs
    page with Swagger UI from this service."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"

    def _register_doc_blueprint(self):
        super()._register_doc_blueprint()
        self._app.add_url_rule(f"{SWAGGER_UI_ASSETS}<path:filename>",
                               endpoint="openapi_swagger_ui_assets",
                               view_func=swagger_ui_asset)

    def _openapi_swagger_ui(self):
        """The docs page: no inline script, every file from this service."""
        template = (_SWAGGER_DIR / "docs.html").read_text(encoding="utf-8")
        return render_template_string(
            template, title=self.spec.title, assets=self._swagger_ui_url,
            spec_url=url_for(f"{self._make_doc_blueprint_name()}.openapi_json"))

    def _register_error_handlers(self):
        super()._register_error_handlers()
        self._app.register_error_handler(DomainError, self.handle_domain_error)
        # Every SQLAlchemy error, not only the driver's: a value that fails while it is bound
        # (StatementError) carried the statement into Flask's own log of the exception.
        self._app.register_error_handler(sa_exc.SQLAlchemyError, self.handle_database_error)
        flask_log_exception = self._app.log_exception

        def log_exception(exc_info):
            scrub_sql(exc_info[1])
            flask_log_exception(exc_info)

        self._app.log_exception = log_exception

    def handle_database_error(self, error: Exception):
        """The database away (restarting, unreachable, shutting down, locked, or no
        connection free in the pool) is a 503 with Retry-After, so clients and load balancers
        try again; the transaction was rolled back, nothing was written. Any other database
        error is a bug: a 500. Neither body nor log carries SQL or its parameters."""
        if database_unavailable(error):
            log.warning("database unavailable: %s", _describe_database_error(error))
            retry = {"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])}
            page = page_error(503, retry)
            if page is not None:
                return page
            return problem_response(
                503,
                "The database is not reachable at the moment; nothing was saved. "
                "Try again shortly (see Retry-After).",
                headers={"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER_SECONDS"])},
            )
        log.error("database error: %s", _describe_database_error(error))
        page = page_error(500)
        if page is not None:
            return page
        return problem_response(500, "The server could not complete the request.")

    def handle_domain_error(self, error: DomainError):
        retry = {k: v for k, v in error.headers.items() if k == "Retry-After"}
        page = page_error(error.status, retry)
        if page is not None:
            return page
        return problem_response(
            error.status, error.detail, title=error.title, errors=error.errors,
            headers=error.headers,
        )

    def handle_http_exception(self, error: HTTPException):
        if error.code is None or error.code >= 500:
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.error("unhandled error", exc_info=scrub_sql(original))
            code = error.code or 500
            page = page_error(code)
            if page is not None:
                return page
            return problem_response(code, "The server could not complete the request.")
        page = page_error(error.code, _retry_after(error.code))
        if page is not None:
            return page
        data = getattr(error, "data", None) or {}
        errors = data.get("errors")
        if errors is None and "messages" in data:
            errors = _flatten_webargs_messages(data["messages"])
        detail = data.get("message")
        headers = dict(data.get("headers") or {})
        if error.code == 429:
            detail = (
                "Too many requests from your connection; wait before trying again "
                "(see Retry-After)."
            )
            headers["Retry-After"] = str(_seconds_until_reset())
        if detail is None:
            if error.code == 422 and errors:
                detail = _describe(errors)
            elif error.code == 400 and errors:
                detail = "The request body is not valid JSON."
            else:
                detail = error.description or HTTPStatus(error.code).phrase
        if error.code == 405:
            headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
        return problem_response(error.code, detail, errors=errors, headers=headers)


# SQLSTATE classes of a database that is away rather than a statement that is wrong:
# 08 connection exceptions, 57 operator intervention (shutdown, starting up, cancelled),
# 53 insufficient resources (too many connections).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "57", "53")
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def database_unavailable(error: Exception) -> bool:
    """Whether a database error means "the database is away", not "the statement is wrong"."""
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection free in time
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.DisconnectionError):
        return True
    if not isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return False
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    if type(original).__module__.startswith("sqlite3"):
        return str(original).lower().startswith(_SQLITE_BUSY)
    # psycopg gives no SQLSTATE when it could not connect or lost the connection.
    return True


def scrub_sql(error: BaseException | None) -> BaseException | None:
    """``error`` with the SQL statement and parameters taken out of every SQLAlchemy error in
    its chain (its cause and context), and the driver's message cut to its class and SQLSTATE,
    so that a logged traceback shows neither: parameters can hold what a reporter wrote."""
    seen: set[int] = set()
    current = error
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sa_exc.StatementError):
            described = _describe_database_error(current)
            current.statement = None
            current.params = None
            current.args = (described,)  # its message quoted the driver's
            original = getattr(current, "orig", None)
            if isinstance(original, BaseException) and type(original).__module__ != "builtins":
                # The driver's own message quotes the statement (PostgreSQL's "LINE 1: …")
                # and values ('invalid input syntax for type integer: "…"').
                original.args = (described,)
        pending += [current.__cause__, current.__context__]
    return error


def _describe_database_error(error: Exception) -> str:
    """The kind of failure, for the log: the driver's class and SQLSTATE, never the statement
    or its parameters (they can hold what a reporter wrote)."""
    original = getattr(error, "orig", None) or error
    sqlstate = getattr(original, "sqlstate", None)
    return f"{type(original).__module__}.{type(original).__name__}" + (
        f" (SQLSTATE {sqlstate})" if sqlstate else ""
    )


def _seconds_until_reset() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


api = Api()
