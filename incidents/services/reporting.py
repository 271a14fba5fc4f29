"""Reporting an incident and reading incidents within the caller's scope.

Rules: the reporter's perception decides (BRÅ); the police flag follows the forms
(docs/domain.md); references are sequential per year and never reused (an anonymous report's
number is drawn at random from a range the counter never reaches); every create, read of one
incident, update and denied access is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from incidents import access
from incidents.access import incident_scope
from incidents.auth import may_report
from incidents.clock import local_midnight, to_local, utcnow
from incidents.domain import (
    SUBCATEGORIES,
    AuditAction,
    Category,
    IncidentStatus,
    police_flag_for,
)
from incidents.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from incidents.extensions import db
from incidents.models import Incident, IncidentForm, ReferenceCounter, Unit, User
from incidents.schemas.common import UTCDateTime
from incidents.services import audit, notifications
from incidents.services.pagination import Page, decode_cursor, encode_cursor

EDITABLE_FIELDS = (
    "subcategory",
    "perceived_influence_purpose",
    "occurred_at",
    "unit_id",
    "description",
    "location",
    "perpetrator",
    "channel",
    "targeted_matter",
    "police_wanted",
    "family_targeted",
    "injured",
    "sick_leave",
    "ia_reported",
    "ia_reference",
)


# Anonymous reports take their number at random from the ten-digit numbers from ANONYMOUS_FIRST
# up (services/anonymous.py): a sequential number would place an anonymous report between the
# named reports before and after it. The counter stops below that range (next_reference), so
# the two never meet; the counter's column is a 32-bit integer on PostgreSQL besides.
ANONYMOUS_FIRST = 3_000_000_000
ANONYMOUS_LAST = 9_999_999_999


def anonymous_reference(year: int, number: int) -> str:
    """OP-<year>-<ten digits>: an anonymous report's reference (docs/domain.md)."""
    if not ANONYMOUS_FIRST <= number <= ANONYMOUS_LAST:
        raise ValueError(f"{number} is outside the anonymous reports' numbers")
    return f"OP-{year}-{number}"


def next_reference(year: int) -> str:
    """OP-<year>-<number>: the next number of the year, taken under the counter row's lock so
    that concurrent reports never share one; the counter only moves forward, and a report that
    fails rolls its number back. The lock is held until commit, so callers take the number
    after their reads."""
    take = (
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last_number=ReferenceCounter.last_number + 1)
        .returning(ReferenceCounter.last_number)
    )
    number = db.session.execute(take).scalar_one_or_none()
    if number is None:  # the year's first report
        dialect = db.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(
            insert(ReferenceCounter)
            .values(year=year, last_number=0)
            .on_conflict_do_nothing(index_elements=["year"])
        )
        number = db.session.execute(take).scalar_one()
    if number >= ANONYMOUS_FIRST:
        raise RuntimeError(f"the reference numbers of {year} are used up")
    return f"OP-{year}-{number:06d}"


def _check_occurred_at(occurred_at: datetime) -> None:
    skew = timedelta(seconds=current_app.config["CLOCK_SKEW_SECONDS"])
    if occurred_at > utcnow() + skew:
        raise field_error("occurred_at", "must not be in the future")


def _check_forms(category: str, additional: list[str], subcategory: str | None) -> list[str]:
    errors: dict[str, list[str]] = {}
    if category in additional:
        errors["additional_categories"] = ["must not repeat the primary category"]
    if len(set(additional)) != len(additional):
        errors.setdefault("additional_categories", []).append("must not list a form twice")
    if subcategory is not None and subcategory not in SUBCATEGORIES[Category(category)]:
        allowed = ", ".join(SUBCATEGORIES[Category(category)])
        errors["subcategory"] = [f"not a sub-type of {category}; one of: {allowed}"]
    if errors:
        raise ValidationFailed("The forms of the incident do not fit together.", errors=errors)
    return [category, *additional]


