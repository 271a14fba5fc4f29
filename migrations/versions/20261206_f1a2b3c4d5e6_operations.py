"""operations: the scheduler's heartbeat and job status, request ids on audit entries and mails

The scheduler writes a heartbeat (``scheduler_heartbeats``) each time it renews its lease, and
records how each job last went (``scheduler_job_status``); readiness and the metrics read both
(docs/operations.md). Audit entries and outbox mails keep the id of the request that wrote them
(nullable: none for earlier rows, the scheduler's, or the anonymous channel's).

The audit trail stays append-only: retention's one allowed UPDATE (the actor to NULL) must now
also leave the request id as it was.

Revision ID: f1a2b3c4d5e6
Revises: e7f8a9b0c1d2
Create Date: 2026-12-06 04:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None

AUDIT_GUARD_MESSAGE = 'audit_entries is append-only'
# Retention's UPDATE (migration b6f1c0d2e8a4): every column but actor_id unchanged, and actor_id
# going from a value to NULL. {same} is the dialect's null-safe equality.
UNLINK_ONLY = (
    'OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL AND NEW.id = OLD.id '
    'AND NEW.at = OLD.at AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome '
    'AND NEW.incident_id {same} OLD.incident_id AND NEW.detail {same} OLD.detail'
)
REQUEST_ID_KEPT = ' AND NEW.request_id {same} OLD.request_id'


def upgrade():
    op.create_table('scheduler_heartbeats',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_heartbeats'))
    )
    op.create_table('scheduler_job_status',
    sa.Column('job_id', sa.String(length=100), nullable=False),
    sa.Column('late_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_scheduler_job_status'))
    )
    # A nullable column without a server default: SQLite's own ALTER TABLE ADD COLUMN, so the
    # audit table is not copied and keeps its triggers.
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
    _audit_guard(keep_request_id=True)


def downgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:  # before the column its function names goes
        _audit_guard(keep_request_id=False)
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_column('request_id')
    # On SQLite dropping a column copies the table, and the copy has no triggers: made again.
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('request_id')
    if not postgresql:
        _sqlite_guard(keep_request_id=False)
    op.drop_table('scheduler_job_status')
    op.drop_table('scheduler_heartbeats')


def _audit_guard(keep_request_id: bool) -> None:
    """The append-only guard with retention's one UPDATE, which keeps the request id when the
    column exists (on SQLite, the triggers; on PostgreSQL, the trigger's function)."""
    if op.get_bind().dialect.name != 'postgresql':
        _sqlite_guard(keep_request_id)
        return
    allowed = (UNLINK_ONLY + (REQUEST_ID_KEPT if keep_request_id else '')).format(
        same='IS NOT DISTINCT FROM')
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
        BEGIN
            IF TG_OP = 'UPDATE' AND {allowed} THEN RETURN NEW; END IF;
            RAISE EXCEPTION '{AUDIT_GUARD_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
        """
    )


def _sqlite_guard(keep_request_id: bool) -> None:
    allowed = (UNLINK_ONLY + (REQUEST_ID_KEPT if keep_request_id else '')).format(same='IS')
    op.execute('DROP TRIGGER IF EXISTS audit_entries_no_update')
    op.execute('DROP TRIGGER IF EXISTS audit_entries_no_delete')
    op.execute(
        f'CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries '
        f"WHEN NOT ({allowed}) BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END"
    )
    op.execute(
        'CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries '
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END"
    )
