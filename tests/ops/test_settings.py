"""The operations settings: defaults per environment, and values that stop start-up."""

from __future__ import annotations

import pytest

from incidents.config import ConfigError, load_config

PRODUCTION = {"INCIDENTS_ENV": "production", "DATABASE_URL": "sqlite://",
              "SECRET_KEY": "x" * 40}


def test_the_scheduler_is_required_in_production_and_not_in_development(tmp_path):
    """So that `make run` without a scheduler stays ready."""
    assert load_config({}, tmp_path)["SCHEDULER_REQUIRED"] is False
    assert load_config(PRODUCTION, tmp_path)["SCHEDULER_REQUIRED"] is True
    assert load_config({**PRODUCTION, "SCHEDULER_REQUIRED": "false"},
                       tmp_path)["SCHEDULER_REQUIRED"] is False


def test_the_defaults(tmp_path):
    config = load_config({}, tmp_path)
    assert (config["SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS"], config["SCHEDULER_JOB_LATE_FACTOR"],
            config["SCHEDULER_JOB_GRACE_MINUTES"], config["PROBE_TIMEOUT_SECONDS"],
            config["METRICS_TOKEN"], config["LOG_FORMAT"]) == (180, 5, 120, 2, None, "text")


@pytest.mark.parametrize(("env", "message"), [
    ({"SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS": "59"},
     "SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS \\(59\\) must be at least SCHEDULER_LEASE_SECONDS"),
    ({"SCHEDULER_LEASE_SECONDS": "300"},
     "SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS \\(180\\) must be at least"),
    ({"SCHEDULER_JOB_LATE_FACTOR": "1"}, "SCHEDULER_JOB_LATE_FACTOR must be at least 2"),
    ({"SCHEDULER_JOB_GRACE_MINUTES": "0"}, "SCHEDULER_JOB_GRACE_MINUTES must be at least 1"),
    ({"PROBE_TIMEOUT_SECONDS": "0"}, "PROBE_TIMEOUT_SECONDS must be at least 1"),
    ({"SCHEDULER_REQUIRED": "maybe"}, "SCHEDULER_REQUIRED"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 16 characters"),
])
def test_a_bad_value_stops_start_up_and_names_the_setting(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(env, tmp_path)
