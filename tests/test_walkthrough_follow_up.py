"""The follow-up of a case walked through the API: a manager takes a threat from report
to closed; a violent incident cannot close without the same-day notification to
Arbetsmiljöverket; every refusal says what is missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

REPORTED = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def _json(response, status):
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_a_threat_from_report_to_closed(client, make, org):
    employee, manager = org.employee_a1, org.manager_a
    with freeze_time(REPORTED) as clock:
        eh, mh = make.headers(employee), make.headers(manager)
        incident = _json(client.post("/api/v1/incidents", json={
            "category": "threat", "subcategory": "death_threat",
            "perceived_influence_purpose": "yes",
            "occurred_at": (REPORTED - timedelta(hours=1)).isoformat(),
            "unit_id": org.a1.id, "description": "Klienten hotade att döda mig."},
            headers=eh), 201)
        base = f"/api/v1/incidents/{incident['id']}"
        _json(client.post(f"{base}/acknowledge", headers=mh), 200)

        refused = _json(client.post(f"{base}/close", headers=mh), 409)
        missing = " | ".join(refused["errors"]["missing"])
        for expected in ("conversation", "support decision", "police-report decision",
                         "Arbetsmiljöverket"):
            assert expected in missing, (expected, missing)

        clock.move_to(REPORTED + timedelta(hours=6))  # the rest of the working day
        _json(client.post(f"{base}/follow-ups", json={
            "type": "conversation", "note": "Samtal om händelsen och oron.",
            "occurred_at": (REPORTED + timedelta(hours=2)).isoformat()}, headers=mh), 201)
        _json(client.post(f"{base}/support-measures", json={
            "type": "debriefing", "provider": "Företagshälsan", "accepted": True,
            "delivered_at": (REPORTED + timedelta(hours=3)).isoformat(),
            "offered_at": (REPORTED + timedelta(hours=2)).isoformat()}, headers=mh), 201)
        police = _json(client.put(f"{base}/police-report", json={
            "decision": "report", "filed_by": "employer", "contact_address": "work",
            "filed_at": (REPORTED + timedelta(hours=4)).isoformat(),
            "police_reference": "5000-K1-26"}, headers=mh), 200)
        assert police["flag"] == "required"
        # A death threat is proposed as serious: the notification to Arbetsmiljöverket is due.
        authority = client.get(f"{base}/authority-reports", headers=mh)
        assert _json(authority, 200)["serious"] is True
        _json(client.put(f"{base}/authority-reports", json={
            "work_environment_authority": {
                "notified_at": (REPORTED + timedelta(hours=5)).isoformat(),
                "reference": "AV-2026/1234"}},
            headers={**mh, "If-Match": authority.headers["ETag"]}), 200)

    with freeze_time(REPORTED + timedelta(days=2)):
        eh, mh = make.headers(employee), make.headers(manager)
        check_ins = _json(client.get(f"{base}/check-ins", headers=eh), 200)
        assert [c["offset"] for c in check_ins] == ["1d", "1w", "1m", "3m"]
        _json(client.post(f"{base}/check-ins/{check_ins[0]['id']}/complete",
                          json={"note": "Sover bättre."}, headers=mh), 200)
        _json(client.put(f"{base}/support-evaluation", json={
            "sufficient": "yes", "relevant": "yes", "felt_supported_by_employer": 5},
            headers=eh), 201)
        closed = _json(client.post(f"{base}/close", headers=mh), 200)
        assert closed["status"] == "closed" and closed["closed_at"]

    with freeze_time(REPORTED + timedelta(days=60)):
        mh = make.headers(manager)
        etag = client.get(f"{base}/police-report", headers=mh).headers["ETag"]
        outcome = _json(client.put(f"{base}/police-report", json={
            "decision": "report", "filed_by": "employer", "contact_address": "work",
            "filed_at": (REPORTED + timedelta(hours=4)).isoformat(),
            "police_reference": "5000-K1-26",
            "outcome": {"code": "investigation_opened", "reached_on": "2026-04-01"}},
            headers={**mh, "If-Match": etag}), 200)
        assert outcome["outcome"] == "investigation_opened"
        reopened = _json(client.post(f"{base}/reopen", json={"reason": "Nytt hot mot familjen"},
                                     headers=mh), 200)
        assert reopened["status"] == "in_follow_up"
        history = _json(client.get(f"{base}/status-history", headers=mh), 200)
        assert [h["to_status"] for h in history] == [
            "acknowledged", "in_follow_up", "closed", "in_follow_up"]
        assert history[-1]["reason"] == "Nytt hot mot familjen"


def test_violence_cannot_close_until_arbetsmiljoverket_is_notified(client, make, org):
    with freeze_time(REPORTED):
        mh = make.headers(org.manager_a)
        incident = make.incident(org.employee_a1, org.a1, category="violence",
                                 subcategory="hitting_or_kicking",
                                 occurred_at=REPORTED - timedelta(hours=1))
        base = f"/api/v1/incidents/{incident.id}"
        client.post(f"{base}/acknowledge", headers=mh)
        client.post(f"{base}/follow-ups", json={"type": "conversation", "note": "Samtal.",
                                                "occurred_at": REPORTED.isoformat()}, headers=mh)
        client.put(f"{base}/support-declined", json={"note": "Vill inte ha stöd."}, headers=mh)
        client.put(f"{base}/police-report", json={"decision": "do_not_report",
                                                  "decision_reason": "Den anställda avstår."},
                   headers=mh)
        refused = _json(client.post(f"{base}/close", headers=mh), 409)
        assert len(refused["errors"]["missing"]) == 1
        assert "Arbetsmiljöverket" in refused["errors"]["missing"][0]

    with freeze_time(REPORTED + timedelta(hours=25)):
        overdue = _json(client.get("/api/v1/follow-up/overdue",
                                   headers=make.headers(org.manager_a)), 200)
        kinds = {(i["kind"], i["incident_id"]) for i in overdue["items"]}
        assert ("work_environment_notification", incident.id) in kinds
