"""Pre-disclosure (预公开): the consultation window and the comments it receives."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.exc import IntegrityError

from .. import audit, search, working_days
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import Article, Comment, CommentChannel, Consultation, ConsultationExtension, Document, User, utcnow
from ..receipts import new_receipt_number, normalise
from ..text import one_line_break
from ..workflow import engine
from ..workflow.conditions import latest_consultation
from . import notifications, tallies

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The officer fills the form for a while: an opening time a few minutes old still means "now".
OPENING_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class MinimumWindow:
    earliest_close_day: date  # the closing time must fall on this day (Beijing time) or later
    rule: str
    estimated: bool


def minimum_window(document: Document, opens_at: datetime) -> MinimumWindow:
    """Compute the earliest closing day from the procedure file's periods."""
    procedure = engine.procedure_of(document)
    key = "consultation_min_market" if document.concerns_market_entities else "consultation_min"
    period = procedure.periods.get(key) or procedure.periods["consultation_min"]
    first_day = opens_at.astimezone(SHANGHAI).date()
    if period.working_days:
        deadline = working_days.add_working_days(first_day, period.working_days)
        rule = _("at least %(n)d working days", n=period.working_days)
    else:
        deadline = working_days.add_calendar_days(first_day, period.calendar_days)
        rule = _("at least %(n)d days", n=period.calendar_days)
    return MinimumWindow(deadline.day, rule, deadline.estimated)


# A written justification for a shorter period must say something: a word or two is not a reason.
MIN_JUSTIFICATION_LENGTH = 10


def open_consultation(
    document: Document, user: User, *, opens_at: datetime, closes_at: datetime, notice: str,
    short_period_reason: str = "", contact_person: str = "", contact_phone: str = "", contact_email: str = "",
    postal_address: str = "", now: datetime | None = None,
) -> Consultation:
    """Pass the confidentiality review and publish the draft for comment in the given window.

    A window shorter than the legal minimum is accepted only with a written justification, which the
    public page shows with the notice.
    """
    now = now or utcnow()
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ValueError("opening and closing times must be timezone-aware")
    if closes_at <= opens_at:
        raise InvalidInput(_("The closing time must be after the opening time."))
    if opens_at < now - OPENING_GRACE:
        raise InvalidInput(_("The opening time cannot be in the past."))
    window = minimum_window(document, opens_at)
    short_period_reason = short_period_reason.strip()
    shortened = closes_at.astimezone(SHANGHAI).date() < window.earliest_close_day
    if shortened and len(short_period_reason) < MIN_JUSTIFICATION_LENGTH:
        raise InvalidInput(
            _(
                "The consultation period is too short: the rule is %(rule)s, the first day not counted, "
                "so it cannot close before %(day)s. A shorter period needs a written justification "
                "(at least %(n)d characters), which the notice will show.",
                rule=window.rule, day=window.earliest_close_day.isoformat(), n=MIN_JUSTIFICATION_LENGTH,
            )
        )
    consultation = Consultation(
        document_id=document.id, version_id=document.current_version.id, opens_at=opens_at,
        closes_at=closes_at, notice=notice.strip(), short_period_reason=short_period_reason if shortened else None,
        approved_by_id=user.id, approved_at=now, contact_person=contact_person.strip() or None,
        contact_phone=contact_phone.strip() or None, contact_email=contact_email.strip() or None,
        postal_address=postal_address.strip() or None,
    )
    db.session.add(consultation)
    db.session.flush()
    engine.perform(document, "open_consultation", user, now=now)
    search.index_consultation(consultation)
    audit.record(
        "schedule_consultation", actor=user, document=document,
        payload={"opens_at": opens_at.isoformat(), "closes_at": closes_at.isoformat(),
                 "earliest_close_day": window.earliest_close_day.isoformat(), "estimated": window.estimated,
                 "shortened": shortened, "justification": consultation.short_period_reason},
    )
    return consultation


