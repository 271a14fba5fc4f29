"""The service as it runs in production, for the reliability tests: gunicorn workers on a
database of the test's own (migrated by `flask db upgrade`), loaded by many client threads over
real HTTP connections; and a private PostgreSQL server that a test may stop and start.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.mail.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "INCIDENTS_ENV": "production", "DATABASE_URL": database_url,
            "SECRET_KEY": TEST_SECRET, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", **extra}


def prepare(env: dict[str, str]) -> dict:
    """Migrate the database and seed the organisation; the seed's tokens and unit ids."""
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=180)
    done = subprocess.run([sys.executable, "-m", "tests.reliability.seed"], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True, timeout=180)
    return json.loads(done.stdout.strip().splitlines()[-1])


def scalar(database_url: str, sql: str):
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def column(database_url: str, sql: str) -> list:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql)).scalars())
    finally:
        engine.dispose()


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 4, threads: int = 4) -> Iterator[str]:
    """gunicorn serving wsgi:app until the block ends; yields host:port once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--worker-class",
         "gthread", "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--backlog",
         "1024", "--log-level", "warning",
         # The app is imported once and forked: four imports cost CI seconds.
         "--preload", "wsgi:app"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(address), 60, process)
        yield address
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@contextlib.contextmanager
def background(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen]:
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()


def _answers(address: str) -> bool:
    connection = http.client.HTTPConnection(address, timeout=2)
    try:
        connection.request("GET", "/api/v1/categories")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _wait_for(condition: Callable[[], bool], seconds: float, process=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode}")
        if condition():
            return
        time.sleep(0.1)
    raise TimeoutError(f"not ready within {seconds} s")


# -- reports over real connections ----------------------------------------------------------


def report_body(unit_id: int, n: int) -> bytes:
    return json.dumps({
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds"),
        "unit_id": unit_id,
        "description": f"Rapport {n}: klienten hotade mig i receptionen.",
    }).encode()


@dataclass
class Request:
    token: str
    body: bytes
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class Answer:
    key: str
    status: int  # 0: the connection failed
    headers: dict[str, str]
    body: bytes
    sent: float
    done: float

    def json(self) -> dict:
        return json.loads(self.body)


def post_report(connection: http.client.HTTPConnection, request: Request) -> Answer:
    sent = time.monotonic()
    try:
        connection.request("POST", "/api/v1/incidents", body=request.body, headers={
            "Authorization": f"Bearer {request.token}", "Content-Type": "application/json",
            "Idempotency-Key": request.key})
        response = connection.getresponse()
        body = response.read()
        return Answer(request.key, response.status, dict(response.getheaders()), body, sent,
                      time.monotonic())
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        return Answer(request.key, 0, {}, repr(error).encode(), sent, time.monotonic())


def send_all(address: str, requests: list[Request], clients: int) -> list[Answer]:
    """Send every request once, from `clients` threads with a connection each."""
    answers: list[Answer] = []
    lock = threading.Lock()
    pending = iter(requests)

    def client():
        connection = http.client.HTTPConnection(address, timeout=60)
        while True:
            with lock:
                request = next(pending, None)
            if request is None:
                break
            answer = post_report(connection, request)
            with lock:
                answers.append(answer)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


# -- a PostgreSQL server of the test's own -------------------------------------------------


def _postgres_bin() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                              check=False)
        candidate = Path(done.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A PostgreSQL server made with initdb in a temporary directory on a free port, so a test
    can stop and start it without touching the machine's shared server. PostgreSQL refuses to
    run as root; as root, it runs as the `postgres` user."""

    def __init__(self):
        self.bin = _postgres_bin()
        if self.bin is None:
            raise RuntimeError("initdb is not installed (Debian: postgresql)")
        self.directory = Path(tempfile.mkdtemp(prefix="incidents-pg-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.directory, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run([*self.as_user, *command], check=True, capture_output=True, timeout=120)

    def initialise(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "--username=postgres",
                  "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C")

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.directory} -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l",
                  str(self.directory / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
