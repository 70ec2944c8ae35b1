"""Sign-in (Flask-Login) and the headers every answer carries."""
from __future__ import annotations

import hmac

from flask import Flask, Response
from flask_babel import lazy_gettext as _l

from .extensions import db, login_manager
from .models import User
from .models.types import MAX_ROW_ID


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.session_protection = "strong"

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        return response


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The signed-in account, unless it was deactivated or its password changed since (User.get_id)."""
    ident, _, fingerprint = session_id.partition(":")
    if not ident.isdigit() or int(ident) > MAX_ROW_ID:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not user.active or not hmac.compare_digest(fingerprint, user.session_fingerprint()):
        return None
    return user
