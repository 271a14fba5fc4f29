"""Workshops: set-up by hr, one rating per participant while the window is open, stored without
identity; tallies entered by hr; summaries against hand counts, with small counts suppressed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time
from sqlalchemy import func, select

from incidents.models import (
    AuditEntry,
    IdempotencyRecord,
    WorkshopParticipation,
    WorkshopRating,
    WorkshopTally,
    WorkshopTallyCount,
)

SETUP = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HELD = date(2026, 3, 12)
OPENS = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 19, 23, 0, tzinfo=UTC)  # 2026-03-20 00:00 in Stockholm
DURING = datetime(2026, 3, 12, 23, 30, tzinfo=UTC)  # 2026-03-13 00:30 in Stockholm
AFTER = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)


def _create(client, make, user, **overrides):
    body = {
        "title": "Otillåten påverkan – workshop",
        "held_on": HELD.isoformat(),
        "unit_ids": overrides.pop("unit_ids"),
        "expected_participants": 40,
        "opens_at": OPENS.isoformat(),
        "closes_at": CLOSES.isoformat(),
        **overrides,
    }
    with freeze_time(SETUP):
        return client.post("/api/v1/workshops", json=body, headers=make.headers(user))


@pytest.fixture
def workshop(client, make, org):
    """A workshop for avdelning A (so A1 and A2 too), rated 12–19 March 2026."""
    r = _create(client, make, org.hr, unit_ids=[org.dept_a.id])
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _rate(client, make, user, workshop_id, body=None, at=DURING, **headers):
    with freeze_time(at):
        return client.post(f"/api/v1/workshops/{workshop_id}/ratings",
                           json={"problem_size": 4} if body is None else body,
                           headers={**make.headers(user), **headers})


def _tally(client, make, user, workshop_id, body, **headers):
    with freeze_time(AFTER):
        return client.post(f"/api/v1/workshops/{workshop_id}/ratings/tally", json=body,
                           headers={**make.headers(user), **headers})


def _get(client, make, user, path):
    with freeze_time(AFTER):
        return client.get(path, headers=make.headers(user))


def _stored(db_session):
    return tuple(db_session.scalar(select(func.count()).select_from(model))
                 for model in (WorkshopParticipation, WorkshopRating, WorkshopTally,
                               WorkshopTallyCount))


# -- set-up by hr -------------------------------------------------------------------------


def test_hr_sets_up_a_workshop_and_it_is_audited(workshop, org, db_session):
    assert workshop["unit_ids"] == [org.dept_a.id]
    assert workshop["held_on"] == "2026-03-12"
    assert workshop["expected_participants"] == 40
    assert workshop["opens_at"] == "2026-03-12T08:00:00+00:00"
    assert workshop["closes_at"] == "2026-03-19T23:00:00+00:00"
    assert workshop["status"] == "scheduled"
    assert (workshop["rating_count"], workshop["tally_count"]) == (0, 0)
    assert workshop["created_by_id"] == org.hr.id
    details = list(db_session.scalars(select(AuditEntry.detail)
                                      .where(AuditEntry.actor_id == org.hr.id)))
    assert f"workshop {workshop['id']} created" in details


@pytest.mark.parametrize(("overrides", "field"), [
    ({"closes_at": "2026-03-12T07:59:59+00:00"}, "closes_at"),  # before it opens
    ({"closes_at": OPENS.isoformat()}, "closes_at"),  # an empty window
    ({"opens_at": "2026-03-12T08:00:00"}, "opens_at"),  # no UTC offset
    ({"unit_ids": [999_999]}, "unit_ids"),
    ({"unit_ids": []}, "unit_ids"),
    ({"unit_ids": "A"}, "unit_ids"),
    ({"expected_participants": 0}, "expected_participants"),
    ({"expected_participants": "12"}, "expected_participants"),
    ({"expected_participants": 2.5}, "expected_participants"),
    ({"held_on": "12 March"}, "held_on"),
    ({"held_on": None}, "held_on"),
    ({"title": ""}, "title"),
    ({"title": "Workshop\nA"}, "title"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_workshops_are_422_naming_the_field(client, make, org, db_session, overrides,
                                                field):
    overrides.setdefault("unit_ids", [org.dept_a.id])
    r = _create(client, make, org.hr, **overrides)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert db_session.scalar(sa.text("SELECT count(*) FROM workshops")) == 0


def test_a_unit_listed_twice_is_422(client, make, org):
    r = _create(client, make, org.hr, unit_ids=[org.a1.id, org.a1.id])
    assert r.status_code == 422 and "unit_ids" in r.get_json()["errors"]


def test_a_workshop_held_already_can_be_registered_for_its_paper_ratings(client, make, org):
    """Unlike a survey, the window may lie in the past: hr enters the paper ratings later."""
    r = _create(client, make, org.hr, unit_ids=[org.a1.id], held_on="2026-01-20",
                opens_at="2026-01-20T08:00:00+00:00", closes_at="2026-01-21T08:00:00+00:00")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "closed"


def test_only_hr_sets_up_lists_reads_tallies_and_summarises(client, make, org, workshop):
    wid = workshop["id"]
    reads = ["/api/v1/workshops", f"/api/v1/workshops/{wid}",
             f"/api/v1/workshops/{wid}/summary", "/api/v1/workshops/summary"]
    tally = {"problem_size": {"4": 6}}
    for user in (org.employee_a1, org.manager_a, org.admin):
        assert _create(client, make, user, unit_ids=[org.a1.id]).status_code == 403
        assert _tally(client, make, user, wid, tally).status_code == 403
        for path in reads:
            assert _get(client, make, user, path).status_code == 403, (user.email, path)
    with freeze_time(AFTER):
        for path in reads:
            assert client.get(path).status_code == 401, path
        assert client.post("/api/v1/workshops", json={}).status_code == 401
        assert client.post(f"/api/v1/workshops/{wid}/ratings/tally", json=tally
                           ).status_code == 401
        assert client.post(f"/api/v1/workshops/{wid}/ratings",
                           json={"problem_size": 4}).status_code == 401
    for path in reads:
        assert _get(client, make, org.hr, path).status_code == 200, path
    assert _tally(client, make, org.hr, wid, tally).status_code == 201


def test_hr_reads_a_workshop_with_its_counts_and_unknown_ones_are_404(
    client, make, org, workshop
):
    assert _rate(client, make, org.employee_a1, workshop["id"]).status_code == 201
    assert _tally(client, make, org.hr, workshop["id"],
                  {"problem_size": {"3": 2}}).status_code == 201
    one = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}")
    assert one.status_code == 200
    assert one.get_json()["status"] == "closed"
    assert (one.get_json()["rating_count"], one.get_json()["tally_count"]) == (1, 1)
    for path in ("/api/v1/workshops/999999", "/api/v1/workshops/999999/summary"):
        assert _get(client, make, org.hr, path).status_code == 404
    assert _tally(client, make, org.hr, 999_999, {"problem_size": {"3": 2}}).status_code == 404


def test_the_list_pages_latest_held_first(client, make, org):
    ids = {}
    for held in ("2026-02-01", "2026-04-01", "2026-03-01"):
        r = _create(client, make, org.hr, unit_ids=[org.a1.id], held_on=held)
        ids[held] = r.get_json()["id"]
    first = _get(client, make, org.hr, "/api/v1/workshops?limit=2").get_json()
    assert [w["id"] for w in first["items"]] == [ids["2026-04-01"], ids["2026-03-01"]]
    assert first["next_cursor"]
    second = _get(client, make, org.hr,
                  f"/api/v1/workshops?limit=2&cursor={first['next_cursor']}").get_json()
    assert [w["id"] for w in second["items"]] == [ids["2026-02-01"]]
    assert second["next_cursor"] is None
    for query, field in (("cursor=not-a-cursor", "cursor"), ("limit=0", "limit")):
        r = _get(client, make, org.hr, f"/api/v1/workshops?{query}")
        assert r.status_code == 422 and field in r.get_json()["errors"], r.get_json()


# -- rating -------------------------------------------------------------------------------


def test_an_employee_of_a_sub_unit_rates_once(client, make, org, workshop, db_session):
    r = _rate(client, make, org.employee_a1, workshop["id"],
              {"problem_size": 6, "usefulness": 4, "group": "Grupp 3"})
    assert r.status_code == 201, r.get_json()
    # The receipt holds nothing of the rating; the day is all the time kept.
    assert r.get_json() == {"workshop_id": workshop["id"], "received_on": "2026-03-13"}
    assert _stored(db_session) == (1, 1, 0, 0)
    rating = db_session.scalar(select(WorkshopRating))
    assert (rating.problem_size, rating.usefulness, rating.group_label) == (6, 4, "Grupp 3")

    again = _rate(client, make, org.employee_a1, workshop["id"], {"problem_size": 2})
    assert again.status_code == 409
    assert "workshop_id" in again.get_json()["errors"]
    assert _stored(db_session) == (1, 1, 0, 0)


def test_usefulness_and_group_may_be_left_out(client, make, org, workshop, db_session):
    assert _rate(client, make, org.employee_a1, workshop["id"],
                 {"problem_size": 1}).status_code == 201
    assert _rate(client, make, org.colleague_a1, workshop["id"],
                 {"problem_size": 7, "usefulness": None, "group": None}).status_code == 201
    stored = {(r.problem_size, r.usefulness, r.group_label)
              for r in db_session.scalars(select(WorkshopRating))}
    assert stored == {(1, None, None), (7, None, None)}


def test_only_the_units_taking_part_rate(client, make, org, workshop, db_session):
    """The surveys' rule: a workshop is rated by the employees of its units, sub-units
    included; hr's own unit (the förvaltning above) does not take part."""
    assert _rate(client, make, org.manager_a, workshop["id"]).status_code == 201
    for user in (org.employee_b1, org.hr, org.manager_b1):
        r = _rate(client, make, user, workshop["id"])
        assert r.status_code == 403 and "unit_id" in r.get_json()["errors"]
    assert _rate(client, make, org.admin, workshop["id"]).status_code == 403  # no unit, no role
    assert _stored(db_session) == (1, 1, 0, 0)


