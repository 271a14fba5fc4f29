"""Shared machinery for tables with several counted measures per row (police, support).

The database groups by (local month, unit[, form]) and counts each measure with
``SUM(CASE WHEN … THEN 1 ELSE 0 END)``; pandas folds months and units into the requested rows.
Each count column gets disclosure control on its own (primary and secondary suppression), and a
share is nulled when its numerator or denominator is.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Integer, case, cast, func, select

from incidents.extensions import db
from incidents.models import Incident, IncidentForm, User
from incidents.stats import disclosure, pd
from incidents.stats.incidents import (
    audit_unsuppressed,
    require_hr_for_unsuppressed,
    with_periods,
)
from incidents.stats.periods import month_bucket, occurred_within
from incidents.stats.scope import Selection, select_units

KEYS = ("category", "unit", "month", "tertial", "year")


def hours_between(later, earlier):
    """Hours from ``earlier`` to ``later``, in SQL on either database."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


def whole_days(later, earlier):
    """Whole days (rounded down) from ``earlier`` to ``later``; SQLite's CAST truncates, which is
    rounding down for the non-negative spans counted here; PostgreSQL's CAST rounds, so floor."""
    days = hours_between(later, earlier) / 24.0
    if db.session.get_bind().dialect.name == "postgresql":
        days = func.floor(days)
    return cast(days, Integer)


def counted(condition, label: str):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(label)


def prepare(user: User, params: dict[str, Any], table: str) -> tuple[Selection, list[str], bool]:
    keys = [k for k in KEYS if k in params.get("group_by", [])]
    selection = select_units(user, params.get("unit_id"))
    require_hr_for_unsuppressed(user, params, selection.unit_ids, selection.tree)
    unsuppressed = bool(params.get("unsuppressed"))
    if unsuppressed:
        audit_unsuppressed(user, table, params, selection.unit_ids)
    return selection, keys, unsuppressed


def base_query(selection: Selection, params: dict[str, Any], keys: list[str], measures, joins=()):
    month = month_bucket(Incident.occurred_at, params["from"], params["to"]).label("month")
    columns = [month, Incident.unit_id.label("leaf_unit_id")]
    if "category" in keys:
        columns.append(IncidentForm.category.label("category"))
    query = select(*columns, *measures).select_from(Incident)
    if "category" in keys:
        query = query.join(IncidentForm, IncidentForm.incident_id == Incident.id)
    for target, on in joins:
        query = query.outerjoin(target, on)
    return query.where(
        *occurred_within(params["from"], params["to"]),
        Incident.unit_id.in_(selection.all_unit_ids),
    ).group_by(*columns)


def empty(keys: list[str], sums: list[str]) -> pd.DataFrame:
    if keys:
        return pd.DataFrame({**{k: [] for k in keys}, **{s: [] for s in sums}})
    return pd.DataFrame([{s: 0 for s in sums}])


def fold(frame: pd.DataFrame, selection: Selection, keys: list[str], sums: list[str],
         fractions: tuple[str, ...] = ()):
    """Sum the measures up to ``keys``. Sums come back from PostgreSQL as Decimal where SQL
    adds counts of sub-queries, so every measure is made a number, and counts whole numbers."""
    frame = with_periods(frame, selection)
    for column in sums:
        frame[column] = pd.to_numeric(frame[column])
    if not keys:
        frame = pd.DataFrame([{m: frame[m].sum() for m in sums}])
    else:
        frame = frame.groupby(keys, as_index=False, sort=True)[sums].sum()
    for column in sums:
        frame[column] = frame[column].astype(float if column in fractions else "int64")
    return frame


def share(numerator, denominator) -> float | None:
    if numerator is None or denominator in (None, 0):
        return None
    return round(float(numerator) / float(denominator), 4)


def suppress_columns(frame: pd.DataFrame, keys: list[str], columns: list[str],
                     unsuppressed: bool, row_totals: tuple[tuple[str, tuple[str, ...]], ...] = ()
                     ) -> tuple[pd.DataFrame, dict[str, list]]:
    """Each count column suppressed on its own (primary, and secondary against the column's
    totals); then, within each row, wherever a column is the sum of others (``row_totals``:
    total, parts) and exactly one of them is hidden, a second is hidden too. ``suppressed``
    lists a row's hidden columns."""
    frame = frame.copy()
    frame["suppressed"] = [[] for _ in range(len(frame))]
    hidden_totals: dict[str, list] = {}
    if unsuppressed:
        return frame, hidden_totals
    threshold = current_app.config["STATS_SUPPRESSION_THRESHOLD"]
    for column in columns:
        cell = frame[keys + [column]] if keys else frame[[column]]
        if keys:
            result = disclosure.suppress(cell, count=column, by=keys, threshold=threshold)
            mask = result["suppressed"].tolist()
            if result.attrs.get("suppressed_totals"):
                hidden_totals[column] = result.attrs["suppressed_totals"]
        else:
            mask = [disclosure.suppress_value(int(v), threshold) for v in cell[column]]
        frame[column] = frame[column].astype(object)
        for position, hide in enumerate(mask):
            if hide:
                frame.at[frame.index[position], column] = None
                frame.at[frame.index[position], "suppressed"].append(column)
    for position in range(len(frame)):
        _hide_within_row(frame, frame.index[position], row_totals)
    return frame, hidden_totals


def _hide_within_row(frame: pd.DataFrame, index, row_totals) -> None:
    """A hidden cell that a row total and the other visible parts would give away: hide the
    smallest non-zero visible cell of that relation as well (the total if no part is left)."""
    changed = True
    while changed:
        changed = False
        for total, parts in row_totals:
            cells = [total, *parts]
            hidden = [c for c in cells if frame.at[index, c] is None]
            if len(hidden) != 1:
                continue
            visible = [c for c in parts if frame.at[index, c] is not None
                       and frame.at[index, c] > 0]
            second = min(visible, key=lambda c: frame.at[index, c]) if visible else total
            if second == hidden[0]:
                continue
            frame.at[index, second] = None
            frame.at[index, "suppressed"].append(second)
            changed = True


def suppression_block(unsuppressed: bool, hidden_totals) -> dict[str, Any]:
    return {
        "threshold": current_app.config["STATS_SUPPRESSION_THRESHOLD"],
        "applied": not unsuppressed,
        "suppressed_totals": hidden_totals,
    }


def medians_of_days(query, selection: Selection, keys: list[str]) -> dict[tuple, float]:
    """Per row of ``keys``, the median of whole days, from a query (base_query with a ``days``
    column and a count ``n``) that counts a histogram in SQL: no row is loaded one by one."""
    rows = db.session.execute(query).all()
    if not rows:
        return {}
    columns = ["month", "leaf_unit_id", *(["category"] if "category" in keys else []),
               "days", "n"]
    frame = with_periods(pd.DataFrame(rows, columns=columns), selection)
    if not keys:
        return {(): histogram_median(frame["days"], frame["n"])}
    histograms = frame.groupby([*keys, "days"], as_index=False)["n"].sum()
    return {key: histogram_median(group["days"], group["n"])
            for key, group in histograms.groupby(keys)}


def histogram_median(values, counts) -> float:
    """The median of values given with their counts: the middle one, or the mean of the two
    middle ones."""
    pairs = sorted(zip((int(v) for v in values), (int(c) for c in counts), strict=True))
    total = sum(c for _, c in pairs)
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    lower = upper = None
    seen = 0
    for value, count in pairs:
        if lower is None and seen + count > lower_rank:
            lower = value
        if seen + count > upper_rank:
            upper = value
            break
        seen += count
    return (lower + upper) / 2
