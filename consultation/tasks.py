"""RQ job functions. They take ids, run inside an app context and are safe to run twice."""
from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from rq import get_current_job
from sqlalchemy import or_, select, update

from . import audit
from .errors import is_outage
from .extensions import db
from .models import BackgroundJob, JobKind, JobState, utcnow

log = logging.getLogger(__name__)
_app: Flask | None = None


def _application() -> Flask:
    """The worker command pushes an app context; a bare ``rq worker`` gets one made here."""
    global _app
    if has_app_context():
        return current_app._get_current_object()
    if _app is None:
        from . import create_app

        _app = create_app()
    return _app


def _report_pdf(job: BackgroundJob) -> tuple[Path, str, str]:
    """Render the job's report; reuse the file of a finished job with the same content."""
    from .pdf import render_report, store
    from .reports import build

    _progress(job, 5)
    with force_locale("zh_Hans_CN"):  # official documents: always in Chinese
        report = build(job.kind, job.document_id)
        key = report.key(job.document)
        same = db.session.scalars(select(BackgroundJob).where(
            BackgroundJob.kind == job.kind, BackgroundJob.document_id == job.document_id,
            BackgroundJob.content_key == key, BackgroundJob.state == JobState.DONE.value,
            BackgroundJob.id != job.id,
        ).order_by(BackgroundJob.id.desc())).first()
        if same is not None and same.file_path and Path(same.file_path).exists():
            return Path(same.file_path), same.sha256, key
        _progress(job, 10)
        # Progress per chunk laid out: 10 % to 90 %.
        result = render_report(report.template, report.context, report.chunks(), rows=report.rows,
                               progress=lambda done, total: _progress(job, 10 + 80 * done // max(total, 1)))
        data = result.data
    _progress(job, 90)
    path, digest = store(data, f"document-{job.document_id}/{job.kind}-{key[:16]}.pdf")
    return path, digest, key


def _progress(job: BackgroundJob, percent: int) -> None:
    """Record how far the job is, in its own short transaction, for the job page."""
    job.progress = percent
    db.session.commit()


def _mail(job: BackgroundJob) -> None:
    """Send one notification; a notification already sent is not sent again."""
    from . import mail

    notification = job.notification
    if notification.sent_at is not None:
        return None
    _progress(job, 50)
    body = notification.body
    if notification.event == "assessment_invitation":  # the personal link is made at sending, never stored
        from .services.invitations import expand_link

        body = expand_link(notification)
    message = mail.build(notification.recipient, notification.subject, body, notification.key)
    notification.transport = mail.deliver(message)[:300]
    notification.sent_at = utcnow()
    return None


HANDLERS: dict[str, Callable[[BackgroundJob], tuple[Path, str, str] | None]] = {
    JobKind.MAIL.value: _mail,
    JobKind.FEEDBACK_PDF.value: _report_pdf,
    JobKind.COMMENT_SUMMARY_PDF.value: _report_pdf,
    JobKind.REVIEW_PACKET_PDF.value: _report_pdf,
}


def run_background_job(job_id: int) -> str:
    app = _application()
    with app.app_context():
        db.engine.dispose(close=False)  # never share pooled connections with the parent process
        return _run(job_id)


class _Heartbeat:
    """Write the job's heartbeat from a thread while it runs (WeasyPrint may hold the main thread for long)."""

    def __init__(self, job_id: int) -> None:
        self.job_id, self.app = job_id, current_app._get_current_object()
        self.interval = self.app.config["JOB_HEARTBEAT_SECONDS"]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    with db.engine.begin() as conn:
                        conn.execute(update(BackgroundJob).where(BackgroundJob.id == self.job_id)
                                     .values(heartbeat_at=utcnow()))
                except Exception as exc:  # noqa: BLE001 - a missed beat is retried; it must never end the job
                    if is_outage(exc):
                        log.warning("heartbeat of job %s missed, the database is away: %s", self.job_id, exc)
                    else:
                        log.exception("heartbeat of job %s failed", self.job_id)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=self.interval + 5)


def _claim(job_id: int, rq_id: str | None) -> bool:
    """Take the job for this attempt, in one conditional update: whatever Redis hands out twice (a job
    queued again after Redis came back, a rerun), one attempt has one runner."""
    now = utcnow()
    claim = update(BackgroundJob).where(BackgroundJob.id == job_id, BackgroundJob.state == JobState.QUEUED.value)
    if rq_id is not None:  # an RQ job of an earlier attempt is not this attempt
        claim = claim.where(or_(BackgroundJob.rq_job_id == rq_id, BackgroundJob.rq_job_id.is_(None)))
    taken = db.session.execute(claim.values(
        state=JobState.RUNNING.value, started_at=now, heartbeat_at=now, attempts=BackgroundJob.attempts + 1,
        progress=0, error=None, error_detail=None, retry_at=None,
    )).rowcount == 1
    db.session.commit()
    return taken


def short_error(exc: BaseException) -> str:
    """One line for staff: the kind of error and its message, without the paths of the server's files."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    first = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:300] if first else type(exc).__name__


def retry_delay(attempts: int) -> int | None:
    """Seconds before the next attempt after ``attempts`` failed ones, or None when none is left: the
    settings of the process that ran the attempt (the worker's), never those of the web process."""
    config = current_app.config
    if attempts > config["RQ_RETRIES"]:
        return None
    intervals = config["RQ_RETRY_INTERVALS"] or [0]
    return int(intervals[min(attempts - 1, len(intervals) - 1)])


def _attempt_failed(job_id: int, exc: BaseException) -> None:
    job = db.session.get(BackgroundJob, job_id)
    if job is None:
        return
    delay = retry_delay(job.attempts)
    job.state = JobState.FAILED.value if delay is None else JobState.RETRYING.value
    job.retry_at = None if delay is None else utcnow() + timedelta(seconds=delay)
    job.finished_at = utcnow()
    job.error = short_error(exc)
    job.error_detail = traceback.format_exc()[-20000:]
    db.session.commit()


def _run(job_id: int) -> str:
    job = db.session.get(BackgroundJob, job_id)
    if job is None:
        return "missing"
    if job.state == JobState.DONE.value:
        return "already done"
    current = get_current_job()
    if not _claim(job_id, current.id if current is not None else None):
        return "taken"  # running elsewhere, done, or queued again under a newer id (rerun, recovered)
    job = db.session.get(BackgroundJob, job_id)
    kind, attempt = job.kind, job.attempts
    beating = _Heartbeat(job_id)
    try:
        result = HANDLERS[kind](job)
    except Exception as exc:
        beating.stop()
        db.session.rollback()
        log.exception("job %s (%s), attempt %s, failed", job_id, kind, attempt)
        _attempt_failed(job_id, exc)
        return "failed"  # retries are ours (retry_at), not RQ's
    beating.stop()
    job.state, job.finished_at, job.progress = JobState.DONE.value, utcnow(), 100
    if result is None:  # a mail
        audit.record("mail_sent", actor=None, document=job.document,
                     payload={"job_id": job.id, "event": job.notification.event,
                              "notification_id": job.notification_id})
        db.session.commit()
        return "sent"
    path, digest, key = result
    job.file_path, job.sha256, job.content_key = str(path), digest, key
    audit.record("file_generated", actor=None, document=job.document,
                 payload={"job_id": job.id, "kind": job.kind, "sha256": digest, "file": path.name})
    db.session.commit()
    log.info("job %s (%s) done: %s", job.id, job.kind, path)
    return digest
