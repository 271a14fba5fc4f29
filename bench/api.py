"""API benchmark: the service under gunicorn on PostgreSQL against two references served the
same way, a bare Flask JSON endpoint and the plain peer (a minimal Flask-SQLAlchemy + marshmallow
service, bench/peer_app.py), loaded by wrk from a separate process (docs/performance.md).

    .venv/bin/python -m bench.api [--rounds 3] [--seconds 10] [--connections 32,128]

The three are measured in alternating rounds (reference, peer, service for each scenario in
turn), because this machine is shared and one round can swing 2×; every ratio is printed as the
minimum and the median over the rounds.

Targets: creating an incident at least the peer's throughput; reading one at least 25 % of the
bare endpoint and at least the peer's; a page of 50 at least 15 % of the bare endpoint; p99
under 100 ms at 32 connections; a worker under 120 MB RSS after the runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
from datetime import UTC, datetime, timedelta

import psycopg

from bench import harness

DATABASE = "bench_api"
PEER_DATABASE = "bench_peer"
# Of the bare endpoint's throughput, and of the peer's.
TARGETS = {"create": 0.0, "read": 0.25, "list": 0.15}
PEER_TARGETS = {"create": 1.0, "read": 1.0}
P99_LIMIT_MS = 100.0
P99_AT = 32
RSS_LIMIT_MB = 120


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


def prepare_peer(rows: int) -> None:
    """The peer's database, seeded with as many rows as the service's."""
    with psycopg.connect(f"{harness.SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PEER_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{PEER_DATABASE}"')
    harness.run_cli("bench.peer_app", peer_environment(), "seed", str(rows))


def peer_environment() -> dict[str, str]:
    url = harness.database_url(PEER_DATABASE).replace("postgresql://", "postgresql+psycopg://")
    return {**os.environ, "PEER_DATABASE_URL": url}


def _summary(values: list[float]) -> str:
    return f"min {min(values):6.2f}  median {statistics.median(values):6.2f}"


def report(connections, rounds) -> list[str]:
    """Per round, every run; then each ratio's minimum and median over the rounds, with the
    verdicts; every run that saw errors."""
    failures = []
    print()
    print(f"{'round':5} {'scenario':8} {'conns':>5}  {'app':9} {'result':62}")
    for number, results in enumerate(rounds, 1):
        for (app, name, clients), load in results.items():
            print(f"{number:5} {name:8} {clients:5}  {app:9} {load.row():62}")
            if load.not_2xx or load.socket_errors:
                failures.append(f"round {number}, {app} {name} at {clients}: {load.not_2xx} "
                                f"non-2xx answers, {load.socket_errors} socket errors")
    print()
    print(f"{'scenario':8} {'conns':>5}  {'ratio':24} {'min / median over rounds':34} target")
    median = statistics.median

    def ratios(app: str, against: str, name: str, clients: int) -> list[float]:
        return [r[app, name, clients].per_second / r[against, name, clients].per_second
                for r in rounds]

    for name in ("create", "read", "list"):
        for clients in connections:
            service_bare = ratios("service", "reference", name, clients)
            service_peer = ratios("service", "peer", name, clients)
            peer_bare = ratios("peer", "reference", name, clients)
            verdict = ""
            if TARGETS[name]:
                met = median(service_bare) >= TARGETS[name]
                verdict = f">= {TARGETS[name]:.2f} {harness.verdict(met)}"
            print(f"{name:8} {clients:5}  {'service / bare Flask':24} "
                  f"{_summary(service_bare):34} {verdict}")
            verdict = ""
            if name in PEER_TARGETS:
                met = median(service_peer) >= PEER_TARGETS[name]
                verdict = f">= {PEER_TARGETS[name]:.2f} {harness.verdict(met)}"
            print(f"{name:8} {clients:5}  {'service / peer':24} {_summary(service_peer):34} "
                  f"{verdict}")
            print(f"{name:8} {clients:5}  {'peer / bare Flask':24} {_summary(peer_bare):34}")
    print()
    print(f"p99 at {P99_AT} connections, ms (min / median / max over rounds; target "
          f"< {P99_LIMIT_MS:.0f} ms for the service):")
    for name in ("create", "read", "list"):
        for app in ("reference", "peer", "service"):
            if (app, name, P99_AT) not in rounds[0]:
                continue
            p99 = [r[app, name, P99_AT].p99_ms for r in rounds]
            verdict = (harness.verdict(statistics.median(p99) < P99_LIMIT_MS)
                       if app == "service" else "")
            print(f"  {name:8} {app:9} {min(p99):8.1f} {statistics.median(p99):8.1f} "
                  f"{max(p99):8.1f}  {verdict}")
    return failures


def worker_rss_mb(server: harness.Server) -> list[float]:
    return [harness.memory_kb(pid)["VmRSS"] / 1024 for pid in server.worker_pids()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds, at least 3")
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
          f"{args.seconds} s per run after {args.warm_up} s warm-up; {args.rounds} rounds")

    setup = prepare(args.incidents)
    prepare_peer(args.incidents)
    service = {
        "read": {"BENCH_TOKEN": setup["hr"], "BENCH_IDS": setup["ids"],
                 "BENCH_PATH": "/api/v1/incidents/"},
        "list": {"BENCH_TOKEN": setup["hr"], "BENCH_PATH": "/api/v1/incidents?limit=50"},
        "create": {"BENCH_TOKEN": setup["employee"], "BENCH_METHOD": "POST",
                   "BENCH_PATH": "/api/v1/incidents", "BENCH_BODY": setup["body"]},
    }
    peer = {
        "read": {"BENCH_IDS": setup["ids"], "BENCH_PATH": "/api/v1/incidents/"},
        "list": {"BENCH_PATH": "/api/v1/incidents"},
        "create": {"BENCH_METHOD": "POST", "BENCH_PATH": "/api/v1/incidents",
                   "BENCH_BODY": setup["body"]},
    }
    bare = {"BENCH_PATH": "/api/v1/reference"}

    def measure(base: str, env: dict[str, str], clients: int) -> harness.Load:
        harness.wrk(base, clients, args.warm_up, env)
        return harness.wrk(base, clients, args.seconds, env)

    rounds: list[dict[tuple[str, str, int], harness.Load]] = []
    before = count_incidents()
    with contextlib.ExitStack() as stack:
        reference = stack.enter_context(harness.gunicorn(
            "bench.reference_app:app", serving, dict(os.environ), "/api/v1/reference"))
        peer_server = stack.enter_context(harness.gunicorn(
            "bench.peer_app:app", serving, peer_environment(), "/api/v1/incidents/1"))
        server = stack.enter_context(harness.gunicorn(
            "wsgi:app", serving, harness.service_environment(DATABASE), "/api/v1/categories"))
        base = server.base
        bearer = {"Authorization": f"Bearer {setup['hr']}"}
        harness.check_once(base + "/api/v1/incidents/1", headers=bearer)
        harness.check_once(base + "/api/v1/incidents?limit=50", headers=bearer)
        harness.check_once(base + "/api/v1/incidents", "POST", body=setup["body"], headers={
            "Authorization": f"Bearer {setup['employee']}", "Content-Type": "application/json"})
        harness.check_once(peer_server.base + "/api/v1/incidents", "POST", body=setup["body"],
                           headers={"Content-Type": "application/json"})
        for number in range(args.rounds):
            results: dict[tuple[str, str, int], harness.Load] = {}
            for name in ("create", "read", "list"):
                for clients in connections:
                    results["reference", name, clients] = measure(reference.base, bare, clients)
                    results["peer", name, clients] = measure(peer_server.base, peer[name],
                                                             clients)
                    results["service", name, clients] = measure(base, service[name], clients)
            rounds.append(results)
            print(f"round {number + 1} of {args.rounds} done", flush=True)
        rss = {"reference": worker_rss_mb(reference), "peer": worker_rss_mb(peer_server),
               "service": worker_rss_mb(server)}
    created = count_incidents() - before

    failures = report(connections, rounds)
    print("\nworker RSS after the runs, MB (each worker):")
    for app, sizes in rss.items():
        verdict = (f"  target < {RSS_LIMIT_MB} MB {harness.verdict(max(sizes) < RSS_LIMIT_MB)}"
                   if app == "service" else "")
        print(f"  {app:9} " + " ".join(f"{size:6.1f}" for size in sizes) + verdict)
    # wrk counts the requests it completed; each 201 must be a row (warm-up runs included).
    print(f"\nincidents written during the create runs: {created}")
    for failure in failures:
        print(f"ERROR: {failure}")
    harness.drop_database(DATABASE)
    harness.drop_database(PEER_DATABASE)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
