"""What every response and every log line must and must not carry: security headers on every
response of every route, a database that is away answered 503 with Retry-After, no stack trace
or SQL in any error body, and no secret in any log line. And what no file of the repository may
carry: a pointer to a design document kept outside it, or to an issue of the tracker, since the
repository must read on its own (docs/ holds the rules and their reasons)."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

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
            page = not path.startswith(("/api/", "/static/"))
            # Pages send their own Origin with a form (the CSRF check needs it), and no
            # address to another site; the API and static files send no referrer at all.
            referrer = "same-origin" if page else "no-referrer"
            assert response.headers["Referrer-Policy"] == referrer, where
            if path.startswith("/static/"):
                assert response.headers["Cache-Control"] == "public, max-age=3600", where
            elif not path.startswith("/api/v1/docs"):
                assert response.headers["Cache-Control"] == "no-store", where
                assert "default-src 'none'" in response.headers["Content-Security-Policy"], where
            if response.status_code >= 400:
                expected = "text/html" if page or path.startswith("/static/") else (
                    "application/problem+json")
                assert response.mimetype == expected, where
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

    monkeypatch.setattr(reporting, "list_incident_records", away)
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

    monkeypatch.setattr(reporting, "list_incident_records", away)
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

    monkeypatch.setattr(reporting, "list_incident_records", wrong)
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


# -- the repository stands alone ----------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ("incidents", "scheduler", "migrations", "tests", "docs", "bench",
           "README.md", "Makefile", "pyproject.toml", "wsgi.py")
TEXT_SUFFIXES = {".py", ".md", ".html", ".toml", ".js", ".mjs", ".css", ".lua", ".po", ".pot",
                 ".mako", ".ini", ".cfg", ".json", ".txt", ".sh", ".yml", ".yaml"}
SKIPPED_DIRS = {"node_modules", ".venv", "__pycache__", ".pytest_cache", ".hypothesis"}
# Design documents outside the repository, and tracker issues by number, by title or as a
# source. The scan skips the lines of this file that end with MARKER: the pattern and its samples.
MARKER = "# sample"
OUTSIDE_REFERENCE = re.compile(
    r"DESIGN\.md|DOMAIN\.md|STYLE\.md|\.\./shared"
    r"|(?i:\bissues?[ #-]*\d|\(issue\b|\bissue:|\bissue's\b|\bissue brief\b"  # sample
    r"|\b(?:the|this|that) issue\b)"
)


def _scanned_files() -> list[Path]:
    files = []
    for name in SCANNED:
        top = ROOT / name
        if top.is_file():
            files.append(top)
            continue
        for path in sorted(top.rglob("*")):
            parts = set(path.relative_to(ROOT).parts)
            if path.is_file() and path.suffix in TEXT_SUFFIXES and not parts & SKIPPED_DIRS:
                files.append(path)
    return files


def _outside_references(path: Path, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if path == Path(__file__).resolve() and line.endswith(MARKER):
            continue
        if OUTSIDE_REFERENCE.search(line):
            found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    return found


def test_the_pattern_catches_the_spellings_it_is_for():
    """The ways a pointer outside the repository has been written, and words that are not one."""
    caught = [
        "(BRÅ 2016:13; DESIGN.md §2)", "DOMAIN.md: retention", "see STYLE.md",  # sample
        "../shared/DESIGN.md", "Targets (issue 7): under 60 s", "issue #12",  # sample
        "(issue: keeping the reporter informed)", "Issue: links removed",  # sample
        "the foundation issue's acceptance path", "the issue says so",  # sample
        "as this issue asks", "per the issue", "Issue brief: audit entries",  # sample
    ]
    passed = ["(BRÅ 2016:13; docs/domain.md)", "flask --app wsgi tokens issue EMAIL",
              "Issue local bearer tokens.", "def issue(runner, email):", "Now issue a token",
              "Provider(issuer, configuration)", "arbetsmiljölagen 3 kap. 3 a §"]
    assert [text for text in caught if not OUTSIDE_REFERENCE.search(text)] == []
    assert [text for text in passed if OUTSIDE_REFERENCE.search(text)] == []


def test_no_file_points_outside_the_repository():
    """Code, comments, tests and docs name no design document kept outside the repository and no
    tracker issue. A rule's reason is written out here, or in docs/, where a reader of the
    repository finds it."""
    files = _scanned_files()
    assert len(files) > 100 and ROOT / "README.md" in files
    found = [hit for path in files
             for hit in _outside_references(path, path.read_text(encoding="utf-8"))]
    assert found == [], "pointers outside the repository:\n" + "\n".join(found)
