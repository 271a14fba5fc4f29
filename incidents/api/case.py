"""After the report: life cycle, follow-up, support, check-ins and the employee's evaluation."""

from __future__ import annotations

from incidents import auth
from incidents.api.base import (
    ApiView,
    Blueprint,
    access_before_body,
    authenticated,
    documents_errors,
    etag_of,
    require_if_match,
)
from incidents.clock import utcnow
from incidents.domain import AuditRecord, Role
from incidents.schemas.case import (
    CheckInCompleteSchema,
    CheckInSchema,
    FollowUpCreateSchema,
    FollowUpSchema,
    OverdueSchema,
    ReopenSchema,
    StatusChangeSchema,
    SupportDeclineInputSchema,
    SupportDeclineSchema,
    SupportEvaluationInputSchema,
    SupportEvaluationSchema,
    SupportMeasureCreateSchema,
    SupportMeasureSchema,
    SupportMeasureUpdateSchema,
)
from incidents.schemas.incidents import IncidentSchema
from incidents.services import case_access, lifecycle, support

blp = Blueprint("case", __name__, description="Follow-up and support after a report")

INCIDENT = "/incidents/<int:incident_id>"


def _incident_response(incident):
    return incident, 200, {"ETag": etag_of(incident)}


@blp.route(f"{INCIDENT}/acknowledge")
class Acknowledge(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404, 409)
    @blp.response(200, IncidentSchema)
    def post(self, incident_id):
        """Acknowledge a reported incident (manager of the unit or hr); schedules check-ins"""
        return _incident_response(lifecycle.acknowledge(auth.current_user(), incident_id))


@blp.route(f"{INCIDENT}/close")
class Close(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404, 409)
    @blp.response(200, IncidentSchema)
    def post(self, incident_id):
        """Close the case; 409 lists everything still missing"""
        return _incident_response(lifecycle.close(auth.current_user(), incident_id))


@blp.route(f"{INCIDENT}/reopen")
class Reopen(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 415)
    @access_before_body(lambda user, incident_id, **_: case_access.for_handler(
        user, incident_id, "reopen the incident", AuditRecord.STATUS))
    @blp.arguments(ReopenSchema)
    @blp.response(200, IncidentSchema)
    def post(self, data, incident_id):
        """Reopen a closed case, with a reason; it returns to in_follow_up"""
        return _incident_response(
            lifecycle.reopen(auth.current_user(), incident_id, data["reason"])
        )


@blp.route(f"{INCIDENT}/status-history")
class StatusHistory(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, StatusChangeSchema(many=True))
    def get(self, incident_id):
        """Every status change with who, when and why"""
        return lifecycle.status_history(auth.current_user(), incident_id)


@blp.route(f"{INCIDENT}/follow-ups")
class FollowUps(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, FollowUpSchema(many=True))
    def get(self, incident_id):
        """Follow-up entries in order (case handlers)"""
        return support.list_follow_ups(auth.current_user(), incident_id)

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 415)
    @access_before_body(lambda user, incident_id, **_: case_access.for_handler(
        user, incident_id, "document follow-up", AuditRecord.FOLLOW_UP))
    @blp.arguments(FollowUpCreateSchema)
    @blp.response(201, FollowUpSchema)
    def post(self, data, incident_id):
        """Document follow-up (append-only; correct an entry with a new one via corrects_id)"""
        entry = support.add_follow_up(auth.current_user(), incident_id, data)
        return {"entry": entry, "corrected_by": None}, 201


@blp.route(f"{INCIDENT}/support-measures")
class SupportMeasures(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, SupportMeasureSchema(many=True))
    def get(self, incident_id):
        """Support offered (case handlers and the exposed employee)"""
        return support.list_support_measures(auth.current_user(), incident_id)

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 415)
    @access_before_body(lambda user, incident_id, **_: case_access.for_handler(
        user, incident_id, "offer support", AuditRecord.SUPPORT))
    @blp.arguments(SupportMeasureCreateSchema)
    @blp.response(201, SupportMeasureSchema)
    def post(self, data, incident_id):
        """Record support offered to the exposed employee"""
        measure = support.add_support_measure(auth.current_user(), incident_id, data)
        return measure, 201, {"ETag": etag_of(measure)}


