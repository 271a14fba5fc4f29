"""Liveness and readiness answers (GET /api/v1/health/live and /ready)."""

from __future__ import annotations

import marshmallow as ma

from incidents.extensions import ProblemSchema


class LivenessSchema(ma.Schema):
    alive = ma.fields.Boolean(metadata={"description": "Always true: the process answers"})


class HealthCheckSchema(ma.Schema):
    ok = ma.fields.Boolean(metadata={"description": "Whether the check passes"})
    required = ma.fields.Boolean(
        metadata={"description": "Whether readiness depends on it (the scheduler's check only "
                                 "with SCHEDULER_REQUIRED)"})
    detail = ma.fields.String(metadata={"description": "What was found, or what is wrong"})


class MigrationsCheckSchema(HealthCheckSchema):
    database = ma.fields.List(ma.fields.String(),
                              metadata={"description": "The database's revision(s)"})
    code = ma.fields.List(ma.fields.String(),
                          metadata={"description": "The head revision(s) of the migrations"})


class SchedulerJobSchema(ma.Schema):
    id = ma.fields.String(metadata={"description": "The job's id (docs/operations.md)"})
    state = ma.fields.String(
        metadata={"description": "ok; failing (its last run failed, it is not late yet); late "
                                 "(no success by late_after)"})
    last_success_at = ma.fields.AwareDateTime(allow_none=True)
    last_error_at = ma.fields.AwareDateTime(allow_none=True)
    last_error = ma.fields.String(
        allow_none=True, metadata={"description": "The kind of the last error, never its text"})
    late_after = ma.fields.AwareDateTime(
        allow_none=True,
        metadata={"description": "When the job counts as late without another success"})


class SchedulerCheckSchema(HealthCheckSchema):
    state = ma.fields.String(
        metadata={"description": "never_run, running, silent (no heartbeat within the limit), "
                                 "stopped, or unknown (not readable)"})
    holder = ma.fields.String(metadata={"description": "The scheduler process, host:pid"})
    heartbeat_at = ma.fields.AwareDateTime()
    heartbeat_age_seconds = ma.fields.Integer()
    jobs = ma.fields.List(ma.fields.Nested(SchedulerJobSchema))


class ReadinessChecksSchema(ma.Schema):
    database = ma.fields.Nested(HealthCheckSchema)
    migrations = ma.fields.Nested(MigrationsCheckSchema)
    scheduler = ma.fields.Nested(SchedulerCheckSchema)


class ReadinessSchema(ma.Schema):
    ready = ma.fields.Boolean(metadata={"description": "True: every required check passes"})
    checks = ma.fields.Nested(ReadinessChecksSchema)


class NotReadySchema(ProblemSchema):
    """A problem body (503) with the checks, naming in ``detail`` those that fail."""

    ready = ma.fields.Boolean(metadata={"description": "Always false"})
    checks = ma.fields.Nested(ReadinessChecksSchema)
