"""A scheduler process under a controlled clock, for tests that need real separate processes
on a database of their own (tests/scheduler/test_processes.py).

    python -m tests.scheduler.driver seed
    python -m tests.scheduler.driver run --start ISO [--advance ISO ...] [--due JOB ...]
                                         [--store sql|memory] [--barrier PATH]

``run`` starts the scheduler of `python -m scheduler` (the SQLAlchemy job store in the
database by default) with the clock frozen at --start, moves it to each --advance, and prints
one JSON line per job run. With --barrier it waits, paused, until that file exists, so two
processes can be made to fire at the same moment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

# Before any clock is frozen: the service imports pandas lazily, and its C extensions must not
# initialise while freezegun has replaced datetime.
import pandas  # noqa: F401
from freezegun import freeze_time


def seed() -> None:
    from incidents import create_app
    from incidents.extensions import db
    from tests.factories import Factory, build_org

    app = create_app()
    with app.app_context():
        build_org(Factory(app, db.session))
        db.session.commit()


def run(args) -> None:
    from incidents import create_app
    from tests.scheduler.harness import SchedulerUnderTest

    app = create_app()
    with freeze_time(datetime.fromisoformat(args.start)) as freezer:
        store = "memory" if args.store == "memory" else None
        running = SchedulerUnderTest(app, freezer, jobstore=store)
        running.start(due=tuple(args.due), paused=True)
        if args.barrier:
            print(json.dumps({"ready": True}), flush=True)
            while not Path(args.barrier).exists():
                time.sleep(0.01)
        try:
            running.resume()
            for moment in args.advance:
                running.advance_to(datetime.fromisoformat(moment))
        finally:
            running.stop()
    for fired in running.fired:
        print(json.dumps({"job": fired.job_id, "scheduled": fired.scheduled.isoformat(),
                          "at": fired.at.isoformat(), "outcome": fired.outcome,
                          "result": repr(fired.result)}), flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seed")
    running = commands.add_parser("run")
    running.add_argument("--start", required=True)
    running.add_argument("--advance", action="append", default=[])
    running.add_argument("--due", action="append", default=[])
    running.add_argument("--store", choices=["sql", "memory"], default="sql")
    running.add_argument("--barrier")
    args = parser.parse_args(argv)
    seed() if args.command == "seed" else run(args)


if __name__ == "__main__":
    main(sys.argv[1:])
