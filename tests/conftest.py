"""Test set-up: one app and one migrated database per run; every test in a savepoint.

The suite runs on SQLite (``--db sqlite``, a temporary file) and on PostgreSQL (``--db
postgresql``, TEST_DATABASE_URL, default the local server's ``test`` database). The schema is
built by the Alembic migrations, never by create_all. Under CI=true an unreachable PostgreSQL
fails the run; elsewhere the PostgreSQL run is skipped with the reason.
"""

from __future__ import annotations

import os
import uuid

# pandas is imported lazily by the service (incidents/stats); tests freeze the clock, and a C
# extension that initialises while freezegun has replaced datetime crashes: import it first.
import pandas  # noqa: F401
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

DEFAULT_PG_URL = "postgresql+psycopg://127.0.0.1:5432/test"
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="database to run the suite on",
    )


def _postgres_url() -> str:
    from incidents.config import normalise_database_url

    return normalise_database_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL))


def database_of_its_own(request, tmp_path_factory, stem: str):
    """For a session fixture: a database of its own, for a server the tests talk to over
    HTTP (browser tests, the generated client): a SQLite file, or a new PostgreSQL database on
    the test server, dropped at the end of the session."""
    if request.config.getoption("--db") == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp(stem) / (stem + '.db')}"
        return
    url = sa.engine.make_url(_postgres_url())
    name = f"incidents_{stem}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_problem(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql_only: runs only on PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: runs only on SQLite")
    if config.getoption("--db") != "postgresql":
        return
    problem = _postgres_problem(_postgres_url())
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.exit(f"PostgreSQL is unreachable under CI=true: {problem}", returncode=3)
    config._incidents_skip_reason = f"PostgreSQL unreachable: {problem}"


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}"


def pytest_collection_modifyitems(config, items):
    db_name = config.getoption("--db")
    skip_all = getattr(config, "_incidents_skip_reason", None)
    for item in items:
        if skip_all:
            item.add_marker(pytest.mark.skip(reason=skip_all))
        elif db_name == "sqlite" and item.get_closest_marker("postgresql_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only"))
        elif db_name == "postgresql" and item.get_closest_marker("sqlite_only"):
            item.add_marker(pytest.mark.skip(reason="SQLite only"))


@pytest.fixture(scope="session")
def database_url(request, tmp_path_factory) -> str:
    if request.config.getoption("--db") == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    url = _postgres_url()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


class IsolatedClient(FlaskClient):
    """Each request in its own application context, as in production: its own `g` and its own
    database session. Flask would otherwise reuse the test's ambient context."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    os.environ["DATABASE_URL"] = database_url
    os.environ["SECRET_KEY"] = TEST_SECRET
    from incidents import create_app

    application = create_app({"TESTING": True})
    application.test_client_class = IsolatedClient
    application.instance_path = str(tmp_path_factory.mktemp("instance"))
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        from incidents.extensions import db

        db.engine.dispose()


class _BoundSession(FlaskSession):
    """Flask-SQLAlchemy's session picks its engine itself; in tests it must use the one
    connection that holds the test's outer transaction."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(autouse=True)
def db_session(app):
    """Each test runs inside a transaction that is rolled back; the code under test commits
    to savepoints, so its commits are real to it and invisible to the next test."""
    from incidents.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "class_": _BoundSession,
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app, db_session):
    from tests.factories import Factory

    return Factory(app, db_session)


@pytest.fixture
def org(make):
    from tests.factories import build_org

    return build_org(make)


@pytest.fixture
def named(org, db_session):
    """The shared organisation with the names the guides use for whoever handles a report
    (the receipt says "Din rapport hanteras av Maria Chef (chef)")."""
    org.manager_a.name = "Maria Chef"
    org.hr.name = "Hanna HR"
    org.admin_hr.name = "Anders HR"
    db_session.commit()
    return org


@pytest.fixture
def own_database(database_url, tmp_path):
    """A database of the test's own, empty, for code that must commit for real or run in other
    processes (the savepoint of every other test would hide its rows): a SQLite file, or a new
    PostgreSQL database on the test server, dropped afterwards."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'own.db'}"
        return
    name = f"incidents_own_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        sa.engine.make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(database_url).set(database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def no_suppression(app, monkeypatch):
    """Counting tests see every count: a threshold of 1 disables disclosure control."""
    monkeypatch.setitem(app.config, "STATS_SUPPRESSION_THRESHOLD", 1)
