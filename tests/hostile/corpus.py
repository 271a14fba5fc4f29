"""The corpus of hostile input: every write endpoint, a world in which one call to it is valid,
and the fields of its body that bad input aims at.

One row of ENDPOINTS per (method, route). A row says how to build a world in which a valid call
is accepted and the caller may make it (so that every refusal comes from the input, not from
access), and which fields of the body hold text, times and ids of other rows. Maximum lengths
and required fields are not repeated here: they are read from the published OpenAPI description,
so the corpus holds the API to what it documents. variants() turns a row into the bad requests;
docs/errors.md says what the API answers to each kind.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from incidents.api.base import etag_of
from incidents.clock import to_local
from incidents.extensions import limiter
from incidents.models import CheckIn, Incident
from incidents.services import settings, summaries
from tests.anonymous_helpers import publish_held

API = "/api/v1"

# -- what a row is made of ---------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A text field of the body. ``multiline``: free text, where line breaks and tabs are
    content; otherwise a single-line name or label. ``injection``: SQL and HTML fragments are
    valid content there (not so for an email address or a period code). ``shown_by``: where the
    caller sees the stored value again — the write's own answer (None), a read after it (a
    function of world, call and answer giving JSON), or NOT_SHOWN."""

    path: str
    multiline: bool = False
    injection: bool = True
    shown_by: Callable[..., Any] | str | None = None


NOT_SHOWN = "not shown"


@dataclass(frozen=True)
class Time:
    """A time field: ``datetime`` (ISO 8601 with a UTC offset), ``date``, ``period`` (a month or
    tertial code) or ``path-year`` (a year in the path). ``related``: fields whose rule may be the
    one that names the fault (a window that closes before it opens names closes_at)."""

    path: str
    kind: str = "datetime"
    related: tuple[str, ...] = ()


@dataclass
class Call:
    """One valid call: the caller's headers, the path parameters and the body (None for an
    endpoint that takes no body), and the statuses that mean it was accepted."""

    headers: dict[str, str]
    params: dict[str, int] = field(default_factory=dict)
    body: Any = None
    ok: tuple[int, ...] = (200, 201)


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str
    world: Callable[[World], Call]
    text: tuple[Text, ...] = ()
    times: tuple[Time, ...] = ()
    ids: tuple[str, ...] = ()  # body fields holding ids of other rows (or lists of them)

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule.removeprefix(API)}"

    def path(self, params: dict[str, int]) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(params[m.group(1)]), self.rule)


# -- the world -----------------------------------------------------------------------------------


def moment(**delta: float) -> str:
    """Now moved by ``delta`` (timedelta arguments), as ISO 8601 with a UTC offset."""
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def today() -> str:
    return to_local(datetime.now(UTC)).date().isoformat()


class WorldError(Exception):
    """A step that builds the world failed: the corpus is out of date, not the input refused
    (deliberately no AssertionError, so that an xfail cannot swallow it)."""


class World:
    """The shared organisation (tests/factories.build_org) and the steps that put a case in the
    state a call needs. Steps go through the API where one exists, as a user would."""

    def __init__(self, client, make, org, session, monkeypatch):
        self.client, self.make, self.org, self.session = client, make, org, session
        self.monkeypatch = monkeypatch

    def headers(self, user, **extra: str) -> dict[str, str]:
        return self.make.headers(user, **extra)

    def step(self, method: str, path: str, user=None, body: Any = None):
        limiter.reset()
        headers = self.make.headers(user) if user is not None else {}
        response = self.client.open(f"{API}{path}", method=method, json=body, headers=headers)
        if response.status_code not in (200, 201, 204):
            raise WorldError(f"{method} {path}: {response.status_code} {response.get_json()}")
        return response

    def incident(self, **overrides) -> Incident:
        """A threat reported by employee_a1 for themselves in A1, two hours ago."""
        return self.make.incident(self.org.employee_a1, self.org.a1, **overrides)

    def acknowledged(self, **overrides) -> Incident:
        incident = self.incident(**overrides)
        self.step("POST", f"/incidents/{incident.id}/acknowledge", self.org.manager_a)
        return incident

    def closable(self) -> Incident:
        """Harassment (no police decision due), not serious, nobody injured: a conversation and
        declined support are all closing needs."""
        incident = self.acknowledged(category="harassment")
        self.step("POST", f"/incidents/{incident.id}/follow-ups", self.org.manager_a, {
            "type": "conversation", "note": "Samtal hållet.", "occurred_at": moment(hours=-1)})
        self.step("PUT", f"/incidents/{incident.id}/support-declined", self.org.manager_a,
                  {"declined_at": moment(hours=-1)})
        return incident

    def anonymous_report(self) -> dict[str, Any]:
        return self.step("POST", "/anonymous-reports", None, {
            "category": "threat", "perceived_influence_purpose": "yes",
            "occurred_at": moment(hours=-2), "unit_id": self.org.a1.id,
            "description": "Han sa att han vet var jag bor."}).get_json()

    def hr_creates(self, path: str, body: dict) -> dict[str, Any]:
        return self.step("POST", path, self.org.hr, body).get_json()


