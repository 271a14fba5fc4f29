"""anonymous activity held until it is published at the hour

Revision ID: e0f1a2b3c4d5
Revises: d9e0f1a2b3c4
Create Date: 2026-12-06 05:00:00

An anonymous report, a reporter's message and a reporter's read wait in ``anonymous_pending``
until the publication at the next full hour (services/anonymous.py). Downgrading drops the
table, and with it whatever still waits there: refused while anything does.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e0f1a2b3c4d5'
down_revision = 'd9e0f1a2b3c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('anonymous_pending',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('received_hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.CheckConstraint("(kind = 'report') = (code_hash IS NOT NULL)", name=op.f('ck_anonymous_pending_report_has_code_hash')),
    sa.CheckConstraint("kind IN ('report', 'message', 'read')", name=op.f('ck_anonymous_pending_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_anonymous_pending'))
    )
    with op.batch_alter_table('anonymous_pending', schema=None) as batch_op:
        batch_op.create_index('ix_anonymous_pending_received_hour', ['received_hour'], unique=False)
        batch_op.create_index('ix_anonymous_pending_reference', ['reference'], unique=False)
        batch_op.create_index('ix_anonymous_pending_report_reference', ['reference'], unique=True,
                              postgresql_where=sa.text("kind = 'report'"),
                              sqlite_where=sa.text("kind = 'report'"))


def downgrade():
    held = op.get_bind().execute(sa.text('SELECT count(*) FROM anonymous_pending')).scalar()
    if held:
        raise RuntimeError(
            f'{held} anonymous item(s) wait for publication (flask anonymous publish); '
            'downgrading would lose them, so it is refused'
        )
    with op.batch_alter_table('anonymous_pending', schema=None) as batch_op:
        batch_op.drop_index('ix_anonymous_pending_report_reference',
                            postgresql_where=sa.text("kind = 'report'"),
                            sqlite_where=sa.text("kind = 'report'"))
        batch_op.drop_index('ix_anonymous_pending_reference')
        batch_op.drop_index('ix_anonymous_pending_received_hour')

    op.drop_table('anonymous_pending')
