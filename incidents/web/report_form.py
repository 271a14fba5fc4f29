"""The report form, shared by the named and the anonymous report: the page's fields turned into
the API's payload (IncidentCreateSchema / AnonymousReportCreateSchema)."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from incidents.domain import (
    CATEGORY_DESCRIPTIONS,
    CATEGORY_LABELS,
    LOCATION_LABELS,
    PERPETRATOR_LABELS,
    SUBCATEGORIES,
    Category,
    Location,
    Perpetrator,
)
from incidents.web.forms import FormState, checkbox, moment, optional, today_and_now, whole_number


def payload(values: MultiDict, anonymous: bool) -> dict[str, Any]:
    """What the form says, in the API's terms. A sub-type is sent as ``form:type`` because two
    forms share the type ``other``."""
    category = optional(values.get("category"))
    _, _, subcategory = (values.get("subcategory") or "").partition(":")
    data: dict[str, Any] = {
        "category": category,
        "additional_categories": [
            form for form in values.getlist("additional_categories") if form != category
        ],
        "subcategory": optional(subcategory),
        "occurred_at": moment(values.get("occurred_date", ""), values.get("occurred_time", "")),
        "unit_id": whole_number(values.get("unit_id")),
        "description": values.get("description", ""),
        "perceived_influence_purpose": optional(values.get("perceived_influence_purpose")),
        "location": optional(values.get("location")),
        "perpetrator": optional(values.get("perpetrator")),
        "family_targeted": checkbox(values, "family_targeted"),
    }
    if police := optional(values.get("police_wanted")):
        data["police_wanted"] = police
    if not anonymous:
        data["injured"] = checkbox(values, "injured")
        data["sick_leave"] = checkbox(values, "sick_leave")
        if values.get("for_whom") == "colleague":
            data["on_behalf_of"] = whole_number(values.get("on_behalf_of")) or 0
    return data


def blank(unit_id: int | None) -> FormState:
    """A new report: today, now, and the reporter's own unit."""
    day, clock = today_and_now()
    values = MultiDict({"occurred_date": day, "occurred_time": clock, "for_whom": "self"})
    if unit_id is not None:
        values["unit_id"] = str(unit_id)
    return FormState(values=values)


def choices() -> dict[str, Any]:
    """The vocabulary the form offers, in the API's codes with sv/en labels."""
    return {
        "categories": [
            (c.value, CATEGORY_LABELS[c], CATEGORY_DESCRIPTIONS[c]) for c in Category
        ],
        "subcategories": [
            (c.value, CATEGORY_LABELS[c], list(SUBCATEGORIES[c].items())) for c in Category
        ],
        "locations": [(loc.value, LOCATION_LABELS[loc]) for loc in Location],
        "perpetrators": [(p.value, PERPETRATOR_LABELS[p]) for p in Perpetrator],
    }
