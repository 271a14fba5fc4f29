"""Field helpers shared by the schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import marshmallow as ma
from marshmallow import validate

from incidents.domain import values


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
    UTC on load so that what is stored and echoed back is the same instant in one form."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
