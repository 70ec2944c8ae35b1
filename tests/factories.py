"""Build documents at any stage through the same services the web pages call."""
from __future__ import annotations

from datetime import date, datetime, timedelta  # noqa: F401 (re-exported for tests)

from consultation.extensions import db
from consultation.models import (  # noqa: F401
    Comment, CommentCampaign, Consultation, Document, ReviewOrgan, Subscription, User, UserRole, utcnow,
)
from consultation.services import answers, consultations, drafting, moderation, publication, review
from consultation.workflow import engine

DRAFT = """华城市测试管理办法（征求意见稿）
第一章 总则
第一条 为了规范测试活动，制定本办法。
第二条 本办法适用于本市行政区域内的测试活动。
第二章 附则
第三条 本办法自发布之日起施行。
"""
REVISED = DRAFT.replace("第三条 本办法自发布之日起施行。", "第三条 本办法自2027年1月1日起施行。")
EXPLANATION = "一、起草背景。二、主要内容。"


def document(city: dict[str, User], *, title: str = "华城市测试管理办法", body: str = DRAFT,
             market: bool = False, public_rights: bool = True, procedure: str = "normative_document") -> Document:
    doc = drafting.create_document(city["drafter"], title=title, body=body, explanation=EXPLANATION,
                                   affects_public_rights=public_rights, concerns_market_entities=market,
                                   procedure=procedure)
    db.session.commit()
    return doc


def in_skip_review(city, **kw) -> Document:
    """A draft that does not affect public rights, whose department asks to skip pre-disclosure."""
    doc = document(city, public_rights=False, **kw)
    drafting.request_skip_predisclosure(doc, city["drafter"], "本文件为内部工作规范，不涉及公众权利义务。")
    db.session.commit()
    return doc


def in_confidentiality_review(city, **kw) -> Document:
    doc = document(city, **kw)
    engine.perform(doc, "request_predisclosure", city["drafter"])
    engine.perform(doc, "head_approve_predisclosure", city["head"])
    db.session.commit()
    return doc


def in_consultation(city, *, opens_at: datetime | None = None, days: int = 45, **kw) -> Document:
    """A document whose consultation opened at ``opens_at`` (default: now) for ``days`` days (more than
    the longest legal minimum, 30 calendar days moved off a holiday)."""
    doc = in_confidentiality_review(city, **kw)
    opens_at = opens_at or utcnow()
    consultations.open_consultation(doc, city["openness"], opens_at=opens_at,
                                    closes_at=opens_at + timedelta(days=days), notice="公告", now=opens_at,
                                    contact_person="王科员", contact_phone="0571-87000000",
                                    contact_email="zhengqiu@example.gov.cn", postal_address="华城市人民路1号")
    db.session.commit()
    return doc


def comment(doc: Document, *, body: str = "建议修改。", article_seq: int | None = None,
            at: datetime | None = None, **personal) -> Comment:
    consultation = consultations.consultation_of(doc)
    article_id = None
    if article_seq is not None:
        article_id = next(a.id for a in consultation.version.articles if a.seq == article_seq)
    comment = consultations.submit_comment(consultation, body=body, article_id=article_id,
                                           now=at or consultation.opens_at + timedelta(hours=1), **personal)
    take_in()
    return comment


def take_in() -> int:
    """What the worker's clock does moments after comments arrive: group them and seal them."""
    from consultation.services.intake import take_in_all

    return take_in_all()


def in_handling(city, *, comments: int = 2, **kw) -> Document:
    """Consultation held 40 days ago and closed by the clock, with comments waiting for answers."""
    doc = in_consultation(city, opens_at=utcnow() - timedelta(days=50), **kw)
    for i in range(comments):
        comment(doc, body=f"第{i + 1}条意见：建议完善。", article_seq=(i % 3) + 1 if i % 2 == 0 else None)
    engine.settle(doc)
    db.session.commit()
    assert doc.stage == "handling"
    return doc


def answer_all(doc: Document, drafter: User, decision: str = "adopted") -> None:
    """Answer every comment; the openness office publishes those still waiting for moderation."""
    for c in comments(doc):
        if c.answer is None:
            answers.answer_comment(doc, drafter, c.id, decision=decision, reason="已据此修改。")
    moderate_all(doc)
    db.session.commit()


def moderate_all(doc: Document, *, publish: bool = True, reason: str | None = None) -> None:
    pending = [c.id for c in comments(doc) if c.moderation == "pending"]
    if pending:
        officer = db.session.scalars(db.select(User).join(UserRole, UserRole.user_id == User.id)
                                     .where(UserRole.role == "openness_officer").order_by(User.id)).first()
        moderation.moderate(doc, officer, pending, publish=publish, reason=reason)


