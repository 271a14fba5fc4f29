"""Web pages benchmark: the signed-in employee's report form and "my reports" under gunicorn on
PostgreSQL, against the bare Flask JSON endpoint served the same way, loaded by wrk from a
separate process (docs/performance.md).

    .venv/bin/python -m bench.pages [--seconds 10] [--connections 32,128] [--one-session]

The employee is signed in through a server-side session made directly in `web_sessions`, as the
sign-in would leave it; wrk sends its cookie. No targets: the figures are a baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from bench import harness

DATABASE = "bench_pages"
REPORTER = "bench.reporter@demo.invalid"
COOKIE = "op_session"
MY_REPORTS_PAGE = 20
# The pages, and what each must contain to count as the page (not a sign-in page or an error).
PAGES = {
    "report": ("/report", 'name="description"'),
    "my-reports": ("/my-reports", 'class="report-list"'),
}


@dataclass
class Setup:
    unit_id: int
    user_id: int
    token: str


def prepare(incidents: int) -> Setup:
    """Demo data, and one more employee in the demo employee's unit, who has no reports yet."""
    harness.fresh_database(DATABASE)
    out = harness.flask(DATABASE, "demo-data", "--units", "500", "--incidents", str(incidents))
    print(f"  {out.splitlines()[0]}")
    employee = re.search(r"(\S+) \(employee\)", out).group(1)
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        unit_id = connection.execute("SELECT unit_id FROM users WHERE email = %s",
                                     (employee,)).fetchone()[0]
    harness.flask(DATABASE, "users", "add", REPORTER, "--name", "Bench Reporter",
                  "--role", "employee", "--unit", str(unit_id))
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        user_id = connection.execute("SELECT id FROM users WHERE email = %s",
                                     (REPORTER,)).fetchone()[0]
    token = harness.flask(DATABASE, "tokens", "issue", REPORTER, "--hours", "24").strip()
    return Setup(unit_id, user_id, token)


def file_reports(base: str, setup: Setup, count: int) -> None:
    """`count` reports by the employee through the API, the way a client files them, one every
    twelve days back over the past year (so "my reports" finds them among the demo data's)."""
    now = datetime.now(UTC)
    for n in range(count):
        body = {
            "category": ["threat", "harassment", "violence"][n % 3],
            "perceived_influence_purpose": "yes",
            "occurred_at": (now - timedelta(days=12 * n, hours=1)).isoformat(timespec="seconds"),
            "unit_id": setup.unit_id,
            "description": f"Klienten sa att han vet var jag bor ({n + 1}).",
            "location": "reception",
            "perpetrator": "client",
        }
        status = harness.check_once(
            base + "/api/v1/incidents", "POST", body=json.dumps(body),
            headers={"Authorization": f"Bearer {setup.token}",
                     "Content-Type": "application/json"})
        if status != 201:
            raise SystemExit(f"filing report {n + 1} answered {status}, not 201")


def newest_references(user_id: int) -> list[str]:
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        return [row[0] for row in connection.execute(
            "SELECT reference FROM incidents WHERE reporter_id = %s OR on_behalf_of_id = %s "
            "ORDER BY occurred_at DESC, id DESC LIMIT %s",
            (user_id, user_id, MY_REPORTS_PAGE))]


def sign_in(user_id: int, count: int) -> list[str]:
    """`count` signed-in sessions of the user, as rows in `web_sessions` (the row's id is the
    SHA-256 of the cookie's value); the cookie values."""
    values = [secrets.token_urlsafe(32) for _ in range(count)]
    now = datetime.now(UTC)
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO web_sessions (id, user_id, data, created_at, last_seen_at, "
                "signed_in_at) VALUES (%s, %s, '{}', %s, %s, %s)",
                [(hashlib.sha256(value.encode()).hexdigest(), user_id, now, now, now)
                 for value in values])
    return values


def session_rows(user_id: int) -> tuple[int, datetime | None]:
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        return connection.execute(
            "SELECT count(*), max(last_seen_at) FROM web_sessions WHERE user_id = %s",
            (user_id,)).fetchone()


