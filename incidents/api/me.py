"""/api/v1/me — who the token says you are, and what you may do."""

from __future__ import annotations

from incidents import auth
from incidents.api.base import ApiView, Blueprint, authenticated
from incidents.schemas.people import UserSchema

blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in user")


@blp.route("")
class Me(ApiView):
    @authenticated(blp)
    @blp.response(200, UserSchema)
    def get(self):
        """The signed-in user, their roles and the units they lead"""
        return auth.current_user()
