"""What every page of a government website carries: the site's identity in the footer, the site map, and the
error report (我要纠错) with its queue for the openness office (a page of the staff workspace)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint, abort, current_app, flash, has_request_context, redirect, render_template, request, url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from .. import antibot, ratelimit
from ..forms import no_control_characters
from ..i18n import local_time
from ..models import Role, utcnow
from ..services import comment_lists, consultations, error_reports, library
from ..text import one_line_break
from ..workflow.deadlines import DeadlineStatus
from . import workspace
from .refusals import commit_or_refuse

bp = Blueprint("site", __name__)

# The site map lists every GET route without arguments outside these (staff, sign-in, the API, files).
NOT_PUBLIC = ("/staff", "/admin", "/auth", "/api/", "/static/", "/lang/", "/reading-mode/")
# Public GET routes that are no page to read, or private to one person (an invitee's assessment page).
NOT_PAGES = {"site.print_stylesheet", "invitations.assess"}
# The names of those pages; a route missing here is listed by its address.
PAGE_TITLES = {
    "public.index": _l("Consultations"),
    "public.library_index": _l("Library"),
    "search.search": _l("Search"),
    "public.receipt_lookup": _l("Look up a receipt"),
    "public.subscribe": _l("Subscribe to new consultations"),
    "public.atom_feed": _l("Atom feed"),
    "site.sitemap": _l("Site map"),
    "site.error_report": _l("Report an error on this page"),
    "statistics.page": _l("Figures"),
}
SITEMAP_LINKS = 50  # open consultations and published feedback listed on the site map, each


@dataclass(frozen=True)
class Link:
    url: str
    title: str


@bp.app_context_processor
def _site_identity() -> dict[str, Any]:
    """``site``: the organiser, operator, codes and filing numbers of the footer, from the configuration."""
    config = current_app.config
    psb = config.get("SITE_PSB") or ""
    return {"site": {
        "organiser": config.get("SITE_ORGANISER"),
        "operator": config.get("SITE_OPERATOR"),
        "code": config.get("SITE_CODE"),
        "icp": config.get("SITE_ICP"),
        "psb": psb,
        # The public-security filing is looked up by its number's digits.
        "psb_url": "https://beian.mps.gov.cn/#/query/webSearch?code=" + re.sub(r"\D", "", psb),
        "contact": config.get("SITE_CONTACT"),
        "conac_url": config.get("SITE_CONAC_URL"),
    }}


READING_COOKIE = "reading_mode"  # "elder": large text, high contrast (适老化), for a year, no account needed
READING_MODES = ("elder", "standard")


@bp.app_context_processor
def _reading_mode() -> dict[str, Any]:
    """``elder_mode``: the reader chose large text and high contrast."""
    return {"elder_mode": has_request_context() and request.cookies.get(READING_COOKIE) == "elder"}  # not in jobs


@bp.get("/reading-mode/<mode>")
def reading_mode(mode: str):
    """The header's switch: a plain link (no JavaScript) that keeps the choice in a cookie and goes back to
    the page it came from (``?next=``, an address of this site only)."""
    if mode not in READING_MODES:
        abort(404)
    response = redirect(error_reports.safe_page(request.args.get("next")) or url_for("public.index"))
    if mode == "elder":
        response.set_cookie(READING_COOKIE, "elder", max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    else:
        response.delete_cookie(READING_COOKIE, httponly=True, samesite="Lax", secure=request.is_secure)
    return response


def _css_string(text: str) -> str:
    """A CSS string literal: every character outside a plain set as a hex escape."""
    plain = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:.?=&%-_~+,;@!*()[]#· ")
    return '"' + "".join(c if c in plain else f"\\{ord(c):x} " for c in text) + '"'


@bp.get("/print.css")
def print_stylesheet():
    """The footer of a printed page (media="print" in base.html): the page's address and the date, with the
    sheet's number. A style sheet of its own because the pages' Content-Security-Policy allows no inline
    style; cached for an hour per address."""
    address = request.host_url.rstrip("/") + (error_reports.safe_page(request.args.get("page")) or "/")
    css = ("@page { @bottom-left { content: %s; } @bottom-right { content: %s counter(page) \" / \" counter(pages); } }\n"
           % (_css_string(address), _css_string(local_time(utcnow(), "%Y-%m-%d") + " · ")))
    response = current_app.response_class(css, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


def public_pages() -> tuple[list[Link], list[Link]]:
    """The public GET routes that take no argument, in the order of their addresses: the pages, and the
    files and feeds (an address whose last part has an extension: /feed.atom, a CSV)."""
    pages, files = [], []
    for rule in current_app.url_map.iter_rules():
        if ("GET" in (rule.methods or ()) and not rule.arguments and not rule.rule.startswith(NOT_PUBLIC)
                and rule.endpoint not in NOT_PAGES):
            link = Link(url_for(rule.endpoint), str(PAGE_TITLES.get(rule.endpoint, rule.rule)))
            (files if "." in rule.rule.rsplit("/", 1)[-1] else pages).append(link)
    return sorted(pages, key=lambda link: link.url), sorted(files, key=lambda link: link.url)


@bp.get("/sitemap")
def sitemap():
    now = utcnow()
    open_now = consultations.open_consultations(now, limit=SITEMAP_LINKS)
    published = library.published_documents(now, limit=SITEMAP_LINKS)
    pages, files = public_pages()
    return render_template("public/sitemap.html", pages=pages, files=files, open_consultations=open_now,
                           published=published, limit=SITEMAP_LINKS)


class ErrorReportForm(FlaskForm):
    page = HiddenField()
    body = TextAreaField(_l("What is wrong on this page?"), filters=[one_line_break], validators=[
        DataRequired(_l("Please describe the error.")), Length(max=error_reports.MAX_BODY), no_control_characters])
    contact = StringField(_l("Telephone or email, if you want an answer (optional)"), validators=[
        Optional(), Length(max=200), no_control_characters],
        description=_l("Only the openness office sees it; it is never published."))
    # Against simple bots, as on the comment form (consultation/antibot.py).
    website = StringField(_l("Leave this field empty"), validators=[Optional()])
    started = HiddenField()
    submit = SubmitField(_l("Send the report"))


@bp.route("/error-report", methods=["GET", "POST"])
def error_report():
    """The form behind the footer's 我要纠错 link: ``?page=`` carries the address of the page it came from."""
    form = ErrorReportForm()
    if request.method == "GET":
        form.page.data = request.args.get("page", "")
    page = error_reports.safe_page(form.page.data)
    status = 200
    if form.validate_on_submit():
        if antibot.refusal(form.started.data, form.website.data):
            flash(_("The report could not be accepted. Please check it and send it again."), "error")
            status = 400
        elif ratelimit.retry_after("error_report", "ERROR_REPORT_RATE_LIMIT") is not None:
            flash(_("You have sent many reports in a short time. Please wait a while and send this one again; "
                    "your text is kept below."), "error")
            status = 429
        elif commit_or_refuse(lambda: error_reports.receive(page, form.body.data, form.contact.data or "")):
            flash(_("Thank you. The openness office will look into it within %(n)d working days.",
                    n=current_app.config["ERROR_REPORT_ANSWER_WORKING_DAYS"]), "success")
            return redirect(page or url_for("public.index"))
        else:
            status = 400
    elif form.errors:
        status = 400
    form.started.data = antibot.issue()
    return render_template("public/error_report.html", form=form, page=page), status