def test_ratings_only_inside_the_window(client, make, org, workshop, db_session):
    before = _rate(client, make, org.employee_a1, workshop["id"],
                   at=OPENS - timedelta(seconds=1))
    assert before.status_code == 409 and "opens_at" in before.get_json()["errors"]
    assert "has not opened" in before.get_json()["detail"]
    after = _rate(client, make, org.employee_a1, workshop["id"], at=CLOSES)
    assert after.status_code == 409 and "closes_at" in after.get_json()["errors"]
    assert "has closed" in after.get_json()["detail"]
    assert _stored(db_session) == (0, 0, 0, 0)
    assert _rate(client, make, org.employee_a1, workshop["id"], at=OPENS).status_code == 201
    assert _rate(client, make, org.colleague_a1, workshop["id"],
                 at=CLOSES - timedelta(seconds=1)).status_code == 201


def test_rating_an_unknown_workshop_is_404(client, make, org):
    assert _rate(client, make, org.employee_a1, 999_999).status_code == 404


@pytest.mark.parametrize(("body", "field"), [
    ({"problem_size": 0}, "problem_size"),
    ({"problem_size": 8}, "problem_size"),
    ({"problem_size": "4"}, "problem_size"),
    ({"problem_size": 4.5}, "problem_size"),
    ({"problem_size": None}, "problem_size"),
    ({"usefulness": 3}, "problem_size"),
    ({"problem_size": 4, "usefulness": 0}, "usefulness"),
    ({"problem_size": 4, "usefulness": 6}, "usefulness"),
    ({"problem_size": 4, "group": ""}, "group"),
    ({"problem_size": 4, "group": "x" * 51}, "group"),
    ({"problem_size": 4, "name": "Anna"}, "name"),
])
def test_bad_ratings_are_422_naming_the_field(client, make, org, workshop, db_session, body,
                                              field):
    r = _rate(client, make, org.employee_a1, workshop["id"], body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert _stored(db_session) == (0, 0, 0, 0)
    # Nothing was written, so the employee can still rate.
    assert _rate(client, make, org.employee_a1, workshop["id"]).status_code == 201


# -- identity -----------------------------------------------------------------------------


def test_no_row_links_a_participant_to_a_rating(client, make, org, workshop, db_session):
    _rate(client, make, org.employee_a1, workshop["id"], {"problem_size": 6, "usefulness": 2})
    _rate(client, make, org.colleague_a1, workshop["id"], {"problem_size": 3},
          at=DURING + timedelta(hours=3))

    inspector = sa.inspect(db_session.connection())
    columns = {table: {c["name"] for c in inspector.get_columns(table)}
               for table in ("workshop_participations", "workshop_ratings")}
    # The participation says only who rated; the rating says nothing of who.
    assert columns["workshop_participations"] == {"workshop_id", "user_id"}
    assert columns["workshop_ratings"] == {"id", "workshop_id", "rated_on", "problem_size",
                                           "usefulness", "group_label"}
    assert not any("user" in c or c.endswith("_at") for c in columns["workshop_ratings"])
    # Only the day is kept with the rating, and no time at all with the participation.
    days = list(db_session.scalars(select(WorkshopRating.rated_on)))
    assert days == [date(2026, 3, 13), date(2026, 3, 13)]
    assert all(type(day) is date for day in days)
    # The ratings' ids are random, not a sequence that follows the order of participation.
    ids = list(db_session.scalars(select(WorkshopRating.id)))
    assert all(len(i) == 32 and not i.isdigit() for i in ids)
    assert len(set(ids)) == 2
    participants = set(db_session.scalars(select(WorkshopParticipation.user_id)))
    assert participants == {org.employee_a1.id, org.colleague_a1.id}


@pytest.mark.sqlite_only
def test_on_sqlite_participations_and_ratings_are_kept_in_key_order(db_session):
    """WITHOUT ROWID: no hidden rowid keeps the order in which the rows were written."""
    for table in ("workshop_participations", "workshop_ratings"):
        sql = db_session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = :t"),
                                {"t": table})
        assert "WITHOUT ROWID" in sql.upper(), table


