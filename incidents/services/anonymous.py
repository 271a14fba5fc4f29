"""Anonymous two-way reports: the reporter is kept informed without being known.

Fear of being identified keeps incidents from being reported. An anonymous report is an
incident like the others (in lists and statistics, marked ``anonymous``), with no reporter and
nothing stored that points back to one:

- no account, IP address or user agent is read into it (a bearer token sent along is ignored,
  and the rate limiter keys on a daily keyed hash of the address, never the address itself);
- the times stored for the reporter's side — when the report and the reporter's messages were
  received, and the audit entries of their reads and writes — are cut to the hour, so they
  cannot be matched second by second against a log kept elsewhere;
- the receipt code is shown once and stored only as a SHA-256 hash; it carries 100 random bits,
  so the hash cannot be reversed by guessing.

The reporter reads the status and exchanges messages with the case handlers by reference and
receipt code; a wrong code answers exactly as an unknown reference does (404, same body), and the
hash is compared in constant time either way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from typing import Any

from flask import current_app
from limits import parse_many
from sqlalchemy import select

from incidents.clock import this_hour
from incidents.domain import AuditAction, MessageSender
from incidents.errors import DomainError, NotFound
from incidents.extensions import db, hashed_client, limiter
from incidents.models import AnonymousReceipt, Incident, Message, StatusChange
from incidents.schemas.messaging import ANONYMOUS_FIELDS
from incidents.services import audit, messages, notifications, reporting

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 20  # 20 × 5 bits = 100 bits of entropy
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Compared against when the reference is unknown, so both cases take the same work.
_NO_SUCH_HASH = hashlib.sha256(b"no such receipt").hexdigest()
_REFERENCE = re.compile(r"OP-\d{4}-\d{6,}")  # the form of a reference (docs/domain.md)


HEADER = "X-Receipt-Code"
log = logging.getLogger(__name__)


class ReceiptRequired(DomainError):
    status = 401
    title = "Unauthorized"

    def __init__(self):
        super().__init__(
            f"Send the receipt code you got with the report in the {HEADER} header.",
            errors={HEADER: ["required"]},
            headers={"WWW-Authenticate": f'{HEADER} realm="anonymous-reports"'},
        )


def new_receipt_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_LENGTH, 4))


def _normalise(code: str) -> str:
    """Case, spaces and dashes do not matter, nor O for 0 or I and L for 1."""
    return "".join(ch for ch in code.upper() if ch not in " -").translate(_LOOKALIKES)


def hash_code(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def report(data: dict[str, Any]) -> tuple[Incident, str]:
    """File an anonymous report; returns the incident and its receipt code (shown once)."""
    data = {field: data[field] for field in ANONYMOUS_FIELDS if field in data}
    additional = reporting.check_new_report(data)
    received = this_hour()
    managers = notifications.managers_to_tell(data["unit_id"], None, None)
    incident = reporting.new_incident(data, additional, anonymous=True, reporter_id=None)
    incident.created_at = incident.updated_at = received
    db.session.flush()
    code = new_receipt_code()
    db.session.add(AnonymousReceipt(incident_id=incident.id, code_hash=hash_code(code)))
    audit.record(None, AuditAction.CREATE, incident.id, detail="anonymous report", at=received)
    notifications.new_incident(incident, managers)
    return incident, code


class TooManyGuesses(DomainError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, retry_after: int):
        super().__init__(
            "Too many wrong receipt codes; wait before trying again (see Retry-After).",
            headers={"Retry-After": str(retry_after)},
        )


def find(reference: str, code: str | None) -> Incident:
    """The anonymous report with this reference, if the code is its receipt code; an unknown
    reference and a wrong code are the same 404.

    Wrong codes are counted per reference (from anyone) and per client: a reference with
    ANONYMOUS_WRONG_CODES_PER_REFERENCE wrong codes this hour answers 429 to every request
    without comparing the code; a client past ANONYMOUS_WRONG_CODE_RATE_LIMIT gets 429 for a
    wrong code, but a right one is still served (right codes count against
    ANONYMOUS_READ_RATE_LIMIT alone), so one guesser behind a city's proxy locks nobody
    else out."""
    if not code:
        raise ReceiptRequired()
    wanted = reference.strip().upper()
    guard = WrongCodes(wanted)
    guard.refuse_if_locked()
    found = None
    # Only a reference's shape is looked up (a NUL in the path would reach PostgreSQL, which
    # refuses it: a 500); anything else is as unknown as a reference that does not exist.
    if _REFERENCE.fullmatch(wanted):
        found = db.session.execute(
            select(Incident, AnonymousReceipt.code_hash)
            .join(AnonymousReceipt, AnonymousReceipt.incident_id == Incident.id)
            .where(Incident.reference == wanted, Incident.anonymous.is_(True))
        ).first()
    expected = found.code_hash if found else _NO_SUCH_HASH
    matches = hmac.compare_digest(expected, hash_code(code[:100]))
    if found is None or not matches:
        guard.count_wrong_code()
        raise NotFound("There is no anonymous report with this reference and receipt code.")
    return found.Incident


class WrongCodes:
    """The wrong-code counts of one request, kept in the rate limiter's storage
    (RATELIMIT_STORAGE_URI, shared by every worker with Redis): per reference, and per client.
    The keys are keyed hashes, never a reference or an address in clear. A store that fails is
    logged and lets the request through: guessing 100-bit codes is hopeless anyway."""

    def __init__(self, reference: str):
        config = current_app.config
        self.strategy = limiter.limiter if limiter.enabled else None
        self.per_reference = parse_many(config["ANONYMOUS_WRONG_CODES_PER_REFERENCE"])
        self.per_client = parse_many(config["ANONYMOUS_WRONG_CODE_RATE_LIMIT"])
        key = config["SECRET_KEY"].encode()
        self.reference_key = hmac.new(key, f"reference|{reference}".encode(),
                                      hashlib.sha256).hexdigest()[:32]

    def _retry_after(self, limits, *identifiers: str) -> int:
        resets = [self.strategy.get_window_stats(limit, *identifiers).reset_time
                  for limit in limits]
        return max(1, int(max(resets) - time.time()))

    def refuse_if_locked(self) -> None:
        if self.strategy is None:
            return
        identifiers = ("anonymous-wrong-codes-reference", self.reference_key)
        try:
            locked = [limit for limit in self.per_reference
                      if not self.strategy.test(limit, *identifiers)]
            retry = self._retry_after(locked, *identifiers) if locked else 0
        except Exception:  # noqa: BLE001 - the store is away; see the class
            log.warning("rate limit storage unreachable; wrong receipt codes not checked")
            return
        if locked:
            raise TooManyGuesses(retry)

    def count_wrong_code(self) -> None:
        if self.strategy is None:
            return
        try:
            reference_over = [limit for limit in self.per_reference if not self.strategy.hit(
                limit, "anonymous-wrong-codes-reference", self.reference_key)]
            client = ("anonymous-wrong-codes-client", hashed_client())
            client_over = [limit for limit in self.per_client
                           if not self.strategy.hit(limit, *client)]
            retry = max(
                [self._retry_after(reference_over, "anonymous-wrong-codes-reference",
                                   self.reference_key) if reference_over else 0]
                + [self._retry_after(client_over, *client) if client_over else 0])
        except Exception:  # noqa: BLE001 - the store is away; see the class
            log.warning("rate limit storage unreachable; wrong receipt code not counted")
            return
        if retry:
            raise TooManyGuesses(retry)


def _audit(incident: Incident, action: AuditAction, detail: str) -> None:
    audit.record(None, action, incident.id, detail=detail, at=this_hour())


def status(reference: str, code: str | None) -> dict[str, Any]:
    incident = find(reference, code)
    _audit(incident, AuditAction.READ, "anonymous reporter: status")
    history = db.session.scalars(
        select(StatusChange)
        .where(StatusChange.incident_id == incident.id)
        .order_by(StatusChange.id)
    ).all()
    return {"incident": incident, "status_history": history}


def list_messages(reference: str, code: str | None) -> list[Message]:
    incident = find(reference, code)
    _audit(incident, AuditAction.READ, "anonymous reporter: messages")
    return messages.thread(incident)


def post_message(reference: str, code: str | None, body: str) -> Message:
    incident = find(reference, code)
    message = messages.add(
        incident, MessageSender.REPORTER, None, body, at=this_hour()
    )
    _audit(incident, AuditAction.UPDATE, f"anonymous reporter: message {message.id} added")
    return message
