"""police wanted: the reporter's wish about the police

Revision ID: e7f8a9b0c1d2
Revises: c3d4e5f6a7b8
Create Date: 2026-12-06 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'c3d4e5f6a7b8'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: the incidents reported before the question was asked stay unanswered (null).
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('police_wanted', sa.String(length=10), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_incidents_police_wanted'), "police_wanted IN ('yes', 'no', 'unsure')"
        )


def downgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_incidents_police_wanted'), type_='check')
        batch_op.drop_column('police_wanted')
