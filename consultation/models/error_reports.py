"""Error reports (我要纠错): what a visitor found wrong on a page, for the openness office to answer."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class SiteErrorReport(db.Model):
    """A report sent from the link in every page's footer. ``contact`` (the reporter's telephone or email,
    optional) is for the openness office only; nothing of a report is ever shown publicly."""

    id: Mapped[int] = mapped_column(primary_key=True)
    page: Mapped[str] = mapped_column(String(500))  # the site-relative address of the page, /… (query included)
    body: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(Date)  # the answer is due by this day (Beijing time), in working days
    due_estimated: Mapped[bool] = mapped_column(default=False)  # counted by weekends only (no official schedule)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answer: Mapped[str] = mapped_column(Text, default="")


# The queue: the reports still open, oldest first (keyset by id), and those answered, newest first.
Index("ix_site_error_report_open", SiteErrorReport.answered_at, SiteErrorReport.id)
