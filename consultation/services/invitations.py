"""Prior assessment (事前评估) by invited enterprise representatives, industry associations and experts.

The drafting department invites named people; each gets a personal link by mail. The link's token is
``HMAC(SECRET_KEY, nonce)``: the database keeps the nonce and the token's SHA-256 only, and the mail's stored
body holds a placeholder that the mail job fills in when it sends (``expand_link``). One assessment per
invitation: submitted again before any answer, it replaces the earlier text (the next revision, the same
receipt number); once the drafting department has answered any part of it, it is closed.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import FieldRefused, InvalidInput, NotAllowed
from ..extensions import db
from ..i18n import local_time
from ..models import (
    AnswerDecision, AssessmentInvitation, AssessmentRemark, AssessmentWaiver, Document, InvitedAssessment,
    InviteeKind, User, utcnow,
)
from ..receipts import display, new_receipt_number
from ..workflow import engine
from .status import SHANGHAI

KIND_LABELS = {
    InviteeKind.ENTERPRISE.value: _l("Enterprise representative (企业代表)"),
    InviteeKind.ASSOCIATION.value: _l("Industry association (行业协会)"),
    InviteeKind.EXPERT.value: _l("Expert (专家)"),
}
KIND_ZH = {"enterprise": "企业代表", "association": "行业协会", "expert": "专家"}
DECISION_ZH = {"adopted": "采纳", "partly_adopted": "部分采纳", "not_adopted": "未采纳", "explained": "作出说明"}
UNANSWERED_ZH = "尚未答复"
STATUS_LABELS = {
    "sent": _l("sent"), "opened": _l("opened"), "submitted": _l("submitted"), "answered": _l("answered"),
    "expired": _l("expired"), "revoked": _l("revoked"), "closed": _l("closed with the document's outcome"),
}

MAX_INVITATIONS = 200  # per document: every list of them stays bounded (the packet lists them all)
DEFAULT_DAYS = 30
MAX_DAYS = 180
MAX_TEXT = 20_000
LINK_PLACEHOLDER = "{assessment_link}"
MAIL_EVENT = "assessment_invitation"
INVITE_ACTION = "invite_assessors"
INVITEE_ACTOR = "invitee"  # the audit's stored label; the timeline says it in the page's language


class LinkInvalid(InvalidInput):
    """Unknown, expired or revoked: one message for all, so that the page tells nothing about a guess."""

    def __init__(self) -> None:
        super().__init__(_("This assessment link is not valid (any more). It may have expired or been withdrawn. "
                           "Please contact the department that invited you."))


# --- tokens -------------------------------------------------------------------------------------------------

def _token(nonce: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"assess:{nonce}".encode(), hashlib.sha256).hexdigest()[:43]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(invitation: AssessmentInvitation) -> None:
    invitation.token_nonce = secrets.token_urlsafe(32)
    invitation.token_hash = _digest(_token(invitation.token_nonce))


def token_of(invitation: AssessmentInvitation) -> str:
    """The invitation's current token (for the mail job and the tests); never stored."""
    return _token(invitation.token_nonce)


def expand_link(notification) -> str:
    """The mail body with the personal link, made at sending from the key and the stored nonce."""
    from .mailings import link

    invitation = db.session.get(AssessmentInvitation, int(notification.key.split(":")[1]))
    if invitation is None:
        return notification.body
    return notification.body.replace(LINK_PLACEHOLDER, link(f"/assess/{token_of(invitation)}"))


# --- states -------------------------------------------------------------------------------------------------

def is_answered(assessment: InvitedAssessment | None) -> bool:
    """Answered: the overall part and every remark have a decision."""
    if assessment is None or assessment.decision is None:
        return False
    return all(r.decision is not None for r in assessment.remarks)


def any_answer(assessment: InvitedAssessment | None) -> bool:
    return assessment is not None and (
        assessment.decision is not None or any(r.decision is not None for r in assessment.remarks))


def status_of(invitation: AssessmentInvitation, now: datetime | None = None) -> str:
    now = now or utcnow()
    if invitation.assessment is not None:
        return "answered" if is_answered(invitation.assessment) else "submitted"
    if invitation.revoked_at is not None:
        return "revoked"
    if closed_by_outcome(invitation.document):
        return "closed"
    if invitation.expires_at <= now:
        return "expired"
    return "opened" if invitation.opened_at is not None else "sent"


