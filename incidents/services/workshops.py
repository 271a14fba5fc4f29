"""Workshops on unauthorised influence and their ratings (docs/statistics.md, "Workshops").

hr sets a workshop up for some units; each employee of those units (sub-units included) rates
it once, while its rating window is open. Ratings are kept without the participant's identity,
as survey answers are: the participation record that stops a second rating and the rating
itself are written in one transaction but share no user, no time finer than the day and no
ordered id (incidents/models/workshop.py). Nothing here returns who rated what.

In the room, anyone with the workshop's short link rates without an account, once per device
(``rate_in_room``): the problem size first, the usefulness afterwards (``add_usefulness``), only
while the window is open. A device is known by a random token in its cookie; only a keyed hash
of it is stored, per workshop.

Ratings collected on paper or in a polling tool are entered by hr as tallies: counts per scale
value, added to the ratings in the summaries (incidents/stats/workshops.py).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from incidents import access
from incidents.clock import to_local, utcnow
from incidents.domain import AuditAction, AuditRecord, Role, WorkshopScale
from incidents.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from incidents.extensions import db
from incidents.models import (
    User,
    Workshop,
    WorkshopDevice,
    WorkshopParticipation,
    WorkshopRating,
    WorkshopTally,
    WorkshopTallyCount,
    WorkshopUnit,
)
from incidents.services import audit, organisation
from incidents.services.pagination import Page, before, decode_cursor, encode_cursor
from incidents.stats.workshops import status


def describe(workshop: Workshop, rating_count: int, tally_count: int) -> dict[str, Any]:
    return {
        "id": workshop.id,
        "title": workshop.title,
        "held_on": workshop.held_on,
        "unit_ids": workshop.unit_ids,
        "expected_participants": workshop.expected_participants,
        "opens_at": workshop.opens_at,
        "closes_at": workshop.closes_at,
        "status": status(workshop),
        "rating_count": rating_count,
        "tally_count": tally_count,
        "created_by_id": workshop.created_by_id,
        "created_at": workshop.created_at,
        "room_code": workshop.room_code,
    }


def _counts(model, workshop_ids: list[int]) -> dict[int, int]:
    if not workshop_ids:
        return {}
    rows = db.session.execute(
        select(model.workshop_id, func.count())
        .where(model.workshop_id.in_(workshop_ids))
        .group_by(model.workshop_id)
    )
    return {workshop_id: count for workshop_id, count in rows}


def _describe_all(workshops: list[Workshop]) -> list[dict[str, Any]]:
    ids = [w.id for w in workshops]
    ratings, tallies = _counts(WorkshopRating, ids), _counts(WorkshopTally, ids)
    return [describe(w, ratings.get(w.id, 0), tallies.get(w.id, 0)) for w in workshops]


def get_workshop(workshop_id: int) -> Workshop:
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(f"There is no workshop {workshop_id}.")
    return workshop


def workshop_for(user: User, workshop_id: int, *, summaries: bool = False) -> Workshop:
    """A workshop hr may see (every unit of it reached), or with ``summaries`` whose summary a
    statistics reader may read too; 404 for others, as for none."""
    workshop = db.session.scalar(select(Workshop).where(
        Workshop.id == workshop_id, access.workshop_scope(user, summaries=summaries)))
    if workshop is None:
        raise NotFound(f"There is no workshop {workshop_id}.")
    return workshop


def read_workshop(user: User, workshop_id: int) -> dict[str, Any]:
    return _describe_all([workshop_for(user, workshop_id)])[0]


# -- listing ------------------------------------------------------------------------------


def list_workshops(user: User, args: dict[str, Any]) -> Page:
    """The workshops of the units hr reaches. Latest held first, ties broken by id; keyset
    pagination (as for incidents) keeps pages stable while workshops are added."""
    query = select(Workshop).where(access.workshop_scope(user))
    if "cursor" in args:
        held_on, last_id = decode_cursor(args["cursor"], date.fromisoformat)
        query = query.where(before(Workshop.held_on, Workshop.id, held_on, last_id))
    limit = args["limit"]
    rows = list(db.session.scalars(
        query.order_by(Workshop.held_on.desc(), Workshop.id.desc()).limit(limit + 1)
    ))
    has_more = len(rows) > limit
    items = rows[:limit]
    last = items[-1] if has_more else None
    return Page(items=_describe_all(items),
                next_cursor=last and encode_cursor(last.held_on.isoformat(), last.id))


# -- setting up ---------------------------------------------------------------------------


def create_workshop(user: User, data: dict[str, Any]) -> dict[str, Any]:
    """A workshop needs units that exist, listed once, and a rating window that closes after
    it opens. Unlike a survey, the window may lie in the past: a workshop held already can be
    registered to enter the ratings collected on paper."""
    unit_ids = data["unit_ids"]
    organisation.existing_units(unit_ids)
    if not access.covers_units(user, Role.HR, unit_ids):
        raise field_error("unit_ids", "only units you are hr for (and units below them)")
    if data["closes_at"] <= data["opens_at"]:
        raise field_error("closes_at", "must be after opens_at")
    workshop = Workshop(
        title=data["title"],
        held_on=data["held_on"],
        expected_participants=data["expected_participants"],
        opens_at=data["opens_at"],
        closes_at=data["closes_at"],
        created_by_id=user.id,
        unit_rows=[WorkshopUnit(unit_id=unit_id) for unit_id in sorted(unit_ids)],
    )
    db.session.add(workshop)
    db.session.flush()
    audit.record(user, AuditAction.CREATE, None, detail=f"workshop {workshop.id} created",
                 record=AuditRecord.WORKSHOP, unit_id=workshop.unit_ids[0])
    return describe(workshop, 0, 0)


# -- rating -------------------------------------------------------------------------------


def takes_part(workshop: Workshop, unit_id: int | None) -> bool:
    """Whether the unit is one of the workshop's units or below one of them."""
    return access.unit_within(unit_id, workshop.unit_ids)


