"""GET /metrics: each metric family reflects the state it reports, and no label carries a
person, a unit or a reference."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from incidents.extensions import db, limiter
from incidents.models import Incident, User
from incidents.services import lifecycle, outbox, support
from scheduler import heartbeat, jobs, lease
from tests.mail.smtp import SmtpServer
from tests.ops.conftest import scrape, service_on, value

T = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
INCIDENT_ROUTE = "/api/v1/incidents/<int:incident_id>"


def _requests(samples, route, status, method="GET"):
    return value(samples, "incidents_http_requests_total", route=route, method=method,
                 status=status) or 0


def test_a_request_counts_under_its_route_template_and_status(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    manager = make.headers(org.manager_a)
    before = scrape(client)
    assert client.get(f"/api/v1/incidents/{incident.id}", headers=manager).status_code == 200
    assert client.get("/api/v1/incidents/987654", headers=manager).status_code == 404
    assert client.get(f"/api/v1/no-such/{incident.reference}").status_code == 404
    after = scrape(client)
    for route, status in ((INCIDENT_ROUTE, "200"), (INCIDENT_ROUTE, "404"),
                          ("<unmatched>", "404")):
        assert _requests(after, route, status) == _requests(before, route, status) + 1, route
    latency = "incidents_http_request_duration_seconds_count"
    assert value(after, latency, route=INCIDENT_ROUTE, method="GET", status="200") == (
        (value(before, latency, route=INCIDENT_ROUTE, method="GET", status="200") or 0) + 1)
    templates = {rule.rule for rule in client.application.url_map.iter_rules()}
    routes = {s.labels["route"] for s in after if "route" in s.labels}
    assert routes <= templates | {"<unmatched>"}  # never a raw path
    assert not [s for s in after if incident.reference in str(s.labels)]


ANONYMOUS = ("/api/v1/anonymous-reports", "/anonymous/")


def _anonymous(samples) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples
            if s.labels.get("route", "").startswith(ANONYMOUS)}


def _report(unit_id: int) -> dict:
    return {"category": "threat", "perceived_influence_purpose": "yes", "unit_id": unit_id,
            "occurred_at": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "description": "Hot i telefon."}


def test_the_anonymous_channel_is_not_counted_when_it_works(client, org, monkeypatch):
    """Counted every few seconds, its requests would date an anonymous report far more
    precisely than the hour the service keeps."""
    monkeypatch.setattr(limiter, "enabled", False)
    before = scrape(client)
    assert client.post("/api/v1/anonymous-reports", json=_report(org.b1.id)).status_code == 201
    assert client.get("/anonymous/report").status_code == 200
    assert client.get("/api/v1/categories").status_code == 200
    after = scrape(client)
    assert _anonymous(after) == _anonymous(before)
    assert _requests(after, "/api/v1/categories", "200") == (
        _requests(before, "/api/v1/categories", "200") + 1)  # other routes count as ever


def test_the_anonymous_channel_is_counted_when_it_fails(away_url, monkeypatch):
    """A server error must reach the 5xx alert; it is counted, without its latency."""
    monkeypatch.setattr(limiter, "enabled", False)
    with service_on(away_url) as app:
        client = app.test_client()
        before = scrape(client)
        failed = client.post("/api/v1/anonymous-reports", json=_report(1))
        after = scrape(client)
    status = str(failed.status_code)
    assert status in ("500", "503")  # SQLite's missing file is a 500, PostgreSQL away a 503
    route = "/api/v1/anonymous-reports"
    assert _requests(after, route, status, "POST") == _requests(before, route, status, "POST") + 1
    assert not [s for s in after if s.name.startswith("incidents_http_request_duration")
                and s.labels.get("route") == route]


def test_the_pool_gauge_counts_connections_in_use(app, client):
    before = scrape(client)
    with app.app_context():
        connection = db.engine.connect()
    try:
        during = scrape(client)
    finally:
        connection.close()
    after = scrape(client)
    in_use = "incidents_db_pool_checked_out"
    assert value(during, in_use) == value(before, in_use) + 1
    assert value(after, in_use) == value(before, in_use)
    with app.app_context():
        assert value(after, "incidents_db_pool_size") >= db.engine.pool.size()


def test_the_outbox_gauges_count_waiting_and_failed_mails_and_the_oldest_age(
    app, client, make, org, monkeypatch
):
    with freeze_time(T) as clock:
        make.incident(org.employee_a1, org.a1)  # a mail to manager_a
        clock.tick(timedelta(minutes=5))
        make.incident(org.employee_b1, org.b1)  # a mail to manager_b1
        clock.tick(timedelta(minutes=5))
        waiting = scrape(client)
        server = SmtpServer().start()
        server.handler.refuse_with = "550 5.1.1 no such user"
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        try:
            assert outbox.deliver().failed == 2
        finally:
            server.stop()
        refused = scrape(client)
    assert value(waiting, "incidents_outbox_mails", status="pending") == 2
    assert value(waiting, "incidents_outbox_mails", status="failed") == 0
    assert value(waiting, "incidents_outbox_oldest_waiting_age_seconds") == 600
    assert value(refused, "incidents_outbox_mails", status="pending") == 0
    assert value(refused, "incidents_outbox_mails", status="failed") == 2
    assert value(refused, "incidents_outbox_oldest_waiting_age_seconds") == 0


def _overdue_world(make, org, db_session) -> None:
    """One incident unacknowledged for 30 hours; one act of violence reported 8 days ago and
    acknowledged, with no police decision, no notification to Arbetsmiljöverket and two
    check-ins (1d, 1w) not done."""
    with freeze_time(T - timedelta(hours=30)):
        make.incident(org.employee_a1, org.a1, category="harassment")
    with freeze_time(T - timedelta(days=8)):
        violence = make.incident(org.employee_b1, org.b1, category="violence")
    with freeze_time(T - timedelta(days=8) + timedelta(hours=1)):
        lifecycle.acknowledge(org.manager_b1, violence.id)
        db_session.commit()


def test_overdue_items_are_counted_by_kind_across_the_organisation(
    client, make, org, db_session
):
    _overdue_world(make, org, db_session)
    with freeze_time(T):
        samples = scrape(client)
        counts = support.overdue_counts(T)
        hr_list = Counter(item["kind"] for item in support.overdue(org.hr))
    expected = {"acknowledgement": 1, "check_in": 2, "police_decision": 1,
                "work_environment_notification": 1}
    assert counts == expected
    assert dict(hr_list) == expected  # hr handles every case here: the same rules
    for kind, number in expected.items():
        assert value(samples, "incidents_overdue_items", kind=kind) == number


def test_overdue_counts_load_nobody(app, make, org, db_session):
    _overdue_world(make, org, db_session)
    db_session.expunge_all()
    loaded = []

    def on_load(target, _context):
        loaded.append(type(target).__name__)

    from sqlalchemy import event

    for model in (User, Incident):
        event.listen(model, "load", on_load)
    try:
        support.overdue_counts(T)
    finally:
        for model in (User, Incident):
            event.remove(model, "load", on_load)
    assert loaded == []


def test_the_scheduler_gauges_show_the_lease_heartbeat_and_jobs(app, client):
    jobs.bind(app)
    with freeze_time(T) as clock:
        assert lease.acquire("sched-1.example:4711", 60)
        heartbeat.beat("sched-1.example:4711", started_at=T)
        jobs.deliver_outbox()
        on_time = scrape(client)
        clock.tick(timedelta(minutes=app.config["SCHEDULER_JOB_LATE_FACTOR"], seconds=1))
        late = scrape(client)
    assert value(on_time, "incidents_scheduler_lease_holder",
                 holder="sched-1.example:4711") == 1
    assert value(on_time, "incidents_scheduler_lease_expires_timestamp_seconds") == (
        T + timedelta(seconds=60)).timestamp()
    assert value(on_time, "incidents_scheduler_heartbeat_timestamp_seconds") == T.timestamp()
    assert value(on_time, "incidents_scheduler_job_last_success_timestamp_seconds",
                 job="deliver_outbox") == T.timestamp()
    assert value(on_time, "incidents_scheduler_job_late", job="deliver_outbox") == 0
    assert value(late, "incidents_scheduler_job_late", job="deliver_outbox") == 1
    assert value(late, "incidents_readiness_check_ok", check="scheduler") == 0


def test_the_summaries_gauge_counts_what_was_made(client, make, org):
    with freeze_time(T):
        hr = make.headers(org.hr)
        before = scrape(client)
        made = client.post("/api/v1/summaries", headers=hr,
                           json={"kind": "monthly", "period": "2026-05"})
        after = scrape(client)
    assert made.status_code == 201, made.get_json()
    created = len(made.get_json()["created"])
    assert created >= 1
    name = "incidents_summaries"
    assert value(before, name, kind="monthly", origin="request") == 0
    assert value(after, name, kind="monthly", origin="request") == created
    assert value(after, name, kind="tertial", origin="schedule") == 0


def test_no_label_names_a_person_a_unit_or_a_reference(app, client, make, org, db_session):
    """After reports, mails, a summary, a scheduler and requests naming all of them, every label
    value of every sample is free of emails, names, unit names and references."""
    _overdue_world(make, org, db_session)
    jobs.bind(app)
    with freeze_time(T):
        incidents = db_session.query(Incident).all()
        manager = make.headers(org.manager_b1)
        for incident in incidents:
            client.get(f"/api/v1/incidents/{incident.id}", headers=manager)
            client.get(f"/reports/{incident.id}")
            client.get(f"/api/v1/unknown/{incident.reference}")
        client.get(f"/api/v1/units/{org.b1.id}", headers=make.headers(org.admin))
        client.post("/api/v1/summaries", headers=make.headers(org.hr),
                    json={"kind": "monthly", "period": "2026-05"})
        lease.acquire("sched-1.example:4711", 60)
        heartbeat.beat("sched-1.example:4711", started_at=T)
        jobs.deliver_outbox()
        samples = scrape(client)
    people = db_session.query(User).all()
    forbidden = ({u.email for u in people} | {u.name for u in people}
                 | {u.email.split("@")[0] for u in people}
                 | {unit.name for unit in (org.root, org.forv, org.dept_a, org.a1, org.a2,
                                           org.dept_b, org.b1)}
                 | {i.reference for i in incidents})
    labels = {v for sample in samples for v in sample.labels.values()}
    assert len(labels) > 20
    assert [v for v in labels if any(word in v for word in forbidden)] == []
    assert not [v for v in labels if "@" in v]


@pytest.mark.parametrize("sent", [None, "Bearer wrong-token-0123456789", "Basic abc"])
def test_with_a_metrics_token_only_its_bearer_may_scrape(app, client, monkeypatch, sent):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "a-metrics-token-0123456789")
    refused = client.get("/metrics", headers={"Authorization": sent} if sent else {})
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    allowed = client.get("/metrics",
                         headers={"Authorization": "Bearer a-metrics-token-0123456789"})
    assert allowed.status_code == 200
    assert "incidents_database_up 1.0" in allowed.get_data(as_text=True)


def test_without_a_metrics_token_anyone_may_scrape(client):
    assert client.get("/metrics").status_code == 200
