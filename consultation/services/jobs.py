"""Background jobs through an outbox: the request is a row saved with the change that caused it.

After the transaction commits, the rows are put on the RQ queue. When Redis cannot be reached
the request stays in the database and ``dispatch_pending`` enqueues it later, so no work is lost.
The row stays the truth about its job: the worker's sweeper queues again what Redis lost, what a
dead worker left, and the retries that are due (docs/jobs.md).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import RedisError
from sqlalchemy import and_, event, or_, select, update
from sqlalchemy.orm import Session, selectinload

from .. import queue as queues
from ..errors import InvalidInput, is_outage
from ..extensions import db
from ..models import ACTIVE_STATES, BackgroundJob, Document, JobKind, JobState, utcnow

log = logging.getLogger(__name__)

# Which RQ queue and function serve each kind of job.
ROUTES: dict[str, tuple[str, str]] = {
    JobKind.FEEDBACK_PDF.value: ("pdf", "consultation.tasks.run_background_job"),
    JobKind.COMMENT_SUMMARY_PDF.value: ("pdf", "consultation.tasks.run_background_job"),
    JobKind.REVIEW_PACKET_PDF.value: ("pdf", "consultation.tasks.run_background_job"),
    JobKind.MAIL.value: ("mail", "consultation.tasks.run_background_job"),
}
_PENDING_KEY = "consultation_jobs_to_enqueue"


def request(kind: JobKind, document: Document | None) -> BackgroundJob:
    """Ask for a job in the current transaction; it is enqueued once the transaction commits.

    A report whose content has not changed is not made again: the job already asked for (waiting,
    running or done with its file) is returned instead of a new one.
    """
    key = content_key(document, kind) if document is not None else None
    if key is not None:
        existing = db.session.scalars(
            select(BackgroundJob).where(
                BackgroundJob.kind == kind.value, BackgroundJob.document_id == document.id,
                BackgroundJob.content_key == key,
                BackgroundJob.state.in_([*ACTIVE_STATES, JobState.DONE.value]),
            ).order_by(BackgroundJob.id.desc())
        ).first()
        if existing is not None and (existing.state != JobState.DONE.value or _file_exists(existing)):
            return existing
    job = BackgroundJob(kind=kind.value, document_id=document.id if document else None, state=JobState.QUEUED.value,
                        content_key=key)
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(job.id)
    return job


def request_mail(notification) -> BackgroundJob:
    """Queue one notification's mail through the outbox, like any job."""
    job = BackgroundJob(kind=JobKind.MAIL.value, document_id=notification.document_id,
                        notification_id=notification.id, state=JobState.QUEUED.value)
    db.session.add(job)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append(job.id)
    return job


def _file_exists(job: BackgroundJob) -> bool:
    from pathlib import Path

    return bool(job.file_path) and Path(job.file_path).exists()


def rq_job_id(job: BackgroundJob) -> str:
    """Deterministic for one attempt of one job row: enqueueing it twice is one RQ job. The creation time
    keeps the id unique should a database be rebuilt under the same Redis."""
    return f"consultation-job-{job.id}-{int(job.created_at.timestamp() * 1000)}-{job.attempts}"


def _timeout(job: BackgroundJob) -> int:
    """A report's time limit follows from its size (its document's comments); a mail has the default."""
    limit = current_app.config["RQ_JOB_TIMEOUT"]
    if job.kind in REPORT_KINDS and job.document_id is not None:
        from ..pdf import timeout_for
        from .tallies import counts

        limit = max(limit, timeout_for(counts(document=job.document).total))
    return limit


def enqueue(job_id: int) -> bool:
    """Put one job on its queue under its row's RQ id; return False (it stays in the outbox) when Redis is away.

    No retry is handed to RQ: a failed attempt is scheduled again from the row (``retry_at``), by the worker
    that ran it, so that the worker's settings decide and a Redis that comes back empty loses nothing.
    """
    job = db.session.get(BackgroundJob, job_id)
    queue_name, func = ROUTES[job.kind]
    try:
        queues.queue(queue_name).enqueue(func, job_id, job_id=job.rq_job_id or rq_job_id(job),
                                         job_timeout=_timeout(job), result_ttl=86400, failure_ttl=7 * 86400)
    except RedisError as exc:
        log.warning("Redis unavailable, job %s stays in the outbox: %s", job_id, exc)
        return False
    return True


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    # No SQL may run here; the jobs go out when the request or command is over (dispatch_committed).
    ids = session.info.pop(_PENDING_KEY, [])
    if ids:
        session.info.setdefault("consultation_jobs_committed", []).extend(ids)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING_KEY, None)