def extend_consultation(
    document: Document, user: User, *, closes_at: datetime, reason: str, now: datetime | None = None,
) -> ConsultationExtension:
    """Move the closing time of an open consultation later, with a reason the public page announces.

    Shortening is refused: once the public has been told a date, it may only move later.
    """
    now = now or utcnow()
    engine.settle(document, now)
    engine.require_action(user, document, "extend_consultation")
    consultation = latest_consultation(document)
    if closes_at.tzinfo is None:
        raise ValueError("the closing time must be timezone-aware")
    if consultation is None or not consultation.is_open(now):
        raise InvalidInput(_("Only an open consultation can be extended."))
    if closes_at <= consultation.closes_at:
        raise InvalidInput(_(
            "A consultation can only be extended: the new closing time must be after %(when)s. "
            "Shortening an open consultation is not allowed.",
            when=consultation.closes_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        ))
    if not reason.strip():
        raise InvalidInput(_("Give the reason for the extension; it is announced on the consultation page."))
    extension = ConsultationExtension(
        previous_closes_at=consultation.closes_at, new_closes_at=closes_at, reason=reason.strip(),
        extended_by_id=user.id, extended_at=now,
    )
    consultation.extensions.append(extension)
    consultation.closes_at = closes_at
    db.session.flush()
    audit.record(
        "extend_consultation", actor=user, document=document, note=reason.strip(),
        payload={"consultation_id": consultation.id, "from": extension.previous_closes_at.isoformat(),
                 "to": closes_at.isoformat()},
    )
    return extension


def public_consultation(consultation_id: int, now: datetime | None = None) -> Consultation:
    """Return a consultation the public may see: never before its opening time."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or not consultation.has_opened(now):
        raise NotFound(_("No such consultation."))
    return consultation


def open_consultations(now: datetime | None = None, limit: int | None = None) -> list[Consultation]:
    """The consultations open now, closing soonest first, with their documents (a few dozen at any time)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Consultation).where(Consultation.opens_at <= now, Consultation.closes_at > now)
        .options(selectinload(Consultation.document)).order_by(Consultation.closes_at).limit(limit)
    ))


def recently_closed(now: datetime | None = None, days: int = 180, limit: int = 10) -> list[Consultation]:
    """Consultations closed in the last months whose final text is not published yet (being handled); a document
    that ended without a final text is listed with its outcome instead (feedback_stage.recent_outcomes)."""
    from .feedback_stage import ended_clause

    now = now or utcnow()
    return list(db.session.scalars(
        select(Consultation).join(Document, Consultation.document_id == Document.id).where(
            Consultation.closes_at <= now, Consultation.closes_at > now - timedelta(days=days),
            (Document.published_at.is_(None)) | (Document.published_at > now), ~ended_clause(),
        ).order_by(Consultation.closes_at.desc()).limit(limit)
    ))


def client_hash(address: str | None) -> str | None:
    """Keep a keyed hash of the client address, never the address itself."""
    if not address:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=256)
def article_ids(version_id: int) -> frozenset[int]:
    """The articles of a version: a version's text never changes once saved, so this is kept."""
    return frozenset(db.session.scalars(select(Article.id).where(Article.version_id == version_id)))


