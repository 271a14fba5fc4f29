"""police_wanted: the reporter's answer to "Do you want the police to be involved?" (Vill du att
polisen kopplas in?). Stored with the report, corrected like the other fields, given anonymously
too, shown to the case handlers beside the police decision, and never a rule: the police flag
and the decision owed do not follow it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from incidents.domain import POLICE_WISH_LABELS, PoliceWish
from incidents.extensions import limiter
from incidents.models import AuditEntry, Incident
from tests.anonymous_helpers import publish_held

INCIDENTS = "/api/v1/incidents"
ANON = "/api/v1/anonymous-reports"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """The anonymous channel is rate limited per connection: every test starts afresh."""
    limiter.reset()
    yield
    limiter.reset()


def _body(org, **overrides):
    return {
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "unit_id": org.a1.id,
        "description": "Klienten sa att han vet var jag bor.",
        **overrides,
    }


def _report(client, make, org, **overrides) -> dict:
    response = client.post(INCIDENTS, json=_body(org, **overrides),
                           headers=make.headers(org.employee_a1))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _stored(db_session, incident_id: int) -> str | None:
    db_session.expire_all()
    return db_session.get(Incident, incident_id).police_wanted


def _patch(client, make, user, incident_id: int, body: dict):
    headers = make.headers(user)
    etag = client.get(f"{INCIDENTS}/{incident_id}", headers=headers).headers["ETag"]
    return client.patch(f"{INCIDENTS}/{incident_id}", json=body,
                        headers={**headers, "If-Match": etag})


def test_the_three_answers_have_swedish_and_english_labels():
    assert [w.value for w in PoliceWish] == ["yes", "no", "unsure"]
    assert {w: (POLICE_WISH_LABELS[w].sv, POLICE_WISH_LABELS[w].en) for w in PoliceWish} == {
        PoliceWish.YES: ("Ja", "Yes"),
        PoliceWish.NO: ("Nej", "No"),
        PoliceWish.UNSURE: ("Vet inte", "Not sure"),
    }


@pytest.mark.parametrize("wish", ["yes", "no", "unsure"])
def test_the_wish_is_stored_and_read_back(client, make, org, db_session, wish):
    created = _report(client, make, org, police_wanted=wish)
    assert created["police_wanted"] == wish
    assert _stored(db_session, created["id"]) == wish
    for reader in (org.employee_a1, org.manager_a, org.hr):
        read = client.get(f"{INCIDENTS}/{created['id']}", headers=make.headers(reader))
        assert read.status_code == 200 and read.get_json()["police_wanted"] == wish
    listed = client.get(INCIDENTS, headers=make.headers(org.manager_a)).get_json()["items"]
    assert [item["police_wanted"] for item in listed if item["id"] == created["id"]] == [wish]


def test_left_out_it_is_null_not_answered(client, make, org, db_session):
    created = _report(client, make, org)
    assert created["police_wanted"] is None
    assert _stored(db_session, created["id"]) is None


def test_the_case_handler_sees_the_wish_beside_the_police_decision(client, make, org):
    created = _report(client, make, org, police_wanted="no")
    report = client.get(f"{INCIDENTS}/{created['id']}/police-report",
                        headers=make.headers(org.manager_a))
    assert report.status_code == 200
    assert report.get_json()["police_wanted"] == "no"
    unanswered = _report(client, make, org)
    report = client.get(f"{INCIDENTS}/{unanswered['id']}/police-report",
                        headers=make.headers(org.manager_a)).get_json()
    assert report["police_wanted"] is None


@pytest.mark.parametrize(
    ("category", "wish", "flag", "decision_required"),
    [
        ("threat", "no", "required", True),
        ("violence", "unsure", "required", True),
        ("harassment", "yes", "consider", False),
    ],
)
def test_the_wish_changes_neither_the_flag_nor_the_decision_owed(
    client, make, org, category, wish, flag, decision_required
):
    created = _report(client, make, org, category=category, police_wanted=wish)
    assert created["police_flag"] == flag
    report = client.get(f"{INCIDENTS}/{created['id']}/police-report",
                        headers=make.headers(org.manager_a)).get_json()
    assert (report["flag"], report["decision_required"]) == (flag, decision_required)
    assert (report["decision_due_at"] is not None) == decision_required


def test_the_reporter_corrects_the_wish_before_acknowledgement(client, make, org, db_session):
    created = _report(client, make, org, police_wanted="unsure")
    changed = _patch(client, make, org.employee_a1, created["id"], {"police_wanted": "yes"})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["police_wanted"] == "yes"
    assert changed.get_json()["police_flag"] == "required"
    assert _stored(db_session, created["id"]) == "yes"
    detail = db_session.scalar(
        sa.select(AuditEntry.detail)
        .where(AuditEntry.incident_id == created["id"], AuditEntry.action == "update")
        .order_by(AuditEntry.id.desc())
    )
    assert detail == "changed: police_wanted"

    cleared = _patch(client, make, org.employee_a1, created["id"], {"police_wanted": None})
    assert cleared.status_code == 200 and cleared.get_json()["police_wanted"] is None
    assert _stored(db_session, created["id"]) is None


def test_after_acknowledgement_the_wish_is_no_longer_changed(client, make, org, db_session):
    created = _report(client, make, org, police_wanted="no")
    ack = client.post(f"{INCIDENTS}/{created['id']}/acknowledge",
                      headers=make.headers(org.manager_a))
    assert ack.status_code == 200
    refused = _patch(client, make, org.employee_a1, created["id"], {"police_wanted": "yes"})
    assert refused.status_code == 409
    assert _stored(db_session, created["id"]) == "no"


@pytest.mark.parametrize("bad", ["maybe", "YES", "", 1, True, ["yes"]])
def test_a_bad_answer_is_422_naming_the_field_and_nothing_is_written(
    client, make, org, db_session, bad
):
    before = db_session.scalar(sa.select(sa.func.count()).select_from(Incident))
    response = client.post(INCIDENTS, json=_body(org, police_wanted=bad),
                           headers=make.headers(org.employee_a1))
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["police_wanted"]
    anonymous = client.post(ANON, json=_body(org, police_wanted=bad))
    assert anonymous.status_code == 422
    assert list(anonymous.get_json()["errors"]) == ["police_wanted"]
    assert db_session.scalar(sa.select(sa.func.count()).select_from(Incident)) == before


def test_a_bad_correction_is_422_naming_the_field(client, make, org, db_session):
    created = _report(client, make, org, police_wanted="yes")
    response = _patch(client, make, org.employee_a1, created["id"], {"police_wanted": "perhaps"})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["police_wanted"]
    assert _stored(db_session, created["id"]) == "yes"


def test_an_anonymous_report_may_give_the_wish(client, make, org, db_session):
    """The wish does not identify the reporter, so the anonymous channel accepts it."""
    response = client.post(ANON, json=_body(org, police_wanted="yes"))
    assert response.status_code == 201, response.get_json()
    publish_held()
    incident = db_session.scalar(
        sa.select(Incident).where(Incident.reference == response.get_json()["reference"]))
    assert incident.anonymous and incident.police_wanted == "yes"
    seen = client.get(f"{INCIDENTS}/{incident.id}/police-report",
                      headers=make.headers(org.manager_a)).get_json()
    assert seen["police_wanted"] == "yes"

    without = client.post(ANON, json=_body(org))
    assert without.status_code == 201
    publish_held()
    incident = db_session.scalar(
        sa.select(Incident).where(Incident.reference == without.get_json()["reference"]))
    assert incident.police_wanted is None


def test_the_openapi_description_documents_the_field(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]

    def enum(field: dict) -> list:
        """The values of a nullable enum: a reference to its named component."""
        assert field["nullable"] is True
        return schemas[field["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]

    for name in ("IncidentCreate", "IncidentUpdate", "AnonymousReportCreate"):
        field = schemas[name]["properties"]["police_wanted"]
        assert enum(field) == ["yes", "no", "unsure"], name
        assert name != "IncidentCreate" or "police_wanted" not in schemas[name].get(
            "required", [])
    assert enum(schemas["Incident"]["properties"]["police_wanted"]) == ["yes", "no", "unsure"]
    assert "police_wanted" in schemas["PoliceReport"]["properties"]


def test_the_database_refuses_an_unknown_answer(make, org, db_session):
    """The CHECK constraint guards the column against writes that bypass the API."""
    incident = make.incident(org.employee_a1, org.a1, police_wanted="no")
    with pytest.raises(sa.exc.IntegrityError):
        with db_session.begin_nested():
            db_session.execute(sa.update(Incident).where(Incident.id == incident.id)
                               .values(police_wanted="maybe"))
    db_session.expire_all()
    assert db_session.get(Incident, incident.id).police_wanted == "no"
