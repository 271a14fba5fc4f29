"""What every benchmark needs: a database of its own on the PostgreSQL server, the service's
CLI against it, gunicorn serving an app, wrk loading it, and a table of ratios."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://127.0.0.1:5432")
SCRIPT = ROOT / "bench" / "lua" / "request.lua"
SECRET = "bench-secret-key-0123456789-0123456789-0123456789"


def database_url(name: str) -> str:
    return f"{SERVER}/{name}"


def fresh_database(name: str) -> str:
    """An empty database `name` (dropped first if it exists), migrated to the head."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    flask(name, "db", "upgrade")
    return database_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def service_environment(name: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "INCIDENTS_ENV": "production",
        "DATABASE_URL": database_url(name),
        "SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def flask(name: str, *args: str) -> str:
    """Run `flask --app wsgi ARGS` against database `name`; its output."""
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        # Development: the demo-data command refuses production, as it should.
        cwd=ROOT, env=service_environment(name, INCIDENTS_ENV="development"),
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def run_cli(app: str, env: dict[str, str], *args: str) -> str:
    """Run `flask --app APP ARGS` with `env`; its output."""
    done = subprocess.run([str(BIN / "flask"), "--app", app, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"flask --app {app} {' '.join(args)} failed:\n{done.stdout}\n"
                         f"{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Serving:
    """How gunicorn serves both the service and the reference."""

    workers: int = 4
    threads: int = 4

    def describe(self) -> str:
        return f"gunicorn, {self.workers} workers × {self.threads} threads (gthread)"


@dataclass
class Server:
    base: str
    master: subprocess.Popen

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@contextlib.contextmanager
def gunicorn(app: str, serving: Serving, env: dict[str, str], probe: str) -> Iterator[Server]:
    """gunicorn serving `app` (module:variable) on a free port until the block ends; yields
    the server once `probe` answers."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(serving.workers), "--worker-class", "gthread",
         "--threads", str(serving.threads), "--bind", f"127.0.0.1:{port}",
         "--backlog", "2048", "--keep-alive", "5", "--timeout", "300",
         "--log-level", "warning", app],
        cwd=ROOT, env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + probe, process)
        yield Server(base, process)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local server
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds} s")


def check_once(url: str, method: str = "GET", headers: dict | None = None,
               body: str | None = None) -> int:
    """One request before the load, so that a wrong setup fails loudly instead of measuring
    error answers."""
    request = urllib.request.Request(  # noqa: S310 - our own local server
        url, method=method, headers=headers or {}, data=body.encode() if body else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{method} {url} answered {error.code}: {error.read()[:500]!r}") from None


@dataclass
class Load:
    """One wrk run: throughput, latency percentiles, and every answer that was not 2xx."""

    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    not_2xx: int
    socket_errors: int

    def row(self) -> str:
        return (f"{self.per_second:9.0f} req/s  p50 {self.p50_ms:7.1f} ms  "
                f"p99 {self.p99_ms:7.1f} ms  ({self.requests} requests)")


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def wrk(url: str, connections: int, seconds: int, env: dict[str, str]) -> Load:
    """wrk repeating the request that `env` describes (bench/lua/request.lua)."""
    program = shutil.which("wrk")
    if program is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    done = subprocess.run(
        [program, "--threads", "2", "--connections", str(connections), "--duration", f"{seconds}s",
         "--timeout", "10s", "--latency", "--script", str(SCRIPT), url],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )
    out = done.stdout
    latency = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)\s*$", out, re.MULTILINE))
    if set(latency) != {"50", "99"}:
        raise SystemExit(f"could not read wrk's output:\n{out}\n{done.stderr}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       out)
    # The script counts every answer that is not 2xx; wrk's own count leaves out 3xx.
    counted = re.search(r"Answers not 2xx: (\d+)", out) or re.search(
        r"Non-2xx or 3xx responses: (\d+)", out)
    not_2xx = int(counted.group(1)) if counted else 0
    if not_2xx or errors:
        print(f"wrk: {env.get('BENCH_PATH')} at {connections}: {done.stderr.strip()[:600]}",
              file=sys.stderr)
    return Load(
        requests=int(re.search(r"(\d+) requests in", out).group(1)),
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        not_2xx=not_2xx,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
    )


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes have used so far (processes gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak since the process started) of a process, in kB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            fields[name] = int(value.split()[0])
    return fields


def fetch(url: str, headers: dict[str, str]) -> bytes:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - our own server
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        return response.read()


def load_demo(name: str, incidents: int, until: str) -> float:
    """A fresh database holding the demo data; the seconds the demo-data command took
    (measured around the command, interpreter start-up included)."""
    fresh_database(name)
    started = time.perf_counter()
    out = flask(name, "demo-data", "--units", "500", "--incidents", str(incidents),
                "--years", "3", "--until", until)
    seconds = time.perf_counter() - started
    print(f"  {out.splitlines()[0]}")
    return seconds


def median_seconds(work, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def machine() -> str:
    cores = os.cpu_count()
    with psycopg.connect(f"{SERVER}/postgres") as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
    return f"{cores} cores, Python {sys.version.split()[0]}, PostgreSQL {version}"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"