def test_rating_writes_no_audit_entry_and_keeps_no_idempotency_key(
    client, make, org, workshop, db_session
):
    before = db_session.scalar(select(func.count()).select_from(AuditEntry))
    r = _rate(client, make, org.employee_a1, workshop["id"], {"problem_size": 5},
              **{"Idempotency-Key": "rating-1"})
    assert r.status_code == 201
    assert db_session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert db_session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    # A retry with the same key is refused as a second rating, not replayed.
    retry = _rate(client, make, org.employee_a1, workshop["id"], {"problem_size": 5},
                  **{"Idempotency-Key": "rating-1"})
    assert retry.status_code == 409


def test_reading_a_workshop_never_shows_ratings_or_participants(client, make, org, workshop):
    _rate(client, make, org.employee_a1, workshop["id"], {"problem_size": 7})
    body = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}").get_json()
    assert set(body) == {"id", "title", "held_on", "unit_ids", "expected_participants",
                         "opens_at", "closes_at", "status", "rating_count", "tally_count",
                         "created_by_id", "created_at", "room_code"}


# -- tallies ------------------------------------------------------------------------------


def test_hr_enters_tallies_that_add_up_and_are_audited(client, make, org, workshop,
                                                       db_session):
    first = _tally(client, make, org.hr, workshop["id"],
                   {"problem_size": {"2": 4, "3": 0, "4": 7}, "usefulness": {"5": 3}})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["problem_size"] == {"2": 4, "3": 0, "4": 7}
    assert body["usefulness"] == {"5": 3}
    assert body["entered_by_id"] == org.hr.id
    # Only problem-size counts: usefulness may be missing from a batch.
    second = _tally(client, make, org.hr, workshop["id"], {"problem_size": {"4": 2, "7": 1}})
    assert second.status_code == 201
    assert second.get_json()["usefulness"] == {}
    # Zero counts are not stored; every batch is kept, and they add up.
    assert _stored(db_session) == (0, 0, 2, 5)
    summary = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}/summary")
    assert summary.get_json()["n"] == 14
    details = list(db_session.scalars(select(AuditEntry.detail)
                                      .where(AuditEntry.actor_id == org.hr.id)))
    assert f"workshop {workshop['id']} tally {body['id']}: problem_size 11, usefulness 3" \
        in details
    assert f"workshop {workshop['id']} tally {second.get_json()['id']}: problem_size 3" \
        in details


