"""Summaries of workshop ratings (docs/statistics.md, "Workshops").

The database counts: one GROUP BY per source (ratings given through the service, and the
tallies hr entered) gives the count per workshop and scale value; no rating row is loaded.
Everything after that is plain Python on those counts: the figures (n, response rate,
distribution, the city's groups, mean, median, the share rating the workshop useful) and
disclosure control.

Disclosure control (threshold ``STATS_SUPPRESSION_THRESHOLD``, default 5), per scale of each
workshop (and of the total row):

1. **Too few ratings.** With 1 ≤ n < threshold, n and the response rate are shown but nothing
   about the ratings: every value of the distribution is null (zeros too: beside one hidden
   count they would show that everyone gave the same rating), and so are the percentages, the
   mean and the median.
2. **Primary.** A count from 1 to threshold − 1 is null: a value of the distribution, and a
   group of values that is published as a percentage (1-2, 3-5, 6-7; usefulness 4-5, and 1-3,
   which is 100 % minus it).
3. **Secondary.** Published totals must not give a hidden count away by subtraction. The totals
   are n (the sum of the values and of the groups), each group (the sum of its values), a
   fractional median x.5 (the values up to x add up to n / 2) and, in a comparison over time,
   the total row (per value and group, the sum over workshops). Wherever such a sum has exactly
   one hidden member, or hidden members that add up to 0 (hidden zeros of rule 1), the smallest
   non-zero published member is hidden too (ties: the lowest value, the earliest workshop), or
   the sum itself if none is left; this repeats until nothing changes. A hidden n blanks the
   figures computed from it.
4. **The mean** is derived from every count. With n it gives a second sum (of each value times
   its count), from which hidden counts can be solved, so it is null whenever any value of its
   scale is hidden. The median only tells on which side of the middle the ratings fall (bar
   the x.5 case in 3.), so it stays.

This is the rule of incidents/stats/disclosure.py (``suppress_value``; secondary suppression
against every published total) applied to the totals a workshop summary publishes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from incidents.clock import utcnow
from incidents.domain import (
    PROBLEM_SIZE_GROUP_LABELS,
    PROBLEM_SIZE_GROUPS,
    USEFUL_RATINGS,
    WORKSHOP_SCALE_ANCHORS,
    WORKSHOP_SCALE_LABELS,
    WORKSHOP_SCALE_RANGE,
    WorkshopScale,
)
from incidents.errors import NotFound
from incidents.extensions import db
from incidents.models import Workshop, WorkshopRating, WorkshopTally, WorkshopTallyCount
from incidents.stats.disclosure import suppress_value

PROBLEM = WorkshopScale.PROBLEM_SIZE.value
USEFUL = WorkshopScale.USEFULNESS.value

# The groups of values whose share is published, per scale. Usefulness 1-3 is not shown, but
# it is 100 % minus useful_share, so it is protected like the others.
GROUPS: dict[str, dict[str, tuple[int, int]]] = {
    PROBLEM: dict(PROBLEM_SIZE_GROUPS),
    USEFUL: {"1-3": (1, USEFUL_RATINGS[0] - 1), "4-5": USEFUL_RATINGS},
}
USEFUL_GROUP = "4-5"


def scale_values(scale: str) -> list[int]:
    low, high = WORKSHOP_SCALE_RANGE[WorkshopScale(scale)]
    return list(range(low, high + 1))


def empty_counts() -> dict[str, dict[int, int]]:
    return {scale: dict.fromkeys(scale_values(scale), 0) for scale in (PROBLEM, USEFUL)}


# -- counting in SQL ----------------------------------------------------------------------


def rating_counts(workshop_ids: Sequence[int]) -> dict[int, dict[str, dict[int, int]]]:
    """Per workshop and scale, how many gave each value: its ratings plus every tally."""
    counts = {workshop_id: empty_counts() for workshop_id in workshop_ids}
    if not counts:
        return counts
    given = [
        (PROBLEM, select(WorkshopRating.workshop_id, WorkshopRating.problem_size, func.count())
         .where(WorkshopRating.workshop_id.in_(workshop_ids))
         .group_by(WorkshopRating.workshop_id, WorkshopRating.problem_size)),
        (USEFUL, select(WorkshopRating.workshop_id, WorkshopRating.usefulness, func.count())
         .where(WorkshopRating.workshop_id.in_(workshop_ids),
                WorkshopRating.usefulness.is_not(None))
         .group_by(WorkshopRating.workshop_id, WorkshopRating.usefulness)),
    ]
    for scale, query in given:
        for workshop_id, value, count in db.session.execute(query):
            counts[workshop_id][scale][int(value)] += int(count)
    tallied = (
        select(WorkshopTally.workshop_id, WorkshopTallyCount.scale, WorkshopTallyCount.value,
               func.sum(WorkshopTallyCount.count))
        .join(WorkshopTallyCount, WorkshopTallyCount.tally_id == WorkshopTally.id)
        .where(WorkshopTally.workshop_id.in_(workshop_ids))
        .group_by(WorkshopTally.workshop_id, WorkshopTallyCount.scale, WorkshopTallyCount.value)
    )
    for workshop_id, scale, value, count in db.session.execute(tallied):
        counts[workshop_id][scale][int(value)] += int(count)
    return counts


# -- figures ------------------------------------------------------------------------------


def rounded(value: Fraction, places: int) -> float:
    """Rounded half up (2.25 → 2.3 at one place), from the exact fraction: a hand count and
    the service agree to the last decimal."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def median(counts: dict[int, int]) -> float | None:
    """The middle value of the ratings, or the mean of the two middle ones."""
    n = sum(counts.values())
    if n == 0:
        return None
    lower_rank, upper_rank = (n - 1) // 2, n // 2
    lower = upper = None
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if lower is None and seen > lower_rank:
            lower = value
        if seen > upper_rank:
            upper = value
            break
    return (lower + upper) / 2


