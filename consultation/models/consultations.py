"""Public consultations, the comments they receive and the answers to them."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .documents import Article, Document, DocumentVersion
from .types import UTCDateTime, utcnow


class AnswerDecision(str, enum.Enum):
    ADOPTED = "adopted"                # 采纳
    PARTLY_ADOPTED = "partly_adopted"  # 部分采纳
    NOT_ADOPTED = "not_adopted"        # 未采纳
    EXPLAINED = "explained"            # 说明 (answered without change)


class CommentChannel(str, enum.Enum):
    WEB = "web"
    LETTER = "letter"
    EMAIL = "email"
    MEETING = "meeting"


class Consultation(db.Model):
    """The pre-disclosure of one draft version: notice, window and comments."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notice: Mapped[str] = mapped_column(Text, default="")
    # A period shorter than the legal minimum needs a written justification, shown with the notice.
    short_period_reason: Mapped[str | None] = mapped_column(Text)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship()
    version: Mapped[DocumentVersion] = relationship()
    approved_by: Mapped[User] = relationship()
    comments: Mapped[list[Comment]] = relationship(
        back_populates="consultation", order_by="Comment.id"
    )
    extensions: Mapped[list[ConsultationExtension]] = relationship(
        back_populates="consultation", order_by="ConsultationExtension.id", cascade="all, delete-orphan"
    )

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.opens_at <= now < self.closes_at

    def has_opened(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.opens_at

    def has_closed(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.closes_at


class ConsultationExtension(db.Model):
    """An announced extension of an open consultation (延长征求意见期限); never a shortening."""

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    previous_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    extended_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    extended_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="extensions")
    extended_by: Mapped[User] = relationship()


class Comment(db.Model):
    """A comment (意见建议) on the whole draft or on one article."""

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("article.id"))
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20), default=CommentChannel.WEB.value)
    # Personal data: never shown publicly.
    name: Mapped[str | None] = mapped_column(String(100))
    organisation: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    show_masked_name: Mapped[bool] = mapped_column(default=False)
    client_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    consultation: Mapped[Consultation] = relationship(back_populates="comments")
    article: Mapped[Article | None] = relationship()
    answer: Mapped[CommentAnswer | None] = relationship(
        back_populates="comment", uselist=False, cascade="all, delete-orphan"
    )


class CommentAnswer(db.Model):
    """The drafting department's answer to one comment."""

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), unique=True
    )
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    comment: Mapped[Comment] = relationship(back_populates="answer")
    answered_by: Mapped[User] = relationship()
