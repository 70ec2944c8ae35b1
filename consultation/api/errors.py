"""The API's errors: always JSON, always a message in the request's language, never an HTML page.

Every error answer is ``{"error": {"code", "message", "fields"}}``; ``fields`` names the query
parameters or body fields at fault, each with its own message.
"""
from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any

from flask import Blueprint, Response, current_app, g, request
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..errors import DomainError
from ..extensions import db

# The codes a client can branch on; the message is for people.
ERROR_CODES = (
    "bad_request", "invalid_parameters", "invalid_input", "rejected", "closed", "not_found",
    "method_not_allowed", "payload_too_large", "unsupported_media_type", "rate_limited", "server_error",
    "invalid_idempotency_key", "idempotency_key_reused", "unavailable",
)


class ApiError(Exception):
    """A refusal with its HTTP status, error code, message and the fields at fault."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, str(message)
        self.fields = fields or {}
        self.headers = headers or {}


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Answer with JSON in UTF-8 (Chinese stays readable), keys in the documented order."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(body, status=status, headers=headers, mimetype="application/json")


def error_response(error: ApiError) -> Response:
    return json_response({"error": {"code": error.code, "message": error.message, "fields": error.fields}},
                         error.status, error.headers)


def request_language() -> str:
    """The client's language from Accept-Language (the API has no session); Chinese by default."""
    languages = current_app.config["LANGUAGES"]
    return request.accept_languages.best_match(languages) or languages[0]


def _http_error(exc: HTTPException) -> ApiError:
    headers = {}
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        headers["Allow"] = ", ".join(exc.valid_methods)
    if exc.code == 404:
        return ApiError(404, "not_found", _("This address is not part of the API."))
    if exc.code == 405:
        return ApiError(405, "method_not_allowed", _("This method is not allowed here; see the Allow header."),
                        headers=headers)
    if exc.code == 413:
        return ApiError(413, "payload_too_large", _("The request is too large."))
    if exc.code == 429:
        retry = {k: v for k, v in exc.get_headers() if k.lower() == "retry-after"}
        return ApiError(429, "rate_limited", _("Too many requests. Please wait a moment and try again."),
                        headers=retry)
    if exc.code is not None and exc.code >= 500:
        return ApiError(exc.code, "server_error", _("Something went wrong on our side. Please try again later."))
    return ApiError(exc.code or 400, "bad_request", _("The request could not be understood."))


def api_http_error(exc: HTTPException) -> Response:
    with force_locale(request_language()):
        return error_response(_http_error(exc))


def init_blueprint(bp: Blueprint) -> None:
    """Speak the client's language in every view, and turn every error into a JSON answer."""

    @bp.before_request
    def _language() -> None:
        # Domain services translate their messages when they raise: the locale must be set before the view.
        g.api_language = ExitStack()
        g.api_language.enter_context(force_locale(request_language()))

    @bp.teardown_request
    def _end_language(_exc: BaseException | None) -> None:
        stack = g.pop("api_language", None)
        if stack is not None:
            stack.close()

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return error_response(exc)

    @bp.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Response:
        db.session.rollback()
        if exc.status_code == 404:
            return error_response(ApiError(404, "not_found", exc.message))
        status = 422 if exc.status_code == 400 else exc.status_code
        return error_response(ApiError(status, "rejected", exc.message))

    @bp.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return api_http_error(exc)

    @bp.errorhandler(500)
    def _server_error(exc: HTTPException) -> Response:
        db.session.rollback()
        return api_http_error(exc)
