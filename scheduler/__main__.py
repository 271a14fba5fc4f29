"""python -m scheduler: run the scheduled jobs until stopped.

Start one per deployment (a second is harmless: it waits as a standby until the first one's
lease runs out). SIGTERM or Ctrl-C stops it after the running jobs finish; losing the lease
(the database was unreachable for longer than SCHEDULER_LEASE_SECONDS, and another process may
have taken over) or its job scheduler's thread stops it with exit status 1 so that the service
manager restarts it (scheduler/runner.py).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading

from incidents import create_app
from scheduler.runner import Runner


def main() -> int:
    json_logs = (os.environ.get("LOG_FORMAT") or "text").strip().lower() == "json"
    if not json_logs:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app()  # with LOG_FORMAT=json, its JSON handler goes on the root logger
    logging.getLogger().setLevel(logging.INFO)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    return Runner(app, holder, stopping).run()


if __name__ == "__main__":
    sys.exit(main())
