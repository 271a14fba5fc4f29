"""Exposure surveys: set-up by hr, one anonymous answer per employee while open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import (
    AuditEntry,
    IdempotencyRecord,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
)

SETUP = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
OPENS = datetime(2026, 2, 3, 8, 0, tzinfo=UTC)
CLOSES = datetime(2026, 2, 27, 23, 0, tzinfo=UTC)  # 2026-02-28 00:00 in Stockholm
DURING = datetime(2026, 2, 10, 23, 30, tzinfo=UTC)  # 2026-02-11 00:30 in Stockholm
AFTER = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

FORMS = ("harassment", "threat", "violence", "property_damage", "corruption")
NOT_EXPOSED = {"exposed": False, "times": 0, "reported": 0}


def answers(**forms):
    return {"answers": {form: forms.get(form, NOT_EXPOSED) for form in FORMS}}


def _create(client, make, user, **overrides):
    body = {
        "title": "Utsatthet 2026",
        "unit_ids": overrides.pop("unit_ids"),
        "opens_at": OPENS.isoformat(),
        "closes_at": CLOSES.isoformat(),
        **overrides,
    }
    return client.post("/api/v1/surveys", json=body, headers=make.headers(user))


@pytest.fixture
def survey(client, make, org):
    """A survey of avdelning A (so A1 and A2 too), open 3–27 February 2026."""
    with freeze_time(SETUP):
        r = _create(client, make, org.hr, unit_ids=[org.dept_a.id])
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _answer(client, make, user, survey_id, body=None, at=DURING, **headers):
    with freeze_time(at):
        return client.post(f"/api/v1/surveys/{survey_id}/responses",
                           json=body or answers(), headers={**make.headers(user), **headers})


def _stored(db_session):
    return tuple(db_session.scalar(select(func.count()).select_from(model))
                 for model in (SurveyParticipation, SurveyResponse, SurveyAnswer))


# -- set-up by hr -------------------------------------------------------------------------


def test_hr_sets_up_a_survey_with_the_default_reference_period(survey, org):
    assert survey["unit_ids"] == [org.dept_a.id]
    assert survey["reference_months"] == 18
    # 18 calendar months before 2026-02-28 00:00 Stockholm: 2024-08-28 00:00 (summer time).
    assert survey["reference_start"] == "2024-08-27T22:00:00+00:00"
    assert survey["reference_end"] == "2026-02-27T23:00:00+00:00"
    assert survey["status"] == "scheduled"
    assert survey["response_count"] == 0


def test_the_reference_period_is_a_setting_and_can_be_given(app, client, make, org, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_REFERENCE_MONTHS", 12)
    with freeze_time(SETUP):
        default = _create(client, make, org.hr, unit_ids=[org.a1.id])
        given = _create(client, make, org.hr, unit_ids=[org.a1.id], reference_months=6)
    assert default.get_json()["reference_months"] == 12
    assert default.get_json()["reference_start"] == "2025-02-27T23:00:00+00:00"
    assert given.get_json()["reference_months"] == 6
    assert given.get_json()["reference_start"] == "2025-08-27T22:00:00+00:00"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"closes_at": "2026-02-03T07:00:00+00:00"}, "closes_at"),  # before it opens
    ({"opens_at": "2026-01-01T00:00:00+00:00",
      "closes_at": "2026-02-01T00:00:00+00:00"}, "closes_at"),  # closed already
    ({"opens_at": "2026-02-03T08:00:00"}, "opens_at"),  # no UTC offset
    ({"unit_ids": [999_999]}, "unit_ids"),
    ({"unit_ids": []}, "unit_ids"),
    ({"unit_ids": "A"}, "unit_ids"),
    ({"reference_months": 0}, "reference_months"),
    ({"title": ""}, "title"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_surveys_are_422_naming_the_field(client, make, org, overrides, field):
    overrides.setdefault("unit_ids", [org.dept_a.id])
    with freeze_time(SETUP):
        r = _create(client, make, org.hr, **overrides)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]


def test_a_unit_listed_twice_is_422(client, make, org):
    with freeze_time(SETUP):
        r = _create(client, make, org.hr, unit_ids=[org.a1.id, org.a1.id])
    assert r.status_code == 422 and "unit_ids" in r.get_json()["errors"]


def test_only_hr_sets_up_lists_and_reads_surveys(client, make, org, survey):
    with freeze_time(SETUP):
        for user in (org.employee_a1, org.manager_a, org.admin):
            assert _create(client, make, user, unit_ids=[org.a1.id]).status_code == 403
            headers = make.headers(user)
            assert client.get("/api/v1/surveys", headers=headers).status_code == 403
            assert client.get(f"/api/v1/surveys/{survey['id']}",
                              headers=headers).status_code == 403
        assert client.get("/api/v1/surveys").status_code == 401
        assert client.post("/api/v1/surveys", json={}).status_code == 401
        assert client.get(f"/api/v1/surveys/{survey['id']}").status_code == 401


def test_hr_lists_and_reads_surveys_with_their_response_counts(client, make, org, survey):
    assert _answer(client, make, org.employee_a1, survey["id"]).status_code == 201
    assert _answer(client, make, org.colleague_a1, survey["id"]).status_code == 201
    with freeze_time(AFTER):
        headers = make.headers(org.hr)
        one = client.get(f"/api/v1/surveys/{survey['id']}", headers=headers)
        listed = client.get("/api/v1/surveys", headers=headers)
        missing = client.get("/api/v1/surveys/999999", headers=headers)
    assert one.status_code == 200
    assert one.get_json()["response_count"] == 2
    assert one.get_json()["status"] == "closed"
    assert [s["response_count"] for s in listed.get_json() if s["id"] == survey["id"]] == [2]
    assert missing.status_code == 404


# -- answering ----------------------------------------------------------------------------


def test_an_employee_of_a_covered_sub_unit_answers_once(client, make, org, survey, db_session):
    body = answers(threat={"exposed": True, "times": 3, "reported": 1})
    r = _answer(client, make, org.employee_a1, survey["id"], body)
    assert r.status_code == 201, r.get_json()
    # The receipt holds nothing of the answers; the day is all the time kept.
    assert r.get_json() == {"survey_id": survey["id"], "received_on": "2026-02-11"}
    assert _stored(db_session) == (1, 1, 5)

    again = _answer(client, make, org.employee_a1, survey["id"], answers())
    assert again.status_code == 409
    assert _stored(db_session) == (1, 1, 5)


def test_the_manager_of_the_covered_unit_may_answer_too(client, make, org, survey):
    assert _answer(client, make, org.manager_a, survey["id"]).status_code == 201


def test_employees_of_other_units_cannot_answer(client, make, org, survey, db_session):
    for user in (org.employee_b1, org.hr, org.manager_b1):
        assert _answer(client, make, user, survey["id"]).status_code == 403
    assert _answer(client, make, org.admin, survey["id"]).status_code == 403  # no unit, no role
    assert _stored(db_session) == (0, 0, 0)


def test_answers_only_while_open(client, make, org, survey, db_session):
    before = _answer(client, make, org.employee_a1, survey["id"], at=OPENS - timedelta(seconds=1))
    assert before.status_code == 409 and "opens_at" in before.get_json()["errors"]
    after = _answer(client, make, org.employee_a1, survey["id"], at=CLOSES)
    assert after.status_code == 409 and "closes_at" in after.get_json()["errors"]
    assert _answer(client, make, org.employee_a1, survey["id"], at=OPENS).status_code == 201
    assert _stored(db_session) == (1, 1, 5)


def test_answering_needs_a_token_and_a_survey(client, make, org, survey):
    with freeze_time(DURING):
        r = client.post(f"/api/v1/surveys/{survey['id']}/responses", json=answers())
        assert r.status_code == 401
    assert _answer(client, make, org.employee_a1, 999_999).status_code == 404


@pytest.mark.parametrize(("forms", "field"), [
    ({"threat": {"exposed": True, "times": 1, "reported": 2}}, "answers.threat.reported"),
    ({"violence": {"exposed": False, "times": 2, "reported": 0}}, "answers.violence.times"),
    ({"harassment": {"exposed": True, "times": -1, "reported": 0}}, "answers.harassment.times"),
    ({"threat": {"exposed": True, "times": 2, "reported": -1}}, "answers.threat.reported"),
    ({"threat": {"exposed": "yes", "times": 2, "reported": 1}}, "answers.threat.exposed"),
    ({"threat": {"exposed": True, "times": 2.5, "reported": 1}}, "answers.threat.times"),
    ({"threat": {"exposed": True, "times": 2}}, "answers.threat.reported"),
    ({"corruption": None}, "answers.corruption"),
])
def test_answers_that_do_not_add_up_are_422_naming_the_field(
    client, make, org, survey, db_session, forms, field
):
    body = answers(**forms)
    body["answers"] = {k: v for k, v in body["answers"].items() if v is not None}
    r = _answer(client, make, org.employee_a1, survey["id"], body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert _stored(db_session) == (0, 0, 0)
    # Nothing was written, so the employee can still answer.
    assert _answer(client, make, org.employee_a1, survey["id"]).status_code == 201


def test_an_unknown_form_or_field_is_422(client, make, org, survey):
    body = answers()
    body["answers"]["stalking"] = NOT_EXPOSED
    r = _answer(client, make, org.employee_a1, survey["id"], body)
    assert r.status_code == 422 and "answers.stalking" in r.get_json()["errors"]
    r = _answer(client, make, org.employee_a1, survey["id"], {**answers(), "name": "Anna"})
    assert r.status_code == 422 and "name" in r.get_json()["errors"]


# -- anonymity ----------------------------------------------------------------------------


def test_no_row_links_a_user_to_answers(client, make, org, survey, db_session):
    exposed = answers(threat={"exposed": True, "times": 2, "reported": 1})
    _answer(client, make, org.employee_a1, survey["id"], exposed)
    _answer(client, make, org.colleague_a1, survey["id"], answers(), at=DURING + timedelta(hours=2))

    inspector = sa.inspect(db_session.connection())
    columns = {table: {c["name"] for c in inspector.get_columns(table)}
               for table in ("survey_participations", "survey_responses", "survey_answers")}
    # The participation says only who answered; the answers say nothing of who.
    assert columns["survey_participations"] == {"survey_id", "user_id"}
    assert columns["survey_responses"] == {"id", "survey_id", "submitted_on"}
    assert columns["survey_answers"] == {"response_id", "category", "exposed", "times",
                                         "reported"}
    assert not any("user" in c for c in columns["survey_responses"] | columns["survey_answers"])
    # No time finer than the day is kept with the answers, and none at all with the
    # participation: there is nothing to join the two on.
    days = list(db_session.scalars(select(SurveyResponse.submitted_on)))
    assert days == [date(2026, 2, 11), date(2026, 2, 11)]
    assert all(type(day) is date for day in days)
    # The answers' ids are random, not a sequence that follows the order of participation.
    ids = list(db_session.scalars(select(SurveyResponse.id)))
    assert all(len(i) == 32 and not i.isdigit() for i in ids)
    participants = set(db_session.scalars(select(SurveyParticipation.user_id)))
    assert participants == {org.employee_a1.id, org.colleague_a1.id}


def test_answering_writes_no_audit_entry_and_keeps_no_idempotency_key(
    client, make, org, survey, db_session
):
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    r = _answer(client, make, org.employee_a1, survey["id"],
                answers(violence={"exposed": True, "times": 1, "reported": 0}),
                **{"Idempotency-Key": "answer-1"})
    assert r.status_code == 201
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    # A retry with the same key is refused as a second answer, not replayed.
    retry = _answer(client, make, org.employee_a1, survey["id"],
                    answers(violence={"exposed": True, "times": 1, "reported": 0}),
                    **{"Idempotency-Key": "answer-1"})
    assert retry.status_code == 409


def test_reading_a_survey_never_shows_answers_or_respondents(client, make, org, survey):
    _answer(client, make, org.employee_a1, survey["id"])
    with freeze_time(AFTER):
        body = client.get(f"/api/v1/surveys/{survey['id']}",
                          headers=make.headers(org.hr)).get_json()
    assert set(body) == {"id", "title", "unit_ids", "reference_months", "reference_start",
                         "reference_end", "opens_at", "closes_at", "status", "response_count",
                         "created_by_id", "created_at"}
