"""Readiness, and the operational state the metrics report (docs/operations.md, "Health,
readiness and metrics").

Readiness asks three things: does the database answer (``SELECT 1``), is its schema at the
migrations' head, and is the scheduler alive and its jobs on time. The scheduler's part decides
readiness only with SCHEDULER_REQUIRED; it is reported either way. A database that has never
seen a scheduler is ready, and says so: a new installation starts its web workers before its
scheduler.

Every read is a probe: one short transaction, rolled back, whose statements PostgreSQL cuts
off after PROBE_TIMEOUT_SECONDS; a part that fails or runs out of time is reported as
unknown, and the rest are still read. Nothing here reads a person, a unit or an incident.
"""

from __future__ import annotations

import ast
import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from incidents.clock import utcnow
from incidents.extensions import _describe_database_error, db
from incidents.models import SchedulerHeartbeat, SchedulerJobStatus, SchedulerLease
from incidents.models.summary import SCHEDULER_ROW

log = logging.getLogger(__name__)

T = TypeVar("T")
MIGRATE_HINT = "run: flask --app wsgi db upgrade"


@dataclass(frozen=True)
class Revisions:
    heads: frozenset[str]
    known: frozenset[str]


class MigrationsError(Exception):
    """The migrations' revision files break a rule of ``read_revisions``."""


# The files Alembic reads as revisions: *.py directly in versions/, but not __init__.py or an
# editor's lock file (.#name.py); Alembic's own pattern (alembic/script/base.py).
_REVISION_FILE = re.compile(r"(?!\.#|__init__)(.*\.py)$")


_REQUIRED = object()


def _literal(tree: ast.Module, name: str, path: Path, default: Any = _REQUIRED) -> Any:
    """The value of the module-level assignment ``name = <literal>`` (annotated or not; the
    last one, as importing the module would leave it), or ``default`` when there is none; an
    error when it is not a literal, or missing and required."""
    for node in reversed(tree.body):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AnnAssign) and node.value
                   else [])
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            try:
                return ast.literal_eval(node.value)
            except (ValueError, TypeError):
                raise MigrationsError(f"{path.name}: {name} is not a literal") from None
    if default is _REQUIRED:
        raise MigrationsError(f"{path.name}: no {name}")
    return default


def _down_revisions(value: Any, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple | list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MigrationsError(f"{path.name}: down_revision is neither None, a revision id nor a "
                          "tuple of them")


def read_revisions(directory: str) -> Revisions:
    """The head revision(s) of the migrations in ``directory`` and every revision they know,
    read from the files in its versions/ without importing them (or Alembic, which only the
    `flask db` commands load).

    Each revision file assigns ``revision`` a string and ``down_revision`` None, a string, or
    a tuple of strings for a merge, as literals; ``depends_on`` is None. A head is a revision
    that no other names as its down revision: with one line of migrations, one head; a branch
    makes two, as Alembic counts them. A file that breaks these rules, a revision id used
    twice or a down revision that no file defines is a MigrationsError: Alembic would not
    read the directory as intended either."""
    defined: dict[str, Path] = {}
    parents: set[str] = set()
    for path in sorted((Path(directory) / "versions").iterdir()):
        if not path.is_file() or not _REVISION_FILE.match(path.name):
            continue
        tree = ast.parse(path.read_bytes(), filename=str(path))
        revision = _literal(tree, "revision", path)
        if not isinstance(revision, str):
            raise MigrationsError(f"{path.name}: revision is not a string")
        if revision in defined:
            raise MigrationsError(f"revision {revision} is defined twice: in "
                                  f"{defined[revision].name} and {path.name}")
        defined[revision] = path
        parents.update(_down_revisions(_literal(tree, "down_revision", path), path))
        if _literal(tree, "depends_on", path, default=None) is not None:
            raise MigrationsError(f"{path.name}: depends_on is not None, which this reader "
                                  "does not follow")
    unknown = parents - defined.keys()
    if unknown:
        raise MigrationsError("down revision(s) that no file defines: "
                              + ", ".join(sorted(unknown)))
    return Revisions(frozenset(defined.keys() - parents), frozenset(defined))


@functools.cache
def code_revisions(directory: str) -> Revisions:
    """``read_revisions(directory)``, read once per process."""
    return read_revisions(directory)


class _Probe:
    """One short transaction for health reads: each part in a savepoint of its own, so one
    that fails leaves the others readable; rolled back at the end, nothing written."""

    def __init__(self) -> None:
        seconds = current_app.config["PROBE_TIMEOUT_SECONDS"]
        self.deadline = time.monotonic() + seconds
        self.error: str | None = None
        try:
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text(f"SET LOCAL statement_timeout = {int(seconds * 1000)}"))
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            self.error = _describe_database_error(exc)
            log.warning("health probe: the database did not answer: %s", self.error)
            self.close()

    @property
    def up(self) -> bool:
        return self.error is None

    def read(self, part: Callable[[], T]) -> T | None:
        """``part``'s result, or None when it failed or the probe ran out of time."""
        if not self.up or time.monotonic() > self.deadline:
            return None
        try:
            with db.session.begin_nested():
                return part()
        except SQLAlchemyError as exc:
            log.warning("health probe: %s failed: %s", part.__name__,
                        _describe_database_error(exc))
            return None

    def close(self) -> None:
        try:
            db.session.rollback()
        except SQLAlchemyError:  # the connection is gone; the pool replaces it
            log.warning("health probe: rollback failed; the connection is dropped")


