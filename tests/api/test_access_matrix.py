"""Access matrix: every endpoint in incidents/api × every role × in and out of scope.

This file holds the foundation's endpoints (units, users, settings, me, audit, incidents) and the
table-driven machinery the other parts share: test_access_matrix_case.py (the parts of a case),
test_access_matrix_anonymous.py, test_access_matrix_stats.py (statistics, surveys, workshops,
summaries). test_access_matrix_coverage.py fails for an endpoint that none of them covers.

The rules (docs/roles-and-access.md):

* employee; manager — the units they lead and every unit below them; hr — all incidents;
  admin — units and users, no incident contents unless also hr. Roles combine. Everyone sees
  what they reported and what was reported on their behalf (``on_behalf_of``).
* No or a bad token: 401 with a JSON body. A role that is not allowed: 403. An incident outside
  the caller's scope: 404, with the same body as one that does not exist.
* Only the reporter changes a report (403 for others who can see it), and only with If-Match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import jwt
import pytest
import sqlalchemy as sa

from incidents.auth import issue_local_token
from incidents.extensions import db
from incidents.models import AuditEntry, Unit, User

# -- the world every test runs in ------------------------------------------------------------

#: What each role is played by in the role matrix (users of tests.factories.build_org).
ROLES = {
    "employee": "employee_a1",
    "manager": "manager_a",
    "manager_out": "manager_b1",  # leads B1 only; for these endpoints the role is what counts
    "hr": "hr",
    "admin": "admin",
    "admin_hr": "admin_hr",
}

#: Incidents of the world: name → (reporter, unit, reported on behalf of).
INCIDENTS = {
    "a1_by_employee": ("employee_a1", "a1", None),
    "a1_for_employee": ("colleague_a1", "a1", "employee_a1"),
    "a1_by_colleague": ("colleague_a1", "a1", None),
    "a2_by_colleague": ("colleague_a1", "a2", None),
    "b1_by_employee_b1": ("employee_b1", "b1", None),
    "dept_b_by_employee_b1": ("employee_b1", "dept_b", None),
    "b1_by_manager_a": ("manager_a", "b1", None),
    "forv_by_hr": ("hr", "forv", None),
}
ALL = frozenset(INCIDENTS)
SUBTREE_A = frozenset({"a1_by_employee", "a1_for_employee", "a1_by_colleague", "a2_by_colleague"})

#: Exactly the incidents each user may see.
VISIBLE = {
    # own report + the one a colleague made on their behalf; not a colleague's in the same unit
    "employee_a1": frozenset({"a1_by_employee", "a1_for_employee"}),
    "colleague_a1": frozenset({"a1_for_employee", "a1_by_colleague", "a2_by_colleague"}),
    "employee_b1": frozenset({"b1_by_employee_b1", "dept_b_by_employee_b1"}),
    # leads avdelning A: A1 and A2 below it, plus their own report on B1
    "manager_a": SUBTREE_A | {"b1_by_manager_a"},
    # leads B1 only: not avdelning B above it
    "manager_b1": frozenset({"b1_by_employee_b1", "b1_by_manager_a"}),
    # leads A2 and avdelning B (so B1 too)
    "manager_multi": frozenset(
        {"a2_by_colleague", "b1_by_employee_b1", "dept_b_by_employee_b1", "b1_by_manager_a"}
    ),
    "hr": ALL,
    "admin": frozenset(),
    "admin_hr": ALL,
}


@dataclass
class World:
    users: dict[str, User]
    units: dict[str, Unit]
    incidents: dict[str, int]

    def path(self, template: str) -> str:
        """Fill ``{a1}``, ``{employee_b1}`` … in a path with the ids of this world."""
        ids = {name: unit.id for name, unit in self.units.items()}
        ids.update({name: user.id for name, user in self.users.items()})
        return template.format(**ids)

    def name_of(self, incident_id: int) -> str:
        return next(name for name, id_ in self.incidents.items() if id_ == incident_id)

    def missing_incident_id(self) -> int:
        return max(self.incidents.values()) + 1000


@pytest.fixture
def world(make, org) -> World:
    return build_world(make, org, INCIDENTS)


@pytest.fixture
def people(make, org) -> World:
    """The units and users of the world with a single incident: for the tests that do not look
    at the scope (role gates, tokens), which need no more and run faster without."""
    return build_world(make, org, {"a1_by_employee": INCIDENTS["a1_by_employee"]})


def build_world(make, org, reported: dict[str, tuple[str, str, str | None]]) -> World:
    units = {
        name: getattr(org, name) for name in ("root", "forv", "dept_a", "a1", "a2", "dept_b", "b1")
    }
    units["spare"] = make.unit("Reservenhet", "enhet", org.forv)  # nothing refers to it
    users = {
        name: getattr(org, name)
        for name in (
            "employee_a1",
            "colleague_a1",
            "employee_b1",
            "manager_a",
            "manager_b1",
            "hr",
            "admin",
            "admin_hr",
        )
    }
    users["manager_multi"] = make.user(
        "employee", "manager", unit=org.a2, leads=(org.a2, org.dept_b)
    )
    incidents = {}
    for name, (reporter, unit, on_behalf_of) in reported.items():
        overrides = {"on_behalf_of": users[on_behalf_of].id} if on_behalf_of else {}
        incidents[name] = make.incident(users[reporter], units[unit], **overrides).id
    return World(users=users, units=units, incidents=incidents)


def call(client, method: str, path: str, headers: dict[str, str], body: Any = None):
    return client.open(path, method=method, headers=headers, json=body)


def assert_problem(response, status: int) -> dict:
    """The status is exactly ``status`` and the body is a JSON problem saying so."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.content_type
    body = response.get_json()
    assert body["status"] == status
    return body


