"""Demo data: a made-up municipality with its units, people and incidents, for trying the service
out, for training, and for the benchmarks in bench/ (docs/performance.md).

Rules: demo data is never mixed with a real register. It is refused when INCIDENTS_ENV is
production and on a database that already holds units, users or incidents. Everyone it makes has
an address under ``demo.invalid`` (RFC 6761: a name that can never receive mail).

Incidents are written in bulk (COPY on PostgreSQL, batched INSERTs on SQLite), without audit
entries, mails or follow-up records: they stand for reports made before the service was taken
into use. The figures are random but repeatable for a seed, and spread as the BRÅ survey found
them: harassment most common, corruption rarest.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa
from flask import current_app

from incidents.clock import local_midnight, utcnow
from incidents.domain import (
    ASSIGNED_ROLES,
    Category,
    Location,
    PerceivedPurpose,
    Perpetrator,
    Role,
    UnitKind,
    police_flag_for,
    values,
)
from incidents.errors import Conflict
from incidents.extensions import db
from incidents.models import (
    Headcount,
    Incident,
    IncidentForm,
    ReferenceCounter,
    Unit,
    UnitAssignment,
    UnitLeader,
    User,
    UserRole,
)

DEMO_DOMAIN = "demo.invalid"

# Shares of the forms among incidents (roughly BRÅ 2016's picture for social services).
FORM_SHARES = {
    Category.HARASSMENT: 0.55,
    Category.THREAT: 0.28,
    Category.VIOLENCE: 0.09,
    Category.PROPERTY_DAMAGE: 0.05,
    Category.CORRUPTION: 0.03,
}
ANONYMOUS_SHARE = 0.04
SECOND_FORM_SHARE = 0.08
# Incidents that occurred this long before the end of the demo period are closed.
CLOSED_AFTER = timedelta(days=60)
BATCH_ROWS = 100_000


@dataclass(frozen=True)
class DemoPlan:
    """What to make: ``units`` in all (one organisation, ``forvaltningar`` förvaltningar with
    ``avdelningar_each`` avdelningar each, the rest enheter), and ``incidents`` spread evenly over
    the ``years`` years that end on ``until``."""

    units: int = 500
    incidents: int = 100_000
    years: int = 3
    until: date | None = None
    seed: int = 1
    forvaltningar: int = 5
    avdelningar_each: int = 5

    def enheter(self) -> int:
        return self.units - 1 - self.forvaltningar * (1 + self.avdelningar_each)


@dataclass
class DemoResult:
    units: int = 0
    users: int = 0
    incidents: int = 0
    forms: int = 0
    hr_email: str = f"hr@{DEMO_DOMAIN}"
    admin_email: str = f"admin@{DEMO_DOMAIN}"
    employee_email: str = ""
    manager_email: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def check_plan(plan: DemoPlan) -> None:
    from incidents.errors import field_error

    if plan.forvaltningar < 1 or plan.avdelningar_each < 1:
        raise field_error("units", "there must be at least one förvaltning and avdelning")
    if plan.enheter() < 1:
        smallest = 2 + plan.forvaltningar * (1 + plan.avdelningar_each)
        raise field_error("units", f"at least {smallest} units for this tree")
    if plan.incidents < 0 or plan.years < 1:
        raise field_error("incidents", "give a count of 0 or more over at least one year")


def check_empty() -> None:
    """Demo data goes only into an empty register, never into a real one."""
    if current_app.config["INCIDENTS_ENV"] == "production":
        raise Conflict("Demo data is refused when INCIDENTS_ENV is production.")
    for model in (Unit, User, Incident):
        if db.session.scalar(sa.select(sa.func.count()).select_from(model)):
            raise Conflict(
                f"The database already holds {model.__tablename__}; demo data goes only into "
                "an empty one."
            )


def load(plan: DemoPlan) -> DemoResult:
    """Make the organisation, its people and the incidents, and commit."""
    import time as clock

    check_plan(plan)
    check_empty()
    result = DemoResult()
    started = clock.perf_counter()
    until = plan.until or utcnow().date()
    leaves, managers = _organisation(plan, until, result)
    db.session.flush()
    result.seconds["organisation"] = clock.perf_counter() - started

    started = clock.perf_counter()
    reporters = {unit_id: user.id for unit_id, user in leaves.items()}
    acknowledger = {unit_id: managers[unit_id].id for unit_id in leaves}
    _incidents(plan, until, reporters, acknowledger, result)
    db.session.commit()
    result.seconds["incidents"] = clock.perf_counter() - started

    if db.engine.dialect.name == "postgresql":
        # Fresh statistics for the planner, or its first plans assume empty tables.
        started = clock.perf_counter()
        db.session.execute(sa.text("ANALYZE incidents, incident_forms, units"))
        db.session.commit()
        result.seconds["analyze"] = clock.perf_counter() - started
    return result


# -- the organisation ----------------------------------------------------------------------


def _person(name: str, email: str, roles: list[Role], unit: Unit, leads: list[Unit] = (),
            reach: list[Unit] = ()):
    """``reach``: the units the hr / statistics_reader / admin role is held for."""
    user = User(email=f"{email}@{DEMO_DOMAIN}", name=name, unit_id=unit.id)
    user.role_rows = [UserRole(role=role.value) for role in roles]
    user.leadership_rows = [UnitLeader(unit_id=led.id) for led in leads]
    user.assignment_rows = [UnitAssignment(role=role.value, unit_id=held.id)
                            for role in roles if role in ASSIGNED_ROLES for held in reach]
    db.session.add(user)
    return user


def _organisation(plan: DemoPlan, until: date, result: DemoResult):
    """The unit tree, head-counts for every enhet and year, an employee per enhet, a manager
    per avdelning (who leads its enheter through it), hr and an admin."""
    rng = np.random.default_rng(plan.seed)
    root = Unit(name="Demokommunen", kind=UnitKind.ORGANISATION.value)
    db.session.add(root)
    db.session.flush()
    avdelningar: list[Unit] = []
    for f in range(1, plan.forvaltningar + 1):
        forvaltning = Unit(name=f"Förvaltning {f}", kind=UnitKind.FORVALTNING.value,
                           parent_id=root.id)
        db.session.add(forvaltning)
        db.session.flush()
        for a in range(1, plan.avdelningar_each + 1):
            avdelningar.append(Unit(name=f"Avdelning {f}.{a}", kind=UnitKind.AVDELNING.value,
                                    parent_id=forvaltning.id))
    db.session.add_all(avdelningar)
    db.session.flush()
    enheter = [
        Unit(name=f"Enhet {n:04d}", kind=UnitKind.ENHET.value,
             parent_id=avdelningar[n % len(avdelningar)].id)
        for n in range(plan.enheter())
    ]
    db.session.add_all(enheter)
    db.session.flush()
    result.units = 1 + plan.forvaltningar + len(avdelningar) + len(enheter)

    years = range(until.year - plan.years, until.year + 1)
    db.session.add_all(
        Headcount(unit_id=unit.id, year=year, count=int(count))
        for unit, counts in zip(enheter, rng.integers(8, 60, size=(len(enheter), len(years))),
                                strict=True)
        for year, count in zip(years, counts, strict=True)
    )
    manager_of = {
        avdelning.id: _person(f"Chef {avdelning.name}", f"chef.{avdelning.id}", [Role.MANAGER],
                              avdelning, leads=[avdelning])
        for avdelning in avdelningar
    }
    leaves = {
        enhet.id: _person(f"Medarbetare {enhet.name}", f"medarbetare.{enhet.id}",
                          [Role.EMPLOYEE], enhet)
        for enhet in enheter
    }
    _person("HR Demo", "hr", [Role.HR], root, reach=[root])
    _person("Admin Demo", "admin", [Role.ADMIN], root, reach=[root])
    result.users = len(manager_of) + len(leaves) + 2
    first = enheter[0]
    result.employee_email = f"medarbetare.{first.id}@{DEMO_DOMAIN}"
    result.manager_email = f"chef.{first.parent_id}@{DEMO_DOMAIN}"
    managers = {enhet.id: manager_of[enhet.parent_id] for enhet in enheter}
    return leaves, managers


# -- the incidents ---------------------------------------------------------------------------


_INCIDENT_COLUMNS = [
    "id", "reference", "status", "category", "perceived_influence_purpose", "occurred_at",
    "unit_id", "description", "location", "perpetrator", "family_targeted", "injured",
    "sick_leave", "ia_reported", "police_flag", "acknowledged_at", "acknowledged_by_id",
    "closed_at", "anonymous", "reporter_id", "created_at", "updated_at", "version",
]
_FORM_COLUMNS = ["incident_id", "category", "is_primary"]


def _incidents(plan, until, reporters, acknowledger, result: DemoResult) -> None:
    rng = np.random.default_rng(plan.seed + 1)
    end = local_midnight(until + timedelta(days=1))
    start = local_midnight(until + timedelta(days=1 - round(365.25 * plan.years)))
    unit_ids = np.array(sorted(reporters))
    counters: dict[int, int] = {}
    writer = _Writer()
    next_id = 1
    for offset in range(0, plan.incidents, BATCH_ROWS):
        size = min(BATCH_ROWS, plan.incidents - offset)
        # Spread evenly: batch k covers the k-th slice of the period, in time order.
        slice_start = start + (end - start) * (offset / plan.incidents)
        slice_end = start + (end - start) * ((offset + size) / plan.incidents)
        incidents, forms = _batch(rng, size, next_id, slice_start, slice_end, unit_ids,
                                  reporters, acknowledger, until, counters)
        writer.write(incidents, forms)
        next_id += size
        result.incidents += size
        result.forms += len(forms)
    writer.finish()
    if counters:
        # Later reports continue the demo's numbering; references are never reused.
        db.session.execute(
            sa.insert(ReferenceCounter),
            [{"year": year, "last_number": number} for year, number in sorted(counters.items())],
        )


def _batch(rng, size, first_id, slice_start, slice_end, unit_ids, reporters, acknowledger,
           until, counters):
    span = (slice_end - slice_start).total_seconds()
    created = pd.Timestamp(slice_start).tz_convert(UTC) + pd.to_timedelta(
        np.sort(rng.uniform(0, span, size)), unit="s").floor("us")
    # Reported up to two days after it happened.
    occurred = created - pd.to_timedelta(rng.uniform(0, 2 * 86_400, size), unit="s").floor("us")
    forms = list(FORM_SHARES)
    primary = rng.choice(len(forms), size=size, p=list(FORM_SHARES.values()))
    second = np.where(rng.random(size) < SECOND_FORM_SHARE,
                      (primary + rng.integers(1, len(forms), size)) % len(forms), -1)
    unit = rng.choice(unit_ids, size=size)
    anonymous = rng.random(size) < ANONYMOUS_SHARE
    closed = occurred < pd.Timestamp(local_midnight(until) - CLOSED_AFTER)

    local_year = created.tz_convert(current_app.config["TIMEZONE"]).year.to_numpy()
    number = np.empty(size, dtype=np.int64)
    for year in np.unique(local_year):
        mask = local_year == year
        already = counters.get(int(year), 0)
        number[mask] = already + np.arange(1, mask.sum() + 1)
        counters[int(year)] = already + int(mask.sum())
    ids = np.arange(first_id, first_id + size)

    flag_of = {
        (p, s): police_flag_for([forms[p]] + ([forms[s]] if s >= 0 else [])).value
        for p in range(len(forms)) for s in range(-1, len(forms))
    }
    category = np.array([c.value for c in forms])[primary]
    frame = pd.DataFrame({
        "id": ids,
        "reference": [f"OP-{y}-{n:06d}" for y, n in zip(local_year, number, strict=True)],
        "status": np.where(closed, "closed", "reported"),
        "category": category,
        "perceived_influence_purpose": rng.choice(values(PerceivedPurpose), size=size,
                                                  p=[0.6, 0.15, 0.25]),
        "occurred_at": occurred,
        "unit_id": unit,
        "description": [f"Demodata: händelse {i}." for i in ids],
        "location": rng.choice(values(Location), size=size),
        "perpetrator": rng.choice(values(Perpetrator), size=size),
        "family_targeted": rng.random(size) < 0.05,
        "injured": (primary == forms.index(Category.VIOLENCE)) & (rng.random(size) < 0.3),
        "sick_leave": rng.random(size) < 0.02,
        "ia_reported": rng.random(size) < 0.3,
        "police_flag": [flag_of[(p, s)] for p, s in zip(primary, second, strict=True)],
        "acknowledged_at": pd.Series(created + pd.Timedelta(days=1)).where(closed),
        "acknowledged_by_id": pd.Series([acknowledger[u] for u in unit], dtype="Int64").where(
            closed),
        "closed_at": pd.Series(occurred + pd.Timedelta(days=30)).where(closed),
        "anonymous": anonymous,
        "reporter_id": pd.Series([reporters[u] for u in unit], dtype="Int64").where(~anonymous),
        "created_at": created,
        "updated_at": created,
        "version": 1,
    })
    with_second = second >= 0
    form_rows = pd.concat([
        pd.DataFrame({"incident_id": ids, "category": category, "is_primary": True}),
        pd.DataFrame({"incident_id": ids[with_second],
                      "category": np.array([c.value for c in forms])[second[with_second]],
                      "is_primary": False}),
    ])
    return frame[_INCIDENT_COLUMNS], form_rows[_FORM_COLUMNS]


class _Writer:
    """COPY on PostgreSQL; batched INSERTs elsewhere.

    On PostgreSQL the keys, checks and indexes of the two tables are dropped for the load and
    made again from their own definitions afterwards, all in the load's transaction: one sort
    per index and one scan per check or key instead of a million single-row checks (the bulk
    loading advice of PostgreSQL's manual, "Populating a Database"). The tables were empty.
    """

    TABLES = ("incidents", "incident_forms")

    def __init__(self):
        self.connection = db.session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self.deferred: list[str] = []
        self.stack = contextlib.ExitStack()
        self.copy = None
        self.forms = io.StringIO()
        if self.postgres:
            self._defer_indexes_and_keys()

    def write(self, incidents: pd.DataFrame, forms: pd.DataFrame) -> None:
        if self.postgres:
            # One COPY stays open for all batches, so the server inserts one batch while the
            # next is made here (two cores, both busy); the forms follow in one COPY at the end.
            if self.copy is None:
                self.copy = self.stack.enter_context(self._cursor().copy(
                    f"COPY incidents ({', '.join(incidents.columns)}) FROM STDIN "
                    "WITH (FORMAT csv)"))
            self.copy.write(_csv(incidents))
            self.forms.write(_csv(forms))
        else:
            self._insert(Incident.__table__, incidents)
            self._insert(IncidentForm.__table__, forms)

    def _cursor(self):
        return self.connection.connection.driver_connection.cursor()

    def _defer_indexes_and_keys(self) -> None:
        """Drop the two tables' keys, checks and indexes, and the foreign keys of other tables
        that point at them; remember how to make each again, in an order that works (keys
        and checks, then indexes, then the foreign keys that need the keys)."""
        run = self.connection.exec_driver_sql
        run("SET LOCAL maintenance_work_mem = '256MB'")
        tables = {"tables": list(self.TABLES)}
        constraints = run(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
            "c.contype FROM pg_constraint c "
            "WHERE c.contype IN ('p', 'u', 'c', 'f') AND (c.conrelid::regclass::text = "
            "ANY(%(tables)s) OR (c.contype = 'f' AND c.confrelid::regclass::text = "
            "ANY(%(tables)s))) ORDER BY c.contype = 'f' DESC",
            tables,
        ).all()
        indexes = run(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%(tables)s) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            tables,
        ).all()
        for table, name, _definition, _kind in constraints:  # foreign keys first
            run(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            run(f'DROP INDEX "{name}"')
        again = [(t, n, d) for t, n, d, kind in constraints if kind != "f"]
        self.deferred = [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in again]
        self.deferred += [definition for _name, definition in indexes]
        self.deferred += [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}'
                          for t, n, d, kind in constraints if kind == "f"]

    def _insert(self, table: sa.Table, frame: pd.DataFrame) -> None:
        records = frame.astype(object).where(frame.notna(), None).to_dict("records")
        for record in records:
            for key, value in record.items():
                if isinstance(value, pd.Timestamp):
                    record[key] = value.to_pydatetime()
                elif isinstance(value, np.generic):
                    record[key] = value.item()
        self.connection.execute(table.insert(), records)

    def finish(self) -> None:
        if not self.postgres:
            return
        self.stack.close()
        with self._cursor().copy(
            f"COPY incident_forms ({', '.join(_FORM_COLUMNS)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(self.forms.getvalue())
        for statement in self.deferred:
            self.connection.exec_driver_sql(statement)
        self.connection.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('incidents', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM incidents))"
        )


def _csv(frame: pd.DataFrame) -> str:
    """CSV for COPY; timestamps as ISO text in UTC, NULL as an empty field."""
    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            # numpy writes ISO text in C; pandas' own formatting is many times slower.
            values = frame[column].dt.tz_convert(UTC).dt.tz_localize(None).to_numpy()
            text = np.datetime_as_string(values, unit="us").astype(object) + "+00"
            frame[column] = np.where(frame[column].isna(), None, text)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    return buffer.getvalue()
