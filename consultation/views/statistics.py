"""The public figures of the openness assessment (公开考核数据): page, charts, CSV; no sign-in, no personal data."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from .. import charts
from ..services import statistics
from ..services.statistics import Figures, Report

bp = Blueprint("statistics", __name__)


class StatisticsFilterForm(FlaskForm):
    """The page's filters, read from the query string."""

    year = SelectField(_l("Year"), coerce=int, choices=[])
    department = SelectField(_l("Department"), coerce=int, choices=[])
    grain = SelectField(_l("Figures by"), default="month", choices=[
        SelectChoice("month", _l("month")), SelectChoice("quarter", _l("quarter")), SelectChoice("year", _l("year"))])


@dataclass(frozen=True)
class Column:
    key: str
    label: str

    def value(self, row: Figures) -> str:
        value = getattr(row, self.key)
        if value is None:
            return "—"
        if isinstance(value, float) and self.key.endswith(("rate", "share")):
            return f"{value:.1%}"
        return str(value)


def columns() -> list[Column]:
    """The figures' columns, in the order of the page's table and the CSV."""
    return [
        Column("drafted", _("Documents drafted")),
        Column("predisclosed", _("Pre-disclosed")),
        Column("skipped", _("Pre-disclosure skipped")),
        Column("consultations", _("Consultations opened")),
        Column("consultations_minimum_met", _("Period at least the minimum")),
        Column("consultations_short_justified", _("Shorter, with a reason")),
        Column("consultations_short_unjustified", _("Shorter, without a reason")),
        Column("average_consultation_days", _("Average period (working days)")),
        Column("comments", _("Comments received")),
        Column("channel_web", _("by web form")),
        Column("channel_letter", _("by letter")),
        Column("channel_email", _("by email")),
        Column("channel_meeting", _("at meetings")),
        Column("answered_share", _("Share answered")),
        Column("adoption_rate", _("Adoption rate")),
        Column("feedback_published", _("Feedback published")),
        Column("feedback_on_time_rate", _("Feedback on time")),
        Column("reviews", _("Legality reviews")),
        Column("reviews_on_time_rate", _("Reviews within the limit")),
        Column("reviews_late_open", _("Reviews overdue, still open")),
        Column("publications", _("Publications")),
        Column("publications_on_time_rate", _("Published within the limit")),
        Column("publications_late_open", _("Publications overdue, still open")),
        Column("late", _("Late items")),
    ]


def _form() -> StatisticsFilterForm:
    form = StatisticsFilterForm(request.args, meta={"csrf": False})
    years = statistics.years()
    form.year.choices = [SelectChoice(y, str(y)) for y in years]
    form.department.choices = [SelectChoice(0, _("All departments"))] + [
        SelectChoice(d.id, d.name) for d in statistics.drafting_departments()]
    if "year" not in request.args:
        form.year.data = years[0]
    if "department" not in request.args:
        form.department.data = 0
    return form



def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _charts(by_period: Report, by_department: Report) -> list[charts.Chart]:
    names = {d.id: d.name for d in by_department.departments}
    adoption = charts.bar_chart(
        "chart-adoption", _("Adoption rate by department"),
        [(names[r.department_id], [r.adoption_rate], [_percent(r.adoption_rate)]) for r in by_department.rows],
        maximum=1)

    def per_consultation(r: Figures) -> float | None:
        return round(r.comments / r.consultations, 1) if r.consultations else None

    comments = charts.bar_chart(
        "chart-comments", _("Comments per consultation by department"),
        [(names[r.department_id], [per_consultation(r)], [str(per_consultation(r) or "—")])
         for r in by_department.rows])
    on_time = charts.bar_chart(
        "chart-on-time", _("On-time rates by period"),
        [(r.period, [r.reviews_on_time_rate, r.publications_on_time_rate],
          [_percent(r.reviews_on_time_rate), _percent(r.publications_on_time_rate)]) for r in by_period.totals],
        maximum=1, legend=(
            _("Legality reviews within %(n)d working days", n=statistics.working_day_limit("legality_review")),
            _("Published within %(n)d working days", n=statistics.working_day_limit("publication"))))
    return [adoption, comments, on_time]


@bp.get("/statistics")
def page():
    form = _form()
    if not form.validate():
        return render_template("public/statistics.html", form=form, result=None), 400
    department_id = form.department.data or None
    result = statistics.reports(form.year.data, (form.grain.data, "year"), department_id)
    by_period, by_department = result[form.grain.data], result["year"]
    library = statistics.library_figures(department_id)
    return render_template(
        "public/statistics.html", form=form, result=by_period, by_department=by_department,
        columns=columns(), charts=_charts(by_period, by_department), library=library,
        library_fields=statistics.LIBRARY_FIELDS, annual=statistics.annual_table(form.year.data),
        names={d.id: d.name for d in by_department.departments})


def csv_response(rows: Iterable[list[str]], filename: str) -> Response:
    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield "\ufeff"  # the BOM: spreadsheet programs then read the file as UTF-8
        for row in rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    # The rows are read and their labels translated while the file streams: keep the request's context open.
    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename={filename}; filename*=UTF-8''{quote(filename)}")
    return response


@bp.get("/statistics.csv")
def figures_csv():
    """Every figure of the chosen year by department and period, and the totals, for a spreadsheet."""
    form = _form()
    if not form.validate():
        return Response(_("The filters are not valid."), status=400, mimetype="text/plain")
    result = statistics.report(form.year.data, form.grain.data, form.department.data or None)
    names = {d.id: d.name for d in result.departments}
    cols = columns()

    def rows() -> Iterator[list[str]]:
        yield [_("Period"), _("Department"), *(c.label for c in cols)]
        for row in [*result.rows, *result.totals]:
            yield [row.period, names.get(row.department_id, _("All departments")), *(c.value(row) for c in cols)]

    return csv_response(rows(), f"statistics-{form.year.data}-{form.grain.data}.csv")


@bp.get("/statistics/annual-report.csv")
def annual_csv():
    """The yearly report's table of normative documents (本年制发 / 本年废止 / 现行有效), per organ."""
    form = _form()
    if not form.validate():
        return Response(_("The filters are not valid."), status=400, mimetype="text/plain")

    def rows() -> Iterator[list[str]]:
        yield [_("Organ"), _("Made this year"), _("Repealed this year"), _("In force at the end of the year")]
        for row in statistics.annual_table(form.year.data):
            yield [row.department.name if row.department else _("Total"), str(row.made), str(row.repealed),
                   str(row.in_force)]

    return csv_response(rows(), f"annual-report-{form.year.data}.csv")
