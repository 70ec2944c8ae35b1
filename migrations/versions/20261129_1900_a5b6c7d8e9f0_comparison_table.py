"""comparison table: answers tied to the articles they changed

Revision ID: a5b6c7d8e9f0
Revises: f4a5b6c7d8e9
Create Date: 2026-11-29 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'a5b6c7d8e9f0'
down_revision = 'f4a5b6c7d8e9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'answer_article',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('tied_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['comment_answer.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['article_id'], ['article.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('answer_id', 'article_id'),
    )
    op.create_index('ix_answer_article_article', 'answer_article', ['article_id', 'answer_id'])
    op.create_index('ix_answer_article_version', 'answer_article', ['version_id', 'article_id'])


def downgrade():
    op.drop_index('ix_answer_article_version', table_name='answer_article')
    op.drop_index('ix_answer_article_article', table_name='answer_article')
    op.drop_table('answer_article')
