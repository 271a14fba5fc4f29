"""Incidents by form, unit and period (docs/statistics.md).

The database does the counting: one GROUP BY over (local month, the row unit each incident
counts under, and the other requested keys), which returns at most months × rows × keys rows
whatever the number of incidents or units. pandas then folds months into tertials and years,
fills in zeros, and adds rates and disclosure control. No incident row is loaded.

An incident with several forms counts once under each of its forms in tables by form, and once in
the totals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from itertools import product
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, select

from incidents import access
from incidents.access import UnitTree
from incidents.domain import (
    CATEGORY_LABELS,
    LOCATION_LABELS,
    PERPETRATOR_LABELS,
    AuditAction,
    AuditRecord,
    Category,
    Location,
    Perpetrator,
)
from incidents.errors import Forbidden
from incidents.extensions import db
from incidents.models import Incident, IncidentForm, User
from incidents.services import audit
from incidents.stats import disclosure, pd
from incidents.stats.periods import (
    month_grouping,
    months_between,
    occurred_within,
    tertial_label,
    year_label,
)
from incidents.stats.scope import Headcounts, Selection, select_units

DIMENSIONS = ("category", "unit", "month", "tertial", "year", "location", "perpetrator",
              "anonymous")
TIME_DIMENSIONS = ("month", "tertial", "year")
# Zero rows are filled in for these, so that a form or a month with no incidents shows as 0.
_FILLED = ("category", "unit", "month", "tertial", "year", "anonymous")
_MAX_FILLED_ROWS = 200_000

MULTI_FORM_NOTE = (
    "An incident with several forms counts once under each of its forms in rows by category, "
    "and once in the totals."
)
LABELS = {
    "category": (CATEGORY_LABELS, Category),
    "location": (LOCATION_LABELS, Location),
    "perpetrator": (PERPETRATOR_LABELS, Perpetrator),
}


@dataclass
class StatsTable:
    """A statistics answer before it is written as JSON, CSV, XLSX or a chart."""

    name: str
    filters: dict[str, Any]
    keys: list[str]
    rows: pd.DataFrame
    totals: dict[str, Any]
    suppression: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    # The value columns of each row, after the keys; ``suppressed`` follows them.
    values: list[str] = field(default_factory=lambda: ["count", "rate_per_100"])


def _grouped_counts(selection: Selection, params: dict[str, Any], keys: list[str]):
    """The counts per local month, row unit (when grouped by unit) and the other requested
    keys, with each group's incidents counted once and the anonymous ones among them.

    The incidents join the selection's unit → row mapping (Selection.row_units_table), which
    both keeps the selection's incidents and names each one's row: the database returns one
    row per (month, row unit, …), 900 for three years by unit and form under five
    förvaltningar, where grouping by the unit filed on returned 48,000 at 100,000 incidents
    for pandas to fold (docs/performance.md)."""
    start, end = params["from"], params["to"]
    grouping, month = month_grouping(Incident.occurred_at, start, end)
    unit_rows = selection.row_units_table()
    groupings, columns = [grouping], [month.label("month")]
    if "unit" in keys:
        groupings.append(unit_rows.c.row_unit)
        columns.append(unit_rows.c.row_unit.label("unit"))
    if "category" in keys:
        groupings.append(IncidentForm.category)
        columns.append(IncidentForm.category.label("category"))
    for key in ("location", "perpetrator", "anonymous"):
        if key in keys:
            groupings.append(getattr(Incident, key))
            columns.append(getattr(Incident, key).label(key))
    # The totals come from the same scan: each incident has exactly one primary form, so
    # counting the primary forms' rows (or every row, without the forms) counts incidents
    # once. A second query for the totals read the same rows again.
    once = IncidentForm.is_primary.is_(True) if "category" in keys else None
    anonymous_once = Incident.anonymous.is_(True) if once is None else and_(
        once, Incident.anonymous.is_(True))
    incidents = func.count() if once is None else func.sum(case((once, 1), else_=0))
    query = select(*columns, func.count().label("count"),
                   incidents.label(_INCIDENTS),
                   func.sum(case((anonymous_once, 1), else_=0)).label(_ANONYMOUS)).select_from(
        Incident).join(unit_rows, unit_rows.c.unit_id == Incident.unit_id).where(
        *occurred_within(start, end))
    unit_ids = selection.all_unit_ids
    if 2 * len(unit_ids) <= len(selection.tree.parent):
        # The join keeps the same incidents; the list lets PostgreSQL read a part of the
        # organisation by the unit index (at 100,000 incidents, 20 units of 500: 17 against
        # 40 ms). For most of the units it would only mislead the planner into that index
        # (all 500: 260 against 140 ms).
        query = query.where(Incident.unit_id.in_(unit_ids))
    if "category" in keys:
        query = query.join(IncidentForm, IncidentForm.incident_id == Incident.id)
    if params.get("anonymous") is not None:
        query = query.where(Incident.anonymous.is_(params["anonymous"]))
    query = query.group_by(*groupings)
    names = [c.name for c in columns] + ["count", _INCIDENTS, _ANONYMOUS]
    # The driver's own tuples, straight from its cursor: the ORM's row loading, pandas probing
    # each Row's attributes, and then making SQLAlchemy Rows and copying them to tuples cost
    # more than the query itself (none of these columns needs SQLAlchemy's result processing:
    # text, integers, and a flag that _fold makes a bool).
    result = db.session.connection().execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    return pd.DataFrame.from_records(rows, columns=names)


# The grouped counts' columns that add up to the totals (each incident once, and the anonymous
# ones among them); dropped before the rows are folded.
_INCIDENTS = "_incidents"
_ANONYMOUS = "_anonymous_incidents"


def _totals(counts: pd.DataFrame) -> dict[str, int]:
    """The incidents of the selection and the anonymous ones among them, from the grouped
    counts' own columns (_grouped_counts)."""
    if not len(counts):
        return {"count": 0, "anonymous": 0}
    return {"count": int(counts[_INCIDENTS].sum()), "anonymous": int(counts[_ANONYMOUS].sum())}


