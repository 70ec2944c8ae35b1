"""comment lookup indexes: by consultation, and by address for the receipt-mail cap

Revision ID: a7b9c5d3e2f4
Revises: f6a8e4c3d1b2
Create Date: 2026-11-29 01:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a7b9c5d3e2f4'
down_revision = 'f6a8e4c3d1b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_consultation_id'), ['consultation_id'], unique=False)
    # An expression index: SQLite (3.9+) and PostgreSQL both have them.
    op.create_index('ix_comment_email_lower', 'comment', [sa.text('lower(email)')], unique=False)


def downgrade():
    op.drop_index('ix_comment_email_lower', table_name='comment')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_consultation_id'))
