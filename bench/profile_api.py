"""Where a request's time goes: the read, list and create of the API benchmark run in-process
(Flask's test client) under cProfile on the benchmark's demo data (docs/performance.md).

    .venv/bin/python -m bench.profile_api [--requests 300] [--scenario create]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from bench import api, harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scenario", choices=["read", "list", "create"], default="create")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="reuse the database if it is there")
    args = parser.parse_args()
    setup = api.prepare(10_000)
    os.environ.update(harness.service_environment(api.DATABASE))
    from wsgi import app

    client = app.test_client()
    token = setup["employee"] if args.scenario == "create" else setup["hr"]
    headers = {"Authorization": f"Bearer {token}"}

    def one(n: int):
        if args.scenario == "read":
            return client.get(f"/api/v1/incidents/{1 + n % 10_000}", headers=headers)
        if args.scenario == "list":
            return client.get("/api/v1/incidents?limit=50", headers=headers)
        return client.post("/api/v1/incidents", data=setup["body"], headers={
            **headers, "Content-Type": "application/json"})

    for n in range(20):
        assert one(n).status_code < 300
    profile = cProfile.Profile()
    started, cpu = time.perf_counter(), time.process_time()
    profile.enable()
    for n in range(args.requests):
        one(n)
    profile.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{args.scenario}: {1000 * wall / args.requests:.2f} ms wall, "
          f"{1000 * cpu / args.requests:.2f} ms CPU per request (under cProfile)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
    harness.drop_database(api.DATABASE)


if __name__ == "__main__":
    main()
