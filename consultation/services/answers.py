"""Handling comments (意见处理): the drafting department answers every one."""
from __future__ import annotations

from typing import Sequence

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import aliased

from .. import audit
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import (
    AnswerDecision, Comment, CommentAnswer, CommentCampaign, Document, User, utcnow,
)
from ..workflow import engine
from . import comparison, tallies


def _valid(decision: str, reason: str) -> tuple[str, str]:
    try:
        decision = AnswerDecision(decision).value
    except ValueError:
        raise InvalidInput(_("Choose adopted, partly adopted, not adopted or answered without change.")) from None
    if not reason.strip():
        raise InvalidInput(_("Give the reason for the decision."))
    return decision, reason.strip()


def comment_of(document: Document, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.document_id != document.id:
        raise NotFound(_("No such comment on this document."))
    return comment


def answer_comment(document: Document, user: User, comment_id: int, *, decision: str, reason: str,
                   articles: Sequence[int] | None = None) -> CommentAnswer:
    """Record or replace the answer to one comment; every decision needs a reason.

    ``articles``: the articles of the revised version that an adopted answer changed (修改说明); None keeps
    the ties as they are, unless the answer no longer adopts anything.
    """
    engine.require_action(user, document, "answer_comment")
    comment = comment_of(document, comment_id)
    decision, reason = _valid(decision, reason)
    answer = comment.answer or CommentAnswer(comment=comment)
    previous = answer.decision
    before = tallies.cell(comment)
    answer.decision, answer.reason = decision, reason
    answer.answered_by_id, answer.answered_at = user.id, utcnow()
    comment.decision = decision
    db.session.add(answer)
    db.session.flush()
    tallies.moved([(before, tallies.cell(comment))])
    if comment.campaign_id is not None:
        _after_member_answered(comment, newly=previous is None)
    payload = {"comment_id": comment.id, "decision": decision, "previous": previous}
    if articles is not None:
        payload["articles"] = comparison.tie_answer(document, answer, articles)
    elif previous in comparison.ADOPTING and decision not in comparison.ADOPTING:
        comparison.tie_answer(document, answer, ())
    audit.record("answer_comment", actor=user, document=document, payload=payload)
    _feedback_follows(document)
    return answer


def _feedback_follows(document: Document) -> None:
    """An answer changed while the feedback is public (a procedure may publish it during handling): the page reads
    live data, the PDF is made again."""
    from .feedback_stage import request_pdf
    from .status import feedback_public

    if feedback_public(document):
        request_pdf(document)


def _same_answer_as_first(campaign_id: int):
    """SQL: the member's answer is the group's first text's answer (or both have none)."""
    first = aliased(CommentAnswer)
    mine = aliased(CommentAnswer)
    representative = select(CommentCampaign.representative_id).where(CommentCampaign.id == campaign_id).scalar_subquery()
    first_answer = select(first.id).where(first.comment_id == representative)
    same = exists().where(mine.comment_id == Comment.id, first.comment_id == representative,
                          mine.decision == first.decision, mine.reason == first.reason)
    neither = and_(~exists().where(CommentAnswer.comment_id == Comment.id), ~exists(first_answer))
    return same | neither


def _after_member_answered(comment: Comment, *, newly: bool) -> None:
    """Keep the group's counters and which members have a feedback row of their own."""
    campaign_id = comment.campaign_id
    if newly:
        db.session.execute(update(CommentCampaign).where(CommentCampaign.id == campaign_id)
                           .values(answered=CommentCampaign.answered + 1))
    representative_id = db.session.scalar(
        select(CommentCampaign.representative_id).where(CommentCampaign.id == campaign_id))
    members = update(Comment).where(Comment.campaign_id == campaign_id, Comment.id != representative_id)
    if comment.id != representative_id:
        members = members.where(Comment.id == comment.id)
    # The first text's answer changed: every member is compared again (one statement, rare).
    db.session.execute(members.values(own_row=~_same_answer_as_first(campaign_id))
                       .execution_options(synchronize_session=False))
    db.session.expire(comment, ["own_row"])


def answer_campaign(document: Document, user: User, campaign_id: int, *, decision: str, reason: str,
                    articles: Sequence[int] | None = None) -> int:
    """Give every comment of a campaign group the same answer; return how many were answered.

    A few statements whatever the size of the group, and one audit event for the group's answer. ``articles``:
    the articles of the revised version an adopted answer changed (修改说明), tied to the answer of the group's
    first text, which stands for the group in the feedback and the comparison table.
    """
    engine.require_action(user, document, "answer_comment")
    campaign = db.session.get(CommentCampaign, campaign_id)
    if campaign is None or campaign.representative.document_id != document.id:
        raise NotFound(_("No such group of comments on this document."))
    decision, reason = _valid(decision, reason)
    now, representative_id = utcnow(), campaign.representative_id
    in_group = Comment.campaign_id == campaign.id
    tallies.move_where(in_group, decision=decision)  # each member to the same cell with the new decision
    db.session.execute(update(CommentAnswer).where(CommentAnswer.comment_id.in_(select(Comment.id).where(in_group)))
                       .values(decision=decision, reason=reason, answered_by_id=user.id, answered_at=now)
                       .execution_options(synchronize_session=False))
    db.session.execute(insert(CommentAnswer).from_select(
        ["comment_id", "decision", "reason", "answered_by_id", "answered_at"],
        select(Comment.id, literal(decision), literal(reason), literal(user.id), literal(now, CommentAnswer.answered_at.type))
        .where(in_group, ~exists().where(CommentAnswer.comment_id == Comment.id))))
    db.session.execute(update(Comment).where(in_group)
                       .values(decision=decision, own_row=Comment.id == campaign.representative_id)
                       .execution_options(synchronize_session=False))
    size = db.session.scalar(select(func.count()).select_from(Comment).where(in_group)) or 0
    db.session.execute(update(CommentCampaign).where(CommentCampaign.id == campaign.id).values(answered=size))
    db.session.expire_all()
    payload = {"campaign_id": campaign_id, "count": size, "decision": decision}
    first = db.session.scalars(select(CommentAnswer).where(CommentAnswer.comment_id == representative_id)).one()
    if articles is not None:
        payload["articles"] = comparison.tie_answer(document, first, articles)
    elif decision not in comparison.ADOPTING:
        comparison.tie_answer(document, first, ())
    audit.record("answer_campaign", actor=user, document=document, payload=payload)
    _feedback_follows(document)
    return size
