"""Joint review (联合审查): rounds tied to one version, and the organs' signatures."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .documents import Document, DocumentVersion
from .types import UTCDateTime, utcnow


class ReviewOrgan(str, enum.Enum):
    GOVERNMENT_OFFICE = "gov_office"  # 市政府办公室
    JUSTICE = "justice"               # 市司法局 (合法性审核)
    OPENNESS = "openness_office"      # 政务公开办, when a procedure file names it among the signers


class SignoffOutcome(str, enum.Enum):
    APPROVE = "approve"   # 同意 / 合法
    RETURN = "return"     # 退回修改 / 应当予以修改
    REJECT = "reject"     # 不合法: back to drafting (justice bureau only)


class RoundStatus(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"


class ReviewRound(db.Model):
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"))
    seq: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.PENDING.value)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    document: Mapped[Document] = relationship()
    version: Mapped[DocumentVersion] = relationship()
    submitted_by: Mapped[User] = relationship()
    signoffs: Mapped[list[Signoff]] = relationship(
        back_populates="round", order_by="Signoff.id", cascade="all, delete-orphan"
    )

    def signoff_of(self, organ: ReviewOrgan | str) -> Signoff | None:
        """The signature of an organ, or of a co-unit given as ``unit:<department_id>`` (workflow/signers.py)."""
        key = organ.value if isinstance(organ, ReviewOrgan) else organ
        return next((s for s in self.signoffs if s.organ == key), None)


class Signoff(db.Model):
    """One organ's signature on a review round, with its written opinion (审核意见)."""

    __table_args__ = (UniqueConstraint("round_id", "organ"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("review_round.id", ondelete="CASCADE"))
    organ: Mapped[str] = mapped_column(String(20))
    # The version signed: must equal the round's version; kept to prove it.
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"))
    outcome: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    round: Mapped[ReviewRound] = relationship(back_populates="signoffs")
    signed_by: Mapped[User] = relationship()
    response: Mapped[OpinionResponse | None] = relationship(
        back_populates="signoff", uselist=False, cascade="all, delete-orphan"
    )

    @property
    def needs_response(self) -> bool:
        return self.outcome in (SignoffOutcome.RETURN.value, SignoffOutcome.REJECT.value)


class OpinionResponse(db.Model):
    """The drafting department's answer to a review opinion that returned or rejected the draft."""

    id: Mapped[int] = mapped_column(primary_key=True)
    signoff_id: Mapped[int] = mapped_column(ForeignKey("signoff.id", ondelete="CASCADE"), unique=True)
    response: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signoff: Mapped[Signoff] = relationship(back_populates="response")
    answered_by: Mapped[User] = relationship()
