"""co-responsible units in the joint review (会签单位)

Revision ID: a1b2c3d4e5f7
Revises: f0a1b2c3d4e5
Create Date: 2026-11-29 21:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a1b2c3d4e5f7'
down_revision = 'f0a1b2c3d4e5'
branch_labels = None
depends_on = None


# A unit's signature is a Signoff row like the organs' (organ "unit:<department_id>", at most 20 characters,
# unique per round with the existing constraint): the signoff table does not change.
def upgrade():
    op.create_table(
        'document_co_unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('named_by_id', sa.Integer(), nullable=False),
        sa.Column('named_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_document_co_unit_department_id_department')),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_co_unit_document_id_document'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['named_by_id'], ['user.id'], name=op.f('fk_document_co_unit_named_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_document_co_unit')),
        sa.UniqueConstraint('document_id', 'department_id', name=op.f('uq_document_co_unit_document_id_department_id')),
    )
    op.create_index(op.f('ix_document_co_unit_department_id'), 'document_co_unit', ['department_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_document_co_unit_department_id'), table_name='document_co_unit')
    op.drop_table('document_co_unit')
