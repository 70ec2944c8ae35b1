"""Taking in the comments received: what the clock does moments after they arrive, in batches.

A public comment is stored and counted on its way in, and nothing more, so that no writer waits for
another. Then, every few seconds, one sweeper at a time (an advisory lock on PostgreSQL; SQLite has one
writer anyway) takes the comments not yet taken in, oldest first: it places each in its campaign group
(campaigns.place) and seals the batch into the audit chain (audit.seal), in one transaction.
"""
from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import selectinload

from .. import audit, campaigns
from ..extensions import db
from ..models import Comment, Moderation
from .moderation import refresh_shown

BATCH = 2000
_LOCK = 7346002  # pg_try_advisory_xact_lock key of this step (7346001 is the audit chain's)


def take_in(limit: int = BATCH) -> int:
    """Place and seal up to ``limit`` comments received since the last call; return how many. Commits."""
    if db.engine.dialect.name == "postgresql":
        if not db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK}):
            db.session.rollback()
            return 0  # another sweeper is at it
    else:  # SQLite: take the write lock before reading, so that a second sweeper reads after this one
        db.session.execute(text("UPDATE comment SET chained_in_id = NULL WHERE 0 = 1"))
    batch = db.session.scalars(
        select(Comment).where(Comment.chained_in_id.is_(None)).order_by(Comment.id).limit(limit)
        .options(selectinload(Comment.answer))).all()
    for comment in batch:
        campaign = campaigns.place(comment) if comment.campaign_id is None else None
        if campaign is not None and comment.moderation == Moderation.PUBLISHED.value:
            refresh_shown(campaign.id)  # published before it was placed: its group's first text stands for it
    audit.seal(batch)
    db.session.commit()
    return len(batch)


def take_in_all() -> int:
    total = 0
    while (n := take_in()):
        total += n
        if n < BATCH:
            break
    return total
