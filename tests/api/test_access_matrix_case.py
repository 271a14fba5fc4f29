"""Access matrix, part 2: the parts of a case after the report — life cycle, follow-up, support,
check-ins, the evaluation, the police report, reports to authorities and the message thread.

The rules (docs/roles-and-access.md, "Follow-up of a case" and "Case handlers"):

* A case handler is hr, or a manager who leads the incident's unit or a unit above it; never the
  exposed employee (the colleague reported for, else the reporter): nobody handles their own case.
* Case handlers change the case and read every part of it. The exposed employee reads status
  history, support, declined support, check-ins, the evaluation and the police report, and alone
  writes the evaluation. Someone who reported for a colleague sees the incident, not its parts.
  The thread is for the case handlers and the reporter's side (reporter and colleague).
* Outside the scope (the admin role adds none) the answer is 404, the same as for an incident
  that does not exist; inside it a caller not allowed gets 403. Both are audited. A refused
  request writes nothing else.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from incidents.models import Incident, UserRole
from tests.api.test_access_matrix import (
    BAD_TOKEN,
    NO_TOKEN,
    Matrix,
    Row,
    Who,
    authorization_headers,
    grouped,
)

INCIDENT = "/api/v1/incidents/{incident}"

# -- the world ----------------------------------------------------------------------------------
#
# x            reported by colleague_a1 for employee_a1, in A1 (led by manager_a through avd. A)
# own_manager  reported by manager_a for themselves, in A2, a unit they lead
# own_hr       reported by hr for themselves, on the förvaltning
# own_admin    reported by former_employee while an employee; the account now has only the admin
#              role (nobody can report for an admin-only account, so this is the only way)
# missing      an incident id that does not exist


def on(incident: str) -> dict[str, str]:
    """Placeholders of an incident's path: the incident and its measure and check-in."""
    return {
        "incident": incident,
        "measure": f"measure@{incident}",
        "measure_etag": f"measure_etag@{incident}",
        "check_in": f"check_in@{incident}",
    }


COLUMNS = {
    "no_token": Who(NO_TOKEN, on=on("x")),
    "bad_token": Who(BAD_TOKEN, on=on("x")),
    "exposed": Who("employee_a1", on=on("x")),  # the employee it was reported for
    "reporter": Who("colleague_a1", on=on("x")),  # reported it for the colleague
    "outsider": Who("employee_b1", on=on("x")),
    "manager_in": Who("manager_a", on=on("x")),
    "manager_out": Who("manager_b1", on=on("x")),
    "manager_below": Who("manager_a", on=on("own_hr")),  # leads a unit below the incident's
    "hr": Who("hr", on=on("x")),
    "admin": Who("admin", on=on("x")),
    "admin_hr": Who("admin_hr", on=on("x")),
    "manager_own": Who("manager_a", on=on("own_manager")),  # exposed in a unit they lead
    "hr_own": Who("hr", on=on("own_hr")),
    "admin_own": Who("former_employee", on=on("own_admin")),
    "missing": Who("hr", on=on("missing")),
}

#: The columns of an endpoint that no incident is named in: the roles.
ROLE_COLUMNS = frozenset(COLUMNS) - {"manager_below", "manager_own", "hr_own", "admin_own",
                                     "missing"}

#: Who handles each incident when the world prepares it, and who is its exposed employee.
HANDLER = "admin_hr"
EXPOSED = {
    "x": "employee_a1",
    "own_manager": "manager_a",
    "own_hr": "hr",
    "own_admin": "former_employee",
}


def rule(ok: int, *, handlers: bool, exposed: bool, reporter: bool = False) -> dict[str, int]:
    """The statuses of one rule of the table in docs/roles-and-access.md."""
    return {
        "no_token": 401,
        "bad_token": 401,
        "exposed": ok if exposed else 403,
        "reporter": ok if reporter else 403,
        "outsider": 404,
        "manager_in": ok if handlers else 403,
        "manager_out": 404,
        "manager_below": 404,
        "hr": ok if handlers else 403,
        "admin": 404,
        "admin_hr": ok if handlers else 403,
        "manager_own": ok if exposed else 403,
        "hr_own": ok if exposed else 403,
        "admin_own": ok if exposed else 403,
        "missing": 404,
    }


def handlers(ok: int) -> dict[str, int]:
    return rule(ok, handlers=True, exposed=False)


def handlers_or_exposed(ok: int) -> dict[str, int]:
    return rule(ok, handlers=True, exposed=True)


def exposed_only(ok: int) -> dict[str, int]:
    return rule(ok, handlers=False, exposed=True)


def reporters_side_or_handlers(ok: int) -> dict[str, int]:
    return rule(ok, handlers=True, exposed=True, reporter=True)


def _hour_ago(_ids) -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


EVALUATION = {"sufficient": "yes", "relevant": "partly", "felt_supported_by_employer": 4}

FOLLOW_UP = {"type": "conversation", "note": "Samtal hållet."}
POLICE_DECISION = {"decision": "do_not_report", "decision_reason": "Ingen brottsmisstanke."}
MEASURE = "/support-measures/{measure}"
CHECK_IN = "/check-ins/{check_in}/complete"

