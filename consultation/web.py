"""Blueprints and what every page needs."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, abort, redirect, request, session, url_for
from werkzeug.routing import IntegerConverter

from .feedback import DECISION_LABELS
from .i18n import bracketed, full_stop, labelled, listed, separator
from .labels import (
    ASSESSMENTS, LIBRARY_STATUSES, MODERATION_STATES, ROUND_STATUSES, VERSION_KINDS, action_label,
    moderation_label, stage_name, localized,
)
from .models.types import MAX_ROW_ID
from .receipts import display as display_receipt
from .workflow import engine, signers

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
    from .views import site  # before workspace is registered: adds the error-report queue to it

    app.register_blueprint(public.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(workspace.bp)
    from .views import statistics as statistics_views  # the openness-assessment figures (issue 16)
    app.register_blueprint(statistics_views.bp)
    from .views import ranking as ranking_views
    app.register_blueprint(ranking_views.bp)
    from .views import comparison as _comparison

    app.register_blueprint(_comparison.bp)
    app.register_blueprint(site.bp)
    from .views import invitations as _invitations  # 事前评估: staff invitations and the invitee's page (issue 14)

    app.register_blueprint(_invitations.bp)
    from .views import co_units as co_unit_views  # 会签单位 (issue 14)
    app.register_blueprint(co_unit_views.bp)
    from .views import offline as offline_views  # letters, emails and meetings (issue 14)
    app.register_blueprint(offline_views.bp)
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
        bracketed=bracketed, labelled=labelled, full_stop=full_stop, separator=separator,
        listed=listed,
        stage_title=lambda document: localized(engine.stage_of(document).title, engine.stage_of(document).title_en),
        stage_name=stage_name,
        decision_label=lambda value: str(DECISION_LABELS.get(value, value)),
        version_kind=lambda kind: str(VERSION_KINDS.get(kind, kind)),
        action_label=action_label,
        organ_label=signers.label,  # an organ, or a co-responsible unit by its department's name
        outcome_label=signers.outcome_label,  # in the signer's own words when given its key (合法 / 同意)
        round_status_label=lambda value: str(ROUND_STATUSES.get(value, value)),
        assessment_label=lambda value: str(ASSESSMENTS.get(value, value)),
        library_status_label=lambda status: str(LIBRARY_STATUSES.get(getattr(status, "value", status), status)),
        moderation_label=moderation_label,
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
