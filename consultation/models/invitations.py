"""Prior assessment (事前评估) by invited enterprise representatives, industry associations and experts.

An invitation is for one named person, with a personal link: only the digest of its token is stored. The
person's assessment (one per invitation, editable until the drafting department answers it) carries an
overall part and optional remarks on articles; each part gets one of the four answers a comment gets.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .documents import Article, Document, DocumentVersion
from .types import UTCDateTime, utcnow


class InviteeKind(str, enum.Enum):
    ENTERPRISE = "enterprise"    # 企业代表
    ASSOCIATION = "association"  # 行业协会
    EXPERT = "expert"            # 专家


class AssessmentInvitation(db.Model):
    """One person asked to assess one version of a draft."""

    __table_args__ = (Index("ix_assessment_invitation_document", "document_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"))
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(200))
    # The link's token is HMAC(SECRET_KEY, id:nonce): the database holds the nonce and the token's digest only.
    token_nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_count: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    document: Mapped[Document] = relationship()
    version: Mapped[DocumentVersion] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    assessment: Mapped[InvitedAssessment | None] = relationship(back_populates="invitation", uselist=False)


class InvitedAssessment(db.Model):
    """The assessment an invited person submitted, with the drafting department's answer to it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("assessment_invitation.id", ondelete="CASCADE"),
                                               unique=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    receipt_number: Mapped[str] = mapped_column(String(20), unique=True)
    necessity: Mapped[str] = mapped_column(Text, default="")         # 必要性
    feasibility: Mapped[str] = mapped_column(Text, default="")       # 可行性
    market_impact: Mapped[str] = mapped_column(Text, default="")     # 对市场主体的成本和影响
    fair_competition: Mapped[str] = mapped_column(Text, default="")  # 公平竞争
    interests: Mapped[str] = mapped_column(Text)                     # 利益关系声明
    consent_named: Mapped[bool] = mapped_column(default=False)       # an expert agrees to be named in the feedback
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)  # submitted again before any answer: the next revision
    decision: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[AssessmentInvitation] = relationship(back_populates="assessment")
    remarks: Mapped[list[AssessmentRemark]] = relationship(
        back_populates="assessment", order_by="AssessmentRemark.article_seq", cascade="all, delete-orphan")


class AssessmentRemark(db.Model):
    """A remark on one article of the version assessed, with its answer."""

    __table_args__ = (UniqueConstraint("assessment_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("invited_assessment.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id"))
    article_seq: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assessment: Mapped[InvitedAssessment] = relationship(back_populates="remarks")
    article: Mapped[Article] = relationship()


class AssessmentWaiver(db.Model):
    """The drafting department's written reason for having no prior assessment, and the head's decision."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted: Mapped[bool | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
