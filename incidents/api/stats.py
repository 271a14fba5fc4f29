"""/api/v1/stats — statistics for hr and for managers about the units they lead."""

from __future__ import annotations

from flask import Response

from incidents import auth
from incidents.api.base import ApiView, Blueprint, authenticated, documents_errors
from incidents.domain import Role
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

def formats(schema: str) -> dict:
    """The 200 answer in its three formats, for the OpenAPI description."""
    return {
        "200": {
            "description": "JSON by default; format=csv or format=xlsx for a file",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    }


def respond(table, args):
    if args["format"] == "csv":
        return export.csv_response(table, args["lang"])
    if args["format"] == "xlsx":
        return export.xlsx_response(table, args["lang"])
    return export.json_body(table, args["lang"])


@blp.route("/stats/incidents")
class IncidentStats(ApiView):
    @authenticated(blp, Role.HR, Role.MANAGER)
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
    @authenticated(blp, Role.HR, Role.MANAGER)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(PoliceStatsQuerySchema, location="query")
    @blp.response(200, StatsTableSchema)
    @blp.doc(responses=formats("StatsTable"))
    def get(self, args):
        """Police reports per form and unit: flagged, decided, reported, filed, outcomes

        With the police dark figure (flagged_not_reported) and the median days from incident
        to filing. Counts from 1 to 4 suppressed, each column on its own."""
        return respond(police_table(auth.current_user(), args), args)


@blp.route("/stats/charts/<string:name>.png")
class Chart(ApiView):
    @authenticated(blp, Role.HR, Role.MANAGER)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(ChartQuerySchema, location="query")
    @blp.doc(responses={"200": {"description": "A PNG image",
                                "content": {"image/png": {}}}})
    def get(self, args, name):
        """A chart: incidents-by-form or police-reported-share, with the same filters"""
        image = charts.render(name, auth.current_user(), args)
        return Response(image, mimetype="image/png")


@blp.route("/stats/support")
class SupportStats(ApiView):
    @authenticated(blp, Role.HR, Role.MANAGER)
    @documents_errors(blp, 403, 404, 422)
    @blp.arguments(SupportStatsQuerySchema, location="query")
    @blp.response(200, StatsTableSchema)
    @blp.doc(responses=formats("StatsTable"))
    def get(self, args):
        """Support offered, accepted and delivered (also per type), evaluations, timeliness"""
        return respond(support_table(auth.current_user(), args), args)
