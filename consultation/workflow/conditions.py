"""The checks that procedure files may name in ``conditions``.

Each returns ``None`` when it holds, or the reason (for the user) why it does not.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Comment, Consultation, Document, Moderation, OpinionResponse, ReviewOrgan, ReviewRound, RoundStatus,
    Signoff, SignoffOutcome, VersionKind,
)

Check = Callable[[Document, datetime], str | None]
CONDITIONS: dict[str, Check] = {}


def condition(fn: Check) -> Check:
    CONDITIONS[fn.__name__] = fn
    return fn


def latest_consultation(document: Document) -> Consultation | None:
    return db.session.scalars(
        select(Consultation).where(Consultation.document_id == document.id).order_by(Consultation.id.desc())
    ).first()


def latest_round(document: Document) -> ReviewRound | None:
    return db.session.scalars(
        select(ReviewRound).where(ReviewRound.document_id == document.id).order_by(ReviewRound.seq.desc())
    ).first()


def unanswered_count(document: Document) -> int:
    """Counted on the rows (the partial index of unanswered comments), not on the counters: a rule decides."""
    return db.session.scalar(
        select(func.count(Comment.id)).where(Comment.document_id == document.id, Comment.decision.is_(None))
    ) or 0


def unmoderated_count(document: Document) -> int:
    return db.session.scalar(
        select(func.count(Comment.id))
        .where(Comment.document_id == document.id, Comment.moderation == Moderation.PENDING.value)
    ) or 0


@condition
def has_articles(document: Document, now: datetime) -> str | None:
    version = document.current_version
    if version is None or not version.articles:
        return _("The draft has no articles (第一条, 第二条 …). Check the text of the draft.")
    return None


@condition
def has_explanation(document: Document, now: datetime) -> str | None:
    version = document.current_version
    if version is None or not version.explanation.strip():
        return _("The drafting explanation (起草说明) is missing.")
    return None


@condition
def consultation_scheduled(document: Document, now: datetime) -> str | None:
    consultation = latest_consultation(document)
    if consultation is None or consultation.version_id != document.current_version.id:
        return _("Set the opening and closing times of the consultation first.")
    return None


@condition
def consultation_closed(document: Document, now: datetime) -> str | None:
    consultation = latest_consultation(document)
    if consultation is None or not consultation.has_closed(now):
        return _("The consultation period has not ended yet.")
    return None


@condition
def all_comments_answered(document: Document, now: datetime) -> str | None:
    left = unanswered_count(document)
    if left:
        return _("%(count)d comment(s) still have no answer.", count=left)
    return None


@condition
def all_comments_moderated(document: Document, now: datetime) -> str | None:
    left = unmoderated_count(document)
    if left:
        return _("%(count)d comment(s) still wait for moderation by the openness office.", count=left)
    return None


@condition
def review_draft_prepared(document: Document, now: datetime) -> str | None:
    version = document.current_version
    if version is None or version.kind != VersionKind.REVIEW_DRAFT.value:
        return _("Prepare the revised review draft (送审稿) first.")
    returned = db.session.scalar(
        select(func.count(ReviewRound.id)).where(
            ReviewRound.version_id == version.id, ReviewRound.status == RoundStatus.RETURNED.value
        )
    )
    if returned:
        return _("This version was returned in joint review; submit a revised version.")
    return None


@condition
def all_signers_approved(document: Document, now: datetime) -> str | None:
    """Every signer of the procedure's [review] signers (co-units spelt out) approved the current version."""
    from . import signers

    rnd = latest_round(document)
    version = document.current_version
    if rnd is None or version is None or rnd.version_id != version.id:
        return _("Joint review has not approved the current version.")
    missing = [
        key for key in signers.required(document)
        if (signoff := rnd.signoff_of(key)) is None
        or signoff.outcome != SignoffOutcome.APPROVE.value or signoff.version_id != version.id
    ]
    if missing:
        return _("Every signer must approve the same version; still awaited: %(signers)s.",
                 signers="; ".join(signers.label(key) for key in missing))
    return None


# The earlier name (two organs): the same check, so that files and code that name it keep working.
CONDITIONS["both_organs_approved"] = both_organs_approved = all_signers_approved


@condition
def does_not_affect_public_rights(document: Document, now: datetime) -> str | None:
    if document.affects_public_rights:
        return _("A document that affects the rights and obligations of the public must be pre-disclosed.")
    return None


@condition
def review_opinions_answered(document: Document, now: datetime) -> str | None:
    left = db.session.scalar(
        select(func.count(Signoff.id))
        .join(ReviewRound, Signoff.round_id == ReviewRound.id)
        .outerjoin(OpinionResponse, OpinionResponse.signoff_id == Signoff.id)
        .where(
            ReviewRound.document_id == document.id,
            Signoff.outcome.in_([SignoffOutcome.RETURN.value, SignoffOutcome.REJECT.value]),
            OpinionResponse.id.is_(None),
        )
    ) or 0
    if left:
        return _("%(count)d review opinion(s) still have no answer from the drafting department.", count=left)
    return None


@condition
def justice_signed(document: Document, now: datetime) -> str | None:
    rnd = latest_round(document)
    if rnd is None or rnd.signoff_of(ReviewOrgan.JUSTICE) is None:
        return _("The justice bureau has not given its legality review opinion on this round.")
    return None


@condition
def document_number_assigned(document: Document, now: datetime) -> str | None:
    if document.number_seq is None:
        return _("No document number (发文字号) has been assigned.")
    return None


@condition
def prior_assessments_answered(document: Document, now: datetime) -> str | None:
    """事前评估: every invited assessment answered, and those the procedure's [prior_assessment] requires."""
    from ..services import invitations  # the services build on the engine: imported when first needed

    return invitations.requirement_problem(document, now)


KNOWN_CONDITIONS = frozenset(CONDITIONS)

# The conditions' names as the administrator's procedure page shows them (both languages through Flask-Babel).
CONDITION_TITLES = {
    "has_articles": _l("The draft is divided into articles (征求意见稿已分条)"),
    "has_explanation": _l("The drafting explanation is written (起草说明)"),
    "consultation_scheduled": _l("The consultation's opening and closing times are set (征求意见时间)"),
    "consultation_closed": _l("The consultation period has ended (征求意见期届满)"),
    "all_comments_answered": _l("Every comment has an answer (意见均已答复)"),
    "all_comments_moderated": _l("Every comment is moderated (意见均已审核)"),
    "review_draft_prepared": _l("The review draft is prepared (送审稿)"),
    "both_organs_approved": _l("Both organs approved the same version (联合审查同意)"),
    "all_signers_approved": _l("Every signer of the joint review approved the same version (联合审查会签同意)"),
    "does_not_affect_public_rights": _l("The document does not affect public rights (不涉及公众权益)"),
    "review_opinions_answered": _l("Every review opinion has a response (审查意见均已回应)"),
    "justice_signed": _l("The justice bureau has given its opinion (合法性审核意见)"),
    "document_number_assigned": _l("The document number is assigned (发文字号)"),
    "prior_assessments_answered": _l("The prior assessments required are in and answered (事前评估)"),
}
