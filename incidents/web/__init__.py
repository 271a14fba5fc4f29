"""Server-rendered pages for people, mounted at ``/`` beside the JSON API (``/api/v1``).

Thin like the API: a view loads through a service and renders; on POST it validates with the
API's own schema, calls the same service and redirects (post/redirect/get). No rule, scope check
or audit call is written here (docs/architecture.md). Pages work without JavaScript and load
nothing from outside the service.
"""

from __future__ import annotations

from flask import Flask

from incidents.web import (
    admin,
    anonymous,
    casework,
    dev,
    employee,
    errors,
    handler,
    hr,
    i18n,
    participation,
    security,
    signin,
    statistics,
)
from incidents.web.identity import signed_in_user
from incidents.web.sessions import ServerSessionInterface


def register(app: Flask) -> None:
    app.session_interface = ServerSessionInterface()
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    app.jinja_env.globals["signed_in_user"] = signed_in_user
    app.register_blueprint(signin.blp)
    app.register_blueprint(employee.blp)
    app.register_blueprint(handler.blp)
    app.register_blueprint(casework.blp)
    app.jinja_env.globals["late_text"] = handler.late_text
    app.register_blueprint(admin.blp)
    app.register_blueprint(statistics.blp)
    app.register_blueprint(hr.blp)
    app.register_blueprint(participation.blp)
    app.register_blueprint(anonymous.blp)
    app.register_blueprint(i18n.blp)
    if app.config["DEV_SIGNIN"]:
        app.register_blueprint(dev.blp)
