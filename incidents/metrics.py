"""Prometheus metrics at ``GET /metrics`` (docs/operations.md, "Metrics").

Two kinds:

- kept by each process as it serves: requests by route template, method and status, their
  latency, and the database pool's connections in use. Under gunicorn with
  ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes these to files there and a scrape adds
  up all workers (prometheus_client's multiprocess mode);
- read from the database at scrape time (``DatabaseCollector``): the outbox, overdue items,
  summaries, the scheduler's lease, heartbeat and jobs, and the readiness checks. Each read is
  cut short after PROBE_TIMEOUT_SECONDS; a database that is away costs only these, reported as
  ``incidents_database_up 0``, and the scrape still answers.

No label carries a person, a unit, a reference or a raw path: routes are Flask's rule templates
(``/api/v1/incidents/<int:incident_id>``), and the other labels are fixed vocabularies (kinds,
statuses, job ids) or the scheduler's host:pid. The anonymous channel is counted only when it
fails with a 5xx: its ordinary requests, counted every few seconds, would tell when someone
reported anonymously far more precisely than the hour the service keeps (docs/operations.md).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.engine import Engine

from incidents.domain import SummaryKind, SummaryOrigin
from incidents.extensions import db, problem_response
from incidents.request_id import anonymous_channel

# Counters and histograms without their *_created series: half the series, nothing lost.
disable_created_metrics()

# What a process keeps. In multiprocess mode the values live in PROMETHEUS_MULTIPROC_DIR and
# this registry is not read (the files are).
REGISTRY = CollectorRegistry(auto_describe=True)
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    ProcessCollector(registry=REGISTRY)

REQUESTS = Counter(
    "incidents_http_requests",
    "Requests answered, by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "incidents_http_request_duration_seconds",
    "Time from the request's first hook to its answer, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
POOL_CHECKED_OUT = Gauge(
    "incidents_db_pool_checked_out",
    "Database connections in use (checked out of the pool); all workers added up.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "incidents_db_pool_size",
    "Connections each pool keeps (SQLAlchemy's pool size, overflow not counted); all workers "
    "added up.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)

UNMATCHED = "<unmatched>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

blp = Blueprint("metrics", __name__)


# -- requests -------------------------------------------------------------------------------


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is None:
        return response
    status = response.status_code
    if anonymous_channel(request.path) and status < 500:
        return response
    route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    method = request.method if request.method in _METHODS else "other"
    labels = (route, method, str(status))
    REQUESTS.labels(*labels).inc()
    if not anonymous_channel(request.path):
        LATENCY.labels(*labels).observe(time.perf_counter() - started)
    return response


# -- the database pool ----------------------------------------------------------------------


def watch_pool(engine: Engine) -> None:
    """Count the connections checked out of ``engine``'s pool, as they come and go."""
    if getattr(engine, "_incidents_pool_watched", False):
        return
    engine._incidents_pool_watched = True
    size = getattr(engine.pool, "size", None)

    @event.listens_for(engine, "checkout")
    def _checkout(*_args):
        if not getattr(engine, "_incidents_pool_sized", False) and callable(size):
            # Set in the process that uses the pool (a gunicorn worker), not in a master that
            # only imported the application.
            engine._incidents_pool_sized = True
            POOL_SIZE.inc(size())
        POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_args):
        POOL_CHECKED_OUT.dec()


# -- read from the database at scrape time --------------------------------------------------


def _gauge(name: str, documentation: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=list(labels))


class DatabaseCollector(Collector):
    """The gauges read from the database when Prometheus scrapes (services/health.py)."""

    def collect(self) -> Iterator[Metric]:
        from incidents.services import health

        state = health.operational_state()
        up = _gauge("incidents_database_up", "1 if the database answered this scrape, else 0.")
        up.add_metric([], 1 if state.database_up else 0)
        yield up
        yield from _readiness(state.readiness)
        if state.outbox is not None:
            yield from _outbox(state.outbox, state.now)
        if state.overdue is not None:
            overdue = _gauge("incidents_overdue_items",
                             "Overdue follow-up items across the organisation, by kind.", ["kind"])
            for kind, number in sorted(state.overdue.items()):
                overdue.add_metric([kind], number)
            yield overdue
        if state.summaries is not None:
            summaries = _gauge("incidents_summaries", "Summaries made, by kind and origin.",
                               ["kind", "origin"])
            for kind in SummaryKind:
                for origin in SummaryOrigin:
                    number = state.summaries.get((kind.value, origin.value), 0)
                    summaries.add_metric([kind.value, origin.value], number)
            yield summaries
        if state.scheduler is not None:
            yield from _scheduler(state.scheduler)
        if state.database_up:
            yield from _anonymous_held(state.now)


