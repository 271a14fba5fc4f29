"""Summaries made on a schedule or on demand, and their files."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from incidents.domain import SUMMARY_KIND_LABELS, SummaryKind, SummaryOrigin, values
from incidents.schemas.common import (
    ID_RANGE,
    LAST_DAY,
    REGISTER_START,
    QuerySchema,
    StrictSchema,
    enum_field,
)

PERIOD_KINDS = [SummaryKind.TERTIAL.value, SummaryKind.MONTHLY.value]
TABLES = ["incidents", "police", "support", "dark-figure"]


def _year_in_range(value: str) -> None:
    """The period's year (its form is checked where it is parsed) within the register's time:
    from 2000, as incidents (year 0, 1 or 9999 cannot even be turned into local moments)."""
    year = value[:4]
    if year.isdigit() and not REGISTER_START.year <= int(year) <= LAST_DAY.year:
        raise ma.ValidationError(
            f"the year must be from {REGISTER_START.year} to {LAST_DAY.year}")


class SummaryListQuerySchema(QuerySchema):
    kind = enum_field(SummaryKind)
    period = ma.fields.String(
        validate=[validate.Length(max=20),
                  validate.Regexp(r"\A[0-9]{4}-(T[1-3]|[0-9]{2}|[0-9]{2}-[0-9]{2})\Z",
                                  error="a tertial (2026-T2), a month (2026-05) or a "
                                        "workshop's date (2026-03-12)")],
        metadata={"description": "2026-T2, 2026-05, or a workshop's date",
                  "pattern": r"^[0-9]{4}-(T[1-3]|[0-9]{2}|[0-9]{2}-[0-9]{2})$"},
    )
    unit_id = ma.fields.Integer(
        validate=ID_RANGE, metadata={"description": "Summaries of this unit"}
    )
    limit = ma.fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class SummaryCreateSchema(StrictSchema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(PERIOD_KINDS))
    period = ma.fields.String(
        required=True,
        # The period as it is stored and looked up: nothing around it, or "2025-01\n" would
        # be a second summary of 2025-01.
        validate=[validate.Length(max=20),
                  validate.Regexp(r"\A\d{4}-(T[1-3]|\d{2})\Z",
                                  error="a tertial (2026-T2) or a month (2026-05)"),
                  _year_in_range],
        # The same rule written for OpenAPI's (ECMA-262) regular expressions, which have no
        # \A and \Z; Python's $ would also match before a final line break.
        metadata={"description": "A tertial (2026-T2) or a month (2026-05) that has ended",
                  "pattern": r"^\d{4}-(T[1-3]|\d{2})$"},
    )
    unit_ids = ma.fields.List(
        ma.fields.Integer(strict=True, validate=ID_RANGE),
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Default: every organisation and förvaltning"},
    )


class SummaryReadQuerySchema(QuerySchema):
    format = ma.fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))
    lang = ma.fields.String(load_default="en", validate=validate.OneOf(["sv", "en"]))
    table = ma.fields.String(
        load_default="incidents",
        validate=validate.OneOf(TABLES),
        metadata={"description": "Which table format=csv gives"},
    )


class SummaryCsvQuerySchema(QuerySchema):
    """GET /summaries/{id}.csv: one table of the summary as CSV."""

    lang = ma.fields.String(load_default="en", validate=validate.OneOf(["sv", "en"]))
    table = ma.fields.String(
        load_default="incidents",
        validate=validate.OneOf(TABLES),
        metadata={"description": "Which table"},
    )


class SummaryXlsxQuerySchema(QuerySchema):
    """GET /summaries/{id}.xlsx: the workbook of every table."""

    lang = ma.fields.String(load_default="en", validate=validate.OneOf(["sv", "en"]))


class ChartQuerySchema(QuerySchema):
    lang = ma.fields.String(load_default="en", validate=validate.OneOf(["sv", "en"]))


class SummaryFileSchema(ma.Schema):
    name = ma.fields.String()
    media_type = ma.fields.String()
    size = ma.fields.Integer()


class SummarySchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": values(SummaryKind)})
    kind_label = ma.fields.Method("_kind_label")
    period = ma.fields.String()
    scope = ma.fields.String(metadata={"description": "unit:<id> or workshop:<id>"})
    unit_id = ma.fields.Integer(allow_none=True)
    scope_name = ma.fields.String()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    origin = ma.fields.String(metadata={"enum": values(SummaryOrigin)})
    requested_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    files = ma.fields.List(ma.fields.Nested(SummaryFileSchema))
    links = ma.fields.Method("_links", metadata={
        "type": "object", "additionalProperties": {"type": "string"}, "required": ["self"],
        "description": "self; for a tertial or monthly summary also xlsx, csv and each chart"})

    def _kind_label(self, summary) -> dict[str, str]:
        label = SUMMARY_KIND_LABELS[SummaryKind(summary.kind)]
        return {"sv": label.sv, "en": label.en}

    def _links(self, summary) -> dict[str, str]:
        base = f"{current_app.config['PUBLIC_BASE_URL']}/api/v1/summaries/{summary.id}"
        links = {"self": base}
        if summary.kind != SummaryKind.WORKSHOP.value:
            links |= {"xlsx": f"{base}?format=xlsx", "csv": f"{base}?format=csv&table=incidents"}
            links |= {name[: -len(".en.png")]: f"{base}/charts/{name[: -len('.en.png')]}.png"
                      for name in (f.name for f in summary.files) if name.endswith(".en.png")}
        return links


class SummaryWithContentSchema(SummarySchema):
    content = ma.fields.Dict(
        metadata={"description": "The tables in the chosen language, as the statistics "
                  "endpoints give them; for a workshop, its summary"}
    )


class SummaryRunSchema(ma.Schema):
    created = ma.fields.List(ma.fields.Nested(SummarySchema))
    existing = ma.fields.List(ma.fields.Nested(SummarySchema))
