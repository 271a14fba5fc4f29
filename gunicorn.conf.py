"""gunicorn's settings file, read from the working directory by `gunicorn wsgi:app`.

The hooks that Prometheus's multiprocess mode needs (docs/operations.md, "Metrics"); they
do nothing unless PROMETHEUS_MULTIPROC_DIR is set. And the access log's logger class, which
keeps no client on the anonymous channel. Every other setting stays on the command line.
"""

import os
from pathlib import Path

# The access log without the client's address, time, user agent or forwarded headers on the
# anonymous channel (incidents/gunicorn_logging.py; docs/operations.md, "Web workers").
logger_class = "incidents.gunicorn_logging.AnonymousChannelLogger"


def on_starting(server):
    """Start from an empty PROMETHEUS_MULTIPROC_DIR: files left by an earlier run would be
    added to this one's counts."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        for stale in Path(directory).glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    """A worker that exited no longer counts in the gauges of live workers (the pool)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
