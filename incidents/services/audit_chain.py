"""The audit trail as a hash chain, so that a change to any entry, or a removed one, shows.

Each entry, in the order its transaction committed, gets the next ``chain_index``, the hash of the
entry before (``prev_hash``) and its own hash (``entry_hash``) over its index, the previous hash
and every recorded field. The actor enters the hash as a salted commitment, so that retention can
remove the actor (and the salt) of an anonymised incident's entries without breaking the chain
and without leaving anything that leads back to the person.

When the chain is sealed:

* **PostgreSQL** (the service's own sessions): right after the transaction that wrote the entries
  has committed, in a short transaction of its own (``seal_committed``): it takes a transaction-
  level advisory lock, chains every committed entry not yet sealed in id order, and commits
  without waiting for the disk (``synchronous_commit`` off for that transaction only). So no
  lock is held across a request's durable commit — audited requests no longer commit one at a
  time (docs/performance.md) — and the entry itself is still written durably in the request's
  own transaction. A web request does not make that seal itself: it asks its process's
  ``Sealer``, whose thread seals what every request of the moment committed in one transaction,
  so under load one seal serves many requests. A seal lost in a crash loses nothing: the entries
  stay unsealed and the next seal after any audited commit chains them.
* **SQLite**, and a session bound to a caller's connection (the tests' savepoints): just before
  the commit, in the same transaction (``seal``). SQLite's write lock, which every transaction of
  this service takes at BEGIN, orders them anyway.

Either way each entry, in the order it was sealed, gets the next ``chain_index``. ``verify``
walks the chain and names the first entry that does not hold: ``flask audit verify``
(docs/operations.md).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from flask import has_request_context
from sqlalchemy import Engine, bindparam, event, select, true, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from incidents.models import AuditEntry, Incident

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# Any constant: the advisory lock that orders the sealing of audit entries (PostgreSQL).
ADVISORY_LOCK_KEY = 0x6175646974  # "audit"
_PENDING = "audit_chain.pending"
_SEAL_AFTER_COMMIT = "audit_chain.seal_after_commit"


def actor_commitment(actor_id: int | None) -> tuple[str | None, str | None]:
    """(salt, commitment) for an actor; (None, None) for no actor."""
    if actor_id is None:
        return None, None
    salt = secrets.token_hex(16)
    return salt, _commit(salt, actor_id)


def _commit(salt: str, actor_id: int) -> str:
    return hashlib.sha256(f"{salt}|{actor_id}".encode()).hexdigest()


def entry_digest(chain_index: int, prev_hash: str, entry) -> str:
    """The hash of one entry: every recorded field but the removable actor itself."""
    at = entry.at.astimezone(UTC).isoformat() if entry.at is not None else ""
    fields = [
        str(chain_index), prev_hash, str(entry.id), at, entry.actor_commitment or "",
        entry.action, "" if entry.incident_id is None else str(entry.incident_id),
        entry.outcome, entry.detail or "", getattr(entry, "request_id", None) or "",
    ]
    # Fields added later enter the hash only when set, so the entries before them still hold.
    record, unit_id = getattr(entry, "record", None), getattr(entry, "unit_id", None)
    if record is not None or unit_id is not None:
        fields += [record or "", "" if unit_id is None else str(unit_id)]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


# -- sealing at commit -------------------------------------------------------------------------


def _mark(session: Session) -> None:
    session.info[_PENDING] = True


def _after_flush(session: Session, _context) -> None:
    if any(isinstance(obj, AuditEntry) for obj in session.new):
        _mark(session)


def _on_execute(state) -> None:
    statement = state.statement
    # An insert of the entity (audit.record) names the table annotated, not the table itself.
    table = getattr(statement, "table", None)
    if getattr(statement, "is_insert", False) and table is not None and (
            getattr(table, "name", None) == AuditEntry.__tablename__):
        _mark(state.session)


def _seals_after_commit(session: Session) -> bool:
    """PostgreSQL, with the session owning its transactions (bound to the engine)."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


