"""Property-based fuzzing of every operation in the OpenAPI description (schemathesis).

Each operation gets generated requests, valid and invalid, sent in-process to the Flask app;
every answer must be no 5xx, with a status code, content type and body the description
documents. The fuzzer signs in as a user who can reach the operation: an admin with the hr role
for every operation, and an employee for the reporting ones. Ids in the path, the query and
the body are steered to the objects of a small seeded world (tests/fuzz/conftest.py) most of
the time, and PATCH and PUT sometimes carry ``If-Match: *`` so that changes get past the
precondition check. Query parameters sometimes carry what an attack sent (HOSTILE_QUERY_VALUES):
a NUL, digits that are not ASCII, 5,000 digits, forged cursors. Each request runs in a
savepoint of its own that is rolled back, so the world stays as seeded; the anonymous
channel's rate limit is off meanwhile.

SQLite only (``sqlite_only``): CI's choice to keep the run short; what is fuzzed here is the
HTTP surface, and the rest of the suite runs on both databases. Deterministic: a fixed seed,
derandomized Hypothesis and no example database. FUZZ_MAX_EXAMPLES (default 15) sets the
examples per operation for a longer run, e.g. ``FUZZ_MAX_EXAMPLES=200 pytest tests/fuzz``.
"""

from __future__ import annotations

import base64
import json
import os
from contextlib import contextmanager

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "15"))
SEED = 20260310

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        # The coverage phase makes a request per boundary value of every parameter, hundreds
        # per operation regardless of max-examples; stateful links are not described.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    }
)

# Also sent as an employee, what an employee does: report, read and correct their reports,
# write in the thread, evaluate support, the anonymous channel, answer surveys, rate workshops.
EMPLOYEE_OPERATIONS = [
    "GET /api/v1/categories",
    "GET /api/v1/me",
    "GET /api/v1/units",
    "GET /api/v1/incidents",
    "POST /api/v1/incidents",
    "GET /api/v1/incidents/{incident_id}",
    "PATCH /api/v1/incidents/{incident_id}",
    "GET /api/v1/incidents/{incident_id}/messages",
    "POST /api/v1/incidents/{incident_id}/messages",
    "GET /api/v1/incidents/{incident_id}/support-measures",
    "GET /api/v1/incidents/{incident_id}/support-evaluation",
    "PUT /api/v1/incidents/{incident_id}/support-evaluation",
    "GET /api/v1/incidents/{incident_id}/police-report",
    "POST /api/v1/anonymous-reports",
    "GET /api/v1/anonymous-reports/{reference}",
    "POST /api/v1/anonymous-reports/{reference}/messages",
    "POST /api/v1/surveys/{survey_id}/responses",
    "POST /api/v1/workshops/{workshop_id}/ratings",
]

pytestmark = [pytest.mark.sqlite_only]


@contextmanager
def rolled_back(db_session):
    """One request in a savepoint that is rolled back: what it changed (a deactivated user, a
    deleted unit) is gone before the next."""
    savepoint = db_session.get_bind().begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


# Where a field or parameter names an object, the kind of id it takes from the world.
STEERED = {
    "unit_id": "unit_id",
    "parent_id": "unit_id",
    "unit_ids": "unit_id",
    "leads_unit_ids": "unit_id",
    "on_behalf_of": "user_id",
    "incident_id": "incident_id",
    "survey_id": "survey_id",
}
# Path ids that belong to one incident: the incident of the world that has them.
OWNED = {"measure_id", "check_in_id"}


def _forged_cursor(key, row_id) -> str:
    return base64.urlsafe_b64encode(json.dumps([key, row_id]).encode()).decode().rstrip("=")


# What an attack sent in query strings, each once a 500: a NUL, digits that are not ASCII,
# more digits than int() takes, and cursors naming an id or a time no row can have.
HOSTILE_QUERY_VALUES = ["\x00", "2026-01\x00", "\x1f", "١", "²", "1" * 5000]
FORGED_CURSORS = [
    _forged_cursor("2026-01-01T00:00:00+00:00", 10**30),
    _forged_cursor("0001-01-01T00:00:00+23:59", 1),
    _forged_cursor("9999-12-31T23:59:59-23:59", 1),
    _forged_cursor("2026-01-01", 2**63),
]


