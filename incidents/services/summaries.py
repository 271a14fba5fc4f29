"""Statistics summaries per tertial and per month, for each organisation and each förvaltning
(produced on a schedule, because the city's follow-up is reported per tertial; docs/statistics.md).

A summary holds the incidents, police, support and dark-figure tables of its unit (sub-units
included) for a period that has ended, in Swedish and English, with a CSV per table, a
workbook and the charts. It is made once: the unique key (kind, period, scope) lets a second
scheduler, a catch-up run or a repeated request find it made and write nothing. Figures are
always disclosure-controlled; there is no unsuppressed summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, literal, or_, select
from sqlalchemy.exc import IntegrityError

from incidents import access
from incidents.access import UnitTree
from incidents.clock import to_local, utcnow
from incidents.domain import (
    SUMMARY_KIND_LABELS,
    AuditAction,
    AuditRecord,
    Role,
    SummaryKind,
    SummaryOrigin,
    UnitKind,
)
from incidents.errors import Conflict, NotFound, field_error
from incidents.extensions import db
from incidents.models import OutboxMail, Summary, SummaryFile, Unit, User, UserRole
from incidents.services import audit, organisation
from incidents.services.notifications import page_url
from incidents.stats import charts, export
from incidents.stats.incidents import incident_table
from incidents.stats.periods import parse_period
from incidents.stats.police import police_table
from incidents.stats.support import support_table

LANGUAGES = ("sv", "en")
TABLES = ("incidents", "police", "support")
SCOPE_KINDS = (UnitKind.ORGANISATION.value, UnitKind.FORVALTNING.value)
_PERIOD_FORMS = {
    SummaryKind.TERTIAL: (re.compile(r"^\d{4}-T[1-3]$"), "a tertial such as 2026-T2"),
    SummaryKind.MONTHLY: (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "a month such as 2026-05"),
}


class SystemReader:
    """The scheduler reads statistics with the reach of hr at every root and nobody's
    identity; it never asks for unsuppressed figures, so nothing it reads is audited as a
    person's read. Each summary it makes is for one unit, within one organisation."""

    id = None
    unit_id = None
    active = True
    leads_unit_ids: list[int] = []
    assignment_rows: list = []

    def has_role(self, *roles: str) -> bool:
        return Role.HR in roles

    def assigned_unit_ids(self, role: str) -> list[int]:
        if role != Role.HR:
            return []
        return list(db.session.scalars(select(Unit.id).where(Unit.parent_id.is_(None))))


@dataclass
class SummaryRun:
    """What one run made, and what it found already made (by an earlier run or another
    scheduler)."""

    created: list[Summary] = field(default_factory=list)
    existing: list[Summary] = field(default_factory=list)

    @property
    def summaries(self) -> list[Summary]:
        return sorted(self.created + self.existing, key=lambda s: s.id)


# -- periods --------------------------------------------------------------------------------


def period_just_ended(kind: SummaryKind, now: datetime) -> str:
    """The tertial or month that ended before the one ``now`` falls in (local time), e.g. at
    06:00 on 1 May, T1; on 3 September, still T2 (a catch-up run reports the period it missed)."""
    today = to_local(now).date()
    if kind == SummaryKind.MONTHLY:
        last = date(today.year, today.month, 1) - timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    first_month = (today.month - 1) // 4 * 4 + 1
    last = date(today.year, first_month, 1) - timedelta(days=1)
    return f"{last.year}-T{(last.month - 1) // 4 + 1}"


def checked_period(kind: str, period: str, now: datetime) -> tuple[date, date]:
    """A period of the kind's form that has ended: a summary is the record of a whole
    period, and one made early would stand in for the scheduled one."""
    pattern, example = _PERIOD_FORMS[SummaryKind(kind)]
    if not pattern.match(period):
        raise field_error("period", f"a {kind} summary needs {example}")
    start, end = parse_period(period)
    if end >= to_local(now).date():
        raise Conflict(
            f"{period} has not ended yet; a summary can be made from "
            f"{(end + timedelta(days=1)).isoformat()}.",
            errors={"period": ["has not ended"]},
        )
    return start, end


