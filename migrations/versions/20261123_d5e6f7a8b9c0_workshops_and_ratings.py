"""workshops and ratings

Revision ID: d5e6f7a8b9c0
Revises: b6f1c0d2e8a4
Create Date: 2026-11-23 20:24:55.932465

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd5e6f7a8b9c0'
down_revision = 'b6f1c0d2e8a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workshops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('expected_participants', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_workshops_closes_after_opening')),
    sa.CheckConstraint('expected_participants >= 1', name=op.f('ck_workshops_expected_participants_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_workshops_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshops'))
    )
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshops_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_workshops_held_on'), ['held_on'], unique=False)

    op.create_table('workshop_participations',
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_workshop_participations_user_id_users')),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], name=op.f('fk_workshop_participations_workshop_id_workshops')),
    sa.PrimaryKeyConstraint('workshop_id', 'user_id', name=op.f('pk_workshop_participations')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('workshop_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_participations_user_id'), ['user_id'], unique=False)

    op.create_table('workshop_ratings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('problem_size', sa.Integer(), nullable=False),
    sa.Column('usefulness', sa.Integer(), nullable=True),
    sa.Column('group_label', sa.String(length=50), nullable=True),
    sa.CheckConstraint('problem_size BETWEEN 1 AND 7', name=op.f('ck_workshop_ratings_problem_size_on_scale')),
    sa.CheckConstraint('usefulness IS NULL OR usefulness BETWEEN 1 AND 5', name=op.f('ck_workshop_ratings_usefulness_on_scale')),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], name=op.f('fk_workshop_ratings_workshop_id_workshops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop_ratings')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('workshop_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_ratings_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('workshop_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_workshop_tallies_entered_by_id_users')),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], name=op.f('fk_workshop_tallies_workshop_id_workshops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workshop_tallies'))
    )
    with op.batch_alter_table('workshop_tallies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_tallies_workshop_id'), ['workshop_id'], unique=False)

    op.create_table('workshop_units',
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_workshop_units_unit_id_units')),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], name=op.f('fk_workshop_units_workshop_id_workshops')),
    sa.PrimaryKeyConstraint('workshop_id', 'unit_id', name=op.f('pk_workshop_units'))
    )
    with op.batch_alter_table('workshop_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_units_unit_id'), ['unit_id'], unique=False)

    op.create_table('workshop_tally_counts',
    sa.Column('tally_id', sa.Integer(), nullable=False),
    sa.Column('scale', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint("scale IN ('problem_size', 'usefulness')", name=op.f('ck_workshop_tally_counts_scale')),
    sa.CheckConstraint("value >= 1 AND (value <= 5 OR (scale = 'problem_size' AND value <= 7))", name=op.f('ck_workshop_tally_counts_value_on_scale')),
    sa.CheckConstraint('count >= 1', name=op.f('ck_workshop_tally_counts_count_positive')),
    sa.ForeignKeyConstraint(['tally_id'], ['workshop_tallies.id'], name=op.f('fk_workshop_tally_counts_tally_id_workshop_tallies')),
    sa.PrimaryKeyConstraint('tally_id', 'scale', 'value', name=op.f('pk_workshop_tally_counts'))
    )


def downgrade():
    op.drop_table('workshop_tally_counts')
    with op.batch_alter_table('workshop_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_units_unit_id'))

    op.drop_table('workshop_units')
    with op.batch_alter_table('workshop_tallies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_tallies_workshop_id'))

    op.drop_table('workshop_tallies')
    with op.batch_alter_table('workshop_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_ratings_workshop_id'))

    op.drop_table('workshop_ratings')
    with op.batch_alter_table('workshop_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_participations_user_id'))

    op.drop_table('workshop_participations')
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshops_held_on'))
        batch_op.drop_index(batch_op.f('ix_workshops_closes_at'))

    op.drop_table('workshops')
