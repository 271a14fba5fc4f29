"""/api/v1/surveys, /api/v1/ia-counts and /api/v1/stats/dark-figure — the inputs of the dark
figure (mörkertal) and its three estimates."""

from __future__ import annotations

from incidents import auth
from incidents.access import STATISTICS_ROLES
from incidents.api.base import (
    ApiView,
    Blueprint,
    UnlinkableView,
    access_before_body,
    authenticated,
    documents_errors,
)
from incidents.api.stats import file_routes, formats
from incidents.domain import REPORTING_ROLES, Role
from incidents.schemas.surveys import (
    DarkFigureQuerySchema,
    DarkFigureSchema,
    IaCountPutSchema,
    IaCountQuerySchema,
    IaCountSchema,
    SurveyCreateSchema,
    SurveyResponseCreateSchema,
    SurveyResponseReceiptSchema,
    SurveySchema,
)
from incidents.services import dark_figure, surveys
from incidents.stats import export

blp = Blueprint(
    "surveys", __name__, description="Exposure surveys, IA counts and the dark figure"
)


@blp.route("/surveys")
class Surveys(ApiView):
    @authenticated(blp, Role.HR)
    @blp.response(200, SurveySchema(many=True))
    def get(self):
        """Exposure surveys with their response counts, latest closing first (hr)"""
        return surveys.list_surveys(auth.current_user())

    @authenticated(blp, Role.HR)
    @documents_errors(blp, 400, 415)
    @blp.arguments(SurveyCreateSchema)
    @blp.response(201, SurveySchema)
    def post(self, data):
        """Set up an anonymous exposure survey of some units, sub-units included (hr)"""
        return surveys.create_survey(auth.current_user(), data), 201


@blp.route("/surveys/<int:survey_id>")
class SurveyById(ApiView):
    @authenticated(blp, Role.HR)
    @documents_errors(blp, 404)
    @blp.response(200, SurveySchema)
    def get(self, survey_id):
        """One exposure survey with its response count (hr)"""
        return surveys.read_survey(auth.current_user(), survey_id)


@blp.route("/surveys/<int:survey_id>/responses")
class SurveyResponses(UnlinkableView):
    """An answer keeps no Idempotency-Key; a retry gets 409, the answer being in already."""

    @authenticated(blp, *sorted(REPORTING_ROLES))
    @documents_errors(blp, 400, 404, 409, 415)
    @access_before_body(surveys.survey_to_answer)
    @blp.arguments(SurveyResponseCreateSchema)
    @blp.response(201, SurveyResponseReceiptSchema)
    def post(self, data, survey_id):
        """Answer a survey, once, while it is open (employees of the units covered). The
        answers are stored without your identity; no one can read back what you answered"""
        return surveys.submit_response(auth.current_user(), survey_id, data["answers"]), 201


@blp.route("/ia-counts")
class IaCounts(ApiView):
    @authenticated(blp, Role.HR)
    @blp.arguments(IaCountQuerySchema, location="query")
    @blp.response(200, IaCountSchema(many=True))
    def get(self, args):
        """IA counts entered, for a unit and the units below it or for all (hr)"""
        return dark_figure.list_ia_counts(auth.current_user(), args.get("unit_id"))

    @authenticated(blp, Role.HR)
    @documents_errors(blp, 400, 409, 415)
    @blp.arguments(IaCountPutSchema)
    @blp.response(200, IaCountSchema)
    @blp.alt_response(201, schema=IaCountSchema, success=True)
    def put(self, data):
        """Enter how many incidents the city's general incident system (IA) holds for a unit
        and period; the same unit and period again replaces it (hr)"""
        count, created = dark_figure.put_ia_count(auth.current_user(), data)
        return count, 201 if created else 200


@blp.route("/stats/dark-figure")
class DarkFigure(ApiView):
    @authenticated(blp, *STATISTICS_ROLES)
    @documents_errors(blp, 404)
    @blp.arguments(DarkFigureQuerySchema, location="query")
    @blp.response(200, DarkFigureSchema)
    @blp.doc(responses=formats("DarkFigure"))
    def get(self, args):
        """The dark figure three ways — survey reporting rate, two registers (Chapman) and
        police — for a unit tree and period or a survey (hr; managers for the units they
        lead). Small counts are suppressed; hr may ask for unsuppressed=true (audited)"""
        return _dark_figure(args)


def _dark_figure(args):
    body = dark_figure.dark_figure(auth.current_user(), args)
    if args["format"] != "json":
        # One row per figure, with its interval and method; notes on the About sheet.
        return export.dark_figure_response(body, args["format"], args["lang"])
    return body


file_routes(blp, "/stats/dark-figure", "DarkFigure", DarkFigureQuerySchema, _dark_figure,
            roles=STATISTICS_ROLES, errors=(404,), summary="The dark figure")