#: The rows, in the order of the table in docs/roles-and-access.md. ``state``: what every
#: incident of the world has been through first (CaseWorld.prepare).
ROWS = [
    Row("POST", INCIDENT + "/acknowledge", handlers(200)),
    Row("POST", INCIDENT + "/close", handlers(200), state="ready to close"),
    Row("POST", INCIDENT + "/reopen", handlers(200), state="closed",
        body={"reason": "Ny hotfull kontakt."}),
    Row("GET", INCIDENT + "/status-history", handlers_or_exposed(200), state="acknowledged"),
    Row("GET", INCIDENT + "/follow-ups", handlers(200), state="acknowledged"),
    Row("POST", INCIDENT + "/follow-ups", handlers(201), state="acknowledged",
        body=lambda ids: {**FOLLOW_UP, "occurred_at": _hour_ago(ids)}),
    Row("GET", INCIDENT + "/support-measures", handlers_or_exposed(200),
        state="support offered"),
    Row("POST", INCIDENT + "/support-measures", handlers(201), state="acknowledged",
        body={"type": "debriefing"}),
    Row("GET", INCIDENT + MEASURE, handlers_or_exposed(200), state="support offered"),
    Row("PATCH", INCIDENT + MEASURE, handlers(200), state="support offered",
        body={"accepted": True}, headers={"If-Match": "{measure_etag}"}),
    Row("GET", INCIDENT + "/support-declined", handlers_or_exposed(200),
        state="support declined"),
    Row("PUT", INCIDENT + "/support-declined", handlers(201), state="acknowledged", body={}),
    Row("GET", INCIDENT + "/check-ins", handlers_or_exposed(200), state="check-ins due"),
    Row("POST", INCIDENT + CHECK_IN, handlers(200), state="check-ins due",
        body={"note": "Mår bättre."}),
    Row("GET", INCIDENT + "/support-evaluation", handlers_or_exposed(200),
        state="support evaluated"),
    Row("PUT", INCIDENT + "/support-evaluation", exposed_only(201), state="support declined",
        body=EVALUATION),
    Row("GET", INCIDENT + "/police-report", handlers_or_exposed(200)),
    Row("PUT", INCIDENT + "/police-report", handlers(200), body=POLICE_DECISION),
    Row("GET", INCIDENT + "/authority-reports", handlers(200)),
    Row("PUT", INCIDENT + "/authority-reports", handlers(200), body={"serious": False}),
    Row("GET", INCIDENT + "/messages", reporters_side_or_handlers(200)),
    Row("POST", INCIDENT + "/messages", reporters_side_or_handlers(201),
        body={"body": "Hur går det?"}),
]

#: GET /follow-up/overdue needs the manager or hr role (403 otherwise, not audited) and lists
#: the overdue items of the cases the caller handles: never their own case.
OVERDUE = Row(
    "GET",
    "/api/v1/follow-up/overdue",
    {
        "no_token": 401,
        "bad_token": 401,
        "exposed": 403,
        "reporter": 403,
        "outsider": 403,
        "manager_in": 200,
        "manager_out": 200,
        "hr": 200,
        "admin": 403,
        "admin_hr": 200,
    },
    state="unacknowledged for a month",
    sees={
        "manager_in": frozenset({"x", "own_admin"}),  # not own_manager: their own case
        "manager_out": frozenset(),
        "hr": frozenset({"x", "own_manager", "own_admin"}),  # not own_hr
        "admin_hr": frozenset({"x", "own_manager", "own_hr", "own_admin"}),
    },
    sees_key="incident_id",
)

#: A measure or check-in named through another incident than its own is a 404, also to someone
#: who may see both incidents (not audited: the incident itself was found). The exposed employee
#: only reads: a change of their own case is a 403 before the measure is looked up.
def through_x(caller: str, owner: str) -> Who:
    return Who(caller, on={**on("x"), **{k: v.replace("@x", f"@{owner}")
                                          for k, v in on("x").items() if k != "incident"}})


OTHER_INCIDENTS_PART = {
    "exposed": through_x("employee_a1", "own_hr"),  # may not see own_hr
    "manager_in": through_x("manager_a", "own_hr"),  # may not see own_hr
    "hr": through_x("hr", "own_manager"),  # handles both
}
OTHER_PART_ROWS = [
    Row("GET", INCIDENT + MEASURE, dict.fromkeys(OTHER_INCIDENTS_PART, 404),
        state="support offered"),
    Row("PATCH", INCIDENT + MEASURE, {"manager_in": 404, "hr": 404}, state="support offered",
        body={"accepted": True}, headers={"If-Match": "{measure_etag}"}),
    Row("POST", INCIDENT + CHECK_IN, {"manager_in": 404, "hr": 404}, state="check-ins due",
        body={"note": "Mår bättre."}),
]

#: Every (method, path) this file covers, for the coverage guard.
COVERS = [(row.method, row.path) for row in [*ROWS, OVERDUE]]


# -- preparing the incidents ----------------------------------------------------------------------