# -- the valid calls -------------------------------------------------------------------------


def _report_fields(w: World) -> dict[str, Any]:
    return {
        "category": "threat",
        "additional_categories": ["violence"],
        "subcategory": "death_threat",
        "perceived_influence_purpose": "yes",
        "occurred_at": moment(hours=-2),
        "unit_id": w.org.a1.id,
        "description": "Klienten sa att han vet var jag bor.\nHan slog till mig.",
        "location": "office",
        "perpetrator": "client",
        "channel": "in_person",
        "targeted_matter": "financial_aid",
        "police_wanted": "unsure",
        "family_targeted": False,
    }


def report_incident(w: World) -> Call:
    return Call(w.headers(w.org.employee_a1), body={
        **_report_fields(w), "injured": False, "sick_leave": False, "ia_reported": True,
        "ia_reference": "IA-2026-0017", "on_behalf_of": w.org.colleague_a1.id}, ok=(201,))


def correct_incident(w: World) -> Call:
    incident = w.incident()
    return Call(w.headers(w.org.employee_a1, **{"If-Match": etag_of(incident)}),
                {"incident_id": incident.id}, body={
                    "description": "Rättelse: han sa det två gånger.",
                    "additional_categories": ["violence"],
                    "occurred_at": moment(hours=-3),
                    "unit_id": w.org.a1.id,
                    "location": "reception",
                    "police_wanted": "no",
                    "injured": False,
                    "ia_reported": True,
                    "ia_reference": "IA-2026-0018"})


def acknowledge(w: World) -> Call:
    return Call(w.headers(w.org.manager_a), {"incident_id": w.incident().id})


def close(w: World) -> Call:
    return Call(w.headers(w.org.manager_a), {"incident_id": w.closable().id})


def reopen(w: World) -> Call:
    incident = w.closable()
    w.step("POST", f"/incidents/{incident.id}/close", w.org.manager_a)
    return Call(w.headers(w.org.manager_a), {"incident_id": incident.id},
                body={"reason": "Klienten hörde av sig igen."})


def follow_up(w: World) -> Call:
    incident = w.acknowledged()
    first = w.step("POST", f"/incidents/{incident.id}/follow-ups", w.org.manager_a, {
        "type": "conversation", "note": "Samtal.", "occurred_at": moment(minutes=-90)})
    return Call(w.headers(w.org.manager_a), {"incident_id": incident.id}, body={
        "type": "conversation", "note": "Samtal med medarbetaren; rättelse av datum.",
        "occurred_at": moment(hours=-1), "corrects_id": first.get_json()["id"]}, ok=(201,))


def _measure(**overrides) -> dict[str, Any]:
    return {"type": "debriefing", "offered_at": moment(minutes=-90), "accepted": True,
            "delivered_at": moment(minutes=-30), "provider": "Företagshälsan",
            "note": "Avlastningssamtal.", **overrides}


def offer_support(w: World) -> Call:
    return Call(w.headers(w.org.manager_a), {"incident_id": w.acknowledged().id},
                body=_measure(), ok=(201,))


def change_support(w: World) -> Call:
    incident = w.acknowledged()
    created = w.step("POST", f"/incidents/{incident.id}/support-measures", w.org.manager_a,
                     {"type": "debriefing", "offered_at": moment(minutes=-90)})
    return Call(w.headers(w.org.manager_a, **{"If-Match": created.headers["ETag"]}),
                {"incident_id": incident.id, "measure_id": created.get_json()["id"]},
                body=_measure(type="peer_support"))


def decline_support(w: World) -> Call:
    return Call(w.headers(w.org.manager_a), {"incident_id": w.acknowledged().id},
                body={"declined_at": moment(hours=-1), "note": "Vill inte ha stöd nu."},
                ok=(201,))