def may_manage(user: User, document: Document) -> bool:
    """Only the document's own department (its drafters and head) sees and manages the invitations."""
    procedure = engine.procedure_of(document)
    return user.is_authenticated and user.department_id == document.department_id and user.has_role(
        *procedure.department_roles)


def may(user: User, document: Document, action: str) -> bool:
    return action in engine.procedure_of(document).actions and engine.may_act(user, document, action)


ROLE_MESSAGES = {
    "decide_assessment_waiver": _l("Only the department head decides on the reason for having no prior assessment."),
    "waive_prior_assessment": _l("Only a drafter of the document gives the reason for having no prior assessment."),
    "answer_assessment": _l("Only a drafter of the document answers the prior assessments."),
    INVITE_ACTION: _l("Only a drafter of the document invites people to assess it."),
}


def _require(user: User, document: Document, action: str) -> None:
    """engine.require_action, but a user whose role does not do this hears about the role, not the stage."""
    spec = engine.procedure_of(document).actions.get(action)
    if spec is not None and not any(user.has_role(role) for role in spec.roles):
        raise NotAllowed(str(ROLE_MESSAGES[action]))
    engine.require_action(user, document, action)


def closed_by_outcome(document: Document) -> bool:
    """A document in a final stage (published, not adopted, withdrawn) closes every link implicitly."""
    return engine.stage_of(document).final


def open_for_assessment(document: Document) -> bool:
    """Invitees may submit while the drafting department may still invite (the procedure's stages)."""
    spec = engine.procedure_of(document).actions.get(INVITE_ACTION)
    return spec is not None and document.stage in spec.stages


# --- inviting -----------------------------------------------------------------------------------------------

def default_expiry(document: Document, now: datetime) -> date:
    """The consultation's closing day when it is still ahead, else 30 days from now (Beijing dates)."""
    from .consultations import consultation_of

    consultation = consultation_of(document)
    if consultation is not None and consultation.closes_at > now + timedelta(days=1):
        return consultation.closes_at.astimezone(SHANGHAI).date()
    return (now + timedelta(days=DEFAULT_DAYS)).astimezone(SHANGHAI).date()


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=SHANGHAI)


def invite(document: Document, user: User, *, kind: str, name: str, organisation: str, email: str,
           expires_on: date | None = None, now: datetime | None = None) -> AssessmentInvitation:
    """Invite one named person to assess the current version, and mail them their personal link."""
    now = now or utcnow()
    _require(user, document, INVITE_ACTION)
    if kind not in KIND_LABELS:
        raise InvalidInput(_("Choose whom you invite: an enterprise representative, an industry association or an expert."))
    name, organisation, email = name.strip(), organisation.strip(), email.strip()
    if not name or "@" not in email or len(name) > 100 or len(organisation) > 200 or len(email) > 200:
        raise InvalidInput(_("Give the person's name and email address."))
    count = db.session.scalar(select(func.count(AssessmentInvitation.id))
                              .where(AssessmentInvitation.document_id == document.id)) or 0
    if count >= MAX_INVITATIONS:
        raise InvalidInput(_("A document can have at most %(n)d invitations.", n=MAX_INVITATIONS))
    expires_on = expires_on or default_expiry(document, now)
    today = now.astimezone(SHANGHAI).date()
    if not today <= expires_on <= today + timedelta(days=MAX_DAYS):
        raise InvalidInput(_("The link must expire between today and %(n)d days from now.", n=MAX_DAYS))
    invitation = AssessmentInvitation(
        document_id=document.id, version_id=document.current_version.id, kind=kind, name=name,
        organisation=organisation, email=email, expires_at=_end_of(expires_on), created_by_id=user.id, created_at=now)
    _new_link(invitation)
    db.session.add(invitation)
    db.session.flush()
    audit.record("invite_assessor", actor=user, document=document,
                 payload={"invitation_id": invitation.id, "kind": kind, "version": document.current_version.seq,
                          "expires_at": invitation.expires_at.isoformat()})
    _send(invitation, user, now)
    return invitation


