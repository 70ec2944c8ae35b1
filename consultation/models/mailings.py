"""A mailing: one event told to many people, sent out by the worker's clock in batches."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .jobs import Subscription
from .types import UTCDateTime, utcnow


class Mailing(db.Model):
    """The commenters of a published document (意见采纳情况已公布), or the subscribers of a consultation that has
    opened. The recipients are read in keyset batches: ``after_id`` (and ``after_time`` where the order is by a
    time) is the last one done, so a mailing to a million people costs the publish request nothing and each
    batch of the clock one page of rows."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    event: Mapped[str] = mapped_column(String(60))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    after_id: Mapped[int] = mapped_column(default=0)
    after_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


# The subscribers of a consultation are read in the order they confirmed, so that one who confirms while it is
# open still hears of it.
Index("ix_subscription_confirmed", Subscription.confirmed_at, Subscription.id)
