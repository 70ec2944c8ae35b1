"""Joint review (联合审查): rounds on one version, signed by the government office and the justice bureau."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit
from ..errors import FieldRefused, InvalidInput, NotAllowed
from ..extensions import db
from ..models import (
    Document, JobKind, OpinionResponse, ReviewOrgan, ReviewRound, Role, RoundStatus, Signoff, SignoffOutcome, User, utcnow,
)
from ..workflow import engine
from ..workflow.conditions import latest_round
from . import jobs

ORGAN_ROLE = {
    ReviewOrgan.GOVERNMENT_OFFICE: Role.GOV_OFFICE_REVIEWER,
    ReviewOrgan.JUSTICE: Role.JUSTICE_REVIEWER,
}


def organs_of(user: User) -> list[ReviewOrgan]:
    return [organ for organ, role in ORGAN_ROLE.items() if user.has_role(role)]


def organs_to_sign(document: Document, user: User) -> list[ReviewOrgan]:
    """The user's organs that have still to sign the open review round (an organ signs a round once)."""
    organs = organs_of(user)
    rnd = latest_round(document) if organs else None  # no query for those who sign for no organ
    if rnd is None or rnd.status != RoundStatus.PENDING.value:
        return []
    return [organ for organ in organs if rnd.signoff_of(organ) is None]


def submit_for_review(document: Document, user: User) -> None:
    engine.perform(document, "submit_for_review", user)


def send_to_joint_review(document: Document, user: User) -> ReviewRound:
    """The department head sends the current review draft: a new round on that version."""
    engine.perform(document, "head_approve_submission", user)
    seq = (db.session.scalar(
        select(func.max(ReviewRound.seq)).where(ReviewRound.document_id == document.id)
    ) or 0) + 1
    rnd = ReviewRound(
        document_id=document.id, version_id=document.current_version.id, seq=seq, submitted_by_id=user.id,
    )
    db.session.add(rnd)
    db.session.flush()
    audit.record("open_review_round", actor=user, document=document,
                 payload={"round": seq, "version": document.current_version.seq})
    jobs.request(JobKind.REVIEW_PACKET_PDF, document)  # the reviewers' packet for this round
    return rnd


def _pending_round(document: Document, user: User, organ: ReviewOrgan) -> ReviewRound:
    engine.require_action(user, document, "sign_off")
    if not user.has_role(ORGAN_ROLE[organ]):
        raise NotAllowed(_("You do not sign for this organ."))
    rnd = latest_round(document)
    if rnd is None or rnd.status != RoundStatus.PENDING.value:
        raise InvalidInput(_("There is no open review round."))
    if rnd.version_id != document.current_version.id:
        raise InvalidInput(_("The review round is not on the current version."))
    if rnd.signoff_of(organ):
        raise InvalidInput(_("This organ has already signed this review round."))
    return rnd


def _sign(rnd: ReviewRound, organ: ReviewOrgan, outcome: SignoffOutcome, opinion: str, user: User) -> Signoff:
    signoff = Signoff(
        organ=organ.value, version_id=rnd.version_id, outcome=outcome.value,
        opinion=opinion.strip(), signed_by_id=user.id, signed_at=utcnow(),
    )
    rnd.signoffs.append(signoff)
    db.session.flush()
    return signoff


def approve(document: Document, user: User, organ: ReviewOrgan, opinion: str = "") -> Signoff:
    """Sign the round as approved; when both organs have, the engine moves on by itself."""
    rnd = _pending_round(document, user, organ)
    signoff = _sign(rnd, organ, SignoffOutcome.APPROVE, opinion, user)
    audit.record("sign_off", actor=user, document=document, note=opinion,
                 payload={"round": rnd.seq, "organ": organ.value, "outcome": "approve", "version_id": rnd.version_id})
    engine.settle(document)
    if document.stage != "joint_review":
        rnd.status, rnd.closed_at = RoundStatus.APPROVED.value, utcnow()
    return signoff


def return_for_revision(document: Document, user: User, organ: ReviewOrgan, opinion: str) -> Signoff:
    """Return the draft with a written opinion; the next submission is a new round on a new version."""
    if not opinion.strip():
        raise FieldRefused("opinion", _("A return needs a written opinion."))
    rnd = _pending_round(document, user, organ)
    signoff = _sign(rnd, organ, SignoffOutcome.RETURN, opinion, user)
    rnd.status, rnd.closed_at = RoundStatus.RETURNED.value, utcnow()
    engine.perform(document, "return_for_revision", user, note=opinion)
    audit.record("sign_off", actor=user, document=document, note=opinion,
                 payload={"round": rnd.seq, "organ": organ.value, "outcome": "return", "version_id": rnd.version_id})
    return signoff


def reject_as_unlawful(document: Document, user: User, reason: str) -> Signoff:
    """不合法: the justice bureau finds the draft unlawful; it goes back to drafting with the reason."""
    engine.require_transition(document, "reject_as_unlawful", user)
    if not reason.strip():
        raise FieldRefused("opinion", _("Give the reason why the draft is unlawful."))
    rnd = _pending_round(document, user, ReviewOrgan.JUSTICE)
    signoff = _sign(rnd, ReviewOrgan.JUSTICE, SignoffOutcome.REJECT, reason, user)
    rnd.status, rnd.closed_at = RoundStatus.REJECTED.value, utcnow()
    engine.perform(document, "reject_as_unlawful", user, note=reason)
    audit.record("sign_off", actor=user, document=document, note=reason,
                 payload={"round": rnd.seq, "organ": "justice", "outcome": "reject", "version_id": rnd.version_id})
    return signoff


def open_opinions(document: Document) -> list[Signoff]:
    """The returning or rejecting opinions the drafting department has not answered yet."""
    return [s for rnd in rounds_of(document) for s in rnd.signoffs if s.needs_response and s.response is None]


def answer_opinion(document: Document, user: User, signoff_id: int, response: str) -> OpinionResponse:
    """Answer one review opinion; every returning opinion needs an answer before the draft goes back."""
    engine.require_action(user, document, "answer_opinion")
    signoff = db.session.get(Signoff, signoff_id)
    if signoff is None or signoff.round.document_id != document.id or not signoff.needs_response:
        raise InvalidInput(_("No such review opinion to answer on this document."))
    if not response.strip():
        raise InvalidInput(_("Write how the opinion was handled."))
    answer = signoff.response or OpinionResponse(signoff=signoff)
    answer.response, answer.answered_by_id, answer.answered_at = response.strip(), user.id, utcnow()
    db.session.add(answer)
    db.session.flush()
    audit.record("answer_opinion", actor=user, document=document, note=response.strip(),
                 payload={"signoff_id": signoff.id, "round": signoff.round.seq, "organ": signoff.organ})
    return answer


def rounds_of(document: Document) -> list[ReviewRound]:
    return list(db.session.scalars(
        select(ReviewRound).where(ReviewRound.document_id == document.id).order_by(ReviewRound.seq)
    ))
