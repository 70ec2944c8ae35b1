"""mailings: one event told to many people, in keyset batches by the clock

Revision ID: f4a5b6c7d8e9
Revises: e3f4a5b6c7d8
Create Date: 2026-11-29 18:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = 'f4a5b6c7d8e9'
down_revision = 'e3f4a5b6c7d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mailing',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('event', sa.String(length=60), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('consultation_id', sa.Integer(), nullable=True),
        sa.Column('after_id', sa.Integer(), nullable=False),
        sa.Column('after_time', sa.DateTime(timezone=True), nullable=True),
        sa.Column('sent', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_mailing_finished_at', 'mailing', ['finished_at'])
    op.create_index('ix_subscription_confirmed', 'subscription', ['confirmed_at', 'id'])


def downgrade():
    op.drop_index('ix_subscription_confirmed', table_name='subscription')
    op.drop_index('ix_mailing_finished_at', table_name='mailing')
    op.drop_table('mailing')
