"""Who is told what by email, and the clock that records closings and reminds reviewers.

Each notification is a row with a key naming the event and the person, so an event notifies a person
once, whichever path noticed it first (a page view, the worker's clock); the mail goes out through the
job outbox on the "mail" queue. Correctness never depends on the mails: the state follows from the
stored times.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import local_time
from ..models import Comment, Consultation, Document, Notification, User, utcnow
from ..receipts import display
from ..workflow import deadlines, engine
from . import jobs, mailings, statistics
from .mailings import link
from .status import SHANGHAI, LibraryStatus, status_expression

# The transitions that tell someone, and whom (roles; "department:" means only the document's department).
ON_TRANSITION = {
    "close_consultation": ("consultation_closed", ["department:drafter"]),
    "return_for_revision": ("review_returned", ["department:drafter"]),
    "reject_as_unlawful": ("review_returned", ["department:drafter"]),
    "head_approve_submission": ("submission_received", ["gov_office_reviewer", "justice_reviewer"]),
}


def _staff(document: Document, who: list[str]) -> list[User]:
    found: dict[int, User] = {}
    for spec in who:
        role = spec.removeprefix("department:")
        query = select(User).where(User.active.is_(True), User.email.is_not(None))
        if spec.startswith("department:"):
            query = query.where(User.department_id == document.department_id)
        for user in db.session.scalars(query):
            if user.has_role(role):
                found[user.id] = user
    return list(found.values())


def _texts(event: str, document: Document) -> tuple[str, str]:
    staff_page = link(f"/staff/documents/{document.id}")
    if event == "consultation_closed":
        count = db.session.scalar(select(db.func.count(Comment.id)).join(Consultation)
                                  .where(Consultation.document_id == document.id)) or 0
        return (f"【征求意见已截止】{document.title}",
                f"《{document.title}》公开征求意见已于截止时间结束，共收到意见{count}条。\n"
                f"请逐条答复并准备送审稿：{staff_page}\n")
    if event == "review_returned":
        return (f"【送审稿被退回】{document.title}",
                f"《{document.title}》在联合审查中被退回。请逐条答复审核意见后重新报送：{staff_page}\n")
    if event == "submission_received":
        return (f"【收到送审材料】{document.title}",
                f"{document.department.name}报送的《{document.title}》已进入联合审查，请在办理时限内审查：{staff_page}\n")
    if event == "legality_due_soon":
        return (f"【合法性审核即将到期】{document.title}",
                f"《{document.title}》的合法性审核将在3个工作日内到期，请及时出具审核意见：{staff_page}\n")
    raise KeyError(event)


def mail_once(key: str, event: str, recipient: str, subject: str, body: str, document_id: int | None = None) -> bool:
    """Queue one mail unless a notification with this key exists; return whether one was queued."""
    if db.session.scalar(select(Notification.id).where(Notification.key == key[:200])) is not None:
        return False
    notification = Notification(key=key[:200], event=event, document_id=document_id, recipient=recipient,
                                subject=subject, body=body)
    db.session.add(notification)
    db.session.flush()
    jobs.request_mail(notification)
    return True


def _notify(event: str, document: Document, recipients: list[tuple[str, str]], texts: tuple[str, str],
            moment: datetime) -> int:
    """One notification per (recipient key, address) and moment of the event."""
    subject, body = texts
    return sum(mail_once(f"{event}:{document.id}:{moment.isoformat()}:{who}", event, address, subject, body,
                         document.id) for who, address in recipients)


def on_transition(document: Document, transition: str) -> int:
    """Called by the engine after every stage change."""
    if transition == "publish":
        mailings.start_feedback_published(document)  # the clock tells the commenters, in batches
        return 0
    if transition not in ON_TRANSITION:
        return 0
    event, who = ON_TRANSITION[transition]
    people = [(f"user-{u.id}", u.email) for u in _staff(document, who)]
    if transition == "head_approve_submission":  # the other signers of the procedure file: co-units' heads …
        from . import co_units

        people += [(f"user-{u.id}", u.email) for u in co_units.signers_to_tell(document)]
    return _notify(event, document, people, _texts(event, document), document.stage_entered_at)


def comment_received(comment: Comment) -> bool:
    """The receipt by mail, for a commenter who left an address: queued in the comment's own commit.

    At most ``RECEIPT_MAILS_PER_ADDRESS_PER_DAY`` receipts go to one address in a day, so that comments
    sent from many places with someone else's address cannot flood that inbox; the comments themselves
    are kept and their receipt numbers shown on the page as always.
    """
    if not comment.email:
        return False
    sent_today = db.session.scalar(select(func.count(Comment.id)).where(
        func.lower(Comment.email) == comment.email.lower(), Comment.id != comment.id,
        Comment.created_at > comment.created_at - timedelta(days=1)))
    if sent_today >= current_app.config["RECEIPT_MAILS_PER_ADDRESS_PER_DAY"]:
        return False
    document = comment.consultation.document
    consultation_page = link(f"/consultations/{comment.consultation_id}")
    return mail_once(
        f"comment_received:{comment.id}", "comment_received", comment.email,
        f"【意见回执】{document.title}",
        f"您就《{document.title}》提出的意见已收到。\n\n回执编号：{display(comment.receipt_number)}\n"
        f"{'登记时间' if comment.logged_by_id else '提交时间'}：{local_time(comment.created_at)}\n\n"
        f"请保存回执编号，凭此编号可查询意见的处理情况：{link('/receipt')}\n"
        f"征求意见页面：{consultation_page}\n\n"
        "您的姓名、单位、电话和电子邮箱不会公开。本邮件由系统自动发送，请勿回复。\n",
        document.id,
    )


def tick(now: datetime | None = None) -> dict[str, int]:
    """The clock, run by every worker's sweeper: record the closings that are due (the engine's automatic
    steps; their notifications follow) and remind the reviewers of legality reviews due soon."""
    now = now or utcnow()
    settled = reminded = 0
    waiting = db.session.scalars(select(Document).where(Document.stage.in_(_stages_with_automatic_steps())))
    for document in waiting:
        before = document.stage
        engine.settle(document, now)
        settled += document.stage != before
    for document in db.session.scalars(select(Document).where(Document.stage == "joint_review")):
        procedure = engine.procedure_of(document)
        for state in deadlines.of_document(document, procedure, now):
            if state.status is deadlines.DeadlineStatus.DUE_SOON and state.deadline.name == "legality_review":
                people = [(f"user-{u.id}", u.email) for u in _staff(document, list(state.deadline.roles))]
                reminded += _notify("legality_due_soon", document, people, _texts("legality_due_soon", document),
                                    document.stage_entered_at)
    announced = mailings.start_announcements(now)
    expiring = expiry_reminders(now)
    db.session.commit()
    mailed = mailings.run(now)
    statistics.fold_channels(now)  # the figures' comments by channel (services/statistics.py)
    return {"settled": settled, "reminded": reminded, "announced": announced, "mailed": mailed,
            "expiring": expiring}


# 有效期届满前提醒: the drafting department hears 90 and 30 days before a document's validity ends, so that it can
# review (清理) the document in time: extend, amend or let it lapse.
EXPIRY_THRESHOLDS = (90, 30)


def expiry_reminders(now: datetime | None = None) -> int:
    """Mail the drafting department of each document in force that expires within a threshold, once per
    document and threshold (the nearest one passed: a document first seen 20 days before is told once)."""
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    status = status_expression(today)
    sent = 0
    for threshold in sorted(EXPIRY_THRESHOLDS):
        nearer = [t for t in EXPIRY_THRESHOLDS if t < threshold]
        told = select(Notification.id).where(Notification.document_id == Document.id,
                                              Notification.event == f"expiry_{threshold}")
        due = select(Document).where(
            Document.published_at.is_not(None), Document.published_at <= now, Document.valid_until.is_not(None),
            Document.valid_until >= today, Document.valid_until <= today + timedelta(days=threshold),
            Document.valid_until > today + timedelta(days=max(nearer, default=-1)),
            status.in_([LibraryStatus.IN_FORCE.value, LibraryStatus.AMENDED.value]), ~told.exists(),
        ).order_by(Document.valid_until, Document.id)
        for document in db.session.scalars(due):
            page = link(f"/library/{document.id}")
            subject = f"【有效期即将届满】{document.document_number or ''}{document.title}"
            body = (f"《{document.title}》（{document.document_number or ''}）的有效期至{document.valid_until.isoformat()}，"
                    f"距今不足{threshold}日。请及时开展评估清理，需要继续施行的，应当在有效期届满前按程序修订或重新发布。\n"
                    f"文件库页面：{page}\n")
            people = [(f"user-{u.id}", u.email) for u in _staff(document, ["department:drafter", "department:department_head"])]
            sent += sum(mail_once(f"expiry_{threshold}:{document.id}:{document.valid_until.isoformat()}:{who}",
                                  f"expiry_{threshold}", address, subject, body, document.id) for who, address in people)
    return sent


def _stages_with_automatic_steps() -> set[str]:
    return {stage for procedure in engine.procedures().values() for t in procedure.transitions.values()
            if t.automatic for stage in t.from_stages}
