"""Proportions with intervals and the three dark-figure (mörkertal) estimators (docs/statistics.md).

Pure functions, no database: callers pass counts and get plain dicts ready for JSON. Proportions
are rounded to 4 decimals, counts and estimates to 1; rounding happens last, on the returned
values only. An estimate that cannot be given is None with a "note" saying why in English; these
functions never raise ZeroDivisionError. Invalid input (negative counts, a part larger than its
whole) raises ValueError. The formulas and worked examples are in docs/statistics.md.
"""

from __future__ import annotations

import math
from typing import Any

Z95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95 % interval."""

WILSON = "Wilson score interval"
SURVEY_METHOD = (
    "Survey reporting rate, N̂ = R / r: Wilson interval for r, carried over to N̂ = R/r "
    "by inverting its bounds; R treated as fixed"
)
CHAPMAN = "Chapman's estimator (two-sample capture–recapture)"
CHAPMAN_ASSUMPTIONS = [
    "The population is closed over the period: no incidents enter or leave it in between.",
    "The two registers capture incidents independently of each other.",
    "Every incident has the same chance of being registered in each register.",
    "Matching by IA reference is exact: no missed and no false links.",
]
POLICE_METHOD = (
    "Share of incidents flagged for police reporting that were not reported, "
    "with a Wilson score interval"
)


def _check_count(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be 0 or more, got {value}")


def _check_part(part_name: str, part: int, whole_name: str, whole: int) -> None:
    _check_count(part_name, part)
    _check_count(whole_name, whole)
    if part > whole:
        raise ValueError(f"{part_name} ({part}) cannot exceed {whole_name} ({whole})")


def _r4(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _r1(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _estimate(value: float | None, lo: float | None, hi: float | None, digits: int) -> dict:
    """A {value, ci95} pair; ci95 is None only when both bounds are unknown."""
    rnd = _r4 if digits == 4 else _r1
    ci = None if lo is None and hi is None else [rnd(lo), rnd(hi)]
    return {"value": rnd(value), "ci95": ci}


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson (1927) score interval for successes / n, unrounded; None when n == 0.

    Unlike p ± z·√(p(1−p)/n) it stays inside [0, 1] and does not collapse to a point at 0 or n
    successes, which matters for the small counts a unit produces.
    """
    _check_part("successes", successes, "n", n)
    if n == 0:
        return None
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # At 0 or n successes the exact bound is 0 or 1; the formula only approaches it in floats.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def proportion(successes: int, n: int) -> dict:
    """successes / n with its 95 % Wilson interval; value None with a note when n == 0."""
    bounds = wilson_interval(successes, n)
    result: dict[str, Any] = {
        "value": None if n == 0 else _r4(successes / n),
        "ci95": None if bounds is None else [_r4(bounds[0]), _r4(bounds[1])],
        "numerator": successes,
        "denominator": n,
        "method": WILSON,
    }
    if bounds is None:
        result["note"] = "the denominator is 0, so the proportion is undefined"
    return result


def survey_dark_figure(registered: int, survey_reported: int, survey_incidents: int) -> dict:
    """Scale the registered count R by the survey reporting rate r (anmälningsbenägenhet).

    r = survey_reported / survey_incidents (one form, from an exposure survey); N̂ = R / r,
    dark figure D = N̂ − R, dark share 1 − r. R must cover the same units, form and reference
    period as the survey. Intervals come from r's Wilson bounds; R is treated as fixed.
    """
    _check_count("registered", registered)
    _check_part("survey_reported", survey_reported, "survey_incidents", survey_incidents)
    result: dict[str, Any] = {
        "method": SURVEY_METHOD,
        "registered": registered,
        "reporting_rate": proportion(survey_reported, survey_incidents),
    }
    bounds = wilson_interval(survey_reported, survey_incidents)
    if bounds is None:
        empty = _estimate(None, None, None, 1)
        result["estimated_total"] = empty
        result["dark_figure"] = dict(empty)
        result["dark_share"] = _estimate(None, None, None, 4)
        result["note"] = "no incidents reported in the survey answers, so r is undefined"
        return result

    r_lo, r_hi = bounds
    r = survey_reported / survey_incidents
    notes = []
    total = None if r == 0 else registered / r
    if total is None:
        notes.append("no survey incident was reported, so R/r is undefined")
    total_lo = registered / r_hi
    total_hi = None if r_lo == 0 else registered / r_lo
    if total_hi is None:
        notes.append("the lower bound of r is 0, so the upper bound of N̂ is unbounded")
    result["estimated_total"] = _estimate(total, total_lo, total_hi, 1)
    result["dark_figure"] = _estimate(
        None if total is None else total - registered,
        total_lo - registered,
        None if total_hi is None else total_hi - registered,
        1,
    )
    result["dark_share"] = _estimate(1 - r, 1 - r_hi, 1 - r_lo, 4)
    if notes:
        result["note"] = "; ".join(notes)
    return result


def chapman(n1: int, n2: int, m: int) -> dict:
    """Chapman (1951) two-register estimate of the true number of incidents.

    n1: incidents in this register; n2: incidents in the city's general incident system (IA);
    m: incidents in both (ours carrying an IA reference). N̂ = (n1+1)(n2+1)/(m+1) − 1 with
    Seber's (1970) variance; the 95 % interval N̂ ± z·√Var has its lower bound raised to the
    n1 + n2 − m incidents actually observed. With m == 0 no estimate is given.
    """
    _check_count("n1", n1)
    _check_count("n2", n2)
    _check_part("m", m, "min(n1, n2)", min(n1, n2))
    observed = n1 + n2 - m
    result: dict[str, Any] = {
        "method": CHAPMAN,
        "n1": n1,
        "n2": n2,
        "m": m,
        "assumptions": list(CHAPMAN_ASSUMPTIONS),
    }
    if m == 0:
        result["estimated_total"] = _estimate(None, None, None, 1)
        result["dark_figure"] = _estimate(None, None, None, 1)
        result["variance"] = None
        result["note"] = (
            "no incident appears in both registers (m = 0); with no overlap the estimate is "
            "unstable and its interval unbounded, so none is given"
        )
        return result

    total = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    variance = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    half = Z95 * math.sqrt(variance)
    lo = max(total - half, observed)
    hi = total + half
    result["estimated_total"] = _estimate(total, lo, hi, 1)
    result["dark_figure"] = _estimate(total - observed, lo - observed, hi - observed, 1)
    result["variance"] = _r1(variance)
    return result


def police_dark_figure(flagged: int, reported: int) -> dict:
    """Incidents of forms flagged for police reporting (polisanmälan) that were not reported."""
    _check_part("reported", reported, "flagged", flagged)
    not_reported = flagged - reported
    return {
        "method": POLICE_METHOD,
        "flagged": flagged,
        "reported": reported,
        "not_reported": not_reported,
        "share_not_reported": proportion(not_reported, flagged),
    }
