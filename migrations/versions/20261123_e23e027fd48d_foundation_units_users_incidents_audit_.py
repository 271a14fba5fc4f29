"""foundation: units, users, incidents, audit, idempotency

The audit table is append-only in the database itself: a trigger refuses UPDATE and DELETE on
PostgreSQL and on SQLite, so not even a bug in the application can rewrite the trail.

Revision ID: e23e027fd48d
Revises:
Create Date: 2026-11-23 17:29:54.689913

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e23e027fd48d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.CheckConstraint("action IN ('create', 'read', 'update', 'access_denied')", name=op.f('ck_audit_entries_action')),
    sa.CheckConstraint("outcome IN ('ok', 'denied')", name=op.f('ck_audit_entries_outcome')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entries_incident_id_id', ['incident_id', 'id'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.LargeBinary(), nullable=False),
    sa.Column('response_headers', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_records')),
    sa.UniqueConstraint('caller', 'key', name=op.f('uq_idempotency_records_caller_key'))
    )
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_records_created_at'), ['created_at'], unique=False)

    op.create_table('reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_reference_counters'))
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('organisation', 'forvaltning', 'avdelning', 'enhet')", name=op.f('ck_units_kind')),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], name=op.f('fk_units_parent_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units'))
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('unit_headcounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_unit_headcounts_count_not_negative')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_headcounts_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_headcounts')),
    sa.UniqueConstraint('unit_id', 'year', name=op.f('uq_unit_headcounts_unit_id_year'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_users_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('subcategory', sa.String(length=40), nullable=True),
    sa.Column('perceived_influence_purpose', sa.String(length=10), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=20), nullable=True),
    sa.Column('perpetrator', sa.String(length=20), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('targeted_matter', sa.String(length=30), nullable=True),
    sa.Column('family_targeted', sa.Boolean(), nullable=False),
    sa.Column('injured', sa.Boolean(), nullable=False),
    sa.Column('sick_leave', sa.Boolean(), nullable=False),
    sa.Column('ia_reported', sa.Boolean(), nullable=False),
    sa.Column('ia_reference', sa.String(length=100), nullable=True),
    sa.Column('police_flag', sa.String(length=20), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('on_behalf_of_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("category IN ('harassment', 'threat', 'violence', 'property_damage', 'corruption')", name=op.f('ck_incidents_category')),
    sa.CheckConstraint("channel IN ('in_person', 'phone', 'letter', 'email', 'social_media', 'other')", name=op.f('ck_incidents_channel')),
    sa.CheckConstraint("location IN ('office', 'reception', 'home_visit', 'phone', 'digital', 'public_place', 'court', 'employee_home', 'other')", name=op.f('ck_incidents_location')),
    sa.CheckConstraint("perceived_influence_purpose IN ('yes', 'no', 'unsure')", name=op.f('ck_incidents_perceived_influence_purpose')),
    sa.CheckConstraint("perpetrator IN ('client', 'relative', 'representative', 'unknown', 'other')", name=op.f('ck_incidents_perpetrator')),
    sa.CheckConstraint("police_flag IN ('required', 'recommended', 'consider')", name=op.f('ck_incidents_police_flag')),
    sa.CheckConstraint("status IN ('reported', 'acknowledged', 'in_follow_up', 'closed')", name=op.f('ck_incidents_status')),
    sa.CheckConstraint("targeted_matter IN ('financial_aid', 'children_and_youth', 'elderly_care', 'disability', 'addiction', 'other')", name=op.f('ck_incidents_targeted_matter')),
    sa.ForeignKeyConstraint(['on_behalf_of_id'], ['users.id'], name=op.f('fk_incidents_on_behalf_of_id_users')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_incidents_reporter_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_incidents_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('reference', name=op.f('uq_incidents_reference'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_occurred_at_id', ['occurred_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_on_behalf_of_id'), ['on_behalf_of_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_incidents_unit_id_occurred_at', ['unit_id', 'occurred_at'], unique=False)

    op.create_table('unit_leaders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_unit_leaders_unit_id_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unit_leaders_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_leaders')),
    sa.UniqueConstraint('user_id', 'unit_id', name=op.f('uq_unit_leaders_user_id_unit_id'))
    )
    with op.batch_alter_table('unit_leaders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_leaders_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_leaders_user_id'), ['user_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.CheckConstraint("role IN ('employee', 'manager', 'hr', 'admin')", name=op.f('ck_user_roles_role')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )
    op.create_table('incident_forms',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.CheckConstraint("category IN ('harassment', 'threat', 'violence', 'property_damage', 'corruption')", name=op.f('ck_incident_forms_category')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_forms_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', 'category', name=op.f('pk_incident_forms'))
    )


    _create_audit_guard()


AUDIT_GUARD_MESSAGE = "audit_entries is append-only"


def _create_audit_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{AUDIT_GUARD_MESSAGE}' USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
                f"BEGIN SELECT RAISE(ABORT, '{AUDIT_GUARD_MESSAGE}'); END"
            )


def _drop_audit_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")


def downgrade():
    _drop_audit_guard()
    op.drop_table('incident_forms')
    op.drop_table('user_roles')
    with op.batch_alter_table('unit_leaders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_leaders_user_id'))
        batch_op.drop_index(batch_op.f('ix_unit_leaders_unit_id'))

    op.drop_table('unit_leaders')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_unit_id_occurred_at')
        batch_op.drop_index(batch_op.f('ix_incidents_unit_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_incidents_on_behalf_of_id'))
        batch_op.drop_index('ix_incidents_occurred_at_id')

    op.drop_table('incidents')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))

    op.drop_table('users')
    op.drop_table('unit_headcounts')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))

    op.drop_table('units')
    op.drop_table('reference_counters')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_created_at'))

    op.drop_table('idempotency_records')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_incident_id_id')
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))

    op.drop_table('audit_entries')
