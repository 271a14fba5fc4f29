"""Schemas for the life cycle, follow-up, support, check-ins and the support evaluation."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from incidents.domain import FollowUpType, IncidentStatus, Rating3, SupportType
from incidents.schemas.common import (
    ID_RANGE,
    StrictSchema,
    UTCDateTime,
    enum_field,
    enum_out,
    free_text_characters,
    no_control_characters,
)
from incidents.schemas.incidents import not_blank

NOTE_MAX = 10_000


def _note(**kwargs):
    return ma.fields.String(
        validate=[validate.Length(min=1, max=NOTE_MAX), free_text_characters, not_blank],
        **kwargs,
    )


class ReopenSchema(StrictSchema):
    reason = _note(required=True)


class StatusChangeSchema(ma.Schema):
    id = ma.fields.Integer()
    from_status = enum_out(IncidentStatus, allow_none=True)
    to_status = enum_out(IncidentStatus)
    at = ma.fields.AwareDateTime()
    by_id = ma.fields.Integer(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class FollowUpCreateSchema(StrictSchema):
    type = enum_field(FollowUpType, required=True)
    note = _note(required=True)
    occurred_at = UTCDateTime(required=True)
    corrects_id = ma.fields.Integer(
        strict=True, allow_none=True, validate=ID_RANGE,
        metadata={"description": "The entry this one corrects (entries are never changed)"},
    )


class FollowUpSchema(ma.Schema):
    id = ma.fields.Integer(attribute="entry.id")
    type = enum_out(FollowUpType, attribute="entry.type")
    note = ma.fields.String(attribute="entry.note")
    occurred_at = ma.fields.AwareDateTime(attribute="entry.occurred_at")
    author_id = ma.fields.Integer(attribute="entry.author_id")
    corrects_id = ma.fields.Integer(attribute="entry.corrects_id", allow_none=True)
    corrected_by = ma.fields.Integer(
        allow_none=True, metadata={"description": "The later entry that corrects this one"}
    )
    created_at = ma.fields.AwareDateTime(attribute="entry.created_at")


def _measure_fields(required: bool) -> dict:
    return {
        "type": enum_field(SupportType, **({"required": True} if required else {})),
        "offered_at": UTCDateTime(metadata={"description": "Default: now"}),
        "accepted": ma.fields.Boolean(
            truthy={True}, falsy={False}, allow_none=True,
            metadata={"description": "true, false (declined) or null (not yet answered)"},
        ),
        "delivered_at": UTCDateTime(allow_none=True),
        "provider": ma.fields.String(
            allow_none=True, validate=[validate.Length(max=200), no_control_characters]
        ),
        "note": ma.fields.String(
            allow_none=True, validate=[validate.Length(max=NOTE_MAX), free_text_characters]
        ),
    }


SupportMeasureCreateSchema = StrictSchema.from_dict(
    _measure_fields(required=True), name="SupportMeasureCreate"
)
SupportMeasureUpdateSchema = StrictSchema.from_dict(
    _measure_fields(required=False), name="SupportMeasureUpdate"
)


class SupportMeasureSchema(ma.Schema):
    id = ma.fields.Integer()
    incident_id = ma.fields.Integer()
    type = enum_out(SupportType)
    offered_at = ma.fields.AwareDateTime()
    offered_by_id = ma.fields.Integer()
    accepted = ma.fields.Boolean(allow_none=True)
    delivered_at = ma.fields.AwareDateTime(allow_none=True)
    provider = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class SupportDeclineInputSchema(StrictSchema):
    declined_at = UTCDateTime(metadata={"description": "Default: now"})
    note = ma.fields.String(
        allow_none=True, validate=[validate.Length(max=NOTE_MAX), free_text_characters]
    )


class SupportDeclineSchema(ma.Schema):
    incident_id = ma.fields.Integer()
    declined_at = ma.fields.AwareDateTime()
    note = ma.fields.String(allow_none=True)
    recorded_by_id = ma.fields.Integer()


class CheckInSchema(ma.Schema):
    id = ma.fields.Integer()
    incident_id = ma.fields.Integer()
    offset = ma.fields.String(attribute="offset_label")
    due_at = ma.fields.AwareDateTime()
    completed_at = ma.fields.AwareDateTime(allow_none=True)
    completed_by_id = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)


class CheckInCompleteSchema(StrictSchema):
    note = _note(required=True)


class SupportEvaluationInputSchema(StrictSchema):
    sufficient = enum_field(Rating3, required=True)
    relevant = enum_field(Rating3, required=True)
    felt_supported_by_employer = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=5),
        metadata={"description": "1 = not at all … 5 = to a very high degree"},
    )
    comment = ma.fields.String(
        allow_none=True, validate=[validate.Length(max=NOTE_MAX), free_text_characters]
    )


class SupportEvaluationSchema(ma.Schema):
    incident_id = ma.fields.Integer()
    sufficient = enum_out(Rating3)
    relevant = enum_out(Rating3)
    felt_supported_by_employer = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()


class OverdueItemSchema(ma.Schema):
    kind = ma.fields.String(
        metadata={"enum": ["acknowledgement", "check_in", "police_decision",
                           "work_environment_notification"]}
    )
    incident_id = ma.fields.Integer()
    reference = ma.fields.String()
    unit_id = ma.fields.Integer()
    due_at = ma.fields.AwareDateTime()
    check_in_id = ma.fields.Integer()
    offset = ma.fields.String()


class OverdueSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(OverdueItemSchema))
    generated_at = ma.fields.AwareDateTime()
