"""Maximum times declared in the procedure files (``[deadlines.*]``), computed on demand.

Nothing here is stored or scheduled: the state of a deadline follows from the stored times and the
calendar, whenever a page asks. A reminder job may also look, but correctness never depends on it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from .. import working_days
from ..models import Document, User, utcnow
from .conditions import CONDITIONS
from .definition import Deadline

SHANGHAI = ZoneInfo("Asia/Shanghai")


class DeadlineStatus(str, enum.Enum):
    RUNNING = "running"
    DUE_SOON = "due_soon"  # due within the warning window (3 working days by default)
    OVERDUE = "overdue"
    MET = "met"            # the work was done before the document left the stage


@dataclass(frozen=True)
class DeadlineState:
    document: Document
    deadline: Deadline
    started_on: date
    due: date
    estimated: bool  # counted by weekends only for a year without an official schedule
    status: DeadlineStatus
    working_days_left: int  # negative: working days late

    @property
    def flagged(self) -> bool:
        return self.status in (DeadlineStatus.DUE_SOON, DeadlineStatus.OVERDUE)


def local_day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _start(document: Document, deadline: Deadline) -> date:
    if deadline.starts == "decision_date" and document.decision_date is not None:
        return document.decision_date
    return local_day(document.stage_entered_at)


def state(document: Document, deadline: Deadline, now: datetime | None = None) -> DeadlineState:
    """Where one deadline of the document's current stage stands today (Beijing time)."""
    now = now or utcnow()
    started = _start(document, deadline)
    if deadline.working_days is not None:
        computed = working_days.add_working_days(started, deadline.working_days)
    else:
        computed = working_days.add_calendar_days(started, deadline.calendar_days)
    today, due = local_day(now), computed.day
    if today <= due:
        left = working_days.working_days_between(today, due)
    else:
        left = -working_days.working_days_between(due, today)
    if deadline.stops_when and CONDITIONS[deadline.stops_when](document, now) is None:
        status = DeadlineStatus.MET
    elif today > due:
        status = DeadlineStatus.OVERDUE
    elif left <= deadline.warn_working_days:
        status = DeadlineStatus.DUE_SOON
    else:
        status = DeadlineStatus.RUNNING
    return DeadlineState(document, deadline, started, due, computed.estimated, status, left)


def of_document(document: Document, procedure, now: datetime | None = None) -> list[DeadlineState]:
    """The deadlines running in the document's current stage."""
    return [state(document, d, now) for d in procedure.deadlines.values() if d.stage == document.stage]


def concerning(user: User, document: Document, procedure, now: datetime | None = None) -> list[DeadlineState]:
    """The running deadlines of the document that the user's roles answer for."""
    return [
        s for s in of_document(document, procedure, now)
        if s.status is not DeadlineStatus.MET and user.has_role(*s.deadline.roles)
    ]
