"""One blueprint per resource, all under /api/v1."""

from __future__ import annotations

from incidents.api import (
    anonymous,
    audit,
    authority,
    case,
    incidents,
    me,
    messages,
    police,
    stats,
    summaries,
    surveys,
    units,
    users,
    workshops,
)

BLUEPRINTS = [
    incidents.blp,
    case.blp,
    messages.blp,
    anonymous.blp,
    police.blp,
    authority.blp,
    units.blp,
    users.blp,
    me.blp,
    audit.blp,
    stats.blp,
    surveys.blp,
    summaries.blp,
    workshops.blp,
]


def register(api) -> None:
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    api.spec.components.security_scheme(
        "receiptCode", {"type": "apiKey", "in": "header", "name": "X-Receipt-Code"}
    )
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
