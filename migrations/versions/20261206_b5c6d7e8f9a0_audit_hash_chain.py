"""audit hash chain: entries chained by hash, TRUNCATE refused, the actor removable only on an
anonymised incident

Revision ID: b5c6d7e8f9a0
Revises: f1a2b3c4d5e6
Create Date: 2026-12-06 03:00:00

The existing entries are chained in id order, each actor given a salted commitment. The triggers
of the audit table are made again: UPDATE is refused but for (a) sealing an unsealed entry into
the chain once and (b) removing the actor and its salt from an entry of an incident that has been
anonymised (retention); DELETE and, on PostgreSQL, TRUNCATE are refused.
"""
import hashlib
import secrets
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b5c6d7e8f9a0'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None

AUDIT_GUARD_MESSAGE = 'audit_entries is append-only'
GENESIS = '0' * 64
UNCHANGED = ('id', 'at', 'action', 'outcome', 'incident_id', 'detail')
CHAIN = ('chain_index', 'prev_hash', 'entry_hash')
ACTOR = ('actor_id', 'actor_salt', 'actor_commitment')


def _same(columns, dialect: str) -> str:
    operator = 'IS NOT DISTINCT FROM' if dialect == 'postgresql' else 'IS'
    return ' AND '.join(f'NEW.{c} {operator} OLD.{c}' for c in columns)


def _allowed(dialect: str, extra: tuple[str, ...]) -> str:
    """The two updates the trail allows, as a condition on OLD and NEW."""
    unchanged = UNCHANGED + extra
    seal = (
        f"(OLD.chain_index IS NULL AND NEW.chain_index IS NOT NULL AND NEW.entry_hash IS NOT NULL"
        f" AND {_same(unchanged + ACTOR, dialect)})"
    )
    anonymised = ('EXISTS (SELECT 1 FROM incidents WHERE incidents.id = OLD.incident_id'
                  ' AND incidents.anonymised_at IS NOT NULL)')
    unlink = (
        f"(OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL AND NEW.actor_salt IS NULL"
        f" AND {_same(unchanged + CHAIN + ('actor_commitment',), dialect)} AND {anonymised})"
    )
    return f'({seal} OR {unlink})'


def _digest(index, previous, row) -> str:
    at = row.at
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    fields = [
        str(index), previous, str(row.id), at.astimezone(UTC).isoformat(),
        row.actor_commitment or '', row.action,
        '' if row.incident_id is None else str(row.incident_id), row.outcome, row.detail or '',
        getattr(row, 'request_id', None) or '',
    ]
    return hashlib.sha256('\x1f'.join(fields).encode()).hexdigest()


def _extra_columns() -> tuple[str, ...]:
    columns = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('audit_entries')}
    return ('request_id',) if 'request_id' in columns else ()


def _drop_guards(dialect: str) -> None:
    if dialect == 'postgresql':
        for name in ('audit_entries_append_only', 'audit_entries_no_truncate'):
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON audit_entries')
    else:
        for name in ('audit_entries_no_update', 'audit_entries_no_delete'):
            op.execute(f'DROP TRIGGER IF EXISTS {name}')


def _create_guards(dialect: str, allowed: str | None) -> None:
    if dialect == 'postgresql':
        exception = (f"IF TG_OP = 'UPDATE' AND {allowed} THEN RETURN NEW; END IF;"
                     if allowed else '')
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                {exception}
                RAISE EXCEPTION '{AUDIT_GUARD_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute('CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON '
                   'audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()')
        op.execute('CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries '
                   'FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()')
        return
    when = f'WHEN NOT {allowed} ' if allowed else ''
    op.execute(f'CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries {when}'
               f"BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END")
    op.execute('CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries '
               f"BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END")


def upgrade():
    dialect = op.get_bind().dialect.name
    _drop_guards(dialect)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_index', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('actor_salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('actor_commitment', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entries_chain_index'),
                                          ['chain_index'])
    op.create_index('ix_audit_entries_unsealed', 'audit_entries', ['id'], unique=False,
                    postgresql_where=sa.text('chain_index IS NULL'),
                    sqlite_where=sa.text('chain_index IS NULL'))
    _chain_existing()
    _create_guards(dialect, _allowed(dialect, _extra_columns()))


def _chain_existing() -> None:
    """Every entry there is, chained in id order (no trigger is in place while this runs)."""
    bind = op.get_bind()
    table = sa.table('audit_entries', sa.column('at', sa.DateTime(timezone=True)), *(
        sa.column(c) for c in (
            'id', 'actor_id', 'action', 'incident_id', 'outcome', 'detail', 'chain_index',
            'prev_hash', 'entry_hash', 'actor_salt', 'actor_commitment', *_extra_columns())))
    previous, index, after = GENESIS, 0, 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > after).order_by(table.c.id)
                            .limit(5000)).all()
        if not rows:
            return
        for row in rows:
            index += 1
            salt = commitment = None
            if row.actor_id is not None:
                salt = secrets.token_hex(16)
                commitment = hashlib.sha256(f'{salt}|{row.actor_id}'.encode()).hexdigest()
            values = dict(row._mapping, actor_salt=salt, actor_commitment=commitment)
            digest = _digest(index, previous, _Row(values))
            bind.execute(table.update().where(table.c.id == row.id).values(
                chain_index=index, prev_hash=previous, entry_hash=digest, actor_salt=salt,
                actor_commitment=commitment))
            previous = digest
        after = rows[-1].id


class _Row:
    def __init__(self, values):
        self.__dict__.update(values)


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_guards(dialect)
    op.drop_index('ix_audit_entries_unsealed', table_name='audit_entries')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entries_chain_index'), type_='unique')
        batch_op.drop_column('actor_commitment')
        batch_op.drop_column('actor_salt')
        batch_op.drop_column('entry_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_index')
    # Back to the guard of the revision before: append-only, with retention's one UPDATE.
    if dialect == 'postgresql':
        unlink = ('OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL AND '
                  + _same(UNCHANGED + _extra_columns(), dialect))
        _create_guards(dialect, f'({unlink})')
        op.execute('DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries')
    else:
        unlink = ('OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL AND '
                  + _same(UNCHANGED + _extra_columns(), dialect))
        _create_guards(dialect, f'({unlink})')