@pytest.mark.parametrize(("body", "field"), [
    ({"problem_size": {"8": 1}}, "problem_size.8"),
    ({"problem_size": {"0": 1}}, "problem_size.0"),
    ({"problem_size": {"01": 1}}, "problem_size.01"),
    ({"problem_size": {"3": -1}}, "problem_size.3"),
    ({"problem_size": {"3": 1.5}}, "problem_size.3"),
    ({"problem_size": {"3": "2"}}, "problem_size.3"),
    ({"problem_size": {"3": True}}, "problem_size.3"),
    ({"problem_size": {"3": None}}, "problem_size.3"),
    ({"problem_size": {"3": 100_001}}, "problem_size.3"),
    ({"usefulness": {"6": 1}}, "usefulness.6"),
    ({"problem_size": {"4": 2}, "usefulness": {"1": -3}}, "usefulness.1"),
    ({"problem_size": {}}, "problem_size"),
    ({"problem_size": None}, "problem_size"),
    ({"problem_size": [1, 2, 3]}, "problem_size"),
    ({"problem_size": {"1": 0, "7": 0}}, "problem_size"),
    ({"problem_size": {"1": 0}, "usefulness": {"2": 0}}, "usefulness"),
    ({}, "problem_size"),
    ({"ratings": {"1": 2}}, "ratings"),
])
def test_bad_tallies_are_422_naming_the_field(client, make, org, workshop, db_session, body,
                                              field):
    r = _tally(client, make, org.hr, workshop["id"], body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()
    assert _stored(db_session) == (0, 0, 0, 0)


# -- summaries ----------------------------------------------------------------------------


def _participants(make, org, count):
    units = [org.a1, org.a2]
    return [make.user("employee", unit=units[i % 2]) for i in range(count)]


def test_summary_matches_a_hand_count(client, make, org, workshop):
    """40 expected. Four rate in the service: problem size 2, 4, 4, 6 and usefulness 5, 4,
    (none), 3. Two tallies: problem size {2: 4, 3: 6, 4: 7} with usefulness {3: 5, 4: 11,
    5: 9}, and problem size {5: 7, 6: 4} alone.

    Problem size by hand: 1: 0, 2: 1+4 = 5, 3: 6, 4: 2+7 = 9, 5: 7, 6: 1+4 = 5, 7: 0; n = 32.
    Response rate 32 / 40 = 0.8. Groups: 2 or less 5/32 = 15.625 % → 15.6; 3–5 22/32 =
    68.75 % → 68.8 (half up); 6–7 5/32 → 15.6. Mean (2·5 + 3·6 + 4·9 + 5·7 + 6·5) / 32 =
    129/32 = 4.03125 → 4.03. Median: the 16th and 17th of 32; 5 + 6 = 11 are 3 or less, 20
    are 4 or less, so both are 4 → 4.0. No count is from 1 to 4: nothing is suppressed.

    Usefulness: 3: 1+5 = 6, 4: 1+11 = 12, 5: 1+9 = 10; n = 28. 4 or 5: 22/28 = 78.571 % →
    78.6. Mean (18 + 48 + 50) / 28 = 116/28 = 4.142… → 4.14. Median: the 14th and 15th; 6 are
    3 or less, 18 are 4 or less → 4.0.
    """
    people = _participants(make, org, 4)
    for person, body in zip(people, (
        {"problem_size": 2, "usefulness": 5, "group": "A"},
        {"problem_size": 4, "usefulness": 4, "group": "A"},
        {"problem_size": 4, "group": "B"},
        {"problem_size": 6, "usefulness": 3},
    ), strict=True):
        assert _rate(client, make, person, workshop["id"], body).status_code == 201
    assert _tally(client, make, org.hr, workshop["id"], {
        "problem_size": {"2": 4, "3": 6, "4": 7}, "usefulness": {"3": 5, "4": 11, "5": 9},
    }).status_code == 201
    assert _tally(client, make, org.hr, workshop["id"],
                  {"problem_size": {"5": 7, "6": 4}}).status_code == 201

    r = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}/summary")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["workshop"]["id"] == workshop["id"]
    assert body["workshop"]["status"] == "closed"
    assert body["n"] == 32
    assert body["response_rate"] == 0.8
    assert body["distribution"] == {"1": 0, "2": 5, "3": 6, "4": 9, "5": 7, "6": 5, "7": 0}
    assert body["grouped"] == {"1-2": 15.6, "3-5": 68.8, "6-7": 15.6}
    assert body["mean"] == 4.03
    assert body["median"] == 4.0
    assert body["suppressed"] == []
    assert body["usefulness"] == {
        "n": 28,
        "distribution": {"1": 0, "2": 0, "3": 6, "4": 12, "5": 10},
        "mean": 4.14,
        "median": 4.0,
        "useful_share": 78.6,
        "suppressed": [],
    }
    assert body["suppression"]["threshold"] == 5
    assert body["suppression"]["applied"] is True
    assert body["suppression"]["suppressed_totals"] == []
    assert body["scales"]["problem_size"]["anchors"]["7"]["sv"] == "Mycket stort problem"
    assert body["scales"]["usefulness"]["anchors"]["5"]["en"] == "To a very high degree"


