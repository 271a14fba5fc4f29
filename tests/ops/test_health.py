"""Liveness and readiness: liveness never touches the database; readiness answers 200 only
when the database answers, its schema is at the migrations' head and (with SCHEDULER_REQUIRED)
the scheduler's heartbeat is fresh and its jobs on time, and 503 naming what is wrong
otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import upgrade
from freezegun import freeze_time
from sqlalchemy import event, text

from incidents.extensions import db
from scheduler import heartbeat, jobs
from tests.conftest import TEST_SECRET
from tests.ops.conftest import scrape, service_on, value

T = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
HOLDER = "sched-1.example:4711"


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_REQUIRED", True)


def _statements(app):
    """The SQL statements run on the application's engine while the block runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


def test_liveness_never_touches_the_database(app, client):
    seen, stop = _statements(app)
    try:
        live = client.get("/api/v1/health/live")
        after_live = list(seen)
        ready = client.get("/api/v1/health/ready")
    finally:
        stop()
    assert (live.status_code, live.get_json()) == (200, {"alive": True})
    assert after_live == []
    assert ready.status_code == 200 and seen  # the listener sees what readiness reads


def test_liveness_answers_with_the_database_away(away_url):
    with service_on(away_url) as app:
        response = app.test_client().get("/api/v1/health/live")
    assert (response.status_code, response.get_json()) == (200, {"alive": True})


def test_readiness_is_200_when_all_is_well(app, client, required):
    with freeze_time(T) as clock:
        heartbeat.register_jobs(app)
        heartbeat.beat(HOLDER, started_at=T)
        clock.tick(timedelta(seconds=30))
        response = client.get("/api/v1/health/ready")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ready"] is True
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "migrations": True, "scheduler": True}
    scheduler = body["checks"]["scheduler"]
    assert (scheduler["state"], scheduler["holder"], scheduler["heartbeat_age_seconds"]) == (
        "running", HOLDER, 30)
    assert {job["id"]: job["state"] for job in scheduler["jobs"]}["deliver_outbox"] == "ok"
    assert body["checks"]["migrations"]["database"] == body["checks"]["migrations"]["code"]
    assert "Authorization" not in response.request.headers  # no token needed


def test_a_new_installation_without_a_scheduler_is_ready_and_says_so(client, required):
    response = client.get("/api/v1/health/ready")
    assert response.status_code == 200
    scheduler = response.get_json()["checks"]["scheduler"]
    assert (scheduler["ok"], scheduler["state"]) == (True, "never_run")
    assert "no scheduler has run" in scheduler["detail"]


def test_readiness_is_503_when_the_database_is_away(away_url):
    with service_on(away_url) as app:
        client = app.test_client()
        response = client.get("/api/v1/health/ready")
        samples = scrape(client)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["ready"] is False and body["status"] == 503
    assert body["checks"]["database"]["ok"] is False
    assert "did not answer" in body["checks"]["database"]["detail"]
    assert body["checks"]["migrations"]["detail"].startswith("not checked")
    assert "database" in body["detail"] and "SELECT" not in response.get_data(as_text=True)
    # The metrics still answer, with what they know.
    assert value(samples, "incidents_database_up") == 0
    assert value(samples, "incidents_ready") == 0
    assert value(samples, "incidents_http_requests_total", route="/api/v1/health/ready",
                 method="GET", status="503") == 1


