"""/api/v1/incidents and /api/v1/categories — reporting and reading incidents."""

from __future__ import annotations

from flask import jsonify

from incidents import auth
from incidents.api.base import (
    ApiView,
    Blueprint,
    access_before_body,
    authenticated,
    documents_errors,
    etag_of,
    require_if_match,
)
from incidents.domain import (
    CATEGORY_DESCRIPTIONS,
    CATEGORY_LABELS,
    POLICE_FLAG_BY_CATEGORY,
    REPORTING_ROLES,
    SUBCATEGORIES,
    Category,
)
from incidents.schemas.incidents import (
    CategorySchema,
    IncidentCreatedSchema,
    IncidentCreateSchema,
    IncidentPageSchema,
    IncidentQuerySchema,
    IncidentSchema,
    IncidentUpdateSchema,
)
from incidents.schemas.plain import plain_dump
from incidents.services import notifications, reporting

blp = Blueprint("incidents", __name__, description="Incidents of unauthorised influence")
_dump_incidents = plain_dump(IncidentSchema())


@blp.route("/categories")
class Categories(ApiView):
    @blp.response(200, CategorySchema(many=True))
    def get(self):
        """BRÅ's five forms of unauthorised influence, with labels and sub-types (public)"""
        return [
            {
                "code": c.value,
                "label": CATEGORY_LABELS[c],
                "description": CATEGORY_DESCRIPTIONS[c],
                "police_flag": POLICE_FLAG_BY_CATEGORY[c].value,
                "subcategories": [
                    {"code": code, "label": label} for code, label in SUBCATEGORIES[c].items()
                ],
            }
            for c in Category
        ]


@blp.route("/incidents")
class Incidents(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 400)
    @blp.arguments(IncidentQuerySchema, location="query")
    @blp.response(200, IncidentPageSchema)
    def get(self, args):
        """Incidents in your scope, newest first (keyset pagination)"""
        page = reporting.list_incident_records(auth.current_user(), args)
        # The page's records dumped as IncidentPageSchema would, without its machinery
        # (schemas/plain.py): marshmallow was the most of a list's time.
        return jsonify({"items": _dump_incidents(page.items), "next_cursor": page.next_cursor})

    @authenticated(blp, *sorted(REPORTING_ROLES))
    @documents_errors(blp, 400, 413, 415)
    @blp.arguments(IncidentCreateSchema)
    @blp.response(201, IncidentCreatedSchema)
    @blp.doc(
        parameters=[
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "A retry with the same key returns the first response",
            }
        ]
    )
    def post(self, data):
        """Report an incident, for yourself or on behalf of a colleague; the answer names who
        will handle it (case_handlers)"""
        incident = reporting.report_incident(auth.current_user(), data)
        return notifications.receipt(incident), 201, {
            "ETag": etag_of(incident),
            "Location": f"/api/v1/incidents/{incident.id}",
        }


@blp.route("/incidents/<int:incident_id>")
class IncidentById(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 404)
    @blp.response(200, IncidentSchema)
    def get(self, incident_id):
        """Read one incident (audited; outside your scope it is 404)"""
        incident = reporting.read_incident(auth.current_user(), incident_id)
        return incident, 200, {"ETag": etag_of(incident)}

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 412, 415, 428)
    @access_before_body(reporting.find_for_correction)
    @blp.arguments(IncidentUpdateSchema)
    @blp.response(200, IncidentSchema)
    def patch(self, data, incident_id):
        """Correct your own report while it is still `reported` (If-Match required)"""
        user = auth.current_user()
        incident = reporting.find_for_correction(user, incident_id)
        require_if_match(incident)
        incident = reporting.update_incident(user, incident, data)
        return incident, 200, {"ETag": etag_of(incident)}
