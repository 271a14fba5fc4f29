"""RETENTION_AFTER_CLOSE_DAYS (incidents.config.load_config): the retention period comes from the
organisation's own information-management plan (docs/configuration.md), so it has no default; a
value that is not a whole number of at least one day stops start-up and names the setting."""

from __future__ import annotations

import pytest

from incidents.config import ConfigError, load_config


@pytest.mark.parametrize("env", [{}, {"RETENTION_AFTER_CLOSE_DAYS": ""},
                                 {"RETENTION_AFTER_CLOSE_DAYS": "  "}])
def test_unset_means_no_period_and_nothing_is_anonymised(tmp_path, env):
    assert load_config(env, tmp_path)["RETENTION_AFTER_CLOSE_DAYS"] is None


@pytest.mark.parametrize(("raw", "days"), [("1", 1), ("730", 730), (" 3650 ", 3650),
                                           ("36500", 36500)])
def test_a_whole_number_of_days_is_the_period(tmp_path, raw, days):
    config = load_config({"RETENTION_AFTER_CLOSE_DAYS": raw}, tmp_path)
    assert config["RETENTION_AFTER_CLOSE_DAYS"] == days


@pytest.mark.parametrize("raw", ["0", "-30", "two years", "2.5", "1e3", "36501"])
def test_a_bad_period_stops_start_up_and_names_itself(tmp_path, raw):
    with pytest.raises(ConfigError, match="RETENTION_AFTER_CLOSE_DAYS"):
        load_config({"RETENTION_AFTER_CLOSE_DAYS": raw}, tmp_path)


def test_the_app_refuses_to_start_with_a_bad_period(monkeypatch, tmp_path):
    """The check runs when the application is built, not first at the nightly job."""
    from incidents import create_app

    monkeypatch.setenv("RETENTION_AFTER_CLOSE_DAYS", "0")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="RETENTION_AFTER_CLOSE_DAYS must be at least 1"):
        create_app({"TESTING": True})
