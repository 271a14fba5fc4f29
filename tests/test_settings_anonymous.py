"""Settings of the anonymous channel's rate limits (docs/configuration.md, "The anonymous
channel")."""

from __future__ import annotations

import logging

import pytest

from incidents.config import ConfigError, load_config

PRODUCTION = {"INCIDENTS_ENV": "production", "DATABASE_URL": "sqlite://",
              "SECRET_KEY": "x" * 40}


def test_the_defaults(tmp_path):
    config = load_config({}, tmp_path)
    assert config["ANONYMOUS_READ_RATE_LIMIT"] == "60 per hour"
    assert config["ANONYMOUS_WRONG_CODE_RATE_LIMIT"] == "20 per hour"
    assert config["ANONYMOUS_WRONG_CODES_PER_REFERENCE"] == "10 per hour"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_with_memory_storage_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="incidents.config"):
        load_config(PRODUCTION, tmp_path)
    assert "RATELIMIT_STORAGE_URI is memory://" in caplog.text


def test_production_with_redis_does_not_warn(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="incidents.config"):
        config = load_config({**PRODUCTION, "RATELIMIT_STORAGE_URI": "redis://r:6379/0"},
                             tmp_path)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://r:6379/0"
    assert "RATELIMIT_STORAGE_URI" not in caplog.text


@pytest.mark.parametrize("value", ["redis", "127.0.0.1:6379", "postgres://x/y",
                                   "async+redis://r/0"])
def test_a_storage_that_is_not_one_stops_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load_config({"RATELIMIT_STORAGE_URI": value}, tmp_path)


@pytest.mark.parametrize("name", ["ANONYMOUS_WRONG_CODE_RATE_LIMIT",
                                  "ANONYMOUS_WRONG_CODES_PER_REFERENCE"])
def test_a_wrong_code_limit_must_be_a_rate_limit(tmp_path, name):
    with pytest.raises(ConfigError, match=name):
        load_config({name: "ten an hour"}, tmp_path)
