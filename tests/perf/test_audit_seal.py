"""The audit chain sealed after the commit (services/audit_chain.py): on PostgreSQL an audited
request commits its entry durably without waiting for any lock, and the entries are chained
right after, in a short transaction of their own. Concurrent audited commits still make one
whole chain, with every entry in it once, and nothing is left unsealed when the requests have
returned."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from incidents.domain import AuditAction
from incidents.extensions import db
from incidents.models import AuditEntry
from incidents.services import audit, audit_chain
from tests.perf.threads import run_in_threads

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


def _audit_in_threads(app, threads: int, each: int, context) -> None:
    """``threads`` threads each committing ``each`` audited transactions, each in its own
    ``context(app)`` (an app context, or a request's)."""

    def work(worker: int) -> None:
        for n in range(each):
            with context(app):
                audit.record(None, AuditAction.READ, None, detail=f"w{worker} n{n}")
                db.session.commit()
                db.session.remove()

    run_in_threads(work, threads)


def test_concurrent_audited_commits_make_one_whole_chain(real_app):
    threads, each = 8, 20
    _audit_in_threads(real_app, threads, each, lambda app: app.app_context())
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


@pytest.fixture
def sealer(monkeypatch):
    """The process's sealer, fresh, with a delay long enough to see what it does."""
    fresh = audit_chain.Sealer(delay=0.5)
    monkeypatch.setattr(audit_chain, "sealer", fresh)
    return fresh


def _unsealed(app) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.chain_index.is_(None)))
        db.session.remove()
        return count


def test_a_web_request_answers_before_its_seal_and_the_sealer_chains_it(real_app, sealer):
    """A web request hands its seal to the process's sealer: it commits its entry durably and
    answers; the entry is chained a moment later, by the sealer's own transaction."""
    with real_app.test_request_context():
        audit.record(None, AuditAction.READ, None, detail="web")
        db.session.commit()
        db.session.remove()
    assert _unsealed(real_app) == 1
    assert sealer.settle(10)
    assert _unsealed(real_app) == 0
    assert [(e.detail, e.chain_index) for e in _entries(real_app)] == [("web", 1)]


def test_many_requests_at_once_are_sealed_in_a_few_seals_into_one_chain(real_app, sealer):
    threads, each = 8, 10
    _audit_in_threads(real_app, threads, each, lambda app: app.test_request_context())
    assert sealer.settle(10)
    entries = _entries(real_app)
    assert sorted(e.chain_index for e in entries) == list(range(1, threads * each + 1))
    # Each seal took every entry committed while it waited: far fewer seals than requests.
    assert sealer.rounds <= threads * each // 4, sealer.rounds
    with real_app.app_context():
        assert audit_chain.verify(db.session).broken is None


def test_a_failed_seal_leaves_its_entries_to_the_next_and_the_sealer_lives_on(
        real_app, sealer, monkeypatch):
    real_seal = audit_chain.seal_committed
    calls = []

    def fails_once(engine):
        calls.append(engine)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real_seal(engine)

    monkeypatch.setattr(audit_chain, "seal_committed", fails_once)
    for detail in ("first", "second"):
        with real_app.test_request_context():
            audit.record(None, AuditAction.READ, None, detail=detail)
            db.session.commit()
            db.session.remove()
        assert sealer.settle(10)
    assert len(calls) == 2
    assert [(e.detail, e.chain_index) for e in _entries(real_app)] == [
        ("first", 1), ("second", 2)]
