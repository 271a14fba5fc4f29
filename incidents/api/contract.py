"""The OpenAPI description as a contract a generated client can use (docs/integrating.md).

flask-smorest builds the description from the blueprints and the marshmallow schemas; ``finish``
is applied to what it builds, every time it is served (``install`` wraps ``api.spec.to_dict``),
and adds what a generator needs and marshmallow cannot say:

- an ``operationId`` for every operation, from ``OPERATION_IDS`` (keyed by the Flask endpoint,
  so a path that moves keeps its generated function's name);
- the request headers the server reads, as shared parameters: ``If-Match`` on every operation
  that answers 428 without it, ``Idempotency-Key`` on every POST whose view keeps keys
  (``api.base.unit_of_work`` with a signed-in caller; not an ``UnlinkableView``);
- the response headers the server sends, as shared headers: ``ETag`` and ``Location`` where
  ``SENT_HEADERS`` says, ``Idempotent-Replayed`` beside ``Idempotency-Key``,
  ``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503;
- every enum as a named component: a set of values that is a ``StrEnum`` of
  ``incidents.domain`` gets that enum's name, any other set a name from ``ENUM_NAMES``;
- a ``required`` list on every response schema: each field the server always sends, which is
  every field but those in ``SOMETIMES_ABSENT``;
- a nullable object as ``nullable`` + ``allOf`` rather than an ``anyOf`` with a free-form
  object, and a file body (CSV, XLSX, PNG) as ``type: string, format: binary``;
- a ``servers`` entry, and the package name for generated clients (the title is Swedish).
"""

from __future__ import annotations

import copy
import re
from enum import StrEnum
from typing import Any

from flask import current_app
from flask_smorest.spec.plugins import FlaskPlugin

from incidents import domain
from incidents.api import base

REF = "#/components/{}/{}"

# The name a generated Python client gets (docs/clients/openapi-python-client.yaml says the
# same to the generator): the title is Swedish, and would make an uninstallable name.
CLIENT_PROJECT = "incidents-api-client"
CLIENT_PACKAGE = "incidents_api_client"
CLIENT_CONFIG = "docs/clients/openapi-python-client.yaml"

