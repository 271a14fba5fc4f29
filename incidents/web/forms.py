"""Form state for pages: what was typed, turned into the API's payload and checked by the API's
own schema and services, with every error shown beside its field and in a summary at the top
(the GOV.UK Design System's error pattern). Nothing is checked here that the schema or the
service does not check: this module only converts and words the messages for people."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from incidents.clock import local_zone, to_local, utcnow
from incidents.errors import DomainError


@dataclass
class FieldError:
    anchor: str  # the id of the input the summary links to
    message: str


@dataclass
class FormState:
    """What the person typed (so nothing is lost when a field is wrong) and the errors."""

    values: MultiDict = field(default_factory=MultiDict)
    errors: dict[str, FieldError] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getlist(self, name: str) -> list[str]:
        return self.values.getlist(name)

    def error(self, name: str) -> FieldError | None:
        return self.errors.get(name)

    def add(self, name: str, anchor: str, message: str) -> None:
        self.errors.setdefault(name, FieldError(anchor, str(message)))

    @property
    def summary(self) -> list[FieldError]:
        return list(self.errors.values())


# How each field of the API's payload is shown on the page: the input the error links to, and
# the sentence a person reads (plain words about what to do, not the validator's wording).
Wording = Mapping[str, tuple[str, Any]]

REPORT_WORDING: Wording = {  # in the order of the form, which the error summary follows
    "category": ("category-harassment", _l("Choose what kind of influence it was")),
    "subcategory": ("subcategory", _l("Choose a type that belongs to the kind of influence you "
                                      "chose, or leave the type empty")),
    "additional_categories": ("additional-harassment", _l(
        "Choose other kinds than the one you chose first")),
    "description": ("description", _l("Describe what happened, what was done and what was said")),
    "occurred_at": ("occurred-date", _l(
        "Enter when it happened: a date and a time that are not in the future")),
    "unit_id": ("unit-id", _l("Choose the unit where you work or where it happened")),
    "location": ("location", _l("Choose where it happened from the list")),
    "perpetrator": ("perpetrator", _l("Choose who did it from the list")),
    "perceived_influence_purpose": ("purpose-yes", _l(
        "Answer whether you felt the aim was to influence how you do your job")),
    "police_wanted": ("police-wanted-yes", _l("Answer whether you want the police involved")),
    "on_behalf_of": ("on-behalf-of", _l("Choose the colleague you are reporting for")),
    "family_targeted": ("family-targeted", _l("Answer whether your family was targeted")),
    "injured": ("injured", _l("Answer whether you were injured")),
    "sick_leave": ("sick-leave", _l("Answer whether you were on sick leave")),
}

MESSAGE_WORDING: Wording = {"body": ("message-body", _l("Write a message before you send it"))}

EVALUATION_WORDING: Wording = {
    "sufficient": ("sufficient-yes", _l("Answer whether the support was enough")),
    "relevant": ("relevant-yes", _l("Answer whether the support fitted what you needed")),
    "felt_supported_by_employer": ("felt-supported-1", _l(
        "Choose how supported you felt by your employer, from 1 to 5")),
    "comment": ("comment", _l("Shorten the comment")),
}


def errors_from(state: FormState, messages: Mapping[str, Any], wording: Wording) -> None:
    """Field errors from a schema (ValidationError.messages) or a service (DomainError.errors)
    in the page's words; an error on a field the page does not show goes at the top."""
    order = list(wording)
    for name in sorted(messages, key=lambda n: order.index(n) if n in order else len(order)):
        anchor, message = wording.get(name, ("", None))
        if message is None:
            anchor, message = "error-summary", _l("Something in the form could not be saved. "
                                                  "Check your answers and send again.")
        state.add(name, anchor, message)


def load(
    state: FormState,
    schema: ma.Schema,
    payload: dict[str, Any],
    wording: Wording,
) -> dict[str, Any] | None:
    """The payload through the API's schema: the data, or None with the errors in ``state``."""
    try:
        data = schema.load(payload)
    except ma.ValidationError as exc:
        errors_from(state, exc.messages if isinstance(exc.messages, dict) else {}, wording)
        return None
    return None if state.errors else data


def service_error(state: FormState, error: DomainError, wording: Wording) -> bool:
    """A service's refusal that names fields, shown on the form; False if it names none."""
    if not error.errors:
        return False
    errors_from(state, error.errors, wording)
    return True


def call(state: FormState, action: Callable[[], Any], wording: Wording) -> Any:
    """Run a service call; a refusal naming fields goes to the form (returns None)."""
    try:
        return action()
    except DomainError as exc:
        if service_error(state, exc, wording):
            return None
        raise


# -- conversions from what a form sends to what the API takes -------------------------------


def optional(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def checkbox(values: MultiDict, name: str) -> bool:
    return values.get(name) == "yes"


def whole_number(value: str | None) -> int | str | None:
    """A select's id as a number; anything else as it came, for the schema to refuse."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else value


def moment(day: str, clock: str) -> str | None:
    """A local date and time (the organisation's time zone) as ISO 8601 with its offset;
    None when either cannot be read, for the schema to refuse as missing."""
    try:
        parsed_day = date.fromisoformat(day.strip())
        parsed_time = time.fromisoformat(clock.strip()) if clock.strip() else time(12, 0)
    except ValueError:
        return None
    return datetime.combine(parsed_day, parsed_time, tzinfo=local_zone()).isoformat()


def today_and_now() -> tuple[str, str]:
    now = to_local(utcnow())
    return now.date().isoformat(), now.strftime("%H:%M")
