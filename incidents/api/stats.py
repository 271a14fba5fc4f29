"""/api/v1/stats — statistics for managers, hr and statistics readers about the units they
reach."""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from werkzeug.routing import BaseConverter

from incidents import auth
from incidents.access import STATISTICS_ROLES
from incidents.api.base import ApiView, Blueprint, authenticated, documents_errors
from incidents.schemas.stats import (
    ChartQuerySchema,
    IncidentStatsQuerySchema,
    PoliceStatsQuerySchema,
    StatsTableSchema,
    SupportStatsQuerySchema,
)
from incidents.stats import charts, export
from incidents.stats.incidents import incident_table
from incidents.stats.police import police_table
from incidents.stats.support import support_table

blp = Blueprint("stats", __name__, description="Statistics (disclosure-controlled)")

CSV = "text/csv"
XLSX = export.XLSX
PNG = "image/png"
# A file's body for the OpenAPI description: bytes, so that a generated client hands them over
# as they came rather than parsing them as JSON.
BINARY = {"type": "string", "format": "binary"}
FILE_MEDIA_TYPES = {"csv": CSV, "xlsx": XLSX}


def formats(schema: str) -> dict:
    """The 200 answer of a negotiated route in its three formats (``format=json|csv|xlsx``),
    for the OpenAPI description. Generated clients keep only the JSON: for a file they use the
    route of its own that ``file_routes`` adds beside it."""
    return {
        "200": {
            "description": "JSON by default; format=csv or format=xlsx for a file (or the "
                           "routes ending in .csv and .xlsx)",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                CSV: {"schema": BINARY},
                XLSX: {"schema": BINARY},
            },
        }
    }


def file_body(media_type: str, description: str) -> dict:
    """The 200 answer of a route that gives one kind of file, for the OpenAPI description."""
    return {"200": {"description": description, "content": {media_type: {"schema": BINARY}}}}


def without_format(schema: type[ma.Schema]) -> type[ma.Schema]:
    """``schema`` without its ``format`` parameter: the route names the format."""
    meta = type("Meta", (schema.Meta,), {"exclude": ("format",)})
    return type(schema.__name__.replace("Schema", "FileSchema"), (schema,), {"Meta": meta})


def file_routes(blp, rule: str, name: str, query: type[ma.Schema], make, *, roles=(),
                errors=(403, 404, 422), summary: str) -> None:
    """Beside the negotiated route ``rule`` (``?format=csv``), one route per file format,
    ``rule.csv`` and ``rule.xlsx``, with the same query parameters but ``format``: one
    operation per kind of answer, which is what generated clients can use. ``make(args,
    **path)`` answers the negotiated route's request with ``args["format"]`` set; the view
    class is ``name`` + Csv or Xlsx (its endpoint, and so its operationId in api.contract)."""
    for fmt, media_type in FILE_MEDIA_TYPES.items():
        def get(self, args, _fmt=fmt, **path):
            return make({**args, "format": _fmt}, **path)

        get.__doc__ = f"{summary} as {fmt.upper()}"
        get = blp.doc(responses=file_body(media_type, f"The {fmt.upper()} file"))(get)
        get = blp.arguments(without_format(query), location="query")(get)
        get = documents_errors(blp, *errors)(get)
        get = authenticated(blp, *roles)(get)
        view = type(f"{name}{fmt.title()}", (ApiView,), {"get": get, "__module__": __name__})
        blp.route(f"{rule}.{fmt}")(view)


def respond(table, args):
    if args["format"] == "csv":
        return export.csv_response(table, args["lang"])
    if args["format"] == "xlsx":
        return export.xlsx_response(table, args["lang"])
    return export.json_body(table, args["lang"])


@blp.route("/stats/incidents")
class IncidentStats(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(IncidentStatsQuerySchema, location="query")
    @blp.response(200, StatsTableSchema)
    @blp.doc(responses=formats("StatsTable"))
    def get(self, args):
        """Incidents by form, unit, month, tertial, year, location, perpetrator, anonymous

        Counts and rates per 100 employees; counts from 1 to 4 suppressed. An incident with
        several forms counts once under each form in rows by category, once in the totals."""
        return respond(incident_table(auth.current_user(), args), args)


@blp.route("/stats/police")
class PoliceStats(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(PoliceStatsQuerySchema, location="query")
    @blp.response(200, StatsTableSchema)
    @blp.doc(responses=formats("StatsTable"))
    def get(self, args):
        """Police reports per form and unit: flagged, decided, reported, filed, outcomes

        With the police dark figure (flagged_not_reported) and the median days from incident
        to filing. Counts from 1 to 4 suppressed, each column on its own."""
        return respond(police_table(auth.current_user(), args), args)


class ChartNameConverter(BaseConverter):
    """A chart's name in a path. Any segment matches, so that an unknown name gets the view's
    404 naming the charts there are; the OpenAPI description lists the names (an enum)."""


def chart_name_schema(converter: BaseConverter) -> dict:
    return {"type": "string", "enum": list(charts.NAMES)}


CHART_NAME = "<chart_name:name>"
# Before the routes that use it are added (deferred functions run in the order recorded).
blp.record_once(
    lambda state: state.app.url_map.converters.setdefault("chart_name", ChartNameConverter))


@blp.route(f"/stats/charts/{CHART_NAME}.png")
class Chart(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(ChartQuerySchema, location="query")
    @blp.doc(responses=file_body(PNG, "A PNG image"))
    def get(self, args, name):
        """A chart: incidents-by-form or police-reported-share, with the same filters"""
        image = charts.render(name, auth.current_user(), args)
        return Response(image, mimetype=PNG)


@blp.route("/stats/support")
class SupportStats(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(SupportStatsQuerySchema, location="query")
    @blp.response(200, StatsTableSchema)
    @blp.doc(responses=formats("StatsTable"))
    def get(self, args):
        """Support offered, accepted and delivered (also per type), evaluations, timeliness"""
        return respond(support_table(auth.current_user(), args), args)


def _stats_file(table):
    def make(args):
        return respond(table(auth.current_user(), args), args)

    return make


for _rule, _name, _query, _table, _summary in (
    ("/stats/incidents", "IncidentStats", IncidentStatsQuerySchema, incident_table,
     "Incident statistics"),
    ("/stats/police", "PoliceStats", PoliceStatsQuerySchema, police_table,
     "Police report statistics"),
    ("/stats/support", "SupportStats", SupportStatsQuerySchema, support_table,
     "Support statistics"),
):
    file_routes(blp, _rule, _name, _query, _stats_file(_table), roles=STATISTICS_ROLES,
                summary=_summary)
