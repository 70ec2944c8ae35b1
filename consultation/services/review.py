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
from ..workflow import engine, signers
from ..workflow.conditions import latest_round
from . import jobs

ORGAN_ROLE = {
    ReviewOrgan.GOVERNMENT_OFFICE: Role.GOV_OFFICE_REVIEWER,
    ReviewOrgan.JUSTICE: Role.JUSTICE_REVIEWER,
}


# Who signs for each signer of [review] signers; a co-unit (unit:<department_id>) by its department head.
SIGNER_ROLE = {organ.value: role for organ, role in ORGAN_ROLE.items()} | {
    ReviewOrgan.OPENNESS.value: Role.OPENNESS_OFFICER,
}
UNIT_SIGNER_ROLE = Role.DEPARTMENT_HEAD


def organs_of(user: User) -> list[ReviewOrgan]:
    return [organ for organ, role in ORGAN_ROLE.items() if user.has_role(role)]


def _key(organ: ReviewOrgan | str) -> str:
    return organ.value if isinstance(organ, ReviewOrgan) else str(organ)


def _signing_stage(document: Document) -> bool:
    spec = engine.procedure_of(document).actions.get("sign_off")
    return spec is not None and document.stage in spec.stages


def signers_for(document: Document, user: User) -> list[str]:
    """The document's signers (organs, co-units) the user signs for, whatever the stage."""
    if not user.has_role(UNIT_SIGNER_ROLE, *SIGNER_ROLE.values()):
        return []  # no query for those who sign for nobody
    found = []
    for key in signers.required(document):
        department_id = signers.unit_department_id(key)
        if department_id is None:
            if key in SIGNER_ROLE and user.has_role(SIGNER_ROLE[key]):
                found.append(key)
        elif department_id == user.department_id and user.has_role(UNIT_SIGNER_ROLE):
            found.append(key)
    return found


def may_sign(document: Document, user: User) -> bool:
    """Whether the user signs for one of the document's signers and the stage is the joint review."""
    return _signing_stage(document) and bool(signers_for(document, user))


def organs_to_sign(document: Document, user: User) -> list[str]:
    """The user's signers (organs, co-units) that have still to sign the open review round (each signs once)."""
    keys = signers_for(document, user) if _signing_stage(document) else []
    rnd = latest_round(document) if keys else None
    if rnd is None or rnd.status != RoundStatus.PENDING.value:
        return []
    return [key for key in keys if rnd.signoff_of(key) is None]


def awaited(document: Document, rnd: ReviewRound | None = None) -> list[str]:
    """The signers the open round still waits for (empty when no round is open)."""
    rnd = rnd or latest_round(document)
    if rnd is None or rnd.status != RoundStatus.PENDING.value:
        return []
    return [key for key in signers.required(document) if rnd.signoff_of(key) is None]


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


def _pending_round(document: Document, user: User, organ: ReviewOrgan | str) -> ReviewRound:
    mine = signers_for(document, user)
    if not _signing_stage(document) or not (mine or engine.may_act(user, document, "sign_off")):
        raise NotAllowed(_("You cannot do this at the current stage of the document."))
    if _key(organ) not in mine:
        raise NotAllowed(_("You do not sign for this organ."))
    rnd = latest_round(document)
    if rnd is None or rnd.status != RoundStatus.PENDING.value:
        raise InvalidInput(_("There is no open review round."))
    if rnd.version_id != document.current_version.id:
        raise InvalidInput(_("The review round is not on the current version."))
    if rnd.signoff_of(organ):
        raise InvalidInput(_("This organ has already signed this review round."))
    return rnd


def _sign(rnd: ReviewRound, organ: ReviewOrgan | str, outcome: SignoffOutcome, opinion: str, user: User) -> Signoff:
    signoff = Signoff(
        organ=_key(organ), version_id=rnd.version_id, outcome=outcome.value,
        opinion=opinion.strip(), signed_by_id=user.id, signed_at=utcnow(),
    )
    rnd.signoffs.append(signoff)
    db.session.flush()
    return signoff


def approve(document: Document, user: User, organ: ReviewOrgan | str, opinion: str = "") -> Signoff:
    """Sign the round as approved; when every signer has, the engine moves on by itself."""
    rnd = _pending_round(document, user, organ)
    signoff = _sign(rnd, organ, SignoffOutcome.APPROVE, opinion, user)
    audit.record("sign_off", actor=user, document=document, note=opinion,
                 payload={"round": rnd.seq, "organ": _key(organ), "outcome": "approve", "version_id": rnd.version_id})
    engine.settle(document)
    if document.stage != "joint_review":
        rnd.status, rnd.closed_at = RoundStatus.APPROVED.value, utcnow()
    return signoff


def return_for_revision(document: Document, user: User, organ: ReviewOrgan | str, opinion: str) -> Signoff:
    """Return the draft with a written opinion; the next submission is a new round on a new version."""
    if not opinion.strip():
        raise FieldRefused("opinion", _("A return needs a written opinion."))
    rnd = _pending_round(document, user, organ)
    signoff = _sign(rnd, organ, SignoffOutcome.RETURN, opinion, user)
    rnd.status, rnd.closed_at = RoundStatus.RETURNED.value, utcnow()
    # The right to sign was checked above (a co-unit's head holds no reviewer role): the step follows it.
    engine.perform_as_signer(document, "return_for_revision", user, note=opinion)
    audit.record("sign_off", actor=user, document=document, note=opinion,
                 payload={"round": rnd.seq, "organ": _key(organ), "outcome": "return", "version_id": rnd.version_id})
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