def complete_check_in(w: World) -> Call:
    incident = w.acknowledged()
    check_in = w.session.scalars(
        select(CheckIn.id).where(CheckIn.incident_id == incident.id).order_by(CheckIn.due_at)
    ).first()
    return Call(w.headers(w.org.manager_a), {"incident_id": incident.id, "check_in_id": check_in},
                body={"note": "Ringde; hon mår bättre."})


def evaluate_support(w: World) -> Call:
    incident = w.acknowledged()
    w.step("PUT", f"/incidents/{incident.id}/support-declined", w.org.manager_a, {})
    return Call(w.headers(w.org.employee_a1), {"incident_id": incident.id}, body={
        "sufficient": "partly", "relevant": "yes", "felt_supported_by_employer": 4,
        "comment": "Bra samtal, men för sent."}, ok=(201,))


def write_message(w: World) -> Call:
    return Call(w.headers(w.org.employee_a1), {"incident_id": w.incident().id},
                body={"body": "Han har ringt igen i dag."}, ok=(201,))


def report_anonymously(w: World) -> Call:
    return Call({}, body=_report_fields(w), ok=(201,))


def write_anonymously(w: World) -> Call:
    receipt = w.anonymous_report()
    # The reference is a string, not an int: bad input in the path is a variant of its own.
    return Call({"X-Receipt-Code": receipt["receipt_code"]}, {"reference": receipt["reference"]},
                body={"body": "Han stod utanför kontoret i morse."}, ok=(201,))


def record_police_report(w: World) -> Call:
    return Call(w.headers(w.org.manager_a), {"incident_id": w.acknowledged().id}, body={
        "decision": "report",
        "decision_reason": "Hot mot tjänsteman.",
        "filed_by": "employer",
        "contact_address": "work",
        "filed_at": moment(hours=-1),
        "police_reference": "5000-K123456-26",
        "outcome": {"code": "investigation_opened", "reached_on": today(),
                    "reason": "Förundersökning inledd."}})


def record_authority_reports(w: World) -> Call:
    return Call(w.headers(w.org.manager_a), {"incident_id": w.acknowledged(injured=True).id},
                body={
                    "serious": True,
                    "work_environment_authority": {"notified_at": moment(hours=-1),
                                                   "reference": "AV 2026/012345"},
                    "work_injury_report": {"filed_at": moment(hours=-1),
                                           "reference": "FK 2026-77"},
                    "safety_representative_informed_at": moment(minutes=-50),
                    "investigation_done_at": moment(minutes=-30)})


def create_unit(w: World) -> Call:
    return Call(w.headers(w.org.admin), body={
        "name": "Enhet A3", "kind": "enhet", "parent_id": w.org.dept_a.id}, ok=(201,))


def change_unit(w: World) -> Call:
    return Call(w.headers(w.org.admin, **{"If-Match": etag_of(w.org.a2)}),
                {"unit_id": w.org.a2.id},
                body={"name": "Enhet A2 (ny)", "kind": "enhet", "parent_id": w.org.dept_a.id})


def delete_unit(w: World) -> Call:
    unit = w.make.unit("Tom enhet", "enhet", w.org.dept_b)
    return Call(w.headers(w.org.admin), {"unit_id": unit.id}, ok=(204,))


def set_headcount(w: World) -> Call:
    return Call(w.headers(w.org.hr), {"unit_id": w.org.a1.id, "year": 2025},
                body={"count": 12}, ok=(201,))


def create_user(w: World) -> Call:
    return Call(w.headers(w.org.admin), body={
        "email": "ny.chef@stad.example", "name": "Ny Chef", "roles": ["employee", "manager"],
        "unit_id": w.org.a1.id, "leads_unit_ids": [w.org.a1.id], "active": True}, ok=(201,))


def change_user(w: World) -> Call:
    user = w.org.employee_b1
    return Call(w.headers(w.org.admin, **{"If-Match": etag_of(user)}), {"user_id": user.id},
                body={"email": "bytt.namn@stad.example", "name": "Bytt Namn",
                      "roles": ["employee", "manager"], "unit_id": w.org.b1.id,
                      "leads_unit_ids": [w.org.b1.id], "active": True})


def change_settings(w: World) -> Call:
    etag = w.client.get(f"{API}/settings", headers=w.headers(w.org.admin)).headers["ETag"]
    return Call(w.headers(w.org.admin, **{"If-Match": etag}), body={
        "ACKNOWLEDGE_WITHIN_HOURS": 48, "RETENTION_AFTER_CLOSE_DAYS": 730,
        "CHECK_IN_OFFSETS": ["2d", "2w", "6m"]})


