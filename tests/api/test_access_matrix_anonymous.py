"""Access matrix, part 3: the anonymous channel (docs/roles-and-access.md, "The anonymous
channel").

* No token is needed, and a token sent along is ignored and never read: it neither lets anyone
  in nor keeps anyone out.
* The report and its thread are for whoever holds the receipt code (X-Receipt-Code): a missing
  code is 401; a wrong code, another report's code and an unknown reference are the same 404.
* An anonymous report is in the scope of hr and of the managers above its unit, like any report;
  nobody is its exposed employee, so no handler is excluded. Others get the 404 of an incident
  that does not exist.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from incidents.extensions import limiter
from tests.anonymous_helpers import report_and_publish
from tests.api.test_access_matrix import (
    BAD_TOKEN,
    NO_TOKEN,
    Matrix,
    Row,
    Who,
    authorization_headers,
    grouped,
)

REPORT = "/api/v1/anonymous-reports/{reference}"
CODE = {"X-Receipt-Code": "{code}"}
WRONG_CODE = "ABCD-EFGH-JKMN-PQRS-TVWX"

ROLE_USERS = {
    "employee": "employee_a1",
    "manager_in": "manager_a",  # leads avdelning A, above A1 where the report is
    "manager_out": "manager_b1",
    "hr": "hr",
    "admin": "admin",
    "admin_hr": "admin_hr",
}

# -- the receipt code ---------------------------------------------------------------------------
#
# report_a and report_b: two anonymous reports on A1, each with its own receipt code; and a
# report by employee_a1, whose reference no receipt code opens.

RECEIPT_COLUMNS = {
    "code": Who(NO_TOKEN, headers=CODE),
    "code_and_a_bad_token": Who(BAD_TOKEN, headers=CODE),  # the token is never read
    "code_and_hr_token": Who("hr", headers=CODE),
    "no_code": Who(NO_TOKEN),
    "wrong_code": Who(NO_TOKEN, headers={"X-Receipt-Code": WRONG_CODE}),
    "other_reports_code": Who(NO_TOKEN, on={"code": "code_b"}, headers=CODE),
    "unknown_reference": Who(NO_TOKEN, on={"reference": "unknown_reference"}, headers=CODE),
    "named_reports_reference": Who(NO_TOKEN, on={"reference": "named_reference"}, headers=CODE),
    # a token, whoever's, is no receipt code
    **{role: Who(user) for role, user in ROLE_USERS.items()},
    "bad_token": Who(BAD_TOKEN),
}


def receipt_holder(ok: int) -> dict[str, int]:
    return {
        "code": ok,
        "code_and_a_bad_token": ok,
        "code_and_hr_token": ok,
        "no_code": 401,
        "wrong_code": 404,
        "other_reports_code": 404,
        "unknown_reference": 404,
        "named_reports_reference": 404,
        **dict.fromkeys(ROLE_USERS, 401),
        "bad_token": 401,
    }


RECEIPT_ROWS = [
    Row("GET", REPORT, receipt_holder(200)),
    Row("GET", f"{REPORT}/messages", receipt_holder(200)),
    Row("POST", f"{REPORT}/messages", receipt_holder(201), body={"body": "Hur går det?"}),
]

#: Reporting anonymously: anyone, with or without a token (which is ignored).
NEW_REPORT = Row(
    "POST",
    "/api/v1/anonymous-reports",
    {"no_token": 201, "bad_token": 201, **dict.fromkeys(ROLE_USERS, 201)},
    body=lambda ids: {
        "category": "threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "unit_id": ids["a1"],
        "description": "Han sa att han vet var jag bor.",
    },
    who={"no_token": Who(NO_TOKEN), "bad_token": Who(BAD_TOKEN)},
)

# -- the anonymous report as an incident, for its handlers ---------------------------------------

INCIDENT_COLUMNS = {
    "no_token": Who(NO_TOKEN, on={"incident": "report_a"}),
    **{role: Who(user, on={"incident": "report_a"}) for role, user in ROLE_USERS.items()},
    "missing": Who("hr", on={"incident": "missing"}),
}


def handlers(ok: int) -> dict[str, int]:
    return {
        "no_token": 401,
        "employee": 404,
        "manager_in": ok,
        "manager_out": 404,
        "hr": ok,
        "admin": 404,
        "admin_hr": ok,
        "missing": 404,
    }


INCIDENT = "/api/v1/incidents/{incident}"
INCIDENT_ROWS = [
    Row("GET", INCIDENT, handlers(200)),
    Row("POST", f"{INCIDENT}/acknowledge", handlers(200)),
    Row("GET", f"{INCIDENT}/messages", handlers(200)),
    Row("POST", f"{INCIDENT}/messages", handlers(201), body={"body": "Vi har tagit emot det."}),
]

#: Every (method, path) this file covers, for the coverage guard.
COVERS = [(row.method, row.path) for row in [*RECEIPT_ROWS, NEW_REPORT]]


# -- the world ----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_rate_limits(app, monkeypatch):
    """Each column is a new request from the same client: the limits are not what is tested."""
    monkeypatch.setitem(app.config, "ANONYMOUS_REPORT_RATE_LIMIT", "1000 per hour")
    monkeypatch.setitem(app.config, "ANONYMOUS_READ_RATE_LIMIT", "1000 per hour")
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def anonymous_world(app, client, make, org, db_session) -> Matrix:
    ids: dict[str, object] = {"a1": org.a1.id}
    for name in ("a", "b"):
        incident, code = report_and_publish({
            "category": "threat",
            "perceived_influence_purpose": "yes",
            "occurred_at": datetime.now(UTC) - timedelta(hours=2),
            "unit_id": org.a1.id,
            "description": "Klienten följde efter mig till bussen.",
        })
        db_session.commit()
        ids[f"report_{name}"] = incident.id
        ids[f"reference_{name}"] = incident.reference
        ids[f"code_{name}"] = code
    ids["reference"], ids["code"] = ids["reference_a"], ids["code_a"]
    ids["unknown_reference"] = "OP-1999-999999"
    ids["named_reference"] = make.incident(org.employee_a1, org.a1).reference
    ids["missing"] = ids["report_b"] + 1000
    users = {user: getattr(org, user) for user in ROLE_USERS.values()}
    matrix = Matrix(
        client=client,
        connection=db_session.get_bind(),
        ids=ids,
        authorization=authorization_headers(app, users),
        columns={},
    )
    db_session.commit()  # from here on the test's own session stays out of the way
    return matrix


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows", grouped(RECEIPT_ROWS, frozenset(RECEIPT_COLUMNS), by=lambda row: "receipt code")
)
def test_an_anonymous_report_is_for_whoever_holds_its_receipt_code(anonymous_world, rows):
    replace(
        anonymous_world,
        columns=RECEIPT_COLUMNS,
        same_404_as="unknown_reference",
        challenge="X-Receipt-Code",
    ).run(*rows)


def test_anyone_may_report_anonymously_and_a_token_is_ignored(anonymous_world):
    columns = {role: Who(user) for role, user in ROLE_USERS.items()}
    replace(anonymous_world, columns=columns).run(NEW_REPORT)


@pytest.mark.parametrize(
    "rows", grouped(INCIDENT_ROWS, frozenset(INCIDENT_COLUMNS), by=lambda row: "handlers")
)
def test_an_anonymous_report_is_handled_by_the_managers_above_its_unit_and_hr(
    anonymous_world, rows
):
    replace(
        anonymous_world, columns=INCIDENT_COLUMNS, audits_denials=True, same_404_as="missing"
    ).run(*rows)