def _require_open(workshop: Workshop, now) -> None:
    state = status(workshop, now)
    if state == "open":
        return
    if state == "scheduled":
        raise Conflict(
            f"Rating has not opened: it opens at {workshop.opens_at.isoformat()}.",
            errors={"opens_at": [workshop.opens_at.isoformat()]},
        )
    raise Conflict(
        f"Rating has closed: it closed at {workshop.closes_at.isoformat()}.",
        errors={"closes_at": [workshop.closes_at.isoformat()]},
    )


def workshop_to_rate(user: User, workshop_id: int) -> Workshop:
    """The workshop, if the user's unit takes part (404 unknown, 403 not taking part)."""
    workshop = get_workshop(workshop_id)
    if not takes_part(workshop, user.unit_id):
        raise Forbidden(
            "This workshop is for the employees of other units; your unit does not take part.",
            errors={"unit_id": ["does not take part in the workshop"]},
        )
    return workshop


def rate(user: User, workshop_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Store one participant's rating, once, while the rating window is open.

    As with surveys, only the employees of the workshop's units (sub-units included) may rate
    it: that is who it was held for. The participation row (workshop, user) and the rating
    without identity are written in the same transaction: either both or neither. The
    participation's primary key refuses a second rating, also from two requests at once (the
    loser's transaction fails as a conflict).
    """
    workshop = workshop_to_rate(user, workshop_id)
    now = utcnow()
    _require_open(workshop, now)
    if db.session.get(WorkshopParticipation, (workshop.id, user.id)) is not None:
        raise Conflict(
            "You have already rated this workshop; a rating cannot be changed, since it is not "
            "kept with your name.",
            errors={"workshop_id": ["already rated"]},
        )
    received_on = to_local(now).date()
    db.session.add(WorkshopParticipation(workshop_id=workshop.id, user_id=user.id))
    db.session.add(
        WorkshopRating(
            workshop_id=workshop.id,
            rated_on=received_on,
            problem_size=data["problem_size"],
            usefulness=data.get("usefulness"),
            group_label=(data.get("group") or "").strip() or None,
        )
    )
    db.session.flush()
    # Deliberately not audited: an audit entry would tie the user to the moment of rating.
    return {"workshop_id": workshop.id, "received_on": received_on}


# -- rating in the room, without an account ------------------------------------------------


def workshop_in_room(room_code: str) -> Workshop:
    """The workshop of a short link; 404 for a code that is not one."""
    code = room_code.strip().lower()
    workshop = None
    if 0 < len(code) <= 12:
        workshop = db.session.scalar(select(Workshop).where(Workshop.room_code == code))
    if workshop is None:
        raise NotFound("There is no workshop with this link.")
    return workshop


def device_key(workshop: Workshop, device_token: str) -> str:
    """The stored stand-in for a device: an HMAC of its cookie token and the workshop."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"workshop-device|{workshop.id}|{device_token}".encode(),
                    hashlib.sha256).hexdigest()


