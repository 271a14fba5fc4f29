"""Scheduler processes on a database of their own: catch-up after downtime, two schedulers
firing at once, and the lease that keeps a second `python -m scheduler` waiting.

The processes are real (tests/scheduler/driver.py runs the scheduler of `python -m scheduler`
under a frozen clock; the lease test runs `python -m scheduler` itself); the database is the
test's own, migrated with `flask db upgrade`, so every commit is real.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from scheduler import JOBS
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
DRIVER = [sys.executable, "-m", "tests.scheduler.driver"]


def _env(database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
            "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", **extra}


def _prepare(database_url: str) -> dict[str, str]:
    env = _env(database_url)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    subprocess.run([*DRIVER, "seed"], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=120)
    return env


def _drive(env, *args: str) -> list[dict]:
    done = subprocess.run([*DRIVER, "run", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _rows(database_url: str, sql: str) -> list[tuple]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]
    finally:
        engine.dispose()


def test_stopped_over_1_september_and_started_on_3_september_makes_t2_once(own_database):
    """The job store keeps the 1 September 06:00 run; started again on 3 September, the
    scheduler makes it at once (and once), for T2 — not for the tertial it is now in."""
    env = _prepare(own_database)
    before = _drive(env, "--start", "2026-08-31T10:00:00+00:00",
                    "--advance", "2026-08-31T18:00:00+00:00")
    assert [r for r in before if r["job"] == "tertial_summary"] == []
    # Down from 31 August 20:00 to 3 September 10:00 (local).
    after = _drive(env, "--start", "2026-09-03T08:00:00+00:00",
                   "--advance", "2026-09-03T10:00:00+00:00",
                   "--advance", "2026-09-04T08:00:00+00:00")
    tertial = [r for r in after if r["job"] == "tertial_summary"]
    assert [(r["scheduled"], r["at"], r["outcome"]) for r in tertial] == [
        ("2026-09-01T04:00:00+00:00", "2026-09-03T08:00:00+00:00", "executed")]
    assert [r for r in after if r["outcome"] != "executed"] == []
    assert sorted(_rows(own_database, "SELECT kind, period, scope_name FROM summaries")) == [
        ("monthly", "2026-08", "Socialförvaltningen"), ("monthly", "2026-08", "Staden"),
        ("tertial", "2026-T2", "Socialförvaltningen"), ("tertial", "2026-T2", "Staden"),
    ]
    mails = _rows(own_database, "SELECT kind, count(*) FROM outbox_mails "
                  "WHERE kind LIKE 'summary_%' GROUP BY kind ORDER BY kind")
    assert mails == [("summary_monthly", 2), ("summary_tertial", 2)]  # one per hr user


def test_two_schedulers_firing_at_once_make_each_summary_once(own_database, tmp_path):
    """Two scheduler processes, each with the tertial and monthly jobs due at the same moment,
    race on the same database: the unique key lets one make each summary and the other find
    it made; hr is mailed once."""
    env = _prepare(own_database)
    barrier = tmp_path / "go"
    args = ["run", "--store", "memory", "--start", "2026-05-01T04:00:30+00:00",
            "--due", "tertial_summary", "--due", "monthly_summary", "--barrier", str(barrier)]
    processes = [subprocess.Popen([*DRIVER, *args], cwd=ROOT, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
    try:
        for process in processes:
            assert json.loads(process.stdout.readline()) == {"ready": True}
        barrier.touch()
        outputs = [process.communicate(timeout=300) for process in processes]
    finally:
        for process in processes:
            process.kill() if process.poll() is None else None
    fired = []
    for (stdout, stderr), process in zip(outputs, processes, strict=True):
        assert process.returncode == 0, stderr[-3000:]
        fired += [json.loads(line) for line in stdout.splitlines()]
    tertial = [r for r in fired if r["job"] == "tertial_summary"]
    assert [r["outcome"] for r in tertial] == ["executed", "executed"]  # both ran, neither failed
    assert sorted(_rows(own_database, "SELECT kind, period, scope_name FROM summaries")) == [
        ("monthly", "2026-04", "Socialförvaltningen"), ("monthly", "2026-04", "Staden"),
        ("tertial", "2026-T1", "Socialförvaltningen"), ("tertial", "2026-T1", "Staden"),
    ]
    mails = _rows(own_database, "SELECT kind, count(*) FROM outbox_mails "
                  "WHERE kind LIKE 'summary_%' GROUP BY kind ORDER BY kind")
    assert mails == [("summary_monthly", 2), ("summary_tertial", 2)]


class _Process:
    """`python -m scheduler` with its log read line by line."""

    def __init__(self, env):
        self.popen = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                                      stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.popen.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                continue
            self.log.append(line)
            if text in line:
                return True
        return False

    def stop(self) -> int:
        self.popen.send_signal(signal.SIGTERM)
        status = self.popen.wait(timeout=60)
        self.reader.join(timeout=10)
        self.popen.stderr.close()
        return status


def test_a_second_scheduler_waits_until_the_first_stops(own_database):
    """Only the process holding the lease runs jobs; the second waits, and takes over soon
    after the first stops (which releases the lease)."""
    env = {**_prepare(own_database), "SCHEDULER_LEASE_SECONDS": "15"}
    first = _Process(env)
    second = None
    try:
        assert first.wait_for("holds the lease", 60), first.log
        second = _Process(env)
        assert second.wait_for("waiting", 60), second.log
        holders = _rows(own_database, "SELECT holder FROM scheduler_leases")
        assert len(holders) == 1 and holders[0][0].endswith(f":{first.popen.pid}")
        assert first.stop() == 0
        assert second.wait_for("holds the lease", 30), second.log
        holders = _rows(own_database, "SELECT holder FROM scheduler_leases")
        assert holders[0][0].endswith(f":{second.popen.pid}")
    finally:
        for process in (first, second):
            if process and process.popen.poll() is None:
                process.stop()
    assert _rows(own_database, "SELECT count(*) FROM scheduler_leases") == [(0,)]


def test_the_scheduler_process_beats_logs_json_and_marks_its_clean_stop(own_database):
    """`python -m scheduler` with LOG_FORMAT=json: its heartbeat names it (host:pid) while it
    runs and records its stop; every log line is a JSON object."""
    env = {**_prepare(own_database), "SCHEDULER_LEASE_SECONDS": "15", "LOG_FORMAT": "json"}
    process = _Process(env)
    try:
        assert process.wait_for("runs its jobs; heartbeat every 5 s", 60), process.log
        running = _rows(own_database, "SELECT holder, stopped_at FROM scheduler_heartbeats")
        jobs = _rows(own_database, "SELECT job_id FROM scheduler_job_status")
    finally:
        status = process.stop()
    assert status == 0
    assert len(running) == 1 and running[0][0].endswith(f":{process.popen.pid}")
    assert running[0][1] is None
    assert sorted(job for (job,) in jobs) == sorted(spec.id for spec in JOBS)
    assert _rows(own_database, "SELECT count(*) FROM scheduler_heartbeats "
                               "WHERE stopped_at IS NOT NULL") == [(1,)]
    while not process.lines.empty():
        process.log.append(process.lines.get())
    lines = [json.loads(line) for line in process.log]
    assert {"time", "level", "logger", "message", "request_id"} <= set(lines[0])
    assert any("holds the lease" in line["message"] for line in lines)