def _send(invitation: AssessmentInvitation, user: User, now: datetime) -> None:
    from .notifications import mail_once

    document = invitation.document
    invitation.sent_count += 1
    invitation.last_sent_at = now
    mail_once(
        f"{MAIL_EVENT}:{invitation.id}:{invitation.sent_count}", MAIL_EVENT, invitation.email,
        f"【事前评估邀请】{document.title}",
        f"{invitation.name}：\n\n{document.department.name}正在起草《{document.title}》，诚邀您以{KIND_ZH[invitation.kind]}"
        f"身份对草案开展事前评估，就其必要性、可行性、对市场主体的成本和影响以及公平竞争等方面提出意见，也可以逐条提出意见。\n\n"
        f"您的个人评估链接（仅限本人使用，请勿转发）：\n{LINK_PLACEHOLDER}\n\n"
        f"链接有效期至：{local_time(invitation.expires_at)}\n\n"
        f"{_publicity_line(document, now)}您的电子邮箱不会公开。本邮件由系统自动发送，请勿回复。\n",
        document.id,
    )
    audit.record("send_assessment_invitation", actor=user, document=document,
                 payload={"invitation_id": invitation.id, "times": invitation.sent_count})


def _publicity_line(document: Document, now: datetime) -> str:
    """Whether the draft has been publicly consulted decides what the invitee may pass on."""
    from .feedback_stage import has_opened_consultation

    if has_opened_consultation(document, now):
        return "草案已向社会公开征求意见；评估所用的本版本及您的评估意见仅供起草单位使用，请勿对外传播。"
    return "草案尚未公开，请勿对外传播。"


def resend(invitation: AssessmentInvitation, user: User, now: datetime | None = None) -> None:
    """Mail a new link (the old one stops working), e.g. when the first mail was lost."""
    now = now or utcnow()
    _require(user, invitation.document, INVITE_ACTION)
    if invitation.revoked_at is not None or invitation.assessment is not None or invitation.expires_at <= now:
        raise InvalidInput(_("Only a pending invitation can be sent again."))
    _new_link(invitation)
    _send(invitation, user, now)


def revoke(invitation: AssessmentInvitation, user: User, now: datetime | None = None) -> None:
    """Withdraw the link: it stops working at once. An assessment already submitted stays."""
    _require(user, invitation.document, INVITE_ACTION)
    if invitation.revoked_at is not None:
        raise InvalidInput(_("This invitation is already revoked."))
    invitation.revoked_at = now or utcnow()
    invitation.revoked_by_id = user.id
    audit.record("revoke_assessment_invitation", actor=user, document=invitation.document,
                 payload={"invitation_id": invitation.id})


# --- the invitee's page -------------------------------------------------------------------------------------

def by_token(token: str, now: datetime | None = None) -> AssessmentInvitation:
    """The invitation of a live link; LinkInvalid for an unknown, expired or revoked one."""
    now = now or utcnow()
    if not token or len(token) > 100:
        raise LinkInvalid()
    invitation = db.session.scalars(
        select(AssessmentInvitation).where(AssessmentInvitation.token_hash == _digest(token))).first()
    if invitation is None or invitation.revoked_at is not None or invitation.expires_at <= now \
            or closed_by_outcome(invitation.document):
        raise LinkInvalid()
    return invitation


def opened(invitation: AssessmentInvitation, now: datetime | None = None) -> bool:
    """Record the first opening of the link; True when this was it."""
    if invitation.opened_at is not None:
        return False
    invitation.opened_at = now or utcnow()
    audit.record("open_assessment_invitation", actor=None, actor_label=INVITEE_ACTOR, document=invitation.document,
                 payload={"invitation_id": invitation.id})
    return True


def closed_message(invitation: AssessmentInvitation) -> str | None:
    """Why the invitee can no longer submit or change the assessment; None while they can."""
    if not open_for_assessment(invitation.document):
        return _("The drafting department has moved on: assessments are no longer taken for this draft.")
    if any_answer(invitation.assessment):
        return _("The drafting department has already answered your assessment; it can no longer be changed.")
    return None