def _hostile_query(context):
    """Strategy: one of the operation's query parameters, alone, with a hostile value (alone,
    so that no other bad parameter answers in its place); the cursor, where there is one, half
    the time."""
    names = sorted({parameter.name for parameter in context.operation.query} - {"cursor"})
    pairs = [(name, value) for name in names for value in HOSTILE_QUERY_VALUES]
    strategies = [st.sampled_from(pairs)] if pairs else []
    if any(parameter.name == "cursor" for parameter in context.operation.query):
        strategies.append(st.sampled_from([("cursor", cursor) for cursor in FORGED_CURSORS]))
    if not strategies:
        return st.nothing()
    return st.one_of(*strategies).map(lambda pair: {pair[0]: pair[1]})


def _is_hostile(case) -> bool:
    return any(value in HOSTILE_QUERY_VALUES or value in FORGED_CURSORS
               for value in (case.query or {}).values() if isinstance(value, str))


def hostile_query_is_refused(ctx, response, case):
    """What an attack sent in the query is refused (4xx), not accepted: a NUL is a 500 only
    on PostgreSQL, and "١" (Arabic-Indic one) was read as 1 by int()."""
    if _is_hostile(case) and not 400 <= response.status_code < 500:
        raise AssertionError(f"{case.operation.label} with {case.query} answered "
                             f"{response.status_code}, expected a 4xx")


CHECKS = [
    not_a_server_error,
    hostile_query_is_refused,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _mostly(seeded, generated):
    return st.one_of(seeded, seeded, seeded, st.just(generated))


def _steer(world, generated, names):
    """Strategy: ``generated`` with the values that name objects (by ``names``) replaced by ids
    from the world, three times in four."""
    if not isinstance(generated, dict):
        return st.just(generated)
    known = {}
    for key, value in generated.items():
        ids = world.ids.get(names.get(key, ""))
        if ids is not None:
            one = st.sampled_from(ids)
            known[key] = st.lists(one, min_size=1, max_size=2) if isinstance(value, list) else one
    if not known:
        return st.just(generated)
    if OWNED & generated.keys() and "incident_id" in known:
        known["incident_id"] = st.just(world.case_id)

    def merged(ids):
        return {**generated, **ids}

    return _mostly(st.fixed_dictionaries(known).map(merged), generated)


def _steering(world):
    """Hooks: ids in the path, query and body mostly from the world, sometimes as generated;
    PATCH and PUT sometimes with If-Match: *."""
    path_names = {name: name for name in world.ids} | STEERED

    def flatmap_path_parameters(context, path_parameters):
        return _steer(world, path_parameters or {}, path_names)

    def flatmap_query(context, query):
        return st.one_of(_steer(world, query, STEERED), _hostile_query(context))

    def flatmap_body(context, body):
        return _steer(world, body, STEERED)

    def flatmap_headers(context, headers):
        generated = headers or {}
        if context.operation.method.upper() not in ("PATCH", "PUT"):
            return st.just(generated)
        return st.sampled_from([generated, {**generated, "If-Match": "*"}])

    return flatmap_path_parameters, flatmap_query, flatmap_body, flatmap_headers


@pytest.fixture
def api_schema(request, app, world):
    # schemathesis 4.32's lazy loader renames the test node through `_nodeid`, which pytest 9
    # no longer has (the id lives in `_id`, behind the `nodeid` property).
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    for hook in _steering(world):
        loaded.hook(hook)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


def _call(case, app, db_session, world, user):
    headers = {"Authorization": f"Bearer {world.tokens[user]}"}
    if "{reference}" in case.operation.path:
        headers["X-Receipt-Code"] = world.receipt_code
    # Each request in an application context of its own, as in production (IsolatedClient).
    with rolled_back(db_session), app.app_context():
        case.call_and_validate(headers=headers, checks=CHECKS)


@schema.parametrize()
def test_every_operation(case, app, db_session, world):
    """Each generated request as an admin with the hr role, who may call every operation; the
    reporting operations' requests also as an employee (one world, one generation, two users)."""
    _call(case, app, db_session, world, "admin_hr")
    if case.operation.label in EMPLOYEE_OPERATIONS:
        _call(case, app, db_session, world, "employee_a1")


def test_the_employee_operations_are_in_the_description(client):
    """A renamed path must not quietly drop out of the employee's fuzzing."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    described = {f"{method.upper()} {path}" for path, operations in paths.items()
                 for method in operations if method != "parameters"}
    assert set(EMPLOYEE_OPERATIONS) <= described
