"""/api/v1/summaries — tertial, monthly and workshop summaries, made by the scheduler or on
demand by hr, with their files."""

from __future__ import annotations

from flask import Response

from incidents import auth
from incidents.access import STATISTICS_ROLES
from incidents.api.base import ApiView, Blueprint, authenticated, documents_errors
from incidents.api.stats import (
    BINARY,
    CHART_NAME,
    CSV,
    PNG,
    XLSX,
    ChartNameConverter,
    file_body,
)
from incidents.domain import Role, SummaryKind
from incidents.errors import field_error
from incidents.schemas.summaries import (
    ChartQuerySchema,
    SummaryCreateSchema,
    SummaryCsvQuerySchema,
    SummaryListQuerySchema,
    SummaryReadQuerySchema,
    SummaryRunSchema,
    SummarySchema,
    SummaryWithContentSchema,
    SummaryXlsxQuerySchema,
)
from incidents.services import summaries

blp = Blueprint("summaries", __name__, description="Summaries made on a schedule or on demand")
blp.record_once(
    lambda state: state.app.url_map.converters.setdefault("chart_name", ChartNameConverter))

FILE_FORMATS = {
    "200": {
        "description": "JSON by default; format=csv (one table) or format=xlsx (all tables), "
                       "or the routes ending in .csv and .xlsx",
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/SummaryWithContent"}
            },
            CSV: {"schema": BINARY},
            XLSX: {"schema": BINARY},
        },
    }
}


def _download(summary, name: str) -> Response:
    stored = summaries.file_of(summary, name)
    disposition = "inline" if stored.media_type == "image/png" else "attachment"
    filename = f"{summary.kind}_{summary.period}_{summary.scope.replace(':', '-')}_{name}"
    return Response(stored.content, mimetype=stored.media_type,
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"'})


@blp.route("/summaries")
class Summaries(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 422)
    @blp.arguments(SummaryListQuerySchema, location="query")
    @blp.response(200, SummarySchema(many=True))
    def get(self, args):
        """Summaries, latest period first: hr sees all; a manager those of the units they lead
        and the units below them"""
        return summaries.list_summaries(auth.current_user(), args)

    @authenticated(blp, Role.HR)
    @documents_errors(blp, 400, 409, 415, 422)
    @blp.arguments(SummaryCreateSchema)
    @blp.response(200, SummaryRunSchema)
    @blp.alt_response(201, schema=SummaryRunSchema, success=True)
    def post(self, data):
        """Make the tertial or monthly summaries of an ended period now (hr). Each
        organisation and förvaltning (or the units given) gets one; one that exists is returned
        under `existing` unchanged. 201 if any was made, else 200"""
        run = summaries.request(auth.current_user(), data)
        body = {"created": run.created, "existing": run.existing}
        return body, 201 if run.created else 200


@blp.route("/summaries/<int:summary_id>")
class SummaryById(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 404, 422)
    @blp.arguments(SummaryReadQuerySchema, location="query")
    @blp.response(200, SummaryWithContentSchema)
    @blp.doc(responses=FILE_FORMATS)
    def get(self, args, summary_id):
        """One summary: its tables as JSON (format=json, lang=sv|en), one table as CSV
        (format=csv&table=incidents|police|support|dark-figure) or the workbook (format=xlsx)"""
        summary = summaries.read(auth.current_user(), summary_id)
        if args["format"] == "json":
            return summaries.in_language(summary, args["lang"])
        return _file(summary, args)


def _file(summary, args) -> Response:
    if summary.kind == SummaryKind.WORKSHOP.value:
        raise field_error("format", "a workshop summary is JSON only")
    if args["format"] == "xlsx":
        return _download(summary, f"summary.{args['lang']}.xlsx")
    return _download(summary, f"{args['table']}.{args['lang']}.csv")


@blp.route("/summaries/<int:summary_id>.csv")
class SummaryCsv(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 404, 422)
    @blp.arguments(SummaryCsvQuerySchema, location="query")
    @blp.doc(responses=file_body(CSV, "The table as CSV"))
    def get(self, args, summary_id):
        """One table of a summary as CSV (a workshop summary is JSON only: 422)"""
        summary = summaries.read(auth.current_user(), summary_id)
        return _file(summary, {**args, "format": "csv"})


@blp.route("/summaries/<int:summary_id>.xlsx")
class SummaryXlsx(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 404, 422)
    @blp.arguments(SummaryXlsxQuerySchema, location="query")
    @blp.doc(responses=file_body(XLSX, "The workbook"))
    def get(self, args, summary_id):
        """Every table of a summary as one workbook (a workshop summary is JSON only: 422)"""
        summary = summaries.read(auth.current_user(), summary_id)
        return _file(summary, {**args, "format": "xlsx"})


@blp.route(f"/summaries/<int:summary_id>/charts/{CHART_NAME}.png")
class SummaryChart(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 404, 422)
    @blp.arguments(ChartQuerySchema, location="query")
    @blp.doc(responses=file_body(PNG, "The chart as it was drawn when the summary was made"))
    def get(self, args, summary_id, name):
        """A chart of a summary: incidents-by-form or police-reported-share"""
        summary = summaries.read(auth.current_user(), summary_id)
        return _download(summary, f"{name}.{args['lang']}.png")
