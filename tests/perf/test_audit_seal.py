"""The audit chain sealed after the commit (services/audit_chain.py): on PostgreSQL an audited
request commits its entry durably without waiting for any lock, and the entries are chained
right after, in a short transaction of their own. Concurrent audited commits still make one
whole chain, with every entry in it once, and nothing is left unsealed when the requests have
returned."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from incidents.domain import AuditAction
from incidents.extensions import db
from incidents.models import AuditEntry
from incidents.services import audit, audit_chain

pytestmark = pytest.mark.postgresql_only


def _entries(app) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return rows


def test_a_commit_is_sealed_right_after_it(real_app):
    with real_app.app_context():
        audit.record(None, AuditAction.READ, None, detail="one")
        db.session.commit()
        # The seal ran after the commit, on a connection of its own: nothing waits unsealed.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.chain_index.is_(None))) == 0
        assert audit_chain.verify(db.session).broken is None
        db.session.remove()


def test_concurrent_audited_commits_make_one_whole_chain(real_app):
    threads, each = 8, 20
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            with real_app.app_context():
                for n in range(each):
                    audit.record(None, AuditAction.READ, None, detail=f"w{worker} n{n}")
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    running = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert failures == []
    entries = _entries(real_app)
    assert len(entries) == threads * each
    assert sorted(e.chain_index for e in entries) == list(range(1, threads * each + 1))
    with real_app.app_context():
        result = audit_chain.verify(db.session)
        assert result.broken is None and result.checked == threads * each


def test_a_rolled_back_transaction_seals_nothing_and_leaves_no_mark(real_app):
    with real_app.app_context():
        audit.record(None, AuditAction.READ, None, detail="gone")
        db.session.flush()
        db.session.rollback()
        audit.record(None, AuditAction.READ, None, detail="kept")
        db.session.commit()
        db.session.remove()
    entries = _entries(real_app)
    assert [(e.detail, e.chain_index) for e in entries] == [("kept", 1)]


def test_entries_left_unsealed_by_a_lost_seal_are_chained_by_the_next(real_app):
    """A seal lost in a crash (here: an entry committed with the seal skipped) leaves its entry
    unsealed; the next audited commit chains it first, in id order."""
    with real_app.app_context():
        audit.record(None, AuditAction.READ, None, detail="left")
        db.session.flush()
        # As if the seal after this commit were lost: the commit does not ask for one.
        db.session.info.pop("audit_chain.pending", None)
        db.session.commit()
        db.session.remove()
    with real_app.app_context():
        unsealed = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.chain_index.is_(None)))
        db.session.remove()
    assert unsealed == 1
    with real_app.app_context():
        audit.record(None, AuditAction.READ, None, detail="next")
        db.session.commit()
        db.session.remove()
    entries = _entries(real_app)
    assert [(e.detail, e.chain_index) for e in entries] == [("left", 1), ("next", 2)]
