"""The schema comes from the Alembic migrations, and they agree with the models."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from incidents.extensions import db
from incidents.models import Incident, Unit, include_object
from tests.conftest import TEST_SECRET

ROOT = Path(__file__).resolve().parents[1]


def test_models_and_migrations_agree(db_session):
    context = MigrationContext.configure(
        db_session.connection(),
        opts={"compare_type": True, "render_as_batch": True, "include_object": include_object},
    )
    assert compare_metadata(context, db.metadata) == []


def test_the_database_is_at_the_head_revision(app, db_session):
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    current = MigrationContext.configure(db_session.connection()).get_current_revision()
    assert current == head


def _at_revision(database_url: str, revision: str, **incident: object) -> list[str]:
    """The database migrated to ``revision`` with one incident of the given columns; the
    `flask db` command line for it."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    subprocess.run([*flask, "upgrade", revision], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        unit_id = connection.execute(
            sa.insert(Unit.__table__).values(name="Enhet", kind="enhet")
        ).inserted_primary_key[0]
        connection.execute(sa.insert(Incident.__table__).values(
            reference="OP-2026-000001", category="threat", perceived_influence_purpose="yes",
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC), unit_id=unit_id, description="x",
            police_flag="required", **incident))
    engine.dispose()
    return flask, env


def _downgrade(flask, env, to: str) -> subprocess.CompletedProcess:
    return subprocess.run([*flask, "downgrade", to], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _state(database_url: str) -> tuple[str, int]:
    """The revision the database is at, and how many incidents it holds."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        revision = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        incidents = connection.execute(sa.text("SELECT count(*) FROM incidents")).scalar()
    engine.dispose()
    return revision, incidents


def test_downgrading_past_anonymous_reports_is_refused_while_any_exist(own_database):
    """The older schema needs a reporter for every incident; an anonymous report has none, so
    downgrading would lose it: the migration refuses, and the database stays as it was."""
    flask, env = _at_revision(own_database, "a7ca07815157", anonymous=True, reporter_id=None)
    refused = _downgrade(flask, env, "21629a2bb716")
    assert refused.returncode != 0
    assert "anonymous report(s) have no reporter" in refused.stderr
    assert _state(own_database) == ("a7ca07815157", 1)


def test_downgrading_past_retention_is_refused_while_an_anonymised_incident_exists(
    own_database,
):
    """An anonymised incident has lost its reporter, which the schema before retention needs;
    the migration refuses rather than lose it."""
    flask, env = _at_revision(own_database, "b6f1c0d2e8a4", anonymous=False, reporter_id=None,
                              anonymised_at=datetime(2028, 3, 1, tzinfo=UTC))
    refused = _downgrade(flask, env, "74da39db0a57")
    assert refused.returncode != 0
    assert "anonymised by the retention job" in refused.stderr
    assert _state(own_database) == ("b6f1c0d2e8a4", 1)


def test_the_hash_chain_migration_chains_the_entries_already_there(own_database):
    """Entries written before the chain existed are chained in id order when it is made, and
    the chain then holds; the downgrade takes it away again."""
    flask, env = _at_revision(own_database, "f1a2b3c4d5e6", anonymous=True, reporter_id=None)
    engine = sa.create_engine(own_database)
    with engine.begin() as connection:
        for action, actor in (("create", 7), ("read", 8), ("read", None)):
            connection.execute(sa.text(
                "INSERT INTO audit_entries (at, actor_id, action, incident_id, outcome) "
                "VALUES (:at, :actor, :action, 1, 'ok')"),
                {"at": datetime(2026, 3, 2, tzinfo=UTC), "actor": actor, "action": action})
    subprocess.run([*flask, "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=120)
    verify = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stderr
    assert "3 entries checked" in verify.stdout
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT chain_index, actor_salt IS NOT NULL FROM audit_entries ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(1, True), (2, True), (3, False)]
    assert _downgrade(flask, env, "f1a2b3c4d5e6").returncode == 0
    engine.dispose()


def _audit_update(database_url: str, sql: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(sql))
    finally:
        engine.dispose()


def test_the_operations_migration_keeps_the_trail_append_only_up_and_down(own_database):
    """Up (f1a2b3c4d5e6): audit entries and mails get a request id, and retention's one
    UPDATE (the actor to NULL) may not change it. Down: the columns and tables go, and the trail
    is append-only still (SQLite drops a column by copying the table, triggers not included)."""
    flask, env = _at_revision(own_database, "f1a2b3c4d5e6", anonymous=True, reporter_id=None)
    _audit_update(own_database, "INSERT INTO audit_entries (at, actor_id, action, incident_id, "
                                "outcome, request_id) VALUES ('2026-03-02 10:00:00+00', 3, "
                                "'create', 1, 'ok', 'req-1')")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        _audit_update(own_database, "UPDATE audit_entries SET actor_id = NULL, "
                                    "request_id = 'req-2'")
    _audit_update(own_database, "UPDATE audit_entries SET actor_id = NULL")  # retention's
    assert _downgrade(flask, env, "e7f8a9b0c1d2").returncode == 0
    engine = sa.create_engine(own_database)
    try:
        inspector = sa.inspect(engine)
        assert "request_id" not in {c["name"] for c in inspector.get_columns("audit_entries")}
        assert "request_id" not in {c["name"] for c in inspector.get_columns("outbox_mails")}
        assert not {"scheduler_heartbeats", "scheduler_job_status"} & set(
            inspector.get_table_names())
    finally:
        engine.dispose()
    for sql in ("UPDATE audit_entries SET detail = 'changed'", "DELETE FROM audit_entries"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            _audit_update(own_database, sql)
    upgraded = subprocess.run([*flask, "upgrade"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
