"""case follow-up: status history, follow-ups, support, check-ins, police and authority reports

Revision ID: 21629a2bb716
Revises: e23e027fd48d
Create Date: 2026-11-23 17:34:20.875028

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '21629a2bb716'
down_revision = 'e23e027fd48d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('authority_reports',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('serious', sa.Boolean(), nullable=True),
    sa.Column('work_environment_authority_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('work_environment_authority_reference', sa.String(length=100), nullable=True),
    sa.Column('work_injury_report_filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('work_injury_report_reference', sa.String(length=100), nullable=True),
    sa.Column('safety_representative_informed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('investigation_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_authority_reports_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_authority_reports'))
    )
    op.create_table('check_ins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('offset_label', sa.String(length=10), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_check_ins_completed_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_check_ins_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_ins')),
    sa.UniqueConstraint('incident_id', 'offset_label', name=op.f('uq_check_ins_incident_id_offset_label'))
    )
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.create_index('ix_check_ins_due_at_open', ['due_at', 'completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_check_ins_incident_id'), ['incident_id'], unique=False)

    op.create_table('follow_up_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('conversation', 'risk_assessment', 'safety_measure', 'routine_changed', 'perpetrator_contact', 'authority_notified', 'other')", name=op.f('ck_follow_up_entries_type')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_follow_up_entries_author_id_users')),
    sa.ForeignKeyConstraint(['corrects_id'], ['follow_up_entries.id'], name=op.f('fk_follow_up_entries_corrects_id_follow_up_entries')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_follow_up_entries_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_entries'))
    )
    with op.batch_alter_table('follow_up_entries', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_entries_incident_id_id', ['incident_id', 'id'], unique=False)

    op.create_table('police_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('pending', 'not_investigated', 'investigation_opened', 'investigation_discontinued', 'indicted', 'summary_fine', 'prosecution_waived', 'convicted', 'acquitted', 'appealed')", name=op.f('ck_police_outcomes_outcome')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_police_outcomes_incident_id_incidents')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_police_outcomes_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_police_outcomes'))
    )
    with op.batch_alter_table('police_outcomes', schema=None) as batch_op:
        batch_op.create_index('ix_police_outcomes_incident_id_id', ['incident_id', 'id'], unique=False)

    op.create_table('police_reports',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('filed_by', sa.String(length=20), nullable=True),
    sa.Column('contact_address', sa.String(length=10), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('police_reference', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("contact_address IN ('home', 'work')", name=op.f('ck_police_reports_contact_address')),
    sa.CheckConstraint("decision IN ('report', 'do_not_report')", name=op.f('ck_police_reports_decision')),
    sa.CheckConstraint("filed_by IN ('employee', 'employer')", name=op.f('ck_police_reports_filed_by')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_police_reports_decided_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_police_reports_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_police_reports'))
    )
    op.create_table('status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.CheckConstraint("to_status IN ('reported', 'acknowledged', 'in_follow_up', 'closed')", name=op.f('ck_status_changes_to_status')),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], name=op.f('fk_status_changes_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_status_changes_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_changes'))
    )
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_status_changes_incident_id_id', ['incident_id', 'id'], unique=False)

    op.create_table('support_declines',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_support_declines_incident_id_incidents')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_support_declines_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_support_declines'))
    )
    op.create_table('support_evaluations',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('sufficient', sa.String(length=10), nullable=False),
    sa.Column('relevant', sa.String(length=10), nullable=False),
    sa.Column('felt_supported_by_employer', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('evaluated_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("relevant IN ('yes', 'partly', 'no')", name=op.f('ck_support_evaluations_relevant')),
    sa.CheckConstraint("sufficient IN ('yes', 'partly', 'no')", name=op.f('ck_support_evaluations_sufficient')),
    sa.CheckConstraint('felt_supported_by_employer BETWEEN 1 AND 5', name=op.f('ck_support_evaluations_felt_supported_range')),
    sa.ForeignKeyConstraint(['evaluated_by_id'], ['users.id'], name=op.f('fk_support_evaluations_evaluated_by_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_support_evaluations_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_support_evaluations'))
    )
    op.create_table('support_measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offered_by_id', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("type IN ('debriefing', 'occupational_health', 'peer_support', 'safety_measures', 'changed_duties', 'legal_support', 'accompaniment', 'other')", name=op.f('ck_support_measures_type')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_support_measures_incident_id_incidents')),
    sa.ForeignKeyConstraint(['offered_by_id'], ['users.id'], name=op.f('fk_support_measures_offered_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_measures'))
    )
    with op.batch_alter_table('support_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_measures_incident_id'), ['incident_id'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_incidents_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_incidents_acknowledged_by_id_users'), 'users', ['acknowledged_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_incidents_acknowledged_by_id_users'), type_='foreignkey')
        batch_op.drop_index('ix_incidents_status_created_at')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('acknowledged_by_id')
        batch_op.drop_column('acknowledged_at')

    with op.batch_alter_table('support_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_measures_incident_id'))

    op.drop_table('support_measures')
    op.drop_table('support_evaluations')
    op.drop_table('support_declines')
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_status_changes_incident_id_id')

    op.drop_table('status_changes')
    op.drop_table('police_reports')
    with op.batch_alter_table('police_outcomes', schema=None) as batch_op:
        batch_op.drop_index('ix_police_outcomes_incident_id_id')

    op.drop_table('police_outcomes')
    with op.batch_alter_table('follow_up_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_entries_incident_id_id')

    op.drop_table('follow_up_entries')
    with op.batch_alter_table('check_ins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_ins_incident_id'))
        batch_op.drop_index('ix_check_ins_due_at_open')

    op.drop_table('check_ins')
    op.drop_table('authority_reports')
