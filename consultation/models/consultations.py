"""Public consultations, the comments they receive and the answers to them."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, Text, event, func, select, text
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


class Moderation(str, enum.Enum):
    """Whether the public may see a comment's text: the openness office decides (审核)."""

    PENDING = "pending"      # 待审核
    PUBLISHED = "published"  # 已公开
    HIDDEN = "hidden"        # 不予公开 (still counted, still answered)


class HiddenReason(str, enum.Enum):
    SPAM = "spam"                    # 广告或无意义内容
    ABUSE = "abuse"                  # 辱骂、攻击
    PERSONAL_DATA = "personal_data"  # 含他人个人信息
    OFF_TOPIC = "off_topic"          # 与征求意见内容无关


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
    # The notice's channels for comments off the web form (征求意见公告: 联系人, 电话, 电子邮箱, 通信地址).
    contact_person: Mapped[str | None] = mapped_column(String(60))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    postal_address: Mapped[str | None] = mapped_column(String(300))

    document: Mapped[Document] = relationship()
    version: Mapped[DocumentVersion] = relationship()
    approved_by: Mapped[User] = relationship()
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
    # The consultation's document, kept on the row: every staff list of a document is one index range.
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
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
    # Moderation by the openness office: the text is public only once published.
    moderation: Mapped[str] = mapped_column(String(20), default=Moderation.PENDING.value)
    hidden_reason: Mapped[str | None] = mapped_column(String(20))
    moderation_note: Mapped[str | None] = mapped_column(Text)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Identical and near-identical comments (a campaign) form a group, answered together.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("comment_campaign.id"))
    # The answer's decision, kept on the row (None: not yet answered): the answer queue is one index range.
    decision: Mapped[str | None] = mapped_column(String(20))
    # Kept by the services so that every public or staff list is a keyset range of one partial index:
    # listed: published, and the text that stands for its group on the public consultation page;
    # own_row: has a row of its own in the adoption feedback (not folded into its group's row);
    # is_copy: an exact copy of its group's first text (moderated with it, in one decision).
    listed: Mapped[bool] = mapped_column(default=False)
    own_row: Mapped[bool] = mapped_column(default=True)
    is_copy: Mapped[bool] = mapped_column(default=False)
    # The audit event that sealed this comment's content into the hash chain (None: not yet sealed).
    chained_in_id: Mapped[int | None] = mapped_column(ForeignKey("audit_event.id"))
    # SHA-256 of an API client's Idempotency-Key: the same key gives back the same receipt.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    consultation: Mapped[Consultation] = relationship()
    article: Mapped[Article | None] = relationship()
    # post_update breaks the cycle with the group's representative: the comment row exists first.
    campaign: Mapped[CommentCampaign | None] = relationship(foreign_keys=[campaign_id], post_update=True)
    answer: Mapped[CommentAnswer | None] = relationship(
        back_populates="comment", uselist=False, cascade="all, delete-orphan"
    )


@event.listens_for(Comment, "before_insert")
def _document_of(mapper, connection, comment: Comment) -> None:
    if comment.document_id is None:
        comment.document_id = connection.scalar(
            select(Consultation.document_id).where(Consultation.id == comment.consultation_id))


def _partial(name: str, *columns, where: str) -> Index:
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))


# The receipt-mail cap counts one address's comments of the last day (services/notifications.py).
Index("ix_comment_email_lower", func.lower(Comment.email))
# The staff lists of a document: all, by article, by moderation state, the unanswered ones.
Index("ix_comment_document", Comment.document_id, Comment.id)
Index("ix_comment_document_article", Comment.document_id, Comment.article_id, Comment.id)
Index("ix_comment_document_moderation", Comment.document_id, Comment.moderation, Comment.id)
_partial("ix_comment_unanswered", Comment.document_id, Comment.id, where="decision IS NULL")
# The public page's published texts per article, and the feedback's rows per article.
_partial("ix_comment_listed", Comment.consultation_id, Comment.article_id, Comment.id, where="listed")
_partial("ix_comment_own_row", Comment.document_id, Comment.article_id, Comment.id, where="own_row")
# A group's members by state (its first published text; its copies waiting for a decision).
Index("ix_comment_campaign_state", Comment.campaign_id, Comment.moderation, Comment.id)
_partial("ix_comment_campaign_own_row", Comment.campaign_id, where="own_row AND campaign_id IS NOT NULL")
# The comments not yet sealed into the audit chain (the clock seals them in batches).
_partial("ix_comment_unchained", Comment.id, where="chained_in_id IS NULL")


class CommentCampaign(db.Model):
    """A group of identical or near-identical comments on one article (or the whole draft)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("article.id"))
    # The first comment of the group: its text stands for the group on the public feedback.
    representative_id: Mapped[int] = mapped_column(ForeignKey("comment.id", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counters kept with every change (a group of 100,000 is never counted row by row on a page).
    size: Mapped[int] = mapped_column(default=0)
    answered: Mapped[int] = mapped_column(default=0)
    # The first published member: its text stands for the group on the public consultation page.
    shown_id: Mapped[int | None] = mapped_column(ForeignKey("comment.id", use_alter=True))

    representative: Mapped[Comment] = relationship(foreign_keys=[representative_id])
    article: Mapped[Article | None] = relationship()


Index("ix_comment_campaign_size", CommentCampaign.consultation_id, CommentCampaign.size.desc(), CommentCampaign.id)


class CommentTally(db.Model):
    """Counters of a consultation's comments by article, moderation state and decision.

    Every change of a comment's state adds +1 to its new cell and -1 to its old one, so the counts
    that pages show are sums over a few rows, never a count over a million comments. A new comment
    adds to one of several ``slot`` rows at random, so that writers on one article rarely wait for
    each other's row lock.
    """

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    article_key: Mapped[int] = mapped_column(primary_key=True)  # the article's id, 0 for the whole draft
    moderation: Mapped[str] = mapped_column(String(20), primary_key=True)
    hidden_reason: Mapped[str] = mapped_column(String(20), primary_key=True)  # "" unless hidden
    decision: Mapped[str] = mapped_column(String(20), primary_key=True)  # "" while unanswered
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class CommentBand(db.Model):
    """One locality-sensitive band of a comment's MinHash: comments sharing a band are candidates."""

    # The band first: a lookup is 32 probes of a highly selective key, whatever the statistics say.
    __table_args__ = (Index("ix_comment_band_lookup", "band", "consultation_id"),)

    comment_id: Mapped[int] = mapped_column(ForeignKey("comment.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[str] = mapped_column(String(40), primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))


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
