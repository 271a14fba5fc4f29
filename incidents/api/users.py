"""/api/v1/users (admin) and the roles and units of each person."""

from __future__ import annotations

from incidents.access import ADMIN_ROLES
from incidents.api.base import (
    ApiView,
    Blueprint,
    authenticated,
    documents_errors,
    etag_of,
    require_if_match,
)
from incidents.auth import current_user
from incidents.schemas.people import (
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from incidents.services import people

blp = Blueprint("users", __name__, url_prefix="/users",
                description="Users and roles (admins, within the organisations they administer)")


@blp.route("")
class Users(ApiView):
    @authenticated(blp, *ADMIN_ROLES)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args):
        """List users"""
        return people.list_users(current_user(), args.get("active"))

    @authenticated(blp, *ADMIN_ROLES)
    @documents_errors(blp, 400, 409, 415)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Register a user with roles, home unit and the units each role is held for"""
        user = people.create_user(data, current_user())
        return user, 201, {"ETag": etag_of(user), "Location": f"/api/v1/users/{user.id}"}


@blp.route("/<int:user_id>")
class UserById(ApiView):
    @authenticated(blp, *ADMIN_ROLES)
    @documents_errors(blp, 404)
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Read a user"""
        user = people.user_for(current_user(), user_id)
        return user, 200, {"ETag": etag_of(user)}

    @authenticated(blp, *ADMIN_ROLES)
    @documents_errors(blp, 400, 404, 409, 412, 415, 428)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a user; `active: false` deactivates them and keeps their history"""
        actor = current_user()
        user = people.user_for(actor, user_id)
        require_if_match(user)
        user = people.update_user(user, data, actor)
        return user, 200, {"ETag": etag_of(user)}
