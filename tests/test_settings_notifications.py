"""Settings added with notifications, the anonymous channel and statistics
(incidents.config.load_config): defaults, and refusals that name the setting."""

from __future__ import annotations

import pytest

from incidents.config import ConfigError, load_config

PRODUCTION = {"INCIDENTS_ENV": "production", "DATABASE_URL": "sqlite://",
              "SECRET_KEY": "x" * 40}


def test_without_a_mail_server_mail_goes_to_the_log_by_default(tmp_path):
    config = load_config({}, tmp_path)
    assert config["MAIL_SERVER"] is None
    assert config["STATS_SUPPRESSION_THRESHOLD"] == 5
    assert config["ANONYMOUS_REPORT_RATE_LIMIT"] == "5 per hour;20 per day"
    assert config["PROXY_FIX_X_FOR"] == 0


@pytest.mark.parametrize(("env", "port"), [
    ({}, 25), ({"MAIL_USE_TLS": "true"}, 587), ({"MAIL_USE_SSL": "true"}, 465),
    ({"MAIL_USE_TLS": "true", "MAIL_PORT": "2525"}, 2525),
])
def test_the_mail_port_follows_the_kind_of_tls(tmp_path, env, port):
    assert load_config(env, tmp_path)["MAIL_PORT"] == port


@pytest.mark.parametrize(("env", "named"), [
    ({"MAIL_USE_TLS": "true", "MAIL_USE_SSL": "true"}, "MAIL_USE_TLS"),
    ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS"),
    ({"MAIL_PORT": "smtp"}, "MAIL_PORT"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ({"ANONYMOUS_REPORT_RATE_LIMIT": "lots"}, "ANONYMOUS_REPORT_RATE_LIMIT"),
    ({"ANONYMOUS_READ_RATE_LIMIT": "5 per fortnight"}, "ANONYMOUS_READ_RATE_LIMIT"),
    ({"STATS_SUPPRESSION_THRESHOLD": "0"}, "STATS_SUPPRESSION_THRESHOLD"),
    ({"MAIL_LEASE_SECONDS": "5"}, "MAIL_LEASE_SECONDS"),
])
def test_a_bad_setting_stops_start_up_and_names_itself(tmp_path, env, named):
    with pytest.raises(ConfigError, match=named):
        load_config(env, tmp_path)


def test_production_with_a_mail_server_needs_a_sender_address(tmp_path):
    with pytest.raises(ConfigError, match="MAIL_FROM"):
        load_config({**PRODUCTION, "MAIL_SERVER": "smtp.stad.example"}, tmp_path)
    config = load_config({**PRODUCTION, "MAIL_SERVER": "smtp.stad.example",
                          "MAIL_FROM": "noreply@stad.example"}, tmp_path)
    assert config["MAIL_FROM"] == "noreply@stad.example"