def incident_body(world: World, **extra) -> dict:
    return {
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "unit_id": world.units["a1"].id,
        "description": "He said he would wait for me outside.",
        **extra,
    }


# -- endpoints gated by role alone --------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    name: str
    method: str
    path: str
    body: dict | None
    expected: dict[str, int]  # role → status


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def only(status: int, *roles: str) -> dict[str, int]:
    return {role: status if role in roles else 403 for role in ROLES}


GATES = [
    Gate("units-list-any-signed-in", "GET", "/api/v1/units", None, everyone(200)),
    Gate("units-read-any-signed-in", "GET", "/api/v1/units/{a1}", None, everyone(200)),
    Gate(
        "units-create-admin-only",
        "POST",
        "/api/v1/units",
        {"name": "Ny enhet", "kind": "enhet"},
        only(201, "admin", "admin_hr"),
    ),
    Gate(
        "units-change-admin-only",
        "PATCH",
        "/api/v1/units/{spare}",
        {"name": "Omdöpt enhet"},
        only(200, "admin", "admin_hr"),
    ),
    Gate(
        "units-delete-admin-only",
        "DELETE",
        "/api/v1/units/{spare}",
        None,
        only(204, "admin", "admin_hr"),
    ),
    Gate(
        "headcounts-admin-or-hr",
        "PUT",
        "/api/v1/units/{a1}/headcounts/2025",
        {"count": 12},
        only(201, "admin", "hr", "admin_hr"),
    ),
    Gate("users-list-admin-only", "GET", "/api/v1/users", None, only(200, "admin", "admin_hr")),
    Gate(
        "users-create-admin-only",
        "POST",
        "/api/v1/users",
        {"email": "ny@stad.example", "name": "Ny Person", "roles": ["employee"]},
        only(201, "admin", "admin_hr"),
    ),
    Gate(
        "users-read-admin-only",
        "GET",
        "/api/v1/users/{employee_b1}",
        None,
        only(200, "admin", "admin_hr"),
    ),
    Gate(
        "users-change-admin-only",
        "PATCH",
        "/api/v1/users/{employee_b1}",
        {"name": "Nytt Namn"},
        only(200, "admin", "admin_hr"),
    ),
    Gate("settings-read-admin-only", "GET", "/api/v1/settings", None,
         only(200, "admin", "admin_hr")),
    Gate(
        "settings-change-admin-only",
        "PATCH",
        "/api/v1/settings",
        {"ACKNOWLEDGE_WITHIN_HOURS": 36},
        only(200, "admin", "admin_hr"),
    ),
    Gate(
        "settings-reset-admin-only",
        "DELETE",
        "/api/v1/settings/ACKNOWLEDGE_WITHIN_HOURS",
        None,
        only(200, "admin", "admin_hr"),
    ),
    Gate("me-any-signed-in", "GET", "/api/v1/me", None, everyone(200)),
    # Everyone lists the entries their scope holds (tests/api/test_audit_scope.py says which).
    Gate("audit-any-signed-in", "GET", "/api/v1/audit", None, everyone(200)),
]


