"""procedure rules: stage clock, assessments, extensions, opinion responses, append-only audit on PostgreSQL

Revision ID: c2d5b1f3e4a2
Revises: b1c4a0e2d3f1
Create Date: 2026-11-25 09:01:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2d5b1f3e4a2'
down_revision = 'b1c4a0e2d3f1'
branch_labels = None
depends_on = None

# On PostgreSQL the audit trail is append-only in the database itself: UPDATE, DELETE and TRUNCATE are
# refused whatever the application does. (A superuser can still disable the trigger; the hash chain shows it.)
AUDIT_GUARD = """
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_entered_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('predisclosure_skip_reason', sa.Text(), nullable=True))
    op.execute("UPDATE document SET stage_entered_at = updated_at")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.alter_column('stage_entered_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('short_period_reason', sa.Text(), nullable=True))

    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('conclusion', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_assessment_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_assessment_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], name=op.f('fk_assessment_version_id_document_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment'))
    )
    op.create_table('consultation_extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('previous_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('new_closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('extended_by_id', sa.Integer(), nullable=False),
    sa.Column('extended_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_consultation_extension_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['extended_by_id'], ['user.id'], name=op.f('fk_consultation_extension_extended_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_extension'))
    )
    op.create_table('opinion_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signoff_id', sa.Integer(), nullable=False),
    sa.Column('response', sa.Text(), nullable=False),
    sa.Column('answered_by_id', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_opinion_response_answered_by_id_user')),
    sa.ForeignKeyConstraint(['signoff_id'], ['signoff.id'], name=op.f('fk_opinion_response_signoff_id_signoff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opinion_response')),
    sa.UniqueConstraint('signoff_id', name=op.f('uq_opinion_response_signoff_id'))
    )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_GUARD)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    op.drop_table('opinion_response')
    op.drop_table('consultation_extension')
    op.drop_table('assessment')
    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_column('short_period_reason')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_column('predisclosure_skip_reason')
        batch_op.drop_column('stage_entered_at')
