"""Deliberation (审议), the document number (发文字号) and publication (公布)."""
from __future__ import annotations

import enum
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import audit, search
from ..errors import InvalidInput
from ..extensions import db
from ..models import Document, JobKind, LibraryChange, LibraryEvent, MeetingDecision, User, VersionKind, utcnow
from ..workflow import engine
from . import drafting, jobs

SHANGHAI = ZoneInfo("Asia/Shanghai")
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


def record_adoption(
    document: Document, user: User, *, decision: str, decision_date: date, prefix: str, note: str = "",
) -> str:
    """Record the executive meeting's adoption and assign the document number."""
    if decision not in (MeetingDecision.ADOPTED.value, MeetingDecision.ADOPTED_WITH_CHANGES.value):
        raise InvalidInput(_("Choose adopted or adopted with changes."))
    engine.perform(document, "record_adoption", user, note=note)
    document.decision, document.decision_date, document.decision_note = decision, decision_date, note.strip()
    number = assign_number(document, prefix, utcnow().astimezone(SHANGHAI).year)
    audit.record("assign_number", actor=user, document=document,
                 payload={"decision": decision, "decision_date": decision_date.isoformat(), "number": number})
    return number


def record_rejection(document: Document, user: User, *, decision_date: date, note: str) -> None:
    engine.perform(document, "record_rejection", user, note=note)
    document.decision, document.decision_date, document.decision_note = (
        MeetingDecision.NOT_ADOPTED.value, decision_date, note.strip())


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
    version = drafting.add_final_text(document, user, final_text)
    document.signed_date = signed_date or document.decision_date
    document.topic = topic or None
    document.policy_interpretation = policy_interpretation.strip() or None
    document.effective_date = effective_date
    document.valid_until = _add_years(effective_date, validity_years) - timedelta(days=1)
    document.published_at = now
    engine.perform(document, "publish", user, now=now)
    search.index_document(document)
    audit.record("publish", actor=user, document=document,
                 payload={"final_version": version.seq, "sha256": version.sha256,
                          "effective_date": effective_date.isoformat(), "valid_until": document.valid_until.isoformat(),
                          "signed_date": document.signed_date.isoformat() if document.signed_date else None,
                          "topic": document.topic})
    jobs.request(JobKind.FEEDBACK_PDF, document)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def is_published(document: Document, now: datetime | None = None) -> bool:
    return document.published_at is not None and document.published_at <= (now or utcnow())


def final_version(document: Document):
    return document.latest_version(VersionKind.FINAL_TEXT)


class LibraryStatus(str, enum.Enum):
    """The status of a published document in the library (规范性文件库)."""

    NOT_YET_IN_FORCE = "not_yet_in_force"  # 尚未生效
    IN_FORCE = "in_force"                  # 现行有效
    AMENDED = "amended"                    # 已修改 (in force as amended)
    REPEALED = "repealed"                  # 已废止
    EXPIRED = "expired"                    # 已失效


def library_status(document: Document, now: datetime | None = None,
                   changes: set[str] | None = None) -> LibraryStatus | None:
    """Follow the dates and the recorded changes, so that no job has to run at midnight.

    None while not published. A repeal or amendment counts from the day it takes effect. ``changes``:
    the changes in effect today, when the caller has read them for many documents at once.
    """
    now = now or utcnow()
    if not is_published(document, now) or document.effective_date is None:
        return None
    today = now.astimezone(SHANGHAI).date()
    if changes is None:
        changes = {e.change for e in db.session.scalars(
            select(LibraryEvent).where(LibraryEvent.document_id == document.id, LibraryEvent.effective_on <= today))}
    if LibraryChange.REPEALED.value in changes:
        return LibraryStatus.REPEALED
    if document.valid_until is not None and today > document.valid_until:
        return LibraryStatus.EXPIRED
    if today < document.effective_date:
        return LibraryStatus.NOT_YET_IN_FORCE
    if LibraryChange.AMENDED.value in changes:
        return LibraryStatus.AMENDED
    return LibraryStatus.IN_FORCE
