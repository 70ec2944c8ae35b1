"""Turn domain errors into a flash message or a 4xx page, never a 500."""
from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .errors import DomainError


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        from .extensions import db

        db.session.rollback()
        if request.method == "POST" and request.referrer:
            flash(exc.message, "error")
            return redirect(request.referrer)
        return render_template("errors/error.html", message=exc.message, code=exc.status_code), exc.status_code

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
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
