"""/api/v1/users (admin) and the roles and units of each person."""

from __future__ import annotations

from incidents.api.base import (
    ApiView,
    Blueprint,
    authenticated,
    documents_errors,
    etag_of,
    require_if_match,
)
from incidents.domain import Role
from incidents.schemas.people import (
    UserCreateSchema,
    UserQuerySchema,
    UserSchema,
    UserUpdateSchema,
)
from incidents.services import people

blp = Blueprint("users", __name__, url_prefix="/users", description="Users and roles (admin)")


@blp.route("")
class Users(ApiView):
    @authenticated(blp, Role.ADMIN)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args):
        """List users"""
        return people.list_users(args.get("active"))

    @authenticated(blp, Role.ADMIN)
    @documents_errors(blp, 400, 409, 415)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Register a user with roles, home unit and the units they lead"""
        user = people.create_user(data)
        return user, 201, {"ETag": etag_of(user), "Location": f"/api/v1/users/{user.id}"}


@blp.route("/<int:user_id>")
class UserById(ApiView):
    @authenticated(blp, Role.ADMIN)
    @documents_errors(blp, 404)
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """Read a user"""
        user = people.get_user(user_id)
        return user, 200, {"ETag": etag_of(user)}

    @authenticated(blp, Role.ADMIN)
    @documents_errors(blp, 400, 404, 409, 412, 415, 428)
    @blp.arguments(UserUpdateSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Change a user; `active: false` deactivates them and keeps their history"""
        user = people.get_user(user_id)
        require_if_match(user)
        user = people.update_user(user, data)
        return user, 200, {"ETag": etag_of(user)}
