"""The consultations the public may list: opened ones only, with the API's filters.

The status follows the clock and the publication date, never a job: ``open`` inside the window,
``closed`` after it, ``feedback`` once its adoption feedback is public (services/feedback_stage.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Consultation, Document, utcnow
from ..services import tallies
from ..services.consultations import SHANGHAI
from ..services.status import feedback_public

STATUSES = ("open", "closed", "feedback")


def consultation_status(consultation: Consultation, now: datetime | None = None) -> str:
    now = now or utcnow()
    if feedback_public(consultation.document, now):
        return "feedback"
    return "open" if consultation.is_open(now) else "closed"


@dataclass(frozen=True)
class ConsultationPage:
    items: list[Consultation]
    total: int
    page: int
    per_page: int


def browse_consultations(*, status: str | None = None, department_id: int | None = None, year: int | None = None,
                         page: int = 1, per_page: int = 20, now: datetime | None = None) -> ConsultationPage:
    """The opened consultations, newest opening first; never one whose opening time is still ahead."""
    now = now or utcnow()
    published = and_(Document.feedback_published_at.is_not(None), Document.feedback_published_at <= now)
    conditions = [Consultation.opens_at <= now]
    if status == "feedback":
        conditions.append(published)
    elif status == "open":
        conditions += [Consultation.closes_at > now, ~published]
    elif status == "closed":
        conditions += [Consultation.closes_at <= now, ~published]
    if department_id:
        conditions.append(Document.department_id == department_id)
    if year:
        start = datetime(year, 1, 1, tzinfo=SHANGHAI)
        conditions += [Consultation.opens_at >= start, Consultation.opens_at < start.replace(year=year + 1)]
    query = select(Consultation).join(Document, Consultation.document_id == Document.id).where(*conditions)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = db.session.scalars(query.options(selectinload(Consultation.document).selectinload(Document.department))
                               .order_by(Consultation.opens_at.desc(), Consultation.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return ConsultationPage(list(items), total, page, per_page)


def comment_counts(consultations: list[Consultation]) -> dict[int, int]:
    """How many comments each consultation received (all of them: hidden ones still count), from the counters."""
    return tallies.totals([c.id for c in consultations])
