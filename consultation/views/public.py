"""The public site: open consultations, commenting, receipts and published feedback. No sign-in."""
from __future__ import annotations

from pathlib import Path

from urllib.parse import quote

from flask import (
    Blueprint, Response, abort, flash, redirect, render_template, request, send_file, session, stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import SelectChoice

from .. import antibot, ratelimit
from ..errors import DomainError
from ..extensions import db
from ..feedback import build_feedback, summary_line
from ..feedback import page as feedback_page
from ..forms import CommentForm, LibraryFilterForm, NoteForm, ReceiptForm, SubscribeForm
from ..models import Department, Document, Moderation, Subscription, utcnow
from ..services import comment_lists, consultations, feedback_stage, jobs, library, publication, subscriptions, tallies
from ..services.status import feedback_public

bp = Blueprint("public", __name__)
PUBLIC_PAGE = 20  # published comments shown at a time on the consultation page
FEEDBACK_PAGE = 50  # rows of the feedback table shown at a time


@bp.get("/")
def index():
    now = utcnow()
    published = library.published_documents(now, limit=20)
    open_now, closed = consultations.open_consultations(now), consultations.recently_closed(now)
    return render_template("public/index.html", open_consultations=open_now, recently_closed=closed,
                           published=published, now=now, outcomes=feedback_stage.recent_outcomes(now),
                           comment_totals=tallies.totals([c.id for c in [*open_now, *closed]]))


def _comment_form(consultation) -> CommentForm:
    form = CommentForm()
    form.article_id.choices = [SelectChoice(0, _("The draft as a whole"))] + [
        SelectChoice(a.id, f"{a.label} {a.text[:30]}…" if len(a.text) > 30 else f"{a.label} {a.text}")
        for a in consultation.version.articles
    ]
    return form


@bp.route("/consultations/<int:consultation_id>", methods=["GET", "POST"])
def consultation(consultation_id: int):
    now = utcnow()
    try:
        item = consultations.public_consultation(consultation_id, now)
    except DomainError:
        abort(404)
    form = _comment_form(item)
    if request.method == "GET" and request.args.get("article", type=int):
        form.article_id.data = request.args.get("article", type=int)
    refused = None
    status = 200
    if form.validate_on_submit() and (refused := antibot.refusal(form.started.data, form.website.data)):
        flash(refused, "error")
    elif form.validate_on_submit() and not ratelimit.comment_allowed():
        refused = _("You have sent many comments in a short time. Please wait a while and send this one again; "
                    "your text is kept below.")
        flash(refused, "error")
        status = 429
    elif form.validate_on_submit():
        try:
            comment = consultations.submit_comment(
                item, body=form.body.data, article_id=form.article_id.data or None,
                name=form.name.data or "", organisation=form.organisation.data or "",
                phone=form.phone.data or "", email=form.email.data or "",
                show_masked_name=form.show_masked_name.data, client_address=request.remote_addr,
            )
        except DomainError as exc:
            db.session.rollback()
            if item.is_open(now):  # once closed, the page says so where the form was, once
                flash(exc.message, "error")
        else:
            session["last_receipt"] = comment.receipt_number
            return redirect(url_for("public.thanks", consultation_id=item.id))
    form.started.data = antibot.issue()  # a fresh stamp each time the form is shown
    # One article's published texts (0: the draft as a whole), a page at a time.
    # By default the first page of the comments on the draft as a whole; an article's by its link.
    published_counts = tallies.per_article(item.id, Moderation.PUBLISHED.value)
    shown_key = request.args.get("comments", type=int)
    if shown_key is not None and shown_key != 0 and shown_key not in {a.id for a in item.version.articles}:
        shown_key = None
    if shown_key is None and published_counts.get(None):
        shown_key = 0
    after = comment_lists.parse_cursor(request.args.get("after"))
    shown = comment_lists.published_texts(item, article_key=shown_key, after=after[0] if after else None,
                                          limit=PUBLIC_PAGE) if shown_key is not None else None
    return render_template("public/consultation.html", consultation=item, form=form, now=now,
                           is_open=item.is_open(now), article_counts=tallies.per_article(item.id),
                           published_counts=published_counts,
                           shown_key=shown_key, shown=shown, after=after,
                           feedback_state=feedback_stage.state(item.document, now)), \
        (status if status != 200 else 400 if form.errors or refused else 200)


@bp.get("/consultations/<int:consultation_id>/thanks")
def thanks(consultation_id: int):
    receipt = session.pop("last_receipt", None)
    if receipt is None:
        return redirect(url_for("public.consultation", consultation_id=consultation_id))
    return render_template("public/thanks.html", receipt=receipt, consultation_id=consultation_id)


@bp.route("/receipt", methods=["GET", "POST"])
@ratelimit.limited("receipt", "RECEIPT_LOOKUP_RATE_LIMIT", methods=("POST",))
def receipt_lookup():
    form = ReceiptForm()
    comment = None
    searched = False
    if form.validate_on_submit():
        searched = True
        comment = consultations.find_by_receipt(form.receipt.data)
        # The answer is public only once the feedback is; until then, the status alone.
    published = bool(comment and feedback_public(comment.consultation.document))
    # Not a comment: an invited prior assessment's receipt (事前评估; services/invitations.receipt_view).
    from ..services import invitations

    assessed = invitations.find_by_receipt(form.receipt.data) if searched and comment is None else None
    return render_template("public/receipt.html", form=form, comment=comment, searched=searched,
                           assessed=invitations.receipt_view(assessed) if assessed else None,
                           answer_visible=published,
                           feedback_state=feedback_stage.state(comment.consultation.document) if published else None)


def _published_document(document_id: int) -> Document:
    document = feedback_stage.public_document(document_id)  # public from the procedure's stage, or an outcome
    if document is None:
        abort(404)
    return document


@bp.get("/feedback/<int:document_id>")
def feedback(document_id: int):
    document = _published_document(document_id)
    data = build_feedback(document)
    # The rows of every article in turn, a page at a time; an article's link starts the pages at it.
    keys = [g.key for g in data.groups]
    start, after = 0, None
    if (cursor := comment_lists.parse_cursor(request.args.get("after"), parts=3)) and cursor[0] < len(keys):
        start, after = cursor[0], (cursor[1], cursor[2])
    elif (article := request.args.get("article", type=int)) in keys:
        start = keys.index(article)
    page = feedback_page(document, data.groups, start=start, after=after, limit=FEEDBACK_PAGE)
    return render_template("public/feedback.html", feedback=data, summary=summary_line(data.counts),
                           page=page, first_page=start == 0 and after is None,
                           pdf_job=jobs.current_feedback_pdf(document), document=document,
                           feedback_state=feedback_stage.state(document),
                           library_status=publication.library_status(document))


@bp.get("/feedback/<int:document_id>/feedback.pdf")
def feedback_pdf(document_id: int):
    document = _published_document(document_id)
    job = jobs.current_feedback_pdf(document)
    if job is None or not job.file_path or not Path(job.file_path).exists():
        abort(404)
    return send_file(job.file_path, mimetype="application/pdf", as_attachment=True,  # the link says "download"
                     download_name=f"意见采纳情况反馈-{document.id}.pdf")


@bp.route("/subscribe", methods=["GET", "POST"])
@ratelimit.limited("subscribe", "SUBSCRIBE_RATE_LIMIT", methods=("POST",))
def subscribe():
    """Ask to be told of new consultations (all, or one department's); confirmed by a mailed link."""
    form = SubscribeForm()
    departments = db.session.scalars(select(Department).where(Department.kind == "drafting").order_by(Department.id))
    form.department.choices = [SelectChoice(0, _("All departments"))] + [SelectChoice(d.id, d.name) for d in departments]
    if form.validate_on_submit():
        subscriptions.subscribe(form.email.data, form.department.data or None)
        db.session.commit()
        return render_template("public/subscription.html", state="requested")
    return render_template("public/subscribe.html", form=form), (400 if request.method == "POST" else 200)


@bp.get("/subscribe/confirm/<token>")
def confirm_subscription(token: str):
    subscription = subscriptions.confirm(token)
    db.session.commit()
    return render_template("public/subscription.html", state="confirmed", subscription=subscription)


@bp.route("/subscribe/end/<token>", methods=["GET", "POST"])
def end_subscription(token: str):
    """A page with one button: mail scanners that open links do not end anyone's subscription."""
    form = NoteForm()
    if request.method == "POST" and form.validate_on_submit():
        subscriptions.end(token)
        db.session.commit()
        return render_template("public/subscription.html", state="ended")
    subscription = db.session.scalars(select(Subscription).where(Subscription.token == token)).first()
    if subscription is None:
        abort(404)
    return render_template("public/subscription.html", state="end", form=form, token=token)


@bp.get("/feedback/<int:document_id>/feedback.csv")
def feedback_csv(document_id: int):
    """The feedback table for a spreadsheet: UTF-8 with BOM, the same columns as the page."""
    from ..feedback import feedback_csv as as_csv

    document = _published_document(document_id)
    state = feedback_stage.state(document)
    note = None if state is None or state.final else feedback_stage.stage_line(state)
    response = Response(stream_with_context(as_csv(document, note=note)), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=feedback-{document.id}.csv; filename*=UTF-8''"
        f"{quote(f'意见采纳情况反馈-{document.id}.csv')}"
    )
    return response


@bp.get("/feed.atom")
def atom_feed():
    from ..feeds import atom

    return Response(atom(), mimetype="application/atom+xml")


# --- the library (规范性文件库) ----------------------------------------------------------------

@bp.get("/library")
def library_index():
    form = LibraryFilterForm(request.args, meta={"csrf": False})
    departments = db.session.scalars(select(Department).where(Department.kind == "drafting").order_by(Department.id)).all()
    form.department.choices = [SelectChoice(0, _("All departments"))] + [SelectChoice(d.id, d.name) for d in departments]
    form.topic.choices = [SelectChoice("", _("All topics"))] + [SelectChoice(t, t) for t in library.topics()]
    form.year.choices = [SelectChoice(0, _("All years"))] + [SelectChoice(y, str(y)) for y in library.years()]
    if not form.validate():
        return render_template("public/library.html", form=form, result=None), 400
    result = library.browse(status=form.status.data or None, topic=form.topic.data or None,
                            department_id=form.department.data or None, year=form.year.data or None,
                            page=form.page.data or 1)
    return render_template("public/library.html", form=form, result=result)


@bp.get("/library/<int:document_id>")
def library_document(document_id: int):
    document = library.public_document(document_id)
    if document is None:
        abort(404)
    final = publication.final_version(document)
    return render_template("public/library_document.html", document=document, final=final,
                           status=publication.library_status(document), history=library.history(document),
                           changed=library.changed_by(document))


@bp.get("/library/<int:document_id>/<path:name>.docx")  # a title may hold a slash
def library_docx(document_id: int, name: str):
    """The final text as a Word file, built from the stored articles."""
    from ..exports import final_text_docx

    document = library.public_document(document_id)
    if document is None or publication.final_version(document) is None:
        abort(404)
    response = Response(final_text_docx(document),
                        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=document-{document.id}.docx; filename*=UTF-8''{quote(document.title + '.docx')}")
    return response
