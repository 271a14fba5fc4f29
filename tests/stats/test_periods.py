"""Calendar periods of the statistics: months, tertials (T1 Jan–Apr, T2 May–Aug, T3 Sep–Dec)
and years, and the period strings other statistics endpoints accept."""

from __future__ import annotations

from datetime import date

import pytest

from incidents.errors import ValidationFailed
from incidents.stats.periods import (
    month_label,
    months_between,
    next_month,
    parse_period,
    tertial_label,
    tertial_of,
    year_label,
)


def test_tertials_are_four_months_each():
    assert [tertial_of(m) for m in range(1, 13)] == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    assert [tertial_label(f"2026-{m:02d}") for m in (1, 4, 5, 8, 9, 12)] == [
        "2026-T1", "2026-T1", "2026-T2", "2026-T2", "2026-T3", "2026-T3",
    ]


def test_labels():
    assert month_label(date(2026, 2, 28)) == "2026-02"
    assert year_label("2026-02") == 2026
    assert next_month(date(2026, 12, 15)) == date(2027, 1, 1)
    assert next_month(date(2026, 1, 31)) == date(2026, 2, 1)


def test_months_between_covers_both_ends_and_the_turn_of_the_year():
    assert months_between(date(2025, 11, 15), date(2026, 2, 1)) == [
        date(2025, 11, 1), date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1),
    ]
    assert months_between(date(2026, 3, 10), date(2026, 3, 12)) == [date(2026, 3, 1)]


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-T1", date(2026, 1, 1), date(2026, 4, 30)),
    ("2026-T2", date(2026, 5, 1), date(2026, 8, 31)),
    ("2026-T3", date(2026, 9, 1), date(2026, 12, 31)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),  # a leap year
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    (" 2026-05 ", date(2026, 5, 1), date(2026, 5, 31)),
])
def test_parse_period(text, first, last):
    assert parse_period(text) == (first, last)


@pytest.mark.parametrize("text", ["2026-T4", "2026-13", "2026-00", "26", "2026-5", "T1-2026"])
def test_parse_period_refuses_what_it_does_not_know(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text, "period")
    assert "period" in caught.value.errors