def submit(invitation: AssessmentInvitation, *, necessity: str, feasibility: str, market_impact: str,
           fair_competition: str, interests: str, consent_named: bool, remarks: dict[int, str],
           now: datetime | None = None) -> InvitedAssessment:
    """Save the invitee's assessment (or its next revision before any answer) and queue the receipt mail."""
    now = now or utcnow()
    if invitation.revoked_at is not None or invitation.expires_at <= now or closed_by_outcome(invitation.document):
        raise LinkInvalid()
    if (message := closed_message(invitation)) is not None:
        raise InvalidInput(message)
    assessment = invitation.assessment
    overall = {"necessity": necessity.strip(), "feasibility": feasibility.strip(),
               "market_impact": market_impact.strip(), "fair_competition": fair_competition.strip()}
    articles = {a.id: a for a in invitation.version.articles}
    remarks = {aid: text.strip() for aid, text in remarks.items() if aid in articles and text.strip()}
    if not any(overall.values()) and not remarks:
        raise InvalidInput(_("Write your assessment: at least one of the overall questions or a remark on an article."))
    if not interests.strip():
        raise InvalidInput(_("The declaration of interests is required."))
    if any(len(t) > MAX_TEXT for t in [*overall.values(), *remarks.values(), interests]):
        raise InvalidInput(_("Each text may have at most %(n)d characters.", n=MAX_TEXT))
    if assessment is None:
        assessment = InvitedAssessment(invitation=invitation, document_id=invitation.document_id,
                                       receipt_number=new_receipt_number(), revision=0)
        db.session.add(assessment)
    assessment.revision += 1
    for key, value in overall.items():
        setattr(assessment, key, value)
    assessment.interests = interests.strip()
    assessment.consent_named = bool(consent_named) and invitation.kind == InviteeKind.EXPERT.value
    assessment.submitted_at = now
    assessment.remarks = [AssessmentRemark(article_id=aid, article_seq=articles[aid].seq, body=text)
                          for aid, text in sorted(remarks.items(), key=lambda kv: articles[kv[0]].seq)]
    db.session.flush()
    content = "\n".join([*overall.values(), interests.strip(), *(f"{a}:{t}" for a, t in sorted(remarks.items()))])
    audit.record("submit_prior_assessment", actor=None, actor_label=INVITEE_ACTOR, document=invitation.document,
                 payload={"invitation_id": invitation.id, "receipt": assessment.receipt_number,
                          "revision": assessment.revision, "remarks": len(remarks),
                          "sha256": hashlib.sha256(content.encode()).hexdigest()})
    from .notifications import mail_once

    document = invitation.document
    mail_once(f"prior_assessment_received:{assessment.id}:{assessment.revision}", "prior_assessment_received",
              invitation.email, f"【事前评估回执】{document.title}",
              f"{invitation.name}：\n\n您对《{document.title}》的事前评估意见已收到。\n\n"
              f"回执编号：{display(assessment.receipt_number)}\n提交时间：{local_time(now)}\n"
              f"（第{assessment.revision}次提交；起草单位答复前，您可以通过原链接修改，回执编号不变。）\n\n"
              "本邮件由系统自动发送，请勿回复。\n", document.id)
    return assessment


# --- answers ------------------------------------------------------------------------------------------------

def _decision(value: str) -> str:
    try:
        return AnswerDecision(value).value
    except ValueError:
        raise InvalidInput(_("Choose a decision for each answer.")) from None


def answer(assessment: InvitedAssessment, user: User, *, overall: tuple[str, str] | None,
           remarks: dict[int, tuple[str, str]], now: datetime | None = None) -> int:
    """Answer the overall assessment and any of its remarks (decision and reason each); return how many."""
    now = now or utcnow()
    document = assessment.invitation.document
    _require(user, document, "answer_assessment")
    parts = []
    if overall is not None:
        parts.append((assessment, *overall))
    by_id = {r.id: r for r in assessment.remarks}
    for remark_id, pair in remarks.items():
        if remark_id not in by_id:
            raise InvalidInput(_("Unknown remark."))
        parts.append((by_id[remark_id], *pair))
    for target, decision, reason in parts:
        if not reason.strip():
            raise FieldRefused("reason" if target is assessment else f"reason-{target.id}",
                               _("Give the reason for each answer."))
        try:
            chosen = _decision(decision)
        except InvalidInput as exc:
            raise FieldRefused("decision" if target is assessment else f"decision-{target.id}", exc.message) from None
        target.decision, target.reason = chosen, reason.strip()[:MAX_TEXT]
        target.answered_by_id, target.answered_at = user.id, now
    if parts:
        audit.record("answer_prior_assessment", actor=user, document=document,
                     payload={"invitation_id": assessment.invitation_id, "receipt": assessment.receipt_number,
                              "answers": [{"remark": None if t is assessment else t.id, "decision": t.decision}
                                          for t, _d, _r in parts]})
    return len(parts)