def mean(counts: dict[int, int]) -> float | None:
    n = sum(counts.values())
    if n == 0:
        return None
    return rounded(Fraction(sum(value * count for value, count in counts.items()), n), 2)


def percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else rounded(Fraction(100 * part, whole), 1)


def group_count(counts: dict[int, int], bounds: tuple[int, int]) -> int:
    low, high = bounds
    return sum(count for value, count in counts.items() if low <= value <= high)


def figures(counts: dict[str, dict[int, int]], expected: int) -> dict[str, Any]:
    """The figures before disclosure control, in the shape of the answer."""
    problem, useful = counts[PROBLEM], counts[USEFUL]
    n, n_useful = sum(problem.values()), sum(useful.values())
    return {
        "n": n,
        "response_rate": rounded(Fraction(n, expected), 4) if expected else None,
        "distribution": {str(value): count for value, count in problem.items()},
        "grouped": {code: percent(group_count(problem, bounds), n)
                    for code, bounds in GROUPS[PROBLEM].items()},
        "mean": mean(problem),
        "median": median(problem),
        "usefulness": {
            "n": n_useful,
            "distribution": {str(value): count for value, count in useful.items()},
            "mean": mean(useful),
            "median": median(useful),
            "useful_share": percent(group_count(useful, GROUPS[USEFUL][USEFUL_GROUP]),
                                    n_useful),
            "suppressed": [],
        },
        "suppressed": [],
    }


# -- disclosure control -------------------------------------------------------------------

# A quantity: (row, scale, kind, name). kind is "n", "value", "group" or "median".
Key = tuple[Any, str, str, Any]


@dataclass(frozen=True)
class _Sum:
    """``total`` = the sum of ``parts``. A figure that is not a count (a median's n / 2)
    protects its parts only while it is published."""

    total: Key
    parts: tuple[Key, ...]
    figure: bool = False


