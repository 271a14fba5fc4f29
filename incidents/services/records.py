"""Small rules shared by the case records (follow-up, support, police and authority reports)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from incidents.clock import utcnow
from incidents.errors import PreconditionFailed
from incidents.extensions import db
from incidents.models import Incident

Errors = dict[str, Any]


def add_error(errors: Errors, path: str, message: str) -> None:
    """Field errors in the shape marshmallow gives: "a.b" becomes {"a": {"b": [message]}}."""
    *parents, leaf = path.split(".")
    node = errors
    for part in parents:
        node = node.setdefault(part, {})
    node.setdefault(leaf, []).append(message)


def moment_problems(incident: Incident, moment: datetime) -> list[str]:
    """A recorded moment lies between the incident and now (CLOCK_SKEW_SECONDS allowed)."""
    problems = []
    if moment < incident.occurred_at:
        problems.append("must not be before the incident occurred")
    if moment > utcnow() + timedelta(seconds=current_app.config["CLOCK_SKEW_SECONDS"]):
        problems.append("must not be in the future")
    return problems


def insert_first(row: Any, what: str) -> None:
    """Insert the first record of a one-per-incident resource. When two first writes race, the
    second finds the row taken and must read it again, as with a stale ETag (412)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError as exc:
        raise PreconditionFailed(
            f"Someone else recorded {what} at the same time; read it again and retry with its "
            "ETag."
        ) from exc