# --- the requirement and the waiver -------------------------------------------------------------------------

def latest_waiver(document: Document) -> AssessmentWaiver | None:
    return db.session.scalars(select(AssessmentWaiver).where(AssessmentWaiver.document_id == document.id)
                              .order_by(AssessmentWaiver.id.desc()).limit(1)).first()


def request_waiver(document: Document, user: User, reason: str) -> AssessmentWaiver:
    """The drafting department's written reason why there is no prior assessment; the head decides."""
    _require(user, document, "waive_prior_assessment")
    if not reason.strip():
        raise InvalidInput(_("Please give the reason or opinion in writing."))
    waiver = AssessmentWaiver(document_id=document.id, reason=reason.strip()[:MAX_TEXT], requested_by_id=user.id)
    db.session.add(waiver)
    db.session.flush()
    audit.record("request_assessment_waiver", actor=user, document=document, note=waiver.reason,
                 payload={"waiver_id": waiver.id})
    return waiver


def decide_waiver(waiver: AssessmentWaiver, user: User, *, accept: bool, note: str = "",
                  now: datetime | None = None) -> None:
    document = db.session.get(Document, waiver.document_id)
    _require(user, document, "decide_assessment_waiver")
    if waiver.decided_at is not None or latest_waiver(document).id != waiver.id:
        raise InvalidInput(_("This reason has already been decided."))
    if not accept and not note.strip():
        raise InvalidInput(_("Please give the reason or opinion in writing."))
    waiver.accepted, waiver.decided_by_id, waiver.decided_at = accept, user.id, now or utcnow()
    waiver.decision_note = note.strip()[:MAX_TEXT]
    audit.record("decide_assessment_waiver", actor=user, document=document, note=waiver.decision_note,
                 payload={"waiver_id": waiver.id, "accepted": accept})


def required_kinds(document: Document) -> tuple[str, ...]:
    """The kinds the procedure file requires for this document (empty: not required)."""
    rule = engine.procedure_of(document).prior_assessment
    if rule is None or rule.required_when == "never":
        return ()
    if rule.required_when == "always" or getattr(document, rule.required_when):
        return rule.kinds
    return ()


def answered_kinds(document: Document) -> set[str]:
    unanswered_remark = select(AssessmentRemark.id).where(
        AssessmentRemark.assessment_id == InvitedAssessment.id, AssessmentRemark.decision.is_(None)).exists()
    return set(db.session.scalars(
        select(AssessmentInvitation.kind).distinct()
        .join(InvitedAssessment, InvitedAssessment.invitation_id == AssessmentInvitation.id)
        .where(AssessmentInvitation.document_id == document.id, InvitedAssessment.decision.is_not(None),
               ~unanswered_remark)))


def unanswered_count(document: Document) -> int:
    unanswered_remark = select(AssessmentRemark.id).where(
        AssessmentRemark.assessment_id == InvitedAssessment.id, AssessmentRemark.decision.is_(None)).exists()
    return db.session.scalar(select(func.count(InvitedAssessment.id)).where(
        InvitedAssessment.document_id == document.id,
        InvitedAssessment.decision.is_(None) | unanswered_remark)) or 0


@dataclass(frozen=True)
class Requirement:
    kinds: tuple[str, ...]       # required kinds (empty: none required)
    missing: tuple[str, ...]     # required kinds without an answered assessment
    unanswered: int              # submitted assessments not fully answered
    waiver: AssessmentWaiver | None

    @property
    def waived(self) -> bool:
        return self.waiver is not None and self.waiver.accepted is True

    @property
    def met(self) -> bool:
        return not self.unanswered and (not self.missing or self.waived)


def requirement(document: Document) -> Requirement:
    kinds = required_kinds(document)
    missing = tuple(k for k in kinds if k not in answered_kinds(document)) if kinds else ()
    return Requirement(kinds, missing, unanswered_count(document), latest_waiver(document))


def requirement_problem(document: Document, now: datetime) -> str | None:
    """The condition ``prior_assessments_answered``: None when it holds, else why not."""
    state = requirement(document)
    if state.unanswered:
        return _("%(count)d prior assessment(s) still have no answer.", count=state.unanswered)
    if state.missing and not state.waived:
        return _("The procedure needs an answered prior assessment (事前评估) from: %(kinds)s; or a written reason "
                 "for having none, accepted by the department head.",
                 kinds="、".join(str(KIND_LABELS[k]) for k in state.missing))
    return None


