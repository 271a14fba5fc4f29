"""Settings that belong to the organisation rather than to the deployment, changed by an
administrator in the service (/admin/settings, GET and PATCH /api/v1/settings) and read by the
rules through ``value(key)`` (docs/configuration.md, "Settings changed in the service").

Rules:

- ``REGISTRY`` is the one list of what may be changed, with each setting's bounds. The
  environment variable of the same name (incidents/config.py) is the default: a setting nobody
  changed in the service has the environment's value, and follows it when it changes.
- ``value(key)`` is the stored value if an administrator set one, else ``current_app.config``'s.
  The stored values are read once per application context (a request, a scheduler job), so a
  hot path does not query per call; a change, a return to the environment's value and a
  rollback forget them.
- ``change`` checks every field first (422 naming each bad one, unknown keys included) and
  writes nothing if any is bad; a value equal to the one in use changes nothing. Each change and
  each return to the environment's value (``reset``) is audited with old → new.
- Only administrators change settings (403 for everyone else), as they alone change units and
  users.
- The mail server, its credentials, the sender and PUBLIC_BASE_URL are the deployment's and its
  secrets: they stay in the environment, and are not in the registry.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from incidents import access, auth
from incidents.access import ADMIN_ROLES, UnitTree
from incidents.clock import utcnow
from incidents.config import ConfigError, _offsets
from incidents.domain import AuditAction, AuditRecord
from incidents.errors import Forbidden, NotFound, ValidationFailed
from incidents.extensions import db
from incidents.models import Setting, User
from incidents.services import audit

log = logging.getLogger(__name__)

# At most this many check-ins per incident can be set in the service: more is a typo.
MAX_OFFSETS = 20


class Invalid(ValueError):
    """A value a setting cannot take; the message says what it can."""


@dataclass(frozen=True)
class Definition:
    """One setting that can be changed in the service. ``kind`` is what its number counts
    ("days", "hours") or "offsets" (check-in offsets like 1d, 1w, 1m); ``optional``: it may be
    not set (None), which the setting's rule reads as "nothing to do"."""

    key: str
    kind: str
    label: str
    minimum: int = 1
    maximum: int | None = None
    optional: bool = False

    def check(self, value: Any) -> Any:
        """``value`` as stored, or Invalid saying what the setting can take."""
        if self.kind == "offsets":
            return _check_offsets(value)
        if value is None and self.optional:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not (
                self.minimum <= value <= self.maximum):
            unset = ", or null for not set" if self.optional else ""
            raise Invalid(f"must be a whole number from {self.minimum} to {self.maximum}{unset}")
        return value


def _check_offsets(value: Any) -> list[str]:
    """Check-in offsets by incidents/config.py's rule for CHECK_IN_OFFSETS (a number and d, w
    or m; at most about ten years; none twice), given as a list, at most MAX_OFFSETS of them."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Invalid('must be a list of offsets like ["1d", "1w", "1m", "3m"]')
    if not value:
        raise Invalid("must name at least one offset, e.g. 1d, 1w, 1m, 3m")
    if len(value) > MAX_OFFSETS:
        raise Invalid(f"must name at most {MAX_OFFSETS} offsets")
    for item in value:
        if not item.strip() or "," in item:
            raise Invalid(f"{item!r} is not one offset: a number followed by d, w or m")
    try:
        return _offsets(",".join(value))
    except ConfigError as exc:
        raise Invalid(str(exc).removeprefix("CHECK_IN_OFFSETS").lstrip(": ")) from exc


# The bounds: the environment's lower bounds (incidents/config.py), and upper bounds past which
# a value is a typo rather than a decision.
REGISTRY: dict[str, Definition] = {
    definition.key: definition
    for definition in (
        # The organisation's information-management plan decides it; unset, nothing is
        # anonymised. At most about a hundred years, as in the environment.
        Definition("RETENTION_AFTER_CLOSE_DAYS", "days",
                   "Closed incidents are anonymised after", maximum=36_500, optional=True),
        Definition("ACKNOWLEDGE_WITHIN_HOURS", "hours",
                   "Acknowledge a new report within", maximum=720),
        Definition("POLICE_DECISION_DAYS", "days",
                   "Decide on a police report within", maximum=365),
        # A duty "without delay" (AML 3 kap. 3 a §): a week at the most.
        Definition("AUTHORITY_NOTIFICATION_HOURS", "hours",
                   "Notify the Work Environment Authority within", maximum=168),
        Definition("CHECK_IN_OFFSETS", "offsets",
                   "Check in with the employee after"),
        # Sent mails hold addresses: kept for tracing, not for years.
        Definition("MAIL_KEEP_SENT_DAYS", "days", "Sent mails are kept for", maximum=365),
    )
}


# -- reading ----------------------------------------------------------------------------------

_CACHE = "incidents_settings"


def _stored() -> dict[str, Any]:
    """The values changed in the service, read once per application context. A stored value
    the rules no longer allow (bounds narrowed since) is ignored, with a warning, so the
    environment's value applies."""
    cached = g.get(_CACHE)
    if cached is None:
        cached = {}
        for key, stored in db.session.execute(select(Setting.key, Setting.value)):
            definition = REGISTRY.get(key)
            if definition is None:
                continue
            try:
                cached[key] = definition.check(stored)
            except Invalid as exc:
                log.warning("setting %s in the database is ignored: %s", key, exc)
        setattr(g, _CACHE, cached)
    return cached