@dataclass
class _Table:
    counts: dict[Key, int] = field(default_factory=dict)
    hidden: set[Key] = field(default_factory=set)
    sums: list[_Sum] = field(default_factory=list)
    # Quantities settled already (the workshop rows under a total row): never hidden more.
    frozen: set[Key] = field(default_factory=set)

    def hide_second(self, members: Iterable[Key], fallback: Key) -> bool:
        """Hide the smallest non-zero published member (ties: the first), else ``fallback``;
        whether anything new was hidden."""
        candidates = [k for k in members
                      if k not in self.hidden and k not in self.frozen and self.counts[k] > 0]
        pick = min(candidates, key=lambda k: self.counts[k]) if candidates else fallback
        if pick in self.hidden or pick in self.frozen:
            return False
        self.hidden.add(pick)
        return True

    def gives_away(self, rule: _Sum) -> bool:
        """Whether a sum reveals a hidden member: it has exactly one, or its hidden parts add
        up to 0 (then each is 0: hidden zeros occur where too few ratings hide a whole
        distribution). A median that is not published reveals nothing."""
        if rule.figure and rule.total in self.hidden:
            return False
        hidden = [k for k in (rule.total, *rule.parts) if k in self.hidden]
        if len(hidden) == 1:
            return True
        return bool(hidden) and rule.total not in self.hidden and sum(
            self.counts[k] for k in hidden) == 0

    def secondary(self) -> None:
        """Until nothing changes: wherever a sum gives a hidden member away, hide one more."""
        changed = True
        while changed:
            changed = False
            for rule in self.sums:
                if self.gives_away(rule):
                    changed |= self.hide_second(rule.parts, rule.total)


def _add_block(table: _Table, row: Any, scale: str, counts: dict[int, int],
               threshold: int) -> None:
    """The quantities of one scale of one row, their sums and their primary suppression."""
    n = sum(counts.values())
    n_key: Key = (row, scale, "n", None)
    value_keys = tuple((row, scale, "value", v) for v in counts)
    group_keys = tuple((row, scale, "group", code) for code in GROUPS[scale])
    table.counts[n_key] = n
    for key in value_keys:
        table.counts[key] = counts[key[3]]
    for key in group_keys:
        table.counts[key] = group_count(counts, GROUPS[scale][key[3]])
    table.counts[(row, scale, "median", None)] = n
    table.sums.append(_Sum(n_key, value_keys))
    for key in group_keys:
        low, high = GROUPS[scale][key[3]]
        table.sums.append(_Sum(key, tuple(k for k in value_keys if low <= k[3] <= high)))
    table.sums.append(_Sum(n_key, group_keys))
    if suppress_value(n, threshold):
        # Too few ratings: nothing about them is shown, zeros included.
        table.hidden.update(value_keys + group_keys)
        table.hidden.add((row, scale, "median", None))
        return
    table.hidden.update(k for k in value_keys + group_keys
                        if suppress_value(table.counts[k], threshold))
    if n == 0:
        return
    middle = median(counts)
    if middle != int(middle):
        # The values up to the lower middle one add up to exactly n / 2.
        below = tuple(k for k in value_keys if k[3] <= int(middle))
        table.counts[(row, scale, "median", None)] = n // 2
        table.sums.append(_Sum((row, scale, "median", None), below, figure=True))


def _add_total_sums(table: _Table, rows: Sequence[Any]) -> None:
    """The total row publishes, per quantity, the sum over the workshops."""
    for scale in (PROBLEM, USEFUL):
        names = [("n", None)] + [("value", v) for v in scale_values(scale)]
        names += [("group", code) for code in GROUPS[scale]]
        for kind, name in names:
            table.sums.append(_Sum(("total", scale, kind, name),
                                   tuple((row, scale, kind, name) for row in rows)))


def _blank(body: dict[str, Any], table: _Table, row: Any, scale: str,
           threshold: int) -> list[str]:
    """Null what is hidden in one scale's block of the answer; the names of what was nulled."""
    hidden = table.hidden
    nulled: list[str] = []

    def null(name: str, container: dict, key: str) -> None:
        container[key] = None
        nulled.append(name)

    n_hidden = (row, scale, "n", None) in hidden
    n = table.counts[(row, scale, "n", None)]
    if n_hidden:
        null("n", body, "n")
        if "response_rate" in body:
            null("response_rate", body, "response_rate")
    for value in scale_values(scale):
        if (row, scale, "value", value) in hidden:
            null(f"distribution.{value}", body["distribution"], str(value))
    few = n_hidden or suppress_value(n, threshold)
    if scale == PROBLEM:
        for code in GROUPS[PROBLEM]:
            if n > 0 and (few or (row, scale, "group", code) in hidden):
                null(f"grouped.{code}", body["grouped"], code)
    elif n > 0 and (few or (row, scale, "group", USEFUL_GROUP) in hidden):
        null("useful_share", body, "useful_share")
    # The mean is derived from every count: with n and the published counts it would give the
    # hidden ones away (one more equation), so it goes with any of them.
    values_hidden = any((row, scale, "value", v) in hidden for v in scale_values(scale))
    if n > 0 and (few or values_hidden):
        null("mean", body, "mean")
    if n > 0 and (few or (row, scale, "median", None) in hidden):
        null("median", body, "median")
    return nulled