def test_readiness_is_503_when_the_migrations_are_not_at_head(own_database):
    with service_on(own_database, SECRET_KEY=TEST_SECRET) as app:
        with app.app_context():
            upgrade(revision="e7f8a9b0c1d2")
        response = app.test_client().get("/api/v1/health/ready")
    assert response.status_code == 503
    migrations = response.get_json()["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["database"] == ["e7f8a9b0c1d2"]
    assert migrations["code"] != ["e7f8a9b0c1d2"]
    assert "flask --app wsgi db upgrade" in migrations["detail"]
    assert response.get_json()["checks"]["database"]["ok"] is True


def test_a_database_ahead_of_the_code_is_ready_while_an_upgrade_rolls_out(own_database):
    """During an upgrade the database is migrated before the old workers are restarted; they
    must not all drop out of the load balancer meanwhile."""
    with service_on(own_database, SECRET_KEY=TEST_SECRET) as app:
        with app.app_context():
            upgrade()
            db.session.execute(text("UPDATE alembic_version SET version_num = 'a0b1c2d3e4f5'"))
            db.session.commit()
        response = app.test_client().get("/api/v1/health/ready")
    assert response.status_code == 200
    migrations = response.get_json()["checks"]["migrations"]
    assert (migrations["ok"], migrations["database"]) == (True, ["a0b1c2d3e4f5"])
    assert "newer than this code knows" in migrations["detail"]


def test_readiness_is_503_when_the_heartbeat_is_stale(app, client, required):
    limit = app.config["SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS"]
    with freeze_time(T) as clock:
        heartbeat.beat(HOLDER, started_at=T)
        clock.tick(timedelta(seconds=limit))
        fresh = client.get("/api/v1/health/ready")
        clock.tick(timedelta(seconds=1))
        stale = client.get("/api/v1/health/ready")
    assert fresh.status_code == 200
    assert stale.status_code == 503
    scheduler = stale.get_json()["checks"]["scheduler"]
    assert (scheduler["ok"], scheduler["state"]) == (False, "silent")
    assert f"no heartbeat for {limit + 1} s (limit {limit} s)" in scheduler["detail"]
    assert HOLDER in stale.get_json()["detail"]


def test_a_stale_heartbeat_is_reported_but_not_required_in_development(app, client):
    assert app.config["SCHEDULER_REQUIRED"] is False  # the test app runs in development
    with freeze_time(T) as clock:
        heartbeat.beat(HOLDER, started_at=T)
        clock.tick(timedelta(hours=1))
        response = client.get("/api/v1/health/ready")
    assert response.status_code == 200
    scheduler = response.get_json()["checks"]["scheduler"]
    assert (scheduler["ok"], scheduler["required"], scheduler["state"]) == (
        False, False, "silent")


def test_readiness_is_503_when_a_job_has_not_succeeded_in_time(app, client, required):
    """The outbox is delivered every minute: a last success more than
    SCHEDULER_JOB_LATE_FACTOR minutes old is late, however fresh the heartbeat."""
    factor = app.config["SCHEDULER_JOB_LATE_FACTOR"]
    jobs.bind(app)
    with freeze_time(T) as clock:
        jobs.deliver_outbox()  # the real job, recorded as a success at T
        clock.tick(timedelta(minutes=factor))
        heartbeat.beat(HOLDER, started_at=T)
        on_time = client.get("/api/v1/health/ready")
        clock.tick(timedelta(seconds=1))
        heartbeat.beat(HOLDER, started_at=T)
        late = client.get("/api/v1/health/ready")
    assert on_time.status_code == 200
    assert late.status_code == 503
    scheduler = late.get_json()["checks"]["scheduler"]
    job = {job["id"]: job for job in scheduler["jobs"]}["deliver_outbox"]
    assert job["state"] == "late"
    assert job["last_success_at"] == T.isoformat()
    assert "job deliver_outbox is late" in scheduler["detail"]
    assert scheduler["state"] == "running"  # the heartbeat itself is fresh


def test_a_stopped_scheduler_is_reported_as_stopped(app, client, required):
    limit = app.config["SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS"]
    with freeze_time(T) as clock:
        heartbeat.beat(HOLDER, started_at=T)
        heartbeat.stopped(HOLDER)
        clock.tick(timedelta(seconds=limit + 1))
        response = client.get("/api/v1/health/ready")
    assert response.status_code == 503
    scheduler = response.get_json()["checks"]["scheduler"]
    assert scheduler["state"] == "stopped"
    assert f"stopped at {T:%Y-%m-%d %H:%M:%S} UTC" in scheduler["detail"]


def test_readiness_says_not_ready_when_the_migrations_cannot_be_read(own_database, tmp_path):
    """A release whose revision files cannot be read as revisions (services/health.py,
    read_revisions) is not ready, and says why; it is not a 500."""
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "versions" / "broken.py").write_text(
        'revision = "f00"\ndown_revision = "nowhere"\n')
    with service_on(own_database, SECRET_KEY=TEST_SECRET) as app:
        with app.app_context():
            upgrade()
        app.extensions["migrate"].directory = str(migrations)
        response = app.test_client().get("/api/v1/health/ready")
    assert response.status_code == 503, response.get_data(as_text=True)
    check = response.get_json()["checks"]["migrations"]
    assert check["ok"] is False and check["code"] == []
    assert "cannot be read" in check["detail"] and "nowhere" in check["detail"]

