"""/api/v1/settings (admin): the settings that belong to the organisation, changed in the
service (services/settings.py); the environment's value is the default."""

from __future__ import annotations

from incidents import auth
from incidents.access import ADMIN_ROLES
from incidents.api.base import (
    ApiView,
    Blueprint,
    access_before_body,
    authenticated,
    documents_errors,
    etag_of,
    require_if_match,
)
from incidents.schemas.settings import SettingsPatchSchema, SettingsSchema
from incidents.services import settings

blp = Blueprint("settings", __name__, url_prefix="/settings",
                description="Settings an administrator changes in the service (admin)")


@blp.route("")
class Settings(ApiView):
    @authenticated(blp, *ADMIN_ROLES)
    @blp.response(200, SettingsSchema)
    def get(self):
        """Read the settings in effect, where each comes from, and their bounds"""
        current = settings.effective()
        return current, 200, {"ETag": etag_of(current)}

    @authenticated(blp, *ADMIN_ROLES)
    @access_before_body(lambda user, **_: settings.require_deployment_admin(user))
    @documents_errors(blp, 400, 409, 412, 415, 428)
    @blp.arguments(SettingsPatchSchema)
    @blp.response(200, SettingsSchema)
    def patch(self, data):
        """Change settings (If-Match: the ETag read); each change is audited with old → new"""
        require_if_match(settings.effective())
        current = settings.change(auth.current_user(), data)
        return current, 200, {"ETag": etag_of(current)}


@blp.route("/<string:key>")
class SettingByKey(ApiView):
    @authenticated(blp, *ADMIN_ROLES)
    @access_before_body(lambda user, **_: settings.require_deployment_admin(user))
    @documents_errors(blp, 404)
    @blp.response(200, SettingsSchema)
    def delete(self, key):
        """Back to the environment's value (audited); the settings in effect afterwards"""
        current = settings.reset(auth.current_user(), key)
        return current, 200, {"ETag": etag_of(current)}
