"""Document projects, their versions and the articles parsed from them."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Department, User
from .types import UTCDateTime, utcnow


class VersionKind(str, enum.Enum):
    CONSULTATION_DRAFT = "consultation_draft"  # 征求意见稿
    REVIEW_DRAFT = "review_draft"              # 送审稿
    FINAL_TEXT = "final_text"                  # 正式文本


class MeetingDecision(str, enum.Enum):
    ADOPTED = "adopted"                        # 审议通过
    ADOPTED_WITH_CHANGES = "adopted_with_changes"  # 修改后通过
    NOT_ADOPTED = "not_adopted"                # 未通过


class Document(db.Model):
    """A normative-document project (行政规范性文件) as it moves through its procedure."""

    __table_args__ = (UniqueConstraint("number_prefix", "number_year", "number_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    procedure: Mapped[str] = mapped_column(String(60))
    stage: Mapped[str] = mapped_column(String(60))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    affects_public_rights: Mapped[bool] = mapped_column(default=True)
    concerns_market_entities: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the document entered its current stage: the start of the stage's deadlines.
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 不予预公开: the legal reason given by the drafting department, kept when the openness office approves.
    predisclosure_skip_reason: Mapped[str | None] = mapped_column(Text)

    # 常务会议审议
    decision: Mapped[str | None] = mapped_column(String(30))
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_note: Mapped[str | None] = mapped_column(Text)
    # 意见采纳情况反馈: public from the stage the procedure file names ([feedback] public_from), or when the
    # document ends not adopted or withdrawn, whichever comes first (services/feedback_stage.py)
    feedback_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # 撤回: the drafting department withdrew the document, on this day, for this reason
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    # 发文字号: prefix〔year〕seq号
    number_prefix: Mapped[str | None] = mapped_column(String(20))
    number_year: Mapped[int | None]
    number_seq: Mapped[int | None]

    # 公布
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_date: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    policy_interpretation: Mapped[str | None] = mapped_column(Text)
    # 公布期限: working days from the meeting's decision to publication, and the procedure's limit at the time;
    # above the limit the publication was late (逾期公布), which the document, the library and the figures show.
    publication_working_days: Mapped[int | None]
    publication_limit_days: Mapped[int | None]
    # 规范性文件库: the record the library keeps beside the number
    signed_date: Mapped[date | None] = mapped_column(Date)  # 成文日期
    registration_number: Mapped[str | None] = mapped_column(String(60))  # 备案登记号
    topic: Mapped[str | None] = mapped_column(String(60), index=True)  # 主题分类

    department: Mapped[Department] = relationship()
    created_by: Mapped[User] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.seq", cascade="all, delete-orphan"
    )

    @property
    def document_number(self) -> str | None:
        if self.number_seq is None:
            return None
        return f"{self.number_prefix}〔{self.number_year}〕{self.number_seq}号"

    @property
    def published_late_by(self) -> int:
        """Working days beyond the publication limit (0: on time or not recorded)."""
        if self.publication_working_days is None or self.publication_limit_days is None:
            return 0
        return max(0, self.publication_working_days - self.publication_limit_days)

    @property
    def current_version(self) -> DocumentVersion | None:
        return self.versions[-1] if self.versions else None

    def latest_version(self, kind: VersionKind) -> DocumentVersion | None:
        matching = [v for v in self.versions if v.kind == kind.value]
        return matching[-1] if matching else None


class LibraryChange(str, enum.Enum):
    """A later change to a published document's standing in the library (库管理)."""

    AMENDED = "amended"    # 已修改
    REPEALED = "repealed"  # 已废止


class LibraryEvent(db.Model):
    """One recorded change of a document's library status, with the date it takes effect."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    change: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    # The document that amends or repeals it, when it is in the library (or its number as text).
    by_document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    by_reference: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(foreign_keys=[document_id])
    by_document: Mapped[Document | None] = relationship(foreign_keys=[by_document_id])
    recorded_by: Mapped[User] = relationship()


class AssessmentKind(str, enum.Enum):
    EXPERT_ARGUMENT = "expert_argument"  # 专家论证
    RISK_ASSESSMENT = "risk_assessment"  # 风险评估 (社会稳定风险评估)
    PRIOR_ASSESSMENT = "prior_assessment"  # 事前评估 by invited experts and enterprise representatives


class Assessment(db.Model):
    """The record of an expert argument, a risk assessment or a prior assessment of a draft."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"))
    kind: Mapped[str] = mapped_column(String(30))
    held_on: Mapped[date] = mapped_column(Date)
    participants: Mapped[str] = mapped_column(Text)
    conclusion: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship()
    version: Mapped[DocumentVersion] = relationship()
    recorded_by: Mapped[User] = relationship()


class DocumentVersion(db.Model):
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")
    source_filename: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
    articles: Mapped[list[Article]] = relationship(
        back_populates="version", order_by="Article.seq", cascade="all, delete-orphan"
    )


class Article(db.Model):
    """One article (条) of a version, with the chapter (章) it sits in."""

    __table_args__ = (UniqueConstraint("version_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id", ondelete="CASCADE"))
    seq: Mapped[int]
    label: Mapped[str] = mapped_column(String(30))
    chapter: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)

    version: Mapped[DocumentVersion] = relationship(back_populates="articles")

    @property
    def anchor(self) -> str:
        return f"article-{self.seq}"
