"""PNG charts of the statistics (matplotlib, drawn off-screen).

- ``incidents-by-form``: incidents per period, stacked by form;
- ``police-reported-share``: per period, the share of incidents flagged for police reporting
  that were reported.

They are drawn from the same disclosure-controlled tables as the JSON: a suppressed cell is drawn
as nothing and the chart says so underneath.
"""

from __future__ import annotations

import io
from typing import Any

from incidents.domain import CATEGORY_LABELS, Category
from incidents.errors import NotFound
from incidents.models import User
from incidents.stats.incidents import StatsTable, incident_table
from incidents.stats.periods import (
    month_label,
    months_between,
    tertial_label,
    year_label,
)
from incidents.stats.police import police_table

TITLES = {
    "incidents-by-form": {"sv": "Händelser per form", "en": "Incidents by form"},
    "police-reported-share": {
        "sv": "Andel av händelser flaggade för polisanmälan som anmälts",
        "en": "Share of incidents flagged for police reporting that were reported",
    },
}
SUPPRESSED_NOTE = {
    "sv": "Antal 1–{n} visas inte (röjanderisk).",
    "en": "Counts of 1–{n} are not shown (disclosure control).",
}
NAMES = tuple(TITLES)


def _period(params: dict[str, Any]) -> str:
    if params.get("period"):
        return params["period"]
    months = (params["to"].year - params["from"].year) * 12 + params["to"].month - params[
        "from"].month + 1
    return "month" if months <= 24 else "tertial"


def render(name: str, user: User, params: dict[str, Any]) -> bytes:
    if name not in TITLES:
        raise NotFound(f"There is no chart {name!r}; there are: {', '.join(NAMES)}.")
    return draw(name, chart_table(name, user, params), params)


def chart_table(name: str, user: User, params: dict[str, Any]) -> StatsTable:
    """The table a chart is drawn from; the same for every language, so a summary draws its
    charts in Swedish and English from one reckoning."""
    period = _period(params)
    if name == "incidents-by-form":
        return incident_table(user, {**params, "group_by": [period, "category"]})
    return police_table(user, {**params, "group_by": [period]})


def draw(name: str, table: StatsTable, params: dict[str, Any]) -> bytes:
    # matplotlib is imported when the first chart is drawn: it is a second and a half of every
    # worker's and command's start-up, and most never draw a chart.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lang, period = params["lang"], _period(params)
    # A Figure of its own, not pyplot: pyplot keeps global state and is not thread-safe, and
    # web workers and the scheduler's job threads draw at the same time.
    figure = Figure(figsize=(10, 5), dpi=100)
    FigureCanvasAgg(figure)
    # Fixed margins room for the rotated period labels and the note underneath; measuring
    # them (tight_layout) cost a quarter of the drawing time.
    axes = figure.add_axes((0.08, 0.2, 0.9, 0.72))
    if name == "incidents-by-form":
        hidden = _incidents_by_form(axes, table, period, lang)
    else:
        hidden = _police_share(axes, table, params, period, lang)
    axes.set_title(TITLES[name][lang])
    if hidden:
        threshold = table.suppression["threshold"]
        figure.text(0.01, 0.01, SUPPRESSED_NOTE[lang].format(n=threshold - 1), fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _all_periods(params: dict[str, Any], period: str) -> list[str]:
    months = [month_label(m) for m in months_between(params["from"], params["to"])]
    if period == "month":
        return months
    if period == "tertial":
        return list(dict.fromkeys(tertial_label(m) for m in months))
    return list(dict.fromkeys(str(year_label(m)) for m in months))


def _incidents_by_form(axes, table: StatsTable, period: str, lang: str) -> bool:
    rows = table.rows
    periods = sorted(rows[period].unique().tolist()) if len(rows) else []
    bottom = [0] * len(periods)
    for category in Category:
        values = []
        for p in periods:
            cell = rows[(rows[period] == p) & (rows["category"] == category.value)]["count"]
            value = cell.iloc[0] if len(cell) else 0
            values.append(0 if value is None else int(value))
        axes.bar([str(p) for p in periods], values, bottom=bottom,
                 label=getattr(CATEGORY_LABELS[category], lang))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("Antal" if lang == "sv" else "Count")
    axes.legend(fontsize=8)
    axes.tick_params(axis="x", labelrotation=45)
    return bool(len(rows)) and bool(rows["suppressed"].astype(bool).any())


def _police_share(axes, table: StatsTable, params, period: str, lang: str) -> bool:
    rows = table.rows
    by_period = {str(row[period]): row for _, row in rows.iterrows()}
    # Every period of the range on the axis; one without incidents is a gap, not left out.
    periods = _all_periods(params, period)
    shares = []
    for label in periods:
        row = by_period.get(label)
        flagged = None if row is None else row["flagged"]
        not_reported = None if row is None else row["flagged_not_reported"]
        if flagged in (None, 0) or not_reported is None:
            shares.append(float("nan"))
        else:
            shares.append(100 * (flagged - not_reported) / flagged)
    # Positions, not the labels themselves: a categorical axis drops periods whose share is
    # undefined (all of them, when every count is suppressed).
    axes.plot(range(len(periods)), shares, marker="o")
    axes.set_xticks(range(len(periods)), periods)
    axes.set_xlim(-0.5, len(periods) - 0.5)
    axes.set_ylim(0, 100)
    axes.set_ylabel("Procent" if lang == "sv" else "Per cent")
    axes.tick_params(axis="x", labelrotation=45)
    return any(bool(s) for s in rows["suppressed"]) if len(rows) else False
