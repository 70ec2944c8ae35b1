"""Where a document stands publicly: published yet, its final text, its status in the library.

Read by the services, the search index, the pages and the API; it imports none of them.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, select

from ..extensions import db
from ..models import Document, LibraryChange, LibraryEvent, VersionKind, utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def is_published(document: Document, now: datetime | None = None) -> bool:
    return document.published_at is not None and document.published_at <= (now or utcnow())


def feedback_public(document: Document, now: datetime | None = None) -> bool:
    """The adoption feedback is public (from the procedure's stage, an outcome, or the final publication)."""
    return document.feedback_published_at is not None and document.feedback_published_at <= (now or utcnow())


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


def status_expression(today: date):
    """``library_status`` as a SQL CASE over Document, for filtering and counting in the database."""
    def changed(change: str):
        return exists().where(LibraryEvent.document_id == Document.id, LibraryEvent.change == change,
                              LibraryEvent.effective_on <= today)

    return case(
        (changed(LibraryChange.REPEALED.value), LibraryStatus.REPEALED.value),
        (and_(Document.valid_until.is_not(None), Document.valid_until < today), LibraryStatus.EXPIRED.value),
        (Document.effective_date > today, LibraryStatus.NOT_YET_IN_FORCE.value),
        (changed(LibraryChange.AMENDED.value), LibraryStatus.AMENDED.value),
        else_=LibraryStatus.IN_FORCE.value,
    )