class CaseWorld:
    def __init__(self, app, client, make, org, db_session):
        former_employee = make.user("employee", unit=org.a1)
        incidents = {
            "x": make.incident(org.colleague_a1, org.a1, on_behalf_of=org.employee_a1.id),
            "own_manager": make.incident(org.manager_a, org.a2),
            "own_hr": make.incident(org.hr, org.forv),
            "own_admin": make.incident(former_employee, org.a1),
        }
        former_employee.role_rows = [UserRole(role="admin")]
        self.users = {
            name: getattr(org, name)
            for name in ("employee_a1", "colleague_a1", "employee_b1", "manager_a",
                         "manager_b1", "hr", "admin", "admin_hr")
        }
        self.users["former_employee"] = former_employee
        self.ids = {name: incident.id for name, incident in incidents.items()}
        self.ids["missing"] = max(self.ids.values()) + 1000
        self.matrix = Matrix(
                client=client,
            connection=db_session.get_bind(),
            ids=self.ids,
            authorization=authorization_headers(app, self.users),
            columns=COLUMNS,
            audits_denials=True,
            same_404_as="missing",
        )
        db_session.commit()  # from here on the test's own session stays out of the way

    def call(self, who: str, method: str, path: str, body=None, ok=(200, 201)):
        response = self.matrix.client.open(
            path, method=method, json=body,
            headers={"Authorization": self.matrix.authorization[who]},
        )
        assert response.status_code in ok, (method, path, response.get_json())
        return response

    def prepare(self, state: str) -> None:
        """Bring every incident of the world to ``state``, as its handler (and for the
        evaluation its exposed employee) would."""
        steps = {
            "": [],  # as reported
            "acknowledged": ["acknowledge"],
            "support offered": ["acknowledge", "measure"],
            "check-ins due": ["acknowledge", "check_in"],
            "support declined": ["acknowledge", "decline"],
            "support evaluated": ["acknowledge", "decline", "evaluate"],
            "ready to close": ["acknowledge", "conversation", "decline", "police decision"],
            "closed": ["acknowledge", "conversation", "decline", "police decision", "close"],
            "unacknowledged for a month": ["backdate"],
        }[state]
        for name in EXPOSED:
            for step in steps:
                self._step(name, step)
        for key in [key for key in self.ids if key.endswith("@x")]:  # what a missing id names
            self.ids[key.replace("@x", "@missing")] = self.ids[key]

    def _step(self, name: str, step: str) -> None:
        path = f"/api/v1/incidents/{self.ids[name]}"
        if step == "acknowledge":
            self.call(HANDLER, "POST", f"{path}/acknowledge")
        elif step == "measure":
            response = self.call(HANDLER, "POST", f"{path}/support-measures",
                                 {"type": "debriefing"})
            self.ids[f"measure@{name}"] = response.get_json()["id"]
            self.ids[f"measure_etag@{name}"] = response.headers["ETag"]
        elif step == "check_in":
            check_ins = self.call(HANDLER, "GET", f"{path}/check-ins").get_json()
            self.ids[f"check_in@{name}"] = check_ins[0]["id"]
        elif step == "decline":
            self.call(HANDLER, "PUT", f"{path}/support-declined", {})
        elif step == "evaluate":
            self.call(EXPOSED[name], "PUT", f"{path}/support-evaluation", EVALUATION)
        elif step == "conversation":
            self.call(HANDLER, "POST", f"{path}/follow-ups",
                      {**FOLLOW_UP, "occurred_at": _hour_ago(None)})
        elif step == "police decision":
            self.call(HANDLER, "PUT", f"{path}/police-report", {"decision": "report"})
        elif step == "close":
            self.call(HANDLER, "POST", f"{path}/close")
        elif step == "backdate":  # reported a month ago and never acknowledged
            month_ago = datetime.now(UTC) - timedelta(days=30)
            self.matrix.connection.execute(
                update(Incident)
                .where(Incident.id == self.ids[name])
                .values(created_at=month_ago, occurred_at=month_ago - timedelta(hours=1))
            )
        else:
            raise AssertionError(step)


@pytest.fixture
def case_world(app, client, make, org, db_session) -> CaseWorld:
    return CaseWorld(app, client, make, org, db_session)


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", grouped(ROWS, frozenset(COLUMNS)))
def test_each_part_of_a_case_is_for_exactly_the_callers_its_rule_names(case_world, rows):
    case_world.prepare(rows[0].state)
    case_world.matrix.run(*rows)


@pytest.mark.parametrize("rows", grouped([OVERDUE], ROLE_COLUMNS))
def test_overdue_items_are_for_managers_and_hr_and_only_of_the_cases_they_handle(
    case_world, rows
):
    case_world.prepare(rows[0].state)
    # a missing role is refused before any incident is looked up: nothing to audit
    replace(case_world.matrix, audits_denials=False).run(*rows)


@pytest.mark.parametrize("rows", grouped(OTHER_PART_ROWS, frozenset({"manager_in", "hr"})))
def test_a_part_of_another_incident_is_not_found_through_this_one(case_world, rows):
    case_world.prepare(rows[0].state)
    replace(
        case_world.matrix, columns=OTHER_INCIDENTS_PART, audits_denials=False, same_404_as=None
    ).run(*rows)
