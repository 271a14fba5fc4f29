"""API benchmark: the service under gunicorn on PostgreSQL against a bare Flask JSON endpoint
served the same way, loaded by wrk from a separate process (docs/performance.md).

    .venv/bin/python -m bench.api [--seconds 10] [--connections 32,128]

Targets: creating an incident at least 30 % of the reference's throughput, reading
one and listing a page of 50 at least 50 %, p99 under 100 ms at 32 connections.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from datetime import UTC, datetime, timedelta

import psycopg

from bench import harness

DATABASE = "bench_api"
TARGETS = {"create": 0.30, "read": 0.50, "list": 0.50}
P99_LIMIT_MS = 100.0
P99_AT = 32


def prepare(incidents: int) -> dict[str, str]:
    """A migrated database with demo data, and what the load scripts need."""
    harness.fresh_database(DATABASE)
    out = harness.flask(DATABASE, "demo-data", "--units", "500", "--incidents", str(incidents))
    employee = re.search(r"(\S+) \(employee\)", out).group(1)
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        unit_id = connection.execute("SELECT unit_id FROM users WHERE email = %s",
                                     (employee,)).fetchone()[0]
    body = {
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds"),
        "unit_id": unit_id,
        "description": "Klienten sa att han vet var jag bor och att jag ska akta mig.",
        "location": "reception",
        "perpetrator": "client",
    }
    return {
        "hr": harness.flask(DATABASE, "tokens", "issue", "hr@demo.invalid", "--hours", "24")
        .strip(),
        "employee": harness.flask(DATABASE, "tokens", "issue", employee, "--hours", "24").strip(),
        "body": json.dumps(body),
        "ids": str(incidents),
    }


def count_incidents() -> int:
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        return connection.execute("SELECT count(*) FROM incidents").fetchone()[0]


def report(connections, reference, results) -> list[str]:
    """The table of results with ratios and verdicts; every run that saw errors."""
    print()
    print(f"{'scenario':10} {'conns':>5}  {'result':62} {'ratio':>7}  target")
    for clients in connections:
        print(f"{'reference':10} {clients:5}  {reference[clients].row():62} {'1.00':>7}")
    failures = []
    for (name, clients), load in results.items():
        ratio = load.per_second / reference[clients].per_second
        target = f">= {TARGETS[name]:.2f} {harness.verdict(ratio >= TARGETS[name])}"
        if clients == P99_AT:
            target += f"; p99 < {P99_LIMIT_MS:.0f} ms {harness.verdict(load.p99_ms < P99_LIMIT_MS)}"
        print(f"{name:10} {clients:5}  {load.row():62} {ratio:7.2f}  {target}")
        if load.not_2xx or load.socket_errors:
            failures.append(f"{name} at {clients}: {load.not_2xx} non-2xx answers, "
                            f"{load.socket_errors} socket errors")
    for load in reference.values():
        if load.not_2xx or load.socket_errors:
            failures.append(f"reference: {load.not_2xx} non-2xx, {load.socket_errors} errors")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measured run")
    parser.add_argument("--warm-up", type=int, default=2, help="seconds before each run")
    parser.add_argument("--connections", default="32,128")
    parser.add_argument("--incidents", type=int, default=10_000, help="demo incidents to read")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]
    serving = harness.Serving(args.workers, args.threads)
    print(f"machine: {harness.machine()}; serving: {serving.describe()}; wrk 2 threads, "
          f"{args.seconds} s per run after {args.warm_up} s warm-up")

    setup = prepare(args.incidents)
    scenarios = {
        "read": {"BENCH_TOKEN": setup["hr"], "BENCH_IDS": setup["ids"],
                 "BENCH_PATH": "/api/v1/incidents/"},
        "list": {"BENCH_TOKEN": setup["hr"], "BENCH_PATH": "/api/v1/incidents?limit=50"},
        "create": {"BENCH_TOKEN": setup["employee"], "BENCH_METHOD": "POST",
                   "BENCH_PATH": "/api/v1/incidents", "BENCH_BODY": setup["body"]},
    }

    def measure(base: str, env: dict[str, str], clients: int) -> harness.Load:
        harness.wrk(base, clients, args.warm_up, env)
        return harness.wrk(base, clients, args.seconds, env)

    reference: dict[int, harness.Load] = {}
    reference_env = {"BENCH_PATH": "/api/v1/reference"}
    with harness.gunicorn("bench.reference_app:app", serving, dict(os.environ),
                          "/api/v1/reference") as server:
        for clients in connections:
            reference[clients] = measure(server.base, reference_env, clients)

    results: dict[tuple[str, int], harness.Load] = {}
    before = count_incidents()
    with harness.gunicorn("wsgi:app", serving, harness.service_environment(DATABASE),
                          "/api/v1/categories") as server:
        base = server.base
        bearer = {"Authorization": f"Bearer {setup['hr']}"}
        harness.check_once(base + "/api/v1/incidents/1", headers=bearer)
        harness.check_once(base + "/api/v1/incidents?limit=50", headers=bearer)
        harness.check_once(base + "/api/v1/incidents", "POST", body=setup["body"], headers={
            "Authorization": f"Bearer {setup['employee']}", "Content-Type": "application/json"})
        for name, env in scenarios.items():
            for clients in connections:
                results[name, clients] = measure(base, env, clients)
    created = count_incidents() - before

    failures = report(connections, reference, results)
    # wrk counts the requests it completed; each 201 must be a row (warm-up runs included).
    print(f"\nincidents written during the create runs: {created}")
    for failure in failures:
        print(f"ERROR: {failure}")
    harness.drop_database(DATABASE)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
