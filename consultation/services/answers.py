"""Handling comments (意见处理): the drafting department answers every one."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import AnswerDecision, Comment, CommentAnswer, CommentCampaign, Consultation, Document, User, utcnow
from ..workflow import engine


def comments_of(document: Document) -> list[Comment]:
    """The document's comments in order, with their answers and articles (two more queries, not one each)."""
    return list(db.session.scalars(
        select(Comment).join(Consultation).where(Consultation.document_id == document.id)
        .options(selectinload(Comment.answer), selectinload(Comment.article)).order_by(Comment.id)
    ))


def answer_comment(document: Document, user: User, comment_id: int, *, decision: str, reason: str) -> CommentAnswer:
    """Record or replace the answer to one comment; every decision needs a reason."""
    engine.require_action(user, document, "answer_comment")
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.consultation.document_id != document.id:
        raise NotFound(_("No such comment on this document."))
    try:
        decision = AnswerDecision(decision).value
    except ValueError:
        raise InvalidInput(_("Choose adopted, partly adopted, not adopted or answered without change.")) from None
    if not reason.strip():
        raise InvalidInput(_("Give the reason for the decision."))
    answer = comment.answer or CommentAnswer(comment=comment)
    previous = answer.decision
    answer.decision, answer.reason = decision, reason.strip()
    answer.answered_by_id, answer.answered_at = user.id, utcnow()
    db.session.add(answer)
    db.session.flush()
    audit.record(
        "answer_comment", actor=user, document=document,
        payload={"comment_id": comment.id, "decision": decision, "previous": previous},
    )
    return answer


def answer_campaign(document: Document, user: User, campaign_id: int, *, decision: str, reason: str) -> int:
    """Give every comment of a campaign group the same answer; return how many were answered."""
    campaign = db.session.get(CommentCampaign, campaign_id)
    if campaign is None or campaign.representative.consultation.document_id != document.id:
        raise NotFound(_("No such group of comments on this document."))
    for comment in campaign.members:
        answer_comment(document, user, comment.id, decision=decision, reason=reason)
    return len(campaign.members)


def campaigns_of(document: Document) -> list[CommentCampaign]:
    """The document's groups of identical or near-identical comments, largest first."""
    groups = db.session.scalars(
        select(CommentCampaign).join(Consultation).where(Consultation.document_id == document.id)
    ).all()
    return sorted(groups, key=lambda g: (-len(g.members), g.id))


@dataclass(frozen=True)
class AnswerCounts:
    total: int
    adopted: int
    partly_adopted: int
    not_adopted: int
    explained: int
    unanswered: int


def count_answers(comments: list[Comment]) -> AnswerCounts:
    decided = [c.answer.decision for c in comments if c.answer]
    return AnswerCounts(
        total=len(comments),
        adopted=decided.count(AnswerDecision.ADOPTED.value),
        partly_adopted=decided.count(AnswerDecision.PARTLY_ADOPTED.value),
        not_adopted=decided.count(AnswerDecision.NOT_ADOPTED.value),
        explained=decided.count(AnswerDecision.EXPLAINED.value),
        unanswered=len(comments) - len(decided),
    )