def test_summary_suppresses_small_counts_and_what_would_give_them_away(
    client, make, org, workshop
):
    """Problem size from one tally: 1: 0, 2: 5, 3: 6, 4: 9, 5: 6, 6: 5, 7: 1; n = 32.

    1. Primary: 7 (1) is below 5. The groups (1-2: 5, 3-5: 21, 6-7: 6) are not.
    2. n = the sum of the values would give 7 away: hide the smallest non-zero published
       value: 2 and 6 are both 5, the lower value goes first → 2.
    3. Group 1-2 = 1 + 2 now gives 2 away, and 1 is 0: hide the group 1-2 itself.
    4. Group 6-7 = 6 + 7 gives 7 away: hide 6.
    5. n = the sum of the groups gives 1-2 away: hide the smaller other group, 6-7 (6 < 21).
    6. The mean goes with any hidden value; the median, the 16th and 17th rating, is 4 (11
       are 3 or less, 20 are 4 or less) and stays.
    Published: 3-5 = 21/32 = 65.625 % → 65.6.
    """
    assert _tally(client, make, org.hr, workshop["id"], {
        "problem_size": {"1": 0, "2": 5, "3": 6, "4": 9, "5": 6, "6": 5, "7": 1},
    }).status_code == 201
    body = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}/summary").get_json()
    assert body["n"] == 32
    assert body["distribution"] == {"1": 0, "2": None, "3": 6, "4": 9, "5": 6, "6": None,
                                    "7": None}
    assert body["grouped"] == {"1-2": None, "3-5": 65.6, "6-7": None}
    assert body["mean"] is None
    assert body["median"] == 4.0
    assert body["suppressed"] == ["distribution.2", "distribution.6", "distribution.7",
                                  "grouped.1-2", "grouped.6-7", "mean"]
    assert body["suppression"]["suppressed_totals"] == [
        {"row": workshop["id"], "figure": "grouped.1-2"},
        {"row": workshop["id"], "figure": "grouped.6-7"},
    ]
    # Nothing published gives the 1 back: 32 − 6 − 9 − 6 = 11 is shared by 2, 6 and 7.
    shown = sum(v for v in body["distribution"].values() if v is not None)
    assert body["n"] - shown == 11