# Every query of the sweeper reads at most this many rows; it walks on by id until nothing is left.
PAGE = 500
# What a web request sends at most on its way out (the worker's sweeper sends the rest).
REQUEST_PAGE = 100


def _due(now: datetime):
    """The rows that should go on the queue now: never sent (Redis was away), or due for another attempt."""
    return or_(and_(BackgroundJob.state == JobState.QUEUED.value, BackgroundJob.enqueued_at.is_(None)),
               and_(BackgroundJob.state == JobState.RETRYING.value, BackgroundJob.retry_at <= now))


def _dispatch(ids: list[int]) -> tuple[int, bool]:
    """Send the rows still due among ``ids``; return how many went out and whether Redis took them all.

    Each row is first marked with the RQ id of its next attempt (a conditional update: a row a worker
    took meanwhile is left alone), then enqueued, then stamped ``enqueued_at``. A job that runs before the
    stamp finds its id already on the row; one sent twice by two sweepers runs once (tasks._claim).
    """
    sent = 0
    try:
        for job_id in ids:
            job = db.session.get(BackgroundJob, job_id, populate_existing=True)
            if job is None:
                continue
            rq_id = rq_job_id(job)
            marked = db.session.execute(
                update(BackgroundJob).where(BackgroundJob.id == job_id, BackgroundJob.attempts == job.attempts,
                                            _due(utcnow()))
                .values(state=JobState.QUEUED.value, retry_at=None, rq_job_id=rq_id)).rowcount
            db.session.commit()
            if not marked:
                continue
            if not enqueue(job_id):
                return sent, False  # Redis away: this one and the rest wait in the outbox
            db.session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id, BackgroundJob.rq_job_id == rq_id,
                                                           BackgroundJob.enqueued_at.is_(None))
                               .values(enqueued_at=utcnow()))
            db.session.commit()
            sent += 1
        return sent, True
    finally:
        db.session.rollback()


def _tolerating_outages(step: Callable[[], int], what: str) -> int:
    """Run a step of a web request's way out; with the database or Redis away, leave it to the sweeper."""
    try:
        return step()
    except Exception as exc:
        if not is_outage(exc):
            raise
        db.session.rollback()
        log.warning("%s postponed, the database or Redis is away: %s", what, exc)
        return 0


def dispatch_committed() -> int:
    """Enqueue what the last commit asked for; called at the end of each request and command."""
    ids = db.session.info.pop("consultation_jobs_committed", [])
    return _tolerating_outages(lambda: _dispatch(ids)[0], "sending the new jobs") if ids else 0


_last_request_sweep = 0.0


def dispatch_pending_now_and_then() -> int:
    """From a web request: at most every OUTBOX_REQUEST_SWEEP_SECONDS per process, send a page of the
    outbox, so that requests made while Redis was away go out with the next request even when no worker sweeps."""
    import time

    global _last_request_sweep
    now = time.monotonic()
    if now - _last_request_sweep < current_app.config["OUTBOX_REQUEST_SWEEP_SECONDS"]:
        return 0
    _last_request_sweep = now
    return _tolerating_outages(lambda: dispatch_pending(limit=REQUEST_PAGE), "sending the outbox")


def dispatch_pending(limit: int | None = None) -> int:
    """Enqueue the job requests still in the outbox (Redis was away when they were made) and the retries
    that are due, page by page, oldest first; at most ``limit`` rows when given."""
    sent, after = 0, 0
    while limit is None or limit > 0:
        size = PAGE if limit is None else min(PAGE, limit)
        ids = list(db.session.scalars(
            select(BackgroundJob.id).where(_due(utcnow()), BackgroundJob.id > after)
            .order_by(BackgroundJob.id).limit(size)))
        db.session.rollback()
        if not ids:
            break
        done, redis_took_all = _dispatch(ids)
        sent += done
        if not redis_took_all or len(ids) < size:
            break
        after = ids[-1]
        limit = None if limit is None else limit - len(ids)
    return sent


# RQ's states of a job that will not run (again) by itself.
_RQ_GONE = {"finished", "failed", "stopped", "canceled"}


