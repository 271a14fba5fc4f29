"""Hostile input at every write endpoint (docs/errors.md).

For each row of corpus.ENDPOINTS, in a world where the valid call is accepted and the caller may
make it: every bad variant of the call is refused with the documented status and an
application/problem+json body that names the field at fault and shows no internals, and no row
of any table is written or changed. SQL and HTML fragments in text fields are content: stored
and returned verbatim. Variants the API gets wrong today are listed in KNOWN_BUGS and run on
their own as strict xfails, so that a fix shows up as an unexpected pass.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

import pytest
from sqlalchemy import func, inspect, select

from incidents.domain import AuditAction
from incidents.extensions import PROBLEM_JSON, db, limiter
from incidents.models import AuditEntry
from tests.anonymous_helpers import publish_held
from tests.hostile.corpus import (
    BY_NAME,
    ENDPOINTS,
    NOT_SHOWN,
    SAME,
    Call,
    Endpoint,
    Variant,
    World,
    documented_fields,
    payload,
    variants,
    with_path,
)

PROBLEM_KEYS = {"type", "title", "status", "detail"}
# What an answer must never show: a stack trace, the driver or the ORM, SQL.
LEAKS_ANY_CASE = ("traceback", "psycopg", "sqlalchemy", "sqlite3", 'file "/')
LEAKS = ("SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM")


# -- the bugs found -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bug:
    """Variants of one endpoint the API answers wrongly today. ``pattern``: globs of their
    names, separated by |; ``db``: only on that database."""

    endpoint: str
    pattern: str
    reason: str
    db: str | None = None


# The corpus found a dozen (a body ignored by operations that take none, lone surrogates, times
# offset past year 1 or 9999, far dates without a rule, lenient types, a period with a trailing
# line break, NUL in a path reaching PostgreSQL); all are fixed. A new one is listed here, with
# the answer it gets today, until it is fixed.
KNOWN_BUGS: list[Bug] = []


def _matches(variant: Variant, pattern: str) -> bool:
    return any(fnmatch(variant.name, glob) for glob in pattern.split("|"))


def _known(endpoint: Endpoint, variant: Variant) -> bool:
    return any(bug.endpoint == endpoint.name and _matches(variant, bug.pattern)
               for bug in KNOWN_BUGS)


def _bug_params() -> list:
    """One test per endpoint (and database) for all its known bugs: a world costs more than the
    variants, and the corpus must stay within its time budget. The test passes, and so fails as
    an unexpected pass, once every one of them is fixed."""
    grouped: dict[tuple[str, str | None], list[Bug]] = {}
    for bug in KNOWN_BUGS:
        grouped.setdefault((bug.endpoint, bug.db), []).append(bug)
    params = []
    for (endpoint, database), bugs in grouped.items():
        condition = True if database is None else f"config.getoption('--db') == '{database}'"
        reason = "BUG: " + " | ".join(f"[{bug.pattern}] {bug.reason}" for bug in bugs)
        pattern = "|".join(bug.pattern for bug in bugs)
        mark = pytest.mark.xfail(condition, reason=reason, strict=True, raises=AssertionError)
        params.append(pytest.param(BY_NAME[endpoint], pattern, marks=mark,
                                   id=f"{endpoint} [{pattern}]"))
    return params


# -- sending and looking ------------------------------------------------------------------------


class Crash:
    """The view raised. Under TESTING Flask re-raises instead of answering; a client would get a
    500, and a 500 is always a bug."""

    status_code = 500
    mimetype = None

    def __init__(self, error: Exception):
        self.error = error

    def get_json(self, silent: bool = True) -> None:
        return None

    def get_data(self, as_text: bool = False) -> str:
        return f"unhandled {type(self.error).__name__}: {self.error}"


def send(world: World, endpoint: Endpoint, call: Call, variant: Variant | None = None,
         body: Any = SAME):
    variant = variant or Variant("valid", call.ok)
    params = call.params if variant.params is None else variant.params
    data = variant.raw
    if data is None:
        content = variant.body if variant.body is not SAME else body
        content = call.body if content is SAME else content
        data = None if content is None else json.dumps(content).encode()
    headers = dict(call.headers)
    if data is not None:
        headers["Content-Type"] = variant.content_type
    limiter.reset()  # the anonymous channel's rate limit must not answer in the input's place
    try:
        return world.client.open(endpoint.path(params), method=endpoint.method, data=data,
                                 headers=headers)
    except Exception as error:  # any exception is the finding
        return Crash(error)


def names(errors: Any, path: str) -> bool:
    """Whether a problem body's ``errors`` names the field at the dotted ``path``, nested
    ({"outcome": {"code": …}}) or dotted ({"answers.threat.times": …})."""
    if not isinstance(errors, dict):
        return False
    if path in errors or any(str(key).startswith(f"{path}.") for key in errors):
        return True
    head, _, rest = path.partition(".")
    return bool(rest) and names(errors.get(head), rest)


def problems_with(response, variant: Variant) -> list[str]:
    text = response.get_data(as_text=True)
    if response.status_code not in variant.statuses:
        return [f"answered {response.status_code}, expected {variant.status}: {text[:300]}"]
    found = []
    if response.mimetype != PROBLEM_JSON:
        found.append(f"Content-Type {response.mimetype}, expected {PROBLEM_JSON}")
    problem = response.get_json(silent=True)
    if not isinstance(problem, dict) or not PROBLEM_KEYS <= set(problem):
        found.append(f"not a problem body: {text[:300]}")
        problem = {}
    elif problem["status"] != response.status_code:
        found.append(f"body status {problem['status']} ≠ {response.status_code}")
    if variant.fields and not any(names(problem.get("errors"), f) for f in variant.fields):
        found.append(f"errors do not name {' or '.join(variant.fields)}: {problem.get('errors')}")
    leaked = [w for w in LEAKS_ANY_CASE if w in text.lower()] + [w for w in LEAKS if w in text]
    if leaked:
        found.append(f"the body shows internals ({', '.join(leaked)}): {text[:300]}")
    return found


@functools.cache
def _counts_sql() -> str:
    counts = (f'(SELECT count(*) FROM "{table.name}")' for table in db.metadata.sorted_tables)
    return "SELECT " + ", ".join(counts)


@functools.cache
def _digests_sql(dialect: str) -> str:
    digests = []
    for table in db.metadata.sorted_tables:
        if dialect == "postgresql":
            digests.append(f"(SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), ''))"
                           f' FROM "{table.name}" AS r)')
        else:
            row = " || ',' || ".join(f'quote("{column.name}")' for column in table.columns)
            digests.append(f"(SELECT group_concat(x, '|') FROM"
                           f' (SELECT {row} AS x FROM "{table.name}" ORDER BY x))')
    return "SELECT " + ", ".join(digests)


def row_counts(session) -> dict[str, int]:
    """Every table → its number of rows, in one query (plain SQL: it runs after every variant,
    and building a statement anew each time would cost more than running it)."""
    row = session.connection().exec_driver_sql(_counts_sql()).one()
    return dict(zip((table.name for table in db.metadata.sorted_tables), row, strict=True))


def digests(session) -> dict[str, Any]:
    """Every table → a digest of all its rows, in one query: a refused request must not change
    a row either."""
    connection = session.connection()
    row = connection.exec_driver_sql(_digests_sql(connection.dialect.name)).one()
    return dict(zip((table.name for table in db.metadata.sorted_tables), row, strict=True))


def _denials_only(session, audit_id: int) -> bool:
    """Whether every audit entry after ``audit_id`` is an access denial."""
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.id > audit_id)).all()
    return all(action == AuditAction.ACCESS_DENIED for action in actions)


def refusals(world: World, endpoint: Endpoint, call: Call, chosen: list[Variant]) -> list[str]:
    """Send each variant; the failures, each naming its variant. The row counts of every table
    are compared around each request, and every row of every table around all of them: nothing
    may be written or changed but the audit entry of an access denial, where allowed."""
    failures = []
    digested = digests(world.session)
    before = row_counts(world.session)
    audit_id = world.session.scalar(select(func.max(AuditEntry.id))) or 0
    for variant in chosen:
        found = problems_with(send(world, endpoint, call, variant), variant)
        after = row_counts(world.session)
        changed = {name: f"{before[name]}→{after[name]}"
                   for name in after if after[name] != before[name]}
        if "audit_entries" in changed:
            if (variant.audited and list(changed) == ["audit_entries"]
                    and _denials_only(world.session, audit_id)):
                changed = {}
            audit_id = world.session.scalar(select(func.max(AuditEntry.id))) or 0
        if changed:
            found.append(f"rows written: {changed}")
        before = after
        if found:
            failures.append(f"{variant.name}: " + "; ".join(found))
    altered = [name for name, digest in digests(world.session).items()
               if digest != digested[name] and name != "audit_entries"]
    if altered:
        failures.append(f"rows changed by the refused requests in: {', '.join(altered)}")
    return failures


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner)


def stored_strings(session) -> set[str]:
    return {
        cell
        for table in db.metadata.sorted_tables
        for row in session.execute(select(table))
        for cell in row
        if isinstance(cell, str)
    }


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def world(client, make, org, db_session, monkeypatch) -> World:
    return World(client, make, org, db_session, monkeypatch)


@pytest.fixture(scope="session")
def spec(app) -> dict:
    return app.test_client().get("/api/v1/openapi.json").get_json()


def _all_variants(endpoint: Endpoint, call: Call, spec: dict, app) -> list[Variant]:
    return variants(endpoint, call, spec, app.config["MAX_CONTENT_LENGTH"])


# -- the tests ----------------------------------------------------------------------------------


def test_every_write_route_is_in_the_corpus(app):
    """A new write endpoint of the API needs its row in corpus.ENDPOINTS (the pages' forms go
    through the same schemas; tests/pages covers them)."""
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    }
    table = [(endpoint.method, endpoint.rule) for endpoint in ENDPOINTS]
    assert len(set(table)) == len(table), "a route has two rows"
    missing = sorted(routes - set(table))
    assert not missing, f"write routes without a row in corpus.ENDPOINTS: {missing}"
    stale = sorted(set(table) - routes)
    assert not stale, f"rows of corpus.ENDPOINTS for routes that do not exist: {stale}"


def hostile_text(endpoint: Endpoint, call: Call, spec: dict) -> tuple[Any, dict[Any, str]]:
    """The valid body with SQL and HTML fragments in every text field where they are content,
    and what was put in each field."""
    documented = documented_fields(spec, endpoint)
    body, sent = call.body, {}
    for index, text in enumerate(t for t in endpoint.text if t.injection):
        sent[text] = payload(index, documented[text.path][0]["maxLength"], text.multiline)
        body = with_path(body, text.path, sent[text])
    return body, sent


def not_kept_verbatim(world: World, call: Call, answer, sent: dict[Any, str]) -> list[str]:
    """What of ``sent`` was not stored verbatim, or not returned as the same JSON string; and
    whether a table went missing."""
    failures = []
    publish_held()  # what the anonymous channel holds is stored where it belongs at the hour
    tables = {table.name for table in db.metadata.sorted_tables}
    missing = tables - set(inspect(world.session.connection()).get_table_names())
    if missing:
        failures.append(f"tables gone: {sorted(missing)}")
    stored = stored_strings(world.session)
    for text, value in sent.items():
        if value not in stored:
            failures.append(f"{text.path} was not stored verbatim: {value!r}")
        if text.shown_by == NOT_SHOWN:
            continue
        shown = answer.get_json() if text.shown_by is None else text.shown_by(world, call, answer)
        if value not in set(strings(shown)):
            failures.append(f"{text.path} is not returned verbatim: {value!r} not in {shown}")
    return failures


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_bad_input_is_refused_then_the_valid_call_is_accepted(endpoint, world, spec, app):
    """Every variant but the known bugs is refused as documented and writes nothing. Then, in
    the same world, the valid call is accepted, so the refusals came from the input; it carries
    SQL and HTML fragments in every text field where they are content, and they are stored
    verbatim and returned as the same JSON strings, every table still there."""
    call = endpoint.world(world)
    chosen = [v for v in _all_variants(endpoint, call, spec, app) if not _known(endpoint, v)]
    failures = refusals(world, endpoint, call, chosen)
    body, sent = hostile_text(endpoint, call, spec)
    answer = send(world, endpoint, call, body=body)
    if answer.status_code in call.ok:
        failures += not_kept_verbatim(world, call, answer, sent)
    else:
        failures.append(f"the valid call was then refused: {answer.status_code} "
                        f"{answer.get_data(as_text=True)[:300]}")
    assert not failures, f"{len(failures)} failures, {len(chosen)} variants:\n" + "\n".join(
        failures)


@pytest.mark.parametrize(("endpoint", "pattern"), _bug_params())
def test_known_bugs(endpoint, pattern, world, spec, app):
    """The variants known bugs affect, refused as they should be (xfail while a bug is there)."""
    call = endpoint.world(world)
    chosen = [v for v in _all_variants(endpoint, call, spec, app) if _matches(v, pattern)]
    if not chosen:  # not an AssertionError, so the xfail cannot hide a stale pattern
        raise LookupError(f"{pattern!r} matches no variant of {endpoint.name}")
    failures = refusals(world, endpoint, call, chosen)
    assert not failures, "\n".join(failures)
