"""Support measures, declined support and the exposed employee's evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest


@pytest.fixture
def case(client, make, org):
    """An acknowledged threat against colleague_a1, reported on their behalf by employee_a1."""
    incident = make.incident(org.employee_a1, org.a1, on_behalf_of=org.colleague_a1.id)
    client.post(f"/api/v1/incidents/{incident.id}/acknowledge",
                headers=make.headers(org.manager_a))
    return incident


def _offer(client, make, incident, user, **overrides):
    body = {"type": "debriefing", "provider": "Företagshälsan", **overrides}
    return client.post(f"/api/v1/incidents/{incident.id}/support-measures", json=body,
                       headers=make.headers(user))


def _now():
    return datetime.now(UTC)


def test_support_is_offered_with_a_default_time(client, make, org, case):
    r = _offer(client, make, case, org.manager_a)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["offered_by_id"] == org.manager_a.id
    assert body["accepted"] is None
    assert abs(datetime.fromisoformat(body["offered_at"]) - _now()) < timedelta(minutes=1)


def test_support_needs_an_acknowledged_case(client, make, org):
    incident = make.incident(org.employee_a1, org.a1)
    r = _offer(client, make, incident, org.manager_a)
    assert r.status_code == 409


@pytest.mark.parametrize(("overrides", "field"), [
    ({"type": "massage"}, "type"),
    ({"delivered_at": "NOW"}, "delivered_at"),  # delivered but never accepted
    ({"accepted": True, "offered_at": "2099-01-01T00:00:00+00:00"}, "offered_at"),
    ({"accepted": "yes"}, "accepted"),
])
def test_bad_support_measures_are_422(client, make, org, case, overrides, field):
    overrides = {k: _now().isoformat() if v == "NOW" else v for k, v in overrides.items()}
    r = _offer(client, make, case, org.manager_a, **overrides)
    assert r.status_code == 422 and field in r.get_json()["errors"]


def test_delivery_cannot_precede_the_offer(client, make, org, case):
    offered = _now() - timedelta(minutes=10)
    r = _offer(client, make, case, org.manager_a, accepted=True,
               offered_at=offered.isoformat(),
               delivered_at=(offered - timedelta(minutes=5)).isoformat())
    assert r.status_code == 422 and "delivered_at" in r.get_json()["errors"]


def test_acceptance_and_delivery_are_recorded_with_if_match(client, make, org, case):
    created = _offer(client, make, case, org.manager_a)
    path = f"/api/v1/incidents/{case.id}/support-measures/{created.get_json()['id']}"
    headers = make.headers(org.manager_a)
    assert client.patch(path, json={"accepted": True}, headers=headers).status_code == 428
    accepted = client.patch(path, json={"accepted": True},
                            headers={**headers, "If-Match": created.headers["ETag"]})
    assert accepted.status_code == 200
    stale = client.patch(path, json={"delivered_at": _now().isoformat()},
                         headers={**headers, "If-Match": created.headers["ETag"]})
    assert stale.status_code == 412
    delivered = client.patch(path, json={"delivered_at": _now().isoformat()},
                             headers={**headers, "If-Match": accepted.headers["ETag"]})
    assert delivered.status_code == 200 and delivered.get_json()["delivered_at"]


def test_declining_a_measure_is_recorded_not_an_error(client, make, org, case):
    r = _offer(client, make, case, org.manager_a, accepted=False, note="Vill inte just nu")
    assert r.status_code == 201 and r.get_json()["accepted"] is False


def test_who_reads_support(client, make, org, case):
    _offer(client, make, case, org.manager_a)
    path = f"/api/v1/incidents/{case.id}/support-measures"
    assert client.get(path, headers=make.headers(org.colleague_a1)).status_code == 200  # exposed
    assert client.get(path, headers=make.headers(org.hr)).status_code == 200
    # The reporter who reported for a colleague does not see the colleague's support.
    assert client.get(path, headers=make.headers(org.employee_a1)).status_code == 403
    assert client.get(path, headers=make.headers(org.manager_b1)).status_code == 404
    assert _offer(client, make, case, org.colleague_a1).status_code == 403


def test_a_measure_of_another_incident_is_404(client, make, org, case):
    other = make.incident(org.employee_a1, org.a1)
    client.post(f"/api/v1/incidents/{other.id}/acknowledge", headers=make.headers(org.manager_a))
    measure = _offer(client, make, other, org.manager_a).get_json()
    r = client.patch(f"/api/v1/incidents/{case.id}/support-measures/{measure['id']}",
                     json={"accepted": True},
                     headers={**make.headers(org.manager_a), "If-Match": "*"})
    assert r.status_code == 404


def test_support_declined_is_recorded(client, make, org, case):
    path = f"/api/v1/incidents/{case.id}/support-declined"
    assert client.get(path, headers=make.headers(org.manager_a)).status_code == 404
    r = client.put(path, json={"note": "Avböjer allt stöd"}, headers=make.headers(org.manager_a))
    assert r.status_code == 201
    again = client.put(path, json={"note": "Ändrad text"}, headers=make.headers(org.hr))
    assert again.status_code == 409
    seen = client.get(path, headers=make.headers(org.colleague_a1))
    assert seen.status_code == 200 and seen.get_json()["note"] == "Avböjer allt stöd"


# -- evaluation ---------------------------------------------------------------------------

EVALUATION = {"sufficient": "partly", "relevant": "yes", "felt_supported_by_employer": 4,
              "comment": "Bra samtal, men kom sent."}


def _evaluate(client, make, incident, user, body=None, **headers):
    return client.put(f"/api/v1/incidents/{incident.id}/support-evaluation",
                      json=body or EVALUATION, headers={**make.headers(user), **headers})


def _deliver(client, make, org, case):
    measure = _offer(client, make, case, org.manager_a, accepted=True,
                     delivered_at=_now().isoformat())
    assert measure.status_code == 201, measure.get_json()


def test_evaluation_waits_until_support_was_delivered_or_declined(client, make, org, case):
    _offer(client, make, case, org.manager_a)  # offered, not answered
    r = _evaluate(client, make, case, org.colleague_a1)
    assert r.status_code == 409
    _deliver(client, make, org, case)
    assert _evaluate(client, make, case, org.colleague_a1).status_code == 201


def test_declined_support_can_be_evaluated(client, make, org, case):
    client.put(f"/api/v1/incidents/{case.id}/support-declined", json={},
               headers=make.headers(org.manager_a))
    assert _evaluate(client, make, case, org.colleague_a1).status_code == 201


def test_only_the_exposed_employee_evaluates(client, make, org, case):
    _deliver(client, make, org, case)
    for user, status in [(org.employee_a1, 403), (org.manager_a, 403), (org.hr, 403),
                         (org.manager_b1, 404)]:
        assert _evaluate(client, make, case, user).status_code == status


def test_managers_and_hr_read_the_evaluation_and_changes_need_if_match(client, make, org, case):
    _deliver(client, make, org, case)
    first = _evaluate(client, make, case, org.colleague_a1)
    path = f"/api/v1/incidents/{case.id}/support-evaluation"
    for reader in (org.manager_a, org.hr, org.colleague_a1):
        r = client.get(path, headers=make.headers(reader))
        assert r.status_code == 200 and r.get_json()["sufficient"] == "partly"
    assert client.get(path, headers=make.headers(org.employee_a1)).status_code == 403
    changed = {**EVALUATION, "sufficient": "yes"}
    assert _evaluate(client, make, case, org.colleague_a1, changed).status_code == 428
    r = _evaluate(client, make, case, org.colleague_a1, changed,
                  **{"If-Match": first.headers["ETag"]})
    assert r.status_code == 200 and r.get_json()["sufficient"] == "yes"


@pytest.mark.parametrize(("change", "field"), [
    ({"felt_supported_by_employer": 6}, "felt_supported_by_employer"),
    ({"felt_supported_by_employer": 0}, "felt_supported_by_employer"),
    ({"sufficient": "maybe"}, "sufficient"),
    ({"relevant": None}, "relevant"),
])
def test_bad_evaluations_are_422(client, make, org, case, change, field):
    _deliver(client, make, org, case)
    r = _evaluate(client, make, case, org.colleague_a1, {**EVALUATION, **change})
    assert r.status_code == 422 and field in r.get_json()["errors"]


def test_an_unanswered_offer_is_not_a_support_decision(client, make, org, case):
    """Closing needs support given or declined (docs/domain.md), not merely offered."""
    base = f"/api/v1/incidents/{case.id}"
    headers = make.headers(org.manager_a)
    client.post(f"{base}/follow-ups", headers=headers, json={
        "type": "conversation", "note": "Samtal.", "occurred_at": _now().isoformat()})
    client.put(f"{base}/police-report", headers=headers, json={
        "decision": "do_not_report", "decision_reason": "Medarbetaren avstår."})
    offered = _offer(client, make, case, org.manager_a)
    refused = client.post(f"{base}/close", headers=headers)
    assert refused.status_code == 409
    assert any("support decision" in m for m in refused.get_json()["errors"]["missing"])
    client.patch(f"{base}/support-measures/{offered.get_json()['id']}", json={"accepted": False},
                 headers={**headers, "If-Match": offered.headers["ETag"]})
    assert client.post(f"{base}/close", headers=headers).status_code == 200


def test_one_support_measure_is_read_with_its_etag(client, make, org, case):
    created = _offer(client, make, case, org.manager_a).get_json()
    path = f"/api/v1/incidents/{case.id}/support-measures/{created['id']}"
    read = client.get(path, headers=make.headers(org.hr))
    assert read.status_code == 200 and read.get_json()["type"] == "debriefing"
    assert client.get(path, headers=make.headers(org.colleague_a1)).status_code == 200
    assert client.get(path, headers=make.headers(org.employee_a1)).status_code == 403
    r = client.patch(path, json={"accepted": True},
                     headers={**make.headers(org.hr), "If-Match": read.headers["ETag"]})
    assert r.status_code == 200