class ErrorAnswerForm(FlaskForm):
    answer = TextAreaField(_l("How it was dealt with"), validators=[
        DataRequired(_l("Please say how the error was dealt with.")), Length(max=5000), no_control_characters])
    submit = SubmitField(_l("Record the answer"))


def _openness_office_only() -> None:
    if not current_user.has_role(Role.OPENNESS_OFFICER, Role.ADMIN):
        abort(403)


@workspace.bp.get("/error-reports")
def error_report_queue():
    """The openness office's queue of error reports, a page at a time: open ones oldest first."""
    _openness_office_only()
    answered = request.args.get("show") == "answered"
    after = comment_lists.parse_cursor(request.args.get("after"))
    page = error_reports.queue(answered, after=after[0] if after else None)
    now = utcnow()
    return render_template("workspace/error_reports.html", page=page, answered=answered, form=ErrorAnswerForm(),
                           statuses={r.id: error_reports.status(r, now) for r in page.items},
                           open_count=error_reports.open_count(), DeadlineStatus=DeadlineStatus,
                           warn=current_app.config["ERROR_REPORT_WARN_WORKING_DAYS"])


@workspace.bp.post("/error-reports/<int:report_id>/answer")
def answer_error_report(report_id: int):
    _openness_office_only()
    form = ErrorAnswerForm()
    if not form.validate_on_submit():
        flash(_("Please say how the error was dealt with."), "error")
    elif commit_or_refuse(lambda: error_reports.answer(report_id, current_user, form.answer.data)):
        flash(_("The answer was recorded."), "success")
    return redirect(url_for("workspace.error_report_queue", after=request.args.get("after") or None))
