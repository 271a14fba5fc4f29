"""Reporting an incident and reading incidents within the caller's scope.

Rules: the reporter's perception decides (BRÅ); the police flag follows the forms
(docs/domain.md); references are unique and increasing within a year, never reused, and a report
that fails may leave a gap (the year's counter is never locked across a request; an anonymous
report's number is drawn at random from a range the counter never reaches); every create, read
of one incident, update and denied access is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Engine, Select, select, text, union_all
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
    AuditRecord,
    Category,
    IncidentStatus,
    police_flag_for,
)
from incidents.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from incidents.extensions import db
from incidents.models import Incident, IncidentForm, ReferenceCounter, Unit, User
from incidents.schemas.common import UTCDateTime
from incidents.services import audit, notifications
from incidents.services.pagination import Page, before, decode_cursor, encode_cursor

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
    """OP-<year>-<number>: the year's next number, taken in one statement that adds one to the
    year's counter (creating it at 1 for the year's first report), so that concurrent reports
    never share a number and the numbers of a year only grow (docs/domain.md).

    No lock is held across the request: where the session owns its transactions (the service,
    on PostgreSQL) the number is taken in a transaction of its own, committed at once, and the
    counter row is locked only while that one statement runs. A report that then fails leaves
    a gap, which the product side accepted. That commit is not waited for (synchronous_commit
    off, for that transaction only): the report's own durable commit comes later in the
    write-ahead log, so it flushes the counter with it, and a crash before that loses only a
    number that no report holds. Elsewhere (SQLite, whose BEGIN IMMEDIATE makes every writing
    transaction wait for the one before anyway; a session bound to a caller's connection, as
    in the tests) the statement runs in the request's transaction and rolls back with it."""
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql" and isinstance(bind, Engine):
        with bind.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            number = connection.execute(_TAKE_POSTGRESQL, {"year": year}).scalar_one()
    else:
        number = db.session.execute(_take(bind.dialect.name, year)).scalar_one()
    if number >= ANONYMOUS_FIRST:
        raise RuntimeError(f"the reference numbers of {year} are used up")
    return f"OP-{year}-{number:06d}"


# The counter's statement on its own transaction: the year's next number, and that transaction
# committed without waiting for the disk (see next_reference).
_TAKE_POSTGRESQL = text(
    "WITH unsynced AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO reference_counters AS counter (year, last_number) "
    "SELECT :year, 1 FROM unsynced "
    "ON CONFLICT (year) DO UPDATE SET last_number = counter.last_number + 1 "
    "RETURNING counter.last_number"
)


def _take(dialect: str, year: int):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ReferenceCounter).values(year=year, last_number=1)
    return statement.on_conflict_do_update(
        index_elements=["year"],
        set_={"last_number": ReferenceCounter.last_number + 1},
    ).returning(ReferenceCounter.last_number)


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


def _check_unit(unit_id: int, user: User | None = None) -> None:
    """The unit exists and, for a named reporter, belongs to their organisation: another
    municipality's unit is as unknown to them as one that does not exist."""
    if user is not None and not access.is_platform_admin(user):
        known = access.in_organisations_of(user, unit_id)  # only a unit that exists is in one
    else:
        known = db.session.get(Unit, unit_id) is not None
    if not known:
        raise field_error("unit_id", f"there is no unit {unit_id}")


def set_forms(incident: Incident, category: str, additional: list[str]) -> None:
    incident.category = category
    incident.forms = [IncidentForm(category=category, is_primary=True)] + [
        IncidentForm(category=c, is_primary=False) for c in additional
    ]
    incident.police_flag = police_flag_for([Category(c) for c in (category, *additional)])


def check_new_report(data: dict[str, Any], reporter: User | None = None) -> list[str]:
    """The rules every new report meets, named or anonymous; returns its additional forms."""
    additional = data.get("additional_categories", [])
    _check_forms(data["category"], additional, data.get("subcategory"))
    _check_occurred_at(data["occurred_at"])
    _check_unit(data["unit_id"], reporter)
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
    additional = check_new_report(data, reporter)
    on_behalf_of_id = data.get("on_behalf_of")
    if on_behalf_of_id is not None:
        colleague = db.session.get(User, on_behalf_of_id)
        if (colleague is None or not colleague.active or not may_report(colleague)
                or colleague.unit_id is None
                or not access.in_organisations_of(reporter, colleague.unit_id)):
            raise field_error(
                "on_behalf_of", f"there is no active employee with user id {on_behalf_of_id}"
            )
        if colleague.id == reporter.id:
            raise field_error("on_behalf_of", "leave it out when you report for yourself")

    managers = notifications.managers_to_tell(
        data["unit_id"], reporter.id, on_behalf_of_id or reporter.id
    )
    # The reference is taken after every check and read, so a refused report uses none up.
    incident = new_incident(
        data, additional, reporter_id=reporter.id, on_behalf_of_id=on_behalf_of_id
    )
    db.session.flush()
    audit.record(reporter, AuditAction.CREATE, incident.id, record=AuditRecord.INCIDENT)
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
            record=AuditRecord.INCIDENT,
        )
    return incident


