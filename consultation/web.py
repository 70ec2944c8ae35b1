"""Blueprints and what every page needs."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, abort, flash, redirect, request, session, url_for

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter

from .errors import DomainError
from .extensions import db
from .feedback import DECISION_LABELS, HIDDEN_REASON_LABELS
from .models import Document
from .models.types import MAX_ROW_ID
from .receipts import display as display_receipt
from .workflow import engine

AUDIT_ACTIONS = {
    "create_document": _l("Document created"),
    "edit_draft": _l("Draft edited"),
    "revise_draft": _l("Review draft prepared"),
    "schedule_consultation": _l("Consultation window set"),
    "comment_received": _l("Comment received"),
    "answer_comment": _l("Comment answered"),
    "open_review_round": _l("Review round opened"),
    "sign_off": _l("Signed in joint review"),
    "assign_number": _l("Document number assigned"),
    "file_generated": _l("File generated"),
    "rerun_job": _l("Job run again"),
    "extend_consultation": _l("Consultation extended"),
    "record_assessment": _l("Assessment recorded"),
    "answer_opinion": _l("Review opinion answered"),
    "calendar_loaded": _l("Holiday calendar loaded"),
    "request_report": _l("PDF requested"),
    "mail_sent": _l("Mail sent"),
    "subscription_requested": _l("Subscription requested"),
    "subscription_confirmed": _l("Subscription confirmed"),
    "subscription_ended": _l("Subscription ended"),
    "calendar_day_changed": _l("Holiday calendar corrected"),
    "sign_in": _l("Signed in"),
    "moderate_comment": _l("Comment moderated"),
    "record_library_change": _l("Library status changed"),
    "update_library_record": _l("Library record updated"),
}

ORGANS = {"gov_office": _l("Government office"), "justice": _l("Justice bureau")}
ROLES = {
    "drafter": _l("drafter"),
    "department_head": _l("department head"),
    "gov_office_reviewer": _l("government-office reviewer"),
    "justice_reviewer": _l("justice-bureau reviewer"),
    "openness_officer": _l("openness office"),
    "admin": _l("administrator"),
}
OUTCOMES = {
    "approve": _l("approved (同意 / 合法)"),
    "return": _l("returned for changes (退回修改 / 应当予以修改)"),
    "reject": _l("unlawful (不合法)"),
}
ROUND_STATUSES = {
    "pending": _l("pending"), "approved": _l("approved"), "returned": _l("returned"), "rejected": _l("rejected"),
}
ASSESSMENTS = {
    "expert_argument": _l("Expert argument (专家论证)"),
    "risk_assessment": _l("Risk assessment (风险评估)"),
    "prior_assessment": _l("Prior assessment (事前评估)"),
}
LIBRARY_STATUSES = {
    "not_yet_in_force": _l("not yet in force (尚未生效)"),
    "in_force": _l("in force (现行有效)"),
    "amended": _l("amended (已修改)"),
    "repealed": _l("repealed (已废止)"),
    "expired": _l("expired (已失效)"),
}

VERSION_KINDS = {
    "consultation_draft": _l("consultation draft"),
    "review_draft": _l("review draft"),
    "final_text": _l("final text"),
}


def role_names() -> dict[str, str]:
    """Role identifiers as the page's language names them."""
    return {key: str(label) for key, label in ROLES.items()}


