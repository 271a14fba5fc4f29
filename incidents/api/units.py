"""/api/v1/units — the organisation tree. Everyone signed in can read it (to pick a unit when
reporting); only admins change it."""

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
from incidents.schemas.organisation import (
    HeadcountPutSchema,
    HeadcountSchema,
    UnitCreateSchema,
    UnitSchema,
    UnitUpdateSchema,
)
from incidents.services import organisation

blp = Blueprint("units", __name__, url_prefix="/units", description="Organisation tree")


@blp.route("")
class Units(ApiView):
    @authenticated(blp)
    @blp.response(200, UnitSchema(many=True))
    def get(self):
        """List all units"""
        return organisation.list_units()

    @authenticated(blp, Role.ADMIN)
    @documents_errors(blp, 400, 415)
    @blp.arguments(UnitCreateSchema)
    @blp.response(201, UnitSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def post(self, data):
        """Create a unit"""
        unit = organisation.create_unit(data)
        return unit, 201, {"ETag": etag_of(unit), "Location": f"/api/v1/units/{unit.id}"}


@blp.route("/<int:unit_id>")
class UnitById(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 404)
    @blp.response(200, UnitSchema)
    def get(self, unit_id):
        """Read a unit"""
        unit = organisation.get_unit(unit_id)
        return unit, 200, {"ETag": etag_of(unit)}

    @authenticated(blp, Role.ADMIN)
    @documents_errors(blp, 400, 404, 409, 412, 415, 428)
    @blp.arguments(UnitUpdateSchema)
    @blp.response(200, UnitSchema)
    def patch(self, data, unit_id):
        """Rename, re-kind or move a unit (If-Match required; a move that makes a cycle is 409)"""
        unit = organisation.get_unit(unit_id)
        require_if_match(unit)
        unit = organisation.update_unit(unit, data)
        return unit, 200, {"ETag": etag_of(unit)}

    @authenticated(blp, Role.ADMIN)
    @documents_errors(blp, 404, 409)
    @blp.response(204)
    def delete(self, unit_id):
        """Delete a unit that has no incidents, users, leaders or sub-units"""
        organisation.delete_unit(organisation.get_unit(unit_id))


@blp.route("/<int:unit_id>/headcounts/<int:year>")
class UnitHeadcount(ApiView):
    @authenticated(blp, Role.ADMIN, Role.HR)
    @documents_errors(blp, 400, 404, 415)
    @blp.arguments(HeadcountPutSchema)
    @blp.response(200, HeadcountSchema)
    @blp.alt_response(201, schema=HeadcountSchema, success=True)
    def put(self, data, unit_id, year):
        """Set the number of employees of a unit in a year (denominator for rates)"""
        unit = organisation.get_unit(unit_id)
        headcount, created = organisation.set_headcount(unit, year, data["count"])
        return headcount, 201 if created else 200
