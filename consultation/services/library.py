"""The library of published documents (规范性文件库): its record, status changes and history."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit
from ..errors import InvalidInput, NotAllowed
from ..extensions import db
from ..models import Document, LibraryChange, LibraryEvent, Role, User, utcnow
from .publication import SHANGHAI, LibraryStatus, check_signed_year, is_published, library_status
from .status import status_expression

KEEPERS = (Role.OPENNESS_OFFICER.value, Role.ADMIN.value)  # who keeps the library


def may_keep(user: User) -> bool:
    return any(user.has_role(role) for role in KEEPERS)


def published_documents(now: datetime | None = None, limit: int = 200) -> list[Document]:
    """The latest published documents (the choices of an amending or repealing document)."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Document).where(Document.published_at.is_not(None), Document.published_at <= now)
        .order_by(Document.published_at.desc(), Document.id.desc()).limit(limit)
    ))


def public_document(document_id: int, now: datetime | None = None) -> Document | None:
    document = db.session.get(Document, document_id)
    return document if document is not None and is_published(document, now) else None


@dataclass(frozen=True)
class LibraryPage:
    items: list[tuple[Document, LibraryStatus]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def browse(*, status: str | None = None, topic: str | None = None, department_id: int | None = None,
           year: int | None = None, page: int = 1, per_page: int = 20, now: datetime | None = None) -> LibraryPage:
    """The published documents, newest first, with the filters of the library page and the API.

    Filtered, counted and cut to one page in the database (a city's library holds thousands of documents);
    the status of the page's documents is then computed as everywhere else (``library_status``).
    """
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    query = select(Document).where(Document.published_at.is_not(None), Document.published_at <= now)
    if topic:
        query = query.where(Document.topic == topic)
    if department_id:
        query = query.where(Document.department_id == department_id)
    if year:
        query = query.where(Document.number_year == year)
    if status:
        query = query.where(Document.effective_date.is_not(None), status_expression(today) == status)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    documents = db.session.scalars(query.options(selectinload(Document.department))
                                   .order_by(Document.published_at.desc(), Document.id.desc())
                                   .offset((page - 1) * per_page).limit(per_page)).all()
    # The changes in effect today of the page's documents, in one query.
    changes: dict[int, set[str]] = {}
    for document_id, change in db.session.execute(
            select(LibraryEvent.document_id, LibraryEvent.change)
            .where(LibraryEvent.document_id.in_([d.id for d in documents]), LibraryEvent.effective_on <= today)):
        changes.setdefault(document_id, set()).add(change)
    rows = [(d, library_status(d, now, changes.get(d.id, set()))) for d in documents]
    return LibraryPage(rows, total, page, per_page)


def issuing_organ(document: Document) -> str | None:
    """发文机关: the organ whose number the document carries (华政办发 → 华城市人民政府办公室)."""
    return current_app.config["ISSUING_ORGANS"].get(document.number_prefix) if document.number_prefix else None


def years() -> list[int]:
    return [y for (y,) in db.session.execute(
        select(Document.number_year).where(Document.published_at.is_not(None), Document.number_year.is_not(None))
        .distinct().order_by(Document.number_year.desc()))]


def topics() -> list[str]:
    return list(current_app.config["LIBRARY_TOPICS"])


def update_record(document: Document, user: User, *, registration_number: str, topic: str,
                  signed_date: date | None) -> None:
    """The library record kept by the openness office: 备案登记号 (given after publication), topic, 成文日期."""
    _require_keeper(user, document)
    topic = topic.strip()
    if topic and topic not in topics():
        raise InvalidInput(_("Choose a topic from the list."))
    check_signed_year(document, signed_date)
    before = {"registration_number": document.registration_number, "topic": document.topic,
              "signed_date": document.signed_date.isoformat() if document.signed_date else None}
    document.registration_number = registration_number.strip() or None
    document.topic = topic or None
    document.signed_date = signed_date
    audit.record("update_library_record", actor=user, document=document,
                 payload={"before": before, "registration_number": document.registration_number,
                          "topic": document.topic, "signed_date": signed_date.isoformat() if signed_date else None})


def record_change(document: Document, user: User, *, change: str, effective_on: date, by_document_id: int | None = None,
                  by_reference: str = "", note: str = "") -> LibraryEvent:
    """Record that a published document is amended or repealed from a given day."""
    _require_keeper(user, document)
    try:
        change = LibraryChange(change).value
    except ValueError:
        raise InvalidInput(_("Choose amended or repealed.")) from None
    published_on = document.published_at.astimezone(SHANGHAI).date()
    if effective_on < published_on:
        raise InvalidInput(_("The change cannot take effect before the document was published (%(day)s).",
                             day=published_on.isoformat()))
    repealed = db.session.scalar(select(LibraryEvent.id).where(
        LibraryEvent.document_id == document.id, LibraryEvent.change == LibraryChange.REPEALED.value))
    if repealed is not None:
        raise InvalidInput(_("This document is already repealed; nothing can change it any more."))
    by_document = None
    if by_document_id:
        by_document = db.session.get(Document, by_document_id)
        if by_document is None or by_document.id == document.id or not is_published(by_document):
            raise InvalidInput(_("The amending or repealing document must be another published document."))
    if by_document is None and not by_reference.strip():
        raise InvalidInput(_("Name the document that amends or repeals it (its number), or choose it from the library."))
    event = LibraryEvent(document_id=document.id, change=change, effective_on=effective_on,
                         by_document_id=by_document.id if by_document else None,
                         by_reference=by_reference.strip() or None, note=note.strip(), recorded_by_id=user.id,
                         recorded_at=utcnow())
    db.session.add(event)
    db.session.flush()
    audit.record("record_library_change", actor=user, document=document, note=note.strip(),
                 payload={"change": change, "effective_on": effective_on.isoformat(),
                          "by_document_id": event.by_document_id, "by_reference": event.by_reference})
    return event


def _require_keeper(user: User, document: Document) -> None:
    if not may_keep(user):
        raise NotAllowed(_("Only the openness office keeps the library."))
    if not is_published(document):
        raise InvalidInput(_("Only a published document is in the library."))


@dataclass(frozen=True)
class HistoryEntry:
    day: date
    status: LibraryStatus
    note: str
    by_document: Document | None = None
    by_reference: str | None = None


def history(document: Document, now: datetime | None = None) -> list[HistoryEntry]:
    """Every status the document has had or will have, in order: from publication to today and the
    changes already announced."""
    now = now or utcnow()
    if not is_published(document, now):
        return []
    published_on = document.published_at.astimezone(SHANGHAI).date()
    entries: list[HistoryEntry] = []
    if document.effective_date and document.effective_date > published_on:
        entries.append(HistoryEntry(published_on, LibraryStatus.NOT_YET_IN_FORCE, _("Published")))
    entries.append(HistoryEntry(document.effective_date or published_on, LibraryStatus.IN_FORCE, _("In force")))
    for e in db.session.scalars(select(LibraryEvent).where(LibraryEvent.document_id == document.id)
                                .order_by(LibraryEvent.effective_on, LibraryEvent.id)):
        status = LibraryStatus.REPEALED if e.change == LibraryChange.REPEALED.value else LibraryStatus.AMENDED
        entries.append(HistoryEntry(e.effective_on, status, e.note, e.by_document, e.by_reference))
    if document.valid_until:
        entries.append(HistoryEntry(document.valid_until + timedelta(days=1), LibraryStatus.EXPIRED,
                                    _("End of the validity period")))
    entries.sort(key=lambda h: h.day)
    # Nothing after a repeal: the document no longer expires, it is gone.
    cut = next((i for i, h in enumerate(entries) if h.status is LibraryStatus.REPEALED), None)
    return entries[:cut + 1] if cut is not None else entries


def changed_by(document: Document) -> list[LibraryEvent]:
    """The library changes this document made to others (it amended or repealed them)."""
    return list(db.session.scalars(select(LibraryEvent).where(LibraryEvent.by_document_id == document.id)
                                   .order_by(LibraryEvent.effective_on)))
