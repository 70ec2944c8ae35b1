"""comments by letter, email and at meetings (线下意见)

Revision ID: e9f0a1b2c3d4
Revises: d8e9f0a1b2c3
Create Date: 2026-11-29 21:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'e9f0a1b2c3d4'
down_revision = 'd8e9f0a1b2c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'offline_meeting',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('place', sa.String(length=200), nullable=False),
        sa.Column('host', sa.String(length=200), nullable=False),
        sa.Column('attendees', sa.Text(), nullable=False),
        sa.Column('minutes', sa.Text(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_offline_meeting_document_id', 'offline_meeting', ['document_id'])
    op.create_table(
        'offline_comment',
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('postmarked_on', sa.Date(), nullable=True),
        sa.Column('postal_address', sa.String(length=300), nullable=True),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['meeting_id'], ['offline_meeting.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('comment_id'),
    )
    op.create_index('ix_offline_comment_meeting', 'offline_comment', ['meeting_id', 'comment_id'])
    op.create_table(
        'offline_attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=True),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['document.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['meeting_id'], ['offline_meeting.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_offline_attachment_document_id', 'offline_attachment', ['document_id'])
    op.create_index('ix_offline_attachment_comment_id', 'offline_attachment', ['comment_id'])
    op.create_index('ix_offline_attachment_meeting_id', 'offline_attachment', ['meeting_id'])
    # The staff list by channel (keyset) and the feedback's count of the offline comments.
    op.create_index('ix_comment_document_channel', 'comment', ['document_id', 'channel', 'id'])


def downgrade():
    op.drop_index('ix_comment_document_channel', table_name='comment')
    op.drop_table('offline_attachment')
    op.drop_table('offline_comment')
    op.drop_table('offline_meeting')
