"""python -m scheduler: run the scheduled jobs until stopped.

Start one per deployment (a second is harmless: it waits as a standby until the first one's
lease runs out). SIGTERM or Ctrl-C stops it after the running jobs finish; losing the lease
(the database was unreachable for longer than SCHEDULER_LEASE_SECONDS, and another process may
have taken over) stops it with exit status 1 so that the service manager restarts it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time

from incidents import create_app
from scheduler import build_scheduler, lease, start

log = logging.getLogger("scheduler")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app()
    holder = f"{socket.gethostname()}:{os.getpid()}"
    seconds = app.config["SCHEDULER_LEASE_SECONDS"]
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())

    def holds_lease() -> bool | None:
        """True if held (taken or renewed), False if another process holds it, None if the
        database could not be asked."""
        with app.app_context():
            try:
                return lease.acquire(holder, seconds)
            except Exception:
                log.exception("could not reach the database for the scheduler lease")
                return None

    waited = False
    while not holds_lease():
        if not waited:
            log.info("another scheduler holds the lease (or the database is away); waiting")
            waited = True
        if stopping.wait(seconds / 3):
            return 0
    log.info("scheduler %s holds the lease; starting jobs", holder)

    scheduler = build_scheduler(app)
    start(scheduler, app)
    status, renewed = 0, time.monotonic()
    while not stopping.wait(seconds / 3):
        held = holds_lease()
        if held:
            renewed = time.monotonic()
        # Taken over, or not renewed for a whole lease: another process may be running jobs.
        elif held is False or time.monotonic() - renewed >= seconds:
            log.error("lost the scheduler lease; stopping so that only one scheduler runs")
            status = 1
            break
    scheduler.shutdown(wait=True)
    if status == 0:
        with app.app_context():
            lease.release(holder)
    return status


if __name__ == "__main__":
    sys.exit(main())
