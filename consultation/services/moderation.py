"""Moderation (审核) of public comments by the openness office.

A comment's text is shown publicly only once published. A hidden comment keeps its place: it is counted,
it is answered, and the feedback says how many were hidden and why, without the text.
"""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import audit
from ..errors import InvalidInput
from ..extensions import db
from ..models import Comment, CommentCampaign, Document, HiddenReason, JobKind, Moderation, User, utcnow
from ..models.types import MAX_ROW_ID
from ..workflow import engine
from . import comment_lists, jobs, tallies
from .status import feedback_public

MAX_NOTE = 500
MAX_SELECTED = 500  # comments decided in one request (a page of the queue is far fewer)


def _decision(publish: bool, reason: str | None, note: str) -> tuple[str, str | None, str]:
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
    return state, reason, note


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
    state, reason, note = _decision(publish, reason, note)
    # An id beyond the database's integer belongs to nothing (and PostgreSQL refuses to compare with it).
    ids = {i for i in comment_ids if 1 <= i <= MAX_ROW_ID}
    if len(ids) > MAX_SELECTED:
        raise InvalidInput(_("Select at most %(n)d comments at a time.", n=MAX_SELECTED))
    comments = db.session.scalars(
        select(Comment).where(Comment.document_id == document.id, Comment.id.in_(ids))
    ).all() if ids else []
    if len(comments) != len(set(comment_ids)):
        raise InvalidInput(_("Some of the selected comments do not belong to this document."))
    changed, moves, campaigns = 0, [], set()
    for comment in comments:
        if comment.moderation == state and comment.hidden_reason == reason:
            continue
        previous, before = comment.moderation, tallies.cell(comment)
        comment.moderation, comment.hidden_reason = state, reason
        comment.moderation_note = note or None
        comment.moderated_by_id, comment.moderated_at = user.id, now
        comment.listed = comment.campaign_id is None and state == Moderation.PUBLISHED.value
        moves.append((before, tallies.cell(comment)))
        if comment.campaign_id is not None:
            campaigns.add(comment.campaign_id)
        audit.record("moderate_comment", actor=user, document=document, note=note,
                     payload={"comment_id": comment.id, "from": previous, "to": state, "reason": reason})
        changed += 1
    db.session.flush()
    _after_moderation(document, moves, campaigns, now)
    return changed


def moderate_copies(
    document: Document, user: User, campaign_id: int, *, current: str, publish: bool, reason: str | None = None,
    note: str = "", now: datetime | None = None,
) -> int:
    """Decide at once the group's first text and its exact copies that are in the state ``current``.

    Exact copies only: a near-identical variant is read and decided on its own row. One audit event
    records the decision with the number of comments it covered.
    """
    now = now or utcnow()
    engine.require_action(user, document, "moderate_comment")
    state, reason, note = _decision(publish, reason, note)
    campaign = db.session.get(CommentCampaign, campaign_id)
    if campaign is None or campaign.representative.document_id != document.id:
        raise InvalidInput(_("Some of the selected comments do not belong to this document."))
    chosen = comment_lists.copies_selection(campaign.id, current)
    if current == state and (state != Moderation.HIDDEN.value):
        return 0
    changed = tallies.move_where(*chosen, moderation=state, hidden_reason=reason)
    if not changed:
        return 0
    db.session.execute(update(Comment).where(*chosen).values(
        moderation=state, hidden_reason=reason, moderation_note=note or None, moderated_by_id=user.id,
        moderated_at=now, listed=False).execution_options(synchronize_session=False))
    audit.record("moderate_comment", actor=user, document=document, note=note,
                 payload={"campaign_id": campaign.id, "copies_of": campaign.representative_id, "count": changed,
                          "from": current, "to": state, "reason": reason})
    db.session.expire_all()
    _after_moderation(document, [], {campaign.id}, now)
    return changed


def _after_moderation(document: Document, moves, campaigns: set[int], now: datetime) -> None:
    tallies.moved(moves)
    for campaign_id in sorted(campaigns):
        refresh_shown(campaign_id)
    if moves or campaigns:
        db.session.flush()
        if feedback_public(document, now):  # the public feedback and its PDF follow at once
            jobs.request(JobKind.FEEDBACK_PDF, document)


def refresh_shown(campaign_id: int) -> None:
    """The group's first published member stands for it on the public page (and only it is listed)."""
    shown = db.session.scalar(select(func.min(Comment.id)).where(
        Comment.campaign_id == campaign_id, Comment.moderation == Moderation.PUBLISHED.value))
    db.session.execute(update(CommentCampaign).where(CommentCampaign.id == campaign_id).values(shown_id=shown))
    db.session.execute(update(Comment).where(Comment.campaign_id == campaign_id, Comment.listed,
                                             Comment.id != (shown or 0))
                       .values(listed=False).execution_options(synchronize_session=False))
    if shown is not None:
        db.session.execute(update(Comment).where(Comment.id == shown).values(listed=True)
                           .execution_options(synchronize_session=False))
    db.session.expire_all()


def pending_count(document: Document) -> int:
    return tallies.counts(document=document).moderation(Moderation.PENDING.value)
