"""The migration to roles held per unit: existing people keep what they reached. hr becomes hr at
every root (which reaches every unit, as before), admin becomes platform admin (who administered
every organisation, as before); nothing else changes, and the audit trail stays append-only and
its chain whole. Downgrading folds back, refused while a statistics reader exists."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import TEST_SECRET
from tests.test_migrations import ROOT

REVISION = "a1b2c3d4e5f7"
BEFORE = "e0f1a2b3c4d5"
AT = datetime(2026, 3, 10, 9, tzinfo=UTC)


def _flask(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _rows(connection, query: str) -> list[tuple]:
    return [tuple(row) for row in connection.execute(sa.text(query))]


def _seed(connection) -> None:
    """Two organisations (roots 1 and 4), a manager, hr, an admin, an employee."""
    for unit_id, name, kind, parent in [(1, "Staden", "organisation", None),
                                        (2, "Norr", "forvaltning", 1),
                                        (3, "Enhet N1", "enhet", 2),
                                        (4, "Grannkommunen", "organisation", None)]:
        connection.execute(sa.text(
            "INSERT INTO units (id, name, kind, parent_id, created_at, updated_at, version) "
            "VALUES (:id, :name, :kind, :parent, :at, :at, 1)"),
            {"id": unit_id, "name": name, "kind": kind, "parent": parent, "at": AT})
    for user_id, email, unit in [(1, "hr@stad.example", 2), (2, "admin@stad.example", None),
                                 (3, "chef@stad.example", 3), (4, "anna@stad.example", 3)]:
        connection.execute(sa.text(
            "INSERT INTO users (id, email, name, unit_id, active, created_at, updated_at, "
            "version) VALUES (:id, :email, :email, :unit, :yes, :at, :at, 1)"),
            {"id": user_id, "email": email, "unit": unit, "yes": True, "at": AT})
    for user_id, role in [(1, "employee"), (1, "hr"), (2, "admin"), (3, "employee"),
                          (3, "manager"), (4, "employee")]:
        connection.execute(sa.text("INSERT INTO user_roles (user_id, role) VALUES (:u, :r)"),
                           {"u": user_id, "r": role})
    connection.execute(sa.text("INSERT INTO unit_leaders (id, user_id, unit_id) VALUES (1, 3, 3)"))


def test_existing_people_keep_their_reach_and_the_trail_its_chain(own_database):
    assert _flask(own_database, "db", "upgrade", BEFORE).returncode == 0
    engine = sa.create_engine(own_database)
    try:
        with engine.begin() as connection:
            _seed(connection)
        done = _flask(own_database, "db", "upgrade", REVISION)
        assert done.returncode == 0, done.stderr
        with engine.connect() as connection:
            # hr at every root: both organisations, so every unit it reached before.
            assert _rows(connection, "SELECT user_id, role, unit_id FROM unit_assignments "
                                     "ORDER BY unit_id") == [(1, "hr", 1), (1, "hr", 4)]
            assert _rows(connection, "SELECT user_id, role FROM user_roles "
                                     "ORDER BY user_id, role") == [
                (1, "employee"), (1, "hr"), (2, "platform_admin"), (3, "employee"),
                (3, "manager"), (4, "employee")]
            assert _rows(connection, "SELECT user_id, unit_id FROM unit_leaders") == [(3, 3)]
            assert _rows(connection, "SELECT id, parent_id FROM units ORDER BY id") == [
                (1, None), (2, 1), (3, 2), (4, None)]
        # The guard still refuses a change to the trail, and the new columns are guarded too.
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO audit_entries (at, action, outcome, detail, record, unit_id) "
                "VALUES (:at, 'update', 'ok', 'unit 3 changed', 'unit', 3)"), {"at": AT})
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("UPDATE audit_entries SET record = 'incident'"))
            raise AssertionError("the audit trail accepted an UPDATE of record")
        except sa.exc.DBAPIError as error:
            assert "append-only" in str(error)
    finally:
        engine.dispose()


def test_downgrading_folds_back_and_waits_for_statistics_readers(own_database):
    assert _flask(own_database, "db", "upgrade", BEFORE).returncode == 0
    engine = sa.create_engine(own_database)
    try:
        with engine.begin() as connection:
            _seed(connection)
        assert _flask(own_database, "db", "upgrade", REVISION).returncode == 0
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO user_roles (user_id, role) VALUES (4, 'statistics_reader')"))
        refused = _flask(own_database, "db", "downgrade", BEFORE)
        assert refused.returncode != 0
        assert "1 statistics reader(s) exist" in refused.stderr
        with engine.begin() as connection:
            connection.execute(sa.text(
                "DELETE FROM user_roles WHERE role = 'statistics_reader'"))
        done = _flask(own_database, "db", "downgrade", BEFORE)
        assert done.returncode == 0, done.stderr
        with engine.connect() as connection:
            assert _rows(connection, "SELECT user_id, role FROM user_roles "
                                     "WHERE role IN ('admin', 'hr') ORDER BY user_id") == [
                (1, "hr"), (2, "admin")]
            assert "unit_assignments" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