def requeue_lost() -> int:
    """Queue again the jobs Redis lost: rows still waiting on the queue ("queued", sent) whose RQ job
    Redis no longer holds (it came back empty) or holds as over without having run them. Return how many.

    Safe to run at any time, by any number of sweepers: a job that started meanwhile is left alone, and
    one queued twice runs once.
    """
    from rq.job import Job

    connection = queues.connection()
    requeued, after = 0, 0
    try:
        while True:
            rows = db.session.execute(
                select(BackgroundJob.id, BackgroundJob.rq_job_id).where(
                    BackgroundJob.state == JobState.QUEUED.value, BackgroundJob.enqueued_at.is_not(None),
                    BackgroundJob.rq_job_id.is_not(None), BackgroundJob.id > after,
                ).order_by(BackgroundJob.id).limit(PAGE)).all()
            db.session.rollback()
            if not rows:
                break
            with connection.pipeline(transaction=False) as pipe:
                for row in rows:
                    pipe.hget(Job.key_for(row.rq_job_id), "status")
                statuses = pipe.execute()
            lost = []
            for row, status in zip(rows, statuses, strict=True):
                if status is not None and status.decode() not in _RQ_GONE:
                    continue
                if db.session.execute(update(BackgroundJob).where(
                        BackgroundJob.id == row.id, BackgroundJob.state == JobState.QUEUED.value,
                        BackgroundJob.rq_job_id == row.rq_job_id, BackgroundJob.enqueued_at.is_not(None))
                        .values(enqueued_at=None)).rowcount:
                    log.warning("job %s was lost by Redis (%s): queueing it again", row.id,
                                "gone" if status is None else status.decode())
                    lost.append(row.id)
            db.session.commit()
            sent, redis_took_all = _dispatch(lost)
            requeued += sent
            if not redis_took_all or len(rows) < PAGE:
                break
            after = rows[-1].id
    except RedisError as exc:
        db.session.rollback()
        log.warning("Redis unavailable, lost jobs are looked for at the next sweep: %s", exc)
    return requeued


def recover_stale(now: datetime | None = None) -> int:
    """Queue again the jobs whose worker died mid-job (killed, machine lost): "running" without a
    heartbeat for JOB_STALE_SECONDS. The lost attempt counts: past the worker's RQ_RETRIES the job is
    failed, for staff to run again. Return how many were queued again."""
    now = now or utcnow()
    limit = now - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    silent = or_(BackgroundJob.heartbeat_at < limit,
                 and_(BackgroundJob.heartbeat_at.is_(None), BackgroundJob.started_at < limit))
    from ..tasks import retry_delay

    requeued, after = 0, 0
    while True:
        stale = list(db.session.scalars(select(BackgroundJob).where(
            BackgroundJob.state == JobState.RUNNING.value, silent, BackgroundJob.id > after,
        ).order_by(BackgroundJob.id).limit(PAGE)))
        if not stale:
            break
        after, again = stale[-1].id, []
        for job in stale:
            give_up = retry_delay(job.attempts) is None
            state = JobState.FAILED.value if give_up else JobState.QUEUED.value
            if db.session.execute(update(BackgroundJob).where(
                    BackgroundJob.id == job.id, BackgroundJob.state == JobState.RUNNING.value, silent)
                    .values(state=state, enqueued_at=None, progress=0, finished_at=now if give_up else None,
                            error=f"WorkerLost: the worker stopped during attempt {job.attempts}")).rowcount:
                log.warning("job %s has been silent since %s: its worker is gone, %s", job.id,
                            job.heartbeat_at or job.started_at, "no attempt is left" if give_up else "queueing it again")
                if not give_up:
                    again.append(job.id)
        db.session.commit()
        requeued += _dispatch(again)[0]
        if len(stale) < PAGE:
            break
    return requeued


class Sweep(NamedTuple):
    """What one sweep sent: from the outbox (and retries due), lost by Redis, left by dead workers."""

    sent: int
    lost: int
    recovered: int


def sweep() -> Sweep:
    """What the worker does every few seconds: the clock (closings due, reminders), taking in the comments
    received (campaign groups, the audit chain), the outbox and the retries due, the jobs Redis lost, then
    the jobs of dead workers. With Redis away the database steps still run; the rest waits for it."""
    from ..audit import checkpoint_if_due
    from .intake import take_in_all
    from .notifications import tick

    tick()
    take_in_all()
    checkpoint_if_due()  # the audit chain's head, signed daily (audit.py)
    return Sweep(sent=dispatch_pending(), lost=requeue_lost(), recovered=recover_stale())


RERUNNABLE = (JobState.QUEUED.value, JobState.RETRYING.value, JobState.FAILED.value)


