"""statistics: comments by channel, folded in by the clock

Revision ID: b6c7d8e9f0a1
Revises: a5b6c7d8e9f0
Create Date: 2026-11-29 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b6c7d8e9f0a1'
down_revision = 'a5b6c7d8e9f0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'channel_tally',
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('consultation_id', 'channel'),
    )
    op.create_table(
        'channel_tally_cursor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('after_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('channel_tally_cursor')
    op.drop_table('channel_tally')