# Flask endpoint → HTTP method → operationId: the name of the function a generated client
# calls. Written here once, so that moving a path does not rename anyone's function.
OPERATION_IDS: dict[str, dict[str, str]] = {
    "incidents.Categories": {"get": "list_categories"},
    "incidents.Incidents": {"get": "list_incidents", "post": "create_incident"},
    "incidents.IncidentById": {"get": "get_incident", "patch": "update_incident"},
    "case.Acknowledge": {"post": "acknowledge_incident"},
    "case.Close": {"post": "close_incident"},
    "case.Reopen": {"post": "reopen_incident"},
    "case.StatusHistory": {"get": "list_status_history"},
    "case.FollowUps": {"get": "list_follow_ups", "post": "create_follow_up"},
    "case.SupportMeasures": {"get": "list_support_measures", "post": "create_support_measure"},
    "case.SupportMeasureById": {"get": "get_support_measure",
                                "patch": "update_support_measure"},
    "case.SupportDeclined": {"get": "get_support_declined", "put": "put_support_declined"},
    "case.CheckIns": {"get": "list_check_ins"},
    "case.CompleteCheckIn": {"post": "complete_check_in"},
    "case.SupportEvaluationResource": {"get": "get_support_evaluation",
                                       "put": "put_support_evaluation"},
    "case.Overdue": {"get": "list_overdue"},
    "messages.IncidentMessages": {"get": "list_messages", "post": "create_message"},
    "anonymous.AnonymousReports": {"post": "create_anonymous_report"},
    "anonymous.AnonymousReport": {"get": "get_anonymous_report"},
    "anonymous.AnonymousMessages": {"get": "list_anonymous_messages",
                                    "post": "create_anonymous_message"},
    "police.PoliceReportResource": {"get": "get_police_report", "put": "put_police_report"},
    "authority.AuthorityReportsResource": {"get": "get_authority_reports",
                                           "put": "put_authority_reports"},
    "units.Units": {"get": "list_units", "post": "create_unit"},
    "units.UnitById": {"get": "get_unit", "patch": "update_unit", "delete": "delete_unit"},
    "units.UnitHeadcount": {"put": "put_unit_headcount"},
    "units.UnansweredUnits": {"get": "list_unanswered_units"},
    "users.Users": {"get": "list_users", "post": "create_user"},
    "users.UserById": {"get": "get_user", "patch": "update_user"},
    "settings.Settings": {"get": "list_settings", "patch": "update_settings"},
    "settings.SettingByKey": {"delete": "reset_setting"},
    "me.Me": {"get": "get_me"},
    "audit.AuditTrail": {"get": "list_audit_entries"},
    "stats.IncidentStats": {"get": "get_incident_stats"},
    "stats.IncidentStatsCsv": {"get": "get_incident_stats_csv"},
    "stats.IncidentStatsXlsx": {"get": "get_incident_stats_xlsx"},
    "stats.PoliceStats": {"get": "get_police_stats"},
    "stats.PoliceStatsCsv": {"get": "get_police_stats_csv"},
    "stats.PoliceStatsXlsx": {"get": "get_police_stats_xlsx"},
    "stats.SupportStats": {"get": "get_support_stats"},
    "stats.SupportStatsCsv": {"get": "get_support_stats_csv"},
    "stats.SupportStatsXlsx": {"get": "get_support_stats_xlsx"},
    "stats.Chart": {"get": "get_chart_png"},
    "surveys.Surveys": {"get": "list_surveys", "post": "create_survey"},
    "surveys.SurveyById": {"get": "get_survey"},
    "surveys.SurveyResponses": {"post": "create_survey_response"},
    "surveys.IaCounts": {"get": "list_ia_counts", "put": "put_ia_count"},
    "surveys.DarkFigure": {"get": "get_dark_figure"},
    "surveys.DarkFigureCsv": {"get": "get_dark_figure_csv"},
    "surveys.DarkFigureXlsx": {"get": "get_dark_figure_xlsx"},
    "summaries.Summaries": {"get": "list_summaries", "post": "create_summaries"},
    "summaries.SummaryById": {"get": "get_summary"},
    "summaries.SummaryCsv": {"get": "get_summary_csv"},
    "summaries.SummaryXlsx": {"get": "get_summary_xlsx"},
    "summaries.SummaryChart": {"get": "get_summary_chart_png"},
    "workshops.Workshops": {"get": "list_workshops", "post": "create_workshop"},
    "workshops.WorkshopsOverTime": {"get": "get_workshops_over_time"},
    "workshops.WorkshopById": {"get": "get_workshop"},
    "workshops.WorkshopRatings": {"post": "create_workshop_rating"},
    "workshops.WorkshopTallies": {"post": "create_workshop_tally"},
    "workshops.WorkshopSummary": {"get": "get_workshop_summary"},
    "health.Live": {"get": "get_liveness"},
    "health.Ready": {"get": "get_readiness"},
}

# Flask endpoint → HTTP method → the headers its success answers carry (the views return
# them: ETag for If-Match, Location for what a POST made). tests/contract checks every answer
# its generated client gets against this.
_ETAG = ("ETag",)
_MADE = ("ETag", "Location")
SENT_HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "incidents.Incidents": {"post": _MADE},
    "incidents.IncidentById": {"get": _ETAG, "patch": _ETAG},
    "case.Acknowledge": {"post": _ETAG},
    "case.Close": {"post": _ETAG},
    "case.Reopen": {"post": _ETAG},
    "case.SupportMeasures": {"post": _ETAG},
    "case.SupportMeasureById": {"get": _ETAG, "patch": _ETAG},
    "case.SupportEvaluationResource": {"get": _ETAG, "put": _ETAG},
    "police.PoliceReportResource": {"get": _ETAG, "put": _ETAG},
    "authority.AuthorityReportsResource": {"get": _ETAG, "put": _ETAG},
    "units.Units": {"post": _MADE},
    "units.UnitById": {"get": _ETAG, "patch": _ETAG},
    "users.Users": {"post": _MADE},
    "users.UserById": {"get": _ETAG, "patch": _ETAG},
    "settings.Settings": {"get": _ETAG, "patch": _ETAG},
    "settings.SettingByKey": {"delete": _ETAG},
    "anonymous.AnonymousReports": {"post": ("Location",)},
}

