"""Workshops on unauthorised influence and their ratings (docs/statistics.md, "Workshops").

A rating is stored without the participant's identity, as a survey answer is
(incidents/models/survey.py). Two records are written in the same transaction and share
nothing that links them:

* ``WorkshopParticipation`` says only *that* a user rated the workshop (it is what refuses a
  second rating); it holds no time and no rating;
* ``WorkshopRating`` holds the rating: no user, a random id (not a sequence that follows the
  order of participations) and only the day it was given.

On SQLite these two tables are WITHOUT ROWID, so rows are kept in key order rather than in the
order they were written.

In the room, people rate without an account through the workshop's short link
(``Workshop.room_code``). There a ``WorkshopDevice`` row stands in for the participation: it
holds a keyed hash of a random token kept in the device's cookie (never the token, never who
holds the device) and the id of the rating that device gave, so the same device can add its
usefulness rating at the end of the workshop and cannot rate twice.

Ratings collected on paper or in a polling tool are entered by hr as counts per scale value
(``WorkshopTally`` and its ``WorkshopTallyCount`` rows); they have no participants at all.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from incidents.clock import utcnow
from incidents.domain import WorkshopScale
from incidents.extensions import db
from incidents.models.base import UTCDateTime
from incidents.models.incident import one_of

_NO_ROWID = {"sqlite_with_rowid": False}


def _random_id() -> str:
    return secrets.token_hex(16)


# Crockford's base32 in lower case, without the look-alikes i, l, o and u: typed from a
# projector on a phone.
ROOM_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ROOM_CODE_LENGTH = 6


def new_room_code() -> str:
    """A short, random code for the workshop's link: not the workshop's id, so the rating
    pages cannot be found by counting."""
    return "".join(secrets.choice(ROOM_CODE_ALPHABET) for _ in range(ROOM_CODE_LENGTH))


class Workshop(db.Model):
    """A workshop held on ``held_on`` for some units (sub-units included). Its participants
    rate it from ``opens_at`` up to, not including, ``closes_at``."""

    __tablename__ = "workshops"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("expected_participants >= 1", name="expected_participants_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    expected_participants: Mapped[int] = mapped_column(Integer, nullable=False)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # The short link's code: /w/<room_code> (incidents/web/participation.py).
    room_code: Mapped[str] = mapped_column(
        String(12), nullable=False, unique=True, default=new_room_code
    )

    unit_rows: Mapped[list[WorkshopUnit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="WorkshopUnit.unit_id"
    )

    @property
    def unit_ids(self) -> list[int]:
        return [row.unit_id for row in self.unit_rows]


class WorkshopUnit(db.Model):
    """A unit taking part in the workshop; its sub-units take part too."""

    __tablename__ = "workshop_units"

    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True, index=True)


class WorkshopParticipation(db.Model):
    """That a user rated a workshop — nothing more: no time, no rating. The primary key makes a
    second rating impossible, even from two requests at once."""

    __tablename__ = "workshop_participations"
    __table_args__ = (_NO_ROWID,)

    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class WorkshopRating(db.Model):
    """One participant's rating, with no user and only the (local) day it was given."""

    __tablename__ = "workshop_ratings"
    __table_args__ = (
        CheckConstraint("problem_size BETWEEN 1 AND 7", name="problem_size_on_scale"),
        CheckConstraint(
            "usefulness IS NULL OR usefulness BETWEEN 1 AND 5", name="usefulness_on_scale"
        ),
        _NO_ROWID,
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id"), nullable=False, index=True
    )
    rated_on: Mapped[date] = mapped_column(Date, nullable=False)
    problem_size: Mapped[int] = mapped_column(Integer, nullable=False)
    usefulness: Mapped[int | None] = mapped_column(Integer)
    # The discussion group the participant sat in, as they wrote it.
    group_label: Mapped[str | None] = mapped_column(String(50))


class WorkshopDevice(db.Model):
    """That a device rated a workshop in the room, and which rating it gave (to add the
    usefulness to it afterwards). ``device_key`` is an HMAC of the device's random cookie token
    and the workshop, so the rows of one device in two workshops cannot be matched. The primary
    key refuses a second rating from the device, even from two requests at once."""

    __tablename__ = "workshop_devices"
    __table_args__ = (_NO_ROWID,)

    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), primary_key=True)
    device_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    rating_id: Mapped[str] = mapped_column(
        ForeignKey("workshop_ratings.id"), nullable=False, unique=True
    )


class WorkshopTally(db.Model):
    """A batch of ratings collected outside the service (on paper, in a polling tool), entered
    by hr as counts per scale value. Every batch adds to the workshop's ratings."""

    __tablename__ = "workshop_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    workshop_id: Mapped[int] = mapped_column(
        ForeignKey("workshops.id"), nullable=False, index=True
    )
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)

    counts: Mapped[list[WorkshopTallyCount]] = relationship(
        cascade="all, delete-orphan",
        order_by=lambda: [WorkshopTallyCount.scale, WorkshopTallyCount.value],
    )


class WorkshopTallyCount(db.Model):
    """How many of a batch gave ``value`` on ``scale``; only counts above zero are kept."""

    __tablename__ = "workshop_tally_counts"
    __table_args__ = (
        one_of("scale", WorkshopScale),
        CheckConstraint(
            "value >= 1 AND (value <= 5 OR (scale = 'problem_size' AND value <= 7))",
            name="value_on_scale",
        ),
        CheckConstraint("count >= 1", name="count_positive"),
    )

    tally_id: Mapped[int] = mapped_column(ForeignKey("workshop_tallies.id"), primary_key=True)
    scale: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
