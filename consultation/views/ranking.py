"""Staff pages of the openness assessment: the monthly ranking (考核排名通报) with its downloads, and the library's
documents due for review (清理) before their validity ends."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..i18n import local_date
from ..labels import localized
from ..models import Role, utcnow
from ..services import ranking as ranking_service
from ..services.status import SHANGHAI
from .statistics import csv_response

bp = Blueprint("assessment", __name__, url_prefix="/staff/assessment")
RANKING_ROLES = (Role.OPENNESS_OFFICER, Role.GOV_OFFICE_REVIEWER, Role.ADMIN)
DUE_PAGE = 50


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a signed-in staff member."""


def _month() -> tuple[int, int]:
    """The month asked for (YYYY-MM), by default the one just ended: the notice reports on it."""
    raw = request.args.get("month")
    if raw is None:
        first = utcnow().astimezone(SHANGHAI).date().replace(day=1) - timedelta(days=1)
        return first.year, first.month
    match = re.fullmatch(r"(\d{4})-(\d{2})", raw)
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2999:
        abort(400)
    return int(match.group(1)), int(match.group(2))


def _ranking() -> ranking_service.Ranking:
    if not current_user.has_role(*RANKING_ROLES):
        abort(403)
    return ranking_service.ranking(*_month())


def _event_rows(result: ranking_service.Ranking) -> Iterator[list[str]]:
    names = {s.department.id: s.department.name for s in result.standings}
    for e in result.events:
        yield [names.get(e.department_id, ""), localized(e.rule.title, e.rule.title_en), e.number or "", e.title,
               local_date(e.due) if e.due else "", local_date(e.done) if e.done else _("not done"), str(e.points)]


def _event_header() -> list[str]:
    return [_("Department"), _("Rule"), _("Document number"), _("Title"), _("Time limit"), _("Done on"),
            _("Points lost")]


def _standing_header(result: ranking_service.Ranking) -> list[str]:
    return [_("Rank"), _("Department"), _("Points lost"),
            *(localized(r.title, r.title_en) for r in result.scoring.rules.values())]


def _standing_rows(result: ranking_service.Ranking) -> Iterator[list[str]]:
    for s in result.standings:
        yield [str(s.rank), s.department.name, str(s.points),
               *(str(s.by_rule.get(name, 0)) for name in result.scoring.rules)]


@bp.get("/ranking")
def ranking():
    result = _ranking()
    return render_template("workspace/ranking.html", result=result, month=f"{result.year}-{result.month:02d}",
                           standing_header=_standing_header(result), standing_rows=list(_standing_rows(result)),
                           event_header=_event_header(), event_rows=list(_event_rows(result)))


@bp.get("/ranking.csv")
def ranking_csv():
    result = _ranking()

    def rows() -> Iterator[list[str]]:
        yield _standing_header(result)
        yield from _standing_rows(result)
        yield []
        yield _event_header()
        yield from _event_rows(result)

    return csv_response(rows(), f"ranking-{result.year}-{result.month:02d}.csv")


@bp.get("/ranking.docx")
def ranking_docx():
    """The month's notice (通报) as a Word file: the ranking, then every point lost with its document."""
    from docx import Document as DocxFile

    result = _ranking()
    docx = DocxFile()
    docx.add_heading(_("%(title)s: %(year)d-%(month)02d", title=localized(result.scoring.title,
                                                                          result.scoring.title_en),
                       year=result.year, month=result.month), level=1)
    for heading, header, rows in ((_("Ranking"), _standing_header(result), list(_standing_rows(result))),
                                  (_("Points lost, one by one"), _event_header(), list(_event_rows(result)))):
        docx.add_heading(heading, level=2)
        table = docx.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = text
        for row in rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = text
    buffer = io.BytesIO()
    docx.save(buffer)
    name = f"ranking-{result.year}-{result.month:02d}.docx"
    response = Response(buffer.getvalue(),
                        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.headers["Content-Disposition"] = f"attachment; filename={name}; filename*=UTF-8''{quote(name)}"
    return response


@bp.get("/due-for-review")
def due_for_review():
    """Documents in force whose validity ends within 90 days, soonest first (keyset pages): the drafting staff
    see their department's, the openness office and the government office all of them."""
    today = utcnow().astimezone(SHANGHAI).date()
    department = None if current_user.has_role(*RANKING_ROLES) else current_user.department_id
    documents, next_after = ranking_service.due_for_review(department, after=request.args.get("after", ""), limit=DUE_PAGE)
    return render_template("workspace/due_for_review.html", documents=documents, today=today, next_after=next_after)
