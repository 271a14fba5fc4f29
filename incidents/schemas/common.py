"""Field helpers shared by the schemas."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import marshmallow as ma
from marshmallow import validate

from incidents.domain import values

# Ids are PostgreSQL integers: a larger number names no row, and past 2^63 SQLite cannot even
# bind it (OverflowError, a 500). An id given as input is refused outside this range (422).
MAX_ID = 2**31 - 1
ID_RANGE = validate.Range(min=1, max=MAX_ID)

# The days a date filter or a period can name. Far outside them a day cannot be made a moment
# in the local time zone, or moved by a month or a year (OverflowError, ValueError: a 500).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)


# Nothing in the register happened before 2000 (as for occurred_at, docs/domain.md), and nothing
# is planned more than ten years ahead: a day outside is a typo (1900 for 2000, 9999 for "open").
REGISTER_START = date(2000, 1, 1)
PLANNING_YEARS = 10


def register_day(value: date | datetime) -> None:
    """A day a survey, workshop, count or summary can be about."""
    from incidents.clock import utcnow

    day = value.date() if isinstance(value, datetime) else value
    last = date(utcnow().year + PLANNING_YEARS, 12, 31)
    if not REGISTER_START <= day <= last:
        raise ma.ValidationError(f"must be from {REGISTER_START} to {last}")


def strict_boolean(**kwargs) -> ma.fields.Boolean:
    """JSON true/false only: "yes" or 1 for a yes/no question is more likely a mistake."""
    return ma.fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def day_in_range(value: date) -> None:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ma.ValidationError(f"must be from {FIRST_DAY} to {LAST_DAY}")


class StrictSchema(ma.Schema):
    """Unknown fields are an error, not silently dropped: a misspelt field name must not
    lose what the person entered."""

    class Meta:
        unknown = ma.RAISE


def enum_field(enum: type[StrEnum], **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.OneOf(values(enum)), **kwargs)


def text(max_length: int, *, min_length: int = 0, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def no_control_characters(value: str) -> None:
    """Names and labels are single-line text; control characters there are always a mistake
    (free text may hold line breaks and tabs)."""
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ma.ValidationError("must not contain control characters")


def free_text_characters(value: str) -> None:
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in value):
        raise ma.ValidationError("must not contain control characters other than line breaks")


class LabelSchema(ma.Schema):
    sv = ma.fields.String()
    en = ma.fields.String()


class UTCDateTime(ma.fields.AwareDateTime):
    """ISO 8601 with a UTC offset (a time without one is ambiguous and refused), normalised to
    UTC on load so that what is stored and echoed back is the same instant in one form.

    A time within a day of the first or last moment Python can hold is refused: it cannot be
    shown in every time zone (0001-01-01T00:00:00+01:00 is not even a UTC moment), and the
    conversion raised OverflowError, a 500."""

    EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
    LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not self.EARLIEST <= moment <= self.LATEST:
            raise ma.ValidationError("must be a time between the years 1 and 9999")
        return moment
