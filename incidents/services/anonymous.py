"""Anonymous two-way reports: the reporter is kept informed without being known.

Fear of being identified keeps incidents from being reported. An anonymous report is an
incident like the others (in lists and statistics, marked ``anonymous``), with no reporter and
nothing stored that points back to one:

- no account, IP address or user agent is read into it (a bearer token sent along is ignored,
  and the rate limiter keys on a daily keyed hash of the address, never the address itself);
- nothing shows when within the hour the reporter did something. A report, a message from the
  reporter and a read of the status or the messages are validated at once but only held
  (``AnonymousPending``: a random id and the hour received). At every full hour ``publish``
  writes out everything held from before that hour, in random order, one transaction per
  item: the incident, its receipt and audit entry and the managers' mail; then the messages;
  then the reads' audit entries. Ids, the audit order and mail times then say "this batch",
  and every time stored for the reporter's side is the hour. An anonymous report's reference
  is drawn at random (services/reporting.py), not taken from the year's counter, so it says
  nothing either;
- the receipt code is shown once and stored only as a SHA-256 hash; it carries 100 random bits,
  so the hash cannot be reversed by guessing.

The reporter reads the status and exchanges messages with the case handlers by reference and
receipt code, held or published; a wrong code answers exactly as an unknown reference does (404,
same body), and the hash is compared in constant time either way.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from limits import parse_many
from sqlalchemy import func, select

from incidents.clock import this_hour, to_local, utcnow
from incidents.domain import AuditAction, AuditRecord, IncidentStatus, MessageSender
from incidents.errors import DomainError, NotFound
from incidents.extensions import _describe_database_error, db, hashed_client, limiter
from incidents.models import AnonymousPending, AnonymousReceipt, Incident, Message, StatusChange
from incidents.models.anonymous import HeldKind
from incidents.schemas.messaging import ANONYMOUS_FIELDS
from incidents.services import audit, messages, notifications, reporting

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 20  # 20 × 5 bits = 100 bits of entropy
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Compared against when the reference is unknown, so both cases take the same work.
_NO_SUCH_HASH = hashlib.sha256(b"no such receipt").hexdigest()
_REFERENCE = re.compile(r"OP-\d{4}-\d{6,}")  # the form of a reference (docs/domain.md)
# The operating system's randomness: neither the order of a batch nor a reference can be
# predicted or replayed from a seed.
_random = secrets.SystemRandom()
HOUR = timedelta(hours=1)


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


# -- what the reporter sees before publication ------------------------------------------------


def reaches_handlers_at(received_hour: datetime) -> datetime:
    """When something held reaches the case handlers: the full hour after the one it came in."""
    return received_hour + HOUR


@dataclass(frozen=True)
class HeldReport:
    """A report as its reporter sees it while it waits for the hour: received, not yet with
    the case handlers. Shaped like the incident it becomes, for the same schema and page."""

    reference: str
    category: str
    additional_categories: list[str]
    occurred_at: datetime
    unit_id: int
    created_at: datetime  # the hour received
    status: str = IncidentStatus.REPORTED.value


@dataclass(frozen=True)
class HeldMessage:
    """The reporter's own message while it waits for the hour; no id until it is published."""

    body: str
    created_at: datetime  # the hour received
    id: None = None
    sender: str = MessageSender.REPORTER.value
    published: bool = False

    @property
    def reaches_handlers_at(self) -> datetime:
        return reaches_handlers_at(self.created_at)


def _report_fields(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "occurred_at": datetime.fromisoformat(payload["occurred_at"])}


def _held_report(row: AnonymousPending) -> HeldReport:
    data = _report_fields(row.payload)
    return HeldReport(
        reference=row.reference, category=data["category"],
        additional_categories=list(data.get("additional_categories", [])),
        occurred_at=data["occurred_at"], unit_id=data["unit_id"], created_at=row.received_hour,
    )


def _view(found: Followed) -> dict[str, Any]:
    """The report as the schema shows it, held or published."""
    if found.incident is None:
        return {"incident": _held_report(found.held), "status_history": [], "published": False,
                "reaches_case_handlers_at": reaches_handlers_at(found.held.received_hour)}
    history = db.session.scalars(
        select(StatusChange)
        .where(StatusChange.incident_id == found.incident.id)
        .order_by(StatusChange.id)
    ).all()
    return {"incident": found.incident, "status_history": history, "published": True,
            "reaches_case_handlers_at": None}


