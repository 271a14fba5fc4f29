"""/api/v1/audit — the audit trail, read-only, for hr and admin."""

from __future__ import annotations

from incidents.api.base import ApiView, Blueprint, authenticated
from incidents.domain import Role
from incidents.schemas.incidents import AuditEntrySchema, AuditQuerySchema
from incidents.services import audit

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit trail (read-only)")


@blp.route("")
class AuditTrail(ApiView):
    @authenticated(blp, Role.HR, Role.ADMIN)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, args):
        """Audit entries in order, optionally for one incident; page with after_id"""
        return audit.entries(args.get("incident_id"), args.get("after_id"), args["limit"])
