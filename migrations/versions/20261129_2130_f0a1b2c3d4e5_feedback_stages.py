"""adoption feedback before the meeting and on rejection or withdrawal

Revision ID: f0a1b2c3d4e5
Revises: e9f0a1b2c3d4
Create Date: 2026-11-29 21:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'f0a1b2c3d4e5'
down_revision = 'e9f0a1b2c3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('document') as batch_op:
        batch_op.add_column(sa.Column('feedback_published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_feedback_published_at'), ['feedback_published_at'], unique=False)
    # The feedback of a document published before this change became public with its final text.
    op.execute("UPDATE document SET feedback_published_at = published_at WHERE published_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('document') as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_feedback_published_at'))
        batch_op.drop_column('withdrawal_reason')
        batch_op.drop_column('withdrawn_on')
        batch_op.drop_column('feedback_published_at')
