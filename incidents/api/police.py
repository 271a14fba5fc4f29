"""/api/v1/incidents/{id}/police-report — the decision on, filing of and outcomes of a police
report (polisanmälan)."""

from __future__ import annotations

from flask import request

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
from incidents.schemas.police import PoliceReportPutSchema, PoliceReportSchema
from incidents.services import police

blp = Blueprint(
    "police", __name__, url_prefix=None, description="Police reports of incidents"
)


@blp.route("/incidents/<int:incident_id>/police-report")
class PoliceReportResource(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, PoliceReportSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, incident_id):
        """Read the police report (case handlers and the exposed employee; audited)"""
        state = police.read_report(auth.current_user(), incident_id)
        return state, 200, {"ETag": etag_of(state)}

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 412, 415, 428)
    @access_before_body(police.report_for_recording)
    @blp.arguments(PoliceReportPutSchema)
    @blp.response(200, PoliceReportSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def put(self, data, incident_id):
        """Record the decision and filing in full, and a new outcome (case handlers; If-Match
        required once the police report has been recorded)"""
        user = auth.current_user()
        state = police.report_for_recording(user, incident_id)
        if state.report is not None or "If-Match" in request.headers:
            require_if_match(state)
        state = police.record_report(user, state, data)
        return state, 200, {"ETag": etag_of(state)}
