"""reach per part of the organisation: hr, statistics readers and admins per unit

Revision ID: a1b2c3d4e5f7
Revises: e0f1a2b3c4d5
Create Date: 2026-12-06 08:00:00

hr, statistics_reader and admin are held for a unit and its subtree (``unit_assignments``);
platform_admin administers the whole deployment. Existing people keep what they had: every hr
user becomes hr at every root of the tree (which reaches everything, as before), and every admin
becomes a platform admin (who administered every organisation before, as a platform admin
does now). Downgrading turns platform admins back into admins and forgets the assignments;
refused while a statistics reader exists, whose role the old schema cannot hold.

Audit entries record which kind of record they are about (``record``) and the unit it belongs
to (``unit_id``): what decides who may list them. Entries written before are left as they are
(the trail is append-only); the append-only guard is renewed so that neither new column can be
changed by the two updates it allows.
"""
import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1b2c3d4e5f7'
down_revision = 'e0f1a2b3c4d5'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('employee', 'manager', 'hr', 'admin')"
NEW_ROLES = ("role IN ('employee', 'manager', 'hr', 'statistics_reader', 'admin', "
             "'platform_admin')")


def _chain_migration():
    """The hash-chain revision's guard helpers (one definition of the append-only guard)."""
    path = Path(__file__).with_name('20261206_b5c6d7e8f9a0_audit_hash_chain.py')
    spec = importlib.util.spec_from_file_location('audit_hash_chain_revision', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade():
    chain = _chain_migration()
    dialect = op.get_bind().dialect.name
    chain._drop_guards(dialect)
    # Nullable columns: SQLite adds them in place, without copying the table.
    op.add_column('audit_entries', sa.Column('record', sa.String(length=40), nullable=True))
    op.add_column('audit_entries', sa.Column('unit_id', sa.Integer(), nullable=True))
    chain._create_guards(dialect, chain._allowed(dialect, ('request_id', 'record', 'unit_id')))
    op.create_table('unit_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('hr', 'statistics_reader', 'admin')", name=op.f('ck_unit_assignments_assigned_role')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_assignments_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unit_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_assignments')),
    sa.UniqueConstraint('user_id', 'role', 'unit_id', name=op.f('uq_unit_assignments_user_id_role_unit_id'))
    )
    with op.batch_alter_table('unit_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_assignments_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_assignments_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role'), type_='check')
        batch_op.create_check_constraint('role', NEW_ROLES)
    # Existing hr keep their reach: hr at every root reaches every unit.
    op.execute(
        "INSERT INTO unit_assignments (user_id, role, unit_id) "
        "SELECT user_roles.user_id, 'hr', units.id FROM user_roles, units "
        "WHERE user_roles.role = 'hr' AND units.parent_id IS NULL"
    )
    # Existing admins administered every organisation: that is a platform admin now.
    op.execute("UPDATE user_roles SET role = 'platform_admin' WHERE role = 'admin'")


def downgrade():
    bind = op.get_bind()
    readers = bind.execute(sa.text(
        "SELECT count(*) FROM user_roles WHERE role = 'statistics_reader'")).scalar()
    if readers:
        raise RuntimeError(
            f"{readers} statistics reader(s) exist; the schema before this revision has no "
            "such role. Remove the role from them first.")
    # An admin of some organisations and a platform admin fold into the old, global admin.
    op.execute(
        "DELETE FROM user_roles WHERE role = 'admin' AND user_id IN "
        "(SELECT user_id FROM user_roles WHERE role = 'platform_admin')")
    op.execute("UPDATE user_roles SET role = 'admin' WHERE role = 'platform_admin'")
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_roles_role'), type_='check')
        batch_op.create_check_constraint('role', OLD_ROLES)
    with op.batch_alter_table('unit_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_unit_assignments_unit_id'))
    op.drop_table('unit_assignments')
    chain = _chain_migration()
    dialect = op.get_bind().dialect.name
    chain._drop_guards(dialect)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_column('unit_id')
        batch_op.drop_column('record')
    chain._create_guards(dialect, chain._allowed(dialect, ('request_id',)))
