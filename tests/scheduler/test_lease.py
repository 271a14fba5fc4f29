"""The scheduler lease: one holder at a time, renewed by its holder, taken over only once it
has run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun import freeze_time

from scheduler import lease

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_only_one_holds_the_lease_until_it_runs_out(app, db_session):
    with freeze_time(NOON) as clock:
        assert lease.acquire("a:1", 60)
        assert not lease.acquire("b:2", 60)
        clock.tick(timedelta(seconds=59))
        assert not lease.acquire("b:2", 60)  # still a's
        assert lease.acquire("a:1", 60)  # a renews: now until 12:01:59
        clock.tick(timedelta(seconds=59))
        assert not lease.acquire("b:2", 60)
        clock.tick(timedelta(seconds=2))  # a has not renewed for a whole lease
        assert lease.acquire("b:2", 60)
        assert not lease.acquire("a:1", 60)  # a finds it taken: it must stop
    held = lease.current()
    assert held.holder == "b:2"
    assert held.acquired_at == NOON + timedelta(seconds=120)


def test_renewing_keeps_the_time_it_was_taken(app, db_session):
    with freeze_time(NOON) as clock:
        lease.acquire("a:1", 60)
        clock.tick(timedelta(seconds=30))
        lease.acquire("a:1", 60)
    held = lease.current()
    assert held.acquired_at == NOON
    assert held.expires_at == NOON + timedelta(seconds=90)


def test_releasing_frees_it_at_once_and_only_for_its_holder(app, db_session):
    with freeze_time(NOON):
        lease.acquire("a:1", 60)
        lease.release("b:2")  # not b's to release
        assert not lease.acquire("b:2", 60)
        lease.release("a:1")
        assert lease.current() is None
        assert lease.acquire("b:2", 60)