@dataclass(frozen=True)
class RowInput:
    """One workshop's counts (or anything summarised as a row): ``key`` names it."""

    key: Any
    expected: int
    counts: dict[str, dict[int, int]]


def _protect_alone(table: _Table, row: RowInput, threshold: int) -> None:
    """A row's quantities protected on their own, as in the workshop's own summary."""
    alone = _Table()
    for scale in (PROBLEM, USEFUL):
        _add_block(alone, row.key, scale, row.counts[scale], threshold)
    alone.secondary()
    table.counts.update(alone.counts)
    table.hidden |= alone.hidden


def _protect_total(table: _Table, rows: Sequence[RowInput],
                   counts: dict[str, dict[int, int]], threshold: int) -> None:
    """The total row protected against the rows, which are left as they are (each row is what
    the workshop's own summary shows, so reading both gives nothing more away). Only the
    total row's figures are hidden; where that is not enough, its distribution is withheld."""
    table.frozen = set(table.counts)
    for scale in (PROBLEM, USEFUL):
        _add_block(table, "total", scale, counts[scale], threshold)
    _add_total_sums(table, [row.key for row in rows])
    table.secondary()
    for scale in (PROBLEM, USEFUL):
        if any(rule.total[1] == scale and table.gives_away(rule) for rule in table.sums):
            table.hidden.update(k for k in table.counts
                                if k[0] == "total" and k[1] == scale and k[2] != "n")


def summarise(rows: Sequence[RowInput], threshold: int, with_total: bool = False
              ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, list[dict[str, Any]]]:
    """The figures of each row, each protected on its own (as in its workshop's summary), and
    of their total if asked, protected against the rows; and the totals blanked (n, shares
    and the total row's counts), each named by its row and figure."""
    table = _Table()
    bodies = [figures(row.counts, row.expected) for row in rows]
    for row in rows:
        _protect_alone(table, row, threshold)
    total_body = None
    if with_total:
        total_counts = empty_counts()
        for row in rows:
            for scale in (PROBLEM, USEFUL):
                for value, count in row.counts[scale].items():
                    total_counts[scale][value] += count
        total_body = figures(total_counts, sum(row.expected for row in rows))
        _protect_total(table, rows, total_counts, threshold)

    blanked: list[dict[str, Any]] = []
    keyed = [(row.key, body) for row, body in zip(rows, bodies, strict=True)]
    if total_body is not None:
        keyed.append(("total", total_body))
    for key, body in keyed:
        body["suppressed"] = _blank(body, table, key, PROBLEM, threshold)
        useful = body["usefulness"]
        useful["suppressed"] = _blank(useful, table, key, USEFUL, threshold)
        totals = [name for name in body["suppressed"]
                  if name == "n" or name.startswith("grouped")]
        totals += [f"usefulness.{name}" for name in useful["suppressed"]
                   if name in ("n", "useful_share")]
        if key == "total":
            totals += [name for name in body["suppressed"] if name.startswith("distribution")]
            totals += [f"usefulness.{name}" for name in useful["suppressed"]
                       if name.startswith("distribution")]
        blanked.extend({"row": key, "figure": name} for name in totals)
    return bodies, total_body, blanked


# -- the answers --------------------------------------------------------------------------


def status(workshop: Workshop, now=None) -> str:
    now = now or utcnow()
    if now < workshop.opens_at:
        return "scheduled"
    return "open" if now < workshop.closes_at else "closed"


