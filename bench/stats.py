"""Statistics benchmark: `/api/v1/stats/incidents` grouped by unit, form and month over three
years of demo data (500 units), against the equivalent GROUP BY run directly in PostgreSQL
(docs/performance.md).

    .venv/bin/python -m bench.stats [--incidents 1000000] [--small 100000] [--repeat 5] [--keep]

Targets: the demo data loaded in under 60 s; the API within 1.5x the reference; the
serving worker's peak memory growth under 200 MB; time from the small to the large data set
growing no faster than the number of incidents; every published cell of the API equal to the
reference's counts rolled up to the API's rows.
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


def reference_seconds(name: str, repeat: int) -> tuple[float, list[tuple]]:
    with psycopg.connect(harness.database_url(name)) as connection:
        rows: list[tuple] = []

        def run():
            nonlocal rows
            rows = connection.execute(REFERENCE, {"start": START, "end": UNTIL}).fetchall()

        run()  # warm the cache, as the API's first call does below
        return harness.median_seconds(run, repeat)[0], rows


def disagreements(name: str, body: dict, reference: list[tuple]) -> tuple[int, int]:
    """The API's published cells that differ from the reference's counts rolled up by hand
    to the API's rows (each unit to the selected unit's sub-unit above it), and the cells
    compared. Suppressed cells are not compared; a cell the API leaves out must be 0."""
    with psycopg.connect(harness.database_url(name)) as connection:
        parent = dict(connection.execute("SELECT id, parent_id FROM units").fetchall())
    selected = {unit["unit_id"] for unit in body["filters"]["units"]}

    def row_of(unit: int) -> int:
        while unit not in selected and parent[unit] not in selected:
            unit = parent[unit]
        return unit

    expected: dict[tuple, int] = {}
    for month, unit, category, count in reference:
        key = (row_of(unit), category, month)
        expected[key] = expected.get(key, 0) + count
    wrong = compared = 0
    for row in body["rows"]:
        key = (row["unit_id"], row["category"], row["month"])
        if not row["suppressed"]:
            compared += 1
            wrong += row["count"] != expected.get(key, 0)
        expected.pop(key, None)
    return wrong + sum(1 for n in expected.values() if n), compared


def load_reference_seconds(name: str) -> float:
    with psycopg.connect(harness.database_url(name)) as connection:
        started = time.perf_counter()
        for statement in LOAD_REFERENCE.split("; "):
            connection.execute(statement)
        return time.perf_counter() - started


def api_seconds(name: str, repeat: int) -> tuple[float, float, dict]:
    """The median time of the request, the worker's peak memory growth in MB, the answer."""
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

    return median, max(0, peak - before) / 1024, json.loads(body)


def measure(incidents: int, repeat: int, keep: bool = False) -> dict[str, float]:
    name = f"bench_stats_{incidents}"
    print(f"{incidents} incidents:")
    load = harness.load_demo(name, incidents, UNTIL.isoformat())
    load_reference = load_reference_seconds(name)
    api, memory, body = api_seconds(name, repeat)
    reference, reference_rows = reference_seconds(name, repeat)
    wrong, compared = disagreements(name, body, reference_rows)
    if not keep:
        harness.drop_database(name)
    print(f"  load {load:6.1f} s (PostgreSQL copying the same rows into bare tables: "
          f"{load_reference:.1f} s)")
    print(f"  api {api * 1000:8.1f} ms ({len(body['rows'])} rows); reference GROUP BY "
          f"{reference * 1000:8.1f} ms ({len(reference_rows)} rows); ratio "
          f"{api / reference:.2f}; worker peak memory growth {memory:.1f} MB")
    print(f"  the API's cells against the reference rolled up to its rows: {compared} "
          f"compared, {wrong} differ")
    return {"load": load, "api": api, "reference": reference, "memory": memory,
            "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true",
                        help="keep the databases (bench_stats_N) for profiling afterwards")
    args = parser.parse_args()
    print(f"machine: {harness.machine()}; period {START} to {UNTIL}, 500 units; "
          f"median of {args.repeat} requests after one warm-up")
    small = measure(args.small, args.repeat, args.keep)
    large = measure(args.incidents, args.repeat, args.keep)
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
    wrong = small["wrong"] + large["wrong"]
    print(f"cells that differ from the reference: {wrong}, target 0: {harness.verdict(not wrong)}")


if __name__ == "__main__":
    main()
