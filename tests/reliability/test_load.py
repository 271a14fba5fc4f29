"""Many reports at once, some retried with their Idempotency-Key: every report is kept exactly
once, with exactly one create entry in the audit trail, and no answer is a server error
(docs/testing.md). gunicorn serves the service on a PostgreSQL database of the test's own.

CI sends 2,000 reports from 64 clients; the full setting is
``RELIABILITY_REPORTS=20000`` (docs/performance.md has the figures of a full run).
"""

from __future__ import annotations

import os
import random

import pytest

from tests.reliability.service import (
    Request,
    column,
    environment,
    gunicorn,
    prepare,
    report_body,
    scalar,
    send_all,
)

pytestmark = pytest.mark.postgresql_only

REPORTS = int(os.environ.get("RELIABILITY_REPORTS", "2000"))
CLIENTS = int(os.environ.get("RELIABILITY_CLIENTS", "64"))
RETRIED = 0.01


def test_every_report_is_kept_once_and_audited_once_under_load_with_retries(own_database):
    env = environment(own_database)
    seed = prepare(env)
    reporters = seed["reporters"]
    requests = [Request(reporters[n % len(reporters)]["token"],
                        report_body(reporters[n % len(reporters)]["unit_id"], n))
                for n in range(REPORTS)]
    # 1 % are sent again with the same key, as a client does when an answer is lost: some
    # while the first is still in flight (placed close behind it), some well after.
    rng = random.Random(7)
    retried = rng.sample(requests, max(1, int(REPORTS * RETRIED)))
    plan = list(requests)
    for n, original in enumerate(retried):
        at = plan.index(original) + (1 if n % 2 else rng.randrange(CLIENTS, 4 * CLIENTS))
        plan.insert(min(at, len(plan)), Request(original.token, original.body, original.key))

    with gunicorn(env) as address:
        answers = send_all(address, plan, CLIENTS)

    statuses = sorted({answer.status for answer in answers})
    failed = [a for a in answers if a.status != 201]
    assert not failed, (statuses, [(a.status, a.body[:200]) for a in failed[:5]])
    by_key: dict[str, set[int]] = {}
    for answer in answers:
        by_key.setdefault(answer.key, set()).add(answer.json()["id"])
    # A retry is answered with the first answer: the same incident.
    assert all(len(ids) == 1 for ids in by_key.values())
    assert len(answers) == REPORTS + len(retried)
    ids = {next(iter(found)) for found in by_key.values()}
    assert len(ids) == REPORTS
    assert scalar(own_database, "SELECT count(*) FROM incidents") == REPORTS
    assert set(column(own_database, "SELECT id FROM incidents")) == ids
    assert scalar(own_database,
                  "SELECT count(*) FROM audit_entries WHERE action = 'create'") == REPORTS
    assert scalar(own_database, "SELECT count(DISTINCT incident_id) FROM audit_entries "
                                "WHERE action = 'create'") == REPORTS