def _readiness(readiness) -> Iterator[Metric]:
    ready = _gauge("incidents_ready", "1 if GET /api/v1/health/ready answers 200, else 0.")
    ready.add_metric([], 1 if readiness.ready else 0)
    yield ready
    checks = _gauge("incidents_readiness_check_ok",
                    "1 if a readiness check passes, else 0 (even when it is not required).",
                    ["check"])
    for name, check in readiness.checks.items():
        checks.add_metric([name], 1 if check["ok"] else 0)
    yield checks


def _outbox(outbox, now) -> Iterator[Metric]:
    mails = _gauge("incidents_outbox_mails", "Mails in the outbox, by status.", ["status"])
    for status, number in sorted(outbox.counts.items()):
        mails.add_metric([status], number)
    yield mails
    age = _gauge("incidents_outbox_oldest_waiting_age_seconds",
                 "Seconds since the oldest mail not yet sent (pending or being sent) was queued; "
                 "0 when none waits.")
    oldest = outbox.oldest_waiting_at
    age.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    yield age


def _anonymous_held(now) -> Iterator[Metric]:
    """What the anonymous channel holds from before the current hour: it should have been
    published at the hour (services/anonymous.py). What came in this hour is never counted, so
    a scrape cannot tell when an anonymous report, message or read arrived."""
    from incidents.services import anonymous
    from incidents.services.health import _Probe

    def anonymous_held_state():
        return anonymous.held_state(now)

    probe = _Probe()
    try:
        state = probe.read(anonymous_held_state)
    finally:
        probe.close()
    if state is None:
        return
    held = _gauge("incidents_anonymous_held_overdue",
                  "Anonymous items (reports, messages, reads) held from before the current hour, "
                  "which the hourly publication should have published; 0 normally.")
    held.add_metric([], state.overdue)
    yield held
    age = _gauge("incidents_anonymous_held_oldest_age_seconds",
                 "Seconds since the start of the hour in which the oldest anonymous item still "
                 "held from before the current hour arrived; 0 when none. Above 3600 plus a few "
                 "minutes: a publication was missed or failed.")
    age.add_metric([], state.oldest_age_seconds(now))
    yield age


def _timestamp(moment) -> float:
    return moment.timestamp()


def _scheduler(scheduler) -> Iterator[Metric]:
    if scheduler.lease is not None:
        holder = _gauge("incidents_scheduler_lease_holder",
                        "1 for the scheduler process (host:pid) holding the lease.", ["holder"])
        holder.add_metric([scheduler.lease.holder], 1)
        yield holder
        expires = _gauge("incidents_scheduler_lease_expires_timestamp_seconds",
                         "When the scheduler lease runs out unless renewed (Unix time).")
        expires.add_metric([], _timestamp(scheduler.lease.expires_at))
        yield expires
    if scheduler.heartbeat is not None:
        beat = _gauge("incidents_scheduler_heartbeat_timestamp_seconds",
                      "When the scheduler last wrote its heartbeat (Unix time).")
        beat.add_metric([], _timestamp(scheduler.heartbeat.beat_at))
        yield beat
    success = _gauge("incidents_scheduler_job_last_success_timestamp_seconds",
                     "When each scheduled job last succeeded (Unix time).", ["job"])
    failure = _gauge("incidents_scheduler_job_last_error_timestamp_seconds",
                     "When each scheduled job last failed (Unix time).", ["job"])
    late = _gauge("incidents_scheduler_job_late",
                  "1 if a job has not succeeded by when its timetable says it should have.",
                  ["job"])
    for job in scheduler.jobs:
        if job.last_success_at is not None:
            success.add_metric([job.job_id], _timestamp(job.last_success_at))
        if job.last_error_at is not None:
            failure.add_metric([job.job_id], _timestamp(job.last_error_at))
        late.add_metric([job.job_id], 1 if scheduler.is_late(job) else 0)
    yield from (success, failure, late)


# -- the endpoint ---------------------------------------------------------------------------


class _Scrape:
    """What one scrape reports: the process metrics (this process's, or every worker's in
    multiprocess mode) and the database's."""

    def collect(self) -> Iterator[Metric]:
        # The database first: the pool gauges then include the connection this scrape used.
        yield from DatabaseCollector().collect()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            yield from multiprocess.MultiProcessCollector(None).collect()
        else:
            yield from REGISTRY.collect()


def _authorised() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return True
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                              token.encode())


@blp.get("/metrics")
def metrics() -> Response:
    """The Prometheus exposition. With METRICS_TOKEN set, only with that bearer token."""
    if not _authorised():
        return problem_response(401, "Send the metrics token as a bearer token.",
                                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(generate_latest(_Scrape()), content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    """Time every request from the first hook on, watch the pool, serve /metrics."""
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_observe)
    with app.app_context():
        watch_pool(db.engine)
    app.register_blueprint(blp)
