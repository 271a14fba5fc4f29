"""The police report of an incident: what a case handler sends (PUT) and what is read back."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from incidents.domain import (
    ContactAddress,
    FiledBy,
    PoliceDecision,
    PoliceFlag,
    PoliceOutcome,
    PoliceWish,
    values,
)
from incidents.schemas.common import (
    LabelSchema,
    StrictSchema,
    UTCDateTime,
    enum_field,
    free_text_characters,
    no_control_characters,
)
from incidents.schemas.incidents import POLICE_WANTED_DESCRIPTION

REASON_MAX = 2_000


def _reason(**kwargs) -> ma.fields.String:
    return ma.fields.String(
        allow_none=True,
        validate=[validate.Length(min=1, max=REASON_MAX), free_text_characters],
        **kwargs,
    )


class PoliceOutcomeInputSchema(StrictSchema):
    code = enum_field(PoliceOutcome, required=True)
    reached_on = ma.fields.Date(
        required=True, metadata={"description": "The day of the outcome (local date)"}
    )
    reason = _reason(
        metadata={"description": "Why; required when the investigation is discontinued"}
    )


class PoliceReportPutSchema(StrictSchema):
    """The complete current decision and filing: a field left out is cleared. The outcome is
    the exception: it is appended to the history, and sending the latest one again is a no-op."""

    decision = enum_field(PoliceDecision, allow_none=True)
    decision_reason = _reason(metadata={"description": "Required for do_not_report"})
    filed_by = enum_field(FiledBy, allow_none=True)
    contact_address = enum_field(
        ContactAddress,
        allow_none=True,
        metadata={"description": "The address given on the report: home or work"},
    )
    filed_at = UTCDateTime(allow_none=True, metadata={"description": "ISO 8601 with a UTC offset"})
    police_reference = ma.fields.String(
        allow_none=True, validate=[validate.Length(min=1, max=100), no_control_characters]
    )
    outcome = ma.fields.Nested(
        PoliceOutcomeInputSchema,
        allow_none=True,
        metadata={"description": "A new outcome, appended to the history"},
    )


class PoliceOutcomeEntrySchema(ma.Schema):
    outcome = ma.fields.String(metadata={"enum": values(PoliceOutcome)})
    reached_on = ma.fields.Date()
    reason = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.AwareDateTime()
    label = ma.fields.Nested(LabelSchema)


class PoliceReportSchema(ma.Schema):
    flag = ma.fields.String(metadata={"enum": values(PoliceFlag)})
    police_wanted = ma.fields.String(
        allow_none=True,
        metadata={"enum": values(PoliceWish), "description": POLICE_WANTED_DESCRIPTION},
    )
    decision_required = ma.fields.Boolean(
        metadata={"description": "A decision is needed before the incident can be closed"}
    )
    decision = ma.fields.String(allow_none=True, metadata={"enum": values(PoliceDecision)})
    decision_reason = ma.fields.String(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decided_by = ma.fields.Integer(allow_none=True, metadata={"description": "A user id"})
    decision_due_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Null when the forms call for no decision"}
    )
    filed_by = ma.fields.String(allow_none=True, metadata={"enum": values(FiledBy)})
    contact_address = ma.fields.String(allow_none=True, metadata={"enum": values(ContactAddress)})
    filed_at = ma.fields.AwareDateTime(allow_none=True)
    police_reference = ma.fields.String(allow_none=True)
    outcome = ma.fields.String(
        allow_none=True,
        metadata={"enum": values(PoliceOutcome), "description": "The latest outcome"},
    )
    outcome_history = ma.fields.List(
        ma.fields.Nested(PoliceOutcomeEntrySchema), metadata={"description": "Oldest first"}
    )
    injured_party = ma.fields.Nested(LabelSchema)
