"""The loop of ``python -m scheduler``: wait for the lease, start the jobs, then every third of
SCHEDULER_LEASE_SECONDS renew the lease and write the heartbeat, until told to stop.

It cannot die quietly: if its job scheduler's thread has stopped, if another process took the
lease, or if the lease could not be renewed for a whole lease (the database was away), it
stops with exit status 1 for the service manager to restart it; meanwhile its heartbeat ages,
and readiness and the metrics say so (docs/operations.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from incidents.clock import utcnow
from scheduler import build_scheduler, heartbeat, lease, start

log = logging.getLogger("scheduler")


class Runner:
    def __init__(self, app: Flask, holder: str, stopping: threading.Event,
                 build: Callable[[Flask], BackgroundScheduler] = build_scheduler) -> None:
        self.app = app
        self.holder = holder  # host:pid
        self.stopping = stopping
        self.build = build
        self.seconds = app.config["SCHEDULER_LEASE_SECONDS"]
        self.scheduler: BackgroundScheduler | None = None
        self.started_at = None
        self.renewed = 0.0

    def run(self) -> int:
        """0 when stopped (SIGTERM, Ctrl-C), 1 when it had to stop."""
        if not self.wait_for_lease():
            return 0
        self.start()
        status = 0
        while not self.stopping.wait(self.seconds / 3):
            if not self.renew():
                status = 1
                break
        self.stop(status)
        return status

    def holds_lease(self) -> bool | None:
        """True if held (taken or renewed), False if another process holds it, None if the
        database could not be asked."""
        with self.app.app_context():
            try:
                return lease.acquire(self.holder, self.seconds)
            except Exception:
                log.exception("could not reach the database for the scheduler lease")
                return None

    def wait_for_lease(self) -> bool:
        """Wait as a standby until the lease is ours; False if told to stop meanwhile."""
        waited = False
        while not self.holds_lease():
            if not waited:
                log.info("another scheduler holds the lease (or the database is away); waiting")
                waited = True
            if self.stopping.wait(self.seconds / 3):
                return False
        log.info("scheduler %s holds the lease; starting jobs", self.holder)
        return True

    def start(self) -> None:
        self.scheduler = self.build(self.app)
        start(self.scheduler, self.app)
        self.started_at = utcnow()
        self.renewed = time.monotonic()
        self.beat()
        log.info("scheduler %s runs its jobs; heartbeat every %d s", self.holder,
                 self.seconds // 3)

    def jobs_running(self) -> bool:
        """Whether the job scheduler's thread is alive (APScheduler keeps it as _thread)."""
        thread = getattr(self.scheduler, "_thread", None)
        return bool(self.scheduler and self.scheduler.running and thread and thread.is_alive())

    def beat(self) -> None:
        with self.app.app_context():
            try:
                heartbeat.beat(self.holder, self.started_at)
            except Exception:
                log.exception("could not write the scheduler heartbeat")

    def renew(self) -> bool:
        """One turn: the heartbeat while the jobs run and the lease is renewed. False when
        the scheduler must stop (exit status 1)."""
        if not self.jobs_running():
            log.error("the job scheduler's thread has stopped; exiting so that the service "
                      "manager restarts the scheduler")
            return False
        held = self.holds_lease()
        if held:
            self.renewed = time.monotonic()
            self.beat()
        # Taken over, or not renewed for a whole lease: another process may be running jobs.
        elif held is False or time.monotonic() - self.renewed >= self.seconds:
            log.error("lost the scheduler lease; stopping so that only one scheduler runs")
            return False
        return True

    def stop(self, status: int) -> None:
        """Let the running jobs finish; on a clean stop, mark the heartbeat stopped and free
        the lease so that a standby takes over at once."""
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if status != 0:
            return
        with self.app.app_context():
            try:
                heartbeat.stopped(self.holder)
            except Exception:
                log.exception("could not mark the scheduler heartbeat stopped")
            lease.release(self.holder)