def test_with_too_few_ratings_nothing_about_them_is_shown(client, make, org, workshop):
    """Three ratings, all 5: n = 3 is below 5. A distribution of six zeros and one hidden
    count would say that all three gave 5, so every value is null, zeros too."""
    for person in _participants(make, org, 3):
        assert _rate(client, make, person, workshop["id"],
                     {"problem_size": 5, "usefulness": 5}).status_code == 201
    body = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}/summary").get_json()
    assert body["n"] == 3
    assert body["response_rate"] == 0.075
    assert body["distribution"] == {str(v): None for v in range(1, 8)}
    assert body["grouped"] == {"1-2": None, "3-5": None, "6-7": None}
    assert body["mean"] is None and body["median"] is None
    useful = body["usefulness"]
    assert useful["n"] == 3
    assert useful["distribution"] == {str(v): None for v in range(1, 6)}
    assert (useful["mean"], useful["median"], useful["useful_share"]) == (None, None, None)


def test_the_threshold_is_the_statistics_setting(app, client, make, org, workshop,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 1)
    for person in _participants(make, org, 3):
        _rate(client, make, person, workshop["id"], {"problem_size": 5})
    body = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}/summary").get_json()
    assert body["distribution"]["5"] == 3
    assert body["grouped"]["3-5"] == 100.0
    assert body["mean"] == 5.0
    assert body["suppression"]["applied"] is False


