"""The migration of the anonymous channel's holding table: downgrading would drop what still
waits for publication, so it is refused while anything does."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import ROOT

HEAD = "e0f1a2b3c4d5"
BEFORE = "d9e0f1a2b3c4"


def _flask_db(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _revision(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def test_downgrading_is_refused_while_anything_is_held(own_database):
    assert _flask_db(own_database, "upgrade", HEAD).returncode == 0
    engine = sa.create_engine(own_database)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO anonymous_pending (id, kind, reference, payload, code_hash, "
                "received_hour, failed_attempts) VALUES ('a1b2', 'report', 'OP-2026-5000000001', "
                "'{}', :hash, :hour, 0)"),
                {"hash": "0" * 64, "hour": datetime(2026, 3, 10, 9, tzinfo=UTC)})
        refused = _flask_db(own_database, "downgrade", BEFORE)
        assert refused.returncode != 0
        assert "1 anonymous item(s) wait for publication" in refused.stderr
        assert _revision(engine) == HEAD
        with engine.begin() as connection:
            connection.execute(sa.text("DELETE FROM anonymous_pending"))
        done = _flask_db(own_database, "downgrade", BEFORE)
        assert done.returncode == 0, done.stderr
        assert _revision(engine) == BEFORE
        assert "anonymous_pending" not in sa.inspect(engine).get_table_names()
        assert _flask_db(own_database, "upgrade", HEAD).returncode == 0
    finally:
        engine.dispose()