def commit_or_refuse(action: Callable[[], object], form: FlaskForm | None = None) -> bool:
    """Run a service call and commit. On a refusal undo it and say why: beside the form's field when the
    refusal names one (FieldRefused), else at the top of the page; the form keeps what was typed."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        field = getattr(exc, "field", None)
        if form is not None and field in form:
            form[field].errors = [*form[field].errors, exc.message]
        else:
            flash(exc.message, "error")
        return False
    db.session.commit()
    return True


def localized(zh: str, en: str) -> str:
    """Pick the Chinese or English title that a procedure file gives."""
    return en if str(get_locale()).startswith("en") else zh


def _action_label(document: Document, action: str) -> str:
    transition = engine.procedure_of(document).transitions.get(action)
    if transition:
        return localized(transition.title, transition.title_en)
    return str(AUDIT_ACTIONS.get(action, action))


def _stage_name(document: Document, stage_id: str | None) -> str:
    if not stage_id:
        return "—"
    stage = engine.procedure_of(document).stages.get(stage_id)
    return localized(stage.title, stage.title_en) if stage else stage_id


MODERATION_STATES = {"pending": _l("waiting for moderation"), "published": _l("published"), "hidden": _l("hidden")}


def _moderation_label(comment) -> str:
    label = str(MODERATION_STATES.get(comment.moderation, comment.moderation))
    if comment.hidden_reason:
        label += f" ({HIDDEN_REASON_LABELS.get(comment.hidden_reason, comment.hidden_reason)})"
    return label


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in every route stops at the database's integer: a larger number is a 404, not an
    overflow deep in the database driver."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def _asset_url(app: Flask) -> Callable[[str], str]:
    """``asset('site.css')``: the static file's address with a digest of its content, so that a new
    release is never hidden behind a browser's cached copy of the old one."""
    digests: dict[str, str] = {}

    def asset(filename: str) -> str:
        if filename not in digests or app.debug:
            path = Path(app.static_folder) / filename
            digests[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        return url_for("static", filename=filename, v=digests[filename])
    return asset


def init_app(app: Flask) -> None:
    from .services import jobs, library

    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    from .views import admin, auth, jobs as _job_pages, public, search, workspace  # noqa: F401 - jobs adds routes to workspace

    app.register_blueprint(public.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(workspace.bp)
    from . import api
    from .extensions import csrf

    csrf.exempt(api.bp)  # JSON only, no cookies: see consultation/api/params.py json_object
    app.register_blueprint(api.bp)

    app.jinja_env.filters["receipt"] = display_receipt
    app.jinja_env.globals.update(
        asset=_asset_url(app),
        issuing_organ=library.issuing_organ,
        site_name=lambda: app.config["SITE_NAME"],
        localized=localized,
        stage_title=lambda document: localized(engine.stage_of(document).title, engine.stage_of(document).title_en),
        stage_name=_stage_name,
        decision_label=lambda value: str(DECISION_LABELS.get(value, value)),
        version_kind=lambda kind: str(VERSION_KINDS.get(kind, kind)),
        action_label=_action_label,
        organ_label=lambda value: str(ORGANS.get(value, value)),
        outcome_label=lambda value: str(OUTCOMES.get(value, value)),
        round_status_label=lambda value: str(ROUND_STATUSES.get(value, value)),
        assessment_label=lambda value: str(ASSESSMENTS.get(value, value)),
        library_status_label=lambda status: str(LIBRARY_STATUSES.get(getattr(status, "value", status), status)),
        moderation_label=_moderation_label,
        moderation_state_label=lambda value: str(MODERATION_STATES.get(value, value)),
    )

    @app.before_request
    def _refuse_nul() -> None:
        # No text column takes NUL (PostgreSQL refuses it outright): refuse it at the door, for every
        # address, query and form, rather than as a database error deep inside a view.
        pairs = [*request.args.items(multi=True), *(request.form.items(multi=True) if request.form else [])]
        if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in pairs):
            abort(400)

    @app.after_request
    def _dispatch_jobs(response: Response) -> Response:
        # The transaction has committed: now put what it asked for on the queue, and now and then
        # whatever an earlier request left in the outbox while Redis was away.
        jobs.dispatch_committed()
        jobs.dispatch_pending_now_and_then()
        return response

    @app.get("/lang/<code>")
    def set_language(code: str):
        if code in app.config["LANGUAGES"]:
            session["lang"] = code
        target = request.referrer or ""
        if not target.startswith(request.host_url):  # never bounce to another site
            target = url_for("public.index")
        return redirect(target)
