"""background jobs: content key, progress and heartbeat

Revision ID: d4e6c2a1b9f0
Revises: c2d5b1f3e4a2
Create Date: 2026-11-25 10:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e6c2a1b9f0'
down_revision = 'c2d5b1f3e4a2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('progress', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_background_job_content_key'), ['content_key'], unique=False)


def downgrade():
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_background_job_content_key'))
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('progress')
        batch_op.drop_column('content_key')