# -- what is read -------------------------------------------------------------------------


@dataclass(frozen=True)
class SchedulerState:
    """The scheduler's lease, heartbeat and jobs as read at ``now`` (plain rows)."""

    now: datetime
    lease: Any | None
    heartbeat: Any | None
    jobs: list[Any]

    def is_late(self, job: Any) -> bool:
        """A job is late once the success its timetable asks for is past due."""
        return job.late_after is not None and job.late_after < self.now


def _database_revisions() -> frozenset[str]:
    return frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))


def _scheduler_reader(now: datetime) -> Callable[[], SchedulerState]:
    def scheduler_records() -> SchedulerState:
        lease = db.session.execute(
            select(SchedulerLease.holder, SchedulerLease.expires_at)
            .where(SchedulerLease.name == SCHEDULER_ROW)
        ).first()
        heartbeat = db.session.execute(
            select(SchedulerHeartbeat.holder, SchedulerHeartbeat.started_at,
                   SchedulerHeartbeat.beat_at, SchedulerHeartbeat.stopped_at)
            .where(SchedulerHeartbeat.name == SCHEDULER_ROW)
        ).first()
        jobs = db.session.execute(
            select(SchedulerJobStatus.job_id, SchedulerJobStatus.late_after,
                   SchedulerJobStatus.last_success_at, SchedulerJobStatus.last_error_at,
                   SchedulerJobStatus.last_error)
            .order_by(SchedulerJobStatus.job_id)
        ).all()
        return SchedulerState(now, lease, heartbeat, list(jobs))

    return scheduler_records


# -- the checks ---------------------------------------------------------------------------


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]]

    @property
    def ready(self) -> bool:
        return all(check["ok"] or not check["required"] for check in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items()
                if not check["ok"] and check["required"]]


def _database_check(probe: _Probe) -> dict[str, Any]:
    if probe.up:
        return {"ok": True, "required": True, "detail": "the database answers"}
    return {"ok": False, "required": True, "detail": f"the database did not answer ({probe.error})"}


def _migrations_check(probe: _Probe, found: frozenset[str] | None) -> dict[str, Any]:
    """At the head: ready. Behind (or not migrated at all): not ready, the code would use
    tables and columns that are not there yet. Ahead, at a revision this code does not know:
    a newer release has migrated the database while this worker still runs the old code, as
    every upgrade does for a moment (docs/operations.md, "Upgrading"); migrations keep the old
    code working, so it stays ready and says so."""
    try:
        code = code_revisions(current_app.extensions["migrate"].directory)
    except MigrationsError as error:
        # The release's own migration files cannot be read as revisions: not ready, and why.
        return {"ok": False, "required": True, "database": sorted(found or ()), "code": [],
                "detail": f"the migrations of this code cannot be read: {error}"}
    check = {"ok": False, "required": True, "database": sorted(found or ()),
             "code": sorted(code.heads)}
    if not probe.up:
        return {**check, "detail": "not checked: the database did not answer"}
    if not found:
        return {**check, "detail": f"the database has no migration revision; {MIGRATE_HINT}"}
    if found == code.heads:
        return {**check, "ok": True, "detail": "the database is at the migrations' head"}
    at = ", ".join(sorted(found))
    if not found & code.known:
        return {**check, "ok": True,
                "detail": f"the database is at {at}, newer than this code knows: a newer release "
                          "migrated it; restart this worker with that release"}
    return {**check, "detail": f"the database is at {at}, the code expects "
                               f"{', '.join(sorted(code.heads))}; {MIGRATE_HINT}"}