def test_a_summary_without_ratings(client, make, org, workshop):
    body = _get(client, make, org.hr, f"/api/v1/workshops/{workshop['id']}/summary").get_json()
    assert (body["n"], body["response_rate"]) == (0, 0.0)
    assert body["distribution"] == {str(v): 0 for v in range(1, 8)}
    assert body["grouped"] == {"1-2": None, "3-5": None, "6-7": None}
    assert (body["mean"], body["median"], body["suppressed"]) == (None, None, [])


# -- over time ----------------------------------------------------------------------------


def test_workshops_over_time_in_the_order_held_with_a_total_row(client, make, org):
    """Three workshops; the one held in May is outside 1 January – 30 April.

    February (30 expected): 2: 5, 3: 6, 4: 9, 5: 7, 6: 5, 7: 5 → n = 37.
    March (30 expected):    2: 5, 3: 5, 4: 6, 5: 5, 6: 5, 7: 5 → n = 31.
    Total (60 expected): 2: 10, 3: 11, 4: 15, 5: 12, 6: 10, 7: 10 → n = 68; response rate
    68/60 = 1.1333 (more rated than were expected). Groups 10/68 = 14.71 → 14.7, 38/68 =
    55.88 → 55.9, 20/68 = 29.41 → 29.4. Mean (20 + 33 + 60 + 60 + 60 + 70) / 68 = 303/68 = 4.4558 →
    4.46. Median: the 34th and 35th; 21 are 3 or less, 36 are 4 or less → 4.0.
    February by itself: mean (10 + 18 + 36 + 35 + 30 + 35) / 37 = 164/37 = 4.432 → 4.43;
    3–5: 22/37 = 59.459 → 59.5.
    """
    made = {}
    for held, counts in (
        ("2026-03-12", {"2": 5, "3": 5, "4": 6, "5": 5, "6": 5, "7": 5}),
        ("2026-02-10", {"2": 5, "3": 6, "4": 9, "5": 7, "6": 5, "7": 5}),
        ("2026-05-05", {"4": 20}),
    ):
        r = _create(client, make, org.hr, unit_ids=[org.a1.id], held_on=held,
                    expected_participants=30)
        made[held] = r.get_json()["id"]
        assert _tally(client, make, org.hr, made[held],
                      {"problem_size": counts}).status_code == 201

    r = _get(client, make, org.hr, "/api/v1/workshops/summary?from=2026-01-01&to=2026-04-30")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["filters"] == {"from": "2026-01-01", "to": "2026-04-30"}
    assert [row["workshop"]["id"] for row in body["rows"]] == [made["2026-02-10"],
                                                              made["2026-03-12"]]
    february = body["rows"][0]
    assert february["workshop"]["held_on"] == "2026-02-10"
    assert february["n"] == 37 and february["mean"] == 4.43
    assert february["grouped"]["3-5"] == 59.5
    total = body["total"]
    assert (total["workshops"], total["expected_participants"]) == (2, 60)
    assert total["n"] == 68
    assert total["response_rate"] == 1.1333
    assert total["distribution"] == {"1": 0, "2": 10, "3": 11, "4": 15, "5": 12, "6": 10,
                                     "7": 10}
    assert total["grouped"] == {"1-2": 14.7, "3-5": 55.9, "6-7": 29.4}
    assert total["mean"] == 4.46 and total["median"] == 4.0
    # Each row is what the workshop's own summary shows.
    own = _get(client, make, org.hr, f"/api/v1/workshops/{made['2026-02-10']}/summary")
    assert {k: own.get_json()[k] for k in february if k != "workshop"} == \
        {k: v for k, v in february.items() if k != "workshop"}


