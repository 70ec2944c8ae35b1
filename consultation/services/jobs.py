"""Background jobs through an outbox: the request is a row saved with the change that caused it.

After the transaction commits, the rows are put on the RQ queue. When Redis cannot be reached
the request stays in the database and ``dispatch_pending`` enqueues it later, so no work is lost.
"""
from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from .. import queue as queues
from ..errors import InvalidInput
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
    """Put one job on its queue; return False (and keep it in the outbox) when Redis is away."""
    job = db.session.get(BackgroundJob, job_id)
    queue_name, func = ROUTES[job.kind]
    rq_id = rq_job_id(job)
    try:
        queues.queue(queue_name).enqueue(
            func, job_id, job_id=rq_id,
            retry=Retry(max=current_app.config["RQ_RETRIES"], interval=current_app.config["RQ_RETRY_INTERVALS"])
            if current_app.config["RQ_RETRIES"] else None,
            job_timeout=_timeout(job), result_ttl=86400, failure_ttl=30 * 86400,
        )
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


def _dispatch(ids: list[int]) -> int:
    sent = 0
    for job_id in ids:
        job = db.session.get(BackgroundJob, job_id)
        if job is None or job.enqueued_at is not None:
            continue
        if enqueue(job_id):
            job.enqueued_at, job.rq_job_id = utcnow(), rq_job_id(job)
            db.session.commit()
            sent += 1
    db.session.rollback()
    return sent


def dispatch_committed() -> int:
    """Enqueue what the last commit asked for; called at the end of each request and command."""
    ids = db.session.info.pop("consultation_jobs_committed", [])
    return _dispatch(ids) if ids else 0


_last_request_sweep = 0.0


def dispatch_pending_now_and_then() -> int:
    """From a web request: at most every OUTBOX_REQUEST_SWEEP_SECONDS per process, empty the outbox, so
    that requests made while Redis was away go out with the next request even when no worker sweeps."""
    import time

    global _last_request_sweep
    now = time.monotonic()
    if now - _last_request_sweep < current_app.config["OUTBOX_REQUEST_SWEEP_SECONDS"]:
        return 0
    _last_request_sweep = now
    return dispatch_pending()


def dispatch_pending() -> int:
    """Enqueue every job request still in the outbox (Redis was away when it was made)."""
    ids = list(db.session.scalars(
        select(BackgroundJob.id).where(BackgroundJob.enqueued_at.is_(None), BackgroundJob.state == JobState.QUEUED.value)
    ))
    return _dispatch(ids)


def recover_stale(now=None) -> int:
    """Queue again the jobs whose worker died mid-job (killed, machine lost): "running" without a
    heartbeat for JOB_STALE_SECONDS. Return how many were queued again."""
    from datetime import timedelta

    from sqlalchemy import and_, or_

    now = now or utcnow()
    limit = now - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    stale = list(db.session.scalars(select(BackgroundJob).where(
        BackgroundJob.state == JobState.RUNNING.value,
        or_(BackgroundJob.heartbeat_at < limit,
            and_(BackgroundJob.heartbeat_at.is_(None), BackgroundJob.started_at < limit)),
    )))
    for job in stale:
        log.warning("job %s has been silent since %s: its worker is gone, queueing it again", job.id,
                    job.heartbeat_at or job.started_at)
        job.state, job.enqueued_at, job.progress = JobState.QUEUED.value, None, 0
        job.error = f"worker lost during attempt {job.attempts}; queued again"
    db.session.commit()
    return _dispatch([job.id for job in stale]) if stale else 0


def sweep() -> tuple[int, int]:
    """What the worker does every few seconds: the clock (closings due, reminders), taking in the comments
    received (campaign groups, the audit chain), the outbox, then the jobs of dead workers."""
    from .intake import take_in_all
    from .notifications import tick

    tick()
    take_in_all()
    return dispatch_pending(), recover_stale()


def rerun(job_id: int) -> BackgroundJob:
    """Queue a failed job again, under a new RQ id."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.state != JobState.FAILED.value:
        raise InvalidInput(_("Only a failed job can be run again."))
    job.state, job.error, job.enqueued_at = JobState.QUEUED.value, None, None
    db.session.info.setdefault(_PENDING_KEY, []).append(job.id)
    return job


def jobs_of(document: Document) -> list[BackgroundJob]:
    return list(db.session.scalars(
        select(BackgroundJob).where(BackgroundJob.document_id == document.id).order_by(BackgroundJob.id.desc())
    ))


REPORT_KINDS = (JobKind.FEEDBACK_PDF.value, JobKind.COMMENT_SUMMARY_PDF.value, JobKind.REVIEW_PACKET_PDF.value)
# Raise when a report's layout changes what it shows: every report is made again once.
REPORT_LAYOUT = "3"
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
