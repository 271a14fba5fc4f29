"""The scheduler process: ``python -m scheduler``.

It runs apart from the web workers so that they can scale out without firing jobs twice. The
jobs live in APScheduler's SQLAlchemy job store in the application's own database, so a job's
next run time survives a restart: a run missed while the process was down is made once when it
starts again (``coalesce``, no misfire limit), a tertial summary missed by days included. Only
the process holding the lease (scheduler/lease.py) runs jobs; each job is idempotent by a unique
key in the database besides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from scheduler import jobs

log = logging.getLogger(__name__)

# misfire_grace_time None: a run is made however late (after downtime), coalesced into one.
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str
    trigger: str  # "cron" or "interval"
    fields: tuple[tuple[str, Any], ...]
    when: str
    # A cron job's zone when it is not the organisation's: the hourly one runs in UTC, whose
    # full hours are the organisation's too but which has no hour that repeats when the clocks
    # go back (APScheduler's cron would fire on that repeated hour again and again).
    zone: str | None = None

    def make_trigger(self, timezone: str):
        if self.trigger == "cron":
            return CronTrigger(timezone=self.zone or timezone, **dict(self.fields))
        # An interval is counted in seconds whatever the zone; in UTC its run times never fall
        # in the hour that is repeated when the clocks go back.
        return IntervalTrigger(timezone="UTC", **dict(self.fields))


JOBS = (
    JobSpec("tertial_summary", "scheduler.jobs:tertial_summary", "cron",
            (("month", "1,5,9"), ("day", 1), ("hour", 6), ("minute", 0)),
            "06:00 on 1 January, 1 May and 1 September"),
    JobSpec("monthly_summary", "scheduler.jobs:monthly_summary", "cron",
            (("day", 1), ("hour", 6), ("minute", 0)), "06:00 on the first of each month"),
    JobSpec("workshop_summaries", "scheduler.jobs:workshop_summaries", "interval",
            (("minutes", 1),), "every minute"),
    JobSpec("deliver_outbox", "scheduler.jobs:deliver_outbox", "interval",
            (("minutes", 1),), "every minute"),
    JobSpec("manager_reminders", "scheduler.jobs:manager_reminders", "cron",
            (("hour", 7), ("minute", 0)), "07:00 every day"),
    JobSpec("unanswered_units", "scheduler.jobs:unanswered_units", "cron",
            (("hour", 7), ("minute", 5)), "07:05 every day"),
    # 03:30 exists exactly once on both daylight-saving days (02:00–03:00 is skipped in
    # March and repeated in October).
    JobSpec("retention", "scheduler.jobs:retention", "cron",
            (("hour", 3), ("minute", 30)), "03:30 every night"),
    JobSpec("purge_idempotency_keys", "scheduler.jobs:purge_idempotency_keys", "interval",
            (("hours", 1),), "every hour"),
    JobSpec("publish_anonymous", "scheduler.jobs:publish_anonymous", "cron",
            (("minute", 0),), "every full hour", zone="UTC"),
)


def _definition(job) -> tuple:
    """What makes two registrations of a job the same, whatever their next run time."""
    trigger = job.trigger
    if isinstance(trigger, IntervalTrigger):
        shape: tuple = ("interval", trigger.interval.total_seconds())
    else:
        shape = ("cron", str(trigger))
    return (job.func_ref, shape, str(trigger.timezone))


def sync_jobs(scheduler: BaseScheduler, timezone: str) -> None:
    """Bring the stored jobs in line with JOBS. An unchanged job keeps its stored next run time
    (so a run missed during downtime is still due); a changed one is replaced; one no longer
    defined is removed. Call it on a started (paused) scheduler, so the store is read."""
    wanted = {spec.id: spec for spec in JOBS}
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            log.info("removing job %s, no longer defined", stored.id)
            scheduler.remove_job(stored.id)
    for spec in JOBS:
        stored = scheduler.get_job(spec.id)
        trigger = spec.make_trigger(timezone)
        if stored is not None:
            probe = type("Probe", (), {"func_ref": spec.func, "trigger": trigger})
            if _definition(stored) == _definition(probe):
                continue
            log.info("job %s changed; replacing it", spec.id)
        scheduler.add_job(spec.func, trigger, id=spec.id, name=f"{spec.id} ({spec.when})",
                          replace_existing=True)


def build_scheduler(
    app: Flask, jobstore: BaseJobStore | None = None, max_workers: int = 4
) -> BackgroundScheduler:
    """A scheduler whose jobs run in ``app``; by default its jobs are kept in the app's database."""
    jobs.bind(app)
    if jobstore is None:
        from incidents.extensions import db

        with app.app_context():
            jobstore = SQLAlchemyJobStore(engine=db.engine)
    # The scheduler reckons "now" in UTC, which has no repeated hour; each cron job carries the
    # organisation's zone itself (JobSpec.make_trigger).
    return BackgroundScheduler(
        timezone="UTC",
        job_defaults=JOB_DEFAULTS,
        jobstores={"default": jobstore},
        executors={"default": ThreadPoolExecutor(max_workers)},
    )


def start(scheduler: BackgroundScheduler, app: Flask) -> None:
    """Start with the stored jobs brought up to date, and a status row for each (readiness
    checks them); missed runs are made at once."""
    from scheduler import heartbeat

    scheduler.start(paused=True)
    sync_jobs(scheduler, app.config["TIMEZONE"])
    heartbeat.register_jobs(app)
    scheduler.resume()
