"""scale: comments kept on the row for keyset lists, counters, campaign sizes, chain batches, idempotency

Revision ID: b8c0d6e4f3a5
Revises: a7b9c5d3e2f4
Create Date: 2026-11-29 15:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = 'b8c0d6e4f3a5'
down_revision = 'a7b9c5d3e2f4'
branch_labels = None
depends_on = None

PARTIAL = {
    "ix_comment_unanswered": (["document_id", "id"], "decision IS NULL"),
    "ix_comment_listed": (["consultation_id", "article_id", "id"], "listed"),
    "ix_comment_own_row": (["document_id", "article_id", "id"], "own_row"),
    "ix_comment_unchained": (["id"], "chained_in_id IS NULL"),
    "ix_comment_campaign_own_row": (["campaign_id"], "own_row AND campaign_id IS NOT NULL"),
}
PLAIN = {
    "ix_comment_document": ["document_id", "id"],
    "ix_comment_document_article": ["document_id", "article_id", "id"],
    "ix_comment_document_moderation": ["document_id", "moderation", "id"],
    "ix_comment_campaign_state": ["campaign_id", "moderation", "id"],
}


def upgrade():
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('listed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('own_row', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('is_copy', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('chained_in_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comment_document_id_document'), 'document', ['document_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_comment_chained_in_id_audit_event'), 'audit_event',
                                    ['chained_in_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_comment_idempotency_key'), ['idempotency_key'])
        batch_op.drop_index('ix_comment_moderation')
        batch_op.drop_index('ix_comment_campaign_id')
        batch_op.drop_index('ix_comment_consultation_id')
    op.execute("UPDATE comment SET document_id = (SELECT document_id FROM consultation "
               "WHERE consultation.id = comment.consultation_id)")
    op.execute("UPDATE comment SET decision = (SELECT decision FROM comment_answer "
               "WHERE comment_answer.comment_id = comment.id)")
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.alter_column('document_id', existing_type=sa.Integer(), nullable=False)
    # SQLite rebuilt the table above, without its expression index: put it back (a no-op on PostgreSQL).
    op.execute("CREATE INDEX IF NOT EXISTS ix_comment_email_lower ON comment (lower(email))")
    for name, columns in PLAIN.items():
        op.create_index(name, 'comment', columns, unique=False)
    for name, (columns, where) in PARTIAL.items():
        op.create_index(name, 'comment', columns, unique=False, postgresql_where=sa.text(where),
                        sqlite_where=sa.text(where))

    with op.batch_alter_table('comment_campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('size', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('answered', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('shown_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_comment_campaign_shown_id_comment'), 'comment', ['shown_id'], ['id'])
    op.create_index('ix_comment_campaign_size', 'comment_campaign', ['consultation_id', sa.text('size DESC'), 'id'])

    op.create_table('comment_tally',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('article_key', sa.Integer(), nullable=False),
    sa.Column('moderation', sa.String(length=20), nullable=False),
    sa.Column('hidden_reason', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('slot', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_comment_tally_consultation_id_consultation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('consultation_id', 'article_key', 'moderation', 'hidden_reason', 'decision', 'slot', name=op.f('pk_comment_tally'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_document_id')
        batch_op.create_index('ix_audit_event_document_latest', ['document_id', 'id'], unique=False)
    # The flags, group counters and tallies of the comments already there: the same code as `flask comments recount`.
    from consultation.recount import recount_all

    recount_all(op.get_bind())


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_document_latest')
        batch_op.create_index('ix_audit_event_document_id', ['document_id'], unique=False)
    op.drop_table('comment_tally')
    op.drop_index('ix_comment_campaign_size', table_name='comment_campaign')
    with op.batch_alter_table('comment_campaign', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_comment_campaign_shown_id_comment'), type_='foreignkey')
        batch_op.drop_column('shown_id')
        batch_op.drop_column('answered')
        batch_op.drop_column('size')
    for name in [*PARTIAL, *PLAIN]:
        op.drop_index(name, table_name='comment')
    with op.batch_alter_table('comment', schema=None) as batch_op:
        batch_op.create_index('ix_comment_consultation_id', ['consultation_id'], unique=False)
        batch_op.create_index('ix_comment_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_index('ix_comment_moderation', ['moderation'], unique=False)
        batch_op.drop_constraint(batch_op.f('uq_comment_idempotency_key'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_comment_chained_in_id_audit_event'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_comment_document_id_document'), type_='foreignkey')
        batch_op.drop_column('idempotency_key')
        batch_op.drop_column('chained_in_id')
        batch_op.drop_column('is_copy')
        batch_op.drop_column('own_row')
        batch_op.drop_column('listed')
        batch_op.drop_column('decision')
        batch_op.drop_column('document_id')
    op.execute("CREATE INDEX IF NOT EXISTS ix_comment_email_lower ON comment (lower(email))")
