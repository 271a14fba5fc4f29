"""Settings changed in the service: incidents/services/settings.py.

The rules (docs/configuration.md, "Settings changed in the service"): the environment's value
applies until an administrator changes a setting, and again after going back to it; every field
is checked before anything is written; each change is audited with old → new; only admins; the
stored values are read once per application context.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.errors import Forbidden, NotFound, ValidationFailed
from incidents.extensions import db
from incidents.models import AuditEntry, OutboxMail, Setting
from incidents.services import outbox, settings

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def _audit(db_session) -> list[tuple[int | None, str, int | None, str]]:
    return [(e.actor_id, e.action, e.incident_id, e.detail) for e in db_session.scalars(
        sa.select(AuditEntry).where(AuditEntry.detail.like("setting %")).order_by(AuditEntry.id))]


def _rows(db_session) -> dict:
    return {row.key: row.value for row in db_session.scalars(sa.select(Setting))}


# -- the environment's value, and a change ------------------------------------------------------


def test_without_a_change_each_setting_is_the_environments_and_follows_it(app, monkeypatch):
    for key in settings.REGISTRY:
        assert settings.value(key) == app.config[key]
    monkeypatch.setitem(app.config, "ACKNOWLEDGE_WITHIN_HOURS", 12)
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 12
    assert settings.effective().get("ACKNOWLEDGE_WITHIN_HOURS").source == "environment"


def test_a_change_is_stored_is_in_effect_and_is_audited_with_old_and_new(app, db_session, org):
    with freeze_time(NOW):
        current = settings.change(org.admin, {
            "ACKNOWLEDGE_WITHIN_HOURS": 48, "CHECK_IN_OFFSETS": ["2d", "2w"],
            "RETENTION_AFTER_CLOSE_DAYS": 730})
    db_session.commit()
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 48
    assert settings.value("CHECK_IN_OFFSETS") == ["2d", "2w"]
    assert settings.value("RETENTION_AFTER_CLOSE_DAYS") == 730
    assert _rows(db_session) == {"ACKNOWLEDGE_WITHIN_HOURS": 48, "CHECK_IN_OFFSETS": ["2d", "2w"],
                                 "RETENTION_AFTER_CLOSE_DAYS": 730}
    item = current.get("ACKNOWLEDGE_WITHIN_HOURS")
    assert (item.value, item.environment_value, item.source, item.changed_by.id,
            item.changed_at) == (48, 24, "service", org.admin.id, NOW)
    assert current.get("POLICE_DECISION_DAYS").source == "environment"
    admin = org.admin.id
    assert sorted(_audit(db_session)) == sorted([
        (admin, "update", None, "setting ACKNOWLEDGE_WITHIN_HOURS: 24 → 48"),
        (admin, "update", None, "setting CHECK_IN_OFFSETS: 1d,1w,1m,3m → 2d,2w"),
        (admin, "update", None, "setting RETENTION_AFTER_CLOSE_DAYS: not set → 730"),
    ])


def test_a_changed_setting_no_longer_follows_the_environment(app, db_session, org, monkeypatch):
    settings.change(org.admin, {"POLICE_DECISION_DAYS": 3})
    monkeypatch.setitem(app.config, "POLICE_DECISION_DAYS", 10)
    assert settings.value("POLICE_DECISION_DAYS") == 3
    assert settings.effective().get("POLICE_DECISION_DAYS").environment_value == 10


def test_retention_can_be_set_back_to_not_set(app, db_session, org, monkeypatch):
    """"Not set" is a value of its own: with the environment's 365 days, an administrator who
    sets it to not set stops retention."""
    monkeypatch.setitem(app.config, "RETENTION_AFTER_CLOSE_DAYS", 365)
    settings.change(org.admin, {"RETENTION_AFTER_CLOSE_DAYS": None})
    db_session.commit()
    assert settings.value("RETENTION_AFTER_CLOSE_DAYS") is None
    assert "RETENTION_AFTER_CLOSE_DAYS" in _rows(db_session)
    assert _audit(db_session)[-1][3] == "setting RETENTION_AFTER_CLOSE_DAYS: 365 → not set"


def test_a_value_equal_to_the_one_in_effect_changes_nothing(db_session, org):
    version = settings.effective().version
    settings.change(org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 24, "CHECK_IN_OFFSETS":
                                ["1d", "1w", "1m", "3m"]})
    assert _rows(db_session) == {} and _audit(db_session) == []
    assert settings.effective().version == version


def test_the_value_in_effect_is_accepted_even_outside_the_services_bounds(
        app, db_session, org, monkeypatch):
    """The environment may set more than the service accepts (1000 hours, 25 check-ins): sent
    back as it is, it changes nothing and refuses nothing, so the other fields can be saved."""
    monkeypatch.setitem(app.config, "ACKNOWLEDGE_WITHIN_HOURS", 1000)
    many = [f"{n}d" for n in range(1, 26)]
    monkeypatch.setitem(app.config, "CHECK_IN_OFFSETS", many)
    settings.change(org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 1000, "CHECK_IN_OFFSETS": many,
                                "POLICE_DECISION_DAYS": 5})
    assert _rows(db_session) == {"POLICE_DECISION_DAYS": 5}
    with pytest.raises(ValidationFailed) as refused:
        settings.change(org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 999})
    assert list(refused.value.errors) == ["ACKNOWLEDGE_WITHIN_HOURS"]
    monkeypatch.setitem(app.config, "POLICE_DECISION_DAYS", 1)
    with pytest.raises(ValidationFailed):  # true is not the 1 in effect
        settings.change(org.admin, {"MAIL_KEEP_SENT_DAYS": True})


def test_a_second_change_updates_the_row_and_the_version(db_session, org, make):
    other = make.user("admin")
    settings.change(org.admin, {"MAIL_KEEP_SENT_DAYS": 60})
    first = settings.effective().version
    settings.change(other, {"MAIL_KEEP_SENT_DAYS": 90})
    current = settings.effective()
    assert current.version != first
    assert (current.get("MAIL_KEEP_SENT_DAYS").value,
            current.get("MAIL_KEEP_SENT_DAYS").changed_by.id) == (90, other.id)
    assert [entry[3] for entry in _audit(db_session)] == [
        "setting MAIL_KEEP_SENT_DAYS: 30 → 60", "setting MAIL_KEEP_SENT_DAYS: 60 → 90"]


# -- checks: every field, nothing written if any is bad -----------------------------------------


def test_bad_fields_are_named_each_and_nothing_is_written(db_session, org):
    with pytest.raises(ValidationFailed) as refused:
        settings.change(org.admin, {
            "ACKNOWLEDGE_WITHIN_HOURS": 48,  # good, but not written either
            "POLICE_DECISION_DAYS": 0,
            "CHECK_IN_OFFSETS": ["1d", "1y"],
            "SMTP_PASSWORD": "secret",
            "MAIL_SERVER": "smtp.example",
        })
    errors = refused.value.errors
    assert set(errors) == {"POLICE_DECISION_DAYS", "CHECK_IN_OFFSETS", "SMTP_PASSWORD",
                           "MAIL_SERVER"}
    assert errors["POLICE_DECISION_DAYS"] == ["must be a whole number from 1 to 365"]
    assert errors["CHECK_IN_OFFSETS"] == ["'1y' is not a number followed by d, w or m"]
    assert errors["MAIL_SERVER"][0].startswith("unknown setting; the settings are: ")
    assert _rows(db_session) == {} and _audit(db_session) == []
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 24


def test_nothing_to_change_is_refused(org):
    with pytest.raises(ValidationFailed) as refused:
        settings.change(org.admin, {})
    assert set(refused.value.errors) == {"settings"}


@pytest.mark.parametrize("key", [key for key, d in settings.REGISTRY.items()
                                 if d.kind != "offsets"])
def test_each_number_has_its_bounds(db_session, org, key):
    definition = settings.REGISTRY[key]
    for bad in (definition.minimum - 1, definition.maximum + 1, True, "12", 1.5, [1]):
        with pytest.raises(ValidationFailed) as refused:
            settings.change(org.admin, {key: bad})
        assert list(refused.value.errors) == [key], bad
    for good in (definition.minimum, definition.maximum):
        settings.change(org.admin, {key: good})
        assert settings.value(key) == good
    if definition.optional:
        settings.change(org.admin, {key: None})
        assert settings.value(key) is None
    else:
        with pytest.raises(ValidationFailed):
            settings.change(org.admin, {key: None})


@pytest.mark.parametrize(("offsets", "message"), [
    ([], "must name at least one offset, e.g. 1d, 1w, 1m, 3m"),
    (["1d", "1d"], "lists an offset twice"),
    (["1d", "01d"], "lists an offset twice"),
    (["0w"], "'0w' must be between 1w and 522w"),
    (["121m"], "'121m' must be between 1m and 120m"),
    (["1d,1w"], "'1d,1w' is not one offset: a number followed by d, w or m"),
    ([" "], "' ' is not one offset: a number followed by d, w or m"),
    (["\u00b2d"], "'\u00b2d' is not a number followed by d, w or m"),
    ([f"{n}d" for n in range(1, 22)], "must name at most 20 offsets"),
    ("1d,1w", 'must be a list of offsets like ["1d", "1w", "1m", "3m"]'),
    ([1], 'must be a list of offsets like ["1d", "1w", "1m", "3m"]'),
])
def test_check_in_offsets_follow_the_environments_rule(org, offsets, message):
    with pytest.raises(ValidationFailed) as refused:
        settings.change(org.admin, {"CHECK_IN_OFFSETS": offsets})
    assert refused.value.errors == {"CHECK_IN_OFFSETS": [message]}


def test_check_in_offsets_are_stored_as_the_environment_reads_them(db_session, org):
    settings.change(org.admin, {"CHECK_IN_OFFSETS": [" 02d", "3w ", "6m", "10d"]})
    assert settings.value("CHECK_IN_OFFSETS") == ["2d", "3w", "6m", "10d"]


# -- only admins --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["employee_a1", "manager_a", "hr"])
def test_only_admins_change_or_reset_settings(db_session, org, who):
    person = getattr(org, who)
    with pytest.raises(Forbidden):
        settings.change(person, {"ACKNOWLEDGE_WITHIN_HOURS": 48})
    with pytest.raises(Forbidden):
        settings.change(person, {"NO_SUCH_SETTING": 1})  # who, before what
    with pytest.raises(Forbidden):
        settings.reset(person, "ACKNOWLEDGE_WITHIN_HOURS")
    assert _rows(db_session) == {} and _audit(db_session) == []


# -- back to the environment's value ------------------------------------------------------------


def test_reset_goes_back_to_the_environments_value_and_is_audited(app, db_session, org,
                                                                   monkeypatch):
    settings.change(org.admin, {"AUTHORITY_NOTIFICATION_HOURS": 8})
    monkeypatch.setitem(app.config, "AUTHORITY_NOTIFICATION_HOURS", 12)
    current = settings.reset(org.admin, "AUTHORITY_NOTIFICATION_HOURS")
    item = current.get("AUTHORITY_NOTIFICATION_HOURS")
    assert (item.value, item.source, item.changed_by, item.changed_at) == (
        12, "environment", None, None)
    assert settings.value("AUTHORITY_NOTIFICATION_HOURS") == 12
    assert _rows(db_session) == {}
    assert [entry[3] for entry in _audit(db_session)] == [
        "setting AUTHORITY_NOTIFICATION_HOURS: 24 → 8",
        "setting AUTHORITY_NOTIFICATION_HOURS back to the environment's value: 8 → 12"]
    # Following the environment again.
    monkeypatch.setitem(app.config, "AUTHORITY_NOTIFICATION_HOURS", 6)
    assert settings.value("AUTHORITY_NOTIFICATION_HOURS") == 6


def test_resetting_an_unchanged_setting_writes_nothing_and_an_unknown_one_is_404(db_session,
                                                                                 org):
    settings.reset(org.admin, "MAIL_KEEP_SENT_DAYS")
    assert _audit(db_session) == []
    with pytest.raises(NotFound):
        settings.reset(org.admin, "MAIL_SERVER")


# -- read once per application context ----------------------------------------------------------


def test_the_stored_values_are_read_once_per_application_context(app, db_session, org):
    settings.change(org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 36})
    db_session.commit()
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "FROM settings" in statement:
            seen.append(statement)

    engine = db_session.get_bind().engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with app.app_context():
            for _ in range(50):
                assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 36
                assert settings.value("POLICE_DECISION_DAYS") == 7
            assert len(seen) == 1
        with app.app_context():  # the next request reads them again
            assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 36
            assert len(seen) == 2
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_change_and_a_rollback_are_seen_at_once_in_the_same_context(db_session, org):
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 24  # read, and kept
    settings.change(org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 30})
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 30
    db.session.rollback()
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 24


def test_a_stored_value_the_rules_no_longer_allow_is_ignored(db_session, org):
    """Bounds narrowed after a value was stored: the environment's value applies, rather than
    a value the service would refuse now."""
    db_session.add(Setting(key="ACKNOWLEDGE_WITHIN_HOURS", value=100_000,
                           updated_by_id=org.admin.id))
    db_session.add(Setting(key="NOT_A_SETTING_ANY_MORE", value=1, updated_by_id=org.admin.id))
    db_session.commit()
    settings.forget()
    assert settings.value("ACKNOWLEDGE_WITHIN_HOURS") == 24
    assert settings.effective().get("ACKNOWLEDGE_WITHIN_HOURS").source == "environment"


# -- a rule that reads one: sent mails kept ------------------------------------------------------


def test_sent_mails_are_kept_as_long_as_the_setting_in_effect(db_session, org):
    def sent(days_ago: int) -> OutboxMail:
        mail = OutboxMail(kind="status_changed", recipient="a@stad.example", subject="OP",
                          body="Ny status.", status="sent",
                          sent_at=NOW - timedelta(days=days_ago))
        db_session.add(mail)
        return mail

    week_old, _month_and_a_half = sent(7), sent(45)
    db_session.commit()
    kept = week_old.id
    assert outbox.purge_sent(NOW) == 1  # the environment's 30 days
    assert db_session.scalars(sa.select(OutboxMail.id)).all() == [kept]
    settings.change(org.admin, {"MAIL_KEEP_SENT_DAYS": 5})
    assert outbox.purge_sent(NOW) == 1
    assert db_session.scalars(sa.select(OutboxMail.id)).all() == []
