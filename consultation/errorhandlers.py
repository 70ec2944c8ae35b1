"""Turn domain errors into a flash message or a 4xx page, never a 500; and a database or Redis that is away
into a 503 with Retry-After, never a 500."""
from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, flash, g, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .errors import DomainError, is_outage

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        from .extensions import db

        db.session.rollback()
        if request.method == "POST" and request.referrer:
            flash(exc.message, "error")
            return redirect(request.referrer)
        return render_template("errors/error.html", message=exc.message, code=exc.status_code), exc.status_code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return _http_error(exc)
        if is_outage(exc):
            return unavailable(exc)
        raise exc  # Flask logs it and answers 500

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        cause = getattr(exc, "original_exception", None)
        if cause is not None and is_outage(cause):  # raised as the response was finished: Flask's 500 carries it
            return unavailable(cause)
        if request.path.startswith("/api/"):  # an address no API route matched: answer in JSON too
            from .api.errors import api_http_error

            return api_http_error(exc)
        messages = {
            400: _("The request could not be understood. Please go back and try again."),
            403: _("You are not allowed to see this page."),
            404: _("The page was not found."),
            405: _("This action is not possible here."),
            413: _("The file is too large."),
            429: _("Too many requests. Please wait a moment and try again."),
        }
        message = messages.get(exc.code, exc.description)
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() == "retry-after"]
        return render_template("errors/error.html", message=message, code=exc.code), exc.code, headers


def unavailable(exc: BaseException) -> Response:
    """503 with Retry-After: a short page, or JSON for the API and for a client that asks for JSON.

    Nothing here may need the database or Redis: the page is drawn for a visitor who is not signed in (the
    signed-in account is found in the database), in the language of the session cookie or the request.
    """
    from .extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone already; the pool replaces it
        db.session.invalidate()
    g._login_user = current_app.login_manager.anonymous_user()  # Flask-Login's own slot: no account look-up
    log.warning("%s %s answered 503, the database or Redis is away: %s", request.method, request.path,
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    headers = {"Retry-After": str(current_app.config["UNAVAILABLE_RETRY_AFTER"]), "Cache-Control": "no-store"}
    if request.path.startswith("/api/"):
        from flask_babel import force_locale

        from .api.errors import ApiError, error_response, request_language

        with force_locale(request_language()):
            return error_response(ApiError(503, "unavailable", _unavailable_message(), headers=headers))
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return Response(json.dumps({"error": {"code": "unavailable", "message": _unavailable_message()}},
                                   ensure_ascii=False), 503, headers=headers, mimetype="application/json")
    return Response(render_template("errors/error.html", message=_unavailable_message(), code=503), 503,
                    headers=headers)


def _unavailable_message() -> str:
    return _("The service is briefly unavailable. Please try again in a few seconds; if you were sending "
             "something, send it again: it was not received.")
