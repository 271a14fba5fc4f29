"""docs/operations.md names only metrics the service exports: its table, its alert rules and its
dashboard."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from freezegun import freeze_time

from scheduler import heartbeat, jobs, lease
from tests.ops.conftest import scrape

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
T = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)


def test_every_metric_the_operations_guide_names_is_exported(app, client):
    jobs.bind(app)
    with freeze_time(T):
        lease.acquire("sched-1.example:4711", 60)
        heartbeat.beat("sched-1.example:4711", started_at=T)
        jobs.deliver_outbox()
        heartbeat.job_failed(app, "retention", RuntimeError("x"))
        client.get("/api/v1/categories")
        samples = scrape(client)
    names = {sample.name for sample in samples}
    families = {re.sub(r"_(bucket|count|sum)$", "", name) for name in names
                if name.startswith("incidents_")}
    whole = DOC.read_text()
    text = whole[whole.index("## Health, readiness and metrics"):
                 whole.index("## Request ids and logs")]
    named = set(re.findall(r"\bincidents_[a-z_]*[a-z]", text))
    assert len(named) > 15
    assert sorted(named - names - families) == []
    # And the other way round: the table lists every family the service exports.
    table = set(re.findall(r"^\| `(incidents_[a-z_]+)`", text, re.M))
    assert sorted(families - table) == []
