"""Estimators reproduce hand-computed figures; the worked examples are those of docs/statistics.md.

Hand check of the Wilson interval for 8/10 (z = 1.959964, z² = 3.841459):
centre = (0.8 + 3.841459/20) / (1 + 0.3841459) = 0.992073 / 1.384146 = 0.716740;
half = 1.959964 / 1.384146 · √(0.8·0.2/10 + 3.841459/400) = 1.416010 · 0.160012 = 0.226578;
interval = [0.490162, 0.943318] → [0.4902, 0.9433].
"""

from __future__ import annotations

import json
import math

import pytest

from incidents.stats.estimators import (
    Z95,
    chapman,
    police_dark_figure,
    proportion,
    survey_dark_figure,
    wilson_interval,
)


def _rounded(bounds):
    return [round(bounds[0], 4), round(bounds[1], 4)]


def _json(result) -> str:
    """Results must serialise as strict JSON: no NaN, no infinity."""
    return json.dumps(result, allow_nan=False)


# --- Wilson score interval -------------------------------------------------------------------


def test_z95_is_the_two_sided_95_percent_normal_quantile():
    assert 0.5 * math.erfc(-Z95 / math.sqrt(2)) == pytest.approx(0.975, abs=1e-12)


def test_wilson_eight_of_ten_matches_hand_computation():
    assert _rounded(wilson_interval(8, 10)) == [0.4902, 0.9433]


def test_wilson_zero_of_ten_starts_at_exactly_zero_and_is_not_a_point():
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0
    assert round(hi, 4) == 0.2775  # z²/(n + z²) = 3.841459 / 13.841459


def test_wilson_all_successes_mirrors_zero_successes():
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0
    assert round(lo, 4) == 0.7225


def test_wilson_thirty_of_one_hundred_twenty():
    assert _rounded(wilson_interval(30, 120)) == [0.1811, 0.3344]


def test_wilson_is_none_for_an_empty_denominator():
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(
    ("successes", "n", "message"),
    [(11, 10, "cannot exceed"), (-1, 10, "0 or more"), (0, -1, "0 or more")],
)
def test_wilson_rejects_impossible_counts(successes, n, message):
    with pytest.raises(ValueError, match=message):
        wilson_interval(successes, n)


def test_proportion_rounds_to_four_decimals_and_names_its_method():
    result = proportion(8, 10)
    assert result == {
        "value": 0.8,
        "ci95": [0.4902, 0.9433],
        "numerator": 8,
        "denominator": 10,
        "method": "Wilson score interval",
    }


def test_proportion_of_nothing_is_none_with_a_note_not_an_error():
    result = proportion(0, 0)
    assert result["value"] is None
    assert result["ci95"] is None
    assert "denominator is 0" in result["note"]
    _json(result)


# --- Survey reporting rate -------------------------------------------------------------------


def test_survey_dark_figure_worked_example():
    # 40 threats registered; survey respondents had 120 threats, 30 of them reported.
    result = survey_dark_figure(registered=40, survey_reported=30, survey_incidents=120)
    assert result["registered"] == 40
    assert result["reporting_rate"]["value"] == 0.25
    assert result["reporting_rate"]["ci95"] == [0.1811, 0.3344]
    # N̂ = 40 / 0.25; bounds 40 / 0.334411 and 40 / 0.181098
    assert result["estimated_total"] == {"value": 160.0, "ci95": [119.6, 220.9]}
    assert result["dark_figure"] == {"value": 120.0, "ci95": [79.6, 180.9]}
    assert result["dark_share"] == {"value": 0.75, "ci95": [0.6656, 0.8189]}
    assert "R treated as fixed" in result["method"]
    assert "note" not in result
    _json(result)


def test_survey_with_no_incidents_gives_none_with_a_note():
    result = survey_dark_figure(registered=12, survey_reported=0, survey_incidents=0)
    for key in ("estimated_total", "dark_figure", "dark_share"):
        assert result[key] == {"value": None, "ci95": None}
    assert result["reporting_rate"]["value"] is None
    assert "no incidents reported in the survey answers" in result["note"]
    _json(result)