# Sets of values that are no StrEnum of incidents.domain, by the name their component gets.
ENUM_NAMES: dict[frozenset[str], str] = {
    frozenset({"sv", "en"}): "Language",
    frozenset({"json", "csv", "xlsx"}): "StatsFormat",
    frozenset({"scheduled", "open", "closed"}): "AnswerWindowStatus",
    frozenset({"month", "tertial", "year"}): "ChartPeriod",
    frozenset({"incidents", "police", "support", "dark-figure"}): "SummaryTable",
    frozenset({"acknowledgement", "check_in", "police_decision",
               "work_environment_notification"}): "OverdueKind",
    frozenset({"tertial", "monthly"}): "SummaryPeriodKind",
    frozenset({"incidents-by-form", "police-reported-share"}): "ChartName",
    frozenset({"category", "unit", "month", "tertial", "year", "location", "perpetrator",
               "anonymous"}): "IncidentStatsDimension",
    frozenset({"category", "unit", "month", "tertial", "year"}): "PoliceStatsDimension",
    frozenset({"unit", "month", "tertial", "year"}): "SupportStatsDimension",
    frozenset({"manager", "hr"}): "CaseHandlerRole",
}

# Where two domain enums have the same values, the property says which one it is.
ENUM_BY_PROPERTY: dict[str, str] = {
    "police_wanted": "PoliceWish",
    "perceived_influence_purpose": "PerceivedPurpose",
}

# Response fields the server leaves out in some answers (every other field is required).
SOMETIMES_ABSENT: dict[str, frozenset[str]] = {
    "Problem": frozenset({"errors"}),
    "NotReady": frozenset({"errors"}),
    "OverdueItem": frozenset({"check_in_id", "offset"}),
    "SchedulerCheck": frozenset({"holder", "heartbeat_at", "heartbeat_age_seconds"}),
}

# Response headers: name → (component name, schema, description).
HEADERS: dict[str, tuple[str, dict, str]] = {
    "ETag": ("ETag", {"type": "string"},
             "The version of the resource; send it back in If-Match to change it"),
    "Location": ("Location", {"type": "string"}, "The path of what was made"),
    "Idempotent-Replayed": (
        "IdempotentReplayed", {"type": "string", "enum": ["true"]},
        "Present (true) when this is the stored answer to an Idempotency-Key used before: "
        "nothing was done again"),
    "WWW-Authenticate": ("WWWAuthenticate", {"type": "string"},
                         "The scheme to authenticate with"),
    "Retry-After": ("RetryAfter", {"type": "integer", "minimum": 0},
                    "Seconds to wait before trying again"),
}

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The ETag you read. Without it 428; stale, 412 (read again for the new ETag). "
                   "On a PUT, needed once the resource exists.",
}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "A retry with the same key (within IDEMPOTENCY_TTL_HOURS) returns the first "
                   "answer with Idempotent-Replayed: true and does nothing again; the same key "
                   "with another request is 422",
}
PARAMETERS = {"IfMatch": IF_MATCH, "IfMatchRequired": {**IF_MATCH, "required": True},
              "IdempotencyKey": IDEMPOTENCY_KEY}

_METHODS = ("get", "put", "post", "delete", "patch")
_NOT_FILES = ("application/json", "application/problem+json")


def install(api) -> None:
    """Make every description ``api`` serves (or ``flask openapi print`` writes) finished.
    Call before the blueprints are registered: the label rule applies as schemas convert."""
    api.ma_plugin.converter.add_attribute_function(computed_label)
    build = api.spec.to_dict

    def to_dict() -> dict:
        return finish(build())

    api.spec.to_dict = to_dict


def computed_label(self, field, ret, **kwargs) -> dict:
    """A computed field named ``…_label`` gives a value's sv/en label: a Label object (the
    schemas' convention, as domain.py's labels)."""
    import marshmallow as ma

    if isinstance(field, ma.fields.Function | ma.fields.Method) and (
            (field.name or "").endswith("_label")):
        return {"allOf": [{"$ref": REF.format("schemas", "Label")}]}
    return {}