def _commit_keeping(comment: Comment) -> None:
    """Commit without expiring the new comment: its receipt is answered at once, without reading it back."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def idempotency_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def replayed_comment(consultation: Consultation, idempotency_key: str | None, *, body: str,
                     article_id: int | None) -> Comment | None:
    """The comment an earlier request with this Idempotency-Key created, if any.

    The same key with another consultation, text or article is a client error, never a second comment.
    """
    if not idempotency_key:
        return None
    comment = db.session.scalars(
        select(Comment).where(Comment.idempotency_key == idempotency_digest(idempotency_key))).first()
    if comment is None:
        return None
    if (comment.consultation_id, comment.body, comment.article_id) != (
            consultation.id, one_line_break(body).strip(), article_id):
        raise InvalidInput(_("This Idempotency-Key was already used for a different comment. "
                             "Use a new key for a new comment."))
    return comment


def submit_comment(
    consultation: Consultation, *, body: str, article_id: int | None = None, name: str = "",
    organisation: str = "", phone: str = "", email: str = "", show_masked_name: bool = False,
    client_address: str | None = None, idempotency_key: str | None = None, now: datetime | None = None,
) -> Comment:
    """Accept a public comment and commit it: once a receipt number exists, so does the comment.

    No lock is shared by all writers: the comment is stored and counted (on a spread counter row), and
    the clock places it in its campaign group and seals it into the audit chain moments later
    (services/intake.py). With an ``idempotency_key``, a
    client's retry of a request that did reach us gets the first receipt back, never a second comment.
    """
    now = now or utcnow()
    if (earlier := replayed_comment(consultation, idempotency_key, body=body, article_id=article_id)) is not None:
        return earlier
    if not consultation.is_open(now):
        if consultation.has_closed(now):
            raise InvalidInput(_("The consultation closed on %(when)s; comments are no longer accepted.",
                                 when=consultation.closes_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")))
        raise InvalidInput(_("The consultation has not opened yet."))
    comment = receive_comment(
        consultation, body=body, article_id=article_id, name=name, organisation=organisation, phone=phone,
        email=email, show_masked_name=show_masked_name, client_address=client_address,
        idempotency_key=idempotency_key, now=now)
    _commit_keeping(comment)
    return comment


def receive_comment(
    consultation: Consultation, *, body: str, article_id: int | None = None, channel: str = CommentChannel.WEB.value,
    name: str = "", organisation: str = "", phone: str = "", email: str = "", show_masked_name: bool = False,
    client_address: str | None = None, idempotency_key: str | None = None, logged_by: User | None = None,
    now: datetime | None = None,
) -> Comment:
    """Store, count and acknowledge one comment, whatever its channel; the caller commits.

    The web form and the staff who log letters, emails and meetings (services/offline.py) both come
    through here: a receipt number, the counters, the receipt mail; the clock then groups and seals it.
    """
    now = now or utcnow()
    body = one_line_break(body).strip()  # a line break counts once, as the browser counts it
    if not body:
        raise InvalidInput(_("Please write your comment."))
    limit = current_app.config["COMMENT_MAX_LENGTH"]
    if len(body) > limit:
        raise InvalidInput(_("The comment is too long: at most %(n)d characters.", n=limit))
    if article_id is not None and article_id not in article_ids(consultation.version_id):
        raise InvalidInput(_("The article you chose is not part of this draft."))
    for _attempt in range(5):
        comment = Comment(
            consultation_id=consultation.id, document_id=consultation.document_id, article_id=article_id,
            receipt_number=new_receipt_number(), body=body, channel=channel,
            name=name.strip() or None, organisation=organisation.strip() or None, phone=phone.strip() or None,
            email=email.strip() or None, show_masked_name=bool(show_masked_name and name.strip()),
            client_hash=client_hash(client_address), created_at=now,
            logged_by_id=logged_by.id if logged_by is not None else None,
            idempotency_key=idempotency_digest(idempotency_key) if idempotency_key else None,
        )
        db.session.add(comment)
        try:
            db.session.flush()
        except IntegrityError:  # a receipt-number collision (astronomically rare), or the same key at once
            db.session.rollback()
            if (earlier := replayed_comment(consultation, idempotency_key, body=body, article_id=article_id)):
                return earlier
            continue
        tallies.added(comment)
        notifications.comment_received(comment)  # the mail goes out from the outbox after this commit
        return comment
    raise RuntimeError("could not draw a unique receipt number")


def find_by_receipt(receipt: str) -> Comment | None:
    number = normalise(receipt)
    if not number:
        return None
    return db.session.scalars(select(Comment).where(Comment.receipt_number == number)).first()


def consultation_of(document: Document) -> Consultation | None:
    return latest_consultation(document)
