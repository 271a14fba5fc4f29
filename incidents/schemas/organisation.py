from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from incidents.domain import UnitKind
from incidents.schemas.common import (
    ID_RANGE,
    StrictSchema,
    enum_field,
    enum_out,
    no_control_characters,
)


class HeadcountSchema(ma.Schema):
    year = ma.fields.Integer()
    count = ma.fields.Integer()


class UnitSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String()
    kind = enum_out(UnitKind)
    parent_id = ma.fields.Integer(allow_none=True)
    headcounts = ma.fields.List(ma.fields.Nested(HeadcountSchema), dump_only=True)
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


class UnitCreateSchema(StrictSchema):
    name = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), no_control_characters],
    )
    kind = enum_field(UnitKind, required=True)
    parent_id = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ID_RANGE
    )


class UnitUpdateSchema(StrictSchema):
    name = ma.fields.String(validate=[validate.Length(min=1, max=200), no_control_characters])
    kind = enum_field(UnitKind)
    parent_id = ma.fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)


class HeadcountPutSchema(StrictSchema):
    count = ma.fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=1_000_000)
    )


class HeadcountPathSchema(ma.Schema):
    year = ma.fields.Integer(validate=validate.Range(min=1990, max=2200))