def finish(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    _identity(spec)
    _operations(spec)
    _error_headers(spec)
    for schema in _all_schemas(spec):
        _nullable_objects(schema)
    _file_bodies(spec)
    _name_enums(spec)
    _required_in_responses(spec)
    _drop_unused_schemas(spec)
    return spec


# -- info, servers ----------------------------------------------------------------------------


def _identity(spec: dict) -> None:
    spec["info"]["x-client-package"] = {
        "project": CLIENT_PROJECT, "package": CLIENT_PACKAGE, "config": CLIENT_CONFIG}
    spec["info"]["description"] = (
        "The JSON API of the incident register. Generating a client: " + CLIENT_CONFIG
        + " and docs/integrating.md.")
    spec["servers"] = [{"url": current_app.config["PUBLIC_BASE_URL"],
                        "description": "This service (PUBLIC_BASE_URL)"}]


# -- operations: ids and headers --------------------------------------------------------------


def endpoints_by_path() -> dict[str, str]:
    """OpenAPI path → Flask endpoint, for the API's routes."""
    return {FlaskPlugin.flaskpath2openapi(rule.rule): rule.endpoint
            for rule in current_app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}


def keeps_idempotency_keys(endpoint: str) -> bool:
    """Whether the view's POST looks up and stores Idempotency-Key (api.base.unit_of_work),
    rather than keeping none (api.base.UnlinkableView)."""
    view = getattr(current_app.view_functions.get(endpoint), "view_class", None)
    return (view is not None and issubclass(view, base.ApiView)
            and not issubclass(view, base.UnlinkableView))


def _operations(spec: dict) -> None:
    components = spec.setdefault("components", {})
    components.setdefault("parameters", {}).update(copy.deepcopy(PARAMETERS))
    components.setdefault("headers", {}).update({
        component: {"description": description, "schema": schema}
        for component, schema, description in HEADERS.values()})
    endpoints = endpoints_by_path()
    for path, item in spec["paths"].items():
        endpoint = endpoints.get(path, "")
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operation_id = OPERATION_IDS.get(endpoint, {}).get(method)
            if operation_id:
                operation["operationId"] = operation_id
            responses = operation.get("responses", {})
            if "428" in responses:
                _parameter(operation, "IfMatch", required=method != "put")
            signed_in = any("bearerAuth" in s for s in operation.get("security", []))
            keyed = method == "post" and signed_in and keeps_idempotency_keys(endpoint)
            if keyed:
                _parameter(operation, "IdempotencyKey")
            sent = SENT_HEADERS.get(endpoint, {}).get(method, ())
            sent += ("Idempotent-Replayed",) if keyed else ()
            for status, response in responses.items():
                if status.startswith("2") and "$ref" not in response:
                    for name in sent:
                        response.setdefault("headers", {})[name] = {
                            "$ref": REF.format("headers", HEADERS[name][0])}


def _parameter(operation: dict, component: str, *, required: bool | None = None) -> None:
    name = PARAMETERS[component]["name"]
    parameters = [p for p in operation.get("parameters", [])
                  if not (p.get("in") == "header" and p.get("name") == name)]
    if required:
        # A parameter that is a $ref cannot also say required: a component of its own.
        component += "Required"
    parameters.append({"$ref": REF.format("parameters", component)})
    operation["parameters"] = parameters


def _error_headers(spec: dict) -> None:
    responses = spec["components"].get("responses", {})
    for name, header in (("UNAUTHORIZED", "WWW-Authenticate"),
                         ("TOO_MANY_REQUESTS", "Retry-After"),
                         ("SERVICE_UNAVAILABLE", "Retry-After")):
        if name in responses:
            responses[name].setdefault("headers", {})[header] = {
                "$ref": REF.format("headers", HEADERS[header][0])}


# -- schemas ----------------------------------------------------------------------------------


def _all_schemas(spec: dict):
    """Every schema object in the description, outermost first."""
    pending: list[Any] = [spec]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "type" in node or "properties" in node or "anyOf" in node or "allOf" in node \
                    or "enum" in node:
                yield node
            pending += list(node.values())
        elif isinstance(node, list):
            pending += node


def _nullable_objects(schema: dict) -> None:
    """apispec writes a nullable nested schema as ``anyOf: [{$ref}, {type: object,
    nullable: true}]``: a free-form object to a generator. Say "this schema, or null"."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2:
        return
    refs = [b for b in branches if "$ref" in b]
    nulls = [b for b in branches if b == {"type": "object", "nullable": True}]
    if len(refs) == 1 and len(nulls) == 1:
        del schema["anyOf"]
        schema["allOf"] = refs
        schema["nullable"] = True


def _file_bodies(spec: dict) -> None:
    for item in spec["paths"].values():
        for method in _METHODS:
            for response in item.get(method, {}).get("responses", {}).values():
                for media_type, content in (response.get("content") or {}).items():
                    if media_type not in _NOT_FILES:
                        content["schema"] = {"type": "string", "format": "binary"}


def domain_enums() -> dict[frozenset[str], list[type[StrEnum]]]:
    found: dict[frozenset[str], list[type[StrEnum]]] = {}
    for value in vars(domain).values():
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
            found.setdefault(frozenset(member.value for member in value), []).append(value)
    return found


def enum_name(values: list, prop: str | None) -> str | None:
    """The component name of an enum of ``values`` found at property/parameter ``prop``, or
    None if the set has no name (it stays inline; tests/contract fails on that)."""
    key = frozenset(v for v in values if v is not None)
    candidates = {enum.__name__ for enum in domain_enums().get(key, [])}
    if prop in ENUM_BY_PROPERTY and ENUM_BY_PROPERTY[prop] in candidates:
        return ENUM_BY_PROPERTY[prop]
    if len(candidates) == 1:
        return candidates.pop()
    if candidates:
        return None
    return ENUM_NAMES.get(key)


def _enum_values(name: str, values: list) -> list:
    for enum in domain_enums().get(frozenset(v for v in values if v is not None), []):
        if enum.__name__ == name:
            return [member.value for member in enum]
    return [v for v in values if v is not None]


_KEPT_BESIDE_REF = ("description", "default", "readOnly", "writeOnly", "example")


def _named(schema: dict, prop: str | None, components: dict) -> dict:
    """``schema`` with its enum as a reference to a named component, if it has a name."""
    if "enum" not in schema or schema.get("type", "string") != "string":
        if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            schema["items"] = _named(schema["items"], prop, components)
        return schema
    name = enum_name(schema["enum"], prop)
    if name is None:
        return schema
    values = _enum_values(name, schema["enum"])
    if "enum" not in components.get(name, {"enum": ()}):
        name += "Code"  # an object schema has the name (Category: the form, with its labels)
    existing = components.get(name)
    if existing is not None and set(existing["enum"]) != set(values):
        return schema  # the same name for another set: stays inline, and a test says so
    components[name] = {"type": "string", "enum": values}
    ref = {"$ref": REF.format("schemas", name)}
    kept = {k: schema[k] for k in _KEPT_BESIDE_REF if k in schema}
    nullable = schema.get("nullable") or None in schema["enum"]
    if not kept and not nullable:
        return ref
    return {**kept, **({"nullable": True} if nullable else {}), "allOf": [ref]}


def _name_enums(spec: dict) -> None:
    components = spec["components"].setdefault("schemas", {})
    for schema in list(components.values()):
        for prop, value in (schema.get("properties") or {}).items():
            schema["properties"][prop] = _named(value, prop, components)
    for item in spec["paths"].values():
        operations = [item.get(method, {}) for method in _METHODS]
        for holder in [item, *operations]:
            for parameter in holder.get("parameters", []):
                if "schema" in parameter:
                    parameter["schema"] = _named(parameter["schema"], parameter["name"],
                                                 components)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, dict):
            ref = current.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[1])
            pending += list(current.values())
        elif isinstance(current, list):
            pending += current
    return found


def _closure(spec: dict, names: set[str]) -> set[str]:
    schemas = spec["components"]["schemas"]
    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending += _refs(schemas[name])
    return seen


def response_schema_names(spec: dict) -> set[str]:
    """The object schemas only answers use (not request bodies)."""
    answers: set[str] = _refs(spec["components"].get("responses", {}))
    requests: set[str] = set()
    for item in spec["paths"].values():
        for method in _METHODS:
            operation = item.get(method, {})
            requests |= _refs(operation.get("requestBody", {}))
            answers |= _refs(operation.get("responses", {}))
    return _closure(spec, answers) - _closure(spec, requests)


def _required_in_responses(spec: dict) -> None:
    schemas = spec["components"]["schemas"]
    for name in response_schema_names(spec):
        schema = schemas[name]
        properties = schema.get("properties")
        if schema.get("type") != "object" or not properties:
            continue
        absent = SOMETIMES_ABSENT.get(name, frozenset())
        schema["required"] = [p for p in properties if p not in absent]


def _drop_unused_schemas(spec: dict) -> None:
    """Schemas nothing refers to (flask-smorest's PaginationMetadata: this API pages with
    a cursor in the body, not a header)."""
    schemas = spec["components"]["schemas"]
    outside = {k: v for k, v in spec.items() if k != "components"}
    used = _closure(spec, _refs(outside) | _refs({k: v for k, v in spec["components"].items()
                                                  if k != "schemas"}))
    for name in list(schemas):
        if name not in used:
            del schemas[name]


_IDENTIFIER = re.compile(r"\A[a-z][a-z0-9_]*\Z")


def operation_ids(spec: dict) -> list[tuple[str, str, str | None]]:
    """(method, path, operationId) of every operation, for the tests."""
    return [(method, path, item[method].get("operationId"))
            for path, item in spec["paths"].items() for method in _METHODS if method in item]


def is_identifier(name: str | None) -> bool:
    return bool(name) and _IDENTIFIER.match(name) is not None
