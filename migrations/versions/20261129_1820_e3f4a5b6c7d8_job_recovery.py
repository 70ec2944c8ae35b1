"""background jobs: recovery after a Redis or worker loss

The retry schedule and the error's detail move to the job's row (retries are the worker's, not Redis's),
and the sweeper's pages and a document's job list get the indexes they walk.

Revision ID: e3f4a5b6c7d8
Revises: d2e3f4a5b6c7
Create Date: 2026-11-29 18:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e3f4a5b6c7d8'
down_revision = 'd2e3f4a5b6c7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('error_detail', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_background_job_document_id')
        batch_op.create_index('ix_background_job_document_id_id', ['document_id', 'id'], unique=False)
        batch_op.create_index('ix_background_job_state_id', ['state', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.drop_index('ix_background_job_state_id')
        batch_op.drop_index('ix_background_job_document_id_id')
        batch_op.create_index('ix_background_job_document_id', ['document_id'], unique=False)
        batch_op.drop_column('retry_at')
        batch_op.drop_column('error_detail')
