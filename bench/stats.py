"""Statistics benchmark: `/api/v1/stats/incidents` grouped by unit, form and month over three
years of demo data (500 units), against the equivalent GROUP BY run directly in PostgreSQL
(docs/performance.md).

    .venv/bin/python -m bench.stats [--incidents 1000000] [--small 100000] [--repeat 5]

Targets: the demo data loaded in under 60 s; the API within 1.5x the reference; the
serving worker's peak memory growth under 200 MB; time from the small to the large data set
growing no faster than the number of incidents.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import psycopg

from bench import harness

UNTIL = date(2026, 10, 31)
START = date(UNTIL.year - 3, UNTIL.month, UNTIL.day) + timedelta(days=1)
LOAD_LIMIT_S = 60.0
RATIO_LIMIT = 1.5
MEMORY_LIMIT_MB = 200.0

# The same counting the service asks of the database, written directly: incidents per local
# month, unit and form over the period, every row fetched.
REFERENCE = """
SELECT to_char(i.occurred_at AT TIME ZONE 'Europe/Stockholm', 'YYYY-MM') AS month,
       i.unit_id, f.category, count(*)
FROM incidents i JOIN incident_forms f ON f.incident_id = i.id
WHERE i.occurred_at >= (%(start)s::date::timestamp AT TIME ZONE 'Europe/Stockholm')
  AND i.occurred_at < ((%(end)s::date + 1)::timestamp AT TIME ZONE 'Europe/Stockholm')
GROUP BY 1, 2, 3
"""
# The reference of the load: PostgreSQL copying the loaded rows into plain tables, with no
# index, key or check to keep.
LOAD_REFERENCE = ("CREATE TEMP TABLE copy_i AS SELECT * FROM incidents; "
                  "CREATE TEMP TABLE copy_f AS SELECT * FROM incident_forms")


def reference_seconds(name: str, repeat: int) -> tuple[float, int]:
    with psycopg.connect(harness.database_url(name)) as connection:
        rows = 0

        def run():
            nonlocal rows
            rows = len(connection.execute(REFERENCE, {"start": START, "end": UNTIL}).fetchall())

        run()  # warm the cache, as the API's first call does below
        return harness.median_seconds(run, repeat)[0], rows


def load_reference_seconds(name: str) -> float:
    with psycopg.connect(harness.database_url(name)) as connection:
        started = time.perf_counter()
        for statement in LOAD_REFERENCE.split("; "):
            connection.execute(statement)
        return time.perf_counter() - started


def api_seconds(name: str, repeat: int) -> tuple[float, float, int]:
    """The median time of the request, the worker's peak memory growth in MB, the rows."""
    token = harness.flask(name, "tokens", "issue", f"hr@{'demo.invalid'}").strip()
    headers = {"Authorization": f"Bearer {token}"}
    path = (f"/api/v1/stats/incidents?group_by=unit,category,month&from={START}&to={UNTIL}")
    serving = harness.Serving(workers=1, threads=1)
    with harness.gunicorn("wsgi:app", serving, harness.service_environment(name),
                          "/api/v1/categories") as server:
        (worker,) = server.worker_pids()
        harness.fetch(server.base + "/api/v1/me", headers)
        before = harness.memory_kb(worker)["VmRSS"]
        body = harness.fetch(server.base + path, headers)
        median, _ = harness.median_seconds(lambda: harness.fetch(server.base + path, headers),
                                           repeat)
        peak = harness.memory_kb(worker)["VmHWM"]
    import json

    rows = len(json.loads(body)["rows"])
    return median, max(0, peak - before) / 1024, rows


def measure(incidents: int, repeat: int) -> dict[str, float]:
    name = f"bench_stats_{incidents}"
    print(f"{incidents} incidents:")
    load = harness.load_demo(name, incidents, UNTIL.isoformat())
    load_reference = load_reference_seconds(name)
    api, memory, api_rows = api_seconds(name, repeat)
    reference, reference_rows = reference_seconds(name, repeat)
    harness.drop_database(name)
    print(f"  load {load:6.1f} s (PostgreSQL copying the same rows into bare tables: "
          f"{load_reference:.1f} s)")
    print(f"  api {api * 1000:8.1f} ms ({api_rows} rows); reference GROUP BY "
          f"{reference * 1000:8.1f} ms ({reference_rows} rows); ratio {api / reference:.2f}; "
          f"worker peak memory growth {memory:.1f} MB")
    return {"load": load, "api": api, "reference": reference, "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {harness.machine()}; period {START} to {UNTIL}, 500 units; "
          f"median of {args.repeat} requests after one warm-up")
    small = measure(args.small, args.repeat)
    large = measure(args.incidents, args.repeat)
    growth = large["api"] / small["api"]
    size = args.incidents / args.small
    ratio = large["api"] / large["reference"]
    print()
    print(f"load of {args.incidents}: {large['load']:.1f} s, target < {LOAD_LIMIT_S:.0f} s: "
          f"{harness.verdict(large['load'] < LOAD_LIMIT_S)}")
    print(f"api / reference at {args.incidents}: {ratio:.2f}, target <= {RATIO_LIMIT}: "
          f"{harness.verdict(ratio <= RATIO_LIMIT)}")
    print(f"worker peak memory growth: {large['memory']:.1f} MB, target < {MEMORY_LIMIT_MB:.0f}"
          f" MB: {harness.verdict(large['memory'] < MEMORY_LIMIT_MB)}")
    print(f"time {args.small} -> {args.incidents}: x{growth:.2f} for x{size:.0f} the incidents "
          f"(reference x{large['reference'] / small['reference']:.2f}), target no faster than "
          f"linear: {harness.verdict(growth <= size)}")


if __name__ == "__main__":
    main()
