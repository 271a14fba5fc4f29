"""Small rules shared by the case records (follow-up, support, police and authority reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
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


@dataclass(frozen=True)
class OverdueRule:
    """When an item of a kind falls overdue: ``window`` after the incident was reported, while
    the incident still meets ``conditions`` (``join`` outer-joined to it). One rule serves a
    case handler's list and the organisation-wide count, so the two cannot drift apart."""

    kind: str
    window: timedelta
    conditions: tuple[Any, ...]
    join: tuple[Any, ...] | None = None

    def items(self, user: Any, now: datetime) -> list[dict[str, Any]]:
        return overdue_since_report(user, now, self.window, self.kind, *self.conditions,
                                    join=self.join)

    def count(self, now: datetime) -> int:
        """Overdue items across the whole organisation, whoever handles them; counted in the
        database, no incident or person loaded."""
        query = select(func.count(Incident.id))
        if self.join is not None:
            query = query.outerjoin(*self.join)
        return db.session.scalar(
            query.where(Incident.created_at < now - self.window, *self.conditions)
        ) or 0


def overdue_since_report(
    user: Any, now: datetime, window: timedelta, kind: str, *conditions, join=None
) -> list[dict[str, Any]]:
    """Incidents the user handles that were reported more than ``window`` before ``now`` and
    still meet ``conditions``: one overdue item each, due ``window`` after the report."""
    from incidents.access import handler_scope

    query = select(Incident.id, Incident.reference, Incident.unit_id, Incident.created_at)
    if join is not None:
        query = query.outerjoin(*join)
    rows = db.session.execute(
        query.where(handler_scope(user), Incident.created_at < now - window, *conditions)
        .order_by(Incident.created_at, Incident.id)
    )
    return [
        {
            "kind": kind,
            "incident_id": row.id,
            "reference": row.reference,
            "unit_id": row.unit_id,
            "due_at": row.created_at + window,
        }
        for row in rows
    ]


class OneRowState:
    """A one-per-incident record (police report, reports to authorities) as the API shows it,
    whether or not its row exists yet: the id is the incident's, the version — and so the ETag —
    is 0 until the first write, and each column of the row reads None until then."""

    row_model: type  # the model whose columns are read through

    incident: Incident
    report: Any | None

    @property
    def id(self) -> int:
        return self.incident.id

    @property
    def version(self) -> int:
        return self.report.version if self.report is not None else 0

    def stored(self, column: str) -> Any:
        return getattr(self.report, column) if self.report is not None else None

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the state does not define itself; only real columns pass.
        if name in type(self).row_model.__table__.columns:
            return self.stored(name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
