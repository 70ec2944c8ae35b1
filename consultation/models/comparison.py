"""The comparison table's own data: which articles of a revised version an adopted answer changed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class AnswerArticle(db.Model):
    """An answer of 采纳 or 部分采纳 tied to one article of the revised version it changed (修改说明)."""

    __table_args__ = (Index("ix_answer_article_article", "article_id", "answer_id"),)

    answer_id: Mapped[int] = mapped_column(ForeignKey("comment_answer.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    # The article's version, kept on the row: a comparison reads one version's ties in one index range.
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id", ondelete="CASCADE"))
    tied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_answer_article_version", AnswerArticle.version_id, AnswerArticle.article_id)