def etag_read_by_admin(client, make, world: World, path: str) -> str:
    response = client.get(path, headers=make.headers(world.users["admin"]))
    assert response.status_code == 200
    return response.headers["ETag"]


@pytest.mark.parametrize(
    ("gate", "role"),
    [
        pytest.param(gate, role, id=f"{gate.name}-{role}-{gate.expected[role]}")
        for gate in GATES
        for role in ROLES
    ],
)
def test_each_endpoint_admits_exactly_the_roles_its_rule_names(
    client, make, people, db_session, gate, role
):
    path = people.path(gate.path)
    extra = {}
    if gate.method == "PATCH":  # send the current ETag, so only the role can stand in the way
        extra["If-Match"] = etag_read_by_admin(client, make, people, path)
    headers = make.headers(people.users[ROLES[role]], **extra)

    before = snapshot(db_session.get_bind())

    response = call(client, gate.method, path, headers, gate.body)

    expected = gate.expected[role]
    if expected == 403:
        assert_problem(response, 403)
        assert changed_tables(before, snapshot(db_session.get_bind())) == []
    else:
        assert response.status_code == expected, response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["employee", "manager", "hr"])
def test_no_one_but_an_admin_can_give_themselves_the_admin_role(client, make, people, role):
    user = people.users[ROLES[role]]
    path = people.path(f"/api/v1/users/{user.id}")
    etag = etag_read_by_admin(client, make, people, path)

    response = client.patch(
        path,
        json={"roles": [*user.roles, "admin"]},
        headers=make.headers(user, **{"If-Match": etag}),
    )

    assert_problem(response, 403)
    me = client.get("/api/v1/me", headers=make.headers(user)).get_json()
    assert "admin" not in me["roles"]


@pytest.mark.parametrize("role", list(ROLES))
def test_me_tells_every_signed_in_user_who_they_are(client, make, people, role):
    user = people.users[ROLES[role]]

    response = client.get("/api/v1/me", headers=make.headers(user))

    assert response.status_code == 200
    assert response.get_json()["id"] == user.id
    assert sorted(response.get_json()["roles"]) == sorted(user.roles)


# -- no token, bad tokens -----------------------------------------------------------------------

PROTECTED = [
    ("GET", "/api/v1/incidents", None),
    ("POST", "/api/v1/incidents", "incident"),
    ("GET", "/api/v1/incidents/{incident}", None),
    ("PATCH", "/api/v1/incidents/{incident}", {"description": "Ändrad."}),
    *((gate.method, gate.path, gate.body) for gate in GATES),
]


def _claims(app, sub: str, **overrides) -> dict:
    now = datetime.now(UTC)
    return {
        "iss": app.config["TOKEN_ISSUER"],
        "aud": app.config["TOKEN_AUDIENCE"],
        "sub": sub,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(hours=1),
        **overrides,
    }


_OTHER_SECRET = "a-different-secret-that-is-also-long-enough-for-hs256-987654"


def _signed(app, claims: dict) -> str:
    return "Bearer " + jwt.encode(claims, app.config["SECRET_KEY"], algorithm="HS256")


def bad_authorization(kind: str, app, make, world: World) -> str | None:
    """An Authorization header value that must not get anyone in (None: no header at all)."""
    user_id = str(world.users["admin_hr"].id)  # the user who could do most, were it accepted
    hour = timedelta(hours=1)
    if kind == "no header":
        return None
    if kind == "basic scheme":
        return "Basic YWRtaW46YWRtaW4="
    if kind == "bearer without token":
        return "Bearer "
    if kind == "malformed":
        return "Bearer not-a-jwt"
    if kind == "wrong signature":
        return "Bearer " + jwt.encode(_claims(app, user_id), _OTHER_SECRET, algorithm="HS256")
    if kind == "alg none":
        return "Bearer " + jwt.encode(_claims(app, user_id), None, algorithm="none")
    if kind == "expired":
        now = datetime.now(UTC)
        return _signed(app, _claims(app, user_id, iat=now - 3 * hour, exp=now - hour))
    if kind == "wrong audience":
        return _signed(app, _claims(app, user_id, aud="another-service"))
    if kind == "wrong issuer":
        return _signed(app, _claims(app, user_id, iss="someone-else"))
    if kind == "unknown user":
        return _signed(app, _claims(app, str(max(u.id for u in world.users.values()) + 1000)))
    if kind == "deactivated user":
        return make.headers(make.user("employee", "hr", "admin", active=False))["Authorization"]
    raise AssertionError(kind)


