"""The anonymous channel's limits shared by every process through Redis
(RATELIMIT_STORAGE_URI=redis://…), as in production with several workers.

Two servers (gunicorn, one worker each) on one database and one Redis; a client's wrong codes
alternate between them. With memory:// each server counted apart (the attack got 120 answers
where 60 were allowed); with Redis the count is one. Needs Redis at REDIS_URL (default
redis://127.0.0.1:6379/0): skipped with the reason if it cannot be reached, failed under CI=true.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest

from tests.reliability.service import environment, gunicorn, prepare

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WRONG = "0000-0000-0000-0000-0000"


def _redis_problem() -> str | None:
    try:
        import redis
    except ImportError:
        return "the redis package is not installed"
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"{REDIS_URL}: {exc}"
    return None


@pytest.fixture
def redis_url() -> str:
    problem = _redis_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis is unreachable under CI=true: {problem}")
        pytest.skip(f"Redis unreachable: {problem}")
    return REDIS_URL


def _call(address: str, method: str, path: str, body: dict | None = None,
          headers: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection(address, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers={
            "Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_two_servers_share_the_wrong_code_count_through_redis(own_database, redis_url):
    # A key of this test's own: the limiter's keys are keyed hashes made with it, so nothing
    # left in Redis by an earlier run counts here.
    env = environment(own_database, SECRET_KEY=secrets.token_urlsafe(48),
                      RATELIMIT_STORAGE_URI=redis_url,
                      ANONYMOUS_WRONG_CODE_RATE_LIMIT="6 per hour",
                      ANONYMOUS_WRONG_CODES_PER_REFERENCE="100 per hour")
    seed = prepare(env)
    with ExitStack() as stack:
        servers = [stack.enter_context(gunicorn(env, workers=1, threads=1)) for _ in range(2)]
        status, receipt = _call(servers[0], "POST", "/api/v1/anonymous-reports", {
            "category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "unit_id": seed["reporters"][0]["unit_id"], "description": "Hot i telefon."})
        assert status == 201, receipt
        wrong = [_call(servers[n % 2], "GET", f"/api/v1/anonymous-reports/OP-2026-90{n:04d}",
                       headers={"X-Receipt-Code": WRONG})[0] for n in range(12)]
        # memory:// would have answered 404 twelve times (six per server).
        assert wrong == [404] * 6 + [429] * 6
        for server in servers:  # the right code from the same client, on either server
            status, body = _call(server, "GET",
                                 f"/api/v1/anonymous-reports/{receipt['reference']}",
                                 headers={"X-Receipt-Code": receipt["receipt_code"]})
            assert status == 200, body
