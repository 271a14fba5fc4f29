"""One error hierarchy, one body shape (RFC 9457 problem details) for every 4xx and 5xx.

Services raise these; incidents.extensions.Api turns them (and Werkzeug's HTTP errors) into
``application/problem+json`` with ``status``, ``title``, ``detail`` and, where fields are at
fault, ``errors``: a mapping from field name to messages.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="incidents"'})


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"


class PreconditionRequired(DomainError):
    status = 428
    title = "Precondition required"


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; ``errors`` names the fields."""

    status = 422
    title = "Unprocessable Entity"


class ServiceUnavailable(DomainError):
    status = 503
    title = "Service unavailable"


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", errors={field: [message]})