def _check_ia(ia_reported: bool, ia_reference: str | None) -> None:
    if ia_reference and not ia_reported:
        raise field_error("ia_reference", "given, but ia_reported is false")


def _check_unit(unit_id: int) -> None:
    if db.session.get(Unit, unit_id) is None:
        raise field_error("unit_id", f"there is no unit {unit_id}")


def set_forms(incident: Incident, category: str, additional: list[str]) -> None:
    incident.category = category
    incident.forms = [IncidentForm(category=category, is_primary=True)] + [
        IncidentForm(category=c, is_primary=False) for c in additional
    ]
    incident.police_flag = police_flag_for([Category(c) for c in (category, *additional)])


def check_new_report(data: dict[str, Any]) -> list[str]:
    """The rules every new report meets, named or anonymous; returns its additional forms."""
    additional = data.get("additional_categories", [])
    _check_forms(data["category"], additional, data.get("subcategory"))
    _check_occurred_at(data["occurred_at"])
    _check_unit(data["unit_id"])
    _check_ia(data.get("ia_reported", False), data.get("ia_reference"))
    return additional


def new_incident(
    data: dict[str, Any], additional: list[str], reference: str | None = None, **identity: Any
) -> Incident:
    """A reported incident with this year's next reference, or with ``reference`` (an
    anonymous report's, reserved when it arrived); ``identity`` says who reported."""
    incident = Incident(
        reference=reference or next_reference(to_local(utcnow()).year),
        status=IncidentStatus.REPORTED.value,
        **identity,
        **{field: data[field] for field in EDITABLE_FIELDS if field in data},
    )
    set_forms(incident, data["category"], additional)
    db.session.add(incident)
    return incident


def report_incident(reporter: User, data: dict[str, Any]) -> Incident:
    if not may_report(reporter):
        raise Forbidden("Reporting needs the employee, manager or hr role.")
    additional = check_new_report(data)
    on_behalf_of_id = data.get("on_behalf_of")
    if on_behalf_of_id is not None:
        colleague = db.session.get(User, on_behalf_of_id)
        if colleague is None or not colleague.active or not may_report(colleague):
            raise field_error(
                "on_behalf_of", f"there is no active employee with user id {on_behalf_of_id}"
            )
        if colleague.id == reporter.id:
            raise field_error("on_behalf_of", "leave it out when you report for yourself")

    managers = notifications.managers_to_tell(
        data["unit_id"], reporter.id, on_behalf_of_id or reporter.id
    )
    # From the reference on, the year's counter is locked until commit: writes only.
    incident = new_incident(
        data, additional, reporter_id=reporter.id, on_behalf_of_id=on_behalf_of_id
    )
    db.session.flush()
    audit.record(reporter, AuditAction.CREATE, incident.id)
    notifications.new_incident(incident, managers)
    return incident


def find_in_scope(user: User, incident_id: int) -> Incident:
    """The incident if the user's scope holds it; else 404, with the denial audited."""
    incident = db.session.scalars(
        select(Incident)
        .options(joinedload(Incident.forms))  # one query, not two: every read needs the forms
        .where(Incident.id == incident_id, incident_scope(user))
    ).unique().one_or_none()
    if incident is None:
        # Outside the scope and non-existent look the same (404), so existence does not leak.
        raise audit.denied(
            NotFound(f"There is no incident {incident_id} that you can see."),
            user,
            incident_id,
            "outside scope or does not exist",
        )
    return incident


def read_incident(user: User, incident_id: int) -> Incident:
    incident = find_in_scope(user, incident_id)
    audit.record(user, AuditAction.READ, incident.id)
    return incident


def find_for_correction(user: User, incident_id: int) -> Incident:
    """Only the reporter may correct a report (checked before any precondition, so others get
    a 403, not a 428)."""
    incident = find_in_scope(user, incident_id)
    if not access.is_reporter(user, incident):
        raise audit.denied(
            Forbidden("Only the person who reported the incident can change it."),
            user,
            incident.id,
            "update by someone other than the reporter",
        )
    return incident


