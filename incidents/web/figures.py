"""Figures for people: the statistics services' answers (the JSON the API gives) laid out as
table cells in the page's language. Nothing is computed here that the services do not give: a
cell shows the service's number, or marks it as hidden by disclosure control (the service gave
null and said the cell is suppressed), or as missing (null for another reason: no head-count,
nothing to divide by)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _

from incidents.domain import PROBLEM_SIZE_GROUP_LABELS, WORKSHOP_SCALE_ANCHORS, WorkshopScale
from incidents.stats import export
from incidents.web.i18n import label

# Shares and rates derived from counts: hidden with any count they are computed from.
DERIVED_FROM = {
    "rate_per_100": ("count",),
    "share_reported": ("reported", "incidents"),
    "share_of_flagged_reported": ("flagged", "flagged_not_reported"),
    "share_filed_by_employer": ("filed_by_employer", "filed"),
    "median_days_to_filing": ("filed",),
    "share_support_offered": ("support_offered", "incidents"),
    "share_support_accepted": ("support_accepted", "support_offered"),
    "share_support_delivered": ("support_delivered", "support_offered"),
    "share_acknowledged_on_time": ("acknowledged_on_time", "incidents"),
    "share_check_ins_on_time": ("check_ins_on_time", "check_ins_due"),
    "share_police_decisions_on_time": ("police_decisions_on_time", "police_decisions_due"),
    "felt_supported_mean": ("evaluations",),
    "median_days_to_first_support": ("support_offered",),
}
SHARES = {name for name in DERIVED_FROM if name.startswith("share_")}
DECIMALS = {"rate_per_100", "felt_supported_mean", "median_days_to_filing",
            "median_days_to_first_support"}


@dataclass
class Cell:
    text: str = ""
    hidden: bool = False  # suppressed by disclosure control: shown as "x"
    missing: bool = False  # no figure for another reason: shown as "–"


@dataclass
class Table:
    id: str
    caption: str
    headers: list[str]
    row_headers: int  # how many cells at the start of each row name it
    rows: list[list[Cell]]
    foot: list[Cell] | None = None
    wide: bool = False  # more columns than a phone shows: scrolls inside its own region
    notes: list[str] = field(default_factory=list)

    @property
    def has_hidden(self) -> bool:
        return any(c.hidden for row in [*self.rows, self.foot or []] for c in row)

    @property
    def has_missing(self) -> bool:
        return any(c.missing for row in [*self.rows, self.foot or []] for c in row)


# -- numbers ------------------------------------------------------------------------------


def number(value: float | int | None, decimals: bool = False) -> str:
    if value is None:
        return ""
    if decimals:
        return format_decimal(value, format="#,##0.0#")
    return format_decimal(value, format="#,##0")


def percent(share: float | None) -> str:
    """A share (0.4) as a percentage, one decimal."""
    return "" if share is None else format_percent(share, format="#,##0.0\u00a0%")


def plain_percent(value: float | None) -> str:
    """A percentage the service gives already multiplied (68.8)."""
    return "" if value is None else format_decimal(value, format="#,##0.0") + "\u00a0%"


def value_cell(name: str, value: Any, hidden_columns: set[str]) -> Cell:
    """A value of a statistics row: hidden when it, or a count it derives from, is suppressed."""
    if value is None:
        inputs = DERIVED_FROM.get(name, (name,))
        hidden = name in hidden_columns or any(i in hidden_columns for i in inputs)
        return Cell(hidden=hidden, missing=not hidden)
    if name in SHARES:
        return Cell(percent(value))
    return Cell(number(value, decimals=name in DECIMALS))


def header(key: str) -> str:
    return label(export.HEADERS["unit_name" if key == "unit" else key])


def key_text(key: str, row: dict[str, Any]) -> str:
    if key == "unit":
        return row.get("unit_name") or str(row.get("unit_id"))
    if key in ("category", "location", "perpetrator"):
        return row.get(f"{key}_label") or _("Not given")
    if key == "anonymous":
        return _("Anonymous") if row.get("anonymous") else _("Named")
    return str(row.get(key))


def _hidden_columns(row: dict[str, Any], columns: list[str]) -> set[str]:
    hidden = row.get("suppressed")
    if isinstance(hidden, list):
        return set(hidden)
    return set(columns) if hidden else set()


def stats_table(table_id: str, caption: str, body: dict[str, Any], columns: list[str],
                wide: bool = False) -> Table:
    """A statistics answer (export.json_body) with the given value columns, one row per row.
    More than three columns do not fit a phone: the table then scrolls in its own region."""
    keys = body["filters"]["group_by"]
    rows = []
    for row in body["rows"]:
        hidden = _hidden_columns(row, columns)
        rows.append([Cell(key_text(k, row)) for k in keys]
                    + [value_cell(c, row.get(c), hidden) for c in columns])
    if not keys:  # one row: the whole selection
        for row in rows:
            row.insert(0, Cell(_("All")))
    return Table(
        id=table_id,
        caption=caption,
        headers=([header(k) for k in keys] or [_("Selection")]) + [header(c) for c in columns],
        row_headers=max(len(keys), 1),
        rows=rows,
        wide=wide or max(len(keys), 1) + len(columns) > 3,
    )


def transposed(table_id: str, caption: str, body: dict[str, Any], columns: list[str]) -> Table:
    """A one-row answer as figure | value: easier to read, and narrow enough for a phone."""
    row = body["rows"][0] if body["rows"] else {}
    hidden = _hidden_columns(row, columns)
    return Table(
        id=table_id,
        caption=caption,
        headers=[_("Figure"), _("Value")],
        row_headers=1,
        rows=[[Cell(header(c)), value_cell(c, row.get(c), hidden)] for c in columns],
    )


def pivot(table_id: str, caption: str, body: dict[str, Any], row_key: str, column_key: str,
          column_codes: list[str], value: str = "count") -> Table:
    """Rows by one key and columns by another (a chart's figures: periods × forms)."""
    cells: dict[str, dict[str, Cell]] = {}
    column_names: dict[str, str] = {}
    for row in body["rows"]:
        hidden = _hidden_columns(row, [value])
        cells.setdefault(str(row[row_key]), {})[str(row[column_key])] = value_cell(
            value, row.get(value), hidden)
        column_names[str(row[column_key])] = key_text(column_key, row)
    return Table(
        id=table_id,
        caption=caption,
        headers=[header(row_key)] + [column_names.get(code, code) for code in column_codes],
        row_headers=1,
        rows=[[Cell(period)] + [cells[period].get(code, Cell("0")) for code in column_codes]
              for period in sorted(cells)],
        wide=len(column_codes) > 3,
    )


# -- estimates (the dark figure) ----------------------------------------------------------


def estimate(block: dict[str, Any] | None, as_share: bool = False, hidden: bool = False) -> Cell:
    """{value, ci95} as "160.0 (119.6–220.9)"; an interval without an upper bound says so."""
    if block is None or (block.get("value") is None and not block.get("ci95")):
        return Cell(hidden=hidden, missing=not hidden)
    show = percent if as_share else (lambda v: number(v, decimals=True))
    value = show(block["value"]) if block.get("value") is not None else _("cannot be estimated")
    interval = block.get("ci95")
    if not interval:
        return Cell(value)
    low = show(interval[0]) if interval[0] is not None else "?"
    high = show(interval[1]) if interval[1] is not None else _("no upper limit")
    return Cell(_("%(value)s (95 %% interval %(low)s to %(high)s)",
                  value=value, low=low, high=high))


def count(value: int | None, hidden: bool) -> Cell:
    if value is None:
        return Cell(hidden=hidden, missing=not hidden)
    return Cell(number(value))


# -- workshop summaries --------------------------------------------------------------------


def workshop_figures(summary: dict[str, Any]) -> dict[str, Any]:
    """A workshop summary (stats.workshops.workshop_summary) laid out for the page: the
    distributions, the city's three groups (with the width of each bar in the chart, in per
    cent of the chart), and the other figures."""
    problem_hidden = set(summary.get("suppressed") or [])
    useful = summary.get("usefulness") or {}
    useful_hidden = set(useful.get("suppressed") or [])
    problem_anchors = WORKSHOP_SCALE_ANCHORS[WorkshopScale.PROBLEM_SIZE]
    useful_anchors = WORKSHOP_SCALE_ANCHORS[WorkshopScale.USEFULNESS]

    def distribution(counts: dict[str, Any], anchors) -> list[dict[str, Any]]:
        return [
            {"value": value, "anchor": label(anchors[int(value)]) if int(value) in anchors
             else "", "cell": count(n, hidden=True)}
            for value, n in sorted((counts or {}).items(), key=lambda item: int(item[0]))
        ]

    rated = bool(summary.get("n"))
    groups = []
    for code, share in (summary.get("grouped") or {}).items():
        # With ratings, a null share is disclosure control's doing; without, there is none.
        groups.append({
            "code": code,
            "label": label(PROBLEM_SIZE_GROUP_LABELS[code]),
            "cell": Cell(plain_percent(share)) if share is not None else Cell(
                hidden=rated, missing=not rated),
            "width": share or 0,
        })
    return {
        "n": summary["n"],
        "response_rate": Cell(percent(summary["response_rate"]))
        if summary.get("response_rate") is not None else Cell(missing=True),
        "distribution": distribution(summary.get("distribution"), problem_anchors),
        "groups": groups,
        "mean": _figure(summary.get("mean"), rated),
        "median": _figure(summary.get("median"), rated),
        "usefulness": {
            "n": useful.get("n"),
            "distribution": distribution(useful.get("distribution"), useful_anchors),
            "useful_share": Cell(plain_percent(useful["useful_share"]))
            if useful.get("useful_share") is not None
            else Cell(hidden=bool(useful.get("n")), missing=not useful.get("n")),
            "mean": _figure(useful.get("mean"), bool(useful.get("n"))),
            "median": _figure(useful.get("median"), bool(useful.get("n"))),
        },
        "has_hidden": bool(problem_hidden or useful_hidden),
    }


def _figure(value: float | None, rated: bool) -> Cell:
    if value is not None:
        return Cell(number(value, decimals=True))
    # With ratings, a null figure is disclosure control's doing; without, there is none.
    return Cell(hidden=rated, missing=not rated)