def assessments(doc: Document, drafter: User) -> None:
    """The expert argument and risk assessment records a major decision needs before the legality review."""
    for kind in ("expert_argument", "risk_assessment"):
        drafting.record_assessment(doc, drafter, kind=kind, held_on=date.today(), participants="张教授、李律师",
                                   conclusion="方案可行，风险可控。")
    db.session.commit()


def prior_assessments(doc: Document, drafter: User, kinds: tuple[str, ...] = ("enterprise", "expert")) -> None:
    """事前评估: invite one person of each kind, take their assessments through their links, answer them."""
    from consultation.services import invitations

    for kind in kinds:
        invitation = invitations.invite(doc, drafter, kind=kind, name=f"{kind}评估人", organisation="华城市某单位",
                                        email=f"{kind}@assess.example.com")
        assessment = invitations.submit(invitation, necessity="确有必要。", feasibility="可行。", market_impact="成本可控。",
                                        fair_competition="未发现排除、限制竞争的内容。", interests="无利益关系。",
                                        consent_named=False, remarks={})
        invitations.answer(assessment, drafter, overall=("adopted", "已采纳。"), remarks={})
    db.session.commit()


def ready_for_submission(city, **kw) -> Document:
    """Consultation over, every comment answered, the review draft (and any assessment) ready."""
    doc = in_handling(city, **kw)
    answer_all(doc, city["drafter"])
    drafting.revise_draft(doc, city["drafter"], body=REVISED, explanation=EXPLANATION)
    if doc.procedure == "major_decision":
        assessments(doc, city["drafter"])
    from consultation.services import invitations

    if invitations.required_kinds(doc):
        prior_assessments(doc, city["drafter"], invitations.required_kinds(doc))
    db.session.commit()
    return doc


def in_joint_review(city, **kw) -> Document:
    doc = ready_for_submission(city, **kw)
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()
    return doc


def in_deliberation(city, **kw) -> Document:
    doc = in_joint_review(city, **kw)
    review.approve(doc, city["govoffice"], ReviewOrgan.GOVERNMENT_OFFICE, "同意。")
    review.approve(doc, city["justice"], ReviewOrgan.JUSTICE, "合法。")
    db.session.commit()
    assert doc.stage == "deliberation"
    return doc


def adopt(doc: Document, city, prefix: str = "华政办发") -> Document:
    """Take a document whose comments are answered through review and the meeting: ready to publish."""
    drafting.revise_draft(doc, city["drafter"], body=REVISED, explanation=EXPLANATION)
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    review.approve(doc, city["govoffice"], ReviewOrgan.GOVERNMENT_OFFICE, "同意。")
    review.approve(doc, city["justice"], ReviewOrgan.JUSTICE, "合法。")
    publication.record_adoption(doc, city["govoffice"], decision="adopted", decision_date=date.today(), prefix=prefix)
    db.session.commit()
    return doc


def in_publication(city, prefix: str = "华政办发", **kw) -> Document:
    doc = in_deliberation(city, **kw)
    publication.record_adoption(doc, city["govoffice"], decision="adopted", decision_date=date.today(), prefix=prefix)
    db.session.commit()
    return doc


def published(city, **kw) -> Document:
    doc = in_publication(city, **kw)
    publication.publish(doc, city["govoffice"], final_text=REVISED, policy_interpretation="解读。",
                        effective_date=utcnow().date() + timedelta(days=30), validity_years=5)
    db.session.commit()
    return doc


# --- reading back (tests only: the application pages through these lists in SQL) ----------------------

def comments(doc: Document) -> list[Comment]:
    """Every comment of the document, oldest first, with its answer."""
    return list(db.session.scalars(db.select(Comment).where(Comment.document_id == doc.id).order_by(Comment.id)
                                   .execution_options(populate_existing=True)))


def groups(doc: Document) -> list[CommentCampaign]:
    """The document's campaign groups, largest first."""
    return list(db.session.scalars(
        db.select(CommentCampaign).join(Consultation, CommentCampaign.consultation_id == Consultation.id)
        .where(Consultation.document_id == doc.id).order_by(CommentCampaign.size.desc(), CommentCampaign.id)
        .execution_options(populate_existing=True)))


def members(group: CommentCampaign) -> list[Comment]:
    return list(db.session.scalars(db.select(Comment).where(Comment.campaign_id == group.id).order_by(Comment.id)
                                   .execution_options(populate_existing=True)))