# -- making summaries -----------------------------------------------------------------------


def scope_units() -> list[Unit]:
    """Each organisation and each förvaltning gets its own summary."""
    return list(
        db.session.scalars(select(Unit).where(Unit.kind.in_(SCOPE_KINDS)).order_by(Unit.id))
    )


def find(kind: str, period: str, scope: str) -> Summary | None:
    return db.session.scalar(
        select(Summary).where(
            Summary.kind == kind, Summary.period == period, Summary.scope == scope
        )
    )


def make_period_summaries(
    kind: str,
    period: str,
    *,
    origin: SummaryOrigin,
    requested_by: User | None = None,
    unit_ids: list[int] | None = None,
) -> SummaryRun:
    """The summaries of one period for every organisation and förvaltning (or the given
    units), each made unless it exists. The caller commits."""
    start, end = checked_period(kind, period, utcnow())
    units = scope_units()
    if unit_ids is not None:
        units = organisation.existing_units(unit_ids)
    run = SummaryRun()
    for unit in units:
        scope = f"unit:{unit.id}"
        found = find(kind, period, scope)
        if found is not None:
            run.existing.append(found)
            continue
        summary = Summary(
            kind=kind,
            period=period,
            scope=scope,
            unit_id=unit.id,
            scope_name=unit.name,
            period_start=start,
            period_end=end,
            origin=origin.value,
            requested_by_id=requested_by.id if requested_by else None,
            content={},
        )
        content, files = _tables_and_files(unit.id, start, end, period)
        summary.content = content
        summary.files = files
        _insert_once(summary, run)
    return run


def _insert_once(summary: Summary, run: SummaryRun) -> None:
    """Insert in a savepoint; if another process made the same summary meanwhile, the unique
    key refuses this one and the other's is used."""
    try:
        with db.session.begin_nested():
            db.session.add(summary)
        run.created.append(summary)
    except IntegrityError:
        found = find(summary.kind, summary.period, summary.scope)
        if found is None:  # the conflict was not the summary's key: a real error
            raise
        run.existing.append(found)


def _query(schema_class, values: dict[str, Any]) -> dict[str, Any]:
    """Statistics parameters as the API would parse them, defaults included."""
    return schema_class().load(values)


def _tables_and_files(
    unit_id: int, start: date, end: date, period: str
) -> tuple[dict[str, Any], list[SummaryFile]]:
    from incidents.schemas.stats import (
        ChartQuerySchema,
        IncidentStatsQuerySchema,
        PoliceStatsQuerySchema,
        SupportStatsQuerySchema,
    )
    from incidents.schemas.surveys import DarkFigureQuerySchema
    from incidents.services.dark_figure import dark_figure

    reader = SystemReader()
    common = {"from": start.isoformat(), "to": end.isoformat(), "unit_id": unit_id}
    tables = [
        incident_table(reader, _query(IncidentStatsQuerySchema,
                                      {**common, "group_by": "category,unit"})),
        police_table(reader, _query(PoliceStatsQuerySchema, {**common, "group_by": "unit"})),
        support_table(reader, _query(SupportStatsQuerySchema, {**common, "group_by": "unit"})),
    ]
    darkness = dark_figure(reader, _query(DarkFigureQuerySchema, common))
    chart_params = _query(ChartQuerySchema, {**common, "period": "month"})
    chart_tables = {chart: charts.chart_table(chart, reader, chart_params)
                    for chart in charts.NAMES}
    content: dict[str, Any] = {}
    files: list[SummaryFile] = []
    for lang in LANGUAGES:
        content[lang] = {table.name: export.json_body(table, lang) for table in tables}
        content[lang]["dark_figure"] = darkness
        for table in tables:
            files.append(_file(f"{table.name}.{lang}.csv", "text/csv",
                               export.csv_text(export.people_frame(table, lang)).encode()))
        files.append(_file(f"dark-figure.{lang}.csv", "text/csv",
                           export.csv_text(export.dark_figure_frame(darkness, lang)).encode()))
        files.append(_file(f"summary.{lang}.xlsx", export.XLSX,
                           export.xlsx_bytes(tables, lang, dark_figure=darkness)))
        for chart in charts.NAMES:
            drawn = charts.draw(chart, chart_tables[chart], {**chart_params, "lang": lang})
            files.append(_file(f"{chart}.{lang}.png", "image/png", drawn))
    content["period"] = period
    return content, files