def rerun(job_id: int) -> BackgroundJob:
    """Queue a job that is not running again, now: failed, waiting for a retry, or stuck on the queue.

    A failed job gets one more attempt; a job queued again keeps its place (the RQ id of its attempt), so
    that a copy still in Redis and the new one run once between them.
    """
    moved = db.session.execute(
        update(BackgroundJob).where(BackgroundJob.id == job_id, BackgroundJob.state.in_(RERUNNABLE))
        .values(state=JobState.QUEUED.value, error=None, error_detail=None, retry_at=None, enqueued_at=None)
    ).rowcount
    if not moved:
        raise InvalidInput(_("This job is running or done: it cannot be run again."))
    db.session.info.setdefault(_PENDING_KEY, []).append(job_id)
    return db.session.get(BackgroundJob, job_id, populate_existing=True)


# A document's jobs are shown a page at a time, newest first.
JOB_PAGE = 50


class JobPage(list):
    """One page of a document's jobs, newest first: the ``before`` it was asked with, and ``older``, the id to
    ask the next page before (None on the last page)."""

    before: int | None = None
    older: int | None = None


def jobs_of(document: Document, before: int | None = None, limit: int = JOB_PAGE) -> JobPage:
    """A page of the document's jobs (keyset on the id), with their notifications in one more query."""
    query = select(BackgroundJob).where(BackgroundJob.document_id == document.id)
    if before is not None:
        query = query.where(BackgroundJob.id < before)
    rows = list(db.session.scalars(query.options(selectinload(BackgroundJob.notification))
                                   .order_by(BackgroundJob.id.desc()).limit(limit + 1)))
    page = JobPage(rows[:limit])
    page.before = before
    page.older = page[-1].id if len(rows) > limit else None
    return page


REPORT_KINDS = (JobKind.FEEDBACK_PDF.value, JobKind.COMMENT_SUMMARY_PDF.value, JobKind.REVIEW_PACKET_PDF.value)
# Raise when a report's layout changes what it shows: every report is made again once.
REPORT_LAYOUT = "4"  # 4: the feedback PDF names the audit checkpoint of its publication
# Events that do not change what a report shows (among them the making of the report itself).
NOT_CONTENT = ("file_generated", "mail_sent", "request_report", "rerun_job", "sign_in")


def content_key(document: Document, kind: JobKind) -> str | None:
    """The digest of what the report would contain now: a report whose key did not change is not made again.

    Every change a report shows is an audit event of the document (an answer, a moderation, a signature,
    a new version, the publication), except a comment's arrival: so the key is the document's latest such
    event and its latest comment. Two indexed lookups, whatever the number of comments.
    """
    import hashlib

    from sqlalchemy import func

    from ..models import AuditEvent, Comment

    if kind.value not in REPORT_KINDS:
        return None
    last_event = db.session.scalar(
        select(AuditEvent.id).where(AuditEvent.document_id == document.id, AuditEvent.action.not_in(NOT_CONTENT))
        .order_by(AuditEvent.id.desc()).limit(1))
    last_comment = db.session.scalar(select(func.max(Comment.id)).where(Comment.document_id == document.id))
    blob = f"{kind.value}:{REPORT_LAYOUT}:{document.id}:{last_event}:{last_comment}"
    return hashlib.sha256(blob.encode()).hexdigest()


def current_feedback_pdf(document: Document) -> BackgroundJob | None:
    """The feedback PDF made from the feedback as it is now, or None while it is being made again.

    The public is never served an older file: after a comment is hidden, the PDF that still showed it
    is gone from the page until the worker has made the new one.
    """
    return _done_with_key(document, JobKind.FEEDBACK_PDF, content_key(document, JobKind.FEEDBACK_PDF))


def _done_with_key(document: Document, kind: JobKind, key: str | None) -> BackgroundJob | None:
    job = db.session.scalars(
        select(BackgroundJob).where(
            BackgroundJob.document_id == document.id, BackgroundJob.kind == kind.value,
            BackgroundJob.state == JobState.DONE.value, BackgroundJob.content_key == key,
        ).order_by(BackgroundJob.id.desc())
    ).first()
    return job if job is not None and _file_exists(job) else None


def latest_done(document: Document, kind: JobKind) -> BackgroundJob | None:
    return db.session.scalars(
        select(BackgroundJob).where(
            BackgroundJob.document_id == document.id, BackgroundJob.kind == kind.value,
            BackgroundJob.state == JobState.DONE.value,
        ).order_by(BackgroundJob.id.desc())
    ).first()
