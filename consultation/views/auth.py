"""Staff sign-in, sign-out and one's own password. The public never needs an account."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from .. import sign_in_throttle
from ..extensions import db
from ..forms import EndSessionsForm, LoginForm, NoteForm, PasswordChangeForm
from ..services import accounts, sign_in
from .refusals import commit_or_refuse

bp = Blueprint("auth", __name__, url_prefix="/auth")

# What a browser drops from a URL before reading it (WHATWG URL standard): tabs and line breaks anywhere,
# and C0 control characters and spaces at either end.
_DROPPED = re.compile(r"[\t\n\r]")
_TRIMMED = "".join(map(chr, range(0x21)))
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, as a browser would read it, else the dashboard.

    ``/\\t/evil.example`` or ``/\\evil.example`` reach a browser as ``//evil.example``, another site: the
    target is read as the browser reads it (tabs and line breaks dropped, ends trimmed, backslashes as
    slashes) and must then be a path alone, with no scheme, no host, not starting with two slashes, and
    with no control character left.
    """
    if target:
        seen = _DROPPED.sub("", target).strip(_TRIMMED).replace("\\", "/")
        parts = urlsplit(seen)
        if (seen.startswith("/") and not seen.startswith("//") and not parts.scheme and not parts.netloc
                and not _CONTROL.search(seen)):
            return seen
    return url_for("workspace.dashboard")


def _signed_in(user) -> None:
    """Tell Flask-Login, and start the form tokens afresh: nothing from before sign-in carries over."""
    session.pop("csrf_token", None)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = sign_in.authenticate(form.username.data, form.password.data)
        except sign_in_throttle.Throttled as exc:
            flash(exc.message, "error")
            return _login_page(form), 429, {"Retry-After": str(exc.retry_after)}
        if user is None:
            db.session.commit()  # a lockout's audit event
            flash(_("Wrong username or password."), "error")
        else:
            sign_in.sign_in(user, previous_token=session.get("_user_id"))
            db.session.commit()
            _signed_in(user)
            return redirect(_safe_next(request.args.get("next")))
    return _login_page(form)


def _login_page(form: LoginForm) -> str:
    return render_template("auth/login.html", form=form, failures=sign_in_throttle.account_failures())


@bp.post("/logout")
@login_required
def logout():
    NoteForm().validate_on_submit()  # CSRF only
    sign_in.sign_out(current_user)
    db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.index"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit() and commit_or_refuse(
            lambda: accounts.change_own_password(user, form.current_password.data, form.password.data), form):
        _signed_in(user)
        flash(_("Your password was changed. Your other sessions have ended."), "success")
        return redirect(url_for("workspace.dashboard"))
    return render_template("auth/password.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/sessions", methods=["GET", "POST"])
@login_required
def sessions():
    """The person's open sessions, and ending all but this one."""
    form = EndSessionsForm()
    user = current_user._get_current_object()
    ended: list[int] = []
    if form.validate_on_submit() and commit_or_refuse(
            lambda: ended.append(sign_in.end_other_sessions(user, form.password.data)), form):
        flash(_("%(n)d other session(s) ended.", n=ended[0]), "success")
        return redirect(url_for("auth.sessions"))
    return render_template("auth/sessions.html", form=form, sessions=sign_in.live_sessions(user),
                           this=sign_in.token_hash(user.sign_in_token)), 400 if request.method == "POST" else 200