def rating_of_device(workshop: Workshop, device_token: str | None) -> WorkshopRating | None:
    """The rating this device gave the workshop, if it gave one."""
    if not device_token:
        return None
    device = db.session.get(WorkshopDevice, (workshop.id, device_key(workshop, device_token)))
    return device and db.session.get(WorkshopRating, device.rating_id)


def _already_rated(what: str) -> Conflict:
    return Conflict(
        f"This device has already rated the {what}; a rating cannot be changed, since it is "
        "not kept with anyone's name.",
        errors={"device": ["already rated"]},
    )


def rate_in_room(room_code: str, device_token: str, data: dict[str, Any]) -> WorkshopRating:
    """Store the problem-size rating of one device in the room, once, while the window is open.

    Anyone with the short link may rate (the room is who the workshop was for; the paper tally
    is the same). The device row and the rating are written together; the device row's primary
    key refuses a second rating from the device, also from two requests at once. Not audited,
    for the same reason as ``rate``.
    """
    workshop = workshop_in_room(room_code)
    now = utcnow()
    _require_open(workshop, now)
    if rating_of_device(workshop, device_token) is not None:
        raise _already_rated("problem's size")
    rating = WorkshopRating(
        workshop_id=workshop.id,
        rated_on=to_local(now).date(),
        problem_size=data["problem_size"],
        usefulness=data.get("usefulness"),
        group_label=(data.get("group") or "").strip() or None,
    )
    db.session.add(rating)
    db.session.flush()
    db.session.add(WorkshopDevice(workshop_id=workshop.id,
                                  device_key=device_key(workshop, device_token),
                                  rating_id=rating.id))
    db.session.flush()
    return rating


def add_usefulness(room_code: str, device_token: str, usefulness: int) -> WorkshopRating:
    """Add the usefulness rating afterwards to the rating this device gave, once, while the
    window is open. A device that has not rated the problem's size rates that first (409)."""
    workshop = workshop_in_room(room_code)
    _require_open(workshop, utcnow())
    rating = rating_of_device(workshop, device_token)
    if rating is None:
        raise Conflict("Rate the size of the problem first; the usefulness is added to it.",
                       errors={"problem_size": ["not rated yet from this device"]})
    # Set only where none is set, in one statement: of two taps at once, one finds it set.
    added = db.session.execute(
        update(WorkshopRating)
        .where(WorkshopRating.id == rating.id, WorkshopRating.usefulness.is_(None))
        .values(usefulness=usefulness)
        .execution_options(synchronize_session=False)
    )
    if added.rowcount != 1:
        raise _already_rated("workshop's usefulness")
    db.session.refresh(rating)
    return rating


# -- tallies ------------------------------------------------------------------------------


def add_tally(user: User, workshop_id: int, data: dict[str, dict[int, int]]) -> dict[str, Any]:
    """Add a batch of ratings collected outside the service, as counts per scale value.

    Every batch adds to what is there (a second batch is more ratings, not a correction). The
    two scales are counted apart: a paper form may answer only one of them, so a tally's
    problem-size and usefulness counts are not paired. A batch must add at least one rating.
    It may be entered at any time; the summary made when the window closes has the tallies
    entered by then. Audited.
    """
    workshop = workshop_for(user, workshop_id)
    given = {scale: counts for scale, counts in data.items() if counts is not None}
    if sum(sum(counts.values()) for counts in given.values()) == 0:
        raise ValidationFailed(
            f"The tally adds no ratings: every count of {' and '.join(given)} is 0.",
            errors={scale: ["adds no ratings: every count is 0"] for scale in given},
        )
    tally = WorkshopTally(
        workshop_id=workshop.id,
        entered_by_id=user.id,
        counts=[
            WorkshopTallyCount(scale=scale, value=value, count=count)
            for scale in (s.value for s in WorkshopScale) if scale in given
            for value, count in sorted(given[scale].items()) if count > 0
        ],
    )
    db.session.add(tally)
    db.session.flush()
    added = ", ".join(f"{scale} {sum(given[scale].values())}" for scale in given)
    audit.record(user, AuditAction.CREATE, None,
                 detail=f"workshop {workshop.id} tally {tally.id}: {added}",
                 record=AuditRecord.WORKSHOP, unit_id=workshop.unit_ids[0])
    return {
        "id": tally.id,
        "workshop_id": workshop.id,
        **{scale: {str(v): c for v, c in sorted(given.get(scale, {}).items())}
           for scale in (s.value for s in WorkshopScale)},
        "entered_by_id": user.id,
        "entered_at": tally.entered_at,
    }

