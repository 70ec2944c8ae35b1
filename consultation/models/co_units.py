"""Co-responsible units (会签单位): departments the drafter names to take part in the joint review.

A unit's staff see the document from its submission for review on; its department head signs the unit's
opinion in each review round (a Signoff whose organ is ``unit:<department_id>``, see workflow/signers.py).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import Department, User
from .types import UTCDateTime, utcnow


class DocumentCoUnit(db.Model):
    __table_args__ = (UniqueConstraint("document_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    # Indexed: the visibility condition asks "is the user's department a co-unit of this document?".
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    named_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    named_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department] = relationship()
    named_by: Mapped[User] = relationship()
