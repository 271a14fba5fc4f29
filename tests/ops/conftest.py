"""Helpers for the operations tests: reading /metrics as Prometheus would, and the service on a
database other than the test's (one that is away, or at an older revision)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from incidents.extensions import db


def scrape(client, **headers: str) -> list:
    """Every sample /metrics answers, parsed by prometheus_client's own parser."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return [sample for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples]


def value(samples: list, name: str, **labels: str) -> float | None:
    """The value of the sample ``name`` with exactly these labels; None if there is none."""
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) <= 1, found
    return found[0] if found else None


@contextlib.contextmanager
def service_on(database_url: str, **config) -> Iterator:
    """The application on ``database_url``, with sessions of its own (every other test's
    session is bound to the test database's one connection)."""
    from incidents import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, **config})
    original = db.session
    db.session = db._make_scoped_session({})
    try:
        yield app
    finally:
        db.session.remove()
        db.session = original
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def away_url(database_url, tmp_path):
    """A database that is not there: a PostgreSQL port nothing listens on, or a SQLite file in
    a directory that does not exist."""
    from tests.mail.smtp import free_port

    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'incidents.db'}"
    return f"postgresql+psycopg://127.0.0.1:{free_port()}/incidents"


@pytest.fixture
def smtp(app, monkeypatch):
    """A real mail server on localhost (tests/mail/smtp.py), the one the service sends to."""
    from tests.mail.smtp import SmtpServer

    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 5)
    yield server
    server.stop()
