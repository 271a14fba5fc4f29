"""Disclosure control for count tables: small counts identify people and
mislead as percentages (docs/statistics.md, "Disclosure control").

A table is a DataFrame with one row per cell: the `by` columns name the cell (unit, form, …) and
`count` holds its count. Published alongside it are its totals: for each column g in `by`, the
totals along g (cells grouped by all the other `by` columns) and the grand total.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from incidents.stats import pd


@dataclass(frozen=True)
class _Group:
    """A set of cells whose sum is published as one total."""

    columns: tuple[str, ...]
    key: tuple[Hashable, ...]
    rows: tuple[int, ...]

    def identity(self) -> dict:
        return {col: _plain(val) for col, val in zip(self.columns, self.key, strict=True)}


def _plain(value: Hashable) -> Hashable:
    """A numpy scalar as the Python value, so the identity serialises to JSON."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def suppress_value(n: int, threshold: int) -> bool:
    """Whether a count is too small to publish: 1 <= n < threshold.

    Zero is published (it identifies no one); a threshold of 1 or less disables suppression.
    """
    return 1 <= n < threshold


def _check(frame: pd.DataFrame, count: str, by: Sequence[str], derived: Sequence[str]) -> None:
    missing = [col for col in (count, *by, *derived) if col not in frame.columns]
    if missing:
        raise ValueError(f"columns not in the frame: {missing}")
    if frame[count].isna().any():
        raise ValueError(f"column {count!r} has missing counts")
    if (frame[count] < 0).any():
        raise ValueError(f"column {count!r} has negative counts")
    if by and frame.duplicated(subset=list(by)).any():
        raise ValueError(f"the frame must have one row per cell of {list(by)}")


def _groups(frame: pd.DataFrame, by: Sequence[str]) -> list[_Group]:
    """The cell sets behind each published total: along each g in `by`, then the grand total."""
    groupings: list[tuple[str, ...]] = []
    for g in by:
        others = tuple(col for col in by if col != g)
        if others not in groupings:
            groupings.append(others)
    if () not in groupings:
        groupings.append(())
    groups = []
    for columns in groupings:
        if columns:
            keys = list(zip(*(frame[col].tolist() for col in columns), strict=True))
        else:
            keys = [()] * len(frame)
        members: dict[tuple, list[int]] = {}
        for position, key in enumerate(keys):
            members.setdefault(key, []).append(position)
        groups.extend(_Group(columns, key, tuple(rows)) for key, rows in members.items())
    return groups


def _complement(group: _Group, counts: list[int], hidden: list[bool]) -> int | None:
    """The smallest non-zero published cell of the group; ties go to the first in frame order."""
    candidates = [i for i in group.rows if not hidden[i] and counts[i] > 0]
    return min(candidates, key=lambda i: (counts[i], i)) if candidates else None


def _lone(group: _Group, hidden: list[bool]) -> bool:
    return sum(hidden[i] for i in group.rows) == 1


def _secondary(groups: list[_Group], counts: list[int], hidden: list[bool]) -> list[dict]:
    """Hide a complement wherever a total has exactly one hidden cell, until nothing changes.

    Returns the totals that must be blanked because only zero cells were left to hide.
    """
    changed = True
    while changed:
        changed = False
        for group in groups:
            if not _lone(group, hidden):
                continue
            pick = _complement(group, counts, hidden)
            if pick is not None:
                hidden[pick] = True
                changed = True
    # Stable: a group still holding one hidden cell has only zeros left, so its total is the
    # hidden count itself.
    return [group.identity() for group in groups if _lone(group, hidden)]


def suppress(
    frame: pd.DataFrame,
    *,
    count: str = "count",
    by: list[str],
    threshold: int = 5,
    derived: Sequence[str] = (),
) -> pd.DataFrame:
    """A copy of the table with small counts, and the cells that would reveal them, blanked.

    Primary suppression hides every cell with 1 <= count < threshold. Zero is published: it
    identifies no one. A threshold of 1 or less disables suppression.

    Secondary suppression protects the primary cells from subtraction. The published totals are
    those along each column in `by` (cells grouped by the other `by` columns) and the grand
    total. Wherever a total's cells include exactly one hidden cell, the smallest non-zero
    published cell of that total is hidden too (ties: first in frame order). This repeats until
    nothing changes. If only zero cells are left to hide, the hidden cell equals the total; that
    total is listed in ``attrs["suppressed_totals"]`` as a dict of the column values naming it
    (``{}`` for the grand total), and the caller must blank it.

    The result has a boolean column `suppressed`. In hidden rows `count` and every column in
    `derived` (rates, shares) are None; these columns are always object dtype, so JSON gets
    null, never NaN.

    What this protects: no published total of this table has exactly one hidden cell (bar those
    listed for blanking), so no hidden cell is one total minus published cells.

    What it does not protect:
    - differencing across separate requests (two periods, overlapping unit selections, a unit
      table and its parent's table); each call sees only its own frame;
    - bounds: the sum of the hidden cells of a total is still known, and so are ranges for them;
      in rare patterns, solving several totals together pins a hidden cell down exactly; no
      such (linear-programming) audit is made;
    - totals other than those above, such as sums over two `by` columns at once in a table with
      three or more, and a blanked total recovered from the other totals;
    - figures derived from a hidden count that are not named in `derived`.
    Who may see unsuppressed figures (hr, audited) is decided elsewhere, not here.
    """
    _check(frame, count, by, derived)
    result = frame.copy()
    counts = [int(value) for value in result[count].tolist()]
    hidden = [suppress_value(n, threshold) for n in counts]
    totals = _secondary(_groups(result, by), counts, hidden) if any(hidden) else []

    mask = pd.Series(hidden, index=result.index, dtype=bool)
    for col in (count, *derived):
        values = result[col].astype(object)
        result[col] = values.where(values.notna() & ~mask, None)
    result["suppressed"] = mask
    result.attrs["suppressed_totals"] = totals
    return result
