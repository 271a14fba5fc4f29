"""/api/v1/audit — the audit trail, read-only. Every signed-in user lists the entries they may
see (access.audit_scope): hr those of the cases and units it reaches, an admin the
administrative ones, the exposed employee those about the parts of their case they may read."""

from __future__ import annotations

from incidents import auth
from incidents.api.base import ApiView, Blueprint, authenticated
from incidents.schemas.incidents import AuditEntrySchema, AuditQuerySchema
from incidents.services import audit

blp = Blueprint("audit", __name__, url_prefix="/audit", description="Audit trail (read-only)")


@blp.route("")
class AuditTrail(ApiView):
    @authenticated(blp)
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditEntrySchema(many=True))
    def get(self, args):
        """Audit entries you may see, in order, optionally for one incident; page with after_id"""
        return audit.entries(auth.current_user(), args.get("incident_id"), args.get("after_id"),
                             args["limit"])
