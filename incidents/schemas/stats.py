"""Query parameters shared by the statistics endpoints."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from dateutil.relativedelta import relativedelta
from marshmallow import validate

from incidents.clock import to_local, utcnow
from incidents.schemas.common import ID_RANGE, QueryList, QuerySchema, day_in_range
from incidents.stats.incidents import DIMENSIONS
from incidents.stats.measures import KEYS as MEASURE_KEYS

MAX_YEARS = 10


def _bool(**kwargs):
    return ma.fields.Boolean(truthy={"true", "1"}, falsy={"false", "0"}, **kwargs)


class StatsQuerySchema(QuerySchema):
    from_ = ma.fields.Date(
        data_key="from",
        validate=day_in_range,
        metadata={"description": "First day, inclusive (local time); default 1 January this year"},
    )
    to = ma.fields.Date(
        validate=day_in_range, metadata={"description": "Last day, inclusive; default today"}
    )
    unit_id = ma.fields.Integer(
        validate=ID_RANGE,
        metadata={"description": "The unit, sub-units included; default the top of your scope"},
    )
    unsuppressed = _bool(
        load_default=False,
        metadata={"description": "hr only: figures without disclosure control (audited)"},
    )
    format = ma.fields.String(
        load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"])
    )
    lang = ma.fields.String(load_default="en", validate=validate.OneOf(["sv", "en"]))

    @ma.post_load
    def _period(self, data, **kwargs):
        today = to_local(utcnow()).date()
        data["from"] = data.pop("from_", None) or date(today.year, 1, 1)
        data.setdefault("to", today)
        if data["from"] > data["to"]:
            raise ma.ValidationError("must not be before from", "to")
        if data["to"] >= data["from"] + relativedelta(years=MAX_YEARS):
            raise ma.ValidationError(f"a period may span at most {MAX_YEARS} years", "to")
        return data


class IncidentStatsQuerySchema(StatsQuerySchema):
    group_by = QueryList(
        ma.fields.String(validate=validate.OneOf(DIMENSIONS)),
        load_default=list,
        metadata={"description": "Repeated or comma-separated: " + ", ".join(DIMENSIONS)},
    )
    anonymous = _bool(
        allow_none=True,
        metadata={"description": "true: anonymous reports only; false: named only"},
    )


class PoliceStatsQuerySchema(StatsQuerySchema):
    group_by = QueryList(
        ma.fields.String(validate=validate.OneOf(MEASURE_KEYS)),
        load_default=lambda: ["category", "unit"],
        metadata={"description": "Repeated or comma-separated: " + ", ".join(MEASURE_KEYS)
                  + "; default category,unit"},
    )


class ChartQuerySchema(StatsQuerySchema):
    class Meta:
        exclude = ("format",)

    period = ma.fields.String(
        validate=validate.OneOf(["month", "tertial", "year"]),
        metadata={"description": "Bars per month, tertial or year; default month for up to "
                  "24 months, else tertial"},
    )


class SupportStatsQuerySchema(StatsQuerySchema):
    group_by = QueryList(
        ma.fields.String(validate=validate.OneOf(["unit", "month", "tertial", "year"])),
        load_default=list,
        metadata={"description": "Repeated or comma-separated: unit, month, tertial, year"},
    )


class StatsTableSchema(ma.Schema):
    """A statistics table as JSON (format=json); docs/statistics.md describes each column."""

    filters = ma.fields.Dict(metadata={"description": "The period, units and keys applied"})
    rows = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "One per combination of the keys: the keys, their labels, the counted "
        "values, and suppressed (true/false, or the list of hidden columns)"})
    totals = ma.fields.Dict()
    suppression = ma.fields.Dict(metadata={
        "description": "threshold, applied, suppressed_totals"})
    notes = ma.fields.List(ma.fields.String())
