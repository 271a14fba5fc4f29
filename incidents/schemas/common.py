"""Field helpers shared by the schemas."""

from __future__ import annotations

import unicodedata
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
    lose what the person entered. A body that is not an object says what to send instead."""

    class Meta:
        unknown = ma.RAISE

    error_messages = {
        "type": 'The body must be a JSON object with this operation\'s fields, like '
                '{"field": "value"}; an array, a string, a number or null is not one.',
    }


class QuerySchema(ma.Schema):
    """Query parameters. An unknown one is refused (422 naming it, and saying which the
    operation takes), as an unknown body field is: a misspelt filter (``occured_from``) must not
    silently widen a list. Numbers are written with the digits 0–9: ``int()`` also reads "١"
    (Arabic-Indic one) as 1."""

    UNKNOWN = "Unknown query parameter."

    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": UNKNOWN}

    @ma.pre_load
    def _ascii_numbers(self, data, **kwargs):
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key) if hasattr(data, "get") else None
            if isinstance(field, ma.fields.Number) and isinstance(value, str) and (
                    not value.isascii()):
                errors[key] = ["must be a number written with the digits 0-9"]
        if errors:
            raise ma.ValidationError(errors)
        return data

    def handle_error(self, error, data, **kwargs):
        known = ", ".join(sorted(field.data_key or name
                                 for name, field in self.load_fields.items()))
        messages = error.messages if isinstance(error.messages, dict) else {}
        for key, found in messages.items():
            if found == [self.UNKNOWN]:
                messages[key] = [f"Unknown query parameter; this operation takes: {known}."]


class QueryList(ma.fields.List):
    """A list in the query string, in either form a client may send it: repeated
    (``group_by=category&group_by=month``, what OpenAPI's default ``style: form, explode: true``
    makes generated clients send) or comma-separated (``group_by=category,month``), or both.
    Every value counts; none is dropped. An empty parameter (``group_by=``) is an empty list."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = [value]
        if not ma.utils.is_collection(value):
            raise self.make_error("invalid")
        parts = [part for item in value if item != ""
                 for part in (item.split(",") if isinstance(item, str) else [item])]
        return super()._deserialize(parts, attr, data, **kwargs)


def enum_field(enum: type[StrEnum], **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.OneOf(values(enum)), **kwargs)


def enum_out(enum: type[StrEnum], **kwargs) -> ma.fields.String:
    """A field of an answer that holds one of ``enum``'s values, said so in the OpenAPI
    description (as the request's enum_field says it), so a client gets the same enum."""
    metadata = {"enum": values(enum), **kwargs.pop("metadata", {})}
    return ma.fields.String(metadata=metadata, **kwargs)


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


def normalise_email(text: str) -> str:
    """An email address as it is stored and looked up: NFKC (full-width and other
    compatibility forms to their plain letters), without surrounding spaces, in lower case;
    control characters are left for the caller to refuse."""
    return unicodedata.normalize("NFKC", text).strip(" ").lower()


class EmailAddress(ma.fields.Email):
    """An email address, normalised (normalise_email) and then ASCII only: "ａdmin@…" (a
    full-width a) is admin@…, and a look-alike from another script (a Cyrillic а) is refused,
    so no second account can pass for another. Internationalised addresses are refused too."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        no_control_characters(value)
        address = normalise_email(value)
        if not address.isascii():
            raise ma.ValidationError(
                "must be written with ASCII letters, digits and punctuation only "
                "(a-z, 0-9, . _ - + @); letters from other scripts look like these but are "
                "other addresses")
        return super()._deserialize(address, attr, data, **kwargs)


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

    # Say what to send instead (marshmallow's own: "Not a valid aware datetime.").
    default_error_messages = {
        "invalid": "Not a time. Send ISO 8601 with a UTC offset, e.g. "
                   "2026-03-01T10:00:00+01:00 or 2026-03-01T09:00:00Z.",
        "invalid_awareness": "The time has no UTC offset. Add one, e.g. "
                             "2026-03-01T10:00:00+01:00 (Swedish winter time) or "
                             "2026-03-01T09:00:00Z (UTC).",
    }

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            moment = None
        if moment is None or not self.EARLIEST <= moment <= self.LATEST:
            raise ma.ValidationError("must be a time between the years 1 and 9999")
        return moment
