"""late publication recorded on the document

Revision ID: b2c3d4e5f6a8
Revises: a1b2c3d4e5f7
Create Date: 2026-11-29 21:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b2c3d4e5f6a8'
down_revision = 'a1b2c3d4e5f7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document') as batch_op:
        batch_op.add_column(sa.Column('publication_working_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('publication_limit_days', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('document') as batch_op:
        batch_op.drop_column('publication_limit_days')
        batch_op.drop_column('publication_working_days')
