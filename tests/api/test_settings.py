"""/api/v1/settings: the settings an administrator changes in the service (services/settings.py,
docs/configuration.md "Settings changed in the service").

Access (admin only, checked before the body), If-Match, validation naming every bad field with
nothing written, the audit trail, and the effect of a change on the rules that read a setting:
the overdue list, check-ins, the police and authority deadlines, and the nightly retention job
under the real scheduler.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.models import AuditEntry, CheckIn, Incident, Setting, StatusChange
from incidents.schemas.settings import SettingsPatchSchema
from incidents.services import settings
from tests.scheduler.harness import SchedulerUnderTest

URL = "/api/v1/settings"


def _get(client, make, user):
    return client.get(URL, headers=make.headers(user))


def _values(response) -> dict:
    assert response.status_code == 200, response.get_json()
    return {item["key"]: item["value"] for item in response.get_json()["settings"]}


def _patch(client, make, user, body, etag: str | None = "read"):
    extra = {}
    if etag == "read":
        etag = _get(client, make, user).headers.get("ETag", '"none"')
    if etag is not None:
        extra["If-Match"] = etag
    return client.patch(URL, json=body, headers=make.headers(user, **extra))


def _audit(db_session) -> list[tuple[int | None, str | None]]:
    return [(e.actor_id, e.detail) for e in db_session.scalars(
        sa.select(AuditEntry).where(AuditEntry.detail.like("setting %"))
        .order_by(AuditEntry.id))]


def _rows(db_session) -> dict:
    return {row.key: row.value for row in db_session.scalars(sa.select(Setting))}


# -- reading -----------------------------------------------------------------------------------


def test_an_admin_reads_every_setting_with_its_source_and_bounds(app, client, make, org):
    response = _get(client, make, org.admin)

    assert response.status_code == 200
    assert response.headers["ETag"].startswith('"settings-all-v')
    items = {item["key"]: item for item in response.get_json()["settings"]}
    assert list(items) == list(settings.REGISTRY)
    assert items["ACKNOWLEDGE_WITHIN_HOURS"] == {
        "key": "ACKNOWLEDGE_WITHIN_HOURS", "label": "Acknowledge a new report within",
        "kind": "hours", "minimum": 1, "maximum": 720, "optional": False, "value": 24,
        "environment_value": 24, "source": "environment", "changed_by": None,
        "changed_at": None}
    assert items["RETENTION_AFTER_CLOSE_DAYS"]["optional"] is True
    assert items["CHECK_IN_OFFSETS"]["value"] == ["1d", "1w", "1m", "3m"]
    # The deployment's settings and secrets are not among them.
    assert not {"MAIL_SERVER", "MAIL_PASSWORD", "MAIL_FROM", "PUBLIC_BASE_URL"} & set(items)
    assert "MAIL_PASSWORD" not in response.get_data(as_text=True)


def test_the_body_schema_takes_exactly_the_registrys_settings():
    assert set(SettingsPatchSchema().fields) == set(settings.REGISTRY)


# -- access: admins only, before the body ---------------------------------------------------------


@pytest.mark.parametrize("who", ["employee_a1", "manager_a", "hr"])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", URL, None),
    ("PATCH", URL, {"ACKNOWLEDGE_WITHIN_HOURS": 48}),
    ("PATCH", URL, {"NO_SUCH_SETTING": "x", "ACKNOWLEDGE_WITHIN_HOURS": -1}),
    ("DELETE", f"{URL}/ACKNOWLEDGE_WITHIN_HOURS", None),
    ("DELETE", f"{URL}/NO_SUCH_SETTING", None),
])
def test_everyone_but_admins_gets_403_whatever_they_send(client, make, org, db_session, who,
                                                          method, path, body):
    settings.change(org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 30})
    db_session.commit()
    before = (_rows(db_session), _audit(db_session))

    response = client.open(path, method=method, json=body,
                           headers=make.headers(getattr(org, who), **{"If-Match": "*"}))

    assert response.status_code == 403, response.get_json()
    assert response.get_json()["detail"] == "This needs the admin or platform_admin role."
    assert (_rows(db_session), _audit(db_session)) == before


def test_without_a_token_it_is_401(client):
    assert client.get(URL).status_code == 401
    assert client.patch(URL, json={"ACKNOWLEDGE_WITHIN_HOURS": 48}).status_code == 401
    assert client.delete(f"{URL}/ACKNOWLEDGE_WITHIN_HOURS").status_code == 401


# -- changing: If-Match, validation, audit -----------------------------------------------------


def test_a_change_needs_the_etag_read(client, make, org, db_session):
    missing = _patch(client, make, org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 48}, etag=None)
    assert missing.status_code == 428
    first = _get(client, make, org.admin).headers["ETag"]
    assert _patch(client, make, org.admin, {"POLICE_DECISION_DAYS": 5}).status_code == 200

    stale = _patch(client, make, org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 48}, etag=first)

    assert stale.status_code == 412
    assert _rows(db_session) == {"POLICE_DECISION_DAYS": 5}


def test_an_admin_changes_settings_and_each_change_is_audited(client, make, org, db_session):
    with freeze_time("2026-06-01T10:00:00+00:00"):
        response = _patch(client, make, org.admin, {
            "ACKNOWLEDGE_WITHIN_HOURS": 48, "CHECK_IN_OFFSETS": ["2d", "2w", "2m"],
            "RETENTION_AFTER_CLOSE_DAYS": 730, "MAIL_KEEP_SENT_DAYS": 30})

    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] == _get(client, make, org.admin).headers["ETag"]
    items = {item["key"]: item for item in response.get_json()["settings"]}
    assert items["ACKNOWLEDGE_WITHIN_HOURS"] | {"label": None} == {
        "key": "ACKNOWLEDGE_WITHIN_HOURS", "label": None, "kind": "hours", "minimum": 1,
        "maximum": 720, "optional": False, "value": 48, "environment_value": 24,
        "source": "service", "changed_by": {"id": org.admin.id, "name": org.admin.name},
        "changed_at": "2026-06-01T10:00:00+00:00"}
    assert items["MAIL_KEEP_SENT_DAYS"]["source"] == "environment"  # the same value: unchanged
    assert _values(_get(client, make, org.admin))["CHECK_IN_OFFSETS"] == ["2d", "2w", "2m"]
    assert sorted(_audit(db_session)) == sorted([
        (org.admin.id, "setting ACKNOWLEDGE_WITHIN_HOURS: 24 → 48"),
        (org.admin.id, "setting CHECK_IN_OFFSETS: 1d,1w,1m,3m → 2d,2w,2m"),
        (org.admin.id, "setting RETENTION_AFTER_CLOSE_DAYS: not set → 730"),
    ])
    trail = client.get("/api/v1/audit", headers=make.headers(org.admin)).get_json()
    assert {"setting ACKNOWLEDGE_WITHIN_HOURS: 24 → 48"} <= {e["detail"] for e in trail}


@pytest.mark.parametrize(("body", "named"), [
    ({"ACKNOWLEDGE_WITHIN_HOURS": 0}, {"ACKNOWLEDGE_WITHIN_HOURS"}),
    ({"ACKNOWLEDGE_WITHIN_HOURS": 721}, {"ACKNOWLEDGE_WITHIN_HOURS"}),
    ({"ACKNOWLEDGE_WITHIN_HOURS": "48"}, {"ACKNOWLEDGE_WITHIN_HOURS"}),
    ({"ACKNOWLEDGE_WITHIN_HOURS": None}, {"ACKNOWLEDGE_WITHIN_HOURS"}),
    ({"POLICE_DECISION_DAYS": 366, "AUTHORITY_NOTIFICATION_HOURS": 169},
     {"POLICE_DECISION_DAYS", "AUTHORITY_NOTIFICATION_HOURS"}),
    ({"RETENTION_AFTER_CLOSE_DAYS": 36_501}, {"RETENTION_AFTER_CLOSE_DAYS"}),
    ({"MAIL_KEEP_SENT_DAYS": True}, {"MAIL_KEEP_SENT_DAYS"}),
    ({"CHECK_IN_OFFSETS": ["1d", "1y"]}, {"CHECK_IN_OFFSETS"}),
    ({"CHECK_IN_OFFSETS": []}, {"CHECK_IN_OFFSETS"}),
    ({"CHECK_IN_OFFSETS": "1d,1w"}, {"CHECK_IN_OFFSETS"}),
    ({"MAIL_SERVER": "smtp.example", "PUBLIC_BASE_URL": "https://x.example",
      "ACKNOWLEDGE_WITHIN_HOURS": 48}, {"MAIL_SERVER", "PUBLIC_BASE_URL"}),
    ({}, {"settings"}),
])
def test_bad_fields_are_a_422_naming_each_and_nothing_is_written(client, make, org, db_session,
                                                                  body, named):
    response = _patch(client, make, org.admin, body, etag="*")

    assert response.status_code == 422, response.get_json()
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert set(problem["errors"]) == named
    for key in named:
        assert key in problem["detail"]
    assert _rows(db_session) == {} and _audit(db_session) == []


def test_what_was_read_can_be_sent_back_even_if_the_environment_is_outside_the_bounds(
        app, client, make, org, db_session, monkeypatch):
    monkeypatch.setitem(app.config, "ACKNOWLEDGE_WITHIN_HOURS", 1000)
    read = _values(_get(client, make, org.admin))

    response = _patch(client, make, org.admin, {**read, "POLICE_DECISION_DAYS": 5})

    assert response.status_code == 200, response.get_json()
    assert _rows(db_session) == {"POLICE_DECISION_DAYS": 5}
    refused = _patch(client, make, org.admin, {"ACKNOWLEDGE_WITHIN_HOURS": 1001}, etag="*")
    assert set(refused.get_json()["errors"]) == {"ACKNOWLEDGE_WITHIN_HOURS"}


def test_an_unknown_key_is_told_which_settings_there_are(client, make, org):
    problem = _patch(client, make, org.admin, {"MAIL_PASSWORD": "x"}, etag="*").get_json()
    assert problem["errors"]["MAIL_PASSWORD"] == [
        "unknown setting; the settings are: " + ", ".join(settings.REGISTRY)]


def test_delete_goes_back_to_the_environments_value(client, make, org, db_session):
    _patch(client, make, org.admin, {"POLICE_DECISION_DAYS": 3})

    response = client.delete(f"{URL}/POLICE_DECISION_DAYS", headers=make.headers(org.admin))

    assert response.status_code == 200, response.get_json()
    item = next(i for i in response.get_json()["settings"] if i["key"] == "POLICE_DECISION_DAYS")
    assert (item["value"], item["source"], item["changed_by"]) == (7, "environment", None)
    assert _rows(db_session) == {}
    assert _audit(db_session)[-1] == (
        org.admin.id, "setting POLICE_DECISION_DAYS back to the environment's value: 3 → 7")
    unknown = client.delete(f"{URL}/MAIL_SERVER", headers=make.headers(org.admin))
    assert unknown.status_code == 404
    assert "MAIL_SERVER" in unknown.get_json()["detail"]


# -- what a change affects ------------------------------------------------------------------------


def _overdue(client, make, user) -> list[tuple[str, int]]:
    response = client.get("/api/v1/follow-up/overdue", headers=make.headers(user))
    assert response.status_code == 200, response.get_json()
    return [(item["kind"], item["incident_id"]) for item in response.get_json()["items"]]


def test_the_acknowledgement_deadline_changes_the_overdue_list_at_once(client, make, org):
    with freeze_time("2026-03-10T12:00:00+00:00"):
        incident = make.incident(org.employee_a1, org.a1, category="harassment")
    with freeze_time("2026-03-11T00:30:00+00:00"):  # 12.5 hours after the report
        assert _overdue(client, make, org.manager_a) == []
        assert _patch(client, make, org.admin,
                      {"ACKNOWLEDGE_WITHIN_HOURS": 12}).status_code == 200
        assert _overdue(client, make, org.manager_a) == [("acknowledgement", incident.id)]
        assert _overdue(client, make, org.hr) == [("acknowledgement", incident.id)]
        client.delete(f"{URL}/ACKNOWLEDGE_WITHIN_HOURS", headers=make.headers(org.admin))
        assert _overdue(client, make, org.manager_a) == []


def _check_ins(client, make, org, incident) -> list[str]:
    response = client.get(f"/api/v1/incidents/{incident.id}/check-ins",
                          headers=make.headers(org.manager_a))
    return [check_in["offset"] for check_in in response.get_json()]


def test_new_check_in_offsets_apply_to_incidents_acknowledged_afterwards(client, make, org,
                                                                         db_session):
    before = make.incident(org.employee_a1, org.a1)
    client.post(f"/api/v1/incidents/{before.id}/acknowledge",
                headers=make.headers(org.manager_a))
    due_before = sorted(db_session.scalars(sa.select(CheckIn.due_at).where(
        CheckIn.incident_id == before.id)))
    waiting = make.incident(org.employee_a1, org.a1)  # reported, not yet acknowledged

    assert _patch(client, make, org.admin, {"CHECK_IN_OFFSETS": ["2d", "6m"]}).status_code == 200
    client.post(f"/api/v1/incidents/{waiting.id}/acknowledge",
                headers=make.headers(org.manager_a))

    assert _check_ins(client, make, org, before) == ["1d", "1w", "1m", "3m"]
    assert sorted(db_session.scalars(sa.select(CheckIn.due_at).where(
        CheckIn.incident_id == before.id))) == due_before
    assert _check_ins(client, make, org, waiting) == ["2d", "6m"]


def test_the_police_and_authority_deadlines_follow_the_changed_setting(client, make, org):
    reported = datetime(2026, 3, 10, 12, tzinfo=UTC)
    with freeze_time(reported):
        violence = make.incident(org.employee_a1, org.a1, category="violence")
        assert _patch(client, make, org.admin, {
            "POLICE_DECISION_DAYS": 3, "AUTHORITY_NOTIFICATION_HOURS": 8}).status_code == 200
        manager = make.headers(org.manager_a)
        police = client.get(f"/api/v1/incidents/{violence.id}/police-report",
                            headers=manager).get_json()
        authority = client.get(f"/api/v1/incidents/{violence.id}/authority-reports",
                               headers=manager).get_json()
    assert police["decision_due_at"] == (reported + timedelta(days=3)).isoformat()
    assert authority["work_environment_authority"]["due_at"] == (
        reported + timedelta(hours=8)).isoformat()


def _closed(db_session, make, org, closed_at: datetime) -> Incident:
    """An incident of A1 closed at ``closed_at`` (reported a month before)."""
    with freeze_time(closed_at - timedelta(days=30)):
        incident = make.incident(org.employee_a1, org.a1)
    db_session.add(StatusChange(incident_id=incident.id, from_status="reported",
                                to_status="closed", at=closed_at, by_id=org.manager_a.id))
    incident.status, incident.closed_at = "closed", closed_at
    db_session.commit()
    return incident


def test_the_nightly_retention_job_uses_the_period_in_effect_when_it_runs(
        app, client, make, org, db_session):
    """With no period in the environment nothing is anonymised; an administrator sets 30 days
    in the afternoon and that night's 03:30 run anonymises what was closed more than 30 days
    before; a longer period set the next day keeps the rest at the next run."""
    assert app.config["RETENTION_AFTER_CLOSE_DAYS"] is None
    start = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # 14:00 in Stockholm
    old = _closed(db_session, make, org, start - timedelta(days=40))
    recent = _closed(db_session, make, org, start - timedelta(days=20))
    first_night = datetime(2026, 6, 2, 1, 30, tzinfo=UTC)  # 03:30 CEST
    with freeze_time(start - timedelta(days=1, hours=1)) as freezer:
        running = SchedulerUnderTest(app, freezer).start()
        try:
            running.advance_to(start - timedelta(hours=8))  # a night without a period
            assert [r.result for r in running.runs("retention")] == [0]
            running.advance_to(start)
            assert _patch(client, make, org.admin,
                          {"RETENTION_AFTER_CLOSE_DAYS": 30}).status_code == 200
            running.advance_to(first_night)
            assert _patch(client, make, org.admin,
                          {"RETENTION_AFTER_CLOSE_DAYS": 36_500}).status_code == 200
            running.advance_to(first_night + timedelta(days=20))
        finally:
            running.stop()
    assert running.errors() == []
    assert [r.result for r in running.runs("retention")][:2] == [0, 1]
    assert sum(r.result for r in running.runs("retention")) == 1
    db_session.expire_all()
    assert db_session.get(Incident, old.id).anonymised_at == first_night
    assert db_session.get(Incident, recent.id).anonymised_at is None
