"""The figures of a workshop summary and their disclosure control, on counts given directly
(incidents/stats/workshops.py); each example is counted by hand in its docstring."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from sqlalchemy import true

from incidents.errors import NotFound
from incidents.models import Workshop, WorkshopTally, WorkshopTallyCount, WorkshopUnit
from incidents.stats.workshops import (
    RowInput,
    empty_counts,
    median,
    percent,
    rounded,
    summarise,
    workshop_summary,
    workshops_over_time,
)


def counts(problem=(0,) * 7, useful=(0,) * 5):
    """Counts per value, lowest value first."""
    result = empty_counts()
    result["problem_size"] = dict(zip(range(1, 8), problem, strict=True))
    result["usefulness"] = dict(zip(range(1, 6), useful, strict=True))
    return result


def one(problem=(0,) * 7, useful=(0,) * 5, expected=40, threshold=5):
    (body,), _, _ = summarise([RowInput(1, expected, counts(problem, useful))], threshold)
    return body


# -- the figures --------------------------------------------------------------------------


def test_rounding_is_half_up_from_the_exact_fraction():
    """1/16 = 6.25 % and 33/8 = 4.125 lie exactly halfway; Python's round() would give 6.2
    and 4.12 (binary floats, and ties to even)."""
    assert percent(1, 16) == 6.3
    assert rounded(Fraction(33, 8), 2) == 4.13
    assert percent(2, 3) == 66.7
    assert percent(0, 5) == 0.0
    assert percent(0, 0) is None


def test_median_is_the_middle_rating_or_the_mean_of_the_two_middle_ones():
    assert median({1: 1, 2: 1, 3: 1}) == 2.0  # 1, 2, 3
    assert median({1: 2, 2: 0, 3: 2}) == 2.0  # 1, 1, 3, 3: (1 + 3) / 2
    assert median({4: 3, 5: 1}) == 4.0
    assert median({4: 2, 5: 2}) == 4.5
    assert median({1: 0, 2: 0}) is None


def test_figures_of_a_workshop_without_anything_to_hide():
    """2: 5, 3: 6, 4: 9, 5: 7, 6: 5 (n = 32, 40 expected), usefulness 3: 6, 4: 12, 5: 10.
    Response rate 32/40 = 0.8; groups 5/32 = 15.625 → 15.6, 22/32 = 68.75 → 68.8, 15.6; mean
    129/32 = 4.03125 → 4.03; median 4. Usefulness n 28, mean 116/28 = 4.142… → 4.14, median
    4, useful 22/28 = 78.571… → 78.6."""
    body = one((0, 5, 6, 9, 7, 5, 0), (0, 0, 6, 12, 10))
    assert body["n"] == 32 and body["response_rate"] == 0.8
    assert body["grouped"] == {"1-2": 15.6, "3-5": 68.8, "6-7": 15.6}
    assert (body["mean"], body["median"]) == (4.03, 4.0)
    useful = body["usefulness"]
    assert (useful["n"], useful["mean"], useful["median"], useful["useful_share"]) == (
        28, 4.14, 4.0, 78.6)
    assert body["suppressed"] == [] and useful["suppressed"] == []


# -- disclosure control: one workshop -----------------------------------------------------


def test_primary_and_secondary_suppression_of_one_workshop():
    """1: 0, 2: 5, 3: 6, 4: 9, 5: 6, 6: 5, 7: 1 (n = 32): 7 is hidden (primary); n would give
    it away, so 2 (5, the lower of the two fives) goes; group 1-2 = 0 + 2 would give 2 away
    and has no other non-zero value, so the group goes; group 6-7 would give 7 away, so 6
    goes; n = the sum of the groups would give 1-2 away, so 6-7 (6 < 21) goes."""
    body = one((0, 5, 6, 9, 6, 5, 1))
    assert body["distribution"] == {"1": 0, "2": None, "3": 6, "4": 9, "5": 6, "6": None,
                                    "7": None}
    assert body["grouped"] == {"1-2": None, "3-5": 65.6, "6-7": None}


def test_a_small_group_is_hidden_even_when_its_values_protect_each_other():
    """3: 10, 4: 10, 5: 7, 6: 2, 7: 1 → n = 30. 6 (2) and 7 (1) are hidden and protect each
    other, but the group 6-7 (3) would be published as 10.0 %, saying that three rated 6 or
    7: it is hidden too (primary). n = the sum of the groups then gives 6-7 away, and 1-2 is
    0, so 3-5 (27) goes; 3-5 could then be added up from its values, so the smallest
    of them, 5 (7), goes."""
    body = one((0, 0, 10, 10, 7, 2, 1), expected=30)
    assert body["grouped"] == {"1-2": 0.0, "3-5": None, "6-7": None}
    assert body["distribution"] == {"1": 0, "2": 0, "3": 10, "4": 10, "5": None, "6": None,
                                    "7": None}
    assert body["median"] == 4.0


def test_a_median_between_two_values_is_protected_like_a_total():
    """3: 4, 4: 6, 5: 5, 6: 5 (n = 20). The median is 4.5: the 10th rating is 4 and the 11th
    is 5, so the values up to 4 add up to exactly 10. 3 (4) is hidden; n gives it away, so 5
    (the first of the fives) goes; the median's 10 = 3 + 4 gives it away too, so 4 (6) goes.
    Without that, 10 − 6 would show the 4."""
    body = one((0, 0, 4, 6, 5, 5, 0), expected=20)
    assert body["median"] == 4.5
    assert body["distribution"] == {"1": 0, "2": 0, "3": None, "4": None, "5": None, "6": 5,
                                    "7": 0}
    assert body["grouped"] == {"1-2": 0.0, "3-5": 75.0, "6-7": 25.0}


def test_the_mean_is_null_when_a_value_is_hidden():
    """Usefulness 2: 2, 4: 18 (n = 20). Were the mean 3.80 published beside n = 20 and the
    zeros, 2a + 4b = 76 with a + b = 20 gives a = 2."""
    body = one(useful=(0, 2, 0, 18, 0))
    assert body["usefulness"]["mean"] is None
    assert body["usefulness"]["distribution"]["2"] is None
    assert "mean" in body["usefulness"]["suppressed"]


def test_useful_share_hides_a_small_count_below_it():
    """Usefulness 2: 1, 4: 9, 5: 10 (n = 20). A useful share of 95.0 % would say that one
    person rated 1–3, so the group 1-3 counts as published: 1 is hidden, and so is 4-5 (the
    share), besides 2 (primary), 4 (n) and 5 (group 4-5)."""
    useful = one(useful=(0, 1, 0, 9, 10))["usefulness"]
    assert useful["useful_share"] is None
    assert useful["distribution"] == {"1": 0, "2": None, "3": 0, "4": None, "5": None}
    assert useful["median"] == 4.5


def test_too_few_ratings_hide_the_whole_distribution_but_not_n():
    body = one((0, 0, 0, 4, 0, 0, 0), (0, 0, 0, 0, 4), expected=8)
    assert (body["n"], body["response_rate"]) == (4, 0.5)
    assert set(body["distribution"].values()) == {None}
    assert set(body["grouped"].values()) == {None}
    assert body["usefulness"]["n"] == 4
    assert set(body["usefulness"]["distribution"].values()) == {None}


def test_a_threshold_of_one_turns_suppression_off():
    body = one((0, 0, 0, 1, 0, 0, 0), threshold=1)
    assert body["distribution"]["4"] == 1
    assert (body["mean"], body["grouped"]["3-5"]) == (4.0, 100.0)


# -- disclosure control: over time --------------------------------------------------------


def test_the_total_row_keeps_a_small_workshops_ratings_hidden():
    """A: 20 ratings, all 4. B: 3 ratings, all 4 — too few, nothing shown. The total row's 23
    at 4 beside A's 20 would say that B's three all gave 4; so would its zeros (B's hidden
    zeros are the total's zeros minus A's). Every value of the total row is hidden; A is shown
    as in its own summary."""
    rows, total, _ = summarise([RowInput("A", 20, counts((0, 0, 0, 20, 0, 0, 0))),
                                RowInput("B", 5, counts((0, 0, 0, 3, 0, 0, 0)))], 5,
                               with_total=True)
    assert rows[0]["distribution"]["4"] == 20
    assert set(rows[1]["distribution"].values()) == {None}
    assert total["n"] == 23
    assert set(total["distribution"].values()) == {None}
    assert set(total["grouped"].values()) == {None}
    assert total["mean"] is None


def test_hidden_zeros_of_two_small_workshops_are_not_given_away_by_their_sum():
    """B (3 ratings) and C (2 ratings) gave 4 only, and are hidden whole. In each value but
    4 their hidden zeros are two, so no total has exactly one hidden member; but the total
    row's value minus A's would be 0 + 0, showing both zeros. So those total-row values are
    hidden too (A's own cannot be: A shows as in its own summary)."""
    rows, total, _ = summarise([
        RowInput("A", 30, counts((0, 5, 5, 5, 5, 5, 5))),
        RowInput("B", 5, counts((0, 0, 0, 3, 0, 0, 0))),
        RowInput("C", 5, counts((0, 0, 0, 2, 0, 0, 0))),
    ], 5, with_total=True)
    assert rows[0]["distribution"] == {"1": 0, "2": 5, "3": 5, "4": 5, "5": 5, "6": 5, "7": 5}
    assert total["n"] == 35
    for value in ("2", "3", "5", "6", "7"):
        assert total["distribution"][value] is None, value


def test_a_row_is_never_hidden_more_than_in_its_own_summary():
    rows_alone, _, _ = summarise([RowInput("A", 40, counts((1, 2, 6, 8, 6, 3, 1)))], 5)
    together, _, _ = summarise([RowInput("A", 40, counts((1, 2, 6, 8, 6, 3, 1))),
                                RowInput("B", 40, counts((0, 1, 3, 5, 6, 5, 0)))], 5,
                               with_total=True)
    assert together[0] == rows_alone[0]


# -- from the database --------------------------------------------------------------------


def _workshop(db_session, org, held_on, expected, problem):
    workshop = Workshop(
        title=f"Workshop {held_on}", held_on=held_on, expected_participants=expected,
        opens_at=datetime(2026, 3, 1, tzinfo=UTC), closes_at=datetime(2026, 3, 2, tzinfo=UTC),
        created_by_id=org.hr.id, unit_rows=[WorkshopUnit(unit_id=org.a1.id)],
    )
    tally = WorkshopTally(entered_by_id=org.hr.id, counts=[
        WorkshopTallyCount(scale="problem_size", value=v, count=c) for v, c in problem.items()
    ])
    db_session.add(workshop)
    db_session.flush()
    tally.workshop_id = workshop.id
    db_session.add(tally)
    db_session.flush()
    return workshop


def test_the_scheduler_gets_a_json_ready_summary(db_session, org):
    workshop = _workshop(db_session, org, date(2026, 3, 1), 10, {4: 5, 5: 5})
    body = workshop_summary(workshop.id)
    assert json.loads(json.dumps(body)) == body
    assert body["workshop"]["held_on"] == "2026-03-01"
    assert body["workshop"]["closes_at"] == "2026-03-02T00:00:00+00:00"
    assert (body["n"], body["response_rate"], body["median"]) == (10, 1.0, 4.5)
    with pytest.raises(NotFound):
        workshop_summary(999_999)


def test_over_time_from_the_database(db_session, org):
    early = _workshop(db_session, org, date(2026, 1, 31), 10, {3: 5, 6: 5})
    _workshop(db_session, org, date(2026, 5, 1), 10, {1: 9})
    body = workshops_over_time(date(2026, 1, 1), date(2026, 4, 30), true())
    assert json.loads(json.dumps(body)) == body
    assert [row["workshop"]["id"] for row in body["rows"]] == [early.id]
    assert body["total"]["n"] == 10
    assert body["total"]["distribution"] == {"1": 0, "2": 0, "3": 5, "4": 0, "5": 0, "6": 5,
                                             "7": 0}
    assert workshops_over_time(date(2027, 1, 1), date(2027, 12, 31), true())["total"]["n"] == 0
