"""/api/v1/workshops — workshops on unauthorised influence, their ratings, tallies and
summaries."""

from __future__ import annotations

from incidents import access, auth
from incidents.api.base import (
    ApiView,
    Blueprint,
    UnlinkableView,
    access_before_body,
    authenticated,
    documents_errors,
)
from incidents.domain import REPORTING_ROLES, Role
from incidents.schemas.workshops import (
    WorkshopCreateSchema,
    WorkshopPageSchema,
    WorkshopQuerySchema,
    WorkshopRatingCreateSchema,
    WorkshopRatingReceiptSchema,
    WorkshopSchema,
    WorkshopsOverTimeQuerySchema,
    WorkshopsOverTimeSchema,
    WorkshopSummarySchema,
    WorkshopTallyCreateSchema,
    WorkshopTallySchema,
)
from incidents.services import workshops
from incidents.stats import workshops as summaries

blp = Blueprint("workshops", __name__, description="Workshops and their ratings")


@blp.route("/workshops")
class Workshops(ApiView):
    @authenticated(blp, Role.HR)
    @blp.arguments(WorkshopQuerySchema, location="query")
    @blp.response(200, WorkshopPageSchema)
    def get(self, args):
        """Workshops with their rating counts, latest held first (keyset pagination; hr)"""
        page = workshops.list_workshops(auth.current_user(), args)
        return {"items": page.items, "next_cursor": page.next_cursor}

    @authenticated(blp, Role.HR)
    @documents_errors(blp, 400, 415)
    @blp.arguments(WorkshopCreateSchema)
    @blp.response(201, WorkshopSchema)
    def post(self, data):
        """Set up a workshop for some units, sub-units included, with its rating window (hr)"""
        return workshops.create_workshop(auth.current_user(), data), 201


@blp.route("/workshops/summary")
class WorkshopsOverTime(ApiView):
    @authenticated(blp, Role.HR, Role.STATISTICS_READER)
    @blp.arguments(WorkshopsOverTimeQuerySchema, location="query")
    @blp.response(200, WorkshopsOverTimeSchema)
    def get(self, args):
        """The workshops held in a period side by side, in the order held, with a total row;
        small counts suppressed (hr; statistics readers reaching every unit of it)"""
        return summaries.workshops_over_time(
            args["from"], args["to"], access.workshop_scope(auth.current_user(), summaries=True))


@blp.route("/workshops/<int:workshop_id>")
class WorkshopById(ApiView):
    @authenticated(blp, Role.HR)
    @documents_errors(blp, 404)
    @blp.response(200, WorkshopSchema)
    def get(self, workshop_id):
        """One workshop with its rating counts (hr)"""
        return workshops.read_workshop(auth.current_user(), workshop_id)


@blp.route("/workshops/<int:workshop_id>/ratings")
class WorkshopRatings(UnlinkableView):
    """A rating keeps no Idempotency-Key; a retry gets 409, the rating being in already."""

    @authenticated(blp, *sorted(REPORTING_ROLES))
    @documents_errors(blp, 400, 404, 409, 415)
    @access_before_body(workshops.workshop_to_rate)
    @blp.arguments(WorkshopRatingCreateSchema)
    @blp.response(201, WorkshopRatingReceiptSchema)
    def post(self, data, workshop_id):
        """Rate a workshop, once, while its rating window is open (employees of the units
        taking part). The rating is stored without your identity; no one can read back what
        you rated"""
        return workshops.rate(auth.current_user(), workshop_id, data), 201


@blp.route("/workshops/<int:workshop_id>/ratings/tally")
class WorkshopTallies(ApiView):
    @authenticated(blp, Role.HR)
    @documents_errors(blp, 400, 404, 415)
    @blp.arguments(WorkshopTallyCreateSchema)
    @blp.response(201, WorkshopTallySchema)
    def post(self, data, workshop_id):
        """Add ratings collected on paper or in a polling tool, as counts per scale value; each
        tally adds to the ratings (hr, audited)"""
        return workshops.add_tally(auth.current_user(), workshop_id, data), 201


@blp.route("/workshops/<int:workshop_id>/summary")
class WorkshopSummary(ApiView):
    @authenticated(blp, Role.HR, Role.STATISTICS_READER)
    @documents_errors(blp, 404)
    @blp.response(200, WorkshopSummarySchema)
    def get(self, workshop_id):
        """A workshop's ratings: n, response rate, distribution, the city's groups, mean,
        median and usefulness; small counts suppressed (hr; a statistics reader reaching
        every unit of it)"""
        workshops.workshop_for(auth.current_user(), workshop_id, summaries=True)
        return summaries.workshop_summary(workshop_id)
