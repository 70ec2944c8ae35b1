"""public site: moderation, campaigns, notice contacts, library, search index

Revision ID: f6a8e4c3d1b2
Revises: e5f7d3b2c0a1
Create Date: 2026-11-25 11:25:11.665234

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6a8e4c3d1b2'
down_revision = 'e5f7d3b2c0a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('library_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('by_document_id', sa.Integer(), nullable=True),
    sa.Column('by_reference', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_document_id'], ['document.id'], name=op.f('fk_library_event_by_document_id_document')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_library_event_document_id_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_library_event_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_library_event'))
    )
    with op.batch_alter_table('library_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_library_event_document_id'), ['document_id'], unique=False)

    op.create_table('search_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('visible_from', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_search_entry_department_id_department')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_search_entry_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entry')),
    sa.UniqueConstraint('kind', 'ref_id', name=op.f('uq_search_entry_kind_ref_id'))
    )
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_entry_document_id'), ['document_id'], unique=False)

    op.create_table('search_term',
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['search_entry.id'], name=op.f('fk_search_term_entry_id_search_entry'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('term', 'entry_id', name=op.f('pk_search_term'))
    )
    with op.batch_alter_table('search_term', schema=None) as batch_op:
        batch_op.create_index('ix_search_term_entry', ['entry_id'], unique=False)

    op.create_table('comment_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('representative_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_comment_campaign_article_id_article')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_comment_campaign_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['representative_id'], ['comment.id'], name=op.f('fk_comment_campaign_representative_id_comment')),  # comment exists already: no ALTER needed
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_campaign'))
    )
    with op.batch_alter_table('comment_campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_campaign_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('comment_band',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('band', sa.String(length=40), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comment.id'], name=op.f('fk_comment_band_comment_id_comment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_comment_band_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'band', name=op.f('pk_comment_band'))
    )
    with op.batch_alter_table('comment_band', schema=None) as batch_op:
        batch_op.create_index('ix_comment_band_lookup', ['band', 'consultation_id'], unique=False)

    with op.batch_alter_table('comment', schema=None) as batch_op:
        # Comments received before moderation existed were already treated as public: keep them so.
        batch_op.add_column(sa.Column('moderation', sa.String(length=20), nullable=False, server_default='published'))
        batch_op.add_column(sa.Column('hidden_reason', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('moderation_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('moderated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comment_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comment_moderation'), ['moderation'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comment_campaign_id_comment_campaign'), 'comment_campaign', ['campaign_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_comment_moderated_by_id_user'), 'user', ['moderated_by_id'], ['id'])
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.alter_column('moderation', server_default=None)

    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_person', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('postal_address', sa.String(length=300), nullable=True))

    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signed_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('registration_number', sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column('topic', sa.String(length=60), nullable=True))
        batch_op.create_index(batch_op.f('ix_document_topic'), ['topic'], unique=False)



def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_topic'))
        batch_op.drop_column('topic')
        batch_op.drop_column('registration_number')
        batch_op.drop_column('signed_date')

    with op.batch_alter_table('consultation', schema=None) as batch_op:
        batch_op.drop_column('postal_address')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_person')

    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comment_moderated_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_comment_campaign_id_comment_campaign'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_comment_moderation'))
        batch_op.drop_index(batch_op.f('ix_comment_campaign_id'))
        batch_op.drop_column('campaign_id')
        batch_op.drop_column('moderated_at')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('moderation_note')
        batch_op.drop_column('hidden_reason')
        batch_op.drop_column('moderation')

    with op.batch_alter_table('comment_band', schema=None) as batch_op:
        batch_op.drop_index('ix_comment_band_lookup')

    op.drop_table('comment_band')
    with op.batch_alter_table('comment_campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_campaign_consultation_id'))

    op.drop_table('comment_campaign')
    with op.batch_alter_table('search_term', schema=None) as batch_op:
        batch_op.drop_index('ix_search_term_entry')

    op.drop_table('search_term')
    with op.batch_alter_table('search_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_entry_document_id'))

    op.drop_table('search_entry')
    with op.batch_alter_table('library_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_library_event_document_id'))

    op.drop_table('library_event')
