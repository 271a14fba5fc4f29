"""Tests of the fast paths that need the service's own sessions: a real app on a database of the
test's own, whose engine commits for real (the suite's savepoint session would hide exactly what
these tests are about). The suite's autouse ``db_session`` is replaced here by one that leaves
``db.session`` alone; tests that want the shared savepoint session ask for ``shared_session``.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def db_session():
    """No savepoint session: the app of each test below uses its own engine."""
    yield None


@pytest.fixture
def real_app(own_database, monkeypatch):
    """The service on a database of the test's own, migrated to the head."""
    from flask_migrate import upgrade

    from incidents import create_app
    from incidents.extensions import db
    from tests.conftest import TEST_SECRET

    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("DATABASE_URL", own_database)
    application = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": own_database})
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
