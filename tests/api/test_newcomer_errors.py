"""What a newcomer tripped over: a misspelt query parameter was ignored (the list came back
unfiltered), and some messages said what was wrong but not what to send instead."""

from __future__ import annotations

import re

import pytest

from tests.fuzz.conftest import World, world  # noqa: F401 - the fuzzer's small world

REPORT = {"category": "threat", "perceived_influence_purpose": "yes",
          "description": "Hot i telefon.", "occurred_at": "2026-03-01T10:00:00"}


def _operations_with_query(client) -> list[tuple[str, list[str]]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            if names:
                found.append((f"{method.upper()} {path}", names))
    return found


def test_every_operation_with_query_parameters_refuses_an_unknown_one(
    client, world: World  # noqa: F811
):
    """``?occured_from=`` (misspelt) and ``?unit=`` are 422 naming the parameter and listing
    those the operation takes, on every operation with query parameters."""
    operations = _operations_with_query(client)
    assert len(operations) >= 10
    headers = {"Authorization": f"Bearer {world.tokens['admin_hr']}"}
    ids = {name: values[0] for name, values in world.ids.items()}
    for label, names in operations:
        method, path = label.split(" ")
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        r = client.open(url, method=method, headers=headers,
                        query_string={"occured_from": "2026-01-01", "unit": "3"})
        assert r.status_code == 422, (label, r.status_code, r.get_data(as_text=True)[:200])
        errors = r.get_json()["errors"]
        assert set(errors) == {"occured_from", "unit"}, (label, errors)
        message = errors["unit"][0]
        assert message.startswith("Unknown query parameter"), message
        assert all(name in message for name in names), (label, message)


def test_a_time_without_an_offset_says_what_to_send(client, make, org):
    r = client.post("/api/v1/incidents", json={**REPORT, "unit_id": org.a1.id},
                    headers=make.headers(org.employee_a1))
    assert r.status_code == 422
    message = r.get_json()["errors"]["occurred_at"][0]
    assert "Not a valid aware datetime" not in message
    assert "UTC offset" in message and "+01:00" in message and "Z" in message


def test_something_that_is_not_a_time_says_what_to_send(client, make, org):
    r = client.post("/api/v1/incidents", json={**REPORT, "unit_id": org.a1.id,
                                               "occurred_at": "yesterday"},
                    headers=make.headers(org.employee_a1))
    assert r.status_code == 422
    assert "ISO 8601" in r.get_json()["errors"]["occurred_at"][0]


@pytest.mark.parametrize("body", ['[{"category": "threat"}]', '"text"', "42", "null"])
def test_a_body_that_is_not_an_object_says_what_to_send(client, make, org, body):
    r = client.post("/api/v1/incidents", data=body, content_type="application/json",
                    headers=make.headers(org.employee_a1))
    assert r.status_code == 422
    message = r.get_json()["errors"]["_schema"][0]
    assert message != "Invalid input type."
    assert "JSON object" in message
