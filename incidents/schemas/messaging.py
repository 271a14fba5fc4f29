"""Schemas for the message thread and the anonymous channel."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from incidents.domain import (
    MESSAGE_SENDER_LABELS,
    STATUS_LABELS,
    Category,
    IncidentStatus,
    MessageSender,
)
from incidents.schemas.common import StrictSchema, enum_out, free_text_characters
from incidents.schemas.incidents import report_fields

MESSAGE_MAX = 5_000


def _label(labels, enum):
    def label(value: str) -> dict[str, str]:
        found = labels[enum(value)]
        return {"sv": found.sv, "en": found.en}

    return label


_sender_label = _label(MESSAGE_SENDER_LABELS, MessageSender)
_status_label = _label(STATUS_LABELS, IncidentStatus)


class MessageCreateSchema(StrictSchema):
    body = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=MESSAGE_MAX), free_text_characters],
        metadata={"description": "Plain text; never put names you do not need to"},
    )

    @ma.validates("body")
    def _not_blank(self, value: str, **kwargs) -> None:
        if not value.strip():
            raise ma.ValidationError("must not be blank")


class AnonymousMessageSchema(ma.Schema):
    """A message as the anonymous reporter sees it: who wrote it by side, not by name."""

    id = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "null for the anonymous reporter's own message while it "
                                 "waits for the next full hour"},
    )
    sender = ma.fields.String(metadata={"enum": [s.value for s in MessageSender]})
    sender_label = ma.fields.Function(
        lambda m: _sender_label(m.sender), metadata={"description": "sv and en"}
    )
    body = ma.fields.String()
    sent_at = ma.fields.AwareDateTime(
        attribute="created_at",
        metadata={"description": "The reporter's own messages: the hour only"},
    )


class AnonymousThreadMessageSchema(AnonymousMessageSchema):
    """A message in the anonymous reporter's view of the thread, which also holds their own
    messages that wait for the next full hour."""

    published = ma.fields.Function(
        lambda m: getattr(m, "published", True),
        metadata={"type": "boolean",
                  "description": "false while the message waits for the next full hour; the "
                                 "case handlers see it from then on"},
    )
    reaches_case_handlers_at = ma.fields.Function(
        lambda m: _hour(getattr(m, "reaches_handlers_at", None)),
        metadata={"type": "string", "format": "date-time", "nullable": True,
                  "description": "When a waiting message reaches the case handlers; null once "
                                 "it has"},
    )


def _hour(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


class MessageSchema(AnonymousMessageSchema):
    author_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "null for an anonymous reporter"}
    )


_create_fields = report_fields(required=True)
# The fields of a report that cannot identify the reporter. Left out on purpose: who it was
# reported for, injury and sick leave (they name a person to the insurer), and the reference of
# a report in the general incident system (it may be signed there).
ANONYMOUS_FIELDS = (
    "category",
    "additional_categories",
    "subcategory",
    "perceived_influence_purpose",
    "occurred_at",
    "unit_id",
    "description",
    "location",
    "perpetrator",
    "channel",
    "targeted_matter",
    "police_wanted",
    "family_targeted",
)
IDENTIFYING_FIELDS = ("on_behalf_of", "injured", "sick_leave", "ia_reported", "ia_reference")


class _Refused(ma.fields.Raw):
    """A field of the named report that could identify an anonymous reporter: refused with a
    message that says why, instead of a bare "Unknown field"."""

    def _deserialize(self, value, attr, data, **kwargs):
        raise ma.ValidationError(
            "not accepted in an anonymous report: it could identify you. Report with your "
            "name (POST /api/v1/incidents) to give it."
        )


AnonymousReportCreateSchema = StrictSchema.from_dict(
    {
        **{name: _create_fields[name] for name in ANONYMOUS_FIELDS},
        **{
            name: _Refused(
                load_only=True,
                metadata={"description": "Refused (422): it could identify the reporter"},
            )
            for name in IDENTIFYING_FIELDS
        },
    },
    name="AnonymousReportCreate",
)


class AnonymousStatusChangeSchema(ma.Schema):
    status = enum_out(IncidentStatus, attribute="to_status")
    status_label = ma.fields.Function(lambda c: _status_label(c.to_status))
    at = ma.fields.AwareDateTime()


class AnonymousReportSchema(ma.Schema):
    """What the anonymous reporter sees of their report: its reference, form, unit and status —
    not the case handlers' follow-up."""

    reference = ma.fields.String(attribute="incident.reference")
    status = enum_out(IncidentStatus, attribute="incident.status")
    status_label = ma.fields.Function(lambda r: _status_label(r["incident"].status))
    category = enum_out(Category, attribute="incident.category")
    additional_categories = ma.fields.List(
        enum_out(Category), attribute="incident.additional_categories"
    )
    occurred_at = ma.fields.AwareDateTime(attribute="incident.occurred_at")
    unit_id = ma.fields.Integer(attribute="incident.unit_id")
    received_at = ma.fields.AwareDateTime(
        attribute="incident.created_at", metadata={"description": "The hour only"}
    )
    status_history = ma.fields.List(ma.fields.Nested(AnonymousStatusChangeSchema))
    published = ma.fields.Boolean(
        metadata={"description": "false while the report waits for the next full hour: "
                                 "anonymous reports reach the case handlers at the full hour"},
    )
    reaches_case_handlers_at = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When a waiting report reaches the case handlers (the full "
                                 "hour after it was received); null once it has"},
    )


class AnonymousReceiptSchema(AnonymousReportSchema):
    receipt_code = ma.fields.String(
        metadata={
            "description": "Shown this once and never again; keep it to read the status and "
            "the messages. Whoever holds it can read them."
        }
    )