BAD_TOKENS = [
    "no header",
    "basic scheme",
    "bearer without token",
    "malformed",
    "wrong signature",
    "alg none",
    "expired",
    "wrong audience",
    "wrong issuer",
    "unknown user",
    "deactivated user",
]


def assert_unauthorized(response) -> None:
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_every_kind_of_bad_token_is_401_with_a_json_body(app, client, make, people, kind):
    value = bad_authorization(kind, app, make, people)
    headers = {} if value is None else {"Authorization": value}

    assert_unauthorized(client.get("/api/v1/me", headers=headers))


@pytest.mark.parametrize("kind", ["no header", "wrong signature"])
@pytest.mark.parametrize(
    ("method", "template", "body"),
    PROTECTED,
    ids=[f"{method} {template}" for method, template, _ in PROTECTED],
)
def test_every_protected_endpoint_is_401_without_a_valid_token(
    app, client, make, people, method, template, body, kind
):
    value = bad_authorization(kind, app, make, people)
    headers = {} if value is None else {"Authorization": value}
    if body == "incident":
        body = incident_body(people)
    path = people.path(template.replace("{incident}", str(people.incidents["a1_by_employee"])))

    assert_unauthorized(call(client, method, path, headers, body))


@pytest.mark.parametrize("kind", ["no header", "malformed", "valid employee token"])
def test_categories_are_public(app, client, make, people, kind):
    if kind == "valid employee token":
        headers = make.headers(people.users["employee_a1"])
    else:
        value = bad_authorization(kind, app, make, people)
        headers = {} if value is None else {"Authorization": value}

    response = client.get("/api/v1/categories", headers=headers)

    assert response.status_code == 200
    assert len(response.get_json()) == 5


@pytest.mark.parametrize("path", ["/api/v1/health/live", "/api/v1/health/ready"])
@pytest.mark.parametrize("kind", ["no header", "malformed", "valid employee token"])
def test_liveness_and_readiness_are_public(app, client, make, people, kind, path):
    """Load balancers call them without credentials; neither answer holds personal data."""
    if kind == "valid employee token":
        headers = make.headers(people.users["employee_a1"])
    else:
        value = bad_authorization(kind, app, make, people)
        headers = {} if value is None else {"Authorization": value}

    response = client.get(path, headers=headers)

    assert response.status_code == 200


# -- incidents: reporting -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("employee", 201),
        ("manager", 201),
        ("manager_out", 201),
        ("hr", 201),
        ("admin", 403),
        ("admin_hr", 201),
    ],
)
def test_every_role_but_a_pure_admin_may_report_an_incident(client, make, world, role, expected):
    user = world.users[ROLES[role]]
    hr = make.headers(world.users["hr"])
    before = {i["id"] for i in client.get("/api/v1/incidents", headers=hr).get_json()["items"]}

    response = client.post(
        "/api/v1/incidents", json=incident_body(world), headers=make.headers(user)
    )

    after = {i["id"] for i in client.get("/api/v1/incidents", headers=hr).get_json()["items"]}
    if expected == 403:
        assert_problem(response, 403)
        assert after == before  # nothing was written
    else:
        assert response.status_code == 201, response.get_data(as_text=True)
        created = response.get_json()
        assert created["reporter_id"] == user.id
        assert after == before | {created["id"]}


def test_a_pure_admin_cannot_report_and_sees_no_incident(client, make, world):
    headers = make.headers(world.users["admin"])

    reported = client.post("/api/v1/incidents", json=incident_body(world), headers=headers)

    assert_problem(reported, 403)
    assert client.get("/api/v1/incidents", headers=headers).get_json()["items"] == []
    for incident_id in world.incidents.values():
        assert_problem(client.get(f"/api/v1/incidents/{incident_id}", headers=headers), 404)


# -- incidents: reading -------------------------------------------------------------------------


