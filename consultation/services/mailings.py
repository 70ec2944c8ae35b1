"""Mailings: one event told to many people, by the worker's clock, a page of recipients at a time.

A request that publishes a document with a million comments only records that its commenters are to be
told (one ``Mailing`` row); the clock reads them in keyset batches, makes one notification per address (the
notification's key keeps it to one, whichever batch meets the address first) and moves the mailing's cursor
in the same commit, so a worker killed half-way resumes where it stopped and nobody hears twice.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, or_, select

from ..extensions import db
from ..i18n import local_time
from ..models import Comment, Consultation, Document, Mailing, Notification, Subscription, utcnow
from ..receipts import display
from . import jobs

FEEDBACK_PUBLISHED = "feedback_published"
FEEDBACK_BEFORE_DECISION = "feedback_before_decision"  # public before the executive meeting (feedback_stage.py)
FEEDBACK_OUTCOME = "feedback_outcome"  # not adopted, or withdrawn: the outcome with the feedback
FEEDBACK_EVENTS = (FEEDBACK_PUBLISHED, FEEDBACK_BEFORE_DECISION, FEEDBACK_OUTCOME)
NEW_CONSULTATION = "new_consultation"


@dataclass(frozen=True)
class Letter:
    key: str
    recipient: str
    subject: str
    body: str


def start_feedback_published(document: Document) -> Mailing:
    """Record that the commenters who left an address are to hear that the feedback is published."""
    return start_feedback_mailing(document, FEEDBACK_PUBLISHED)


def start_feedback_mailing(document: Document, event: str) -> Mailing:
    """Record that the commenters who left an address are to hear of a feedback event (one mail per event)."""
    return _start(f"{event}:doc-{document.id}", event, document_id=document.id)


def start_announcements(now: datetime | None = None) -> int:
    """A mailing for each consultation that has opened and has none yet (a handful at any time)."""
    now = now or utcnow()
    opened = db.session.scalars(select(Consultation).where(
        Consultation.opens_at <= now, Consultation.closes_at > now,
        ~select(Mailing.id).where(Mailing.consultation_id == Consultation.id,
                                  Mailing.event == NEW_CONSULTATION).exists()))
    started = [_start(f"{NEW_CONSULTATION}:cons-{c.id}", NEW_CONSULTATION, document_id=c.document_id,
                      consultation_id=c.id) for c in opened]
    return len(started)


def _start(key: str, event: str, **subject) -> Mailing:
    mailing = db.session.scalars(select(Mailing).where(Mailing.key == key)).first()
    if mailing is None:
        mailing = Mailing(key=key, event=event, after_id=0, sent=0, **subject)
        db.session.add(mailing)
        db.session.flush()
    return mailing


def run(now: datetime | None = None) -> int:
    """Send the next batches of every unfinished mailing, within the clock's budget; return the mails queued.

    Each batch is committed with its cursor, so the work of one tick is bounded by
    ``MAILING_BATCH * MAILING_BATCHES_PER_TICK`` recipients and the rest waits for the next tick.
    """
    now = now or utcnow()
    size = current_app.config["MAILING_BATCH"]
    budget = current_app.config["MAILING_BATCHES_PER_TICK"]
    queued = 0
    while budget > 0:
        pending = db.session.scalars(select(Mailing).where(Mailing.finished_at.is_(None)).order_by(Mailing.id)
                                     .limit(budget)).all()
        if not pending:
            break
        progressed = False
        for mailing in pending:
            made, more = _batch(mailing, size, now)
            queued += made
            progressed = progressed or more
            budget -= 1
            db.session.commit()
        if not progressed:
            break
    return queued


def _batch(mailing: Mailing, size: int, now: datetime) -> tuple[int, bool]:
    """One page of a mailing's recipients; return the mails queued and whether a full page was read."""
    if mailing.event in FEEDBACK_EVENTS:
        letters, full = _feedback_letters(mailing, size)
    else:
        letters, full = _announcement_letters(mailing, size)
        consultation = db.session.get(Consultation, mailing.consultation_id)
        if not full and consultation.closes_at <= now:
            mailing.finished_at = now  # closed: nobody confirming from now on needs to hear of it
    if mailing.event in FEEDBACK_EVENTS and not full:
        mailing.finished_at = now
        # With the last page, the invited assessors (事前评估, at most 200): one mail per address and event.
        from .invitations import feedback_letters

        taken = {letter.key for letter in letters}
        letters += [letter for letter in feedback_letters(mailing.event, db.session.get(Document, mailing.document_id))
                    if letter.key not in taken]
    made = _send(letters, mailing.document_id)
    mailing.sent += made
    return made, full