def _job(state: SchedulerState, job: Any) -> dict[str, Any]:
    failing = job.last_error_at is not None and (
        job.last_success_at is None or job.last_error_at > job.last_success_at)
    return {
        "id": job.job_id,
        "state": "late" if state.is_late(job) else "failing" if failing else "ok",
        "last_success_at": job.last_success_at,
        "last_error_at": job.last_error_at,
        "last_error": job.last_error,
        "late_after": job.late_after,
    }


def _late(job: dict[str, Any]) -> str:
    since = (f"last succeeded {job['last_success_at']:%Y-%m-%d %H:%M:%S} UTC"
             if job["last_success_at"] else "has not succeeded yet")
    return (f"job {job['id']} is late: it {since}, and was due to succeed by "
            f"{job['late_after']:%Y-%m-%d %H:%M:%S} UTC")


def _scheduler_check(probe: _Probe, state: SchedulerState | None) -> dict[str, Any]:
    config = current_app.config
    check: dict[str, Any] = {"ok": False, "required": config["SCHEDULER_REQUIRED"],
                             "state": "unknown", "jobs": []}
    if state is None:
        reason = ("the database did not answer" if not probe.up
                  else f"its records could not be read; {MIGRATE_HINT}")
        return {**check, "detail": f"not checked: {reason}"}
    heartbeat = state.heartbeat
    if heartbeat is None:
        return {**check, "ok": True, "state": "never_run",
                "detail": "no scheduler has run against this database yet; start one with "
                          "python -m scheduler"}
    limit = config["SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS"]
    age = max(0, int((state.now - heartbeat.beat_at).total_seconds()))
    problems = []
    if age > limit:
        how = (f"stopped at {heartbeat.stopped_at:%Y-%m-%d %H:%M:%S} UTC"
               if heartbeat.stopped_at else "has gone silent")
        problems.append(f"the scheduler {heartbeat.holder} {how}: no heartbeat for {age} s "
                        f"(limit {limit} s)")
    jobs = [_job(state, job) for job in state.jobs]
    problems += [_late(job) for job in jobs if job["state"] == "late"]
    running = "stopped" if heartbeat.stopped_at else "silent" if age > limit else "running"
    return {
        **check,
        "ok": not problems,
        "state": running,
        "holder": heartbeat.holder,
        "heartbeat_at": heartbeat.beat_at,
        "heartbeat_age_seconds": age,
        "detail": "; ".join(problems) or f"the scheduler {heartbeat.holder} is running and its "
                                          "jobs are on time",
        "jobs": jobs,
    }


def _readiness(probe: _Probe, now: datetime) -> tuple[Readiness, SchedulerState | None]:
    revisions = probe.read(_database_revisions)
    scheduler = probe.read(_scheduler_reader(now))
    checks = {
        "database": _database_check(probe),
        "migrations": _migrations_check(probe, revisions),
        "scheduler": _scheduler_check(probe, scheduler),
    }
    return Readiness(checks), scheduler


def readiness(now: datetime | None = None) -> Readiness:
    """The readiness checks at ``now`` (GET /api/v1/health/ready)."""
    probe = _Probe()
    try:
        return _readiness(probe, now or utcnow())[0]
    finally:
        probe.close()


# -- what the metrics report --------------------------------------------------------------


@dataclass
class OperationalState:
    """What the metrics read from the database at a scrape; a part is None when it could not
    be read."""

    now: datetime
    database_up: bool
    readiness: Readiness
    scheduler: SchedulerState | None = None
    outbox: Any | None = None
    overdue: dict[str, int] | None = None
    summaries: dict[tuple[str, str], int] | None = field(default=None)


def operational_state(now: datetime | None = None) -> OperationalState:
    from incidents.services import outbox, summaries, support

    now = now or utcnow()
    probe = _Probe()
    try:
        checks, scheduler = _readiness(probe, now)

        def overdue_items() -> dict[str, int]:
            return support.overdue_counts(now)

        return OperationalState(
            now=now,
            database_up=probe.up,
            readiness=checks,
            scheduler=scheduler,
            outbox=probe.read(outbox.queue_state),
            overdue=probe.read(overdue_items),
            summaries=probe.read(summaries.counts_by_kind),
        )
    finally:
        probe.close()
