"""The notifications walked through end to end: a reporter receives a mail at each status change of
their incident while the mail server is briefly down and comes back; the real scheduler's
one-minute job is what sends them in production."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.jobstores.memory import MemoryJobStore

from incidents.clock import utcnow
from incidents.services import outbox
from scheduler import build_scheduler, sync_jobs

DESCRIPTION = "Klienten sa att han vet var jag bor och väntade utanför."


def _ok(response, status):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def _mails_to(smtp, address):
    return [m for m in smtp.messages if m["To"] == address]


def _text(message) -> str:
    return f"{message['Subject']}\n{message.get_payload(decode=True).decode()}"


def test_the_reporter_hears_of_every_status_change_through_an_outage(
    app, client, make, org, smtp
):
    employee, manager = org.employee_a1, org.manager_a
    eh, mh = make.headers(employee), make.headers(manager)
    incident = _ok(client.post("/api/v1/incidents", headers=eh, json={
        "category": "harassment", "perceived_influence_purpose": "yes",
        "occurred_at": (utcnow() - timedelta(hours=3)).isoformat(),
        "unit_id": org.a1.id, "description": DESCRIPTION}), 201)
    base = f"/api/v1/incidents/{incident['id']}"
    assert outbox.deliver(utcnow()).sent == 1
    [to_manager] = _mails_to(smtp, manager.email)
    assert incident["reference"] in to_manager["Subject"]

    # The mail server goes away; the manager's work goes on regardless.
    smtp.stop()
    _ok(client.post(f"{base}/acknowledge", headers=mh), 200)
    clock = utcnow()
    assert outbox.deliver(clock).deferred == 1
    smtp.start()
    clock += timedelta(seconds=61)
    assert outbox.deliver(clock).sent == 1

    _ok(client.post(f"{base}/follow-ups", headers=mh, json={
        "type": "conversation", "note": "Samtal med den anställda.",
        "occurred_at": utcnow().isoformat()}), 201)
    _ok(client.put(f"{base}/support-declined", headers=mh,
                   json={"note": "Vill inte ha stöd nu."}), 201)
    _ok(client.post(f"{base}/close", headers=mh), 200)
    _ok(client.post(f"{base}/reopen", headers=mh, json={"reason": "Nytt hot."}), 200)
    assert outbox.deliver(utcnow() + timedelta(seconds=61)).sent == 3

    subjects = [m["Subject"] for m in _mails_to(smtp, employee.email)]
    reference = incident["reference"]
    assert subjects == [
        f"{reference}: Mottagen / Acknowledged",
        # The first follow-up entry moves the case into follow-up.
        f"{reference}: Under uppföljning / In follow-up",
        f"{reference}: Avslutad / Closed",
        f"{reference}: Under uppföljning / In follow-up",
    ]
    page = f"http://127.0.0.1:5000/reports/{incident['id']}"
    for message in smtp.messages:
        text = _text(message)
        assert page in text.splitlines() and "/api/" not in text
        assert DESCRIPTION not in text
        for person in (employee, manager):
            assert person.name not in text


def test_the_real_scheduler_delivers_the_outbox_every_minute(app, make, org, smtp):
    make.incident(org.employee_a1, org.a1)  # queues a mail to manager_a
    scheduler = build_scheduler(app, jobstore=MemoryJobStore(), max_workers=1)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, app.config["TIMEZONE"])
        job = scheduler.get_job("deliver_outbox")
        assert job.trigger.interval == timedelta(minutes=1)
        job.modify(next_run_time=datetime.now(UTC))
        fired = []
        scheduler.add_listener(fired.append, EVENT_JOB_EXECUTED)
        scheduler.resume()
        deadline = time.monotonic() + 10
        while not fired and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert fired and fired[0].retval.sent == 1
    assert [m["To"] for m in smtp.messages] == [org.manager_a.email]
