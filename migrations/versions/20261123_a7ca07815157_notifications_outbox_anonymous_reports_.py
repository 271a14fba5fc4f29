"""notifications outbox, anonymous reports and messages

Revision ID: a7ca07815157
Revises: 21629a2bb716
Create Date: 2026-11-23 18:29:31.964509

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7ca07815157'
down_revision = '21629a2bb716'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_mails_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mails'))
    )
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_mails_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('anonymous_receipts',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_anonymous_receipts_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', name=op.f('pk_anonymous_receipts'))
    )
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=20), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("sender = 'reporter' OR author_id IS NOT NULL", name=op.f('ck_messages_handler_message_has_author')),
    sa.CheckConstraint("sender IN ('reporter', 'case_handler')", name=op.f('ck_messages_sender')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_messages_author_id_users')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_messages_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_incident_id_id', ['incident_id', 'id'], unique=False)

    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('anonymous', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.alter_column('reporter_id',
               existing_type=sa.INTEGER(),
               nullable=True)
        batch_op.create_check_constraint(
            'anonymous_has_no_reporter',
            '(anonymous AND reporter_id IS NULL AND on_behalf_of_id IS NULL) '
            'OR (NOT anonymous AND reporter_id IS NOT NULL)',
        )



def downgrade():
    anonymous = op.get_bind().execute(
        sa.text('SELECT count(*) FROM incidents WHERE anonymous')
    ).scalar()
    if anonymous:
        raise RuntimeError(
            f'{anonymous} anonymous report(s) have no reporter, which the older schema needs; '
            'downgrading would lose them, so it is refused'
        )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_incidents_anonymous_has_no_reporter'), type_='check')
        batch_op.alter_column('reporter_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('anonymous')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_incident_id_id')

    op.drop_table('messages')
    op.drop_table('anonymous_receipts')
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_mails_status_next_attempt_at')

    op.drop_table('outbox_mails')
