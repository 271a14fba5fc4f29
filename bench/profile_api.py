"""Where a request's time goes: the read, list and create of the API benchmark run in-process
(Flask's test client) under cProfile on the benchmark's demo data (docs/performance.md).

    .venv/bin/python -m bench.profile_api [--requests 300] [--scenario create]
    .venv/bin/python -m bench.profile_api --cpu    # CPU per request, service and peer, no profiler

With ``--cpu`` every scenario runs without the profiler, in the service and in the plain peer
(bench/peer_app.py) on a database of its own with as many rows, one after the other in the same
process, and the CPU time per request of each is printed with their ratio: a figure that moves
far less on a shared machine than the throughput under load.
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
    parser.add_argument("--cpu", action="store_true",
                        help="CPU per request of the service and the peer, without the profiler")
    args = parser.parse_args()
    setup = api.prepare(10_000)
    if args.cpu:
        compare_cpu(setup, args.requests)
        return
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


def compare_cpu(setup: dict[str, str], requests: int) -> None:
    """Each scenario in the service and in the peer, in this process: CPU and wall time per
    request, after 30 requests of warm-up."""
    api.prepare_peer(10_000)
    os.environ.update(harness.service_environment(api.DATABASE))
    os.environ.update(api.peer_environment())
    from bench.peer_app import app as peer_app
    from wsgi import app

    service, peer = app.test_client(), peer_app.test_client()
    hr = {"Authorization": f"Bearer {setup['hr']}"}
    employee = {"Authorization": f"Bearer {setup['employee']}",
                "Content-Type": "application/json"}
    json_body = {"Content-Type": "application/json"}
    scenarios = {
        "read": (lambda n: service.get(f"/api/v1/incidents/{1 + n % 10_000}", headers=hr),
                 lambda n: peer.get(f"/api/v1/incidents/{1 + n % 10_000}")),
        "list": (lambda n: service.get("/api/v1/incidents?limit=50", headers=hr),
                 lambda n: peer.get("/api/v1/incidents")),
        "create": (lambda n: service.post("/api/v1/incidents", data=setup["body"],
                                          headers=employee),
                   lambda n: peer.post("/api/v1/incidents", data=setup["body"],
                                       headers=json_body)),
    }

    def per_request(one) -> tuple[float, float]:
        for n in range(30):
            answer = one(n)
            if answer.status_code >= 300:
                raise SystemExit(f"answered {answer.status_code}: {answer.get_data()[:300]!r}")
        cpu, wall = time.process_time(), time.perf_counter()
        for n in range(requests):
            one(n)
        return ((time.process_time() - cpu) * 1000 / requests,
                (time.perf_counter() - wall) * 1000 / requests)

    print(f"{'scenario':8} {'service CPU':>12} {'wall':>8} {'peer CPU':>10} {'wall':>8} "
          f"{'CPU service / peer':>20}")
    for name, (ours, theirs) in scenarios.items():
        (cpu, wall), (peer_cpu, peer_wall) = per_request(ours), per_request(theirs)
        print(f"{name:8} {cpu:9.2f} ms {wall:5.2f} ms {peer_cpu:7.2f} ms {peer_wall:5.2f} ms "
              f"{cpu / peer_cpu:20.1f}")
    harness.drop_database(api.DATABASE)
    harness.drop_database(api.PEER_DATABASE)


if __name__ == "__main__":
    main()
