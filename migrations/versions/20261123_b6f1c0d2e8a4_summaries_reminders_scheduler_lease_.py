"""summaries, reminders, scheduler lease, retention

Retention (services/retention.py) removes the links between an anonymised incident and the people
in it. Two of them the older schema made unremovable: the exposed employee who evaluated the
support (``support_evaluations.evaluated_by_id``, now nullable) and the actor of the audit entries
about the incident. The audit trail stays append-only, with one exception: an UPDATE that only
sets ``actor_id`` from a value to NULL, nothing else.

Revision ID: b6f1c0d2e8a4
Revises: 74da39db0a57
Create Date: 2026-11-23 20:16:51.491521

"""
import sqlalchemy as sa
from alembic import op

AUDIT_GUARD_MESSAGE = 'audit_entries is append-only'
# Every column but actor_id unchanged, and actor_id going from a value to NULL.
UNLINK_ONLY = (
    'OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL AND NEW.id = OLD.id '
    'AND NEW.at = OLD.at AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome '
    'AND {same}(NEW.incident_id, OLD.incident_id) AND {same}(NEW.detail, OLD.detail)'
)

# revision identifiers, used by Alembic.
revision = 'b6f1c0d2e8a4'
down_revision = '74da39db0a57'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_leases',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_leases'))
    )
    op.create_table('reminder_digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_reminder_digests_manager_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_digests')),
    sa.UniqueConstraint('manager_id', 'day', name=op.f('uq_reminder_digests_manager_id_day'))
    )
    op.create_table('summaries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('period', sa.String(length=20), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('scope_name', sa.String(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.CheckConstraint("kind IN ('tertial', 'monthly', 'workshop')", name=op.f('ck_summaries_kind')),
    sa.CheckConstraint("origin IN ('schedule', 'request')", name=op.f('ck_summaries_origin')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_summaries_requested_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_summaries_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summaries')),
    sa.UniqueConstraint('kind', 'period', 'scope', name=op.f('uq_summaries_kind_period_scope'))
    )
    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_summaries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_summaries_unit_id'), ['unit_id'], unique=False)

    op.create_table('summary_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('summary_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['summary_id'], ['summaries.id'], name=op.f('fk_summary_files_summary_id_summaries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_summary_files')),
    sa.UniqueConstraint('summary_id', 'name', name=op.f('uq_summary_files_summary_id_name'))
    )
    # APScheduler's SQLAlchemyJobStore table, as the job store itself defines it, so the schema
    # stays under the migrations (the store's own create is then a no-op).
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_apscheduler_jobs_next_run_time', ['next_run_time'], unique=False)

    with op.batch_alter_table('support_evaluations', schema=None) as batch_op:
        batch_op.alter_column('evaluated_by_id', existing_type=sa.INTEGER(), nullable=True)
    _audit_guard(allow_unlinking=True)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f('ck_incidents_anonymous_has_no_reporter'), type_='check')
        batch_op.create_check_constraint(
            'anonymous_has_no_reporter',
            '(anonymous AND reporter_id IS NULL AND on_behalf_of_id IS NULL) '
            'OR (NOT anonymous AND (reporter_id IS NOT NULL OR anonymised_at IS NOT NULL))',
        )



def downgrade():
    anonymised = op.get_bind().execute(
        sa.text('SELECT count(*) FROM incidents WHERE anonymised_at IS NOT NULL')
    ).scalar()
    if anonymised:
        raise RuntimeError(
            f'{anonymised} incident(s) were anonymised by the retention job and have no reporter, '
            'which the older schema needs; downgrading would lose them, so it is refused'
        )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_incidents_anonymous_has_no_reporter'), type_='check')
        batch_op.create_check_constraint(
            'anonymous_has_no_reporter',
            '(anonymous AND reporter_id IS NULL AND on_behalf_of_id IS NULL) '
            'OR (NOT anonymous AND reporter_id IS NOT NULL)',
        )
        batch_op.drop_column('anonymised_at')

    _audit_guard(allow_unlinking=False)
    with op.batch_alter_table('support_evaluations', schema=None) as batch_op:
        batch_op.alter_column('evaluated_by_id', existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table('apscheduler_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_apscheduler_jobs_next_run_time')
    op.drop_table('apscheduler_jobs')

    op.drop_table('summary_files')
    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_summaries_unit_id'))
        batch_op.drop_index(batch_op.f('ix_summaries_created_at'))

    op.drop_table('summaries')
    op.drop_table('reminder_digests')
    op.drop_table('scheduler_leases')


def _audit_guard(allow_unlinking: bool) -> None:
    """The append-only trigger of migration e23e027fd48d, with or without the one UPDATE that
    retention needs."""
    if op.get_bind().dialect.name == 'postgresql':
        allowed = UNLINK_ONLY.replace('{same}(NEW.incident_id, OLD.incident_id)',
                                      'NEW.incident_id IS NOT DISTINCT FROM OLD.incident_id')
        allowed = allowed.replace('{same}(NEW.detail, OLD.detail)',
                                  'NEW.detail IS NOT DISTINCT FROM OLD.detail')
        exception = (
            f"IF TG_OP = 'UPDATE' AND {allowed} THEN RETURN NEW; END IF;"
            if allow_unlinking else ''
        )
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
        return
    op.execute('DROP TRIGGER IF EXISTS audit_entries_no_update')
    allowed = UNLINK_ONLY.replace('{same}(NEW.incident_id, OLD.incident_id)',
                                  'NEW.incident_id IS OLD.incident_id')
    allowed = allowed.replace('{same}(NEW.detail, OLD.detail)', 'NEW.detail IS OLD.detail')
    when = f'WHEN NOT ({allowed}) ' if allow_unlinking else ''
    op.execute(
        f'CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries {when}'
        f"BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END"
    )
