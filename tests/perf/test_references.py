"""The year's reference numbers (docs/domain.md, "Reference numbers"): unique and increasing
within a year under concurrent reports, never reused, and a report that fails may leave a gap.
No lock is held across a request: on PostgreSQL the number is taken in a transaction of its own
(services/reporting.next_reference)."""

from __future__ import annotations

import sqlalchemy as sa

from incidents.extensions import db
from incidents.models import ReferenceCounter
from incidents.services import reporting
from tests.perf.threads import run_in_threads

YEAR = 2026


def _number(reference: str) -> int:
    prefix, year, number = reference.split("-")
    assert (prefix, int(year)) == ("OP", YEAR)
    return int(number)


def test_concurrent_reports_get_unique_increasing_numbers(real_app):
    threads, each = 8, 25
    taken: dict[int, list[int]] = {}

    def report(worker: int) -> None:
        with real_app.app_context():
            mine = taken.setdefault(worker, [])
            for _ in range(each):
                mine.append(_number(reporting.next_reference(YEAR)))
                db.session.commit()
            db.session.remove()

    run_in_threads(report, threads)
    numbers = [n for mine in taken.values() for n in mine]
    # Unique, and with no report failing, no gap: exactly 1..200.
    assert sorted(numbers) == list(range(1, threads * each + 1))
    # Each request saw its numbers grow in the order it took them.
    assert all(mine == sorted(mine) for mine in taken.values())
    with real_app.app_context():
        assert db.session.get(ReferenceCounter, YEAR).last_number == threads * each


def test_a_failed_report_may_leave_a_gap_but_never_reuses_a_number(real_app):
    with real_app.app_context():
        first = _number(reporting.next_reference(YEAR))
        db.session.commit()
        failed = _number(reporting.next_reference(YEAR))
        db.session.rollback()  # the report failed after it took its number
        after = _number(reporting.next_reference(YEAR))
        db.session.commit()
    assert failed == first + 1
    on_postgresql = real_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    # PostgreSQL: the number was taken in its own transaction and stays used (a gap); SQLite:
    # taken in the request's transaction, it rolled back with it. Never reused either way
    # while a report holds it, and always increasing.
    assert after == (failed + 1 if on_postgresql else failed)
    assert after > first


def test_the_year_counter_stops_below_the_anonymous_numbers(real_app):
    with real_app.app_context():
        reporting.next_reference(YEAR)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            return  # its 32-bit column cannot hold a number that close (test_anonymous_publication)
        db.session.execute(sa.update(ReferenceCounter).where(ReferenceCounter.year == YEAR)
                           .values(last_number=reporting.ANONYMOUS_FIRST - 1))
        db.session.commit()
        try:
            reporting.next_reference(YEAR)
        except RuntimeError as exc:
            assert "used up" in str(exc)
        else:
            raise AssertionError("the counter reached the anonymous reports' numbers")
