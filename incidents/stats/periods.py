"""Calendar periods of the statistics, on the organisation's wall clock (Europe/Stockholm).

Months, tertials (T1 January–April, T2 May–August, T3 September–December; the city's follow-up
is reported per tertial) and years. Bucketing happens in SQL with boundaries computed here, so a
report at 23:30 UTC on 31 January counts in February when that is February in Stockholm, on
SQLite (which has no time zones) and PostgreSQL alike.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import String, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from incidents.clock import local_midnight
from incidents.errors import field_error


def tertial_of(month: int) -> int:
    return (month - 1) // 4 + 1


def month_label(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def tertial_label(month: str) -> str:
    """'2026-05' → '2026-T2'."""
    year, number = month.split("-")
    return f"{year}-T{tertial_of(int(number))}"


def year_label(month: str) -> int:
    return int(month[:4])


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """The first day of every month from start's month to end's month, inclusive."""
    months, current = [], date(start.year, start.month, 1)
    while current <= end:
        months.append(current)
        current = next_month(current)
    return months


class _LocalMonth(FunctionElement):
    """The local month ('2026-02') of a UTC moment. PostgreSQL reckons it with its own time-zone
    rules (one function call per row); elsewhere (SQLite has no time zones) a CASE over the
    local month boundaries computed here (one comparison per month and row). Both agree for
    moments inside the period, the only ones a statistics query counts."""

    type = String()
    inherit_cache = True
    name = "local_month"


@compiles(_LocalMonth, "postgresql")
def _local_month_by_zone(element, compiler, **kw):
    column, _by_boundaries, zone = element.clauses
    return (f"to_char(timezone({compiler.process(zone, **kw)}, {compiler.process(column, **kw)})"
            ", 'YYYY-MM')")


class _LocalMonthStart(FunctionElement):
    """What a query groups by to count per local month. PostgreSQL: the local moment cut to
    its month (a timestamp, cheaper to group by than text made for every row); elsewhere the
    month's label by boundaries, as _LocalMonth."""

    inherit_cache = True
    name = "local_month_start"


@compiles(_LocalMonth)
@compiles(_LocalMonthStart)
def _by_boundaries(element, compiler, **kw):
    """Without time zones in the database (SQLite): the month's label by its boundaries."""
    _column, by_boundaries, _zone = element.clauses
    return compiler.process(by_boundaries, **kw)


@compiles(_LocalMonthStart, "postgresql")
def _month_start_by_zone(element, compiler, **kw):
    column, _by_boundaries, zone = element.clauses
    return (f"date_trunc('month', timezone({compiler.process(zone, **kw)}, "
            f"{compiler.process(column, **kw)}))")


class _MonthLabelOf(FunctionElement):
    """The label ('2026-02') of a _LocalMonthStart: PostgreSQL formats the timestamp once per
    group; elsewhere the grouping is the label already."""

    type = String()
    inherit_cache = True
    name = "month_label_of"


@compiles(_MonthLabelOf)
def _label_as_is(element, compiler, **kw):
    (start,) = element.clauses
    return compiler.process(start, **kw)


@compiles(_MonthLabelOf, "postgresql")
def _label_by_to_char(element, compiler, **kw):
    (start,) = element.clauses
    return f"to_char({compiler.process(start, **kw)}, 'YYYY-MM')"


def _by_boundaries(column, start: date, end: date) -> ColumnElement[str]:
    months = months_between(start, end)
    whens = [(column < local_midnight(next_month(m)), literal(month_label(m))) for m in months]
    return case(*whens, else_=literal(month_label(months[-1])))


def month_bucket(column, start: date, end: date) -> ColumnElement[str]:
    """An SQL expression naming the local month ('2026-02') a UTC moment falls in, for moments
    between start and end (inclusive days)."""
    return _LocalMonth(column, _by_boundaries(column, start, end),
                       literal(current_app.config["TIMEZONE"]))


def month_grouping(column, start: date, end: date) -> tuple[ColumnElement, ColumnElement[str]]:
    """To count per local month of a UTC moment between start and end (inclusive days): the
    expression to GROUP BY and the month's label ('2026-02') to select beside it. The label is
    made from the grouping (the same bound parameters), so PostgreSQL accepts it as grouped.

    On PostgreSQL, grouping by the month's start and formatting each group's once is faster
    than formatting every row (about 140 against 170 ms at 100,000 incidents,
    docs/performance.md); the months are the same."""
    grouping = _LocalMonthStart(column, _by_boundaries(column, start, end),
                                literal(current_app.config["TIMEZONE"]))
    return grouping, _MonthLabelOf(grouping)


def occurred_within(start: date, end: date):
    """Incidents that occurred on the local days from start to end, both inclusive."""
    from incidents.models import Incident

    return (
        Incident.occurred_at >= local_midnight(start),
        Incident.occurred_at < local_midnight(end + timedelta(days=1)),
    )


_PERIOD = re.compile(r"^(\d{4})(?:-(T[1-3]|\d{2}))?$")


def parse_period(text: str, field: str = "period") -> tuple[date, date]:
    """'2026', '2026-T2' or '2026-05' → its first and last day."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise field_error(field, "use a year (2026), a tertial (2026-T2) or a month (2026-05)")
    year, part = int(match.group(1)), match.group(2)
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    if part.startswith("T"):
        first_month = (int(part[1]) - 1) * 4 + 1
        start = date(year, first_month, 1)
        end_exclusive = date(year + (first_month == 9), (first_month + 3) % 12 + 1, 1)
    else:
        month = int(part)
        if not 1 <= month <= 12:
            raise field_error(field, "the month must be 01 to 12")
        start = date(year, month, 1)
        end_exclusive = next_month(start)
    return start, date.fromordinal(end_exclusive.toordinal() - 1)