# --- lists --------------------------------------------------------------------------------------------------

PAGE = 50


def invitations_page(document: Document, *, before: int | None = None, limit: int = PAGE
                     ) -> tuple[list[AssessmentInvitation], int | None]:
    """The newest invitations first, a page at a time (keyset on id); the cursor of the next page."""
    query = select(AssessmentInvitation).where(AssessmentInvitation.document_id == document.id)
    if before is not None:
        query = query.where(AssessmentInvitation.id < before)
    # Each row's status reads its assessment and remarks: loaded for the page at once, not row by row.
    loaded = selectinload(AssessmentInvitation.assessment).selectinload(InvitedAssessment.remarks)
    rows = list(db.session.scalars(query.options(loaded).order_by(AssessmentInvitation.id.desc()).limit(limit + 1)))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _all(document: Document, *, remarks: bool = False) -> list[AssessmentInvitation]:
    """Every invitation of the document (at most MAX_INVITATIONS) with its assessment, loaded in a few queries
    whatever their number; ``remarks``: with each assessment's remarks and their articles too."""
    assessment = selectinload(AssessmentInvitation.assessment)
    if remarks:
        assessment = assessment.selectinload(InvitedAssessment.remarks).selectinload(AssessmentRemark.article)
    return list(db.session.scalars(
        select(AssessmentInvitation).where(AssessmentInvitation.document_id == document.id)
        .options(assessment, selectinload(AssessmentInvitation.version))
        .order_by(AssessmentInvitation.id).limit(MAX_INVITATIONS)))


def _remark_counts(assessments: list[InvitedAssessment]) -> dict[int, int]:
    if not assessments:
        return {}
    return dict(db.session.execute(
        select(AssessmentRemark.assessment_id, func.count())
        .where(AssessmentRemark.assessment_id.in_([a.id for a in assessments]))
        .group_by(AssessmentRemark.assessment_id)).all())


def packet_context(document: Document) -> list[dict]:
    """The review packet's section (送审材料, staff only): names and organisations, never addresses."""
    found = []
    for inv in _all(document, remarks=True):
        a = inv.assessment
        if a is None:
            continue
        found.append({
            "kind": KIND_ZH[inv.kind], "name": inv.name, "organisation": inv.organisation,
            "receipt": display(a.receipt_number), "submitted": local_time(a.submitted_at), "version": inv.version.seq,
            "necessity": a.necessity, "feasibility": a.feasibility, "market_impact": a.market_impact,
            "fair_competition": a.fair_competition, "interests": a.interests,
            "decision": DECISION_ZH.get(a.decision or "", UNANSWERED_ZH), "reason": a.reason or "",
            "remarks": [{"label": r.article.label, "body": r.body, "decision": DECISION_ZH.get(r.decision or "", UNANSWERED_ZH),
                         "reason": r.reason or ""} for r in a.remarks],
        })
    return found


@dataclass(frozen=True)
class PublicAssessment:
    kind: str
    named: str | None  # an expert's name, only with their consent
    decision: str | None
    reason: str
    remarks: int


@dataclass(frozen=True)
class PublicSummary:
    total: int
    by_kind: dict[str, int]
    by_decision: dict[str, int]
    items: list[PublicAssessment]

    def line(self) -> str:
        """事前评估意见N份：企业代表x份、行业协会y份、专家z份；采纳a份… (official wording, in Chinese)."""
        kinds = "、".join(f"{KIND_ZH[k]}{n}份" for k, n in self.by_kind.items() if n)
        decisions = "，".join(f"{DECISION_ZH[d]}{n}份" for d, n in self.by_decision.items() if n)
        return f"事前评估意见{self.total}份：{kinds}" + (f"；{decisions}" if decisions else "")