def _file(name: str, media_type: str, content: bytes) -> SummaryFile:
    return SummaryFile(name=name, media_type=media_type, size=len(content), content=content)


# -- the scheduled runs -----------------------------------------------------------------------


def scheduled(kind: SummaryKind, now: datetime) -> SummaryRun:
    """The scheduler's run: the period just ended, every scope, and a mail to hr about what it
    made (nothing made, nothing mailed). The caller commits."""
    run = make_period_summaries(
        kind.value, period_just_ended(kind, now), origin=SummaryOrigin.SCHEDULE
    )
    tell_hr(run.created)
    return run


def tell_hr(created: list[Summary]) -> int:
    """One mail to every active hr user who may read some of the new summaries, listing those
    with links to their web pages (hr of one district is not told of another's); no figures in
    the mail, as mail leaves the service's access control. Returns the mails written."""
    if not created:
        return 0
    first = created[0]
    label = SUMMARY_KIND_LABELS[SummaryKind(first.kind)]
    subject = f"{label.sv} {first.period} / {label.en} {first.period}"
    recipients = db.session.scalars(
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.HR.value, User.active.is_(True))
        .order_by(User.id)
    ).all()
    tree = UnitTree.load()
    written = 0
    for user in recipients:
        mine = [s for s in created if access.covers_units(user, Role.HR, _units_of(s), tree)]
        if not mine:
            continue
        lines = [f"- {s.scope_name}: {page_url('summary', summary_id=s.id)}" for s in mine]
        body = (
            f"{label.sv} för {first.period} är klar.\n"
            f"The {label.en.lower()} for {first.period} is ready.\n\n"
            + "\n".join(lines)
            + "\n\nDet här är ett automatiskt meddelande; svara inte på det.\n"
            "This is an automatic message; please do not reply to it.\n"
        )
        db.session.add(OutboxMail(kind=f"summary_{first.kind}", recipient=user.email,
                                  subject=subject, body=body))
        written += 1
    return written


def _units_of(summary: Summary) -> list[int]:
    """The units a summary is about: its unit, or a workshop's units."""
    if summary.unit_id is not None:
        return [summary.unit_id]
    from incidents.models import WorkshopUnit

    workshop_id = int(summary.scope.split(":", 1)[1])
    return list(db.session.scalars(
        select(WorkshopUnit.unit_id).where(WorkshopUnit.workshop_id == workshop_id))) or [-1]


def summarise_closed_workshops(now: datetime) -> list[Summary]:
    """A summary of each workshop whose rating window has closed and that has none yet, with a
    mail to hr. Ratings cannot change after the window closes, except for a tally hr enters
    later; GET /workshops/{id}/summary always has the live figures."""
    from incidents.models import Workshop
    from incidents.stats.workshops import workshop_summary

    summarised = select(Summary.scope).where(Summary.kind == SummaryKind.WORKSHOP.value)
    due = db.session.scalars(
        select(Workshop)
        .where(Workshop.closes_at <= now)
        .where(("workshop:" + db.cast(Workshop.id, db.String)).not_in(summarised))
        .order_by(Workshop.closes_at, Workshop.id)
    ).all()
    run = SummaryRun()
    for workshop in due:
        content = {"workshop_id": workshop.id, "title": workshop.title,
                   "summary": workshop_summary(workshop.id)}
        summary = Summary(
            kind=SummaryKind.WORKSHOP.value,
            period=workshop.held_on.isoformat(),
            scope=f"workshop:{workshop.id}",
            scope_name=workshop.title,
            period_start=workshop.held_on,
            period_end=workshop.held_on,
            origin=SummaryOrigin.SCHEDULE.value,
            content=content,
        )
        _insert_once(summary, run)
    for made in run.created:
        tell_hr([made])
    return run.created


