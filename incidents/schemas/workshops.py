"""Workshops, their ratings and tallies, and the summaries of the ratings."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from incidents.domain import WORKSHOP_SCALE_RANGE, WorkshopScale
from incidents.schemas.common import (
    ID_RANGE,
    QuerySchema,
    StrictSchema,
    UTCDateTime,
    no_control_characters,
    register_day,
)
from incidents.schemas.stats import StatsQuerySchema
from incidents.schemas.surveys import _dotted

MAX_EXPECTED_PARTICIPANTS = 100_000
MAX_TALLY_COUNT = 100_000

# -- workshops ----------------------------------------------------------------------------


class WorkshopCreateSchema(StrictSchema):
    title = ma.fields.String(
        required=True, validate=[validate.Length(min=1, max=200), no_control_characters]
    )
    held_on = ma.fields.Date(required=True, validate=register_day, metadata={
        "description": "The day it is held; from 2000 to ten years ahead"})
    unit_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ID_RANGE),
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The units taking part; their sub-units take part too"},
    )
    expected_participants = ma.fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_EXPECTED_PARTICIPANTS),
        metadata={"description": "How many are expected to take part: the response rate's "
                  "denominator"},
    )
    opens_at = UTCDateTime(
        required=True, validate=register_day,
        metadata={"description": "When rating opens; ISO 8601 with a UTC offset"},
    )
    closes_at = UTCDateTime(
        required=True, validate=register_day,
        metadata={"description": "When rating closes (not included); after opens_at"},
    )


class WorkshopSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    held_on = ma.fields.Date()
    unit_ids = ma.fields.List(ma.fields.Integer())
    expected_participants = ma.fields.Integer()
    opens_at = ma.fields.AwareDateTime()
    closes_at = ma.fields.AwareDateTime()
    status = ma.fields.String(metadata={"enum": ["scheduled", "open", "closed"]})
    rating_count = ma.fields.Integer(
        metadata={"description": "Ratings given through the service"}
    )
    tally_count = ma.fields.Integer(metadata={"description": "Tallies entered by hr"})
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()
    room_code = ma.fields.String(metadata={
        "description": "The short link's code: people in the room rate without an account at "
                       "<PUBLIC_BASE_URL>/w/<room_code>, once per device"})


class WorkshopQuerySchema(QuerySchema):
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = ma.fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "next_cursor of the previous page"},
    )


class WorkshopPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(WorkshopSchema))
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Pass as cursor for the next page; null at end"}
    )


# -- ratings ------------------------------------------------------------------------------


def _on_scale(scale: WorkshopScale, **kwargs) -> ma.fields.Integer:
    low, high = WORKSHOP_SCALE_RANGE[scale]
    return ma.fields.Integer(strict=True, validate=validate.Range(min=low, max=high), **kwargs)


class WorkshopRatingCreateSchema(StrictSchema):
    problem_size = _on_scale(
        WorkshopScale.PROBLEM_SIZE,
        required=True,
        metadata={"description": "How large the problem of unauthorised influence, threats and "
                  "violence is in your workplace: 1 = no problem at all … 7 = a very large "
                  "problem"},
    )
    usefulness = _on_scale(
        WorkshopScale.USEFULNESS,
        allow_none=True,
        metadata={"description": "How useful the workshop will be: 1 = not at all … 5 = to a "
                  "very high degree"},
    )
    group = ma.fields.String(
        allow_none=True,
        validate=[validate.Length(min=1, max=50), no_control_characters],
        metadata={"description": "Your discussion group's label, as given at the workshop"},
    )


class WorkshopRatingReceiptSchema(ma.Schema):
    workshop_id = ma.fields.Integer()
    received_on = ma.fields.Date(metadata={"description": "The local day; nothing finer is kept"})


# -- tallies ------------------------------------------------------------------------------


class _ScaleCounts(ma.fields.Dict):
    """{"1": n, …}: a count (a whole number, 0 or more) per value of the scale; values left out
    count 0. Each fault is named by its value, so the error says e.g. problem_size.8."""

    def __init__(self, scale: WorkshopScale, **kwargs):
        low, high = WORKSHOP_SCALE_RANGE[scale]
        self.allowed = [str(value) for value in range(low, high + 1)]
        super().__init__(
            keys=ma.fields.String(),
            values=ma.fields.Raw(allow_none=True),
            metadata={"description": f"Count per value {low}–{high}, e.g. "
                      f'{{"{low}": 3, "{high}": 1}}; values left out count 0'},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr, data, **kwargs) -> dict[int, int]:
        value = super()._deserialize(value, attr, data, **kwargs)
        if not value:
            raise ma.ValidationError("give a count for at least one value")
        errors: dict[str, list[str]] = {}
        counts: dict[int, int] = {}
        for key, count in value.items():
            if key not in self.allowed:
                errors[key] = [f"not a value of the scale ({self.allowed[0]}–{self.allowed[-1]})"]
            elif isinstance(count, bool) or not isinstance(count, int):
                errors[key] = ["must be a whole number"]
            elif not 0 <= count <= MAX_TALLY_COUNT:
                errors[key] = [f"must be from 0 to {MAX_TALLY_COUNT}"]
            else:
                counts[int(key)] = count
        if errors:
            raise ma.ValidationError(errors)
        return counts


class WorkshopTallyCreateSchema(StrictSchema):
    problem_size = _ScaleCounts(WorkshopScale.PROBLEM_SIZE)
    usefulness = _ScaleCounts(WorkshopScale.USEFULNESS)

    @ma.validates_schema
    def _some_scale(self, data, **kwargs):
        if not data:
            message = ["give counts for problem_size, usefulness or both"]
            raise ma.ValidationError({"problem_size": message, "usefulness": message})

    def handle_error(self, error: ma.ValidationError, data: Any, **kwargs) -> None:
        raise ma.ValidationError(_dotted(error.normalized_messages()))


class WorkshopTallySchema(ma.Schema):
    id = ma.fields.Integer()
    workshop_id = ma.fields.Integer()
    problem_size = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    usefulness = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    entered_by_id = ma.fields.Integer()
    entered_at = ma.fields.AwareDateTime()


# -- summaries ----------------------------------------------------------------------------

_NULLABLE_COUNTS = {"keys": ma.fields.String(), "values": ma.fields.Integer(allow_none=True)}
_NULLABLE_PERCENTS = {"keys": ma.fields.String(), "values": ma.fields.Float(allow_none=True)}


class WorkshopBriefSchema(ma.Schema):
    id = ma.fields.Integer()
    title = ma.fields.String()
    held_on = ma.fields.String(metadata={"format": "date"})
    unit_ids = ma.fields.List(ma.fields.Integer())
    expected_participants = ma.fields.Integer()
    opens_at = ma.fields.String(metadata={"format": "date-time"})
    closes_at = ma.fields.String(metadata={"format": "date-time"})
    status = ma.fields.String(metadata={"enum": ["scheduled", "open", "closed"]})


class UsefulnessSummarySchema(ma.Schema):
    n = ma.fields.Integer(metadata={"description": "Usefulness ratings"})
    distribution = ma.fields.Dict(
        **_NULLABLE_COUNTS, metadata={"description": "Count per value 1–5; null if suppressed"}
    )
    mean = ma.fields.Float(allow_none=True, metadata={"description": "Two decimals"})
    median = ma.fields.Float(allow_none=True)
    useful_share = ma.fields.Float(
        allow_none=True, metadata={"description": "Percent rating 4 or 5, one decimal"}
    )
    suppressed = ma.fields.List(ma.fields.String(), metadata={
        "description": "The figures blanked by disclosure control"})


class WorkshopFiguresSchema(ma.Schema):
    """The figures of one workshop, or of several added together; docs/statistics.md says how
    each is computed and when it is null."""

    n = ma.fields.Integer(allow_none=True, metadata={"description": "Problem-size ratings"})
    response_rate = ma.fields.Float(
        allow_none=True, metadata={"description": "n / expected_participants, four decimals"}
    )
    distribution = ma.fields.Dict(
        **_NULLABLE_COUNTS, metadata={"description": "Count per value 1–7; null if suppressed"}
    )
    grouped = ma.fields.Dict(
        **_NULLABLE_PERCENTS,
        metadata={"description": "Percent at 1-2 (2 or less), 3-5 and 6-7, one decimal"},
    )
    mean = ma.fields.Float(allow_none=True, metadata={"description": "Two decimals"})
    median = ma.fields.Float(allow_none=True)
    usefulness = ma.fields.Nested(UsefulnessSummarySchema)
    suppressed = ma.fields.List(ma.fields.String(), metadata={
        "description": "The problem-size figures blanked by disclosure control"})


class WorkshopSummarySchema(WorkshopFiguresSchema):
    workshop = ma.fields.Nested(WorkshopBriefSchema)
    scales = ma.fields.Dict(metadata={"description": "The questions and their scales, sv/en"})
    suppression = ma.fields.Dict(metadata={
        "description": "threshold, applied, rule, suppressed_totals"})
    notes = ma.fields.List(ma.fields.String())


class WorkshopRowSchema(WorkshopFiguresSchema):
    workshop = ma.fields.Nested(WorkshopBriefSchema)


class WorkshopTotalSchema(WorkshopFiguresSchema):
    workshops = ma.fields.Integer()
    expected_participants = ma.fields.Integer()


class WorkshopsOverTimeQuerySchema(StatsQuerySchema):
    class Meta:
        exclude = ("unit_id", "unsuppressed", "format", "lang")


class WorkshopsOverTimeSchema(ma.Schema):
    filters = ma.fields.Dict(metadata={"description": "from and to, as used"})
    rows = ma.fields.List(ma.fields.Nested(WorkshopRowSchema), metadata={
        "description": "One per workshop held in the period, in the order held"})
    total = ma.fields.Nested(WorkshopTotalSchema, metadata={
        "description": "The workshops' ratings added together"})
    scales = ma.fields.Dict()
    suppression = ma.fields.Dict()
    notes = ma.fields.List(ma.fields.String())


class WorkshopUsefulnessSchema(StrictSchema):
    """The usefulness rating a device adds at the end of the workshop (the room's page)."""

    usefulness = _on_scale(
        WorkshopScale.USEFULNESS,
        required=True,
        metadata={"description": "How useful the workshop was: 1 = not at all … 5 = to a very "
                  "high degree"},
    )
