"""Disclosure control: primary and secondary suppression; tables are those of docs/statistics.md."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from incidents.stats.disclosure import suppress, suppress_value

FORMS = ["harassment", "threat", "violence"]


def _table(rows: dict[str, list[int]]) -> pd.DataFrame:
    """A unit × form table, one row per cell, units in the order given, forms as FORMS."""
    records = [
        {"unit": unit, "category": form, "count": n}
        for unit, counts in rows.items()
        for form, n in zip(FORMS, counts, strict=True)
    ]
    return pd.DataFrame(records)


def _hidden(result: pd.DataFrame) -> set[tuple[str, str]]:
    rows = result[result["suppressed"]]
    return set(zip(rows["unit"], rows["category"], strict=True))


def _one_dimensional(counts: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"unit": [f"U{i}" for i in range(len(counts))], "count": counts})


def test_suppress_value_rule():
    assert [suppress_value(n, 5) for n in range(7)] == [False, True, True, True, True, False, False]


def test_primary_hides_counts_from_one_to_below_the_threshold():
    result = suppress(_one_dimensional([1, 4, 5, 9, 12]), by=["unit"], threshold=5)
    # 1 and 4 hidden; two hidden cells in the grand total protect each other.
    assert result["suppressed"].tolist() == [True, True, False, False, False]
    assert result["count"].tolist() == [None, None, 5, 9, 12]


def test_zero_is_published():
    result = suppress(_one_dimensional([0, 7, 0, 9]), by=["unit"])
    assert not result["suppressed"].any()
    assert result["count"].tolist() == [0, 7, 0, 9]


def test_secondary_protects_a_cell_from_its_row_and_column_totals():
    # Worked example: A-threat (3) is primary. Column threat → B-threat; row A → A-violence (8,
    # smaller than 12); row B → B-violence (6, smaller than 20).
    frame = _table({"A": [12, 3, 8], "B": [20, 9, 6]})
    result = suppress(frame, by=["unit", "category"])
    assert _hidden(result) == {
        ("A", "threat"),
        ("B", "threat"),
        ("A", "violence"),
        ("B", "violence"),
    }
    for _, cells in result.groupby("unit"):
        assert cells["suppressed"].sum() != 1
    for _, cells in result.groupby("category"):
        assert cells["suppressed"].sum() != 1
    assert result.attrs["suppressed_totals"] == []


def test_secondary_repeats_until_stable():
    # One sweep hides A-threat's complements C-threat, A-violence and C-harassment; that leaves
    # column harassment, column violence and row B with one hidden cell each, so a second sweep
    # hides A-harassment, B-violence and B-threat. Only B-harassment and C-violence (0) remain.
    frame = _table({"A": [12, 3, 8], "B": [20, 9, 6], "C": [15, 7, 0]})
    result = suppress(frame, by=["unit", "category"])
    published = set(zip(frame["unit"], frame["category"], strict=True)) - _hidden(result)
    assert published == {("B", "harassment"), ("C", "violence")}
    for column in ("unit", "category"):
        for _, cells in result.groupby(column):
            assert cells["suppressed"].sum() != 1


def test_complement_is_the_smallest_non_zero_cell():
    result = suppress(_one_dimensional([3, 0, 9, 6]), by=["unit"])
    assert result["suppressed"].tolist() == [True, False, False, True]


def test_complement_ties_go_to_the_first_in_frame_order():
    result = suppress(_one_dimensional([3, 7, 7]), by=["unit"])
    assert result["suppressed"].tolist() == [True, True, False]


def test_total_is_listed_for_blanking_when_only_zeros_are_left():
    # 1-D: the grand total equals the hidden 3.
    result = suppress(_one_dimensional([3, 0, 0]), by=["unit"])
    assert result["suppressed"].tolist() == [True, False, False]
    assert result.attrs["suppressed_totals"] == [{}]


def test_column_total_is_listed_for_blanking_in_a_two_dimensional_table():
    # Worked example: violence is 6 in A and 0 in B; once A-violence is hidden the violence total
    # (6) gives it away and no non-zero cell is left in that column.
    frame = _table({"A": [9, 3, 6], "B": [14, 8, 0]})
    result = suppress(frame, by=["unit", "category"])
    published = set(zip(frame["unit"], frame["category"], strict=True)) - _hidden(result)
    assert published == {("B", "violence")}
    assert result.attrs["suppressed_totals"] == [{"category": "violence"}]
    json.dumps(result.attrs["suppressed_totals"])


def test_derived_columns_are_nulled_for_json():
    frame = _one_dimensional([2, 3, 40, 50])
    frame["rate_per_100"] = [4.0, 6.0, 80.0, float("nan")]
    result = suppress(frame, by=["unit"], derived=["rate_per_100"])
    assert result["rate_per_100"].tolist() == [None, None, 80.0, None]
    records = json.loads(result.to_json(orient="records"))
    assert [r["count"] for r in records] == [None, None, 40, 50]
    assert [r["rate_per_100"] for r in records] == [None, None, 80.0, None]
    json.dumps(result[["count", "rate_per_100"]].to_dict("records"), allow_nan=False)


@pytest.mark.parametrize("threshold", [1, 0])
def test_threshold_of_one_or_less_disables_suppression(threshold):
    result = suppress(_one_dimensional([1, 2, 3, 0]), by=["unit"], threshold=threshold)
    assert not result["suppressed"].any()
    assert result["count"].tolist() == [1, 2, 3, 0]


def test_threshold_is_configurable():
    result = suppress(_one_dimensional([9, 10, 11]), by=["unit"], threshold=10)
    assert result["suppressed"].tolist() == [True, True, False]


def test_the_input_frame_is_left_untouched():
    frame = _one_dimensional([2, 30, 40])
    suppress(frame, by=["unit"])
    assert frame["count"].tolist() == [2, 30, 40]
    assert "suppressed" not in frame.columns


def test_one_row_per_cell_is_required():
    frame = pd.DataFrame({"unit": ["A", "A"], "count": [3, 4]})
    with pytest.raises(ValueError, match="one row per cell"):
        suppress(frame, by=["unit"])
