"""The co-responsible units (会签单位) of a document: the drafter names and removes them before submission."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, SubmitField
from wtforms.validators import InputRequired

from ..services import co_units
from ..workflow import engine, signers
from .refusals import commit_or_refuse
from .workspace import _document

bp = Blueprint("co_units", __name__, url_prefix="/staff")


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a signed-in staff member."""


class NameUnitForm(FlaskForm):
    department = SelectField(_l("Department"), coerce=int, validators=[InputRequired()], choices=[])
    submit = SubmitField(_l("Name as co-responsible unit"))


class RemoveUnitForm(FlaskForm):
    department = HiddenField()
    submit = SubmitField(_l("Remove"))


@bp.route("/documents/<int:document_id>/co-units", methods=["GET", "POST"])
def manage(document_id: int):
    doc = _document(document_id)
    if not signers.takes_co_units(doc):
        abort(404)
    may_name = co_units.may_name(current_user, doc)
    form = NameUnitForm(prefix="name")
    form.department.choices = [SelectChoice(d.id, d.name) for d in co_units.choices(doc)]
    remove = RemoveUnitForm(prefix="remove")
    if request.method == "POST":
        if not may_name:
            abort(403)
        if remove.submit.data and remove.validate_on_submit():
            department_id = remove.department.data
            if not (department_id or "").isdigit():
                abort(400)
            if commit_or_refuse(lambda: co_units.remove_unit(doc, current_user, int(department_id))):
                flash(_("The co-responsible unit was removed."), "success")
                return redirect(url_for("co_units.manage", document_id=doc.id))
        elif form.submit.data and form.validate_on_submit() and commit_or_refuse(
                lambda: co_units.name_unit(doc, current_user, form.department.data), form):
            flash(_("The co-responsible unit was named."), "success")
            return redirect(url_for("co_units.manage", document_id=doc.id))
    return render_template("workspace/co_units.html", document=doc, units=co_units.units_of(doc), form=form,
                           remove=remove, may_name=may_name,
                           stage=engine.stage_of(doc)), (400 if request.method == "POST" else 200)