def brief(workshop: Workshop) -> dict[str, Any]:
    return {
        "id": workshop.id,
        "title": workshop.title,
        "held_on": workshop.held_on.isoformat(),
        "unit_ids": workshop.unit_ids,
        "expected_participants": workshop.expected_participants,
        "opens_at": workshop.opens_at.isoformat(),
        "closes_at": workshop.closes_at.isoformat(),
        "status": status(workshop),
    }


def scales() -> dict[str, Any]:
    def label(value) -> dict[str, str]:
        return {"sv": value.sv, "en": value.en}

    return {
        scale.value: {
            "question": label(WORKSHOP_SCALE_LABELS[scale]),
            "values": scale_values(scale.value),
            "anchors": {str(v): label(a) for v, a in WORKSHOP_SCALE_ANCHORS[scale].items()},
            **({"groups": {code: label(PROBLEM_SIZE_GROUP_LABELS[code])
                           for code in PROBLEM_SIZE_GROUPS}}
               if scale is WorkshopScale.PROBLEM_SIZE else {}),
        }
        for scale in WorkshopScale
    }


def suppression_block(threshold: int, blanked: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "threshold": threshold,
        "applied": threshold > 1,
        "rule": (
            f"with fewer than {threshold} ratings nothing about them is shown; counts from 1 "
            f"to {threshold - 1} are null, and so is a second count wherever a total (n, a "
            "group, a median, the total row) or the mean would give the first away"
            if threshold > 1 else "no count is suppressed"
        ),
        "suppressed_totals": blanked,
    }


def _notes(threshold: int) -> list[str]:
    notes = [
        "n counts the problem-size ratings: those given through the service and those "
        "entered as tallies; usefulness has its own n, since it may be left out.",
        "Percentages are rounded half up to one decimal, the mean to two.",
    ]
    if threshold > 1:
        notes.append(
            f"Counts from 1 to {threshold - 1} are suppressed (null), with the figures "
            "derived from them; see docs/statistics.md, Workshops."
        )
    return notes


def _threshold() -> int:
    return current_app.config["STATS_SUPPRESSION_THRESHOLD"]


def workshop_summary(workshop_id: int) -> dict[str, Any]:
    """The summary of one workshop's ratings, suppressed, ready to be written as JSON (dates
    and times as ISO 8601 strings). NotFound for an unknown workshop."""
    workshop = db.session.get(Workshop, workshop_id)
    if workshop is None:
        raise NotFound(f"There is no workshop {workshop_id}.")
    threshold = _threshold()
    counts = rating_counts([workshop.id])[workshop.id]
    (body,), _, blanked = summarise(
        [RowInput(workshop.id, workshop.expected_participants, counts)], threshold
    )
    return {
        "workshop": brief(workshop),
        **body,
        "scales": scales(),
        "suppression": suppression_block(threshold, blanked),
        "notes": _notes(threshold),
    }


def workshops_over_time(start: date, end: date, scope) -> dict[str, Any]:
    """One row per workshop held from ``start`` to ``end`` (both inclusive) within ``scope``
    (access.workshop_scope: the workshops the caller may see), in the order held, with the
    figures of workshop_summary, and a total row of their ratings added together; suppressed as
    one table, so the total row cannot be used to undo a row's suppression."""
    workshops = list(db.session.scalars(
        select(Workshop)
        .where(Workshop.held_on >= start, Workshop.held_on <= end, scope)
        .order_by(Workshop.held_on, Workshop.id)
    ))
    threshold = _threshold()
    counts = rating_counts([w.id for w in workshops])
    bodies, total, blanked = summarise(
        [RowInput(w.id, w.expected_participants, counts[w.id]) for w in workshops],
        threshold,
        with_total=True,
    )
    rows = [{"workshop": brief(w), **body}
            for w, body in zip(workshops, bodies, strict=True)]
    total = {
        "workshops": len(workshops),
        "expected_participants": sum(w.expected_participants for w in workshops),
        **total,
    }
    return {
        "filters": {"from": start.isoformat(), "to": end.isoformat()},
        "rows": rows,
        "total": total,
        "scales": scales(),
        "suppression": suppression_block(threshold, blanked),
        "notes": _notes(threshold),
    }