def update_incident(user: User, incident: Incident, data: dict[str, Any]) -> Incident:
    """A report can be corrected only before a manager has acknowledged it."""
    if incident.status != IncidentStatus.REPORTED:
        raise Conflict(
            f"The incident is {incident.status}; a report can be changed only while it is "
            "reported, before a manager has acknowledged it.",
            errors={"status": [incident.status]},
        )
    category = data.get("category", incident.category)
    additional = data.get("additional_categories", incident.additional_categories)
    subcategory = data["subcategory"] if "subcategory" in data else incident.subcategory
    if "category" in data and "subcategory" not in data and category != incident.category:
        subcategory = None  # a sub-type of the old form does not carry over
        data = {**data, "subcategory": None}
    _check_forms(category, additional, subcategory)
    if "occurred_at" in data:
        _check_occurred_at(data["occurred_at"])
    if "unit_id" in data:
        _check_unit(data["unit_id"])
    _check_ia(
        data.get("ia_reported", incident.ia_reported),
        data["ia_reference"] if "ia_reference" in data else incident.ia_reference,
    )
    changed = sorted(
        f for f in data if f in EDITABLE_FIELDS and getattr(incident, f) != data[f]
    )
    for field in changed:
        setattr(incident, field, data[field])
    if category != incident.category or sorted(additional) != sorted(
        incident.additional_categories
    ):
        set_forms(incident, category, additional)
        changed += ["category"]
    if changed:
        incident.updated_at = utcnow()
    db.session.flush()
    audit.record(user, AuditAction.UPDATE, incident.id, detail="changed: " + ", ".join(changed))
    return incident


# -- lists ---------------------------------------------------------------------------------


def _occurred(text: str) -> datetime:
    """A cursor's time: aware, and a moment in UTC (year 1 at +01:00 is none: the database
    driver raised OverflowError, a 500)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError
    moment = moment.astimezone(UTC)  # OverflowError past year 1 or 9999
    if not UTCDateTime.EARLIEST <= moment <= UTCDateTime.LATEST:
        raise ValueError
    return moment


def list_incidents(user: User, filters: dict[str, Any]) -> Page:
    """Newest first by occurrence, ties broken by id; keyset pagination keeps pages stable
    while new reports arrive."""
    query = select(Incident).where(incident_scope(user))
    if filters.get("own"):
        # "My reports": what the user reported or what was reported for them.
        query = query.where(access.own_incidents(user))
    if "category" in filters:
        query = query.where(Incident.category == filters["category"])
    if "status" in filters:
        query = query.where(Incident.status == filters["status"])
    if "unit_id" in filters:
        query = query.where(access.in_units(filters["unit_id"]))
    if "occurred_from" in filters:
        query = query.where(Incident.occurred_at >= local_midnight(filters["occurred_from"]))
    if "occurred_to" in filters:
        # Inclusive: the whole of the last day, in the organisation's time zone.
        query = query.where(
            Incident.occurred_at < local_midnight(filters["occurred_to"] + timedelta(days=1))
        )
    if "cursor" in filters:
        moment, last_id = decode_cursor(filters["cursor"], _occurred)
        query = query.where(
            or_(
                Incident.occurred_at < moment,
                and_(Incident.occurred_at == moment, Incident.id < last_id),
            )
        )
    limit = filters["limit"]
    rows = list(
        db.session.scalars(
            query.order_by(Incident.occurred_at.desc(), Incident.id.desc()).limit(limit + 1)
        )
    )
    has_more = len(rows) > limit
    items = rows[:limit]
    last = items[-1] if has_more else None
    return Page(items=items, next_cursor=last and encode_cursor(last.occurred_at.isoformat(),
                                                                 last.id))
