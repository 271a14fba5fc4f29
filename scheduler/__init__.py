"""The scheduler process: ``python -m scheduler``.

It runs apart from the web workers so that they can scale out without firing jobs twice
(APScheduler's job stores cannot be shared by several running schedulers). Each job runs in an
application context and commits once; jobs are idempotent.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from scheduler import jobs

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Register every job under a stable id, replacing an older definition."""
    scheduler.add_job(
        jobs.run_in_app,
        "interval",
        hours=1,
        args=[app, jobs.purge_idempotency_keys],
        id="purge_idempotency_keys",
        name="Forget Idempotency-Keys older than IDEMPOTENCY_TTL_HOURS",
        replace_existing=True,
    )
    scheduler.add_job(
        jobs.run_in_app,
        "interval",
        minutes=1,
        args=[app, jobs.deliver_outbox],
        id="deliver_outbox",
        name="Send the notification mails that are due",
        replace_existing=True,
    )


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"], job_defaults=JOB_DEFAULTS)
    add_jobs(scheduler, app)
    return scheduler
