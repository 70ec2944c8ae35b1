"""Counters the figures read (services/statistics.py), folded in by the clock."""
from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ChannelTally(db.Model):
    """How many comments a consultation received by each channel (web, letter, email, meeting).

    A comment's channel never changes, so the clock adds the comments received since its last fold
    (``ChannelTallyCursor``) in one grouped query over an id range; no page counts comment rows.
    """

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    n: Mapped[int] = mapped_column(default=0)


class ChannelTallyCursor(db.Model):
    """The last comment id folded into ``ChannelTally`` (one row)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    after_id: Mapped[int] = mapped_column(default=0)
