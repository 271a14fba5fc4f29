"""The schema comes from the Alembic migrations, and they agree with the models."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

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


def test_downgrading_past_anonymous_reports_is_refused_while_any_exist(own_database):
    """The older schema needs a reporter for every incident; an anonymous report has none, so
    downgrading would lose it: the migration refuses, and the database stays as it was."""
    env = {**os.environ, "DATABASE_URL": own_database, "SECRET_KEY": TEST_SECRET}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    subprocess.run([*flask, "upgrade", "a7ca07815157"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    engine = sa.create_engine(own_database)
    with engine.begin() as connection:
        unit_id = connection.execute(
            sa.insert(Unit.__table__).values(name="Enhet", kind="enhet")
        ).inserted_primary_key[0]
        connection.execute(sa.insert(Incident.__table__).values(
            reference="OP-2026-000001", category="threat", perceived_influence_purpose="yes",
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC), unit_id=unit_id, description="x",
            police_flag="required", anonymous=True, reporter_id=None))
    refused = subprocess.run([*flask, "downgrade", "21629a2bb716"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "anonymous report(s) have no reporter" in refused.stderr
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
            == "a7ca07815157"
        assert connection.execute(sa.text("SELECT count(*) FROM incidents")).scalar() == 1
    engine.dispose()


def test_downgrading_past_retention_is_refused_while_an_anonymised_incident_exists(
    own_database,
):
    """An anonymised incident has lost its reporter, which the schema before retention needs;
    the migration refuses rather than lose it."""
    env = {**os.environ, "DATABASE_URL": own_database, "SECRET_KEY": TEST_SECRET}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db"]
    subprocess.run([*flask, "upgrade", "b6f1c0d2e8a4"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    engine = sa.create_engine(own_database)
    with engine.begin() as connection:
        unit_id = connection.execute(
            sa.insert(Unit.__table__).values(name="Enhet", kind="enhet")
        ).inserted_primary_key[0]
        connection.execute(sa.insert(Incident.__table__).values(
            reference="OP-2026-000001", category="threat", perceived_influence_purpose="yes",
            occurred_at=datetime(2026, 3, 1, tzinfo=UTC), unit_id=unit_id, description="x",
            police_flag="required", anonymous=False, reporter_id=None,
            anonymised_at=datetime(2028, 3, 1, tzinfo=UTC)))
    refused = subprocess.run([*flask, "downgrade", "74da39db0a57"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "anonymised by the retention job" in refused.stderr
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() \
            == "b6f1c0d2e8a4"
    engine.dispose()
