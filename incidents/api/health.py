"""/api/v1/health — liveness and readiness, for load balancers, orchestrators and monitoring.

Open without a token; neither answer holds personal data. Liveness touches nothing but the
process; readiness reads the database (services/health.py).
"""

from __future__ import annotations

from flask import Response, json
from flask.views import MethodView

from incidents.api.base import Blueprint
from incidents.extensions import PROBLEM_JSON
from incidents.schemas.health import LivenessSchema, NotReadySchema, ReadinessSchema
from incidents.services import health

blp = Blueprint(
    "health", __name__, url_prefix="/health",
    description="Liveness and readiness of the service (no token, no personal data)",
)


@blp.route("/live")
class Live(MethodView):
    @blp.response(200, LivenessSchema)
    def get(self):
        """Alive: the process answers. Touches neither the database nor anything else, so a
        database outage never restarts the workers"""
        return {"alive": True}


@blp.route("/ready")
class Ready(MethodView):
    @blp.response(200, ReadinessSchema)
    @blp.alt_response(503, schema=NotReadySchema, content_type=PROBLEM_JSON,
                      description="Not ready: the failing checks named in detail")
    def get(self):
        """Ready: the database answers, its schema is at the migrations' head, and (with
        SCHEDULER_REQUIRED) the scheduler's heartbeat is fresh and its jobs on time"""
        state = health.readiness()
        if state.ready:
            return {"ready": True, "checks": state.checks}
        body = NotReadySchema().dump({
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "Not ready: " + ", ".join(
                f"{name} ({state.checks[name]['detail']})" for name in state.failing),
            "ready": False,
            "checks": state.checks,
        })
        return Response(json.dumps(body), status=503, mimetype=PROBLEM_JSON)
