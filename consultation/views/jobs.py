"""The staff pages of background jobs: the job page that follows itself, reports on request, reruns, files.

Part of the workspace blueprint; the routes are registered when ``consultation.web`` imports this module.
"""
from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import audit
from ..extensions import db
from ..forms import NoteForm
from ..models import BackgroundJob, JobKind
from ..services import jobs
from .workspace import _document, bp


@bp.get("/documents/<int:document_id>/jobs")
def document_jobs(document_id: int):
    doc = _document(document_id)
    jobs.dispatch_pending(limit=jobs.REQUEST_PAGE)  # what Redis missed goes out now (the worker sends the rest)
    return render_template("workspace/jobs.html", document=doc, note_form=NoteForm(),
                           jobs=jobs.jobs_of(doc, before=request.args.get("before", type=int)))


@bp.get("/documents/<int:document_id>/jobs.json")
def document_jobs_json(document_id: int):
    """The job states for the page's self-update: the data, and the table rendered by the page's template."""
    doc = _document(document_id)
    rows = jobs.jobs_of(doc, before=request.args.get("before", type=int))
    return {
        "jobs": [{"id": j.id, "kind": j.kind, "state": j.state, "progress": j.progress, "attempts": j.attempts,
                  "error": j.error, "rerun": j.state in jobs.RERUNNABLE,
                  "file": url_for("workspace.job_file", job_id=j.id) if j.state == "done" else None}
                 for j in rows],
        "older": rows.older,
        "html": render_template("workspace/_jobs_table.html", document=doc, jobs=rows),
    }


@bp.post("/documents/<int:document_id>/reports/<kind>")
def request_report(document_id: int, kind: str):
    """Ask for an internal PDF (comment summary, review packet); the same content is not made twice."""
    doc = _document(document_id)
    if not NoteForm().validate_on_submit():
        abort(400)
    try:
        wanted = JobKind(kind)
    except ValueError:
        abort(404)
    if wanted not in (JobKind.COMMENT_SUMMARY_PDF, JobKind.REVIEW_PACKET_PDF):
        abort(404)
    job = jobs.request(wanted, doc)
    audit.record("request_report", actor=current_user, document=doc, payload={"job_id": job.id, "kind": kind})
    db.session.commit()
    flash(_("The PDF is being made; this page shows its progress."), "success")
    return redirect(url_for("workspace.document_jobs", document_id=doc.id))


@bp.post("/jobs/<int:job_id>/rerun")
def rerun_job(job_id: int):
    """Run again, now, a job that is not running: failed, waiting for a retry, or stuck on the queue."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.document is None:
        abort(404)
    doc = _document(job.document_id)
    if not NoteForm().validate_on_submit():
        abort(400)
    jobs.rerun(job.id)
    audit.record("rerun_job", actor=current_user, document=doc, payload={"job_id": job.id})
    db.session.commit()
    flash(_("The job was queued again."), "success")
    return redirect(url_for("workspace.document_jobs", document_id=doc.id))


@bp.get("/jobs/<int:job_id>/file")
def job_file(job_id: int):
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.document is None or not job.file_path:
        abort(404)
    _document(job.document_id)
    if not Path(job.file_path).exists():
        abort(404)
    # A download, as the public feedback PDF is: the name carries the kind and the content key.
    return send_file(job.file_path, mimetype="application/pdf", as_attachment=True,
                     download_name=Path(job.file_path).name)