@blp.route(f"{INCIDENT}/support-measures/<int:measure_id>")
class SupportMeasureById(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, SupportMeasureSchema)
    def get(self, incident_id, measure_id):
        """One support measure, with the ETag a change needs"""
        measure = support.read_support_measure(auth.current_user(), incident_id, measure_id)
        return measure, 200, {"ETag": etag_of(measure)}

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 412, 415, 428)
    @access_before_body(support.get_support_measure)
    @blp.arguments(SupportMeasureUpdateSchema)
    @blp.response(200, SupportMeasureSchema)
    def patch(self, data, incident_id, measure_id):
        """Record acceptance, delivery or a correction (If-Match required)"""
        user = auth.current_user()
        measure = support.get_support_measure(user, incident_id, measure_id)
        require_if_match(measure)
        measure = support.update_support_measure(user, measure, data)
        return measure, 200, {"ETag": etag_of(measure)}


@blp.route(f"{INCIDENT}/support-declined")
class SupportDeclined(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, SupportDeclineSchema)
    def get(self, incident_id):
        """Whether the employee declined all support (404 if not recorded)"""
        return support.get_support_declined(auth.current_user(), incident_id)

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 415)
    @access_before_body(lambda user, incident_id, **_: case_access.for_handler(
        user, incident_id, "record that support was declined", AuditRecord.SUPPORT))
    @blp.arguments(SupportDeclineInputSchema)
    @blp.response(201, SupportDeclineSchema)
    def put(self, data, incident_id):
        """Record, once, that the employee declined support (support is voluntary)"""
        return support.record_support_declined(auth.current_user(), incident_id, data), 201


@blp.route(f"{INCIDENT}/check-ins")
class CheckIns(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, CheckInSchema(many=True))
    def get(self, incident_id):
        """Scheduled check-ins with the exposed employee"""
        return support.list_check_ins(auth.current_user(), incident_id)


@blp.route(f"{INCIDENT}/check-ins/<int:check_in_id>/complete")
class CompleteCheckIn(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 415)
    @access_before_body(lambda user, incident_id, **_: case_access.for_handler(
        user, incident_id, "complete a check-in", AuditRecord.CHECK_IN))
    @blp.arguments(CheckInCompleteSchema)
    @blp.response(200, CheckInSchema)
    def post(self, data, incident_id, check_in_id):
        """Mark a check-in done, with a note"""
        return support.complete_check_in(
            auth.current_user(), incident_id, check_in_id, data["note"]
        )


@blp.route(f"{INCIDENT}/support-evaluation")
class SupportEvaluationResource(ApiView):
    @authenticated(blp)
    @documents_errors(blp, 403, 404)
    @blp.response(200, SupportEvaluationSchema)
    def get(self, incident_id):
        """The exposed employee's evaluation (case handlers and the employee)"""
        evaluation = support.read_evaluation(auth.current_user(), incident_id)
        return evaluation, 200, {"ETag": etag_of(evaluation)}

    @authenticated(blp)
    @documents_errors(blp, 400, 403, 404, 409, 412, 415, 428)
    @access_before_body(support.evaluation_for_writing)
    @blp.arguments(SupportEvaluationInputSchema)
    @blp.response(200, SupportEvaluationSchema)
    @blp.alt_response(201, schema=SupportEvaluationSchema, success=True)
    def put(self, data, incident_id):
        """Evaluate the support (the exposed employee only; If-Match to change it later)"""
        user = auth.current_user()
        incident, evaluation = support.evaluation_for_writing(user, incident_id)
        if evaluation is not None:
            require_if_match(evaluation)
        evaluation, created = support.save_evaluation(user, incident, evaluation, data)
        return evaluation, 201 if created else 200, {"ETag": etag_of(evaluation)}


@blp.route("/follow-up/overdue")
class Overdue(ApiView):
    @authenticated(blp, Role.MANAGER, Role.HR)
    @blp.response(200, OverdueSchema)
    def get(self):
        """Overdue acknowledgements, check-ins, police decisions and notifications to
        Arbetsmiljöverket in the cases you handle"""
        return {"items": support.overdue(auth.current_user()), "generated_at": utcnow()}
