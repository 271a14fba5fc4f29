"""A client generated from the served OpenAPI document (openapi-python-client, with the committed
configuration) drives a real flow against the live server, and only it: the organisation's
set-up, a report, its acknowledgement and follow-up, the police report with a null and a set
outcome, an ETag-guarded change, an idempotent retry, paging, statistics grouped by two
dimensions, and the CSV, XLSX and PNG downloads. Before this, the generated client could not
parse a new case's police report, dropped every file, and had no way to send If-Match."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus

import openpyxl
import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


SENT = ("ETag", "Location", "Idempotent-Replayed")
ALWAYS_SENT = ("ETag", "Location")


class HeaderCheck:
    """Every answer the client gets: a header among SENT that it carries is declared on the
    operation's answer, and ETag and Location, where declared, are there."""

    def __init__(self, document: dict):
        self.document = document
        templates = sorted(document["paths"], key=lambda t: -len(re.sub(r"\{[^}]+\}", "", t)))
        self.paths = [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"),
                       t) for t in templates]
        self.problems: list[str] = []
        self.checked: list[str] = []

    def __call__(self, response) -> None:
        method = response.request.method.lower()
        path = response.request.url.path
        template = next(t for pattern, t in self.paths if pattern.match(path))
        declared = self.document["paths"][template][method]["responses"].get(
            str(response.status_code), {})
        headers = set(declared.get("headers") or {})
        if not 200 <= response.status_code < 300:
            return
        self.checked.append(f"{method.upper()} {template}")
        for name in SENT:
            if name in response.headers and name not in headers:
                self.problems.append(f"{method.upper()} {template}: {name} sent, not declared")
        for name in ALWAYS_SENT:
            if name in headers and name not in response.headers:
                self.problems.append(f"{method.upper()} {template}: {name} declared, not sent")


