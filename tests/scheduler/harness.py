"""The real APScheduler under a controlled clock.

freezegun sets the time; the scheduler's own thread is woken after each move and the harness
waits (in real time) until every job that is due has run. Jobs run one at a time, in a worker
thread of the scheduler's executor, exactly as in production otherwise.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
)
from apscheduler.jobstores.memory import MemoryJobStore

from scheduler import build_scheduler, sync_jobs


@dataclass
class Fired:
    job_id: str
    scheduled: datetime  # the run time the scheduler fired it for (UTC)
    at: datetime  # the (frozen) time it ran
    outcome: str  # executed, error or missed
    result: object = None


class SchedulerUnderTest:
    def __init__(self, app, freezer, jobstore="memory"):
        self.app = app
        self.freezer = freezer
        # In memory unless a store is given (None: the application database's, as in
        # production).
        store = MemoryJobStore() if jobstore == "memory" else jobstore
        self.scheduler = build_scheduler(app, jobstore=store, max_workers=1)
        self.fired: list[Fired] = []
        self._lock = threading.Lock()
        self.scheduler.add_listener(
            self._on_event,
            EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED,
        )

    def _on_event(self, event) -> None:
        with self._lock:
            outcome = {EVENT_JOB_EXECUTED: "executed", EVENT_JOB_ERROR: "error",
                       EVENT_JOB_MISSED: "missed"}[event.code]
            self.fired.append(Fired(event.job_id, event.scheduled_run_time.astimezone(UTC),
                                    datetime.now(UTC), outcome,
                                    getattr(event, "exception", None) or event.retval))

    def start(self, due: tuple[str, ...] = (), paused: bool = False) -> SchedulerUnderTest:
        """Start with the jobs synced; ``due`` jobs are made due at once."""
        self.scheduler.start(paused=True)
        sync_jobs(self.scheduler, self.app.config["TIMEZONE"])
        for job_id in due:
            self.scheduler.modify_job(job_id, next_run_time=datetime.now(UTC))
        if not paused:
            self.resume()
        return self

    def resume(self) -> None:
        self.scheduler.resume()
        self.settle()

    def advance_to(self, moment: datetime) -> None:
        self.freezer.move_to(moment)
        self.scheduler.wakeup()
        self.settle()

    def settle(self, rounds: int = 6000) -> None:
        """Wait until nothing is due and every submitted run has finished."""
        for _ in range(rounds):
            now = datetime.now(UTC)
            due = [job for job in self.scheduler.get_jobs()
                   if job.next_run_time is not None and job.next_run_time <= now]
            # Then the runs in flight. The scheduler submits a run (the executor counts it)
            # before it moves the job's next run time on, so a job seen not due above is
            # counted here until it has finished. (The SUBMITTED event comes too late.)
            executor = self.scheduler._lookup_executor("default")
            with executor._lock:
                idle = not any(executor._instances.values())
            if idle and not due:
                return
            time.sleep(0.005)
        raise AssertionError(
            f"the scheduler did not settle at {now}: idle {idle}, due "
            f"{[(job.id, job.next_run_time) for job in due]}")

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)

    def runs(self, job_id: str, outcome: str = "executed") -> list[Fired]:
        return [f for f in self.fired if f.job_id == job_id and f.outcome == outcome]

    def errors(self) -> list[Fired]:
        return [f for f in self.fired if f.outcome == "error"]
