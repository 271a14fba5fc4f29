"""Scheduler benchmark: the tertial summary the scheduler makes on 1 May, 1 September and
1 January, for an organisation of 500 units with 1,000,000 incidents (docs/performance.md).

    .venv/bin/python -m bench.summary [--incidents 1000000]

It runs what the scheduler's job runs (`flask summaries run`, one summary per organisation and
förvaltning with every table in CSV and XLSX and both charts, in Swedish and English). The
reference is the GROUP BY behind the summary's main table, run directly in PostgreSQL.
Target: under 60 s.
"""

from __future__ import annotations

import argparse
import re
import time

import psycopg

from bench import harness
from bench.stats import REFERENCE

DATABASE = "bench_summary"
UNTIL = "2026-10-31"
PERIOD = "2026-T2"  # May–August 2026: ended, inside the three demo years
PERIOD_DAYS = ("2026-05-01", "2026-08-31")
LIMIT_S = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"machine: {harness.machine()}; {args.incidents} incidents over 500 units, "
          f"tertial {PERIOD}")
    harness.load_demo(DATABASE, args.incidents, UNTIL)

    started = time.perf_counter()
    harness.flask(DATABASE, "summaries", "list")
    start_up = time.perf_counter() - started

    started = time.perf_counter()
    out = harness.flask(DATABASE, "summaries", "run", "--kind", "tertial", "--period", PERIOD)
    seconds = time.perf_counter() - started
    made = re.findall(r"^made \d+", out, re.MULTILINE)

    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        files = connection.execute("SELECT count(*) FROM summary_files").fetchone()[0]
        size = connection.execute(
            "SELECT coalesce(sum(size), 0) FROM summary_files").fetchone()[0]
        started = time.perf_counter()
        connection.execute(REFERENCE, {"start": PERIOD_DAYS[0], "end": PERIOD_DAYS[1]}).fetchall()
        reference = time.perf_counter() - started
    harness.drop_database(DATABASE)

    print(f"\nsummaries made: {len(made)} (organisation and förvaltningar), {files} files, "
          f"{size / 1e6:.1f} MB")
    print(f"summaries run: {seconds:.1f} s (of which process start-up {start_up:.1f} s); "
          f"reference GROUP BY of the tertial {reference:.2f} s; ratio {seconds / reference:.0f}")
    print(f"target < {LIMIT_S:.0f} s: {harness.verdict(seconds < LIMIT_S)}")


if __name__ == "__main__":
    main()