def test_a_generated_client_drives_the_whole_flow(generated_client, live_api, document):
    from incidents_api_client import AuthenticatedClient
    from incidents_api_client.api.case import acknowledge_incident, create_follow_up
    from incidents_api_client.api.incidents import (
        create_incident,
        get_incident,
        list_incidents,
        update_incident,
    )
    from incidents_api_client.api.police import get_police_report, put_police_report
    from incidents_api_client.api.stats import (
        get_chart_png,
        get_incident_stats,
        get_incident_stats_csv,
        get_incident_stats_xlsx,
    )
    from incidents_api_client.api.units import create_unit
    from incidents_api_client.api.users import create_user
    from incidents_api_client.models import (
        CategoryCode,
        ChartName,
        ContactAddress,
        FiledBy,
        FollowUpCreate,
        FollowUpType,
        Incident,
        IncidentCreate,
        IncidentStatsDimension,
        IncidentStatus,
        IncidentUpdate,
        Language,
        PerceivedPurpose,
        PoliceDecision,
        PoliceOutcome,
        PoliceOutcomeInput,
        PoliceReportPut,
        Role,
        UnitCreate,
        UnitKind,
        UserCreate,
    )
    from incidents_api_client.types import File

    header_check = HeaderCheck(document)

    def as_user(email: str) -> AuthenticatedClient:
        token = live_api.cli("tokens", "issue", email)
        return AuthenticatedClient(base_url=live_api.url, token=token,
                                   raise_on_unexpected_status=True, timeout=60,
                                   httpx_args={"event_hooks": {"response": [header_check]}})

    # The first administrator is made on the command line; everything else through the client.
    live_api.cli("users", "add", "admin@contract.example", "--name", "Admin",
                 "--role", "platform_admin")
    admin = as_user("admin@contract.example")
    made = create_unit.sync_detailed(client=admin, body=UnitCreate(
        name="Kommunen", kind=UnitKind.ORGANISATION))
    assert made.status_code == HTTPStatus.CREATED, made.content
    assert made.headers["Location"] == f"/api/v1/units/{made.parsed.id}"
    assert made.headers["ETag"]
    top = made.parsed
    unit = create_unit.sync(client=admin, body=UnitCreate(
        name="Enhet Norr", kind=UnitKind.ENHET, parent_id=top.id))
    people = {}
    for email, roles, extra in (
        ("hr@contract.example", [Role.HR], {"unit_id": top.id, "hr_unit_ids": [top.id]}),
        ("chef@contract.example", [Role.MANAGER], {"unit_id": unit.id,
                                                   "leads_unit_ids": [unit.id]}),
        ("anna@contract.example", [Role.EMPLOYEE], {"unit_id": unit.id}),
    ):
        user = create_user.sync(client=admin, body=UserCreate(
            email=email, name=email.split("@")[0].title(), roles=roles, **extra))
        assert user.roles == roles
        people[email] = as_user(email)
    hr, manager, employee = people.values()

    # A report, sent twice with one Idempotency-Key: the second answer is the first, replayed.
    def report(description: str, hours_ago: int) -> IncidentCreate:
        return IncidentCreate(
            category=CategoryCode.THREAT, perceived_influence_purpose=PerceivedPurpose.YES,
            occurred_at=datetime.now(UTC) - timedelta(hours=hours_ago), unit_id=unit.id,
            description=description)

    body = report("Klienten sa att han vet var jag bor.", 3)
    first = create_incident.sync_detailed(client=employee, body=body, idempotency_key="rep-1")
    assert first.status_code == HTTPStatus.CREATED
    assert "Idempotent-Replayed" not in first.headers
    retry = create_incident.sync_detailed(client=employee, body=body, idempotency_key="rep-1")
    assert retry.status_code == HTTPStatus.CREATED
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.parsed.id == first.parsed.id
    incident = first.parsed
    assert incident.status == IncidentStatus.REPORTED

    # An ETag-guarded correction: the ETag read is accepted once; then it is stale (412).
    read = get_incident.sync_detailed(incident.id, client=employee)
    etag = read.headers["ETag"]
    # Every field an answer always has is required: an answer without one does not parse.
    incomplete = json.loads(read.content)
    del incomplete["police_flag"]
    with pytest.raises(KeyError):
        Incident.from_dict(incomplete)
    corrected = update_incident.sync_detailed(
        incident.id, client=employee, if_match=etag,
        body=IncidentUpdate(description="Klienten sa att han vet var jag och mina barn bor."))
    assert corrected.status_code == HTTPStatus.OK
    assert corrected.headers["ETag"] != etag
    stale = update_incident.sync_detailed(
        incident.id, client=employee, if_match=etag,
        body=IncidentUpdate(description="Ännu en ändring."))
    assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
    assert "If-Match" in stale.parsed.errors.additional_properties

    # Acknowledged and followed up by the manager.
    acknowledged = acknowledge_incident.sync(incident.id, client=manager)
    assert acknowledged.status == IncidentStatus.ACKNOWLEDGED
    follow_up = create_follow_up.sync(incident.id, client=manager, body=FollowUpCreate(
        type_=FollowUpType.CONVERSATION, note="Samtal med Anna.",
        occurred_at=datetime.now(UTC) - timedelta(hours=1)))
    assert follow_up.type_ == FollowUpType.CONVERSATION

    # The police report of a new case: nothing decided yet, every field null.
    police = get_police_report.sync_detailed(incident.id, client=manager)
    assert police.status_code == HTTPStatus.OK
    assert police.parsed.decision is None and police.parsed.outcome is None
    assert police.parsed.filed_by is None and police.parsed.contact_address is None
    filed_at = datetime.now(UTC) - timedelta(minutes=30)
    decision = {"decision": PoliceDecision.REPORT, "filed_by": FiledBy.EMPLOYER,
                "contact_address": ContactAddress.WORK, "filed_at": filed_at,
                "police_reference": "5000-K123456-26"}
    recorded = put_police_report.sync_detailed(
        incident.id, client=manager, body=PoliceReportPut(**decision, outcome=None))
    assert recorded.status_code == HTTPStatus.OK, recorded.content
    assert recorded.parsed.decision == PoliceDecision.REPORT
    assert recorded.parsed.outcome is None
    with_outcome = put_police_report.sync_detailed(
        incident.id, client=manager, if_match=recorded.headers["ETag"],
        body=PoliceReportPut(**decision, outcome=PoliceOutcomeInput(
            code=PoliceOutcome.INVESTIGATION_OPENED, reached_on=date.today())))
    assert with_outcome.status_code == HTTPStatus.OK, with_outcome.content
    assert with_outcome.parsed.outcome == PoliceOutcome.INVESTIGATION_OPENED
    assert [e.outcome for e in with_outcome.parsed.outcome_history] == [
        PoliceOutcome.INVESTIGATION_OPENED]
    stale_police = put_police_report.sync_detailed(
        incident.id, client=manager, if_match=recorded.headers["ETag"],
        body=PoliceReportPut(**decision))
    assert stale_police.status_code == HTTPStatus.PRECONDITION_FAILED

    # Paging: one at a time with the cursor, latest occurred first, until next_cursor is null.
    older = [create_incident.sync(client=employee, body=report(f"Hot nummer {n}.", 10 + n)).id
             for n in range(2)]
    seen, cursor = [], None
    while True:
        page = list_incidents.sync(client=manager, limit=1,
                                   **({"cursor": cursor} if cursor else {}))
        seen += [item.id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [incident.id, *older]

    # Statistics by two dimensions: the client repeats group_by; the answer is the one the
    # comma-separated form gets, by category and by month.
    dimensions = [IncidentStatsDimension.CATEGORY, IncidentStatsDimension.MONTH]
    stats = get_incident_stats.sync_detailed(client=hr, group_by=dimensions, unsuppressed=True)
    assert stats.status_code == HTTPStatus.OK
    direct = json.loads(live_api.get(
        "/api/v1/stats/incidents?group_by=category,month&unsuppressed=true",
        token=hr.token)[2])
    assert stats.parsed.to_dict() == direct
    assert direct["rows"] and all({"category", "month"} <= set(row) for row in direct["rows"])
    base = "/api/v1/stats/police?group_by="
    repeated = json.loads(live_api.get(base + "category&group_by=month", hr.token)[2])
    assert repeated == json.loads(live_api.get(base + "category,month", hr.token)[2])
    mixed = json.loads(live_api.get(base + "category&group_by=month,year", hr.token)[2])
    assert repeated["filters"]["group_by"] == ["category", "month"]
    assert mixed["filters"]["group_by"] == ["category", "month", "year"]

    # Downloads, checked by what is in them.
    csv_file = get_incident_stats_csv.sync(client=hr, group_by=dimensions, lang=Language.SV)
    assert isinstance(csv_file, File)
    rows = list(csv.reader(io.StringIO(csv_file.payload.read().decode("utf-8-sig"))))
    assert len(rows) >= 2 and len(rows[0]) > 2
    xlsx_file = get_incident_stats_xlsx.sync(client=hr, group_by=dimensions)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_file.payload.read()))
    assert workbook.worksheets[0].max_row >= 2
    chart = get_chart_png.sync(ChartName.INCIDENTS_BY_FORM, client=hr)
    assert chart.payload.read().startswith(PNG_SIGNATURE)

    assert header_check.problems == []
    assert {"POST /api/v1/units", "POST /api/v1/incidents", "GET /api/v1/incidents/{incident_id}",
            "PATCH /api/v1/incidents/{incident_id}",
            "POST /api/v1/incidents/{incident_id}/acknowledge",
            "PUT /api/v1/incidents/{incident_id}/police-report"} <= set(header_check.checked)