def _before_commit(session: Session) -> None:
    # The commit's own flush comes after this event: entries still only added count too.
    if not (session.info.get(_PENDING) or any(isinstance(o, AuditEntry) for o in session.new)):
        return
    session.flush()
    session.info.pop(_PENDING, None)
    if _seals_after_commit(session):
        session.info[_SEAL_AFTER_COMMIT] = True
        return
    seal(session)


def _after_commit(session: Session) -> None:
    """The request's own work is committed: a seal that fails now (the database gone a moment
    later) must not turn its answer into an error. Its entries stay unsealed, and the next seal
    chains them. A web request hands the seal to the process's sealer, which seals what every
    request of the moment committed in one go; elsewhere (commands, the scheduler) it is sealed
    here and now."""
    if not session.info.pop(_SEAL_AFTER_COMMIT, False):
        return
    if has_request_context():
        sealer.request(session.get_bind())
        return
    try:
        seal_committed(session.get_bind())
    except DBAPIError as error:
        log.warning("audit entries left for the next seal: %s", type(error.orig).__name__)


def _after_rollback(session: Session) -> None:
    session.info.pop(_SEAL_AFTER_COMMIT, None)



def seal(session: Session) -> int:
    """Chain the entries this transaction wrote; returns how many."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
    pending = session.scalars(
        select(AuditEntry).where(AuditEntry.chain_index.is_(None)).order_by(AuditEntry.id)
    ).all()
    if not pending:
        return 0
    last = session.execute(
        select(AuditEntry.chain_index, AuditEntry.entry_hash)
        .where(AuditEntry.chain_index.is_not(None))
        .order_by(AuditEntry.chain_index.desc()).limit(1)
    ).first()
    index, previous = (last.chain_index, last.entry_hash) if last else (0, GENESIS)
    for entry in pending:
        index += 1
        digest = entry_digest(index, previous, entry)
        session.execute(
            update(AuditEntry).where(AuditEntry.id == entry.id)
            .values(chain_index=index, prev_hash=previous, entry_hash=digest),
            execution_options={"synchronize_session": False},
        )
        session.expire(entry, ["chain_index", "prev_hash", "entry_hash"])
        previous = digest
    return len(pending)


def seal_committed(engine: Engine) -> int:
    """Chain every committed entry not yet sealed, in id order, in a transaction of its own
    (PostgreSQL); returns how many. The advisory lock orders the seals; this transaction is
    the only thing that waits for it, and it does not wait for the disk."""
    table = AuditEntry.__table__
    with engine.begin() as connection:
        # One round trip for both: this transaction's commit does not wait for the disk, and
        # the lock is taken before the next statement's snapshot, which must see the last seal.
        connection.exec_driver_sql(
            "SELECT set_config('synchronous_commit', 'off', true), "
            f"pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
        sealed = table.alias("sealed")
        end = (select(sealed.c.chain_index, sealed.c.entry_hash)
               .where(sealed.c.chain_index.is_not(None))
               .order_by(sealed.c.chain_index.desc()).limit(1).subquery())
        # The unsealed entries in id order, each with the chain's end beside it (one query).
        pending = connection.execute(
            select(table, end.c.chain_index.label("end_index"), end.c.entry_hash.label("end_hash"))
            .outerjoin(end, true())
            .where(table.c.chain_index.is_(None)).order_by(table.c.id)).all()
        if not pending:
            return 0
        first = pending[0]
        index, previous = ((first.end_index, first.end_hash) if first.end_index is not None
                           else (0, GENESIS))
        values = []
        for entry in pending:
            index += 1
            digest = entry_digest(index, previous, entry)
            values.append({"entry_id": entry.id, "index": index, "prev": previous,
                           "digest": digest})
            previous = digest
        connection.execute(
            update(table).where(table.c.id == bindparam("entry_id"))
            .values(chain_index=bindparam("index"), prev_hash=bindparam("prev"),
                    entry_hash=bindparam("digest")),
            values)
        return len(values)


class Sealer:
    """The seals of one process's web requests, made by one thread of its own: after a request
    commits it asks for a seal and answers at once; the thread waits ``delay`` seconds for the
    requests of the same moment, then chains everything committed and unsealed in one short
    transaction (``seal_committed``). Under load one seal covers many entries instead of one
    transaction per request (docs/performance.md). An entry is unsealed for that moment only; a
    seal that fails (the database away) leaves its entries to the next one, which chains
    them."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self._sealed = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._engines: dict[int, Engine] = {}
        self._asked = 0
        self._done = 0
        self.rounds = 0  # seals made, for the tests and the curious
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def request(self, engine: Engine) -> None:
        """Seal what ``engine``'s database holds unsealed, soon."""
        with self._lock:
            self._engines[id(engine)] = engine
            self._asked += 1
            # A forked worker does not inherit its parent's thread: it starts its own.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="audit-sealer",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until every seal asked for so far has run; whether it did within ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            wanted = self._asked
            while self._done < wanted:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._sealed.wait(left)
        return True

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self.delay)
            # Cleared before the requests are taken: one that asks from here on wakes the next
            # round, and one that asked before is in this one (its commit came before it asked,
            # so the seal's snapshot sees its entries).
            self._wake.clear()
            with self._lock:
                engines, self._engines = list(self._engines.values()), {}
                asked = self._asked
            for engine in engines:
                try:
                    seal_committed(engine)
                except Exception as error:  # noqa: BLE001 - the thread must outlive any failure
                    log.warning("audit entries left for the next seal: %s",
                                type(getattr(error, "orig", None) or error).__name__)
            with self._lock:
                self._done = asked
                self.rounds += 1
                self._sealed.notify_all()