def read_incident(user: User, incident_id: int) -> Incident:
    incident = find_in_scope(user, incident_id)
    audit.record(user, AuditAction.READ, incident.id, record=AuditRecord.INCIDENT)
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
            record=AuditRecord.INCIDENT,
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
        _check_unit(data["unit_id"], user)
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
    audit.record(user, AuditAction.UPDATE, incident.id, detail="changed: " + ", ".join(changed),
                 record=AuditRecord.INCIDENT)
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


def _list_filters(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    """The list's filters and its cursor, as conditions every branch of the list applies."""
    conditions: list[ColumnElement[bool]] = []
    if "category" in filters:
        conditions.append(Incident.category == filters["category"])
    if "status" in filters:
        conditions.append(Incident.status == filters["status"])
    if "unit_id" in filters:
        conditions.append(access.in_units(filters["unit_id"]))
    if "occurred_from" in filters:
        conditions.append(Incident.occurred_at >= local_midnight(filters["occurred_from"]))
    if "occurred_to" in filters:
        # Inclusive: the whole of the last day, in the organisation's time zone.
        conditions.append(
            Incident.occurred_at < local_midnight(filters["occurred_to"] + timedelta(days=1)))
    if "cursor" in filters:
        moment, last_id = decode_cursor(filters["cursor"], _occurred)
        conditions.append(before(Incident.occurred_at, Incident.id, moment, last_id))
    return conditions


def list_incidents(user: User, filters: dict[str, Any]) -> Page:
    """Newest first by occurrence, ties broken by id; keyset pagination keeps pages stable
    while new reports arrive.

    The scope is a union of disjoint parts (access.list_branches: what the user reported,
    what was reported for them, the units they handle), each read in the list's order and cut
    at the page's length before they are merged: each part seeks its own index, so an employee's
    list costs the same with no reports or thousands, on any number of incidents (an OR over
    the columns made PostgreSQL walk the whole list's order; docs/performance.md)."""
    rows = list(db.session.scalars(list_query(user, filters)))
    return _page(rows, filters["limit"])


def list_incident_records(user: User, filters: dict[str, Any]) -> Page:
    """``list_incidents`` as plain records (the incident's columns and its
    ``additional_categories``), for the API's answer: the same query, scope and page, without
    making an ORM object of each incident and each form (docs/performance.md)."""
    table = Incident.__table__
    rows = db.session.execute(list_query(user, filters, columns=table.columns)).all()
    records = [dict(row._mapping) for row in rows]
    additional: dict[int, list[str]] = {}
    if records:
        forms = db.session.execute(
            select(IncidentForm.incident_id, IncidentForm.category)
            .where(IncidentForm.incident_id.in_([r["id"] for r in records]),
                   IncidentForm.is_primary.is_(False))
            .order_by(IncidentForm.incident_id, IncidentForm.category))
        for incident_id, category in forms:
            additional.setdefault(incident_id, []).append(category)
    for record in records:
        record["additional_categories"] = additional.get(record["id"], [])
    return _page(records, filters["limit"])


def _page(rows: list, limit: int) -> Page:
    """A page of ``limit`` rows of the ``limit + 1`` read, and the cursor to the next one."""
    has_more = len(rows) > limit
    items = rows[:limit]
    if not has_more:
        return Page(items=items, next_cursor=None)
    last = items[-1]
    occurred_at, last_id = ((last["occurred_at"], last["id"]) if isinstance(last, dict)
                            else (last.occurred_at, last.id))
    return Page(items=items, next_cursor=encode_cursor(occurred_at.isoformat(), last_id))


def list_query(user: User, filters: dict[str, Any], *, columns=None) -> Select:
    """The incidents of one page of ``list_incidents`` and the one after it (limit + 1): the
    ORM's incidents, or the given ``columns`` of them."""
    limit = filters["limit"]
    conditions = _list_filters(filters)
    order = (Incident.occurred_at.desc(), Incident.id.desc())
    branches = [
        select(Incident.occurred_at, Incident.id).where(branch, *conditions)
        .order_by(*order).limit(limit + 1)
        for branch in access.list_branches(user, own_only=bool(filters.get("own")))
    ]
    if len(branches) == 1:
        page = branches[0].subquery()
    else:
        merged = union_all(*(b.subquery().select() for b in branches)).subquery()
        page = (select(merged.c.occurred_at, merged.c.id)
                .order_by(merged.c.occurred_at.desc(), merged.c.id.desc())
                .limit(limit + 1).subquery())
    chosen = select(Incident) if columns is None else select(*columns)
    return chosen.join(page, Incident.id == page.c.id).order_by(*order)
