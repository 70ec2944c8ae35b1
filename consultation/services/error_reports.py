"""Error reports (我要纠错): received from any page, answered by the openness office within a time limit.

The limit is counted like the procedure's time limits (consultation/workflow/deadlines.py): in working days
from the day of receipt (Beijing time), the first day not counted; a report is flagged "due soon" within
ERROR_REPORT_WARN_WORKING_DAYS of its day and "overdue" after it. The queue is keyset-paged by id.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import working_days
from ..errors import InvalidInput
from ..extensions import db
from ..models import User, utcnow
from ..models.error_reports import SiteErrorReport
from ..workflow.deadlines import DeadlineStatus, local_day

QUEUE_PAGE = 50
MAX_BODY = 2000
MAX_PAGE = 500


def safe_page(address: str | None) -> str | None:
    """The page's site-relative address (``/…``), or None for anything else (another site, ``//host``, a
    scheme, control characters): a report never links staff to a page outside the site."""
    address = (address or "").strip()
    if (not address.startswith("/") or address.startswith(("//", "/\\")) or len(address) > MAX_PAGE
            or any(ord(c) < 32 or c == "\\" for c in address)):
        return None
    return address


def receive(page: str | None, body: str, contact: str = "", now: datetime | None = None) -> SiteErrorReport:
    """Store a report with the day its answer is due; the caller commits. A report without a page of this
    site (the form opened from the site map, or an address elsewhere) concerns the site as a whole ("")."""
    now = now or utcnow()
    address = safe_page(page) or ""
    if not body.strip():
        raise InvalidInput(_("Please describe the error."))
    due = working_days.add_working_days(local_day(now), current_app.config["ERROR_REPORT_ANSWER_WORKING_DAYS"])
    report = SiteErrorReport(page=address, body=body.strip()[:MAX_BODY], contact=contact.strip(), received_at=now,
                             due_on=due.day, due_estimated=due.estimated, answer="")
    db.session.add(report)
    db.session.flush()
    return report


def status(report: SiteErrorReport, now: datetime | None = None) -> DeadlineStatus:
    """Where the report's time limit stands today: met once answered (on time or not), else running, due
    soon or overdue."""
    if report.answered_at is not None:
        return DeadlineStatus.MET
    today = local_day(now or utcnow())
    if today > report.due_on:
        return DeadlineStatus.OVERDUE
    if working_days.working_days_between(today, report.due_on) <= current_app.config["ERROR_REPORT_WARN_WORKING_DAYS"]:
        return DeadlineStatus.DUE_SOON
    return DeadlineStatus.RUNNING


@dataclass(frozen=True)
class QueuePage:
    items: list[SiteErrorReport]
    next_after: int | None  # the cursor of the next page, None on the last


def queue(answered: bool, after: int | None = None, limit: int = QUEUE_PAGE) -> QueuePage:
    """Open reports oldest first (the soonest due), or answered ones newest first; one page, by id."""
    query = select(SiteErrorReport)
    if answered:
        query = query.where(SiteErrorReport.answered_at.is_not(None)).order_by(SiteErrorReport.id.desc())
        if after is not None:
            query = query.where(SiteErrorReport.id < after)
    else:
        query = query.where(SiteErrorReport.answered_at.is_(None)).order_by(SiteErrorReport.id)
        if after is not None:
            query = query.where(SiteErrorReport.id > after)
    rows = list(db.session.scalars(query.limit(limit + 1)))
    return QueuePage(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)


def open_count() -> int:
    return db.session.scalar(select(func.count(SiteErrorReport.id)).where(SiteErrorReport.answered_at.is_(None)))


def answer(report_id: int, user: User, text: str, now: datetime | None = None) -> None:
    """Record how the report was dealt with (the correction made, or why none was needed); the caller
    commits. A report is answered once: of two officers answering at the same time, the second is refused
    (one conditional update)."""
    if not text.strip():
        raise InvalidInput(_("Please say how the error was dealt with."))
    done = db.session.execute(
        update(SiteErrorReport).where(SiteErrorReport.id == report_id, SiteErrorReport.answered_at.is_(None))
        .values(answer=text.strip(), answered_at=now or utcnow(), answered_by_id=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise InvalidInput(_("This error report has already been answered.")
                           if db.session.get(SiteErrorReport, report_id) else _("This error report does not exist."))