sealer = Sealer()
# A worker that stops (gunicorn's graceful restart) seals what its last requests wrote.
atexit.register(sealer.settle, 2.0)

_listening = False


def listen() -> None:
    """Seal at every session's commit (once per process)."""
    global _listening
    if _listening:
        return
    _listening = True
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)


# -- verifying -----------------------------------------------------------------------------


@dataclass
class Break:
    entry_id: int | None
    chain_index: int | None
    reason: str


@dataclass
class Verification:
    checked: int
    broken: Break | None


def _walk(session: Session, batch: int = 5000) -> Iterator:
    """The chain's entries in order, as plain rows (nothing kept in the session)."""
    table = AuditEntry.__table__
    after = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.chain_index > after)
            .order_by(table.c.chain_index).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].chain_index


def verify(session: Session) -> Verification:
    """Walk the chain from its start: every index in turn, each entry's hash over its fields,
    each link to the one before, and each removed actor only on an anonymised incident."""
    anonymised = set(session.scalars(
        select(Incident.id).where(Incident.anonymised_at.is_not(None))))
    expected_index, previous, checked = 1, GENESIS, 0
    for entry in _walk(session):
        where = (entry.id, entry.chain_index)
        if entry.chain_index != expected_index:
            return Verification(checked, Break(*where, f"chain index {expected_index} is missing"))
        if entry.prev_hash != previous:
            return Verification(checked, Break(*where, "does not link to the entry before"))
        if entry.entry_hash != entry_digest(entry.chain_index, entry.prev_hash, entry):
            return Verification(checked, Break(*where, "its fields do not match its hash"))
        if entry.actor_commitment is not None:
            if entry.actor_id is None or entry.actor_salt is None:
                if entry.incident_id not in anonymised:
                    return Verification(checked, Break(
                        *where, "its actor was removed, but its incident is not anonymised"))
            elif _commit(entry.actor_salt, entry.actor_id) != entry.actor_commitment:
                return Verification(checked, Break(*where, "its actor was changed"))
        elif entry.actor_id is not None:
            return Verification(checked, Break(*where, "an actor was added"))
        previous, expected_index, checked = entry.entry_hash, expected_index + 1, checked + 1
    unsealed = session.scalar(
        select(AuditEntry.id).where(AuditEntry.chain_index.is_(None)).order_by(AuditEntry.id)
        .limit(1))
    if unsealed is not None:
        return Verification(checked, Break(
            unsealed, None, "not sealed into the chain: written outside the service, or its "
                            "seal was lost and no audited commit has come since"))
    return Verification(checked, None)


__all__ = ["actor_commitment", "entry_digest", "listen", "seal", "seal_committed", "verify"]