# -- reading ----------------------------------------------------------------------------------


def _readable(user: User):
    """The summaries a user may read (the access module's rules): statistics summaries of the
    units they reach for statistics; a workshop's summary if they may read the workshop's."""
    from incidents.models import Workshop

    readable_workshops = select(
        literal("workshop:") + cast(Workshop.id, String)
    ).where(access.workshop_scope(user, summaries=True))
    return or_(Summary.unit_id.in_(sorted(access.readable_summary_units(user))),
               and_(Summary.kind == SummaryKind.WORKSHOP.value,
                    Summary.scope.in_(readable_workshops)))


def list_summaries(user: User, args: dict[str, Any]) -> list[Summary]:
    query = select(Summary).where(_readable(user))
    if args.get("kind"):
        query = query.where(Summary.kind == args["kind"])
    if args.get("period"):
        query = query.where(Summary.period == args["period"])
    if args.get("unit_id") is not None:
        query = query.where(Summary.unit_id == args["unit_id"])
    query = query.order_by(Summary.period_end.desc(), Summary.id.desc()).limit(args["limit"])
    return list(db.session.scalars(query))


def read(user: User, summary_id: int) -> Summary:
    """A summary outside the reader's reach is a 404, as if it did not exist."""
    summary = db.session.scalar(select(Summary).where(Summary.id == summary_id,
                                                      _readable(user)))
    if summary is None:
        raise NotFound(f"There is no summary {summary_id}.")
    return summary


class SummaryInLanguage:
    """A summary whose ``content`` is the tables in one language (a workshop summary has no
    language of its own)."""

    def __init__(self, summary: Summary, lang: str):
        self._summary = summary
        content = summary.content
        if summary.kind != SummaryKind.WORKSHOP.value:
            content = {"period": content.get("period"), **content[lang]}
        self.content = content

    def __getattr__(self, name: str) -> Any:
        return getattr(self._summary, name)


def in_language(summary: Summary, lang: str) -> SummaryInLanguage:
    return SummaryInLanguage(summary, lang)


def file_of(summary: Summary, name: str) -> SummaryFile:
    for stored in summary.files:
        if stored.name == name:
            return stored
    raise NotFound(f"Summary {summary.id} has no file {name}.")


def request(user: User, data: dict[str, Any]) -> SummaryRun:
    """hr makes the summaries of any ended period on demand, for the organisations and
    förvaltningar it reaches (or the units given, which it must reach); the ones that exist are
    returned as they are (a summary is made once). The caller commits."""
    unit_ids = data.get("unit_ids")
    if unit_ids is None:
        tree = UnitTree.load()
        unit_ids = [u.id for u in scope_units()
                    if access.covers_units(user, Role.HR, [u.id], tree)]
    elif not access.covers_units(user, Role.HR, unit_ids):
        organisation.existing_units(unit_ids)
        raise field_error("unit_ids", "only units you are hr for (and units below them)")
    run = make_period_summaries(
        data["kind"], data["period"], origin=SummaryOrigin.REQUEST, requested_by=user,
        unit_ids=unit_ids,
    )
    for summary in run.created:
        audit.record(user, AuditAction.CREATE, None,
                     detail=f"summary {summary.id}: {summary.kind} {summary.period} "
                     f"{summary.scope}", record=AuditRecord.SUMMARY, unit_id=summary.unit_id)
    return run


def counts_by_kind() -> dict[tuple[str, str], int]:
    """How many summaries there are, by kind and origin (for the metrics)."""
    rows = db.session.execute(
        select(Summary.kind, Summary.origin, func.count()).group_by(Summary.kind, Summary.origin)
    ).all()
    return {(kind, origin): number for kind, origin, number in rows}
