"""The served OpenAPI document as a contract (incidents/api/contract.py): valid, every
operation named, enums named, response fields required, headers declared, lists repeatable —
and types generated from it with openapi-typescript compile under ``tsc --strict``."""

from __future__ import annotations

import shutil

import pytest
from openapi_spec_validator import validate

from incidents.api import contract
from tests.contract.conftest import NODE_DIR, run

METHODS = ("get", "put", "post", "delete", "patch")
TYPED = ("type", "$ref", "allOf", "anyOf", "oneOf")
# Fields of schemas this module does not own whose type cannot be said in one word: a setting's
# value is a number, a list of offsets or null.
UNTYPED: set[tuple[str, str]] = set()


def _operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_the_document_is_valid_openapi(document):
    validate(document)


def test_every_operation_has_a_unique_readable_operation_id(document, live_api):
    ids = [operation.get("operationId") for _, _, operation in _operations(document)]
    assert all(contract.is_identifier(i) for i in ids), ids
    assert len(ids) == len(set(ids))
    # The table names only what exists: a stale entry would be a function nobody gets.
    with live_api.app.app_context():
        endpoints = set(contract.endpoints_by_path().values())
    assert set(contract.OPERATION_IDS) <= endpoints
    assert set(contract.SENT_HEADERS) <= set(contract.OPERATION_IDS)


def test_the_title_stays_swedish_and_the_package_name_is_given(document):
    assert document["info"]["title"].startswith("Otillåten påverkan")
    hint = document["info"]["x-client-package"]
    assert hint["package"].isidentifier() and hint["package"].isascii()
    assert document["servers"][0]["url"].startswith("http://127.0.0.1:")
    assert "PaginationMetadata" not in document["components"]["schemas"]


def _inline_enums(node, where=""):
    if isinstance(node, dict):
        if "enum" in node:
            yield where
        for key, value in node.items():
            yield from _inline_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _inline_enums(value, f"{where}/{index}")


def test_every_enum_is_a_named_component(document):
    schemas = document["components"]["schemas"]
    enums = {name for name, schema in schemas.items() if "enum" in schema}
    assert {"PoliceDecision", "FiledBy", "ContactAddress", "PoliceOutcome", "CategoryCode",
            "IncidentStatsDimension", "ChartName"} <= enums
    inline = [w for name, schema in schemas.items() if name not in enums
              for w in _inline_enums(schema, name)]
    inline += [w for path, item in document["paths"].items()
               for w in _inline_enums(item, path) if "/parameters/" in w]
    assert inline == []


def test_nullable_enums_of_the_police_report_allow_null(document):
    properties = document["components"]["schemas"]["PoliceReport"]["properties"]
    for name in ("decision", "filed_by", "contact_address", "outcome"):
        assert properties[name]["nullable"] is True, name
        assert properties[name]["allOf"][0]["$ref"].startswith("#/components/schemas/")
    outcome = document["components"]["schemas"]["PoliceReportPut"]["properties"]["outcome"]
    assert "anyOf" not in outcome
    assert outcome["allOf"] == [{"$ref": "#/components/schemas/PoliceOutcomeInput"}]


def test_every_property_has_a_type(document):
    untyped = [(name, prop) for name, schema in document["components"]["schemas"].items()
               for prop, value in (schema.get("properties") or {}).items()
               if not any(key in value for key in TYPED) and (name, prop) not in UNTYPED
               and not value.get("writeOnly")]
    assert untyped == []


