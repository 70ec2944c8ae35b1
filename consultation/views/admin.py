"""Administration: the procedures drawn from their files, the working-day calendar, departments and accounts."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from .. import diagrams, holiday_calendar, working_days
from ..extensions import db
from ..forms import (
    DEPARTMENT_KINDS, AccountForm, CalendarDayForm, CalendarFileForm, DepartmentForm, NewAccountForm, PasswordResetForm,
)
from ..models import Department, Role, User, utcnow
from ..services import accounts, sign_in
from ..labels import role_names
from .refusals import commit_or_refuse
from ..workflow import engine
from ..workflow.artefacts import ARTEFACTS
from ..workflow.conditions import CONDITION_TITLES

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The minimum periods the engine knows (consultation.services.consultations), by their names in the files.
PERIOD_TITLES = {
    "consultation_min": _l("Minimum consultation period"),
    "consultation_min_market": _l("Minimum consultation period for a document mainly concerning market entities"),
}
# What a time limit is counted from (Deadline.starts).
DEADLINE_STARTS = {
    "stage_entered": _l("counted from entering the stage"),
    "decision_date": _l("counted from the date of the decision"),
}


@bp.before_request
@login_required
def _admins_only():
    if not current_user.has_role(Role.ADMIN):
        abort(403)


@dataclass(frozen=True)
class Saved:
    """What a service call that went through tells the administrator, and where they go next."""

    message: str
    then: str
    category: str = "success"


def _saved(form: FlaskForm, action: Callable[[], Saved]) -> Response | None:
    """For a valid form, run its service call: commit and redirect, or undo and show why on the form."""
    outcome: list[Saved] = []
    if not form.validate_on_submit() or not commit_or_refuse(lambda: outcome.append(action()), form):
        return None
    saved, = outcome
    flash(saved.message, saved.category)
    return redirect(saved.then)


def _status() -> int:
    """A form page answering a POST was refused: 400, with the form and what was typed."""
    return 400 if request.method == "POST" else 200


@bp.get("/")
def index():
    return render_template("admin/index.html", procedures=engine.procedures().values(),
                           this_year=utcnow().year)


@bp.get("/procedures/<procedure_id>")
def procedure(procedure_id: str):
    proc = engine.procedures().get(procedure_id)
    if proc is None:
        abort(404)
    names = role_names()
    try:
        drawing, missing = diagrams.svg(proc, names), None
    except diagrams.DiagramUnavailable as exc:
        drawing, missing = None, str(exc)
    return render_template("admin/procedure.html", procedure=proc, svg=drawing, missing=missing,
                           role_names=names, artefacts=ARTEFACTS, conditions=CONDITION_TITLES,
                           periods=PERIOD_TITLES, starts=DEADLINE_STARTS)


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    year = request.args.get("year", type=int) or utcnow().year
    if not 1900 <= year <= 2200:
        abort(404)
    file_form, day_form = CalendarFileForm(prefix="file"), CalendarDayForm(prefix="day")
    if "file-submit" in request.form and (done := _saved(file_form, lambda: _load_year(file_form))):
        return done
    if "day-submit" in request.form and (done := _saved(day_form, lambda: _set_day(day_form))):
        return done
    return render_template(
        "admin/calendar.html", year=year, source=working_days.current().source(year),
        days=holiday_calendar.special_days(year), file_form=file_form, day_form=day_form,
        export=holiday_calendar.export_year(year),
    ), _status()


def _load_year(form: CalendarFileForm) -> Saved:
    upload = form.upload.data
    text = holiday_calendar.decode(upload.read()) if upload else (form.text.data or "")
    source = upload.filename if upload else _("pasted on the calendar page")
    loaded, days = holiday_calendar.load_year(text, current_user, source=source)
    return Saved(_("%(year)d loaded: %(n)d days.", year=loaded, n=days), url_for("admin.calendar", year=loaded))


def _set_day(form: CalendarDayForm) -> Saved:
    holiday_calendar.set_day(form.day.data, form.kind.data, form.name.data or "", current_user)
    return Saved(_("%(day)s saved.", day=form.day.data.isoformat()), url_for("admin.calendar", year=form.day.data.year))


def _changed(changes: dict, message: str, then: str) -> Saved:
    return Saved(message, then) if changes else Saved(_("Nothing changed."), then, "info")


def _kind_names() -> dict[str, str]:
    return {key: str(label) for key, label in DEPARTMENT_KINDS.items()}


@bp.route("/departments", methods=["GET", "POST"])
def departments():
    form = DepartmentForm()

    def create() -> Saved:
        department = accounts.create_department(current_user, name=form.name.data, kind=form.kind.data)
        return Saved(_("Department “%(name)s” created.", name=department.name), url_for("admin.departments"))

    if done := _saved(form, create):
        return done
    return render_template("admin/departments.html", departments=accounts.department_overview(), form=form,
                           kind_names=_kind_names()), _status()


@bp.route("/departments/<int:department_id>", methods=["GET", "POST"])
def department(department_id: int):
    department = db.session.get(Department, department_id) or abort(404)
    form = DepartmentForm(obj=department)

    def update() -> Saved:
        changed = accounts.update_department(department, current_user, name=form.name.data, kind=form.kind.data)
        return _changed(changed, _("Department “%(name)s” saved.", name=department.name), url_for("admin.departments"))

    if done := _saved(form, update):
        return done
    return render_template("admin/department.html", department=department, form=form), _status()


def _account_choices(form) -> None:
    form.department.choices = [SelectChoice("", _("— choose a department —")),
                               *(SelectChoice(i, name) for i, name in accounts.department_choices())]
    form.roles.choices = [SelectChoice(role, label) for role, label in role_names().items()]


@bp.get("/accounts")
def account_list():
    return render_template("admin/accounts.html", accounts=accounts.staff_accounts(), role_names=role_names())


@bp.route("/accounts/new", methods=["GET", "POST"])
def new_account():
    form = NewAccountForm()
    _account_choices(form)

    def create() -> Saved:
        user = accounts.create_account(
            current_user, username=form.username.data, display_name=form.display_name.data, email=form.email.data,
            department_id=form.department.data, roles=form.roles.data, password=form.password.data)
        return Saved(_("Account “%(username)s” created.", username=user.username), url_for("admin.account_list"))

    if done := _saved(form, create):
        return done
    return render_template("admin/account_form.html", form=form, user=None), _status()


def _account(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
def account(user_id: int):
    user = _account(user_id)
    form = AccountForm(data={"display_name": user.display_name, "email": user.email, "department": user.department_id,
                             "roles": sorted(user.roles), "active": user.active})
    _account_choices(form)

    def update() -> Saved:
        changes = accounts.update_account(
            user, current_user, display_name=form.display_name.data, email=form.email.data,
            department_id=form.department.data, roles=form.roles.data, active=form.active.data)
        return _changed(changes, _("Account “%(username)s” saved.", username=user.username),
                        url_for("admin.account_list"))

    if done := _saved(form, update):
        return done
    return render_template("admin/account_form.html", form=form, user=user,
                           open_sessions=len(sign_in.live_sessions(user))), _status()


@bp.post("/accounts/<int:user_id>/sessions")
def end_sessions(user_id: int):
    """End every session of the account (the form's token is checked by CSRFProtect)."""
    user = _account(user_id)
    ended = sign_in.end_account_sessions(user, current_user)
    db.session.commit()
    flash(_("%(n)d session(s) of “%(username)s” ended.", n=ended, username=user.username), "success")
    return redirect(url_for("admin.account", user_id=user.id))


@bp.route("/accounts/<int:user_id>/password", methods=["GET", "POST"])
def reset_password(user_id: int):
    user = _account(user_id)
    form = PasswordResetForm()

    def reset() -> Saved:
        accounts.reset_password(user, current_user, form.password.data)
        if user.id == current_user.id:  # every session of the account ended: this one goes on under a new one
            login_user(user)
        return Saved(_("New password set for “%(username)s”.", username=user.username),
                     url_for("admin.account", user_id=user.id))

    if done := _saved(form, reset):
        return done
    return render_template("admin/password.html", form=form, user=user), _status()
