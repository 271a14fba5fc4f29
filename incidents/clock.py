"""The one clock of the code base: every "now" comes from here, so freezegun controls it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_zone() -> ZoneInfo:
    """The organisation's time zone (TIMEZONE, default Europe/Stockholm): periods, deadlines and
    reference years are reckoned in it."""
    name = current_app.config["TIMEZONE"] if has_app_context() else "Europe/Stockholm"
    return ZoneInfo(name)


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(local_zone())


def local_midnight(day: date) -> datetime:
    """The start of a calendar day in the organisation's time zone, as a UTC moment."""
    return datetime.combine(day, time(0), tzinfo=local_zone()).astimezone(UTC)


def this_hour() -> datetime:
    """Now, cut to the hour: all that is kept of when an anonymous reporter did something
    (services/anonymous.py), so it cannot be matched against a log kept elsewhere."""
    return utcnow().replace(minute=0, second=0, microsecond=0)
