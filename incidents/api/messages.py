"""/api/v1/incidents/{id}/messages — the thread between the reporter and the case handlers."""

from __future__ import annotations

from incidents import auth
from incidents.api.base import (
    ApiView,
    Blueprint,
    access_before_body,
    authenticated,
    documents_errors,
)
from incidents.schemas.messaging import MessageCreateSchema, MessageSchema
from incidents.services import messages

blp = Blueprint("messages", __name__, description="Messages between reporter and case handlers")


@blp.route("/incidents/<int:incident_id>/messages")
class IncidentMessages(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, MessageSchema(many=True))
    def get(self, incident_id):
        """The thread, oldest first (case handlers and the reporter's side; audited)"""
        return messages.list_for_user(auth.current_user(), incident_id)

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 413, 415)
    @access_before_body(lambda user, incident_id: messages.participant(
        user, incident_id, "write a message"))
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, MessageSchema)
    def post(self, data, incident_id):
        """Write in the thread; the other side is told by mail (never the text itself)"""
        return messages.post_for_user(auth.current_user(), incident_id, data["body"]), 201
