"""Rating a workshop in the room, without an account, once per device
(incidents/services/workshops.py, rate_in_room and add_usefulness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from incidents.errors import Conflict, NotFound
from incidents.models import AuditEntry, WorkshopDevice, WorkshopParticipation, WorkshopRating
from incidents.services import workshops
from tests.factories import NOW

PHONE, OTHER_PHONE = "phone-token-" + "a" * 30, "phone-token-" + "b" * 30


def _count(db_session, model) -> int:
    return db_session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_device_rates_the_problem_then_the_usefulness_once_each(make, org, db_session):
    with freeze_time(NOW):
        workshop = make.workshop(org.hr, [org.dept_a])
        audit_before = _count(db_session, AuditEntry)
        rating = workshops.rate_in_room(workshop.room_code, PHONE,
                                        {"problem_size": 6, "group": " Grupp 2 "})
        assert (rating.problem_size, rating.usefulness, rating.group_label) == (6, None,
                                                                                "Grupp 2")
        assert rating.rated_on == NOW.date()
        with pytest.raises(Conflict) as again:
            workshops.rate_in_room(workshop.room_code.upper(), PHONE, {"problem_size": 1})
        assert again.value.errors == {"device": ["already rated"]}

        assert workshops.add_usefulness(workshop.room_code, PHONE, 5).usefulness == 5
        with pytest.raises(Conflict):
            workshops.add_usefulness(workshop.room_code, PHONE, 1)
        with pytest.raises(Conflict) as first:
            workshops.add_usefulness(workshop.room_code, OTHER_PHONE, 4)
        assert "problem_size" in first.value.errors

        workshops.rate_in_room(workshop.room_code, OTHER_PHONE, {"problem_size": 2})
        assert sorted((r.problem_size, r.usefulness) for r in
                      db_session.scalars(sa.select(WorkshopRating))) == [(2, None), (6, 5)]
        assert _count(db_session, AuditEntry) == audit_before
        assert _count(db_session, WorkshopParticipation) == 0


def test_the_device_is_stored_only_as_a_keyed_hash_per_workshop(make, org, db_session):
    with freeze_time(NOW):
        one = make.workshop(org.hr, [org.dept_a])
        two = make.workshop(org.hr, [org.dept_b])
        workshops.rate_in_room(one.room_code, PHONE, {"problem_size": 3})
        workshops.rate_in_room(two.room_code, PHONE, {"problem_size": 4})
    keys = [d.device_key for d in db_session.scalars(sa.select(WorkshopDevice))]
    assert len(set(keys)) == 2  # the same phone cannot be followed from one workshop to another
    assert all(PHONE not in key and len(key) == 64 for key in keys)
    assert one.room_code != two.room_code


def test_a_second_device_row_is_refused_by_the_database(make, org, db_session):
    """Two taps at once both pass the check; the primary key lets only one through."""
    with freeze_time(NOW):
        workshop = make.workshop(org.hr, [org.dept_a])
        rating = workshops.rate_in_room(workshop.room_code, PHONE, {"problem_size": 3})
        extra = WorkshopRating(workshop_id=workshop.id, rated_on=NOW.date(), problem_size=5)
        db_session.add(extra)
        db_session.flush()
        with pytest.raises(sa.exc.IntegrityError), db_session.begin_nested():
            db_session.add(WorkshopDevice(workshop_id=workshop.id,
                                          device_key=workshops.device_key(workshop, PHONE),
                                          rating_id=extra.id))
            db_session.flush()
    assert rating.id != extra.id


def test_only_while_open_and_only_with_a_real_code(make, org, db_session):
    with freeze_time(NOW) as clock:
        workshop = make.workshop(org.hr, [org.dept_a], hours_open=2,
                                 opens_at=NOW + timedelta(hours=1))
        with pytest.raises(Conflict) as early:
            workshops.rate_in_room(workshop.room_code, PHONE, {"problem_size": 3})
        assert "opens_at" in early.value.errors
        clock.move_to(NOW + timedelta(hours=3, seconds=1))
        with pytest.raises(Conflict) as late:
            workshops.rate_in_room(workshop.room_code, PHONE, {"problem_size": 3})
        assert "closes_at" in late.value.errors
        for code in (str(workshop.id), "", "x" * 13, "zzzzzz"):
            with pytest.raises(NotFound):
                workshops.rate_in_room(code, PHONE, {"problem_size": 3})
    assert _count(db_session, WorkshopRating) == 0


def test_room_codes_are_short_random_and_distinct(make, org):
    with freeze_time(datetime(2026, 3, 10, tzinfo=UTC)):
        codes = {make.workshop(org.hr, [org.a1]).room_code for _ in range(20)}
    assert len(codes) == 20
    assert all(len(c) == 6 and set(c) <= set("0123456789abcdefghjkmnpqrstvwxyz") for c in codes)
