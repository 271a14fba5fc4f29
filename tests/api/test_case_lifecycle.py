"""Life cycle, follow-up entries, check-ins and the overdue list (docs/manager-guide.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

NOON = "2026-03-10T12:00:00+00:00"


def _ack(client, make, incident, user):
    return client.post(f"/api/v1/incidents/{incident.id}/acknowledge", headers=make.headers(user))


def _follow_up(client, make, incident, user, **overrides):
    body = {"type": "conversation", "note": "Samtal med medarbetaren om händelsen.",
            "occurred_at": datetime.now(UTC).isoformat(), **overrides}
    return client.post(f"/api/v1/incidents/{incident.id}/follow-ups", json=body,
                       headers=make.headers(user))


# -- acknowledge --------------------------------------------------------------------------


def test_manager_of_the_unit_acknowledges_and_check_ins_are_scheduled(client, make, org):
    with freeze_time("2026-01-31T09:00:00+00:00"):
        incident = make.incident(org.employee_a1, org.a1,
                                 occurred_at=datetime(2026, 1, 31, 8, tzinfo=UTC))
        response = _ack(client, make, incident, org.manager_a)
        check_ins = client.get(f"/api/v1/incidents/{incident.id}/check-ins",
                               headers=make.headers(org.manager_a)).get_json()
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "acknowledged"
    assert response.get_json()["acknowledged_at"] == "2026-01-31T09:00:00+00:00"
    # 09:00 Stockholm on 31 January; a month later is 28 February (no 31st), 3 months is
    # 30 April, after the change to summer time: still 09:00 on the wall clock (07:00 UTC).
    assert [(c["offset"], c["due_at"]) for c in check_ins] == [
        ("1d", "2026-02-01T08:00:00+00:00"),
        ("1w", "2026-02-07T08:00:00+00:00"),
        ("1m", "2026-02-28T08:00:00+00:00"),
        ("3m", "2026-04-30T07:00:00+00:00"),
    ]


def test_check_in_offsets_are_configurable(client, make, org, app, monkeypatch):
    monkeypatch.setitem(app.config, "CHECK_IN_OFFSETS", ["2d", "6m"])
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    check_ins = client.get(f"/api/v1/incidents/{incident.id}/check-ins",
                           headers=make.headers(org.manager_a)).get_json()
    assert [c["offset"] for c in check_ins] == ["2d", "6m"]


@pytest.mark.parametrize(("who", "status"), [
    ("hr", 200), ("manager_a", 200), ("manager_b1", 404), ("employee_a1", 403),
    ("colleague_a1", 404), ("admin", 404),
])
def test_who_may_acknowledge(client, make, org, who, status):
    incident = make.incident(org.employee_a1, org.a1)
    assert _ack(client, make, incident, getattr(org, who)).status_code == status


def test_nobody_handles_their_own_case(client, make, org):
    """A manager exposed in their own unit is not their own case handler; hr is."""
    incident = make.incident(org.manager_a, org.a1)
    assert _ack(client, make, incident, org.manager_a).status_code == 403
    assert _ack(client, make, incident, org.hr).status_code == 200
    overdue_free = make.incident(org.hr, org.forv)
    assert _ack(client, make, overdue_free, org.hr).status_code == 403


def test_acknowledging_twice_is_409(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    again = _ack(client, make, incident, org.hr)
    assert again.status_code == 409
    assert "already acknowledged" in again.get_json()["detail"]


def test_acknowledged_incidents_can_no_longer_be_corrected_by_the_reporter(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    headers = make.headers(org.employee_a1)
    etag = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).headers["ETag"]
    r = client.patch(f"/api/v1/incidents/{incident.id}", json={"location": "phone"},
                     headers={**headers, "If-Match": etag})
    assert r.status_code == 409


# -- follow-up entries --------------------------------------------------------------------


def test_follow_up_needs_an_acknowledged_incident(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    r = _follow_up(client, make, incident, org.manager_a)
    assert r.status_code == 409
    assert "Acknowledge" in r.get_json()["detail"]


def test_the_first_follow_up_moves_the_case_into_follow_up(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    r = _follow_up(client, make, incident, org.manager_a)
    assert r.status_code == 201, r.get_json()
    status = client.get(f"/api/v1/incidents/{incident.id}",
                        headers=make.headers(org.manager_a)).get_json()["status"]
    assert status == "in_follow_up"
    history = client.get(f"/api/v1/incidents/{incident.id}/status-history",
                         headers=make.headers(org.manager_a)).get_json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("reported", "acknowledged"), ("acknowledged", "in_follow_up")]


def test_follow_ups_are_append_only_with_corrections(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    first = _follow_up(client, make, incident, org.manager_a, type="risk_assessment",
                       note="Risk bedömd som låg.").get_json()
    fix = _follow_up(client, make, incident, org.manager_a, type="risk_assessment",
                     note="Rättelse: risken bedöms som medel.", corrects_id=first["id"])
    assert fix.status_code == 201
    entries = client.get(f"/api/v1/incidents/{incident.id}/follow-ups",
                         headers=make.headers(org.manager_a)).get_json()
    assert [(e["id"], e["corrects_id"], e["corrected_by"]) for e in entries] == [
        (first["id"], None, fix.get_json()["id"]), (fix.get_json()["id"], first["id"], None)]
    assert entries[0]["note"] == "Risk bedömd som låg."  # the original is kept as written
    for method in ("put", "patch", "delete"):
        r = getattr(client, method)(f"/api/v1/incidents/{incident.id}/follow-ups",
                                    json={}, headers=make.headers(org.manager_a))
        assert r.status_code == 405


def test_a_correction_must_point_into_the_same_incident(client, make, org):
    one = make.incident(org.employee_a1, org.a1)
    two = make.incident(org.employee_a1, org.a1)
    for incident in (one, two):
        _ack(client, make, incident, org.manager_a)
    entry = _follow_up(client, make, one, org.manager_a).get_json()
    r = _follow_up(client, make, two, org.manager_a, corrects_id=entry["id"])
    assert r.status_code == 422 and "corrects_id" in r.get_json()["errors"]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"type": "chat"}, "type"),
    ({"note": ""}, "note"),
    ({"occurred_at": "2026-01-01T10:00:00"}, "occurred_at"),
    ({"occurred_at": "2099-01-01T10:00:00+00:00"}, "occurred_at"),
    ({"occurred_at": "2001-01-01T10:00:00+00:00"}, "occurred_at"),  # before the incident
])
def test_bad_follow_ups_are_422(client, make, org, overrides, field):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    r = _follow_up(client, make, incident, org.manager_a, **overrides)
    assert r.status_code == 422 and field in r.get_json()["errors"]


def test_follow_up_notes_are_for_case_handlers_only(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    _follow_up(client, make, incident, org.manager_a)
    path = f"/api/v1/incidents/{incident.id}/follow-ups"
    assert client.get(path, headers=make.headers(org.hr)).status_code == 200
    assert client.get(path, headers=make.headers(org.employee_a1)).status_code == 403
    assert client.get(path, headers=make.headers(org.manager_b1)).status_code == 404
    assert _follow_up(client, make, incident, org.employee_a1).status_code == 403


# -- reopen -------------------------------------------------------------------------------


def test_only_a_closed_case_reopens(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    r = client.post(f"/api/v1/incidents/{incident.id}/reopen", json={"reason": "Ny info"},
                    headers=make.headers(org.manager_a))
    assert r.status_code == 409


def test_close_of_a_reported_incident_is_409(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    r = client.post(f"/api/v1/incidents/{incident.id}/close",
                    headers=make.headers(org.manager_a))
    assert r.status_code == 409 and "acknowledged" in r.get_json()["detail"]


# -- check-ins ----------------------------------------------------------------------------


def test_check_ins_are_completed_once_by_a_case_handler(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    _ack(client, make, incident, org.manager_a)
    path = f"/api/v1/incidents/{incident.id}/check-ins"
    first = client.get(path, headers=make.headers(org.employee_a1)).get_json()[0]
    done = f"{path}/{first['id']}/complete"
    assert client.post(done, json={"note": "Mår bättre"},
                       headers=make.headers(org.employee_a1)).status_code == 403
    r = client.post(done, json={"note": "Mår bättre"}, headers=make.headers(org.manager_a))
    assert r.status_code == 200 and r.get_json()["completed_at"]
    again = client.post(done, json={"note": "igen"}, headers=make.headers(org.manager_a))
    assert again.status_code == 409
    assert client.post(f"{path}/999999/complete", json={"note": "x"},
                       headers=make.headers(org.manager_a)).status_code == 404


def test_check_ins_of_another_incident_are_404(client, make, org):
    one = make.incident(org.employee_a1, org.a1)
    two = make.incident(org.employee_a1, org.a1)
    for incident in (one, two):
        _ack(client, make, incident, org.manager_a)
    foreign = client.get(f"/api/v1/incidents/{one.id}/check-ins",
                         headers=make.headers(org.manager_a)).get_json()[0]["id"]
    r = client.post(f"/api/v1/incidents/{two.id}/check-ins/{foreign}/complete",
                    json={"note": "x"}, headers=make.headers(org.manager_a))
    assert r.status_code == 404


# -- overdue ------------------------------------------------------------------------------


def _overdue(client, make, user):
    r = client.get("/api/v1/follow-up/overdue", headers=make.headers(user))
    assert r.status_code == 200, r.get_json()
    return [(i["kind"], i["incident_id"]) for i in r.get_json()["items"]]


def test_an_unacknowledged_incident_is_overdue_after_24_hours(client, make, org):
    with freeze_time(NOON):
        incident = make.incident(org.employee_a1, org.a1, category="harassment")
    with freeze_time("2026-03-11T11:59:00+00:00"):
        assert _overdue(client, make, org.manager_a) == []
    with freeze_time("2026-03-11T12:01:00+00:00"):
        assert _overdue(client, make, org.manager_a) == [("acknowledgement", incident.id)]
        assert _overdue(client, make, org.hr) == [("acknowledgement", incident.id)]
        assert _overdue(client, make, org.manager_b1) == []


def test_a_check_in_is_overdue_once_due_and_not_done(client, make, org):
    with freeze_time(NOON):
        incident = make.incident(org.employee_a1, org.a1, category="harassment",
                                 occurred_at=datetime(2026, 3, 10, 11, tzinfo=UTC))
        _ack(client, make, incident, org.manager_a)
    with freeze_time("2026-03-11T11:30:00+00:00"):
        assert _overdue(client, make, org.manager_a) == [("check_in", incident.id)]
        first = client.get(f"/api/v1/incidents/{incident.id}/check-ins",
                           headers=make.headers(org.manager_a)).get_json()[0]
        client.post(f"/api/v1/incidents/{incident.id}/check-ins/{first['id']}/complete",
                    json={"note": "Pratat"}, headers=make.headers(org.manager_a))
        assert _overdue(client, make, org.manager_a) == []


def test_employees_have_no_overdue_list(client, make, org):
    r = client.get("/api/v1/follow-up/overdue", headers=make.headers(org.employee_a1))
    assert r.status_code == 403


def test_the_refusal_of_an_own_case_says_why(client, make, org):
    incident = make.incident(org.manager_a, org.a1)
    r = _ack(client, make, incident, org.manager_a)
    assert r.status_code == 403
    assert "own case" in r.get_json()["detail"]


@pytest.mark.parametrize("raw", ["99999m", "12345678901d", "\u00b2d", "01d,1d", "0w", "1y", ""])
def test_bad_check_in_offsets_stop_start_up(raw, tmp_path):
    from incidents.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="CHECK_IN_OFFSETS"):
        load_config({"CHECK_IN_OFFSETS": raw or " , "}, tmp_path)
