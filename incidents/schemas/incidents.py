from __future__ import annotations

from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate

from incidents.domain import (
    POLICE_WISH_QUESTION,
    AuditRecord,
    Category,
    Channel,
    IncidentStatus,
    Location,
    PerceivedPurpose,
    Perpetrator,
    PoliceFlag,
    PoliceWish,
    TargetedMatter,
)
from incidents.schemas.common import (
    ID_RANGE,
    MAX_ID,
    LabelSchema,
    QuerySchema,
    StrictSchema,
    UTCDateTime,
    day_in_range,
    enum_field,
    enum_out,
    free_text_characters,
    no_control_characters,
    strict_boolean,
)

EARLIEST_OCCURRENCE = datetime(2000, 1, 1, tzinfo=UTC)
DESCRIPTION_MAX = 10_000


def not_blank(value: str) -> None:
    """Text of only spaces and line breaks says nothing: refused like an empty one."""
    if not value.strip():
        raise ma.ValidationError("must contain text, not only spaces")


def _not_too_early(value: datetime) -> None:
    if value < EARLIEST_OCCURRENCE:
        raise ma.ValidationError("must be on or after 2000-01-01")


POLICE_WANTED_DESCRIPTION = (
    f'The reporter\'s answer to "{POLICE_WISH_QUESTION.en}" ({POLICE_WISH_QUESTION.sv}); null '
    "when not answered. Information for the police decision: it does not change police_flag."
)


def report_fields(required: bool) -> dict[str, ma.fields.Field]:
    """The fields a reporter fills in; required only when creating."""
    req = {"required": True} if required else {}
    opt_default = (lambda value: {"load_default": value}) if required else (lambda value: {})
    return {
        "category": enum_field(Category, **req),
        "additional_categories": ma.fields.List(
            enum_field(Category), validate=validate.Length(max=4), **opt_default(list)
        ),
        "subcategory": ma.fields.String(allow_none=True, validate=validate.Length(max=40)),
        "perceived_influence_purpose": enum_field(PerceivedPurpose, **req),
        "occurred_at": UTCDateTime(
            validate=_not_too_early,
            metadata={"description": "ISO 8601 with a UTC offset"},
            **req,
        ),
        "unit_id": ma.fields.Integer(strict=True, validate=ID_RANGE, **req),
        "description": ma.fields.String(
            validate=[
                validate.Length(min=1, max=DESCRIPTION_MAX),
                free_text_characters,
                not_blank,
            ],
            **req,
        ),
        "location": enum_field(Location, allow_none=True),
        "perpetrator": enum_field(Perpetrator, allow_none=True),
        "channel": enum_field(Channel, allow_none=True),
        "targeted_matter": enum_field(TargetedMatter, allow_none=True),
        "police_wanted": enum_field(
            PoliceWish,
            allow_none=True,
            metadata={"description": POLICE_WANTED_DESCRIPTION},
        ),
        "family_targeted": strict_boolean(**opt_default(False)),
        "injured": strict_boolean(**opt_default(False)),
        "sick_leave": strict_boolean(**opt_default(False)),
        "ia_reported": strict_boolean(**opt_default(False)),
        "ia_reference": ma.fields.String(
            allow_none=True, validate=[validate.Length(min=1, max=100), no_control_characters]
        ),
    }


IncidentCreateSchema = StrictSchema.from_dict(
    {
        **report_fields(required=True),
        "on_behalf_of": ma.fields.Integer(
            strict=True,
            validate=ID_RANGE,
            allow_none=True,
            load_default=None,
            metadata={"description": "The exposed colleague's user id, when reporting for them"},
        ),
    },
    name="IncidentCreate",
)

IncidentUpdateSchema = StrictSchema.from_dict(report_fields(required=False), name="IncidentUpdate")


class IncidentSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    reference = ma.fields.String(dump_only=True)
    status = ma.fields.String(
        dump_only=True, metadata={"enum": [s.value for s in IncidentStatus]}
    )
    police_flag = ma.fields.String(
        dump_only=True, metadata={"enum": [f.value for f in PoliceFlag]}
    )
    category = enum_out(Category)
    additional_categories = ma.fields.List(enum_out(Category))
    subcategory = ma.fields.String(allow_none=True)
    perceived_influence_purpose = enum_out(PerceivedPurpose)
    occurred_at = ma.fields.AwareDateTime()
    unit_id = ma.fields.Integer()
    description = ma.fields.String()
    location = enum_out(Location, allow_none=True)
    perpetrator = enum_out(Perpetrator, allow_none=True)
    channel = enum_out(Channel, allow_none=True)
    targeted_matter = enum_out(TargetedMatter, allow_none=True)
    police_wanted = ma.fields.String(
        allow_none=True,
        metadata={"enum": [w.value for w in PoliceWish], "description": POLICE_WANTED_DESCRIPTION},
    )
    family_targeted = ma.fields.Boolean()
    injured = ma.fields.Boolean()
    sick_leave = ma.fields.Boolean()
    ia_reported = ma.fields.Boolean()
    ia_reference = ma.fields.String(allow_none=True)
    acknowledged_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    closed_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    anonymous = ma.fields.Boolean(dump_only=True)
    reporter_id = ma.fields.Integer(
        dump_only=True, allow_none=True, metadata={"description": "null when anonymous"}
    )
    on_behalf_of = ma.fields.Integer(attribute="on_behalf_of_id", allow_none=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class CaseHandlerSchema(ma.Schema):
    name = ma.fields.String(dump_only=True, metadata={"description": "The person's name"})
    role = ma.fields.String(
        dump_only=True,
        metadata={"enum": ["manager", "hr"],
                  "description": "manager: leads the unit or the nearest unit above it that "
                                 "has a manager; hr: no manager at or above the unit can "
                                 "handle it"},
    )


class IncidentCreatedSchema(IncidentSchema):
    """The answer to a new report: the incident, and who will handle it (the receipt)."""

    case_handlers = ma.fields.List(
        ma.fields.Nested(CaseHandlerSchema), dump_only=True,
        metadata={"description": "Who is responsible for the report and was told of it: the "
                                 "managers of the nearest unit at or above its unit that has "
                                 "one, else the hr reaching the unit; never the reporter or "
                                 "the exposed employee. Empty only when nobody is"},
    )
    case_handlers_warning = ma.fields.String(
        dump_only=True, allow_none=True,
        metadata={"description": "null when someone handles the report; otherwise says that "
                                 "nobody is responsible yet (no manager at or above the unit "
                                 "and no hr reaching it). The report is stored all the same"},
    )


class UnansweredUnitSchema(ma.Schema):
    """A unit where nobody would be responsible for a report (GET /api/v1/units/unanswered)."""

    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(dump_only=True)
    parent_id = ma.fields.Integer(dump_only=True, allow_none=True)


class IncidentQuerySchema(QuerySchema):
    category = enum_field(Category)
    status = enum_field(IncidentStatus)
    unit_id = ma.fields.Integer(validate=ID_RANGE, metadata={"description": "Sub-units included"})
    occurred_from = ma.fields.Date(
        validate=day_in_range, metadata={"description": "First day, inclusive (local time)"}
    )
    occurred_to = ma.fields.Date(
        validate=day_in_range, metadata={"description": "Last day, inclusive (local time)"}
    )
    limit = ma.fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = ma.fields.String(
        validate=validate.Length(max=200),
        metadata={"description": "next_cursor of the previous page"},
    )

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if "occurred_from" in data and "occurred_to" in data:
            if data["occurred_from"] > data["occurred_to"]:
                raise ma.ValidationError("must not be before occurred_from", "occurred_to")


class IncidentPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(IncidentSchema))
    next_cursor = ma.fields.String(
        allow_none=True, metadata={"description": "Pass as cursor for the next page; null at end"}
    )


class SubcategorySchema(ma.Schema):
    code = ma.fields.String()
    label = ma.fields.Nested(LabelSchema)


class CategorySchema(ma.Schema):
    code = enum_out(Category)
    label = ma.fields.Nested(LabelSchema)
    description = ma.fields.Nested(LabelSchema)
    police_flag = enum_out(PoliceFlag)
    subcategories = ma.fields.List(ma.fields.Nested(SubcategorySchema))


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    incident_id = ma.fields.Integer(allow_none=True)
    outcome = ma.fields.String()
    detail = ma.fields.String(
        allow_none=True,
        metadata={"description": "What was done to which record (ids and field names), never "
                                 "a fact of the case"},
    )
    record = enum_out(
        AuditRecord, allow_none=True,
        metadata={"description": "Which kind of record was read or changed; null on entries "
                                 "written before it was recorded"},
    )
    unit_id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "For an entry naming no incident: the unit the record "
                                 "belongs to (null for settings and older entries)"},
    )
    request_id = ma.fields.String(
        allow_none=True,
        metadata={"description": "The request that wrote it (its X-Request-Id), to find its "
                                 "log lines; null outside a request and on the anonymous "
                                 "channel"},
    )


class AuditQuerySchema(QuerySchema):
    incident_id = ma.fields.Integer(validate=ID_RANGE)
    after_id = ma.fields.Integer(
        validate=validate.Range(min=0, max=MAX_ID),
        metadata={"description": "Return entries after this id"},
    )
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