def test_response_schemas_list_their_fields_as_required(document):
    schemas = document["components"]["schemas"]
    for name in ("Incident", "PoliceReport", "Summary", "Unit", "User", "StatsTable"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name
    assert "check_in_id" not in schemas["OverdueItem"]["required"]


def test_the_headers_the_server_reads_and_sends_are_declared(document):
    operations = {(m, p): o for m, p, o in _operations(document)}
    for (method, path), operation in operations.items():
        names = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation.get("parameters", [])}
        if "428" in operation["responses"]:
            assert names & {"IfMatch", "IfMatchRequired"}, (method, path)
    keyed = {path for (method, path), o in operations.items() if method == "post"
             and {"$ref": "#/components/parameters/IdempotencyKey"} in o.get("parameters", [])}
    assert {"/api/v1/incidents", "/api/v1/units", "/api/v1/users",
            "/api/v1/incidents/{incident_id}/follow-ups",
            "/api/v1/incidents/{incident_id}/acknowledge"} <= keyed
    # No key is kept where the caller must not be linkable to what they sent.
    assert not keyed & {"/api/v1/anonymous-reports", "/api/v1/surveys/{survey_id}/responses",
                        "/api/v1/workshops/{workshop_id}/ratings"}
    patch = operations[("patch", "/api/v1/incidents/{incident_id}")]
    assert {"$ref": "#/components/parameters/IfMatchRequired"} in patch["parameters"]
    assert set(patch["responses"]["200"]["headers"]) == {"ETag"}
    created = operations[("post", "/api/v1/incidents")]["responses"]["201"]["headers"]
    assert set(created) == {"ETag", "Location", "Idempotent-Replayed"}
    responses = document["components"]["responses"]
    assert "WWW-Authenticate" in responses["UNAUTHORIZED"]["headers"]
    assert "Retry-After" in responses["TOO_MANY_REQUESTS"]["headers"]


def test_lists_in_the_query_are_sent_repeated(document):
    for path in ("/api/v1/stats/incidents", "/api/v1/stats/police", "/api/v1/stats/support"):
        group_by = next(p for p in document["paths"][path]["get"]["parameters"]
                        if p["name"] == "group_by")
        assert group_by["style"] == "form" and group_by["explode"] is True


def test_files_are_binary_and_have_operations_of_their_own(document):
    for path in ("/api/v1/stats/incidents", "/api/v1/stats/police", "/api/v1/stats/support",
                 "/api/v1/stats/dark-figure", "/api/v1/summaries/{summary_id}"):
        for extension, media_type in (("csv", "text/csv"), ("xlsx", contract_xlsx())):
            content = document["paths"][f"{path}.{extension}"]["get"]["responses"]["200"][
                "content"]
            assert content == {media_type: {"schema": {"type": "string",
                                                       "format": "binary"}}}, path
    for path in ("/api/v1/stats/charts/{name}.png",
                 "/api/v1/summaries/{summary_id}/charts/{name}.png"):
        operation = document["paths"][path]["get"]
        assert operation["responses"]["200"]["content"]["image/png"]["schema"]["format"] == (
            "binary")


def contract_xlsx() -> str:
    from incidents.stats.export import XLSX

    return XLSX


TYPESCRIPT_USE = """\
import type { components, paths } from "./api";

type PoliceReport = components["schemas"]["PoliceReport"];
type Decision = components["schemas"]["PoliceDecision"];

export function decisionText(report: PoliceReport): string {
  const decision: Decision | null = report.decision;
  const outcome = report.outcome ?? "none yet";
  return `${decision ?? "undecided"} (${outcome}), flag ${report.flag}`;
}

export type IncidentStats =
  paths["/api/v1/stats/incidents"]["get"]["responses"]["200"]["content"]["application/json"];
export type GroupBy = NonNullable<
  paths["/api/v1/stats/incidents"]["get"]["parameters"]["query"]
>["group_by"];
const byTwo: GroupBy = ["category", "month"];
export const grouping = byTwo;
"""


def test_typescript_types_from_the_document_compile_strictly(document_file, tmp_path):
    tools = NODE_DIR / "node_modules" / ".bin"
    if shutil.which("node") is None or not (tools / "tsc").exists():
        pytest.skip("node or tests/node/node_modules is missing: npm ci --prefix tests/node")
    generated = run([str(tools / "openapi-typescript"), str(document_file),
                     "-o", str(tmp_path / "api.d.ts")])
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "⚠" not in generated.stdout + generated.stderr, generated.stderr
    (tmp_path / "use.ts").write_text(TYPESCRIPT_USE, encoding="utf-8")
    compiled = run([str(tools / "tsc"), "--strict", "--noEmit", "--target", "es2022",
                    "--module", "es2022", "--moduleResolution", "bundler",
                    str(tmp_path / "use.ts")])
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    # And a misuse does not: a report's decision is not any string.
    (tmp_path / "use.ts").write_text(
        TYPESCRIPT_USE + 'export const wrong: Decision = "maybe";\n', encoding="utf-8")
    refused = run([str(tools / "tsc"), "--strict", "--noEmit", "--target", "es2022",
                   "--module", "es2022", "--moduleResolution", "bundler",
                   str(tmp_path / "use.ts")])
    assert refused.returncode != 0