def listed(client, make, world: World, user_name: str, **query) -> set[str]:
    response = client.get(
        "/api/v1/incidents", query_string=query, headers=make.headers(world.users[user_name])
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return {world.name_of(item["id"]) for item in response.get_json()["items"]}


@pytest.mark.parametrize("user_name", list(VISIBLE))
def test_incident_list_holds_exactly_the_callers_scope(client, make, world, user_name):
    assert listed(client, make, world, user_name) == VISIBLE[user_name]


@pytest.mark.parametrize(
    ("user_name", "unit", "expected"),
    [
        ("hr", "a1", SUBTREE_A - {"a2_by_colleague"}),
        ("hr", "dept_a", SUBTREE_A),  # A1 and A2 below it, nothing on avdelning A itself
        ("hr", "dept_b", {"b1_by_employee_b1", "dept_b_by_employee_b1", "b1_by_manager_a"}),
        ("hr", "root", ALL),
        ("hr", "spare", set()),
        # the filter narrows the scope, never widens it
        ("manager_a", "forv", VISIBLE["manager_a"]),
        ("manager_b1", "dept_b", {"b1_by_employee_b1", "b1_by_manager_a"}),
        ("manager_multi", "dept_b", VISIBLE["manager_multi"] - {"a2_by_colleague"}),
        ("employee_a1", "dept_a", VISIBLE["employee_a1"]),
        ("admin", "root", set()),
    ],
    ids=[
        "hr-a1-only-a1",
        "hr-dept_a-includes-a1-a2",
        "hr-dept_b-includes-b1",
        "hr-root-includes-everything",
        "hr-empty-unit-nothing",
        "manager_a-forv-stays-within-scope",
        "manager_b1-dept_b-stays-within-scope",
        "manager_multi-dept_b-includes-b1",
        "employee_a1-dept_a-stays-within-scope",
        "admin-root-nothing",
    ],
)
def test_incident_list_unit_filter_includes_sub_units_within_scope(
    client, make, world, user_name, unit, expected
):
    assert listed(client, make, world, user_name, unit_id=world.units[unit].id) == expected


@pytest.mark.parametrize(
    ("user_name", "incident"),
    [(user_name, incident) for user_name in VISIBLE for incident in INCIDENTS],
    ids=[
        f"{user_name}-{incident}-{200 if incident in VISIBLE[user_name] else 404}"
        for user_name in VISIBLE
        for incident in INCIDENTS
    ],
)
def test_reading_an_incident_is_200_in_scope_and_404_outside(
    client, make, world, user_name, incident
):
    incident_id = world.incidents[incident]

    response = client.get(
        f"/api/v1/incidents/{incident_id}", headers=make.headers(world.users[user_name])
    )

    if incident in VISIBLE[user_name]:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["id"] == incident_id
        assert response.headers["ETag"]
    else:
        body = assert_problem(response, 404)
        assert "description" not in body


def _shape(response, incident_id: int) -> tuple:
    body = response.get_json()
    return (
        response.status_code,
        response.content_type,
        sorted(body),
        body["title"],
        body["detail"].replace(str(incident_id), "<id>"),
    )


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_a_nonexistent_incident_gives_the_same_404_as_one_outside_the_scope(
    client, make, world, method
):
    headers = make.headers(world.users["employee_b1"])  # no If-Match: 404 must come before 428
    body = {"description": "Ändrad."} if method == "PATCH" else None
    outside = world.incidents["a1_by_employee"]
    missing = world.missing_incident_id()

    out_of_scope = call(client, method, f"/api/v1/incidents/{outside}", headers, body)
    nonexistent = call(client, method, f"/api/v1/incidents/{missing}", headers, body)

    assert_problem(out_of_scope, 404)
    assert _shape(nonexistent, missing) == _shape(out_of_scope, outside)


# -- incidents: changing ------------------------------------------------------------------------


def read_as_hr(client, make, world: World, incident_id: int):
    response = client.get(
        f"/api/v1/incidents/{incident_id}", headers=make.headers(world.users["hr"])
    )
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    ("user_name", "incident", "expected"),
    [
        ("employee_a1", "a1_by_employee", 200),  # the reporter
        ("colleague_a1", "a1_for_employee", 200),  # the reporter, for a colleague
        ("manager_a", "b1_by_manager_a", 200),  # the reporter, outside the units they lead
        ("hr", "forv_by_hr", 200),
        ("employee_a1", "a1_for_employee", 403),  # on whose behalf: sees it, may not change it
        ("manager_a", "a1_by_employee", 403),  # the manager of the unit
        ("manager_multi", "a2_by_colleague", 403),
        ("hr", "a1_by_employee", 403),
        ("admin_hr", "a1_by_employee", 403),
        ("colleague_a1", "a1_by_employee", 404),  # same unit, but not theirs
        ("employee_b1", "a1_by_employee", 404),
        ("manager_b1", "a1_by_employee", 404),
        ("manager_a", "b1_by_employee_b1", 404),
        ("admin", "a1_by_employee", 404),
    ],
    ids=lambda value: str(value),
)
def test_only_the_reporter_may_change_an_incident(
    client, make, world, user_name, incident, expected
):
    incident_id = world.incidents[incident]
    etag = read_as_hr(client, make, world, incident_id).headers["ETag"]
    before = read_as_hr(client, make, world, incident_id).get_json()["description"]

    response = client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"description": "Rättad beskrivning."},
        headers=make.headers(world.users[user_name], **{"If-Match": etag}),
    )

    after = read_as_hr(client, make, world, incident_id).get_json()["description"]
    if expected == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert after == "Rättad beskrivning."
    else:
        assert_problem(response, expected)
        assert after == before