def reset_setting(w: World) -> Call:
    """A setting changed in the service, to go back to the environment's value."""
    settings.change(w.org.admin, {"POLICE_DECISION_DAYS": 3})
    w.session.commit()
    return Call(w.headers(w.org.admin), {"key": "POLICE_DECISION_DAYS"})


def _survey(w: World) -> dict[str, Any]:
    return {"title": "Utsatthet 2026", "unit_ids": [w.org.a1.id], "reference_months": 12,
            "opens_at": moment(hours=-1), "closes_at": moment(days=30)}


def create_survey(w: World) -> Call:
    return Call(w.headers(w.org.hr), body=_survey(w), ok=(201,))


def answer_survey(w: World) -> Call:
    survey = w.hr_creates("/surveys", _survey(w))
    answer = {"exposed": True, "times": 2, "reported": 1}
    forms = ("harassment", "threat", "violence", "property_damage", "corruption")
    return Call(w.headers(w.org.employee_a1), {"survey_id": survey["id"]},
                body={"answers": {form: dict(answer) for form in forms}}, ok=(201,))


def put_ia_count(w: World) -> Call:
    return Call(w.headers(w.org.hr), body={
        "unit_id": w.org.a1.id, "period_start": "2025-01-01", "period_end": "2025-12-31",
        "count": 5}, ok=(201,))


def request_summary(w: World) -> Call:
    # The tables, workbooks and charts of a summary are not what bad input is about, and making
    # them takes seconds: each summary made here is an empty one.
    w.monkeypatch.setattr(summaries, "_tables_and_files", lambda *args: ({}, []))
    return Call(w.headers(w.org.hr), body={
        "kind": "monthly", "period": "2025-01", "unit_ids": [w.org.forv.id]}, ok=(201,))


def _workshop(w: World) -> dict[str, Any]:
    return {"title": "Otillåten påverkan – workshop", "held_on": today(),
            "unit_ids": [w.org.a1.id], "expected_participants": 20,
            "opens_at": moment(hours=-1), "closes_at": moment(days=1)}


def create_workshop(w: World) -> Call:
    return Call(w.headers(w.org.hr), body=_workshop(w), ok=(201,))


def rate_workshop(w: World) -> Call:
    workshop = w.hr_creates("/workshops", _workshop(w))
    return Call(w.headers(w.org.employee_a1), {"workshop_id": workshop["id"]},
                body={"problem_size": 5, "usefulness": 4, "group": "Grupp A"}, ok=(201,))


def tally_workshop(w: World) -> Call:
    workshop = w.hr_creates("/workshops", _workshop(w))
    return Call(w.headers(w.org.hr), {"workshop_id": workshop["id"]},
                body={"problem_size": {"1": 2, "7": 1}, "usefulness": {"5": 3}}, ok=(201,))


# -- reading a stored value back ------------------------------------------------------------------


def incident_as_manager(w: World, call: Call, answer) -> Any:
    """An anonymous report's answer is the receipt; the case handler reads the description
    once the report is published (at the full hour; here at once)."""
    publish_held()
    incident_id = w.session.scalar(
        select(Incident.id).where(Incident.reference == answer.get_json()["reference"]))
    return w.step("GET", f"/incidents/{incident_id}", w.org.manager_a).get_json()


def status_history(w: World, call: Call, answer) -> Any:
    """The reason for reopening is kept in the status history."""
    incident_id = call.params["incident_id"]
    return w.step("GET", f"/incidents/{incident_id}/status-history", w.org.manager_a).get_json()


# -- the table ----------------------------------------------------------------------------------

INCIDENT = f"{API}/incidents/<int:incident_id>"
NOTE = Text("note", multiline=True)
OCCURRED = Time("occurred_at")
MEASURE_TIMES = (Time("offered_at", related=("delivered_at",)),
                 Time("delivered_at", related=("offered_at",)))