def test_survey_with_nothing_reported_leaves_the_total_undefined_and_unbounded_above():
    result = survey_dark_figure(registered=12, survey_reported=0, survey_incidents=10)
    assert result["estimated_total"]["value"] is None
    # r_hi = 0.277533, so N̂ is at least 12 / 0.277533 = 43.2; r_lo = 0 leaves no upper bound.
    assert result["estimated_total"]["ci95"] == [43.2, None]
    assert result["dark_figure"] == {"value": None, "ci95": [31.2, None]}
    assert result["dark_share"] == {"value": 1.0, "ci95": [0.7225, 1.0]}
    assert "R/r is undefined" in result["note"]
    assert "unbounded" in result["note"]
    _json(result)


def test_survey_rejects_more_reported_than_happened():
    with pytest.raises(ValueError, match="cannot exceed"):
        survey_dark_figure(registered=1, survey_reported=5, survey_incidents=4)


# --- Chapman -----------------------------------------------------------------------------------


def test_chapman_worked_example():
    result = chapman(n1=60, n2=80, m=20)
    # N̂ = 61·81/21 − 1; Var = 61·81·40·60 / (21²·22) = 11858400 / 9702
    assert result["estimated_total"] == {"value": 234.3, "ci95": [165.8, 302.8]}
    assert result["variance"] == 1222.3
    # observed 60 + 80 − 20 = 120
    assert result["dark_figure"] == {"value": 114.3, "ci95": [45.8, 182.8]}
    assert (result["n1"], result["n2"], result["m"]) == (60, 80, 20)
    assert result["method"] == "Chapman's estimator (two-sample capture–recapture)"
    assert len(result["assumptions"]) == 4
    assert "note" not in result
    _json(result)


def test_chapman_lower_bound_is_raised_to_the_number_observed():
    # N̂ = 11·11/3 − 1 = 39.33, √Var = √(7744/36) = 14.67, so N̂ − 1.96·√Var = 10.6 < 18 seen.
    result = chapman(n1=10, n2=10, m=2)
    assert result["estimated_total"] == {"value": 39.3, "ci95": [18.0, 68.1]}
    assert result["dark_figure"]["ci95"] == [0.0, 50.1]


def test_chapman_without_overlap_gives_none_with_a_note():
    result = chapman(n1=10, n2=7, m=0)
    assert result["estimated_total"] == {"value": None, "ci95": None}
    assert result["dark_figure"] == {"value": None, "ci95": None}
    assert result["variance"] is None
    assert "no incident appears in both registers" in result["note"]
    _json(result)


def test_chapman_with_an_empty_register_gives_none_not_an_error():
    result = chapman(n1=0, n2=0, m=0)
    assert result["estimated_total"]["value"] is None
    assert "note" in result


@pytest.mark.parametrize(
    ("n1", "n2", "m", "message"),
    [(5, 3, 4, "cannot exceed"), (3, 5, 4, "cannot exceed"), (-1, 5, 0, "0 or more")],
)
def test_chapman_rejects_an_overlap_larger_than_a_register(n1, n2, m, message):
    with pytest.raises(ValueError, match=message):
        chapman(n1=n1, n2=n2, m=m)


# --- Police dark figure ------------------------------------------------------------------------


def test_police_dark_figure_worked_example():
    result = police_dark_figure(flagged=25, reported=15)
    assert result["not_reported"] == 10
    assert result["share_not_reported"]["value"] == 0.4
    assert result["share_not_reported"]["ci95"] == [0.234, 0.5926]
    assert result["share_not_reported"]["denominator"] == 25
    assert result["method"]


def test_police_dark_figure_with_nothing_flagged_gives_none_with_a_note():
    result = police_dark_figure(flagged=0, reported=0)
    assert result["not_reported"] == 0
    assert result["share_not_reported"]["value"] is None
    assert "note" in result["share_not_reported"]
    _json(result)


def test_police_dark_figure_rejects_more_reported_than_flagged():
    with pytest.raises(ValueError, match="cannot exceed"):
        police_dark_figure(flagged=2, reported=3)
