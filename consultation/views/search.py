"""The public search page: consultations and the library, filtered by kind, department, status and year."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import Length, Optional, Regexp

from .. import search as index
from ..errors import InvalidInput
from ..extensions import db
from ..models import Department, SearchEntry, utcnow
from ..labels import LIBRARY_STATUSES

bp = Blueprint("search", __name__)

KINDS = {"consultation": _l("Drafts for comment"), "library": _l("Library of normative documents")}
CONSULTATION_STATUSES = {"open": _l("open now"), "closed": _l("closed, feedback to come"),
                         "feedback": _l("feedback published")}
FILTERS = ("q", "kind", "department", "status", "year")


def status_label(value: str | None) -> str:
    labels = {**CONSULTATION_STATUSES, **LIBRARY_STATUSES}
    return str(labels.get(value, value or ""))


class SearchForm(FlaskForm):
    """Read from the query string: a GET form, nothing to protect with a CSRF token."""

    q = StringField(_l("Search for"), validators=[
        Optional(), Length(max=200, message=_l("The search text is too long: at most %(max)d characters."))])
    kind = SelectField(_l("Show"), validate_choice=False)
    department = SelectField(_l("Department"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    year = SelectField(_l("Year"), validate_choice=False, validators=[
        Optional(), Regexp(r"^[0-9]{4}$", message=_l("Choose a year from the list."))])
    page = StringField(validators=[
        Optional(), Regexp(r"^[1-9][0-9]{0,5}$", message=_l("The page number must be a whole number from 1."))])

    def _known(self, field, message) -> None:
        if field.data and field.data not in {value for value, _label in _flat(field.choices)}:
            raise ValidationError(message)

    def validate_kind(self, field) -> None:
        self._known(field, _l("Choose what to show from the list."))

    def validate_department(self, field) -> None:
        self._known(field, _l("Choose a department from the list."))

    def validate_status(self, field) -> None:
        self._known(field, _l("Choose a status from the list."))
        if field.data and self.kind.data in KINDS and field.data not in index.statuses_of(index.Kind(self.kind.data)):
            raise ValidationError(_l("This status does not apply to what you chose to show."))


def _flat(choices) -> list[tuple[str, str]]:
    if isinstance(choices, dict):
        return [choice for group in choices.values() for choice in group]
    return list(choices)


def _form(now) -> SearchForm:
    form = SearchForm(request.args, meta={"csrf": False})
    visible = SearchEntry.visible_from <= now
    departments = db.session.execute(
        select(Department.id, Department.name).where(
            Department.id.in_(select(SearchEntry.department_id).where(visible))).order_by(Department.id))
    years = db.session.scalars(select(SearchEntry.year).where(visible).distinct().order_by(SearchEntry.year.desc()))
    form.kind.choices = [("", _l("Everything"))] + [(k, label) for k, label in KINDS.items()]
    form.department.choices = [("", _l("All departments"))] + [(str(i), name) for i, name in departments]
    form.status.choices = {
        None: [("", _l("Any status"))],
        str(KINDS["consultation"]): list(CONSULTATION_STATUSES.items()),
        str(KINDS["library"]): [(value, status_label(value)) for value in index.library_statuses()],
    }
    form.year.choices = [("", _l("Any year"))] + [(str(y), str(y)) for y in years]
    if form.year.data and form.year.data not in {value for value, _label in form.year.choices}:
        form.year.choices.append((form.year.data, form.year.data))  # a year with no entries is no error
    return form


@bp.get("/search")
def search():
    now = utcnow()
    form = _form(now)
    filters = {name: getattr(form, name).data for name in FILTERS if getattr(form, name).data}
    results, nothing_to_search = None, False
    if filters and form.validate():
        if filters.keys() == {"q"} and not index.query_terms(form.q.data):
            nothing_to_search = True  # only punctuation or spaces: listing everything would not help
        else:
            try:
                results = index.search(
                    form.q.data or "", kind=form.kind.data or None, status=form.status.data or None,
                    department_id=int(form.department.data) if form.department.data else None,
                    year=int(form.year.data) if form.year.data else None,
                    page=int(form.page.data or 1), now=now,
                )
            except InvalidInput as exc:
                form.form_errors.append(exc.message)
    return render_template("public/search.html", form=form, results=results, filters=filters,
                           nothing_to_search=nothing_to_search, status_label=status_label), \
        (400 if form.errors else 200)