@pytest.mark.parametrize(("if_match", "expected"), [(None, 428), ('"incident-0-v0"', 412)])
def test_the_reporter_changes_an_incident_only_with_its_current_etag(
    client, make, world, if_match, expected
):
    incident_id = world.incidents["a1_by_employee"]
    before = read_as_hr(client, make, world, incident_id).get_json()["description"]
    extra = {} if if_match is None else {"If-Match": if_match}

    response = client.patch(
        f"/api/v1/incidents/{incident_id}",
        json={"description": "Rättad beskrivning."},
        headers=make.headers(world.users["employee_a1"], **extra),
    )

    assert_problem(response, expected)
    assert read_as_hr(client, make, world, incident_id).get_json()["description"] == before


# -- nothing written ----------------------------------------------------------------------------


def snapshot(connection) -> dict[str, list[str]]:
    """Every row of every table, each as text, in one query. The audit trail's denials are kept
    apart (DENIALS): a refused request may leave its ``access_denied`` entry, and nothing else."""
    state: dict[str, list[str]] = {}
    for table, row in connection.exec_driver_sql(_snapshot_sql(connection.dialect)):
        state.setdefault(table, []).append(row)
    return {table: sorted(rows) for table, rows in state.items()}


def denials_of(state: dict[str, list[str]], incident_id: int) -> int:
    """How many access_denied entries of the incident a snapshot holds."""
    return sum(1 for row in state.get(DENIALS, []) if row.split("|")[4] == str(incident_id))


@cache
def _snapshot_sql(dialect) -> str:
    """The query as plain SQL, made once: a statement this large costs SQLAlchemy more to look
    up in its cache and bind than the database to run."""

    def as_text(column):
        if isinstance(column.type, sa.LargeBinary):  # bytes are not text: their hex digits
            if dialect.name == "sqlite":
                return sa.func.hex(column)
            return sa.func.encode(column, "hex")
        return sa.cast(column, sa.Text)

    def rows_of(table, name: str):
        row = sa.literal("")
        for column in table.columns:
            row = row.op("||")(sa.func.coalesce(as_text(column), "-")).op("||")("|")
        return sa.select(sa.literal(name, sa.Text).label("t"), row.label("r"))

    audit = AuditEntry.__table__
    selects = [rows_of(table, table.name) for table in db.metadata.sorted_tables
               if table is not audit]
    selects.append(rows_of(audit, audit.name).where(audit.c.outcome != "denied"))
    # The denials apart: (id, at, actor_id, action, incident_id, …), compared by incident_id.
    selects.append(rows_of(audit, DENIALS).where(audit.c.outcome == "denied"))
    query = sa.union_all(*selects)
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


DENIALS = "audit_entries (denied)"