MEASURE_TEXT = (Text("provider"), Text("note", multiline=True))
WINDOW = (Time("opens_at", related=("closes_at",)), Time("closes_at", related=("opens_at",)))

ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", f"{API}/incidents", report_incident,
             text=(Text("description", multiline=True), Text("ia_reference")),
             times=(OCCURRED,), ids=("unit_id", "on_behalf_of")),
    Endpoint("PATCH", INCIDENT, correct_incident,
             text=(Text("description", multiline=True), Text("ia_reference")),
             times=(OCCURRED,), ids=("unit_id",)),
    Endpoint("POST", f"{INCIDENT}/acknowledge", acknowledge),
    Endpoint("POST", f"{INCIDENT}/close", close),
    Endpoint("POST", f"{INCIDENT}/reopen", reopen,
             text=(Text("reason", multiline=True, shown_by=status_history),)),
    Endpoint("POST", f"{INCIDENT}/follow-ups", follow_up,
             text=(NOTE,), times=(OCCURRED,), ids=("corrects_id",)),
    Endpoint("POST", f"{INCIDENT}/support-measures", offer_support,
             text=MEASURE_TEXT, times=MEASURE_TIMES),
    Endpoint("PATCH", f"{INCIDENT}/support-measures/<int:measure_id>", change_support,
             text=MEASURE_TEXT, times=MEASURE_TIMES),
    Endpoint("PUT", f"{INCIDENT}/support-declined", decline_support,
             text=(NOTE,), times=(Time("declined_at"),)),
    Endpoint("POST", f"{INCIDENT}/check-ins/<int:check_in_id>/complete", complete_check_in,
             text=(NOTE,)),
    Endpoint("PUT", f"{INCIDENT}/support-evaluation", evaluate_support,
             text=(Text("comment", multiline=True),)),
    Endpoint("POST", f"{INCIDENT}/messages", write_message,
             text=(Text("body", multiline=True),)),
    Endpoint("POST", f"{API}/anonymous-reports", report_anonymously,
             text=(Text("description", multiline=True, shown_by=incident_as_manager),),
             times=(OCCURRED,), ids=("unit_id",)),
    Endpoint("POST", f"{API}/anonymous-reports/<string:reference>/messages", write_anonymously,
             text=(Text("body", multiline=True),)),
    Endpoint("PUT", f"{INCIDENT}/police-report", record_police_report,
             text=(Text("decision_reason", multiline=True), Text("police_reference"),
                   Text("outcome.reason", multiline=True)),
             times=(Time("filed_at", related=("outcome.reached_on",)),
                    Time("outcome.reached_on", "date", related=("filed_at",)))),
    Endpoint("PUT", f"{INCIDENT}/authority-reports", record_authority_reports,
             text=(Text("work_environment_authority.reference"),
                   Text("work_injury_report.reference")),
             times=(Time("work_environment_authority.notified_at"),
                    Time("work_injury_report.filed_at"),
                    Time("safety_representative_informed_at"),
                    Time("investigation_done_at"))),
    Endpoint("POST", f"{API}/units", create_unit, text=(Text("name"),), ids=("parent_id",)),
    Endpoint("PATCH", f"{API}/units/<int:unit_id>", change_unit,
             text=(Text("name"),), ids=("parent_id",)),
    Endpoint("DELETE", f"{API}/units/<int:unit_id>", delete_unit),
    Endpoint("PUT", f"{API}/units/<int:unit_id>/headcounts/<int:year>", set_headcount,
             times=(Time("year", "path-year"),)),
    Endpoint("POST", f"{API}/users", create_user,
             text=(Text("name"), Text("email", injection=False)),
             ids=("unit_id", "leads_unit_ids")),
    Endpoint("PATCH", f"{API}/users/<int:user_id>", change_user,
             text=(Text("name"), Text("email", injection=False)),
             ids=("unit_id", "leads_unit_ids")),
    Endpoint("PATCH", f"{API}/settings", change_settings),
    Endpoint("DELETE", f"{API}/settings/<string:key>", reset_setting),
    Endpoint("POST", f"{API}/surveys", create_survey,
             text=(Text("title"),), times=WINDOW, ids=("unit_ids",)),
    Endpoint("POST", f"{API}/surveys/<int:survey_id>/responses", answer_survey),
    Endpoint("PUT", f"{API}/ia-counts", put_ia_count,
             times=(Time("period_start", "date", related=("period_end",)),
                    Time("period_end", "date", related=("period_start",))),
             ids=("unit_id",)),
    Endpoint("POST", f"{API}/summaries", request_summary,
             text=(Text("period", injection=False),), times=(Time("period", "period"),),
             ids=("unit_ids",)),
    Endpoint("POST", f"{API}/workshops", create_workshop,
             text=(Text("title"),), times=(Time("held_on", "date"), *WINDOW),
             ids=("unit_ids",)),
    Endpoint("POST", f"{API}/workshops/<int:workshop_id>/ratings", rate_workshop,
             text=(Text("group", shown_by=NOT_SHOWN),)),
    Endpoint("POST", f"{API}/workshops/<int:workshop_id>/ratings/tally", tally_workshop),
]

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


