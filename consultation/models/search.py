"""The search index: one entry per public item, and the n-grams of its text (Chinese has no spaces)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class SearchEntry(db.Model):
    """A consultation or a library document as search sees it; never shown before ``visible_from``."""

    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "consultation" | "library"
    ref_id: Mapped[int]
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    visible_from: Mapped[datetime] = mapped_column(UTCDateTime)


class SearchTerm(db.Model):
    """An n-gram (or a Latin word or number) of an entry; with its weight (title counts more)."""

    __table_args__ = (Index("ix_search_term_entry", "entry_id"),)

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("search_entry.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[int] = mapped_column(default=1)
