from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from incidents.domain import Role
from incidents.schemas.common import (
    ID_RANGE,
    EmailAddress,
    QuerySchema,
    StrictSchema,
    enum_field,
    enum_out,
    no_control_characters,
    strict_boolean,
)


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    roles = ma.fields.List(enum_out(Role))
    unit_id = ma.fields.Integer(allow_none=True)
    leads_unit_ids = ma.fields.List(ma.fields.Integer())
    hr_unit_ids = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "The units the hr role is held for (each with everything below it)"})
    statistics_unit_ids = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "The units the statistics_reader role is held for"})
    admin_unit_ids = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "The units the admin role is held for"})
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime(dump_only=True)
    updated_at = ma.fields.AwareDateTime(dump_only=True)


def _unit_ids(**kwargs):
    return ma.fields.List(
        ma.fields.Integer(strict=True, validate=ID_RANGE), validate=validate.Length(max=500),
        **kwargs)


def _roles(**kwargs):
    return ma.fields.List(
        enum_field(Role), validate=validate.Length(min=1, max=len(Role)), **kwargs
    )


class UserCreateSchema(StrictSchema):
    email = EmailAddress(required=True, validate=validate.Length(max=254))
    name = ma.fields.String(
        required=True, validate=[validate.Length(min=1, max=200), no_control_characters]
    )
    roles = _roles(required=True)
    unit_id = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ID_RANGE
    )
    leads_unit_ids = _unit_ids(load_default=list)
    hr_unit_ids = _unit_ids(load_default=list)
    statistics_unit_ids = _unit_ids(load_default=list)
    admin_unit_ids = _unit_ids(load_default=list)
    active = strict_boolean(load_default=True)


class UserUpdateSchema(StrictSchema):
    email = EmailAddress(validate=validate.Length(max=254))
    name = ma.fields.String(validate=[validate.Length(min=1, max=200), no_control_characters])
    roles = _roles()
    unit_id = ma.fields.Integer(allow_none=True, strict=True, validate=ID_RANGE)
    leads_unit_ids = _unit_ids()
    hr_unit_ids = _unit_ids()
    statistics_unit_ids = _unit_ids()
    admin_unit_ids = _unit_ids()
    active = strict_boolean()


class UserQuerySchema(QuerySchema):
    active = ma.fields.Boolean()