def forget() -> None:
    """Read the stored values again at the next ``value``."""
    if has_app_context():
        g.pop(_CACHE, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session, previous_transaction) -> None:
    forget()


def environment(key: str) -> Any:
    """The environment's value of a setting (incidents/config.py): the default."""
    return current_app.config.get(key)


def value(key: str) -> Any:
    """The setting in effect: changed in the service, else the environment's."""
    if key not in REGISTRY:
        raise KeyError(f"{key} is not a setting that can be changed in the service")
    stored = _stored()
    return stored[key] if key in stored else environment(key)


@dataclass(frozen=True)
class Effective:
    """A setting as it is in effect, and where it comes from."""

    definition: Definition
    value: Any
    environment_value: Any
    changed_by: User | None
    changed_at: datetime | None

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def changed(self) -> bool:
        return self.changed_at is not None

    @property
    def source(self) -> str:
        """"service" when an administrator changed it, else "environment"."""
        return "service" if self.changed else "environment"


@dataclass(frozen=True)
class Settings:
    """Every setting in effect, and a version that changes with any of them (the ETag of
    /api/v1/settings and the version of the page's form)."""

    items: list[Effective]
    id: str = "all"

    @property
    def version(self) -> str:
        state = [(item.key, item.value, item.environment_value,
                  item.changed_by.id if item.changed_by else None,
                  item.changed_at.isoformat() if item.changed_at else None)
                 for item in self.items]
        return hashlib.sha256(json.dumps(state).encode()).hexdigest()[:20]

    def get(self, key: str) -> Effective:
        return next(item for item in self.items if item.key == key)


def effective() -> Settings:
    """Every setting of the registry with its value, its environment's value and who changed
    it when, in the registry's order."""
    rows = {row.key: row for row in db.session.scalars(select(Setting))}
    stored = _stored()
    items = []
    for key, definition in REGISTRY.items():
        row = rows.get(key) if key in stored else None
        items.append(Effective(
            definition=definition,
            value=stored[key] if key in stored else environment(key),
            environment_value=environment(key),
            changed_by=row.updated_by if row else None,
            changed_at=row.updated_at if row else None,
        ))
    return Settings(items)


# -- changing ---------------------------------------------------------------------------------


def shown(value: Any) -> str:
    """A value as the audit trail writes it."""
    if value is None:
        return "not set"
    if isinstance(value, list):
        return ",".join(value)
    return str(value)


def unchanged(key: str, raw: Any) -> bool:
    """``raw`` is the value in effect (of the same JSON type: true is not 1). It is accepted as
    it is, even outside the service's bounds (an environment's value may be), and changes
    nothing, so a form or a client that sends back what it read is never refused for it."""
    current = value(key)
    return type(raw) is type(current) and raw == current


def require_deployment_admin(user: User) -> None:
    """The settings hold for the whole deployment, every organisation in it: changed by a
    platform admin or an admin of every organisation (access.administers_all)."""
    auth.require_roles(user, ADMIN_ROLES)
    if not access.administers_all(user, UnitTree.load()):
        raise Forbidden("The settings hold for every organisation in the service: a platform "
                        "admin changes them.")


def change(user: User, changes: Mapping[str, Any]) -> Settings:
    """Set the settings in ``changes`` (key → value). Every field is checked before anything
    is written: unknown keys and bad values are one 422 naming each. A value equal to the one
    in effect is left as it is (``unchanged``: nothing written, nothing audited). Flushes; the
    caller commits."""
    require_deployment_admin(user)
    errors: dict[str, list[str]] = {}
    checked: dict[str, Any] = {}
    for key, raw in changes.items():
        definition = REGISTRY.get(key)
        if definition is None:
            errors[key] = [f"unknown setting; the settings are: {', '.join(REGISTRY)}"]
            continue
        if unchanged(key, raw):
            continue
        try:
            checked[key] = definition.check(raw)
        except Invalid as exc:
            errors[key] = [str(exc)]
    if not changes:
        errors["settings"] = ["name at least one setting to change"]
    if errors:
        raise ValidationFailed(f"Invalid settings: {', '.join(sorted(errors))}", errors=errors)
    now = utcnow()
    for key, new in checked.items():
        old = value(key)
        if new == old:  # the same once normalised, e.g. "01d" for "1d"
            continue
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=new, updated_by_id=user.id, updated_at=now))
        else:
            row.value, row.updated_by_id, row.updated_at = new, user.id, now
        audit.record(user, AuditAction.UPDATE, None,
                     detail=f"setting {key}: {shown(old)} → {shown(new)}",
                     record=AuditRecord.SETTING)
    db.session.flush()
    forget()
    return effective()


def reset(user: User, key: str) -> Settings:
    """Back to the environment's value: the stored value is removed, so the setting follows
    the environment again. Audited with old → new; a setting not changed in the service stays
    as it is. An unknown key is a 404."""
    require_deployment_admin(user)
    if key not in REGISTRY:
        raise NotFound(f"There is no setting {key}; the settings are: {', '.join(REGISTRY)}.",
                       errors={"key": ["unknown setting"]})
    row = db.session.get(Setting, key)
    if row is not None:
        old = value(key)
        db.session.delete(row)
        audit.record(user, AuditAction.UPDATE, None,
                     detail=f"setting {key} back to the environment's value: "
                            f"{shown(old)} → {shown(environment(key))}",
                     record=AuditRecord.SETTING)
        db.session.flush()
        forget()
    return effective()
