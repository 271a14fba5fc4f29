"""LOG_FORMAT=json: one JSON object per line, with time, level, logger, message and the request
id; the anonymous channel's lines carry none."""

from __future__ import annotations

import json
import logging
from datetime import datetime

import pytest

from incidents.config import ConfigError, load_config
from incidents.extensions import limiter
from tests.ops.conftest import service_on


@pytest.fixture
def json_lines(capsys):
    """The JSON lines written to stderr while the test runs; the JSON handler that the app
    puts on the root logger is taken off afterwards."""
    root = logging.getLogger()
    before = list(root.handlers)

    def read() -> list[dict]:
        lines = capsys.readouterr().err.splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    yield read
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)


def test_json_log_lines_parse_and_carry_the_request_id(away_url, json_lines, monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)
    with service_on(away_url, LOG_FORMAT="json") as app:
        client = app.test_client()
        ready = client.get("/api/v1/health/ready", headers={"X-Request-Id": "req-log-1"})
        anonymous = client.post(
            "/api/v1/anonymous-reports", headers={"X-Request-Id": "req-log-2"},
            json={"category": "threat", "perceived_influence_purpose": "yes", "unit_id": 1,
                  "occurred_at": "2026-06-01T10:00:00+00:00", "description": "Hot."})
    # 503 on PostgreSQL; SQLite's "unable to open database file" counts as a bug, 500.
    assert ready.status_code == 503 and anonymous.status_code in (500, 503)
    lines = json_lines()
    probe = [line for line in lines if "did not answer" in line["message"]]
    assert probe, lines
    assert set(probe[0]) == {"time", "level", "logger", "message", "request_id"}
    assert (probe[0]["level"], probe[0]["logger"], probe[0]["request_id"]) == (
        "WARNING", "incidents.services.health", "req-log-1")
    assert datetime.fromisoformat(probe[0]["time"]).utcoffset().total_seconds() == 0
    away = [line for line in lines if line["message"].startswith("database ")]
    assert away and all(line["request_id"] is None for line in away)
    assert "req-log-2" not in json.dumps(lines)


def test_text_stays_the_default_and_nothing_else_is_accepted(tmp_path):
    assert load_config({}, tmp_path)["LOG_FORMAT"] == "text"
    assert load_config({"LOG_FORMAT": "JSON"}, tmp_path)["LOG_FORMAT"] == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json"):
        load_config({"LOG_FORMAT": "xml"}, tmp_path)
