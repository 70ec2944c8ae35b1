"""Blueprints and what every page needs."""
from __future__ import annotations

from flask import Flask, Response, redirect, request, session, url_for

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .feedback import DECISION_LABELS
from .models import Document
from .receipts import display as display_receipt
from .workflow import engine

VERSION_KINDS = {
    "consultation_draft": _l("consultation draft"),
    "review_draft": _l("review draft"),
    "final_text": _l("final text"),
}


def localized(zh: str, en: str) -> str:
    """Pick the Chinese or English title that a procedure file gives."""
    return en if str(get_locale()).startswith("en") else zh


def _stage_name(document: Document, stage_id: str | None) -> str:
    if not stage_id:
        return "—"
    stage = engine.procedure_of(document).stages.get(stage_id)
    return localized(stage.title, stage.title_en) if stage else stage_id


def init_app(app: Flask) -> None:
    from .services import jobs
    from .views import auth, public, workspace

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(workspace.bp)

    app.jinja_env.filters["receipt"] = display_receipt
    app.jinja_env.globals.update(
        site_name=lambda: app.config["SITE_NAME"],
        localized=localized,
        stage_title=lambda document: localized(engine.stage_of(document).title, engine.stage_of(document).title_en),
        stage_name=_stage_name,
        decision_label=lambda value: str(DECISION_LABELS.get(value, value)),
        version_kind=lambda kind: str(VERSION_KINDS.get(kind, kind)),
    )

    @app.after_request
    def _dispatch_jobs(response: Response) -> Response:
        # The transaction has committed: now put what it asked for on the queue.
        jobs.dispatch_committed()
        return response

    @app.get("/lang/<code>")
    def set_language(code: str):
        if code in app.config["LANGUAGES"]:
            session["lang"] = code
        target = request.referrer or ""
        if not target.startswith(request.host_url):  # never bounce to another site
            target = url_for("public.index")
        return redirect(target)