def public_summary(document: Document) -> PublicSummary | None:
    """What the public feedback may show: counts by kind and decision, the overall answers; an expert's
    name only where the expert agreed; never an address, an organisation or an enterprise person's name."""
    invitations = [inv for inv in _all(document) if inv.assessment is not None]
    remarks = _remark_counts([inv.assessment for inv in invitations])
    items = []
    for inv in invitations:
        a = inv.assessment
        named = inv.name if inv.kind == InviteeKind.EXPERT.value and a.consent_named else None
        items.append(PublicAssessment(inv.kind, named, a.decision, a.reason or "", remarks.get(a.id, 0)))
    if not items:
        return None
    by_kind = {k: sum(1 for i in items if i.kind == k) for k in KIND_ZH}
    by_decision = {d: sum(1 for i in items if i.decision == d) for d in DECISION_ZH}
    return PublicSummary(len(items), by_kind, by_decision, items)


def csv_rows(summary: PublicSummary | None, cell) -> Iterator[bytes]:
    """The feedback CSV's last rows: the invited assessments, counted apart (as the page shows them)."""
    if summary is None:
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    # The feedback's columns: 序号, 条款, 意见建议, 意见人, 采纳情况, 理由.
    writer.writerow(["事前评估", "", summary.line(), "", "", ""])
    for number, item in enumerate(summary.items, 1):
        remarks = f"；另提出逐条意见{item.remarks}条" if item.remarks else ""
        writer.writerow([f"事前评估{number}", "草案整体", f"事前评估意见（{KIND_ZH[item.kind]}）{remarks}",
                         item.named or "", DECISION_ZH.get(item.decision or "", UNANSWERED_ZH), cell(item.reason)])
    yield buffer.getvalue().encode("utf-8")


# --- the invitee keeps track: the receipt lookup and the feedback mails ------------------------------------

def find_by_receipt(receipt: str) -> InvitedAssessment | None:
    """The assessment with this receipt number (the public receipt lookup shows its status, never the person)."""
    from ..receipts import normalise

    number = normalise(receipt)
    if not number:
        return None
    return db.session.scalars(select(InvitedAssessment).where(InvitedAssessment.receipt_number == number)).first()


def feedback_letters(event: str, document: Document) -> list:
    """One letter per invitee address that assessed the document, for a feedback event (published before the
    decision, with the outcome, or with the final text); keyed as the commenters' letters, so that an address
    hears once per event however it took part. At most MAX_INVITATIONS."""
    from .feedback_stage import outcome, outcome_line
    from .mailings import FEEDBACK_BEFORE_DECISION, FEEDBACK_OUTCOME, Letter, link

    page = link(f"/feedback/{document.id}")
    letters = []
    for inv in _all(document):
        a = inv.assessment
        if a is None:
            continue
        receipt = display(a.receipt_number)
        if event == FEEDBACK_OUTCOME:
            ended = outcome(document)
            subject = f"【{ended.title if ended else '意见采纳情况'}】{document.title}"
            opening = (f"您对《{document.title}》提出了事前评估意见（回执编号 {receipt}）。"
                       f"该文件{outcome_line(ended) if ended else ''}\n意见采纳情况及上述结果已一并公布：{page}\n")
        elif event == FEEDBACK_BEFORE_DECISION:
            subject = f"【意见采纳情况（提交常务会议审议前）】{document.title}"
            opening = (f"您对《{document.title}》提出的事前评估意见（回执编号 {receipt}）已有答复。"
                       f"送审稿已提交常务会议审议，审议前公布意见采纳情况：{page}\n")
        else:
            subject = f"【意见采纳情况已公布】{document.title}"
            opening = (f"您对《{document.title}》提出的事前评估意见（回执编号 {receipt}）已有答复，"
                       f"正式文本及意见采纳情况已公布：{page}\n")
        address = inv.email.strip().lower()
        digest = hashlib.sha256(address.encode()).hexdigest()[:32]
        letters.append(Letter(key=f"{event}:{document.id}:{digest}", recipient=inv.email, subject=subject,
                              body=opening + f"按回执编号查询总体意见和逐条意见的答复：{link('/receipt')}\n"
                                             "本邮件由系统自动发送，请勿回复。\n"))
    return letters


def receipt_view(assessment: InvitedAssessment, now: datetime | None = None) -> dict:
    """What the public receipt lookup shows of an assessment: its status; the answers (overall and per article)
    and the outcome only once the feedback is public. Never the person, their address or their text."""
    from .feedback_stage import state
    from .status import feedback_public

    document = assessment.invitation.document
    public = feedback_public(document, now)
    return {"document": document, "assessment": assessment, "answers_visible": public,
            "answered": is_answered(assessment), "feedback_state": state(document, now) if public else None,
            "kind": assessment.invitation.kind}
