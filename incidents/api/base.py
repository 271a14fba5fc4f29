"""The request boundary shared by every resource.

``ApiView`` wraps each view in one unit of work: replay an Idempotency-Key seen before, run the
view, then commit once on success or roll back on any error. Services only flush.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import flask_smorest
from flask import current_app, request
from flask.views import MethodView
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser, is_json_request

from incidents import auth
from incidents.errors import (
    Conflict,
    DomainError,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from incidents.extensions import db
from incidents.input_guards import NOT_PARSED, parsed_body
from incidents.schemas.common import MAX_ID
from incidents.services import audit, idempotency


class _Parser(FlaskParser):
    """Query parameters are checked as strictly as bodies: the query schemas
    (schemas.common.QuerySchema) refuse unknown ones, where webargs would drop them."""

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def _raw_load_json(self, req):
        """The body the request guard already parsed (input_guards.parsed_body), else parsed
        here: the profile found every body parsed twice."""
        body = parsed_body()
        if body is NOT_PARSED or not is_json_request(req):
            return super()._raw_load_json(req)
        return body


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the parser above."""

    ARGUMENTS_PARSER = _Parser()


def unit_of_work(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            replay = idempotency.replay_if_seen()
            if replay is not None:
                db.session.rollback()
                return replay
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code >= 400:
                db.session.rollback()
                return response
            idempotency.remember(response)
            db.session.commit()
            return response
        except StaleDataError as exc:
            db.session.rollback()
            raise PreconditionFailed(
                "Someone else changed this resource while you were changing it; "
                "read it again and retry with its new ETag."
            ) from exc
        except IntegrityError as exc:
            db.session.rollback()
            replay = idempotency.replay_after_race()
            if replay is not None:
                return replay
            # The checks passed, so the database saw a concurrent change (a unit deleted while
            # an incident was filed into it, say): a conflict to retry, not a server error.
            raise Conflict(
                "The change conflicts with a change made at the same time; read the resource "
                "again and retry."
            ) from exc
        except DomainError as exc:
            db.session.rollback()
            audit.write_after_rollback(exc)
            raise
        except BaseException:
            db.session.rollback()
            raise

    return wrapper


def ids_that_can_exist(view: Callable) -> Callable:
    """An id in the path beyond the ids a row can have names nothing: 404, as an unknown id,
    before it reaches the database (SQLite cannot bind one past 2^63: a 500)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        for name, value in kwargs.items():
            if name.endswith("_id") and isinstance(value, int) and value > MAX_ID:
                raise NotFound(f"There is no {name.removesuffix('_id').replace('_', ' ')} {value}.")
        return view(*args, **kwargs)

    return wrapper


class ApiView(MethodView):
    decorators = [unit_of_work, ids_that_can_exist]


def _keeps_no_idempotency_key(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        idempotency.keep_no_key()
        return view(*args, **kwargs)

    return wrapper


class UnlinkableView(ApiView):
    """A view whose caller must not be linkable to what they sent (the anonymous channel, survey
    answers): no Idempotency-Key record is kept, since it would store the caller beside the
    request and its answer. A retry is a new request."""

    decorators = [unit_of_work, _keeps_no_idempotency_key, ids_that_can_exist]


def authenticated(blp, *roles: str) -> Callable:
    """Require a valid bearer token (401) and, if given, one of ``roles`` (403); document both
    in the OpenAPI description. Checked before the body is parsed."""

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, **kwargs):
            auth.require_roles(auth.current_user(), roles)
            return func(*args, **kwargs)

        wrapper = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        wrapper = blp.alt_response(401, response="UNAUTHORIZED")(wrapper)
        if roles:
            wrapper = blp.alt_response(403, response="FORBIDDEN")(wrapper)
        return wrapper

    return decorator


def access_before_body(check: Callable[..., object]) -> Callable:
    """Check that the caller may make this change, ``check(user, **path parameters)`` (404
    outside the scope, 403 not allowed), before the body is parsed: a caller who may not act
    gets the same answer whatever they send, not a 422 for a bad body and a 403 for a good
    one. Goes between ``@authenticated`` and ``@blp.arguments``."""

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, **kwargs):
            check(auth.current_user(), **kwargs)
            return func(*args, **kwargs)

        return wrapper

    return decorator


def documents_errors(blp, *codes: int) -> Callable:
    names = {
        400: "BAD_REQUEST",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        409: "CONFLICT",
        412: "PRECONDITION_FAILED",
        413: "REQUEST_ENTITY_TOO_LARGE",
        415: "UNSUPPORTED_MEDIA_TYPE",
        422: "UNPROCESSABLE_ENTITY",
        428: "PRECONDITION_REQUIRED",
        429: "TOO_MANY_REQUESTS",
        503: "SERVICE_UNAVAILABLE",
    }

    def decorator(func: Callable) -> Callable:
        for code in codes:
            func = blp.alt_response(code, response=names[code])(func)
        return func

    return decorator


# -- ETag / If-Match ---------------------------------------------------------------------


def etag_of(resource) -> str:
    identity = getattr(resource, "id", None) or resource.incident_id
    return f'"{type(resource).__name__.lower()}-{identity}-v{resource.version}"'


def require_if_match(resource) -> None:
    """Changes need the version the client read (If-Match): without it 428, stale 412.
    The UPDATE itself is also guarded by the version column, so a race is a 412 too."""
    header = request.headers.get("If-Match")
    if header is None:
        raise PreconditionRequired(
            "Send the ETag you read in an If-Match header, so that you do not overwrite a "
            "change you have not seen.",
            errors={"If-Match": ["required"]},
        )
    current = etag_of(resource)
    offered = [tag.strip() for tag in header.split(",")]
    if "*" not in offered and current not in offered and f"W/{current}" not in offered:
        raise PreconditionFailed(
            "The resource has changed since you read it; read it again for its new ETag.",
            errors={"If-Match": [f"stale; current is {current}"]},
        )