# -- submitting ------------------------------------------------------------------------------


def _hold(kind: HeldKind, reference: str, payload: dict[str, Any],
          code_hash: str | None = None) -> AnonymousPending:
    row = AnonymousPending(
        id=secrets.token_hex(16), kind=kind.value, reference=reference, payload=payload,
        code_hash=code_hash, received_hour=this_hour(), failed_attempts=0,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _reference_taken(reference: str) -> bool:
    incident = db.session.scalar(select(Incident.id).where(Incident.reference == reference))
    held = db.session.scalar(select(AnonymousPending.id).where(
        AnonymousPending.kind == HeldKind.REPORT.value, AnonymousPending.reference == reference))
    return incident is not None or held is not None


def _new_reference() -> str:
    """A random reference of this year, from the numbers the counter never reaches; the chance
    of drawing one in use is negligible, and it is checked all the same."""
    year = to_local(utcnow()).year
    while True:
        number = _random.randint(reporting.ANONYMOUS_FIRST, reporting.ANONYMOUS_LAST)
        reference = reporting.anonymous_reference(year, number)
        if not _reference_taken(reference):
            return reference


def report(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Take an anonymous report: checked now as any report is, held until the next full hour.
    Returns what the reporter sees of it, and its receipt code (shown once)."""
    data = {field: data[field] for field in ANONYMOUS_FIELDS if field in data}
    reporting.check_new_report(data)
    code = new_receipt_code()
    payload = {**data, "occurred_at": data["occurred_at"].isoformat()}
    row = _hold(HeldKind.REPORT, _new_reference(), payload, code_hash=hash_code(code))
    return _view(Followed(incident=None, held=row)), code


# -- following with reference and receipt code ------------------------------------------------


class TooManyGuesses(DomainError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, retry_after: int):
        super().__init__(
            "Too many wrong receipt codes; wait before trying again (see Retry-After).",
            headers={"Retry-After": str(retry_after)},
        )


@dataclass(frozen=True)
class Followed:
    """An anonymous report found by reference and code: published (``incident``), or still
    held (``held``)."""

    incident: Incident | None
    held: AnonymousPending | None = None

    @property
    def reference(self) -> str:
        return self.incident.reference if self.incident is not None else self.held.reference


def find(reference: str, code: str | None) -> Followed:
    """The anonymous report with this reference, published or held, if the code is its receipt
    code; an unknown reference and a wrong code are the same 404.

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
    published = held = None
    # Only a reference's shape is looked up (a NUL in the path would reach PostgreSQL, which
    # refuses it: a 500); anything else is as unknown as a reference that does not exist. Both
    # places are looked in every time, so held, published and unknown take the same work.
    if _REFERENCE.fullmatch(wanted):
        published = db.session.execute(
            select(Incident, AnonymousReceipt.code_hash)
            .join(AnonymousReceipt, AnonymousReceipt.incident_id == Incident.id)
            .where(Incident.reference == wanted, Incident.anonymous.is_(True))
        ).first()
        held = db.session.scalar(select(AnonymousPending).where(
            AnonymousPending.kind == HeldKind.REPORT.value, AnonymousPending.reference == wanted))
    expected = (published.code_hash if published else held.code_hash if held
                else _NO_SUCH_HASH)
    matches = hmac.compare_digest(expected, hash_code(code[:100]))
    if (published is None and held is None) or not matches:
        guard.count_wrong_code()
        raise NotFound("There is no anonymous report with this reference and receipt code.")
    if published is not None:
        return Followed(incident=published.Incident)
    return Followed(incident=None, held=held)


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




def _held_messages(reference: str) -> list[HeldMessage]:
    rows = db.session.scalars(select(AnonymousPending).where(
        AnonymousPending.kind == HeldKind.MESSAGE.value, AnonymousPending.reference == reference))
    return [HeldMessage(body=row.payload["body"], created_at=row.received_hour)
            for row in sorted(rows, key=_message_order)]


def status(reference: str, code: str | None) -> dict[str, Any]:
    """The report's status; the read is audited when it is published."""
    found = find(reference, code)
    _hold(HeldKind.READ, found.reference, {"what": "status"})
    return _view(found)


def list_messages(reference: str, code: str | None) -> list[Message | HeldMessage]:
    """The thread, oldest first, and after it the reporter's messages still held."""
    found = find(reference, code)
    _hold(HeldKind.READ, found.reference, {"what": "messages"})
    thread: list[Message | HeldMessage] = (
        messages.thread(found.incident) if found.incident is not None else [])
    return thread + _held_messages(found.reference)


def post_message(reference: str, code: str | None, body: str) -> HeldMessage:
    """A message to the case handlers, held until the next full hour (then they are told)."""
    found = find(reference, code)
    waiting = db.session.scalar(select(func.count()).select_from(AnonymousPending).where(
        AnonymousPending.kind == HeldKind.MESSAGE.value,
        AnonymousPending.reference == found.reference))
    # ``order`` keeps the reporter's own messages in the order written: it counts only this
    # reporter's held messages, so it says nothing about anyone else's.
    row = _hold(HeldKind.MESSAGE, found.reference, {"body": body, "order": waiting})
    return HeldMessage(body=body, created_at=row.received_hour)


# -- publication at the full hour -------------------------------------------------------------


def _message_order(row: AnonymousPending) -> tuple[datetime, int]:
    return (row.received_hour, row.payload.get("order", 0))


@dataclass
class Publication:
    """What one publication run did."""

    published: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (kind.value for kind in HeldKind), 0))
    failed: list[str] = field(default_factory=list)  # "<kind>: <kind of error>"
    waiting: int = 0  # messages and reads whose report could not be published yet
    dropped: int = 0  # for a report whose thread the retention job has removed

    def __str__(self) -> str:
        done = ", ".join(f"{number} {kind}(s)" for kind, number in self.published.items())
        text = f"published {done}; {self.waiting} waiting for their report"
        if self.dropped:
            text += f"; {self.dropped} dropped (the report was anonymised by retention)"
        if self.failed:
            text += f"; {len(self.failed)} failed and stay held: " + "; ".join(self.failed)
        return text


