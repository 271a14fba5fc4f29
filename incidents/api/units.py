"""/api/v1/units — the organisation tree. Everyone signed in can read their organisations' units
(to pick a unit when reporting); admins change the units they administer, a platform admin adds
organisations; hr and admins set head-counts of the units they reach."""

from __future__ import annotations

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
from incidents.auth import current_user
from incidents.domain import Role
from incidents.schemas.incidents import UnansweredUnitSchema
from incidents.schemas.organisation import (
    HeadcountPutSchema,
    HeadcountSchema,
    UnitCreateSchema,
    UnitSchema,
    UnitUpdateSchema,
)
from incidents.services import organisation, unanswered

blp = Blueprint("units", __name__, url_prefix="/units", description="Organisation tree")


@blp.route("")
class Units(ApiView):
    @authenticated(blp)
    @blp.response(200, UnitSchema(many=True))
    def get(self):
        """List the units of your organisations"""
        return organisation.list_units(current_user())

    @authenticated(blp, *ADMIN_ROLES)
    @documents_errors(blp, 400, 415)
    @blp.arguments(UnitCreateSchema)
    @blp.response(201, UnitSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def post(self, data):
        """Create a unit"""
        unit = organisation.create_unit(data, current_user())
        return unit, 201, {"ETag": etag_of(unit), "Location": f"/api/v1/units/{unit.id}"}


@blp.route("/unanswered")
class UnansweredUnits(ApiView):
    @authenticated(blp, *ADMIN_ROLES)
    @blp.response(200, UnansweredUnitSchema(many=True))
    def get(self):
        """Units where nobody would be responsible for a report: no active manager at or above
        them and no active hr reaching them (those you administer; all for a platform admin)"""
        return unanswered.units_for(current_user())


@blp.route("/<int:unit_id>")
class UnitById(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 404)
    @blp.response(200, UnitSchema)
    def get(self, unit_id):
        """Read a unit"""
        unit = organisation.get_unit(unit_id, current_user())
        return unit, 200, {"ETag": etag_of(unit)}

    @authenticated(blp, *ADMIN_ROLES)
    @access_before_body(lambda user, unit_id, **_: organisation.unit_to_administer(user, unit_id))
    @documents_errors(blp, 400, 404, 409, 412, 415, 428)
    @blp.arguments(UnitUpdateSchema)
    @blp.response(200, UnitSchema)
    def patch(self, data, unit_id):
        """Rename, re-kind or move a unit (If-Match required; a move that makes a cycle is 409)"""
        user = current_user()
        unit = organisation.unit_to_administer(user, unit_id)
        require_if_match(unit)
        unit = organisation.update_unit(unit, data, user)
        return unit, 200, {"ETag": etag_of(unit)}

    @authenticated(blp, *ADMIN_ROLES)
    @documents_errors(blp, 404, 409)
    @blp.response(204)
    def delete(self, unit_id):
        """Delete a unit that has no incidents, users, leaders, role holders or sub-units"""
        user = current_user()
        organisation.delete_unit(organisation.unit_to_administer(user, unit_id), user)


@blp.route("/<int:unit_id>/headcounts/<int:year>")
class UnitHeadcount(ApiView):
    @authenticated(blp, *ADMIN_ROLES, Role.HR)
    @access_before_body(
        lambda user, unit_id, **_: organisation.unit_for_headcount(user, unit_id))
    @documents_errors(blp, 400, 404, 415)
    @blp.arguments(HeadcountPutSchema)
    @blp.response(200, HeadcountSchema)
    @blp.alt_response(201, schema=HeadcountSchema, success=True)
    def put(self, data, unit_id, year):
        """Set the number of employees of a unit in a year (denominator for rates)"""
        user = current_user()
        unit = organisation.unit_for_headcount(user, unit_id)
        headcount, created = organisation.set_headcount(unit, year, data["count"], user)
        return headcount, 201 if created else 200
