"""Reports to authorities of an incident: what a case handler sends (PUT, like a PATCH) and what
is read back."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from incidents.schemas.common import StrictSchema, UTCDateTime, no_control_characters


def _moment(description: str) -> UTCDateTime:
    return UTCDateTime(
        allow_none=True, metadata={"description": f"{description}; ISO 8601 with a UTC offset"}
    )


def _reference() -> ma.fields.String:
    return ma.fields.String(
        allow_none=True, validate=[validate.Length(min=1, max=100), no_control_characters]
    )


class WorkEnvironmentAuthorityPutSchema(StrictSchema):
    notified_at = _moment("When Arbetsmiljöverket was notified")
    reference = _reference()


class WorkInjuryReportPutSchema(StrictSchema):
    filed_at = _moment("When the work-injury report was filed with Försäkringskassan")
    reference = _reference()


class AuthorityReportPutSchema(StrictSchema):
    """Only the fields sent change; null clears one."""

    serious = ma.fields.Boolean(
        truthy={True},
        falsy={False},
        allow_none=True,
        metadata={"description": "The manager's assessment; null goes back to the proposal"},
    )
    work_environment_authority = ma.fields.Nested(WorkEnvironmentAuthorityPutSchema)
    work_injury_report = ma.fields.Nested(WorkInjuryReportPutSchema)
    safety_representative_informed_at = _moment("When the skyddsombud was informed")
    investigation_done_at = _moment("When the employer's own investigation was done")


class WorkEnvironmentAuthoritySchema(ma.Schema):
    due = ma.fields.Boolean(metadata={"description": "The incident is serious"})
    due_at = ma.fields.AwareDateTime(allow_none=True)
    notified_at = ma.fields.AwareDateTime(allow_none=True)
    reference = ma.fields.String(allow_none=True)
    overdue = ma.fields.Boolean()


class WorkInjuryReportSchema(ma.Schema):
    due = ma.fields.Boolean(metadata={"description": "The employee was injured or on sick leave"})
    filed_at = ma.fields.AwareDateTime(allow_none=True)
    reference = ma.fields.String(allow_none=True)


class AuthorityReportSchema(ma.Schema):
    serious = ma.fields.Boolean(
        metadata={"description": "The manager's assessment if given, else the proposal"}
    )
    serious_proposed = ma.fields.Boolean(
        metadata={"description": "By rule: a violence form, or a death threat"}
    )
    serious_decided_by_manager = ma.fields.Boolean()
    work_environment_authority = ma.fields.Nested(WorkEnvironmentAuthoritySchema)
    work_injury_report = ma.fields.Nested(WorkInjuryReportSchema)
    safety_representative_informed_at = ma.fields.AwareDateTime(allow_none=True)
    investigation_done_at = ma.fields.AwareDateTime(allow_none=True)
