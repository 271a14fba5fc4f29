"""An unexpected error is logged without SQL (docs/configuration.md, "When the database is
away": neither the answer nor the log shows the statement or its parameters). Found by an
attack: a value that failed while it was bound to a statement (a StatementError, not a driver
error) reached Flask's own log of the exception, statement and all."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from incidents.extensions import db
from incidents.models import Incident
from incidents.services import people

SECRET = "anna.secret@stad.example"  # a parameter: what a reporter wrote, say


def _bind_fails():
    """A value that cannot be bound: year 1 at +01:00 is before the first UTC moment."""
    moment = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    return list(db.session.scalars(sa.select(Incident).where(
        Incident.occurred_at < moment, Incident.description == SECRET)))


def _no_such_table():
    return list(db.session.execute(
        sa.text("SELECT * FROM no_such_table WHERE email = :email"), {"email": SECRET}))


def _chained():
    try:
        _no_such_table()
    except sa.exc.DBAPIError as exc:
        raise RuntimeError("while listing users") from exc


@pytest.mark.parametrize("failing", [_bind_fails, _no_such_table, _chained])
def test_an_unexpected_error_is_a_500_whose_log_has_no_sql(
    app, client, make, org, monkeypatch, caplog, failing
):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    monkeypatch.setattr(people, "list_users", lambda active=None: failing())
    with caplog.at_level(logging.ERROR):
        r = client.get("/api/v1/users", headers=make.headers(org.admin))
    assert r.status_code == 500
    assert r.get_json()["detail"] == "The server could not complete the request."
    logged = caplog.text + "".join(
        logging.Formatter().formatException(rec.exc_info) for rec in caplog.records
        if rec.exc_info)
    assert caplog.records, "the error was not logged at all"
    for sql in ("SELECT", "[SQL", "no_such_table WHERE", SECRET, "incidents.description"):
        assert sql not in logged, (sql, logged[-2000:])
