"""A schema's dump without the schema's machinery, for the answers that are lists of many
records (the incident list): marshmallow spends several calls on each field of each record
(docs/performance.md), where the values read from the database need at most one conversion.

``plain_dump(schema)`` is made from the schema's own fields, so the schema stays the one
description of the answer (the OpenAPI document is made from it) and the dump is the same as
``schema.dump``; tests/services/test_plain_dump.py compares both on every field of the schemas it
serves. Only flat schemas are served: a hook, a nested schema or an unknown field type is
refused when the dump is made, not answered differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import marshmallow as ma

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _converter(field: ma.fields.Field, name: str) -> Convert:
    """What ``field._serialize`` does to a value, in as few calls as it needs."""
    kind = type(field)
    if kind in (ma.fields.String, ma.fields.Str):
        return lambda value: value if value is None or type(value) is str else str(value)
    if kind in (ma.fields.Integer, ma.fields.Int) and not field.as_string:
        return lambda value: value if value is None or type(value) is int else int(value)
    if kind in (ma.fields.Boolean, ma.fields.Bool, ma.fields.Raw):
        return _same  # Field._serialize hands the value on as it is
    if kind in (ma.fields.DateTime, ma.fields.AwareDateTime, ma.fields.NaiveDateTime) and (
            field.format in (None, "iso") and kind is not ma.fields.NaiveDateTime):
        return lambda value: None if value is None else value.isoformat()
    if kind is ma.fields.List:
        inner = _converter(field.inner, name)
        if inner is _same:
            return lambda value: None if value is None else list(value)
        return lambda value: None if value is None else [inner(each) for each in value]
    raise TypeError(f"plain_dump does not serve the field {name!r} ({kind.__name__})")


def plain_dump(schema: ma.Schema) -> Callable[[Iterable[Mapping[str, Any]]], list[dict]]:
    """A function dumping many records given as mappings, as ``schema.dump(records,
    many=True)`` would."""
    hooks = getattr(schema, "_hooks", {})
    if any(hooks.get(kind) for kind in hooks):
        raise TypeError(f"plain_dump does not serve {type(schema).__name__}: it has hooks")
    fields = [
        (field.data_key or name, field.attribute or name, _converter(field, name))
        for name, field in schema.dump_fields.items()
    ]

    def dump(records: Iterable[Mapping[str, Any]]) -> list[dict]:
        return [
            {key: convert(record[attribute]) for key, attribute, convert in fields
             if attribute in record}
            for record in records
        ]

    return dump