# -- the body and the published description -----------------------------------------------------


def get_path(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[part]
    return body


def with_path(body: Any, path: str, value: Any) -> Any:
    """A deep copy of ``body`` with the field at the dotted ``path`` set to ``value``."""
    body = copy.deepcopy(body)
    *parents, leaf = path.split(".")
    node = body
    for part in parents:
        node = node[part]
    node[leaf] = value
    return body


def leaves(body: dict, prefix: str = ""):
    """Every field of the body, objects included, as (dotted path, value). Of sibling objects
    with the same fields (a survey's answer per form) only the first is gone into."""
    shapes = set()
    for key, value in body.items():
        path = f"{prefix}{key}"
        yield path, value
        if isinstance(value, dict):
            shape = tuple(value)
            if shape not in shapes or not all(isinstance(v, dict) for v in body.values()):
                shapes.add(shape)
                yield from leaves(value, f"{path}.")


def _resolve(spec: dict, schema: dict) -> dict:
    while True:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        elif "allOf" in schema or "anyOf" in schema:
            options = schema.get("allOf") or schema["anyOf"]
            schema = next((s for s in options if "$ref" in s), options[0])
        else:
            return schema


def documented_fields(spec: dict, endpoint: Endpoint) -> dict[str, tuple[dict, bool]]:
    """Dotted field path → (its OpenAPI schema, whether it is required), from the request body
    the OpenAPI description publishes for the endpoint."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", endpoint.rule)
    body = spec["paths"][path][endpoint.method.lower()].get("requestBody")
    fields: dict[str, tuple[dict, bool]] = {}
    if body is None:
        return fields

    def walk(schema: dict, prefix: str) -> None:
        schema = _resolve(spec, schema)
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            resolved = _resolve(spec, prop)
            fields[f"{prefix}{name}"] = (resolved, name in required)
            if "properties" in resolved:
                walk(resolved, f"{prefix}{name}.")

    walk(body["content"]["application/json"]["schema"], "")
    return fields


# -- the variants ---------------------------------------------------------------------------------

SAME = object()  # the variant sends the valid call's body


@dataclass
class Variant:
    """One bad request: what to send instead of the valid call, and the answer it must get.
    ``fields``: the problem body's ``errors`` must name one of them."""

    name: str
    status: int | tuple[int, ...]
    fields: tuple[str, ...] = ()
    body: Any = SAME
    raw: bytes | None = None
    content_type: str = "application/json"
    params: dict[str, Any] | None = None
    # A 404 for an incident id is an access denial, audited by design (docs/roles-and-access.md):
    # the one row a refused request may add.
    audited: bool = False

    @property
    def statuses(self) -> tuple[int, ...]:
        return self.status if isinstance(self.status, tuple) else (self.status,)


INT32_OVER = 2**31  # one past PostgreSQL's integer
INT64_OVER = 2**63  # one past a 64-bit integer (SQLite's INTEGER, PostgreSQL's bigint)


def _insert_bytes(raw: bytes, extra: bytes) -> bytes:
    """``extra`` put just inside the first JSON string of ``raw``."""
    at = raw.index(b'"') + 1
    return raw[:at] + extra + raw[at:]


def envelope_variants(endpoint: Endpoint, call: Call, limit: int) -> list[Variant]:
    """The body as a whole: unparseable, not an object, too large, with an unknown field. An
    endpoint that takes no body gets them too: it must not act on a body it cannot read."""
    takes_body = call.body is not None
    valid = call.body if takes_body else {"note": "Sett; ringer henne i morgon."}
    raw = json.dumps(valid).encode()
    out = [
        Variant("envelope:malformed", 400, ("body",), raw=b'{"'),
        Variant("envelope:truncated", 400, ("body",), raw=raw[: len(raw) // 2]),
        Variant("envelope:invalid-utf8", 400, ("body",), raw=_insert_bytes(raw, b"\xff\xfe")),
        Variant("envelope:array", 422, ("_schema",), body=[valid]),
        Variant("envelope:string", 422, ("_schema",), body="text"),
        Variant("envelope:number", 422, ("_schema",), body=42),
        Variant("envelope:unknown-field", 422, ("personnummer",),
                body={**(call.body or {}), "personnummer": "19800101-1234"}),
        # Refused by the guards before any view runs (incidents/__init__.py).
        Variant("guard:too-large", 413, raw=b'{"note": "' + b"x" * limit + b'"}'),
        # Nested past what any body of the API needs, and past what Python's JSON parser can
        # take (a RecursionError was a 500): 400 naming the body, within the size limit.
        Variant("guard:nested-too-deeply", 400, ("body",),
                raw=b'{"note": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        Variant("guard:nested-deeper-than-32", 400, ("body",),
                raw=b'{"note": ' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"}"),
    ]
    if takes_body:
        out.append(Variant("envelope:null", 422, ("_schema",), raw=b"null"))
    return out


def _wrong_values(value: Any) -> list[tuple[str, Any]]:
    """Values of another JSON type than ``value``'s."""
    if isinstance(value, bool):
        return [("string-for-bool", "true")]
    if isinstance(value, int):
        return [("string-for-int", str(value))]
    if isinstance(value, str):
        return [("int-for-string", 12345)]
    if isinstance(value, list):
        out = [("object-for-list", {"0": value[0]} if value else {})]
        if value and not isinstance(value[0], dict | list):
            out += [(f"item-{label}", [wrong]) for label, wrong in _wrong_values(value[0])]
        return out
    if isinstance(value, dict):
        return [("list-for-object", [value])]
    return []


def type_variants(endpoint: Endpoint, call: Call, spec: dict) -> list[Variant]:
    """Each field of the valid body with a value of another type; null for required fields."""
    if call.body is None:
        return []
    documented = documented_fields(spec, endpoint)
    out = []
    for path, value in leaves(call.body):
        for label, wrong in _wrong_values(value):
            out.append(Variant(f"types:{path}:{label}", 422, (path,),
                               body=with_path(call.body, path, wrong)))
        if documented.get(path, ({}, False))[1]:
            out.append(Variant(f"types:{path}:null", 422, (path,),
                               body=with_path(call.body, path, None)))
    return out


def _spliced(value: str, char: str) -> str:
    return value[:1] + char + value[1:]


def text_variants(endpoint: Endpoint, call: Call, spec: dict) -> list[Variant]:
    """Control characters, a lone surrogate, and one character beyond the documented maximum."""
    documented = documented_fields(spec, endpoint)
    out = []
    for text in endpoint.text:
        valid = get_path(call.body, text.path)
        fields = (text.path,)
        for label, char in (("nul", "\x00"), ("bel", "\x07")):
            out.append(Variant(f"text:{text.path}:{label}", 422, fields,
                               body=with_path(call.body, text.path, _spliced(valid, char))))
        # Valid JSON ("\ud800"), but no character: it cannot be stored as UTF-8.
        out.append(Variant(f"text:{text.path}:lone-surrogate", (400, 422), (*fields, "body"),
                           body=with_path(call.body, text.path, _spliced(valid, "\ud800"))))
        if not text.multiline:
            out.append(Variant(f"text:{text.path}:trailing-line-break", 422, fields,
                               body=with_path(call.body, text.path, valid + "\n")))
        max_length = documented[text.path][0].get("maxLength")
        if max_length is None:  # not an AssertionError, so that no xfail can swallow it
            raise LookupError(f"{endpoint.name}: {text.path} documents no maxLength")
        too_long = "x" * (max_length + 1 - len(valid)) + valid
        out.append(Variant(f"text:{text.path}:over-max-length", 422, fields,
                           body=with_path(call.body, text.path, too_long)))
    return out


_TIMES = {
    "datetime": [
        ("far-past", "1900-01-01T00:00:00+00:00", 422),
        ("far-future", "9999-12-31T00:00:00+00:00", 422),
        ("year-10000", "10000-01-01T00:00:00+00:00", 422),
    ],
    "date": [
        ("far-past", "1900-01-01", 422),
        ("far-future", "9999-12-31", 422),
        ("year-10000", "10000-01-01", 422),
    ],
    # A period that has not ended is a documented 409 (docs/errors.md).
    "period": [
        ("far-past", "1900-01", 422),
        ("far-future", "9999-12", (409, 422)),
        ("year-10000", "10000-01", 422),
        ("year-0", "0000-01", 422),
        ("year-1", "0001-01", 422),
        ("month-13", "2025-13", 422),
    ],
    "path-year": [
        ("far-past", 1900, 422),
        ("far-future", 9999, 422),
        ("year-0", 0, 422),
    ],
}


# Extremes of parsing, the same for every field of a kind: tried on the first field of each
# kind of an endpoint.
_PARSING = {
    "datetime": [
        ("offset-below-year-1", "0001-01-01T00:00:00+01:00", 422),
        ("offset-past-year-9999", "9999-12-31T23:59:59-01:00", 422),
        ("no-such-day", "2026-02-30T10:00:00+00:00", 422),
    ],
    "date": [
        ("year-0", "0000-01-01", 422),
        ("no-such-day", "2026-02-30", 422),
    ],
}


def time_variants(endpoint: Endpoint, call: Call) -> list[Variant]:
    """Times without a UTC offset, far in the past or future, beyond year 9999 or not a day."""
    out = []
    first = {}
    for time in endpoint.times:
        first.setdefault(time.kind, time)
    for time in endpoint.times:
        fields = (time.path, *time.related)
        if time.kind == "path-year":
            for label, year, status in _TIMES[time.kind]:
                out.append(Variant(f"times:{time.path}:{label}", status, fields,
                                   params={**call.params, time.path: year}))
            continue
        if time.kind == "datetime":
            naive = datetime.fromisoformat(get_path(call.body, time.path)).replace(tzinfo=None)
            out.append(Variant(f"times:{time.path}:no-offset", 422, (time.path,),
                               body=with_path(call.body, time.path, naive.isoformat())))
        extremes = _PARSING.get(time.kind, []) if first[time.kind] is time else []
        for label, value, status in [*_TIMES[time.kind], *extremes]:
            out.append(Variant(f"times:{time.path}:{label}", status, fields,
                               body=with_path(call.body, time.path, value)))
    return out


def id_variants(endpoint: Endpoint, call: Call) -> list[Variant]:
    """Ids beyond the database's integers, in the body (422) and in the path (404)."""
    out = []
    for label, huge in (("2^31", INT32_OVER), ("2^63", INT64_OVER)):
        for path in endpoint.ids:
            value = [huge] if isinstance(get_path(call.body, path), list) else huge
            out.append(Variant(f"ids:{path}:{label}", 422, (path,),
                               body=with_path(call.body, path, value)))
        for name, value in call.params.items():
            if isinstance(value, int) and name.endswith("_id"):
                out.append(Variant(f"ids:path-{name}:{label}", 404, audited=True,
                                   params={**call.params, name: huge}))
    return out


# More digits than Python's int() takes from text (4,300): the JSON parser raised ValueError,
# a 500 before any schema ran (POST /anonymous-reports needs no token).
HUGE_DIGITS = b"1" * 5000


def number_variants(endpoint: Endpoint, call: Call) -> list[Variant]:
    """Every number of the body written with 5,000 digits: 422 naming the field. Written as
    raw JSON: json.dumps itself refuses such an int."""
    if not isinstance(call.body, dict):
        return []
    out = []
    for path, value in leaves(call.body):
        if isinstance(value, bool) or not isinstance(value, int | list):
            continue
        if isinstance(value, list) and not (value and type(value[0]) is int):
            continue
        marker = "__huge_number__"
        raw = json.dumps(with_path(call.body, path, [marker] if isinstance(value, list)
                                   else marker)).encode()
        out.append(Variant(f"numbers:{path}:5000-digits", 422, (path,),
                           raw=raw.replace(f'"{marker}"'.encode(), HUGE_DIGITS)))
    return out


def path_variants(endpoint: Endpoint, call: Call) -> list[Variant]:
    """A string in the path: NUL must not reach the database (the same 404 as unknown)."""
    return [
        Variant(f"path:{name}:nul", 404, params={**call.params, name: f"{value}%00"})
        for name, value in call.params.items() if isinstance(value, str)
    ]


def variants(endpoint: Endpoint, call: Call, spec: dict, limit: int) -> list[Variant]:
    return [
        *envelope_variants(endpoint, call, limit),
        *type_variants(endpoint, call, spec),
        *text_variants(endpoint, call, spec),
        *time_variants(endpoint, call),
        *id_variants(endpoint, call),
        *number_variants(endpoint, call),
        *path_variants(endpoint, call),
    ]


# -- SQL and HTML in text ---------------------------------------------------------------------

SQL = "'; DROP TABLE incidents; --"
HTML = "<script>alert(1)</script>"


def payload(index: int, max_length: int, multiline: bool) -> str:
    """SQL and HTML fragments (with quotes, a backslash and non-ASCII), tagged with ``index``
    so that each field's value can be found on its own; short enough for ``max_length``."""
    gap = "\r\n\t" if multiline else " "
    full = f'#{index} Robert{SQL}{gap}{HTML}{gap}"Åsa" \\ 😀'
    if len(full) <= max_length:
        return full
    short = f"#{index} ';DROP TABLE incidents;--<script>x</script>"
    assert len(short) <= max_length, (max_length, short)
    return short