def test_the_total_row_does_not_give_a_rows_hidden_count_away(client, make, org):
    """February (n = 37): 2: 5, 3: 6, 4: 9, 5: 7, 6: 5, 7: 5 — nothing to hide.
    March (n = 28): 2: 5, 3: 5, 4: 6, 5: 5, 6: 5, 7: 2 — its own summary hides 7 (2), then 2
    (n), the group 1-2, 6 (group 6-7) and the group 6-7.

    The total row's 7 is 5 + 2 = 7, not small; published beside February's 5 it would give
    March's 2 away. So the total row's 7 is hidden, and likewise its 2 (10) and 6 (10), and
    its groups 1-2 and 6-7, each of which would give a hidden March figure away. The rows are
    left as their own summaries show them."""
    ids = []
    for held, counts in (
        ("2026-02-10", {"2": 5, "3": 6, "4": 9, "5": 7, "6": 5, "7": 5}),
        ("2026-03-12", {"2": 5, "3": 5, "4": 6, "5": 5, "6": 5, "7": 2}),
    ):
        r = _create(client, make, org.hr, unit_ids=[org.a1.id], held_on=held)
        ids.append(r.get_json()["id"])
        _tally(client, make, org.hr, ids[-1], {"problem_size": counts})
    body = _get(client, make, org.hr,
                "/api/v1/workshops/summary?from=2026-01-01&to=2026-12-31").get_json()
    february, march = body["rows"]
    assert february["distribution"] == {"1": 0, "2": 5, "3": 6, "4": 9, "5": 7, "6": 5,
                                        "7": 5}
    assert march["distribution"] == {"1": 0, "2": None, "3": 5, "4": 6, "5": 5, "6": None,
                                     "7": None}
    total = body["total"]
    assert total["n"] == 65
    assert total["distribution"] == {"1": 0, "2": None, "3": 11, "4": 15, "5": 12,
                                     "6": None, "7": None}
    assert total["grouped"] == {"1-2": None, "3-5": 58.5, "6-7": None}  # 38/65 = 58.46
    assert total["mean"] is None and total["median"] == 4.0
    assert {"row": "total", "figure": "distribution.7"} in body["suppression"][
        "suppressed_totals"]


@pytest.mark.parametrize(("query", "field"), [
    ("from=2026-05-01&to=2026-04-30", "to"),
    ("from=first-of-may", "from"),
    ("from=2000-01-01&to=2026-01-01", "to"),
])
def test_bad_periods_are_422_naming_the_parameter(client, make, org, query, field):
    r = _get(client, make, org.hr, f"/api/v1/workshops/summary?{query}")
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"], r.get_json()


def test_the_period_defaults_to_this_year_so_far(client, make, org):
    _create(client, make, org.hr, unit_ids=[org.a1.id], held_on="2025-12-31")
    made = _create(client, make, org.hr, unit_ids=[org.a1.id], held_on="2026-03-01")
    body = _get(client, make, org.hr, "/api/v1/workshops/summary").get_json()
    assert body["filters"] == {"from": "2026-01-01", "to": "2026-03-23"}
    assert [row["workshop"]["id"] for row in body["rows"]] == [made.get_json()["id"]]


# -- OpenAPI ------------------------------------------------------------------------------


def test_openapi_lists_the_workshop_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    expected = {
        "/api/v1/workshops": {"get", "post"},
        "/api/v1/workshops/{workshop_id}": {"get"},
        "/api/v1/workshops/{workshop_id}/ratings": {"post"},
        "/api/v1/workshops/{workshop_id}/ratings/tally": {"post"},
        "/api/v1/workshops/{workshop_id}/summary": {"get"},
        "/api/v1/workshops/summary": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths[path]), path
    rating = paths["/api/v1/workshops/{workshop_id}/ratings"]["post"]
    assert {"401", "403", "404", "409", "422"} <= set(rating["responses"])
