"""Idempotency-Key on POST: a retry with the same key from the same caller returns the first
response and writes nothing; the same key with another request is a 422.

The record is written in the same transaction as the request's own changes, so a response is
remembered exactly when its effects are committed. Two concurrent requests with one key race on
a unique constraint; the loser rolls back and replays the winner's response.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import Response, current_app, g, request
from sqlalchemy import delete, select

from incidents.auth import optional_user
from incidents.clock import utcnow
from incidents.errors import field_error
from incidents.extensions import db
from incidents.input_guards import NOT_PARSED, parsed_body
from incidents.models import IdempotencyRecord

HEADER = "Idempotency-Key"
_REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def _key() -> str | None:
    if request.method != "POST":
        return None
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not key.isprintable():
        raise field_error(HEADER, "must be 1 to 200 printable characters")
    return key


def keep_no_key() -> None:
    """For this request no key is looked up or stored (api.base.UnlinkableView)."""
    g.idempotency_not_kept = True


def _caller() -> str | None:
    if g.get("idempotency_not_kept"):
        return None
    user = optional_user()
    return f"user:{user.id}" if user else None


def _canonical_body() -> bytes:
    """The same JSON in other whitespace or key order is the same request."""
    raw = request.get_data(cache=True)
    body = parsed_body()  # parsed once, by the request guard
    try:
        if body is NOT_PARSED:
            body = json.loads(raw)
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        return raw


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(_canonical_body())
    return digest.hexdigest()


def _expired(record: IdempotencyRecord) -> bool:
    ttl = timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    return record.created_at < utcnow() - ttl


def _lookup(caller: str, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.caller == caller, IdempotencyRecord.key == key
        )
    )


def _replay(record: IdempotencyRecord) -> Response:
    if record.request_hash != _request_hash():
        raise field_error(
            HEADER, "this key was already used with a different request; use a new key"
        )
    response = Response(record.response_body, status=record.status_code)
    for name, value in json.loads(record.response_headers).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def replay_if_seen() -> Response | None:
    """Before the view: the stored response for a key already used, else None."""
    key, caller = _key(), None
    if key is None or (caller := _caller()) is None:
        return None
    record = _lookup(caller, key)
    if record is not None and _expired(record):
        # Past IDEMPOTENCY_TTL_HOURS a key is forgotten and may be used afresh.
        db.session.delete(record)
        db.session.flush()
        return None
    return _replay(record) if record else None


def remember(response: Response) -> None:
    """After a successful view, before commit: store the response under the key."""
    key = _key()
    if key is None or (caller := _caller()) is None:
        return
    headers = {
        name: response.headers[name] for name in _REPLAYED_HEADERS if name in response.headers
    }
    db.session.add(
        IdempotencyRecord(
            caller=caller,
            key=key,
            request_hash=_request_hash(),
            status_code=response.status_code,
            response_body=response.get_data(),
            response_headers=json.dumps(headers),
        )
    )


def replay_after_race() -> Response | None:
    """After a unique-constraint failure at commit: the winning request's response, if the
    failure was ours."""
    key = _key()
    if key is None or (caller := _caller()) is None:
        return None
    record = _lookup(caller, key)
    return _replay(record) if record else None


def purge_expired() -> int:
    """Keys are kept IDEMPOTENCY_TTL_HOURS; older ones may be reused."""
    cutoff = utcnow() - timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    result = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)
    )
    return result.rowcount or 0
