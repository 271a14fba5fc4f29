"""schemas/plain.plain_dump: the same answer as the schema's own dump, made from the schema's
fields; a schema it cannot serve the same way is refused, not answered differently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import marshmallow as ma
import pytest

from incidents.schemas.incidents import IncidentSchema
from incidents.schemas.plain import plain_dump
from incidents.services import reporting


def test_every_field_of_an_incident_dumps_as_the_schema_dumps_it(db_session, make, org):
    """Both ways over real incidents: with every optional field set and with none, another
    form beside the primary one, a colleague reported for, an acknowledged and closed one."""
    plain = make.incident(org.employee_a1, unit=org.a1)
    full = make.incident(
        org.employee_a1, unit=org.a1, category="violence", additional_categories=["threat"],
        on_behalf_of=org.colleague_a1.id, location="home_visit", perpetrator="client",
        channel="in_person", targeted_matter="elderly_care", police_wanted="yes",
        family_targeted=True, injured=True, ia_reported=True, ia_reference="IA-1")
    full.acknowledged_at = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    full.closed_at = datetime(2026, 3, 2, 9, 15, 1, 250000, tzinfo=UTC)
    db_session.flush()
    filters = {"limit": 50}
    records = reporting.list_incident_records(org.hr, filters).items
    objects = reporting.list_incidents(org.hr, filters).items
    assert [r["id"] for r in records] == [o.id for o in objects] != []
    assert {full.id, plain.id} <= {r["id"] for r in records}
    dumped = plain_dump(IncidentSchema())(records)
    assert dumped == IncidentSchema(many=True).dump(objects)
    by_id = {item["id"]: item for item in dumped}
    assert by_id[full.id]["additional_categories"] == ["threat"]
    assert by_id[full.id]["on_behalf_of"] == org.colleague_a1.id
    assert by_id[full.id]["closed_at"] == "2026-03-02T09:15:01.250000+00:00"
    assert by_id[plain.id]["closed_at"] is None


class _Kinds(ma.Schema):
    text = ma.fields.String()
    number = ma.fields.Integer()
    flag = ma.fields.Boolean()
    moment = ma.fields.AwareDateTime()
    words = ma.fields.List(ma.fields.String())
    renamed = ma.fields.Integer(attribute="inner_name", data_key="outerName")
    secret = ma.fields.String(load_only=True)


@pytest.mark.parametrize("record", [
    {"text": "å", "number": 7, "flag": False, "moment": datetime(2026, 1, 1, tzinfo=UTC),
     "words": ["a", "b"], "inner_name": 3, "secret": "never"},
    {"text": None, "number": None, "flag": None, "moment": None, "words": None,
     "inner_name": None},
    {"text": 12, "number": 7.0, "flag": 1, "words": (1, 2),
     "moment": datetime(2026, 6, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
    {},
])
def test_each_kind_of_field_dumps_as_marshmallow_dumps_it(record):
    assert plain_dump(_Kinds())([record]) == _Kinds(many=True).dump([record])


class _Hooked(ma.Schema):
    name = ma.fields.String()

    @ma.post_dump
    def shout(self, data, **_kwargs):
        return {key: value.upper() for key, value in data.items()}


class _Nested(ma.Schema):
    inner = ma.fields.Nested(_Kinds)


class _Formatted(ma.Schema):
    day = ma.fields.DateTime(format="%Y-%m-%d")


@pytest.mark.parametrize("schema", [_Hooked, _Nested, _Formatted])
def test_a_schema_it_would_dump_differently_is_refused(schema):
    with pytest.raises(TypeError, match="plain_dump does not serve"):
        plain_dump(schema())


def test_the_api_list_answers_what_the_schema_describes(client, make, org):
    make.incident(org.employee_a1, unit=org.a1, additional_categories=["harassment"])
    answer = client.get("/api/v1/incidents", headers=make.headers(org.hr)).get_json()
    incident = client.get(f"/api/v1/incidents/{answer['items'][0]['id']}",
                          headers=make.headers(org.hr)).get_json()
    assert answer["items"][0] == incident
    assert set(answer) == {"items", "next_cursor"}
