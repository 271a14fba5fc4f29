"""A body without Content-Length (Transfer-Encoding: chunked) is held to MAX_BODY_BYTES like
any other. Found by an attack: a 10 MB chunked body was not a 413; werkzeug cut it at the limit
without a word and the first megabyte was parsed."""

from __future__ import annotations

import http.client
import io
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server

from incidents.extensions import limiter

TEN_MB = 10 * 1024 * 1024
CHUNKED = {"Transfer-Encoding": "chunked", "Content-Type": "application/json"}


def _padded(body: dict, size: int) -> bytes:
    """Valid JSON of ``size`` bytes: the body, then spaces (JSON allows them)."""
    raw = json.dumps(body).encode()
    return raw + b" " * (size - len(raw))


def _report(org) -> dict:
    return {"category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "unit_id": org.a1.id, "description": "Hot i telefon."}


def _post_chunked(client, body: bytes):
    # wsgi.input_terminated: the server has taken the chunks apart, as gunicorn and
    # werkzeug's server do.
    return client.post("/api/v1/anonymous-reports", input_stream=io.BytesIO(body),
                       headers=CHUNKED, environ_overrides={"wsgi.input_terminated": True})


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    limiter.reset()
    yield
    limiter.reset()


def test_a_10_mb_chunked_body_is_413(client, org):
    """Valid JSON padded with spaces to 10 MB: cut at 1 MB it was still valid, and accepted."""
    r = _post_chunked(client, _padded(_report(org), TEN_MB))
    assert r.status_code == 413, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json"


def test_a_chunked_body_within_the_limit_is_read_whole(client, org):
    r = _post_chunked(client, _padded(_report(org), 512 * 1024))
    assert r.status_code == 201, r.get_data(as_text=True)[:300]


def test_a_10_mb_chunked_body_to_a_real_server_is_413(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
        chunks = (b" " * (1024 * 1024) for _ in range(10))
        connection.request("POST", "/api/v1/anonymous-reports", body=chunks, headers=CHUNKED,
                           encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert response.getheader("Content-Type") == "application/problem+json"
        response.read()
        connection.close()
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
