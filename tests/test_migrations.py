"""The schema comes from the Alembic migrations, and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from incidents.extensions import db


def test_models_and_migrations_agree(db_session):
    context = MigrationContext.configure(
        db_session.connection(), opts={"compare_type": True, "render_as_batch": True}
    )
    assert compare_metadata(context, db.metadata) == []


def test_the_database_is_at_the_head_revision(app, db_session):
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    current = MigrationContext.configure(db_session.connection()).get_current_revision()
    assert current == head