class PublicationIncomplete(Exception):
    """Some held items could not be published; they stay held and are tried again at the next
    run. Raised after the rest were published, so the job is recorded as failing."""


def _shuffled(rows: list[AnonymousPending]) -> list[AnonymousPending]:
    rows = list(rows)
    _random.shuffle(rows)
    return rows


def _interleaved(rows: list[AnonymousPending]) -> list[AnonymousPending]:
    """The messages in random order, except that one reporter's messages keep their order:
    the slots are shuffled, and each reporter's messages fill that reporter's slots in turn."""
    queues: dict[str, deque] = defaultdict(deque)
    for row in sorted(rows, key=_message_order):
        queues[row.reference].append(row)
    slots = _shuffled(rows)
    return [queues[slot.reference].popleft() for slot in slots]


def _published_incident(reference: str) -> Incident | None:
    return db.session.scalar(select(Incident).where(
        Incident.reference == reference, Incident.anonymous.is_(True)))


def _publish_report(row: AnonymousPending) -> None:
    data = _report_fields(row.payload)
    # The rules are met again: the unit may have gone since the report came in.
    additional = reporting.check_new_report(data)
    managers = notifications.managers_to_tell(data["unit_id"], None, None)
    incident = reporting.new_incident(data, additional, reference=row.reference,
                                      anonymous=True, reporter_id=None)
    incident.created_at = incident.updated_at = row.received_hour
    db.session.flush()
    db.session.add(AnonymousReceipt(incident_id=incident.id, code_hash=row.code_hash))
    audit.record(None, AuditAction.CREATE, incident.id, detail="anonymous report",
                 at=row.received_hour, record=AuditRecord.INCIDENT)
    notifications.new_incident(incident, managers)


def _publish_message(row: AnonymousPending, incident: Incident) -> None:
    message = messages.add(incident, MessageSender.REPORTER, None, row.payload["body"],
                           at=row.received_hour)
    audit.record(None, AuditAction.UPDATE, incident.id,
                 detail=f"anonymous reporter: message {message.id} added", at=row.received_hour,
                 record=AuditRecord.MESSAGES)


# What the reporter read with the receipt code: the kind of record and the entry's own words,
# never the held payload itself.
_READS = {
    "status": (AuditRecord.INCIDENT, "anonymous reporter: status"),
    "messages": (AuditRecord.MESSAGES, "anonymous reporter: messages"),
}


def _publish_read(row: AnonymousPending, incident: Incident) -> None:
    record, detail = _READS.get(row.payload.get("what"),
                                (AuditRecord.INCIDENT, "anonymous reporter: read"))
    audit.record(None, AuditAction.READ, incident.id, detail=detail, at=row.received_hour,
                 record=record)


