"""Staff sign-in. The public never needs an account."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user
from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..forms import LoginForm, NoteForm
from ..models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("workspace.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalars(select(User).where(User.username == form.username.data.strip())).first()
        if user is None or not user.active or not user.check_password(form.password.data):
            flash(_("Wrong username or password."), "error")
        else:
            login_user(user)
            audit.record("sign_in", actor=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    NoteForm().validate_on_submit()  # CSRF only
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("public.index"))
