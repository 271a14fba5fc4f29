"""surveys and IA counts

Revision ID: 74da39db0a57
Revises: a7ca07815157
Create Date: 2026-11-23 18:44:17.812684

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '74da39db0a57'
down_revision = 'a7ca07815157'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ia_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_ia_counts_count_not_negative')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_ia_counts_period_ordered')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_ia_counts_entered_by_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ia_counts_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ia_counts')),
    sa.UniqueConstraint('unit_id', 'period_start', 'period_end', name=op.f('uq_ia_counts_unit_id_period_start_period_end'))
    )
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('reference_months', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_surveys_closes_after_opening')),
    sa.CheckConstraint('reference_months >= 1', name=op.f('ck_surveys_reference_months_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_surveys_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_closes_at'), ['closes_at'], unique=False)

    op.create_table('survey_participations',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_participations_survey_id_surveys')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_participations_user_id_users')),
    sa.PrimaryKeyConstraint('survey_id', 'user_id', name=op.f('pk_survey_participations')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_participations_user_id'), ['user_id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_responses_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_units',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_units_survey_id_surveys')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_survey_units_unit_id_units')),
    sa.PrimaryKeyConstraint('survey_id', 'unit_id', name=op.f('pk_survey_units'))
    )
    with op.batch_alter_table('survey_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_units_unit_id'), ['unit_id'], unique=False)

    op.create_table('survey_answers',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('exposed', sa.Boolean(), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.Column('reported', sa.Integer(), nullable=False),
    sa.CheckConstraint("category IN ('harassment', 'threat', 'violence', 'property_damage', 'corruption')", name=op.f('ck_survey_answers_category')),
    sa.CheckConstraint('exposed OR times = 0', name=op.f('ck_survey_answers_times_only_when_exposed')),
    sa.CheckConstraint('reported >= 0 AND reported <= times', name=op.f('ck_survey_answers_reported_within_times')),
    sa.CheckConstraint('times >= 0', name=op.f('ck_survey_answers_times_not_negative')),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_survey_answers_response_id_survey_responses')),
    sa.PrimaryKeyConstraint('response_id', 'category', name=op.f('pk_survey_answers')),
    sqlite_with_rowid=False
    )


def downgrade():
    op.drop_table('survey_answers')
    with op.batch_alter_table('survey_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_units_unit_id'))

    op.drop_table('survey_units')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_survey_id'))

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_participations_user_id'))

    op.drop_table('survey_participations')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_closes_at'))

    op.drop_table('surveys')
    op.drop_table('ia_counts')
