"""fast paths: indexes for the employee's and the manager's lists

Revision ID: b2c3d4e5f6a8
Revises: a1b2c3d4e5f7
Create Date: 2026-12-06 08:10:00

Every incident list is ordered by (occurred_at desc, id desc) and pages by a row comparison on
the two (services/pagination.py). An employee's scope is ``reporter_id = X OR on_behalf_of_id =
X``, a manager's adds ``unit_id IN (their units)``: without an index that starts with the person
or the unit and goes on in the list's order, PostgreSQL read the whole table backwards looking
for them (359 ms for an employee with no reports on 1,000,000 incidents). The unit's index
(unit_id, occurred_at) gains the id, so it orders a unit's page completely.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2c3d4e5f6a8'
down_revision = 'a1b2c3d4e5f7'
branch_labels = None
depends_on = None

NEW = {
    'ix_incidents_unit_id_occurred_at_id': ['unit_id', 'occurred_at', 'id'],
    'ix_incidents_reporter_id_occurred_at_id': ['reporter_id', 'occurred_at', 'id'],
    'ix_incidents_on_behalf_of_id_occurred_at_id': ['on_behalf_of_id', 'occurred_at', 'id'],
}


def upgrade():
    for name, columns in NEW.items():
        op.create_index(name, 'incidents', columns, unique=False)
    op.drop_index('ix_incidents_unit_id_occurred_at', table_name='incidents')


def downgrade():
    op.create_index('ix_incidents_unit_id_occurred_at', 'incidents', ['unit_id', 'occurred_at'],
                    unique=False)
    for name in reversed(list(NEW)):
        op.drop_index(name, table_name='incidents')
