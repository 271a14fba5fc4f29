"""What every response and every log line must and must not carry (issue 7 §3): security
headers on every response of every route, a database that is away answered 503 with
Retry-After, no stack trace or SQL in any error body, and no secret in any log line."""

from __future__ import annotations

import logging
import re
import sqlite3

import psycopg
import pytest
import sqlalchemy as sa

from incidents.config import ConfigError, load_config
from incidents.services import outbox, reporting
from tests.conftest import TEST_SECRET
from tests.mail.smtp import SmtpServer

INTERNALS = re.compile(r"Traceback|SELECT|INSERT|psycopg|sqlalchemy|sqlite3|File \"", re.I)


def _every_route(app) -> list[tuple[str, str]]:
    calls = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<int:[^>]+>", "1", rule.rule)
        path = re.sub(r"<(?:string:|path:)?[^>]+>", "x", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            calls.append((method, path))
    return calls


def test_every_response_of_every_route_carries_the_security_headers(app, client, make, org):
    """With and without a token, found or not: the headers that keep a browser from sniffing,
    framing or caching answers about incidents."""
    calls = _every_route(app)
    assert len(calls) > 60
    for headers in ({}, make.headers(org.hr)):
        for method, path in calls:
            response = client.open(path, method=method, headers=headers,
                                   json={} if method in {"POST", "PUT", "PATCH"} else None)
            where = f"{method} {path} → {response.status_code}"
            assert response.headers["X-Content-Type-Options"] == "nosniff", where
            assert response.headers["X-Frame-Options"] == "DENY", where
            assert response.headers["Referrer-Policy"] == "no-referrer", where
            if not path.startswith("/api/v1/docs"):
                assert response.headers["Cache-Control"] == "no-store", where
                assert "default-src 'none'" in response.headers["Content-Security-Policy"], where
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", where
                assert not INTERNALS.search(response.get_data(as_text=True)), where


def _operational(orig: Exception) -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        "SELECT incidents.description FROM incidents WHERE id = %(id)s",
        {"id": "19800101-1234"}, orig,
    )


class _AdminShutdown(psycopg.errors.AdminShutdown):
    pass


@pytest.mark.parametrize("cause", [
    psycopg.OperationalError("connection failed: Connection refused"),
    _AdminShutdown("terminating connection due to administrator command"),
    sqlite3.OperationalError("database is locked"),
], ids=["connection-refused", "admin-shutdown", "sqlite-locked"])
def test_a_database_that_is_away_is_503_with_retry_after_and_no_sql(
    client, make, org, monkeypatch, caplog, cause
):
    def away(*_args, **_kwargs):
        raise _operational(cause)

    monkeypatch.setattr(reporting, "list_incidents", away)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/api/v1/incidents", headers=make.headers(org.hr))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.mimetype == "application/problem+json"
    assert not INTERNALS.search(response.get_data(as_text=True))
    assert "19800101-1234" not in caplog.text and "SELECT" not in caplog.text


def test_the_retry_after_of_a_database_outage_is_a_setting(app, client, make, org, monkeypatch):
    monkeypatch.setitem(app.config, "DATABASE_RETRY_AFTER_SECONDS", 7)

    def away(*_args, **_kwargs):
        raise _operational(psycopg.OperationalError("connection refused"))

    monkeypatch.setattr(reporting, "list_incidents", away)
    response = client.get("/api/v1/incidents", headers=make.headers(org.hr))
    assert (response.status_code, response.headers["Retry-After"]) == (503, "7")


@pytest.mark.parametrize(("raw", "seconds"), [(None, 2), ("30", 30)])
def test_database_retry_after_seconds_is_read_from_the_environment(tmp_path, raw, seconds):
    env = {} if raw is None else {"DATABASE_RETRY_AFTER_SECONDS": raw}
    assert load_config(env, tmp_path)["DATABASE_RETRY_AFTER_SECONDS"] == seconds


@pytest.mark.parametrize("raw", ["0", "-1", "soon"])
def test_a_bad_retry_after_stops_start_up_and_names_itself(tmp_path, raw):
    with pytest.raises(ConfigError, match="DATABASE_RETRY_AFTER_SECONDS"):
        load_config({"DATABASE_RETRY_AFTER_SECONDS": raw}, tmp_path)


@pytest.mark.parametrize("error", [
    sa.exc.ProgrammingError("SELECT nonsense", {"p": "19800101-1234"},
                            psycopg.errors.UndefinedColumn("column x does not exist")),
    _operational(sqlite3.OperationalError("no such column: x")),
], ids=["programming-error", "sqlite-schema-error"])
def test_a_wrong_statement_is_a_500_not_a_503_and_shows_no_sql(
    client, make, org, monkeypatch, caplog, error
):
    """A statement that is wrong will not get better by trying again: a bug, so 500."""
    def wrong(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(reporting, "list_incidents", wrong)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/api/v1/incidents", headers=make.headers(org.hr))
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert not INTERNALS.search(response.get_data(as_text=True))
    assert "19800101-1234" not in caplog.text and "SELECT" not in caplog.text


def test_the_engine_hides_statement_parameters_from_errors(app):
    """Parameters can hold what a reporter wrote; an error message never carries them."""
    from incidents.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError) as raised:
            connection.execute(sa.text("SELECT * FROM no_such_table WHERE x = :x"),
                               {"x": "19800101-1234"})
    assert "19800101-1234" not in str(raised.value)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_no_secret_reaches_the_log(app, client, make, org, db_session, monkeypatch, caplog):
    """The signing key, bearer tokens and the mail password never appear in a log line, what
    ever happens: good and bad tokens, errors, and a mail server that refuses the login."""
    token = make.token(org.hr)
    password = "mail-password-that-must-not-leak"
    server = SmtpServer(login=("sender", "another-password")).start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "sender")
    monkeypatch.setitem(app.config, "MAIL_PASSWORD", password)  # refused by the server
    with caplog.at_level(logging.DEBUG):
        bearer = {"Authorization": f"Bearer {token}"}
        client.get("/api/v1/me", headers=bearer)
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"})
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token[:-3]}"})
        client.post("/api/v1/incidents", json={"unit_id": "x"}, headers=bearer)
        make.incident(org.employee_a1, org.a1)  # queues a mail to the manager
        try:
            assert outbox.deliver().deferred == 1
        finally:
            server.stop()
    logged = caplog.text + "".join(
        str(record.args) + str(record.exc_info) for record in caplog.records
    )
    assert caplog.records, "nothing was logged: the test saw nothing"
    for secret in (TEST_SECRET, token, password):
        assert secret not in logged