def changed_tables(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    """The tables whose rows differ; new denials in the audit trail are not a change."""
    return sorted(
        name
        for name in before.keys() | after.keys()
        if name != DENIALS and before.get(name) != after.get(name)
    )


# -- the table-driven matrix of test_access_matrix_*.py -----------------------------------------
#
# A family of endpoints (a case's parts, the anonymous channel, statistics…) names its columns:
# who calls, with which token, on which object of its world. Each Row is one (method, path) of
# the API with the status every column expects. One test runs one row: it builds the world once
# and runs each column in a savepoint that is rolled back, so a write that succeeds for one
# column does not change what the next one sees.

NO_TOKEN = "<no token>"
BAD_TOKEN = "<wrong signature>"


@dataclass(frozen=True)
class Who:
    """A column: the caller (a user of the world, whose token is sent, or NO_TOKEN or
    BAD_TOKEN) and what the path's placeholders name, e.g. ``{"incident": "x"}``, plus query
    parameters and headers of its own."""

    user: str
    on: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    #: on success, one new audit entry whose detail starts so (e.g. unsuppressed statistics)
    audited: str | None = None


@dataclass(frozen=True)
class Row:
    """One (method, path) and the status each column expects.

    ``path``, header and query values may name placeholders ({incident}, {a1}, {survey}…),
    filled from the world's ids after the column's ``on`` and the row's ``on``. ``body`` is a
    dict or a function of the world's ids. ``state`` is what the family's world prepares
    before the columns run. ``who`` adds or overrides columns for this row. ``sees``: for a
    list, the names of exactly the objects a column gets back (by ``sees_key``). A row with a
    ``bug`` states the documented rule the app breaks today: a strict xfail (put the columns
    that fail in a row of their own, so that the other columns stay checked)."""

    method: str
    path: str
    expected: dict[str, int]
    body: Any = None
    state: str = ""
    on: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    who: dict[str, Who] = field(default_factory=dict)
    sees: dict[str, frozenset[str]] = field(default_factory=dict)
    sees_key: str = "id"
    bug: str | None = None
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or f"{self.method} {self.path}"


def grouped(rows: list[Row], required: frozenset[str], by=lambda row: row.state) -> list:
    """pytest params, one per group of rows that run in the same world (by default: the same
    ``state``), so that a test builds its world once for all of them. Each row is checked to
    name every column the family requires. Rows with a ``bug`` form groups of their own, strict
    xfails, so that the rows the app keeps stay checked."""
    for row in rows:
        missing = required - set(row.expected)
        assert not missing, f"{row.id}: no expected status for {sorted(missing)}"
    groups: dict[tuple[str, str | None], list[Row]] = {}
    for row in rows:
        groups.setdefault((by(row) or "as reported", row.bug), []).append(row)
    return [
        pytest.param(
            group,
            id=f"{key} (BUG)" if bug else key,
            marks=[pytest.mark.xfail(strict=True, reason=f"BUG: {bug}")] if bug else [],
        )
        for (key, bug), group in groups.items()
    ]


@dataclass
class Matrix:
    """What a family's rows run against: the world's ids by name, a prepared Authorization
    header per user, and the family's columns and rules."""

    client: Any
    connection: Any
    ids: dict[str, Any]
    authorization: dict[str, str]
    columns: dict[str, Who]
    #: incident endpoints: every 403 and 404 of an incident is audited as access_denied
    audits_denials: bool = False
    #: a column whose 404 every other 404 must equal, body and all (a nonexistent object)
    same_404_as: str | None = None
    #: the scheme a 401 names in WWW-Authenticate
    challenge: str = "Bearer"
    #: the database before each column (each runs in a savepoint that is rolled back)
    _before: dict[str, list[str]] | None = field(default=None, init=False, repr=False)

    def run(self, *rows: Row) -> None:
        """Every column of every row; fails listing each (row, column) that breaks its rule."""
        failures = [f"{row.method} {row.path}:\n  " + "\n  ".join(problems)
                    for row in rows if (problems := self.problems(row))]
        assert not failures, "\n".join(failures)

    def problems(self, row: Row) -> list[str]:
        columns = {**self.columns, **row.who}
        order = sorted(row.expected, key=lambda label: label != self.same_404_as)
        # Each column runs in a savepoint rolled back after it, so this is the state before each.
        self._before = None
        failures: list[str] = []
        reference_404 = None
        for label in order:
            who = columns[label]
            problem, response = self._run_column(row, who, row.expected[label])
            if problem:
                failures.append(f"{label} ({who.user}): {problem}")
                continue
            if row.expected[label] == 404 and self.same_404_as:
                if label == self.same_404_as:
                    reference_404 = _problem_shape(response)
                elif reference_404 is not None and _problem_shape(response) != reference_404:
                    failures.append(
                        f"{label} ({who.user}): the 404 differs from a nonexistent one's: "
                        f"{_problem_shape(response)} != {reference_404}"
                    )
            if label in row.sees:
                seen = _listed(response.get_json(), row.sees_key)
                wanted = {self.ids[name] for name in row.sees[label]}
                if seen != wanted:
                    names = {v: k for k, v in self.ids.items() if isinstance(v, int)}
                    failures.append(
                        f"{label} ({who.user}): sees {sorted(names.get(i, i) for i in seen)}, "
                        f"should see {sorted(row.sees[label])}"
                    )
        return failures

    def _values(self, row: Row, who: Who) -> dict[str, Any]:
        values = dict(self.ids)
        for placeholder, name in {**row.on, **who.on}.items():
            if name in self.ids:
                values[placeholder] = self.ids[name]
        return values

    def _headers(self, row: Row, who: Who, values: dict[str, Any]) -> dict[str, str]:
        headers = {k: v.format(**values) for k, v in {**row.headers, **who.headers}.items()}
        if who.user == BAD_TOKEN:
            headers["Authorization"] = self.authorization[BAD_TOKEN]
        elif who.user != NO_TOKEN:
            headers["Authorization"] = self.authorization[who.user]
        return headers

    def _run_column(self, row: Row, who: Who, expected: int):
        values = self._values(row, who)
        path = row.path.format(**values)
        query = {
            k: v.format(**values) if isinstance(v, str) else v
            for k, v in {**row.query, **who.query}.items()
        }
        headers = self._headers(row, who, values)
        body = row.body(values) if callable(row.body) else row.body
        incident_id = values.get("incident")
        refused = expected >= 400
        if (refused or who.audited) and self._before is None:
            self._before = snapshot(self.connection)
        savepoint = self.connection.begin_nested()
        try:
            response = self.client.open(
                path, method=row.method, headers=headers, query_string=query, json=body
            )
            problem = _status_problem(response, expected, self.challenge)
            checked = problem is None and (refused or who.audited)
            after = snapshot(self.connection) if checked else {}
            if problem is None and refused:
                written = changed_tables(self._before, after)
                if written:
                    problem = f"refused with {expected}, but wrote to {written}"
            if problem is None and self.audits_denials and expected in (403, 404):
                if denials_of(after, incident_id) != denials_of(self._before, incident_id) + 1:
                    problem = f"the {expected} was not audited as access_denied"
            if problem is None and who.audited and not refused:
                new = [entry for entry in after.get("audit_entries", [])
                       if entry not in self._before.get("audit_entries", [])]
                if not any(f"|{who.audited}" in entry for entry in new):
                    problem = f"not audited: no new entry '{who.audited}…' in {new}"
        finally:
            savepoint.rollback()
        return problem, response


def _status_problem(response, expected: int, challenge: str) -> str | None:
    """What is wrong with the response, if anything: the status, and for an error a JSON problem
    body of that status (a 401 also names its scheme in WWW-Authenticate)."""
    if response.status_code != expected:
        return f"expected {expected}, got {response.status_code}: {_text(response)}"
    if expected < 400:
        return None
    if not response.is_json or (response.get_json() or {}).get("status") != expected:
        return f"{expected} without a JSON problem body: {response.content_type} {_text(response)}"
    if expected == 401 and not response.headers.get("WWW-Authenticate", "").startswith(challenge):
        return f"401 without WWW-Authenticate: {challenge} …"
    return None


def _text(response) -> str:
    return response.get_data(as_text=True)[:300] if response.is_json else response.content_type


def _problem_shape(response) -> tuple:
    body = response.get_json()
    return (
        response.status_code,
        response.content_type,
        sorted(body),
        body["title"],
        re.sub(r"\d+", "<n>", body["detail"]),
        body.get("errors"),
    )


def _listed(body: Any, key: str) -> set:
    items = body["items"] if isinstance(body, dict) else body
    return {item[key] for item in items}


def authorization_headers(app, users: dict[str, User]) -> dict[str, str]:
    """An Authorization header per user of a world, and BAD_TOKEN: a token for the user who
    could do most (admin_hr), signed with another key."""
    headers = {name: f"Bearer {issue_local_token(user)}" for name, user in users.items()}
    claims = _claims(app, str(users["admin_hr"].id))
    headers[BAD_TOKEN] = "Bearer " + jwt.encode(claims, _OTHER_SECRET, algorithm="HS256")
    return headers


#: (method, path) of the endpoints the foundation tests above cover for every role: the
#: role gates, the incident endpoints (scope tests and 401s) and the public categories.
FOUNDATION_COVERS = [
    *((gate.method, gate.path) for gate in GATES),
    *((method, template) for method, template, _ in PROTECTED),
    ("GET", "/api/v1/categories"),  # test_categories_are_public
    ("GET", "/api/v1/health/live"),  # test_liveness_and_readiness_are_public
    ("GET", "/api/v1/health/ready"),
]
