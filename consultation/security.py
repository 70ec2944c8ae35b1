"""Sign-in (Flask-Login over the server-side sessions of services/sign_in.py), the cookies, and the headers
every answer carries."""
from __future__ import annotations

from flask import Flask, Response, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from . import sign_in_throttle
from .extensions import login_manager
from .models import User
from .services import sign_in


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.session_protection = "strong"
    sign_in_throttle.check_settings(app)
    _cookies(app)

    @app.before_request
    def _session() -> None:
        """Find the signed-in account before any view runs (services/sign_in.user_for commits its own small
        writes), and forget a session the server ended."""
        if "_user_id" in session and not current_user.is_authenticated:
            logout_user()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        )
        if request.is_secure and app.config["HSTS_SECONDS"]:
            # Sent over HTTPS only (RFC 6797); behind a proxy, request.is_secure needs PROXY_FIX_X_FOR.
            hsts = f"max-age={int(app.config['HSTS_SECONDS'])}"
            if app.config["HSTS_INCLUDE_SUBDOMAINS"]:
                hsts += "; includeSubDomains"
            response.headers.setdefault("Strict-Transport-Security", hsts)
        return response


def behind_tls(app: Flask) -> bool:
    """Whether the site is served over HTTPS, as the settings say."""
    return app.config.get("PREFERRED_URL_SCHEME") == "https" or str(app.config.get("SITE_URL") or "").startswith(
        "https://")


def _cookies(app: Flask) -> None:
    """Secure cookies follow the site's scheme unless set (None means: decide); a secure session cookie on the
    whole site takes the ``__Host-`` prefix, which browsers keep to HTTPS and to this host (ASVS 3.4.4)."""
    tls = behind_tls(app)
    for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config.get(name) is None:
            app.config[name] = tls
    if (app.config["SESSION_COOKIE_SECURE"] and app.config.get("SESSION_COOKIE_NAME") == "session"
            and not app.config.get("SESSION_COOKIE_DOMAIN")
            and (app.config.get("SESSION_COOKIE_PATH") or app.config.get("APPLICATION_ROOT") or "/") == "/"):
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    """The account of a live session on the server (never the account's id alone: see User.get_id)."""
    return sign_in.user_for(token)
