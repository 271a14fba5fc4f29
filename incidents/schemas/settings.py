"""/api/v1/settings: the settings an administrator changes in the service. The fields and their
bounds come from the service's registry (services/settings.py ``REGISTRY``), so the API, the
page and the service check the same rule."""

from __future__ import annotations

import marshmallow as ma

from incidents.schemas.common import StrictSchema
from incidents.services import settings
from incidents.services.settings import REGISTRY, Definition, Invalid

# A setting's value in the document: a number of days or hours, or check-in offsets.
SETTING_VALUE = {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}}]}


class ChangedBySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class SettingSchema(ma.Schema):
    key = ma.fields.String(metadata={"description": "The environment variable it overrides."})
    label = ma.fields.String(attribute="definition.label")
    kind = ma.fields.String(
        attribute="definition.kind",
        metadata={"description": "days, hours, or offsets (a list like [\"1d\", \"1w\"])"})
    minimum = ma.fields.Integer(attribute="definition.minimum")
    maximum = ma.fields.Integer(attribute="definition.maximum", allow_none=True)
    optional = ma.fields.Boolean(
        attribute="definition.optional",
        metadata={"description": "Whether the value may be null: not set."})
    value = ma.fields.Raw(allow_none=True, metadata={
        "description": "The value in effect: a whole number, or for check-in offsets a list "
                       "such as [\"1d\", \"1w\"]; null for not set.", **SETTING_VALUE})
    environment_value = ma.fields.Raw(allow_none=True, metadata={
        "description": "The environment's value: the default.", **SETTING_VALUE})
    source = ma.fields.String(
        metadata={"description": "service: changed by an administrator; environment: the "
                                 "environment's value"})
    changed_by = ma.fields.Nested(ChangedBySchema, allow_none=True)
    changed_at = ma.fields.AwareDateTime(allow_none=True)


class SettingsSchema(ma.Schema):
    settings = ma.fields.List(ma.fields.Nested(SettingSchema), attribute="items")


def _validator(definition: Definition):
    """The registry's rule; the value in effect is always accepted (``settings.unchanged``)."""

    def validate(value):
        if settings.unchanged(definition.key, value):
            return
        try:
            definition.check(value)
        except Invalid as exc:
            raise ma.ValidationError(str(exc)) from exc

    return validate


def _field(key: str) -> ma.fields.Field:
    """A setting as a body field: its JSON type, and the registry's rule."""
    definition = REGISTRY[key]
    check = _validator(definition)
    if definition.kind == "offsets":
        return ma.fields.List(ma.fields.String(), validate=check,
                              metadata={"description": definition.label})
    return ma.fields.Integer(strict=True, allow_none=definition.optional, validate=check,
                             metadata={"description": definition.label})


class SettingsPatchSchema(StrictSchema):
    """Any of the settings, each to its new value; an unknown key is refused, naming it."""

    UNKNOWN = "Unknown setting."

    error_messages = {**StrictSchema.error_messages, "unknown": UNKNOWN}

    RETENTION_AFTER_CLOSE_DAYS = _field("RETENTION_AFTER_CLOSE_DAYS")
    ACKNOWLEDGE_WITHIN_HOURS = _field("ACKNOWLEDGE_WITHIN_HOURS")
    POLICE_DECISION_DAYS = _field("POLICE_DECISION_DAYS")
    AUTHORITY_NOTIFICATION_HOURS = _field("AUTHORITY_NOTIFICATION_HOURS")
    CHECK_IN_OFFSETS = _field("CHECK_IN_OFFSETS")
    MAIL_KEEP_SENT_DAYS = _field("MAIL_KEEP_SENT_DAYS")

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("name at least one setting to change", "settings")

    def handle_error(self, error, data, **kwargs):
        messages = error.messages if isinstance(error.messages, dict) else {}
        for key, found in messages.items():
            if found == [self.UNKNOWN]:
                messages[key] = [f"unknown setting; the settings are: {', '.join(REGISTRY)}"]
