"""/metrics under gunicorn with several workers (PROMETHEUS_MULTIPROC_DIR): a scrape, answered by
one worker, adds up the requests every worker served, and reports the database's gauges once."""

from __future__ import annotations

import http.client
import subprocess
from concurrent.futures import ThreadPoolExecutor

from prometheus_client.parser import text_string_to_metric_families

from tests.ops.conftest import value
from tests.reliability.service import FLASK, ROOT, environment, gunicorn

REQUESTS = 40


def _get(address: str, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection(address, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_scrape_adds_up_every_workers_requests(own_database, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"")  # left by an earlier run: cleared at start
    env = environment(own_database, PROMETHEUS_MULTIPROC_DIR=str(directory))
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=180)
    with gunicorn(env, workers=2, threads=2) as address:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: _get(address, "/api/v1/health/live"),
                                    range(REQUESTS)))
        status, text = _get(address, "/metrics")
        workers = {path.name.rsplit("_", 1)[-1] for path in directory.glob("counter_*.db")}
    assert [code for code, _ in answers] == [200] * REQUESTS
    assert status == 200
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    assert value(samples, "incidents_http_requests_total", route="/api/v1/health/live",
                 method="GET", status="200") == REQUESTS
    assert value(samples, "incidents_http_request_duration_seconds_count",
                 route="/api/v1/health/live", method="GET", status="200") == REQUESTS
    assert value(samples, "incidents_database_up") == 1  # once, not once per worker
    assert value(samples, "incidents_db_pool_size") >= 5
    assert "1.db" not in workers and workers  # the stale file went; the workers' are there