def database_backends() -> list[int]:
    """The process ids of the PostgreSQL backends connected to the benchmark's database (the
    service's pools), this query's own left out."""
    with psycopg.connect(harness.database_url(DATABASE)) as connection:
        return [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()", (DATABASE,))]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get_page(url: str, cookie: str) -> str:
    """One GET with the session cookie, redirects not followed; the HTML, or a clear stop."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(  # noqa: S310 - our own local server
        url, headers={"Cookie": f"{COOKIE}={cookie}"})
    try:
        with opener.open(request, timeout=60) as response:
            if response.status != 200:
                raise SystemExit(f"GET {url} answered {response.status}, not 200")
            return response.read().decode()
    except urllib.error.HTTPError as error:
        where = error.headers.get("Location")
        raise SystemExit(
            f"GET {url} answered {error.code}"
            + (f" (redirect to {where}: the session was not accepted)" if where else "")
            + f": {error.read()[:500]!r}") from None


def check_pages(base: str, cookie: str, references: list[str]) -> dict[str, int]:
    """Each page once before the load, so that a wrong setup stops the run instead of
    measuring sign-in redirects or error pages; the size of each page in bytes."""
    sizes = {}
    for name, (path, marker) in PAGES.items():
        html = get_page(base + path, cookie)
        if marker not in html:
            raise SystemExit(f"GET {path} answered 200 but without {marker!r}: is it the page? "
                             f"It begins: {html[:300]!r}")
        sizes[name] = len(html.encode())
        if name == "report":
            print(f"  {path}: {sizes[name]} bytes, {html.count('<option')} options "
                  "(units and colleagues)")
        else:
            shown = [ref for ref in references if ref in html]
            items = html.count('class="report-item"')
            if shown != references or items != MY_REPORTS_PAGE:
                raise SystemExit(f"GET {path} shows {items} reports and {len(shown)} of the "
                                 f"employee's {len(references)} newest references")
            print(f"  {path}: {sizes[name]} bytes, {items} reports, newest {references[0]}")
    return sizes


def report(connections, reference, results, cpu) -> list[str]:
    """The table of results with ratios and CPU per request; every run that saw errors."""
    print()
    print(f"{'page':12} {'conns':>5}  {'result':62} {'ratio':>6}  CPU per request")

    def spent(name: str, clients: int) -> str:
        workers, database = cpu[name, clients]
        return f"{workers:5.1f} ms" + (f" + PostgreSQL {database:4.1f} ms" if database else "")

    for clients in connections:
        print(f"{'reference':12} {clients:5}  {reference[clients].row():62} {'1.00':>6}  "
              f"{spent('reference', clients)}")
    failures = []
    for (name, clients), load in results.items():
        ratio = load.per_second / reference[clients].per_second
        print(f"{'/' + name:12} {clients:5}  {load.row():62} {ratio:6.3f}  "
              f"{spent(name, clients)}")
        if load.not_2xx or load.socket_errors:
            failures.append(f"/{name} at {clients}: {load.not_2xx} answers not 2xx, "
                            f"{load.socket_errors} socket errors")
    for load in reference.values():
        if load.not_2xx or load.socket_errors:
            failures.append(f"reference: {load.not_2xx} not 2xx, {load.socket_errors} errors")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per measured run")
    parser.add_argument("--warm-up", type=int, default=2, help="seconds before each run")
    parser.add_argument("--connections", default="32,128")
    parser.add_argument("--incidents", type=int, default=100_000, help="demo incidents")
    parser.add_argument("--reports", type=int, default=30, help="the employee's own reports")
    parser.add_argument("--one-session", action="store_true",
                        help="every connection sends the same session cookie (by default each "
                             "request sends one of as many sessions as there are connections)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep-database", action="store_true",
                        help=f"leave {DATABASE} for a look afterwards")
    args = parser.parse_args()
    if args.reports < MY_REPORTS_PAGE:
        parser.error(f"--reports must be at least {MY_REPORTS_PAGE}: the first page is full")
    connections = [int(c) for c in args.connections.split(",")]
    serving = harness.Serving(args.workers, args.threads)
    print(f"machine: {harness.machine()}; serving: {serving.describe()}; wrk 2 threads, "
          f"{args.seconds} s per run after {args.warm_up} s warm-up")

    setup = prepare(args.incidents)
    cookies = sign_in(setup.user_id, 1 if args.one_session else max(connections))
    print(f"  {REPORTER}: {len(cookies)} signed-in session(s)")

    # CPU time per request of the server's workers, and of the PostgreSQL backends serving
    # them, besides wrk's figures: on a shared machine throughput moves with the neighbours'
    # load, the CPU a request costs much less.
    cpu: dict[tuple[str, int], tuple[float, float]] = {}

    def measure(name: str, server: harness.Server, env: dict[str, str],
                clients: int) -> harness.Load:
        harness.wrk(server.base, clients, args.warm_up, env)
        workers = server.worker_pids()
        backends = database_backends() if name != "reference" else []
        before = harness.cpu_seconds(workers), harness.cpu_seconds(backends)
        load = harness.wrk(server.base, clients, args.seconds, env)
        backends = sorted(set(backends) | set(database_backends())) if backends else []
        spent = (harness.cpu_seconds(workers) - before[0],
                 harness.cpu_seconds(backends) - before[1])
        cpu[name, clients] = tuple(1000 * part / max(load.requests, 1) for part in spent)
        return load

    reference: dict[int, harness.Load] = {}
    with harness.gunicorn("bench.reference_app:app", serving, dict(os.environ),
                          "/api/v1/reference") as server:
        for clients in connections:
            reference[clients] = measure("reference", server,
                                         {"BENCH_PATH": "/api/v1/reference"}, clients)

    results: dict[tuple[str, int], harness.Load] = {}
    # Sessions that cannot run out during the run (the defaults are 30 minutes idle and 10
    # hours in all); the development sign-in stays off, as production requires.
    environment = harness.service_environment(
        DATABASE, SESSION_IDLE_MINUTES=str(24 * 60), SESSION_ABSOLUTE_HOURS="24",
        DEV_SIGNIN="false")
    with harness.gunicorn("wsgi:app", serving, environment, "/api/v1/categories") as server:
        file_reports(server.base, setup, args.reports)
        references = newest_references(setup.user_id)
        check_pages(server.base, cookies[0], references)
        before = session_rows(setup.user_id)
        for name, (path, _marker) in PAGES.items():
            for clients in connections:
                sent = cookies if args.one_session else cookies[:clients]
                env = {"BENCH_PATH": path,
                       "BENCH_COOKIES": " ".join(f"{COOKIE}={value}" for value in sent)}
                results[name, clients] = measure(name, server, env, clients)
        after = session_rows(setup.user_id)

    failures = report(connections, reference, results, cpu)
    print(f"\nsessions: {after[0]} of {before[0]} still there after the runs; "
          f"last seen {after[1]:%H:%M:%S} (before the runs {before[1]:%H:%M:%S})")
    if after[0] != before[0] or after[1] <= before[1]:
        failures.append("the sessions were not kept alive by the page requests")
    for failure in failures:
        print(f"ERROR: {failure}")
    if not args.keep_database:
        harness.drop_database(DATABASE)
    if failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
