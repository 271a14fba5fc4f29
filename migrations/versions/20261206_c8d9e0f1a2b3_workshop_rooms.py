"""workshop rooms: a short code per workshop and the devices that rated

Revision ID: c8d9e0f1a2b3
Revises: b5c6d7e8f9a0
Create Date: 2026-12-06 05:00:00

People in the room rate a workshop without an account through its short link /w/<room_code>.
Workshops already there get a random code. ``workshop_devices`` says that a device (a keyed hash
of its cookie token) rated, and which rating it gave, so it can add the usefulness afterwards.
"""
import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c8d9e0f1a2b3'
down_revision = 'b5c6d7e8f9a0'
branch_labels = None
depends_on = None

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def upgrade():
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_code', sa.String(length=12), nullable=True))
    connection = op.get_bind()
    workshops = sa.table('workshops', sa.column('id', sa.Integer),
                         sa.column('room_code', sa.String))
    taken = set()
    for (workshop_id,) in connection.execute(sa.select(workshops.c.id)).all():
        code = None
        while code is None or code in taken:
            code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        taken.add(code)
        connection.execute(workshops.update().where(workshops.c.id == workshop_id)
                           .values(room_code=code))
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.alter_column('room_code', existing_type=sa.String(length=12), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_workshops_room_code'), ['room_code'])

    op.create_table(
        'workshop_devices',
        sa.Column('workshop_id', sa.Integer(), nullable=False),
        sa.Column('device_key', sa.String(length=64), nullable=False),
        sa.Column('rating_id', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['rating_id'], ['workshop_ratings.id'],
                                name=op.f('fk_workshop_devices_rating_id_workshop_ratings')),
        sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'],
                                name=op.f('fk_workshop_devices_workshop_id_workshops')),
        sa.PrimaryKeyConstraint('workshop_id', 'device_key', name=op.f('pk_workshop_devices')),
        sa.UniqueConstraint('rating_id', name=op.f('uq_workshop_devices_rating_id')),
        sqlite_with_rowid=False,
    )


def downgrade():
    op.drop_table('workshop_devices')
    with op.batch_alter_table('workshops', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_workshops_room_code'), type_='unique')
        batch_op.drop_column('room_code')