def _send(letters: list[Letter], document_id: int | None) -> int:
    """Queue a mail for each letter whose key has no notification yet (one query for the whole page)."""
    unique = {letter.key: letter for letter in letters}
    if not unique:
        return 0
    known = set(db.session.scalars(select(Notification.key).where(Notification.key.in_(list(unique)))))
    made = 0
    for letter in unique.values():
        if letter.key in known:
            continue
        notification = Notification(key=letter.key, event=letter.key.split(":", 1)[0], document_id=document_id,
                                    recipient=letter.recipient, subject=letter.subject, body=letter.body)
        db.session.add(notification)
        db.session.flush()
        jobs.request_mail(notification)
        made += 1
    return made


def link(path: str) -> str:
    """An absolute link for a mail (SITE_URL + path)."""
    return current_app.config["SITE_URL"].rstrip("/") + path


def _feedback_letters(mailing: Mailing, size: int) -> tuple[list[Letter], bool]:
    """The next page of the document's comments that left an address; one letter per address."""
    rows = db.session.execute(
        select(Comment.id, Comment.email, Comment.receipt_number)
        .where(Comment.document_id == mailing.document_id, Comment.id > mailing.after_id,
               Comment.email.is_not(None))
        .order_by(Comment.id).limit(size)).all()
    if rows:
        mailing.after_id = rows[-1].id
    document = db.session.get(Document, mailing.document_id)
    feedback = link(f"/feedback/{document.id}")
    letters = []
    for row in rows:
        address = row.email.strip().lower()
        digest = hashlib.sha256(address.encode()).hexdigest()[:32]
        if mailing.event != FEEDBACK_PUBLISHED:
            from .feedback_stage import feedback_letter

            subject, opening = feedback_letter(mailing.event, document, display(row.receipt_number), feedback)
        else:
            subject = f"【意见采纳情况已公布】{document.title}"
            opening = (f"您就《{document.title}》提出的意见（回执编号 {display(row.receipt_number)}）已有答复，"
                       f"正式文本及意见采纳情况已公布：{feedback}\n")
        letters.append(Letter(
            key=f"{mailing.event}:{document.id}:{digest}", recipient=row.email, subject=subject,
            body=(opening + f"按回执编号查询每条意见的处理情况：{link('/receipt')}\n"
                  "本邮件由系统自动发送，请勿回复。\n")))
    return letters, len(rows) == size


def _announcement_letters(mailing: Mailing, size: int) -> tuple[list[Letter], bool]:
    """The next page of confirmed subscribers, in the order they confirmed (a late confirmation comes last)."""
    consultation = db.session.get(Consultation, mailing.consultation_id)
    document = consultation.document
    query = select(Subscription).where(
        Subscription.confirmed_at.is_not(None), Subscription.ended_at.is_(None),
        or_(Subscription.department_id.is_(None), Subscription.department_id == document.department_id))
    if mailing.after_time is not None:
        query = query.where(or_(Subscription.confirmed_at > mailing.after_time,
                                and_(Subscription.confirmed_at == mailing.after_time,
                                     Subscription.id > mailing.after_id)))
    subscribers = db.session.scalars(
        query.order_by(Subscription.confirmed_at, Subscription.id).limit(size)).all()
    if subscribers:
        mailing.after_time, mailing.after_id = subscribers[-1].confirmed_at, subscribers[-1].id
    letters = [Letter(
        key=f"{NEW_CONSULTATION}:{consultation.id}:sub-{s.id}", recipient=s.email,
        subject=f"【公开征求意见】{document.title}",
        body=(f"{document.department.name}就《{document.title}》公开征求意见，"
              f"截止时间为{local_time(consultation.closes_at)}（北京时间）。\n"
              f"阅读草案并提出意见：{link(f'/consultations/{consultation.id}')}\n\n"
              f"退订：{link(f'/subscribe/end/{s.token}')}\n")) for s in subscribers]
    return letters, len(subscribers) == size
