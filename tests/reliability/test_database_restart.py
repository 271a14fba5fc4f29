"""PostgreSQL restarted under load (docs/testing.md, "Reliability"): while it is away every
request is answered 503 with Retry-After, never 500; the service is back by itself within 5 s of
the database returning; every incident answered 201 is in the database.

The server is the test's own (initdb on a free port), so the machine's shared server is left
alone.
"""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from tests.reliability.service import (
    PrivatePostgres,
    Request,
    column,
    environment,
    gunicorn,
    post_report,
    prepare,
    report_body,
)

pytestmark = pytest.mark.postgresql_only

CLIENTS = 16
HEALTHY_BEFORE_S = 2.0
OUTAGE_S = 3.0
WATCHED_AFTER_S = 7.0
RECOVERY_LIMIT_S = 5.0


@pytest.fixture
def private_postgres():
    server = PrivatePostgres()
    try:
        server.initialise()
        server.start()
        yield server
    finally:
        server.remove()


def _load(address: str, seed: dict, stop: threading.Event, answers: list, lock) -> None:
    reporter = seed["reporters"][0]
    connection = http.client.HTTPConnection(address, timeout=30)
    n = 0
    while not stop.is_set():
        n += 1
        answer = post_report(connection, Request(reporter["token"],
                                                 report_body(reporter["unit_id"], n)))
        with lock:
            answers.append(answer)
    connection.close()


def test_a_database_restart_gives_503_with_retry_after_and_loses_no_answered_report(
    private_postgres,
):
    env = environment(private_postgres.url)
    seed = prepare(env)
    answers, lock, stop = [], threading.Lock(), threading.Event()
    with gunicorn(env) as address:
        clients = [threading.Thread(target=_load, args=(address, seed, stop, answers, lock))
                   for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        time.sleep(HEALTHY_BEFORE_S)
        down = time.monotonic()  # the server begins to refuse before pg_ctl returns
        private_postgres.stop("fast")
        time.sleep(OUTAGE_S)
        private_postgres.start()
        up = time.monotonic()
        time.sleep(WATCHED_AFTER_S)
        stop.set()
        for client in clients:
            client.join()

    statuses = {answer.status for answer in answers}
    assert statuses <= {201, 503}, sorted(statuses)
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, "no request met the outage"
    for answer in unavailable:
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.headers["Content-Type"] == "application/problem+json"
        text = answer.body.decode()
        assert "Traceback" not in text and "psycopg" not in text and "SELECT" not in text
    # Only requests that met the outage failed, and none later than 5 s after it ended.
    assert all(a.done >= down for a in unavailable)
    last_failure = max(a.done for a in unavailable)
    assert last_failure - up < RECOVERY_LIMIT_S, f"still failing {last_failure - up:.1f} s after"
    assert any(a.status == 201 and a.sent > up for a in answers)

    answered = {a.json()["id"] for a in answers if a.status == 201}
    stored = set(column(private_postgres.url, "SELECT id FROM incidents"))
    assert answered <= stored, sorted(answered - stored)[:10]
