"""One blueprint per resource, all under /api/v1."""

from __future__ import annotations

from http import HTTPStatus

from incidents.api import (
    anonymous,
    audit,
    authority,
    case,
    contract,
    health,
    incidents,
    me,
    messages,
    police,
    settings,
    stats,
    summaries,
    surveys,
    units,
    users,
    workshops,
)
from incidents.extensions import PROBLEM_JSON

BLUEPRINTS = [
    incidents.blp,
    case.blp,
    messages.blp,
    anonymous.blp,
    police.blp,
    authority.blp,
    units.blp,
    users.blp,
    settings.blp,
    me.blp,
    audit.blp,
    stats.blp,
    surveys.blp,
    summaries.blp,
    workshops.blp,
    health.blp,
]


def register(api) -> None:
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    api.spec.components.security_scheme(
        "receiptCode", {"type": "apiKey", "in": "header", "name": "X-Receipt-Code"}
    )
    _document_problem_json(api)
    contract.install(api)
    api.register_converter(stats.ChartNameConverter, stats.chart_name_schema)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")


def _document_problem_json(api) -> None:
    """Every error body is served as application/problem+json (extensions.problem_response);
    flask-smorest registers its error responses under application/json. Say what is sent."""
    errors = {status.name for status in HTTPStatus if status >= 400} | {"DEFAULT_ERROR"}
    components = api.spec.components
    for registry in (components.responses, components.responses_lazy):
        for name, response in registry.items():
            content = response.get("content") or {}
            if name in errors and "application/json" in content:
                content[PROBLEM_JSON] = content.pop("application/json")
