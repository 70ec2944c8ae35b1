"""Administration: the procedures drawn from their files, and the working-day calendar."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import diagrams, holiday_calendar, working_days
from ..errors import DomainError
from ..extensions import db
from ..forms import CalendarDayForm, CalendarFileForm
from ..models import Role, utcnow
from ..web import role_names
from ..workflow import engine
from ..workflow.artefacts import ARTEFACTS

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    if not current_user.has_role(Role.ADMIN):
        abort(403)


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
                           role_names=names, artefacts=ARTEFACTS)


@bp.route("/calendar", methods=["GET", "POST"])
def calendar():
    year = request.args.get("year", type=int) or utcnow().year
    if not 1900 <= year <= 2200:
        abort(404)
    file_form, day_form = CalendarFileForm(prefix="file"), CalendarDayForm(prefix="day")
    if "file-submit" in request.form and file_form.validate_on_submit():
        upload = file_form.upload.data
        text = holiday_calendar.decode(upload.read()) if upload else (file_form.text.data or "")
        source = upload.filename if upload else _("pasted on the calendar page")
        try:
            loaded, days = holiday_calendar.load_year(text, current_user, source=source)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("%(year)d loaded: %(n)d days.", year=loaded, n=days), "success")
            return redirect(url_for("admin.calendar", year=loaded))
    if "day-submit" in request.form and day_form.validate_on_submit():
        try:
            holiday_calendar.set_day(day_form.day.data, day_form.kind.data, day_form.name.data or "", current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("%(day)s saved.", day=day_form.day.data.isoformat()), "success")
            return redirect(url_for("admin.calendar", year=day_form.day.data.year))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/calendar.html", year=year, source=working_days.current().source(year),
        days=holiday_calendar.special_days(year), file_form=file_form, day_form=day_form,
        export=holiday_calendar.export_year(year),
    ), status