def _describe(error: BaseException) -> str:
    """The kind of an error, never its text (which can hold what a reporter wrote)."""
    if isinstance(error, DomainError):
        fields = ", ".join(sorted(error.errors or {}))
        return type(error).__name__ + (f" ({fields})" if fields else "")
    return _describe_database_error(error)[:200]


def _claim(row_id: str) -> AnonymousPending | None:
    """The held row, locked for this transaction; None when another run took it."""
    return db.session.scalar(select(AnonymousPending).where(AnonymousPending.id == row_id)
                             .with_for_update(skip_locked=True))


def _note_failure(row_id: str, kind: str, error: BaseException, run: Publication) -> None:
    described = _describe(error)
    run.failed.append(f"{kind}: {described}")
    log.warning("anonymous publication: a held %s could not be published (%s); it stays held "
                "and is tried again at the next run", kind, described)
    try:
        row = db.session.get(AnonymousPending, row_id)
        if row is not None:
            row.failed_attempts += 1
            row.last_error = described
            db.session.commit()
    except Exception as exc:  # noqa: BLE001 - the database itself is away: the item stays held
        db.session.rollback()
        log.warning("anonymous publication: the failure could not be noted (%s)",
                    _describe_database_error(exc))


def _publish_one(row_id: str, kind: HeldKind, run: Publication) -> bool:
    """One held item in a transaction of its own: published and its row deleted, or, if
    anything fails, nothing written and the row kept. False if it failed."""
    outcome = "published"
    try:
        row = _claim(row_id)
        if row is None:  # another run published it meanwhile
            db.session.rollback()
            return True
        if kind == HeldKind.REPORT:
            _publish_report(row)
        else:
            incident = _published_incident(row.reference)
            if incident is None:
                raise LookupError("the report of this item is neither published nor held")
            if incident.anonymised_at is not None:
                # Retention removed the thread and the receipt; nothing may be added to it.
                outcome = "dropped"
            elif kind == HeldKind.MESSAGE:
                _publish_message(row, incident)
            else:
                _publish_read(row, incident)
        db.session.delete(row)
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure keeps the item held; see publish
        db.session.rollback()
        _note_failure(row_id, kind.value, exc, run)
        return False
    if outcome == "dropped":
        run.dropped += 1
    else:
        run.published[kind.value] += 1
    return True


def publish(until: datetime | None = None) -> Publication:
    """Publish everything held that arrived before ``until`` (default: the current full hour,
    so what arrived in this hour waits for the next): reports first, then the reporters'
    messages, then their reads, each group in random order, one transaction per item. A
    message or read whose report is still held waits with it. Run by the hourly job and by
    ``flask anonymous publish``; two runs at once never publish an item twice."""
    until = until or this_hour()
    run = Publication()
    rows = db.session.execute(
        select(AnonymousPending.id, AnonymousPending.kind, AnonymousPending.reference,
               AnonymousPending.received_hour, AnonymousPending.payload)
        .where(AnonymousPending.received_hour < until)
    ).all()
    by_kind: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)

    unpublished: set[str] = set()
    for row in _shuffled(by_kind[HeldKind.REPORT.value]):
        if not _publish_one(row.id, HeldKind.REPORT, run):
            unpublished.add(row.reference)
    held_reports = set(db.session.scalars(select(AnonymousPending.reference).where(
        AnonymousPending.kind == HeldKind.REPORT.value)))
    unpublished |= held_reports
    for kind, order in ((HeldKind.MESSAGE, _interleaved), (HeldKind.READ, _shuffled)):
        for row in order(by_kind[kind.value]):
            if row.reference in unpublished:
                run.waiting += 1
                continue
            _publish_one(row.id, kind, run)
    return run


@dataclass(frozen=True)
class HeldState:
    """For monitoring: the items held from before the current hour, which should have been
    published already, and when the oldest of them arrived. Items of the current hour are left
    out: counting them would tell when one came in."""

    overdue: int
    oldest_hour: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float:
        if self.oldest_hour is None:
            return 0.0
        return max(0.0, (now - self.oldest_hour).total_seconds())


def held_state(now: datetime | None = None) -> HeldState:
    hour = this_hour() if now is None else now.replace(minute=0, second=0, microsecond=0)
    number, oldest = db.session.execute(
        select(func.count(), func.min(AnonymousPending.received_hour))
        .where(AnonymousPending.received_hour < hour)
    ).one()
    return HeldState(overdue=number, oldest_hour=oldest)
