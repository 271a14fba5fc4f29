"""/api/v1/incidents/{id}/authority-reports — notifications to Arbetsmiljöverket and
Försäkringskassan, the safety representative and the employer's own investigation."""

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
from incidents.schemas.authority import AuthorityReportPutSchema, AuthorityReportSchema
from incidents.services import authority

blp = Blueprint(
    "authority", __name__, url_prefix=None, description="Reports of incidents to authorities"
)


@blp.route("/incidents/<int:incident_id>/authority-reports")
class AuthorityReportsResource(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, AuthorityReportSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, incident_id):
        """Read what is due to which authority and what has been done (case handlers; audited)"""
        state = authority.read_reports(auth.current_user(), incident_id)
        return state, 200, {"ETag": etag_of(state)}

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 412, 415, 428)
    @access_before_body(authority.reports_for_recording)
    @blp.arguments(AuthorityReportPutSchema)
    @blp.response(200, AuthorityReportSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def put(self, data, incident_id):
        """Change the fields sent (case handlers; If-Match required once recorded)"""
        user = auth.current_user()
        state = authority.reports_for_recording(user, incident_id)
        if state.report is not None or "If-Match" in request.headers:
            require_if_match(state)
        state = authority.record_reports(user, state, data)
        return state, 200, {"ETag": etag_of(state)}
