"""The audit trail as a hash chain: every entry sealed at commit, in order, and a change, a
removed entry or a removed actor outside retention found and named by `flask audit verify`."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from incidents.models import AuditEntry
from incidents.services import audit_chain


def _unguarded(db_session):
    """Lift the database's guard inside this test's transaction (it comes back with the
    rollback): what someone with direct access to the database could do."""
    if db_session.get_bind().dialect.name == "postgresql":
        db_session.execute(sa.text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
    else:
        db_session.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
        db_session.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))


def _chain(db_session):
    return db_session.execute(
        sa.select(AuditEntry.id, AuditEntry.chain_index, AuditEntry.prev_hash,
                  AuditEntry.entry_hash).order_by(AuditEntry.chain_index)).all()


@pytest.fixture
def trail(make, org, client):
    """Entries of several requests: reports, reads, a denied read."""
    first = make.incident(org.employee_a1, org.a1)
    make.incident(org.employee_b1, org.b1)
    client.get(f"/api/v1/incidents/{first.id}", headers=make.headers(org.manager_a))
    client.get(f"/api/v1/incidents/{first.id}", headers=make.headers(org.manager_b1))
    return first


def test_every_entry_is_sealed_at_commit_in_one_unbroken_chain(db_session, trail):
    chain = _chain(db_session)
    assert len(chain) == 4
    assert [row.chain_index for row in chain] == [1, 2, 3, 4]
    assert chain[0].prev_hash == audit_chain.GENESIS
    assert all(later.prev_hash == earlier.entry_hash
               for earlier, later in zip(chain, chain[1:], strict=False))
    assert db_session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.chain_index.is_(None))) == 0
    result = audit_chain.verify(db_session)
    assert (result.checked, result.broken) == (4, None)


def test_the_actor_is_in_the_chain_only_as_a_salted_commitment(db_session, trail, org):
    entry = db_session.scalars(sa.select(AuditEntry).where(
        AuditEntry.actor_id == org.employee_a1.id)).first()
    assert len(entry.actor_salt) == 32 and len(entry.actor_commitment) == 64
    # Without its salt the commitment cannot be matched to a person by trying every id.
    assert all(entry.actor_commitment != audit_chain._commit("", user_id)
               for user_id in range(1, 10_000))
    assert audit_chain._commit(entry.actor_salt, entry.actor_id) == entry.actor_commitment


@pytest.mark.parametrize(("tamper", "reason"), [
    ("UPDATE audit_entries SET detail = 'nothing to see' WHERE chain_index = 2",
     "its fields do not match its hash"),
    ("UPDATE audit_entries SET at = at - INTERVAL '1 day' WHERE chain_index = 2",
     "its fields do not match its hash"),
    ("DELETE FROM audit_entries WHERE chain_index = 2", "chain index 2 is missing"),
    ("UPDATE audit_entries SET actor_id = actor_id + 1 WHERE chain_index = 2",
     "its actor was changed"),
    ("UPDATE audit_entries SET actor_id = NULL, actor_salt = NULL WHERE chain_index = 2",
     "its actor was removed, but its incident is not anonymised"),
])
def test_a_change_to_the_trail_is_found_and_the_first_broken_entry_named(
    db_session, trail, runner, tamper, reason
):
    if "INTERVAL" in tamper and db_session.get_bind().dialect.name == "sqlite":
        tamper = ("UPDATE audit_entries SET at = datetime(at, '-1 day') "
                  "WHERE chain_index = 2")
    _unguarded(db_session)
    second = db_session.scalar(sa.select(AuditEntry.id).where(AuditEntry.chain_index == 2))
    third = db_session.scalar(sa.select(AuditEntry.id).where(AuditEntry.chain_index == 3))
    db_session.execute(sa.text(tamper))
    result = audit_chain.verify(db_session)
    assert result.checked == 1
    expected_id = third if "DELETE" in tamper else second
    assert (result.broken.entry_id, result.broken.reason) == (expected_id, reason)
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 1
    assert f"entry {expected_id}" in out.output and reason in out.output


def test_a_changed_hash_chain_link_is_found(db_session, trail):
    _unguarded(db_session)
    db_session.execute(sa.text(
        f"UPDATE audit_entries SET prev_hash = '{'1' * 64}' WHERE chain_index = 3"))
    assert audit_chain.verify(db_session).broken.reason == "does not link to the entry before"


def test_an_entry_written_around_the_service_is_named_as_unsealed(db_session, trail):
    db_session.execute(sa.text(
        "INSERT INTO audit_entries (at, action, outcome) VALUES (CURRENT_TIMESTAMP, 'read', 'ok')"))
    result = audit_chain.verify(db_session)
    assert result.checked == 4
    assert result.broken.chain_index is None and "not sealed" in result.broken.reason


def test_retention_removes_actors_and_salts_and_the_chain_still_holds(db_session, trail, runner):
    db_session.execute(sa.text("UPDATE incidents SET anonymised_at = created_at WHERE id = :id"),
                       {"id": trail.id})
    db_session.execute(sa.text("UPDATE audit_entries SET actor_id = NULL, actor_salt = NULL "
                               "WHERE incident_id = :id"), {"id": trail.id})
    assert audit_chain.verify(db_session).broken is None
    out = runner.invoke(args=["audit", "verify"])
    assert out.exit_code == 0 and "4 entries checked" in out.output


def test_the_seal_cannot_be_rewritten(db_session, trail):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        with db_session.begin_nested():
            db_session.execute(sa.text(
                f"UPDATE audit_entries SET entry_hash = '{'2' * 64}' WHERE chain_index = 1"))
