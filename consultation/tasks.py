"""RQ job functions. They take ids, run inside an app context and are safe to run twice."""
from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale

from . import audit
from .extensions import db
from .models import BackgroundJob, Document, JobKind, JobState, utcnow

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


def _feedback_pdf(job: BackgroundJob) -> tuple[Path, str]:
    from .feedback import build_feedback, summary_line
    from .pdf import render_pdf, store

    document = db.session.get(Document, job.document_id)
    with force_locale("zh_Hans_CN"):  # an official document: always in Chinese
        feedback = build_feedback(document)
        data = render_pdf("pdf/feedback.html", feedback=feedback, summary=summary_line(feedback.counts))
    return store(data, f"document-{document.id}/feedback-job-{job.id}.pdf")


HANDLERS: dict[str, Callable[[BackgroundJob], tuple[Path, str]]] = {
    JobKind.FEEDBACK_PDF.value: _feedback_pdf,
}


def run_background_job(job_id: int) -> str:
    app = _application()
    with app.app_context():
        db.engine.dispose(close=False)  # never share pooled connections with the parent process
        return _run(job_id)


def _run(job_id: int) -> str:
    job = db.session.get(BackgroundJob, job_id)
    if job is None:
        return "missing"
    if job.state == JobState.DONE.value and job.file_path and Path(job.file_path).exists():
        return "already done"
    job.state, job.started_at, job.attempts, job.error = JobState.RUNNING.value, utcnow(), job.attempts + 1, None
    db.session.commit()
    try:
        path, digest = HANDLERS[job.kind](job)
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(BackgroundJob, job_id)
        job.state, job.finished_at = JobState.FAILED.value, utcnow()
        job.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"[:4000]
        db.session.commit()
        raise
    job.state, job.finished_at, job.file_path, job.sha256 = JobState.DONE.value, utcnow(), str(path), digest
    audit.record("file_generated", actor=None, document=job.document,
                 payload={"job_id": job.id, "kind": job.kind, "sha256": digest, "file": path.name})
    db.session.commit()
    log.info("job %s (%s) done: %s", job.id, job.kind, path)
    return digest