def with_periods(frame: pd.DataFrame, selection: Selection) -> pd.DataFrame:
    """Add the tertial, year and row unit of each (month, leaf unit) group."""
    frame = _with_tertial_and_year(frame)
    frame["unit"] = frame["leaf_unit_id"].map(selection.row_units())
    return frame


def _with_tertial_and_year(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    # Label each distinct month once, not each group.
    months = frame["month"].unique()
    frame["tertial"] = frame["month"].map({month: tertial_label(month) for month in months})
    frame["year"] = frame["month"].map({month: year_label(month) for month in months})
    return frame


def _fold(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Months into tertials and years; sum to ``keys`` (the units are the rows' already)."""
    if not keys:
        return pd.DataFrame({"count": [int(frame["count"].sum())]})
    if "tertial" in keys or "year" in keys:
        frame = _with_tertial_and_year(frame)
    if "anonymous" in frame:
        frame = frame.assign(anonymous=frame["anonymous"].astype(bool))
    return frame.groupby(keys, as_index=False, sort=True, dropna=False)["count"].sum()


def _fill_zeros(frame: pd.DataFrame, selection: Selection, params, keys) -> pd.DataFrame:
    months = [f"{m.year}-{m.month:02d}" for m in months_between(params["from"], params["to"])]
    values: dict[str, list] = {
        "category": [c.value for c in Category],
        # The selected unit's own row only when incidents were filed on it directly (or it
        # has no sub-units); its sub-units' rows always.
        "unit": sorted(
            {c for u in selection.unit_ids for c in selection.tree.children.get(u, [])}
            | {u for u in selection.unit_ids if not selection.tree.children.get(u)}
            | (set(frame["unit"].tolist()) if "unit" in frame else set())
        ),
        "month": months,
        "tertial": sorted({tertial_label(m) for m in months}),
        "year": sorted({year_label(m) for m in months}),
        "anonymous": [False, True] if params.get("anonymous") is None else [params["anonymous"]],
    }
    axes = [values[k] if k in _FILLED else sorted(frame[k].dropna().unique().tolist())
            for k in keys]
    if frame.empty and any(k not in _FILLED for k in keys):
        return frame  # no values seen for location or perpetrator: nothing to fill
    size = 1
    for axis in axes:
        size *= max(len(axis), 1)
    if size > _MAX_FILLED_ROWS or any(frame[k].isna().any() for k in keys if k not in _FILLED):
        return frame
    grid = pd.DataFrame(list(product(*axes)), columns=keys)
    merged = grid.merge(frame, on=keys, how="left")
    merged["count"] = merged["count"].fillna(0).astype(int)
    return merged


def _headcounts(frame: pd.DataFrame, selection: Selection, params) -> Headcounts:
    """The head-counts of the years the rows (and, for a period within one year, the totals)
    are reckoned against, read once for both."""
    start, end = params["from"], params["to"]
    years = {int(y) for y in frame["year"].unique()} if "year" in frame else set()
    if "month" in frame:
        years |= {year_label(m) for m in frame["month"].unique()}
    if "tertial" in frame:
        years |= {int(t[:4]) for t in frame["tertial"].unique()}
    if start.year == end.year:
        years.add(start.year)
    return Headcounts(selection, years)


def _rates(frame: pd.DataFrame, selection: Selection, params, keys,
           headcounts: Headcounts) -> pd.Series:
    """Per 100 employees, where the row's unit and year have a known head-count."""
    start, end = params["from"], params["to"]
    single_year = start.year if start.year == end.year else None
    if not len(frame):
        return pd.Series(dtype=object)
    selected = set(selection.unit_ids)

    def employees(unit_id: int | None, year: int) -> int | None:
        if unit_id is None:
            return headcounts.of_all(selection.unit_ids, year)
        if unit_id in selected and selection.tree.children.get(unit_id):
            return None  # the unit's own incidents; its head-count covers its sub-units
        return headcounts.of(unit_id, year)

    # Column by column, each (unit, year) looked up once: DataFrame.apply built a Series per
    # row, which cost more than the GROUP BY at 100,000 incidents (docs/performance.md).
    years = _row_years(frame, single_year)
    units = ([int(u) for u in frame["unit"]] if "unit" in keys else [None] * len(frame))
    known: dict[tuple[int | None, int], int | None] = {}
    rates = []
    for count, unit_id, year in zip(frame["count"].tolist(), units, years, strict=True):
        if year is None:
            rates.append(None)
            continue
        if (unit_id, year) not in known:
            known[unit_id, year] = employees(unit_id, year)
        staff = known[unit_id, year]
        rates.append(round(int(count) * 100 / staff, 2) if staff else None)
    return pd.Series(rates, index=frame.index)


def _row_years(frame: pd.DataFrame, single_year: int | None) -> list[int | None]:
    """Each row's year: from its year, else its tertial, else its month, else the period's."""
    if "year" in frame:
        return [int(y) for y in frame["year"]]
    if "tertial" in frame:
        return [int(str(t)[:4]) for t in frame["tertial"]]
    if "month" in frame:
        labels = {m: year_label(str(m)) for m in frame["month"].unique()}
        return [labels[m] for m in frame["month"]]
    return [single_year] * len(frame)


def incident_table(user: User, params: dict[str, Any]) -> StatsTable:
    keys = [k for k in DIMENSIONS if k in params.get("group_by", [])]
    selection = select_units(user, params.get("unit_id"))
    require_hr_for_unsuppressed(user, params, selection.unit_ids, selection.tree)
    threshold = current_app.config["STATS_SUPPRESSION_THRESHOLD"]
    unsuppressed = bool(params.get("unsuppressed"))
    if unsuppressed:
        audit_unsuppressed(user, "incidents", params, selection.unit_ids)

    counts = _grouped_counts(selection, params, keys)
    if len(counts):
        folded = _fold(counts.drop(columns=[_INCIDENTS, _ANONYMOUS]), keys)
    elif keys:
        folded = pd.DataFrame({**{k: [] for k in keys}, "count": []})
    else:
        folded = pd.DataFrame({"count": [0]})
    if keys:
        folded = _fill_zeros(folded, selection, params, keys)
    headcounts = _headcounts(folded, selection, params)
    folded["rate_per_100"] = _rates(folded, selection, params, keys, headcounts)
    if unsuppressed or not keys:
        rows = folded.assign(suppressed=False)
        rows["count"] = rows["count"].astype(object)
        rows["rate_per_100"] = rows["rate_per_100"].astype(object)
        hidden_totals = []
        if not unsuppressed and disclosure.suppress_value(int(rows.at[0, "count"]), threshold):
            # The single row is the total: hidden like it.
            rows.loc[0, ["count", "rate_per_100", "suppressed"]] = [None, None, True]
    else:
        rows = disclosure.suppress(folded, by=keys, threshold=threshold,
                                   derived=["rate_per_100"])
        hidden_totals = rows.attrs.get("suppressed_totals", [])

    totals = _totals(counts)
    total_rate = _rates(pd.DataFrame([{"count": totals["count"]}]), selection, params, [],
                        headcounts)
    totals["rate_per_100"] = total_rate.iloc[0] if len(total_rate) else None
    totals["suppressed"] = False
    if not unsuppressed and (disclosure.suppress_value(totals["count"], threshold)
                             or {} in hidden_totals):
        totals.update(count=None, rate_per_100=None, suppressed=True)
    named = None if totals["count"] is None else totals["count"] - totals["anonymous"]
    if not unsuppressed and (
        disclosure.suppress_value(totals["anonymous"], threshold)
        or (named is not None and disclosure.suppress_value(named, threshold))
        or ("anonymous" in keys and rows["suppressed"].astype(bool).any())
    ):
        # Published beside the total, the anonymous count would give the named count away.
        totals["anonymous"] = None

    if unsuppressed:
        notes = ["Unsuppressed figures, for internal work only; this request was audited."]
    else:
        notes = [
            f"Counts from 1 to {threshold - 1} are suppressed (null, suppressed: true), with "
            "the rates derived from them, and so is a second cell wherever the first could be "
            "recovered from a total."
        ]
    if "category" in keys:
        notes.insert(0, MULTI_FORM_NOTE)
    notes.append("Rates are per 100 employees, from the unit's head-count for the year; "
                 "null where the head-count is unknown or the rows span several years.")
    return StatsTable(
        name="incidents",
        filters=_filters(params, selection, keys),
        keys=keys,
        rows=rows,
        totals=totals,
        suppression={"threshold": threshold, "applied": not unsuppressed,
                     "suppressed_totals": hidden_totals},
        notes=notes,
    )


def _filters(params, selection: Selection, keys: list[str]) -> dict[str, Any]:
    return {
        "from": params["from"].isoformat(),
        "to": params["to"].isoformat(),
        "units": selection.describe(),
        "group_by": keys,
        "anonymous": params.get("anonymous"),
        "_unit_names": selection.tree.name,
    }


def require_hr_for_unsuppressed(user: User, params: dict[str, Any], unit_ids: list[int],
                                tree: UnitTree | None = None) -> None:
    """Unsuppressed figures are hr's, for the units it reaches (access.may_see_unsuppressed)."""
    if not params.get("unsuppressed"):
        return
    if not access.may_see_unsuppressed(user, tree or UnitTree.load(), unit_ids):
        raise Forbidden(
            "Only hr may ask for unsuppressed figures, for the units it is hr for.",
            errors={"unsuppressed": ["hr only, for the units it is hr for"]},
        )


def audit_unsuppressed(user: User, table: str, params: dict[str, Any],
                       unit_ids: list[int]) -> None:
    """hr may ask for unsuppressed figures for internal work; the request is audited, under
    the first unit counted (whose hr may list the entry)."""
    shown = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()
             if k not in ("format", "lang")}
    audit.record(user, AuditAction.READ, None, detail=f"unsuppressed statistics: {table} {shown}",
                 record=AuditRecord.STATISTICS, unit_id=unit_ids[0] if unit_ids else None)
