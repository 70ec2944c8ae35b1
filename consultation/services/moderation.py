"""Moderation (审核) of public comments by the openness office.

A comment's text is shown publicly only once published. A hidden comment keeps its place: it is counted,
it is answered, and the feedback says how many were hidden and why, without the text.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..errors import InvalidInput
from ..extensions import db
from ..models import Comment, Consultation, Document, HiddenReason, JobKind, Moderation, User, utcnow
from ..models.types import MAX_ROW_ID
from ..workflow import engine
from . import jobs
from .publication import is_published

MAX_NOTE = 500


def moderate(
    document: Document, user: User, comment_ids: list[int], *, publish: bool, reason: str | None = None,
    note: str = "", now: datetime | None = None,
) -> int:
    """Publish or hide the given comments of the document; return how many changed.

    Hiding needs one of the recorded reasons. Each change is its own audit event.
    """
    now = now or utcnow()
    engine.require_action(user, document, "moderate_comment")
    if not comment_ids:
        raise InvalidInput(_("Select at least one comment."))
    if publish:
        state, reason = Moderation.PUBLISHED.value, None
    else:
        state = Moderation.HIDDEN.value
        try:
            reason = HiddenReason(reason).value
        except ValueError:
            raise InvalidInput(_("Choose the reason for hiding: spam, abuse, someone else's personal data, "
                                 "or off-topic.")) from None
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(_("The note is too long: at most %(n)d characters.", n=MAX_NOTE))
    # An id beyond the database's integer belongs to nothing (and PostgreSQL refuses to compare with it).
    ids = {i for i in comment_ids if 1 <= i <= MAX_ROW_ID}
    comments = db.session.scalars(
        select(Comment).join(Consultation).where(Consultation.document_id == document.id, Comment.id.in_(ids))
    ).all() if ids else []
    if len(comments) != len(set(comment_ids)):
        raise InvalidInput(_("Some of the selected comments do not belong to this document."))
    changed = 0
    for comment in comments:
        if comment.moderation == state and comment.hidden_reason == reason:
            continue
        previous = comment.moderation
        comment.moderation, comment.hidden_reason = state, reason
        comment.moderation_note = note or None
        comment.moderated_by_id, comment.moderated_at = user.id, now
        audit.record("moderate_comment", actor=user, document=document, note=note,
                     payload={"comment_id": comment.id, "from": previous, "to": state, "reason": reason})
        changed += 1
    db.session.flush()
    if changed and is_published(document, now):  # the public feedback and its PDF follow at once
        jobs.request(JobKind.FEEDBACK_PDF, document)
    return changed


def pending_count(document: Document) -> int:
    return db.session.scalar(
        select(func.count(Comment.id)).join(Consultation).where(
            Consultation.document_id == document.id, Comment.moderation == Moderation.PENDING.value)
    ) or 0


def hidden_reasons(comments: list[Comment]) -> Counter[str]:
    """How many comments were hidden, by reason."""
    return Counter(c.hidden_reason for c in comments if c.moderation == Moderation.HIDDEN.value)


def published_comments(consultation: Consultation) -> dict[int | None, list[tuple[str, int]]]:
    """The texts the public may read during the consultation, by article (None: the whole draft).

    A campaign group appears once, with the number of comments in it.
    """
    rows = db.session.execute(
        select(Comment.article_id, Comment.body, Comment.campaign_id)
        .where(Comment.consultation_id == consultation.id, Comment.moderation == Moderation.PUBLISHED.value)
        .order_by(Comment.id)
    ).all()
    # A group counts all its members, those still waiting or hidden included: one query, not one per group.
    sizes = dict(db.session.execute(
        select(Comment.campaign_id, func.count(Comment.id))
        .where(Comment.consultation_id == consultation.id, Comment.campaign_id.is_not(None))
        .group_by(Comment.campaign_id)
    ).all())
    shown: dict[int | None, list[tuple[str, int]]] = {}
    seen_campaigns: set[int] = set()
    for article_id, body, campaign_id in rows:
        if campaign_id is not None:
            if campaign_id in seen_campaigns:
                continue
            seen_campaigns.add(campaign_id)
        shown.setdefault(article_id, []).append((body, sizes.get(campaign_id, 1)))
    return shown
