"""Exposure surveys, their answers, IA counts and the dark-figure statistics."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from incidents.domain import Category, values
from incidents.schemas.common import (
    ID_RANGE,
    QuerySchema,
    StrictSchema,
    UTCDateTime,
    day_in_range,
    no_control_characters,
    register_day,
)

MAX_TIMES = 1_000


def _dotted(messages: Any, prefix: str = "") -> dict[str, Any]:
    """{"answers": {"threat": {"times": [...]}}} → {"answers.threat.times": [...]}: every
    error names the one field at fault, as the service's own rule errors do."""
    if not isinstance(messages, dict):
        return {prefix or "body": messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_dotted(value, name))
        else:
            flat[name] = value
    return flat


# -- surveys ------------------------------------------------------------------------------


class SurveyCreateSchema(StrictSchema):
    title = ma.fields.String(
        required=True, validate=[validate.Length(min=1, max=200), no_control_characters]
    )
    unit_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ID_RANGE),
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The units covered; their sub-units are covered too"},
    )
    reference_months = ma.fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=120),
        metadata={
            "description": "Months before closes_at the survey asks about (default "
            "SURVEY_REFERENCE_MONTHS, 18)"
        },
    )
    opens_at = UTCDateTime(required=True, validate=register_day, metadata={
        "description": "ISO 8601 with a UTC offset; from 2000 to ten years ahead"})
    closes_at = UTCDateTime(required=True, validate=register_day, metadata={
        "description": "After opens_at and in the future; at most ten years ahead"})


class SurveySchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    unit_ids = ma.fields.List(ma.fields.Integer())
    reference_months = ma.fields.Integer()
    reference_start = ma.fields.AwareDateTime(
        metadata={"description": "Start of the period asked about: reference_months before "
                  "closes_at"}
    )
    reference_end = ma.fields.AwareDateTime(
        metadata={"description": "End of the period asked about (= closes_at, exclusive)"}
    )
    opens_at = ma.fields.AwareDateTime()
    closes_at = ma.fields.AwareDateTime()
    status = ma.fields.String(metadata={"enum": ["scheduled", "open", "closed"]})
    response_count = ma.fields.Integer()
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()


class FormAnswerSchema(StrictSchema):
    exposed = ma.fields.Boolean(
        required=True,
        truthy={True},
        falsy={False},
        metadata={"description": "Exposed to this form during the reference period"},
    )
    times = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_TIMES),
        metadata={"description": "How many times; 0 when not exposed"},
    )
    reported = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_TIMES),
        metadata={"description": "How many of those were reported to the employer"},
    )


# One answer for each of BRÅ's five forms; all five are required, so that every form has the
# same respondents.
AnswersSchema = StrictSchema.from_dict(
    {category: ma.fields.Nested(FormAnswerSchema, required=True) for category in values(Category)},
    name="SurveyAnswersSchema",
)


class SurveyResponseCreateSchema(StrictSchema):
    answers = ma.fields.Nested(
        AnswersSchema,
        required=True,
        metadata={"description": "Per form code: {exposed, times, reported}"},
    )

    def handle_error(self, error: ma.ValidationError, data: Any, **kwargs) -> None:
        raise ma.ValidationError(_dotted(error.normalized_messages()))


class SurveyResponseReceiptSchema(ma.Schema):
    survey_id = ma.fields.Integer()
    received_on = ma.fields.Date(metadata={"description": "The local day; nothing finer is kept"})


# -- IA counts ----------------------------------------------------------------------------


class IaCountPutSchema(StrictSchema):
    unit_id = ma.fields.Integer(required=True, strict=True, validate=ID_RANGE)
    period_start = ma.fields.Date(required=True, validate=register_day, metadata={
        "description": "First day (local); from 2000"})
    period_end = ma.fields.Date(required=True, validate=register_day, metadata={
        "description": "Last day, inclusive (local); at most ten years ahead"})
    count = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=10_000_000)
    )


class IaCountSchema(ma.Schema):
    id = ma.fields.Integer()
    unit_id = ma.fields.Integer()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    count = ma.fields.Integer()
    entered_by_id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class IaCountQuerySchema(QuerySchema):
    unit_id = ma.fields.Integer(
        validate=ID_RANGE, metadata={"description": "This unit and the units below it"}
    )


# -- the dark figure ----------------------------------------------------------------------


class DarkFigureQuerySchema(QuerySchema):
    """As the other statistics take them; a survey_id given alone also sets the units and the
    period of the two-register and police estimates."""

    from_ = ma.fields.Date(
        data_key="from",
        validate=day_in_range,
        metadata={
            "description": "First day, inclusive (local time); default 1 January this year, "
            "or with survey_id alone the first day of the survey's reference period"
        },
    )
    to = ma.fields.Date(
        validate=day_in_range,
        metadata={
            "description": "Last day, inclusive; default today, or with survey_id alone the "
            "last day of the survey's reference period"
        }
    )
    unit_id = ma.fields.Integer(
        validate=ID_RANGE,
        metadata={
            "description": "The unit, sub-units included; default the survey's units, else the "
            "top of your scope"
        }
    )
    survey_id = ma.fields.Integer(
        validate=ID_RANGE,
        metadata={
            "description": "The survey to use; default the latest closed survey covering the "
            "units"
        }
    )
    format = ma.fields.String(
        load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]),
        metadata={"description": "csv or xlsx: one row per figure, with its interval"},
    )
    lang = ma.fields.String(load_default="en", validate=validate.OneOf(["sv", "en"]))
    unsuppressed = ma.fields.Boolean(
        truthy={"true", "1"},
        falsy={"false", "0"},
        load_default=False,
        metadata={"description": "hr only: figures without disclosure control (audited)"},
    )


class DarkFigureSchema(ma.Schema):
    """The three estimates side by side. Their inner shape is documented in
    docs/statistics.md; every count may be null where it is suppressed."""

    filters = ma.fields.Dict()
    suppression = ma.fields.Dict()
    survey = ma.fields.Dict(allow_none=True)
    two_registers = ma.fields.Dict()
    police = ma.fields.Dict()
