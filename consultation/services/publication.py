"""Deliberation (审议), the document number (发文字号) and publication (公布)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit, search, working_days
from ..errors import FieldRefused, InvalidInput
from ..extensions import db
from ..models import Document, MeetingDecision, User, utcnow
from ..workflow import engine
from ..workflow.conditions import latest_consultation
from . import drafting, feedback_stage
from .status import SHANGHAI, LibraryStatus, final_version, is_published, library_status  # noqa: F401

MAX_VALIDITY_YEARS = 5  # 有效期最长不超过5年; 试行 2, 暂行 1


def assign_number(document: Document, prefix: str, year: int) -> str:
    """Give the next number for the issuing organ and year: 华政办发〔2026〕7号, no leading zeros."""
    if prefix not in current_app.config["ISSUING_ORGANS"]:
        raise InvalidInput(_("Unknown issuing organ."))
    for _attempt in range(5):
        seq = (db.session.scalar(
            select(func.max(Document.number_seq)).where(Document.number_prefix == prefix, Document.number_year == year)
        ) or 0) + 1
        try:
            with db.session.begin_nested():
                document.number_prefix, document.number_year, document.number_seq = prefix, year, seq
        except IntegrityError:  # another office took the number at the same moment
            continue
        return document.document_number
    raise InvalidInput(_("The document number could not be assigned; please try again."))


def check_decision_date(document: Document, decision_date: date, now: datetime | None = None) -> None:
    """The meeting's date: not in the future, and not before the public consultation on the draft had ended.

    It decides the number's year, the 成文日期 and the publication time limit, so a typing error would carry far.
    """
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    if decision_date > today:
        raise FieldRefused("decision_date", _("The meeting date cannot be in the future."))
    consultation = latest_consultation(document)
    if consultation is not None and consultation.has_closed(now):
        closed_on = consultation.closes_at.astimezone(SHANGHAI).date()
        if decision_date < closed_on:
            raise FieldRefused("decision_date", _(
                "The meeting cannot have decided before the public consultation ended on %(day)s.",
                day=closed_on.isoformat()))


def record_adoption(
    document: Document, user: User, *, decision: str, decision_date: date, prefix: str, note: str = "",
) -> str:
    """Record the executive meeting's adoption and assign the document number."""
    if decision not in (MeetingDecision.ADOPTED.value, MeetingDecision.ADOPTED_WITH_CHANGES.value):
        raise InvalidInput(_("Choose adopted or adopted with changes."))
    check_decision_date(document, decision_date)
    engine.perform(document, "record_adoption", user, note=note)
    document.decision, document.decision_date, document.decision_note = decision, decision_date, note.strip()
    # The number's year is the year of the decision (the 成文日期 defaults to it), not of the day it is recorded.
    number = assign_number(document, prefix, decision_date.year)
    audit.record("assign_number", actor=user, document=document,
                 payload={"decision": decision, "decision_date": decision_date.isoformat(), "number": number})
    return number


def record_rejection(document: Document, user: User, *, decision_date: date, note: str) -> None:
    check_decision_date(document, decision_date)
    engine.perform(document, "record_rejection", user, note=note)
    document.decision, document.decision_date, document.decision_note = (
        MeetingDecision.NOT_ADOPTED.value, decision_date, note.strip())
    # The date and reason are published with the feedback (services/feedback_stage.py).
    audit.record("record_decision", actor=user, document=document, note=note.strip(),
                 payload={"decision": document.decision, "decision_date": decision_date.isoformat()})


def check_signed_year(document: Document, signed_date: date | None) -> None:
    """The 成文日期 falls in the year the document number carries: 华政办发〔2026〕 is signed in 2026."""
    if signed_date and document.number_year and signed_date.year != document.number_year:
        raise FieldRefused("signed_date", _("The date of signing must fall in the year of the document number "
                                            "%(number)s.", number=document.document_number))


def max_validity_years(title: str) -> int:
    if "暂行" in title:
        return 1
    if "试行" in title:
        return 2
    return MAX_VALIDITY_YEARS


def publish(
    document: Document, user: User, *, final_text: str, policy_interpretation: str,
    effective_date: date, validity_years: int, signed_date: date | None = None, topic: str = "",
    now: datetime | None = None,
) -> None:
    """Publish the final text with its interpretation and the adoption feedback; request the PDF."""
    now = now or utcnow()
    limit = max_validity_years(document.title)
    if not 1 <= validity_years <= limit:
        raise InvalidInput(_("The validity period must be between 1 and %(n)d years.", n=limit))
    if effective_date < now.astimezone(SHANGHAI).date():
        raise InvalidInput(_("The effective date cannot be before the publication date."))
    if topic and topic not in current_app.config["LIBRARY_TOPICS"]:
        raise InvalidInput(_("Choose a topic from the list."))
    check_signed_year(document, signed_date)
    version = drafting.add_final_text(document, user, final_text)
    document.signed_date = signed_date or document.decision_date
    document.topic = topic or None
    document.policy_interpretation = policy_interpretation.strip() or None
    document.effective_date = effective_date
    document.valid_until = _add_years(effective_date, validity_years) - timedelta(days=1)
    document.published_at = now
    _record_publication_time(document, now)
    engine.perform(document, "publish", user, now=now)
    search.index_document(document)
    audit.record("publish", actor=user, document=document,
                 payload={"final_version": version.seq, "sha256": version.sha256,
                          "effective_date": effective_date.isoformat(), "valid_until": document.valid_until.isoformat(),
                          "signed_date": document.signed_date.isoformat() if document.signed_date else None,
                          "topic": document.topic, "working_days": document.publication_working_days,
                          "limit_working_days": document.publication_limit_days,
                          "late_by": document.published_late_by})
    # The head, this publication included, is signed in the same transaction: the feedback page and PDF show it.
    audit.try_checkpoint(audit.PUBLICATION, now=now)
    feedback_stage.request_pdf(document)  # the feedback, updated with the final text and its number


def _record_publication_time(document: Document, now: datetime) -> None:
    """Keep on the document how many working days publication took after the decision, against the limit."""
    deadline = engine.procedure_of(document).deadlines.get("publication")
    if document.decision_date is None or deadline is None or not deadline.working_days:
        return
    published_on = now.astimezone(SHANGHAI).date()
    document.publication_working_days = (working_days.working_days_between(document.decision_date, published_on)
                                         if published_on > document.decision_date else 0)
    document.publication_limit_days = deadline.working_days


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


