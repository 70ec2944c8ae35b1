"""The staff workspace: drafting departments, reviewers and the openness office."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from .. import audit
from ..articles import docx_to_text
from ..errors import FieldRefused, InvalidInput
from ..extensions import db
from ..forms import (
    AnswerForm, AssessmentForm, DecisionForm, DocumentForm, ExtendForm, LibraryChangeForm, LibraryRecordForm,
    ModerationForm, NoteForm, OpinionAnswerForm, PublishForm,
    RejectionForm, RevisionForm, ScheduleForm, SignoffForm, beijing,
)
from ..models import Comment, CommentCampaign, CommentChannel, Document, ReviewOrgan, Signoff, utcnow
from ..services import (
    answers, comment_lists, comparison, consultations, drafting, jobs, library, moderation, publication, review, steps,
    tallies,
)
from ..services import co_units
from ..services import dashboard as dashboard_service
from ..labels import localized
from .refusals import commit_or_refuse
from ..workflow import deadlines, engine, signers
from ..workflow.conditions import CONDITIONS

bp = Blueprint("workspace", __name__, url_prefix="/staff")


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a signed-in staff member."""


def _document(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or not engine.can_see(current_user, document):
        abort(404)
    before = document.stage
    engine.settle(document)  # the clock may have closed the consultation since the last visit
    if document.stage != before:
        db.session.commit()
    return document


def _draft_text(form) -> tuple[str, str | None]:
    if form.docx.data:
        return docx_to_text(form.docx.data.read()), form.docx.data.filename
    if form.body.data and form.body.data.strip():
        return form.body.data, None
    raise InvalidInput(_("Paste the text of the draft or upload a .docx file."))


def _waiting_for(document: Document) -> bool:
    """Tell whether the document waits for the signed-in user: a step, an answer or a signature."""
    if any(o.transition.waits for o in _next_steps(document, utcnow())) or engine.may_act(
            current_user, document, "answer_comment"):
        return True
    if review.organs_to_sign(document, current_user):  # an organ, or a co-unit's head
        return True
    if engine.may_act(current_user, document, "moderate_comment") and moderation.pending_count(document):
        return True
    return engine.may_act(current_user, document, "answer_opinion") and bool(review.open_opinions(document))


DASHBOARD_PAGE = 50
WAITING_CANDIDATES = 20  # the longest-waiting documents in a stage where the user acts; each is asked exactly


@bp.get("/")
def dashboard():
    now = utcnow()
    # Waiting for the user: the documents in a stage where one of their roles acts, asked one by one.
    candidates = dashboard_service.waiting_candidates(current_user, limit=WAITING_CANDIDATES)
    for d in candidates:
        engine.settle(d)
    db.session.commit()
    running = sorted(
        (s for d in candidates for s in deadlines.concerning(current_user, d, engine.procedure_of(d), now)),
        key=lambda s: (s.due, s.document.id),
    )
    first_due = {}
    for s in running:
        first_due.setdefault(s.document.id, s.due)
    mine = [d for d in candidates if _waiting_for(d)]
    mine.sort(key=lambda d: (d.id not in first_due, first_due.get(d.id, date.max)))
    # Every document the user may see, newest change first, a page at a time.
    after = comment_lists.parse_cursor(request.args.get("after"), parts=2)
    query = request.args.get("q", "").strip()[:100]
    page = dashboard_service.visible_documents(current_user, query=query, after=after, limit=DASHBOARD_PAGE)
    return render_template("workspace/dashboard.html", documents=page.items, next_after=page.next_after,
                           query=query, mine=mine, deadlines=running, first_due=first_due)


@bp.route("/documents/new", methods=["GET", "POST"])
def new_document():
    form = DocumentForm()
    form.procedure.choices = [SelectChoice(p.id, localized(p.title, p.title_en)) for p in engine.procedures().values()]
    if request.method == "GET":
        form.procedure.data = drafting.PROCEDURE
    created: list[Document] = []

    def create() -> None:
        body, filename = _draft_text(form)
        created.append(drafting.create_document(
            current_user, title=form.title.data, body=body, explanation=form.explanation.data,
            affects_public_rights=form.affects_public_rights.data,
            concerns_market_entities=form.concerns_market_entities.data, source_filename=filename,
            procedure=form.procedure.data,
        ))

    if form.validate_on_submit() and commit_or_refuse(create):
        document = created[0]
        flash(_("The document was created with %(n)d articles.", n=len(document.current_version.articles)), "success")
        return redirect(url_for("workspace.document", document_id=document.id))
    return render_template("workspace/document_form.html", form=form), (400 if request.method == "POST" else 200)


# Conditions that a step's own form page fulfils: they do not hide the link to that page (the consultation
# is scheduled on the very page that opens it). The service still checks every condition.
FULFILLED_ON_FORM_PAGE = {"open_consultation": ("consultation_scheduled",)}


def _next_steps(doc: Document, now: datetime) -> list[engine.TransitionOption]:
    may_sign = bool(review.organs_to_sign(doc, current_user))
    found = []
    for option in engine.options(doc, current_user, now):
        if steps.FORM_PAGES.get(option.transition.name) == "workspace.signoff" and not may_sign:
            continue  # an organ signs, returns or rejects once per review round
        names = FULFILLED_ON_FORM_PAGE.get(option.transition.name, ())
        fulfilled = {reason for name in names if (reason := CONDITIONS[name](doc, now))}
        if fulfilled:
            option = replace(option, blocked_by=tuple(r for r in option.blocked_by if r not in fulfilled))
        found.append(option)
    return found


TIMELINE_PAGE = 100


@bp.get("/documents/<int:document_id>")
def document(document_id: int):
    doc = _document(document_id)
    consultation = consultations.consultation_of(doc)
    counts = tallies.counts(document=doc)
    now = utcnow()
    return render_template(
        "workspace/document.html", document=doc, stage=engine.stage_of(doc),
        procedure=engine.procedure_of(doc), options=_next_steps(doc, now),
        form_pages=steps.FORM_PAGES, consultation=consultation, counts=counts,
        first_unanswered=comment_lists.next_unanswered(doc), rounds=review.rounds_of(doc),
        can_answer=engine.may_act(current_user, doc, "answer_comment"),
        can_revise=engine.may_act(current_user, doc, "revise_draft"),
        can_sign=review.may_sign(doc, current_user),
        may_sign_now=bool(review.organs_to_sign(doc, current_user)),
        co_units=co_units.units_of(doc) if signers.takes_co_units(doc) else [],
        may_name_units=co_units.may_name(current_user, doc),
        awaited=[signers.label(k) for k in review.awaited(doc)],
        can_extend=engine.may_act(current_user, doc, "extend_consultation") and consultation is not None
        and consultation.is_open(now),
        can_assess=engine.may_act(current_user, doc, "record_assessment"),
        can_answer_opinions=engine.may_act(current_user, doc, "answer_opinion"),
        checklist=engine.checklist(doc), deadlines=deadlines.of_document(doc, engine.procedure_of(doc), now),
        assessments=drafting.assessments_of(doc), library_status=publication.library_status(doc, now),
        timeline=audit.timeline(doc, before=request.args.get("before", type=int), limit=TIMELINE_PAGE),
        jobs=jobs.jobs_of(doc), note_form=NoteForm(), now=now,
    )


@bp.post("/documents/<int:document_id>/steps/<name>")
def take_step(document_id: int, name: str):
    doc = _document(document_id)
    form = NoteForm()
    if not form.validate_on_submit():
        abort(400)
    if name in steps.FORM_PAGES:
        return redirect(url_for(steps.FORM_PAGES[name], document_id=doc.id))
    # A step the user may not take here (unknown, another stage, another role) is refused as before (403); one
    # the procedure refuses for now (a condition, a missing note or piece) goes back to the document page with
    # the reasons, whether or not the browser sent a referrer.
    engine.require_transition(doc, name, current_user)
    if commit_or_refuse(lambda: steps.take(doc, name, current_user, note=form.note.data or "")):
        flash(_("Done: %(step)s.", step=engine.procedure_of(doc).transitions[name].title), "success")
    return redirect(url_for("workspace.document", document_id=doc.id))


@bp.route("/documents/<int:document_id>/edit", methods=["GET", "POST"])
def edit_document(document_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, "edit_draft")
    version = doc.current_version
    form = DocumentForm(obj=doc) if request.method == "GET" else DocumentForm()
    del form.procedure  # chosen once, when the project is created
    if request.method == "GET":
        form.body.data, form.explanation.data = version.body, version.explanation
    def save() -> None:
        body, filename = _draft_text(form)
        drafting.edit_draft(doc, current_user, title=form.title.data, body=body, explanation=form.explanation.data,
                            affects_public_rights=form.affects_public_rights.data,
                            concerns_market_entities=form.concerns_market_entities.data, source_filename=filename)

    if form.validate_on_submit() and commit_or_refuse(save):
        flash(_("The draft was saved."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    return render_template("workspace/document_form.html", form=form, document=doc)


@bp.route("/documents/<int:document_id>/consultation", methods=["GET", "POST"])
def schedule(document_id: int):
    doc = _document(document_id)
    form = ScheduleForm()
    if request.method == "GET":
        start = (utcnow() + timedelta(hours=1)).astimezone(consultations.SHANGHAI).replace(minute=0, second=0, microsecond=0)
        window = consultations.minimum_window(doc, start)
        form.opens_at.data = start.replace(tzinfo=None)
        form.closes_at.data = datetime.combine(window.earliest_close_day, datetime.min.time()).replace(hour=17)
    window = None
    if form.opens_at.data:
        window = consultations.minimum_window(doc, beijing(form.opens_at.data))
    if form.validate_on_submit() and commit_or_refuse(lambda: consultations.open_consultation(
            doc, current_user, opens_at=beijing(form.opens_at.data), closes_at=beijing(form.closes_at.data),
            notice=form.notice.data, short_period_reason=form.short_period_reason.data or "",
            contact_person=form.contact_person.data, contact_phone=form.contact_phone.data,
            contact_email=form.contact_email.data or "", postal_address=form.postal_address.data or "")):
        flash(_("The consultation is scheduled."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    if request.method == "GET":
        previous = consultations.consultation_of(doc)  # the last notice's contacts, if there was one
        if previous is not None:
            form.contact_person.data, form.contact_phone.data = previous.contact_person, previous.contact_phone
            form.contact_email.data, form.postal_address.data = previous.contact_email, previous.postal_address
    return render_template("workspace/schedule.html", document=doc, form=form, window=window), \
        (400 if request.method == "POST" else 200)


@bp.route("/documents/<int:document_id>/consultation/extend", methods=["GET", "POST"])
def extend(document_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, "extend_consultation")
    consultation = consultations.consultation_of(doc)
    form = ExtendForm()
    if request.method == "GET":
        form.closes_at.data = (consultation.closes_at + timedelta(days=7)).astimezone(consultations.SHANGHAI).replace(
            tzinfo=None)
    if form.validate_on_submit() and commit_or_refuse(lambda: consultations.extend_consultation(
            doc, current_user, closes_at=beijing(form.closes_at.data), reason=form.reason.data)):
        flash(_("The consultation was extended; the consultation page announces it."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    return render_template("workspace/extend.html", document=doc, consultation=consultation, form=form)


@bp.route("/documents/<int:document_id>/assessments/new", methods=["GET", "POST"])
def assessment(document_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, "record_assessment")
    form = AssessmentForm()
    if request.method == "GET" and request.args.get("kind"):
        form.kind.data = request.args["kind"]
    if form.validate_on_submit() and commit_or_refuse(lambda: drafting.record_assessment(
            doc, current_user, kind=form.kind.data, held_on=form.held_on.data,
            participants=form.participants.data, conclusion=form.conclusion.data)):
        flash(_("The record was saved."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id) + "#assessments")
    return render_template("workspace/assessment.html", document=doc, form=form)


@bp.route("/documents/<int:document_id>/opinions/<int:signoff_id>", methods=["GET", "POST"])
def answer_opinion(document_id: int, signoff_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, "answer_opinion")
    signoff = db.session.get(Signoff, signoff_id)
    if signoff is None or signoff.round.document_id != doc.id or not signoff.needs_response:
        abort(404)
    form = OpinionAnswerForm(obj=signoff.response) if request.method == "GET" else OpinionAnswerForm()
    if form.validate_on_submit() and commit_or_refuse(lambda: review.answer_opinion(doc, current_user, signoff.id,
                                                                          form.response.data)):
        flash(_("The answer to the review opinion was saved."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id) + "#rounds")
    return render_template("workspace/opinion.html", document=doc, signoff=signoff, form=form)


@bp.route("/documents/<int:document_id>/comments/<int:comment_id>", methods=["GET", "POST"])
def answer(document_id: int, comment_id: int):
    doc = _document(document_id)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.document_id != doc.id:
        abort(404)
    form = AnswerForm(obj=comment.answer) if request.method == "GET" else AnswerForm()
    ties = comparison.tie_choices(doc, comment)
    form.articles.choices = [SelectChoice(a.id, f"{a.label} {a.text[:40]}") for a in ties.articles]
    if request.method == "GET":
        form.articles.data = list(ties.tied or ties.suggested)
    if form.validate_on_submit() and commit_or_refuse(lambda: answers.answer_comment(
            doc, current_user, comment.id, decision=form.decision.data, reason=form.reason.data,
            articles=form.articles.data if ties.version else None)):
        flash(_("The answer was saved."), "success")
        following = comment_lists.next_unanswered(doc, after=comment.id)  # the answer queue
        if following is not None:
            return redirect(url_for("workspace.answer", document_id=doc.id, comment_id=following))
        return redirect(url_for("workspace.document", document_id=doc.id) + "#comments")
    return render_template("workspace/answer.html", document=doc, comment=comment, form=form, ties=ties,
                           can_answer=engine.may_act(current_user, doc, "answer_comment"))


MODERATION_VIEWS = ("pending", "published", "hidden", "all")
CHANNELS = tuple(c.value for c in CommentChannel)


def _list_filters() -> dict:
    """The filters of the staff comment lists, from the query string (unknown values are ignored)."""
    article = request.args.get("article", type=int)
    answered = request.args.get("answered")
    return {"article_key": article if article is not None and article >= 0 else None,
            "answered": answered if answered in comment_lists.ANSWERED else None,
            "campaign_id": request.args.get("campaign", type=int),
            "channel": channel if (channel := request.args.get("channel")) in CHANNELS else None}


def _article_choices(doc: Document) -> list[tuple[int, str]]:
    consultation = consultations.consultation_of(doc)
    articles = consultation.version.articles if consultation else doc.current_version.articles
    return [(0, _("whole draft"))] + [(a.id, a.label) for a in articles]


@bp.get("/documents/<int:document_id>/comments")
def comments(document_id: int):
    """The document's comments, filtered and paged: by article, moderation state, answer, group."""
    doc = _document(document_id)
    filters = _list_filters()
    state = request.args.get("state")
    state = state if state in MODERATION_VIEWS[:3] else None
    after = comment_lists.parse_cursor(request.args.get("after"))
    page = comment_lists.staff_comments(doc, moderation=state, after=after[0] if after else None, **filters)
    return render_template("workspace/comments.html", document=doc, page=page, filters=filters, state=state,
                           counts=tallies.counts(document=doc), articles=_article_choices(doc),
                           campaign=db.session.get(CommentCampaign, filters["campaign_id"])
                           if filters["campaign_id"] else None, after=after)


@bp.route("/documents/<int:document_id>/moderation", methods=["GET", "POST"])
def moderation_queue(document_id: int):
    """The openness office's queue, a page at a time: publish or hide comments, many at once.

    Exact copies of a group's first text are not rows of their own: the group's row decides its first
    text and all its exact copies in the state shown, with one tick; a near-identical variant the
    officer has not read is a row of its own.
    """
    doc = _document(document_id)
    show = request.args.get("show", "pending")
    if show not in MODERATION_VIEWS:
        show = "pending"
    state = None if show == "all" else show
    filters = _list_filters()
    after = comment_lists.parse_cursor(request.args.get("after"))
    page = comment_lists.staff_comments(doc, moderation=state, copies=False, after=after[0] if after else None,
                                        **filters)
    # A group's row stands for its first text and exact copies in the row's own state (in "all" too).
    group_rows = [c for c in page.items if comment_lists.is_group_row(c)]
    copies: dict[int, int] = {}
    for st in {c.moderation for c in group_rows}:
        found = comment_lists.copies_in_state(sorted({c.campaign_id for c in group_rows if c.moderation == st}), st)
        copies.update({c.id: found.get(c.campaign_id, 0) for c in group_rows if c.moderation == st})
    form = ModerationForm()
    form.comments.choices = [SelectChoice(c.id, c.receipt_number) for c in page.items]
    can_moderate = engine.may_act(current_user, doc, "moderate_comment")
    if form.validate_on_submit():
        if not can_moderate:
            abort(403)
        chosen = set(form.comments.data or [])  # the service refuses ids of other documents
        representatives = {c.id: (c.campaign_id, c.moderation) for c in group_rows
                           if c.id in chosen and copies.get(c.id, 0) > 1}
        changed: list[int] = []

        def decide() -> None:
            publish, reason, note = form.action.data == "publish", form.reason.data or None, form.note.data or ""
            singles = sorted(chosen - set(representatives))
            n = moderation.moderate(doc, current_user, singles, publish=publish, reason=reason, note=note) \
                if singles else 0
            for campaign_id, current in representatives.values():
                n += moderation.moderate_copies(doc, current_user, campaign_id, current=current, publish=publish,
                                                reason=reason, note=note)
            changed.append(n)

        if not chosen:
            form.comments.errors = [_("Select at least one comment.")]
        elif commit_or_refuse(decide):
            flash(_("%(n)d comment(s) updated.", n=changed[0]), "success")
            return redirect(url_for("workspace.moderation_queue", document_id=doc.id, show=show))
    counts = tallies.counts(document=doc)
    return render_template("workspace/moderation.html", document=doc, form=form, comments=page.items, show=show,
                           next_after=page.next_after, after=after, copies=copies,
                           group_rows={c.id for c in group_rows}, copies_shown=comment_lists.COPIES_SHOWN,
                           counts={view: counts.moderation(view) for view in MODERATION_VIEWS},
                           can_moderate=can_moderate), (400 if request.method == "POST" else 200)


CAMPAIGN_PAGE = 20


@bp.get("/documents/<int:document_id>/campaigns")
def campaigns(document_id: int):
    return _campaigns_page(_document(document_id), AnswerForm())


def _campaigns_page(doc: Document, form: AnswerForm, failed_campaign: int | None = None, status: int = 200):
    filters = _list_filters()
    min_size = max(2, request.args.get("min_size", 2, type=int))
    after = comment_lists.parse_cursor(request.args.get("after"), parts=2)
    page = comment_lists.campaigns(doc, article_key=filters["article_key"], min_size=min_size, after=after,
                                   limit=CAMPAIGN_PAGE)
    tie_version, suggested = comparison.group_suggestions(doc)
    return render_template("workspace/campaigns.html", document=doc, groups=page.items, next_after=page.next_after,
                           after=after, filters=filters, min_size=min_size, articles=_article_choices(doc),
                           form=form, failed_campaign=failed_campaign, tie_version=tie_version, suggested=suggested,
                           can_answer=engine.may_act(current_user, doc, "answer_comment")), status


@bp.post("/documents/<int:document_id>/campaigns/<int:campaign_id>")
def answer_campaign(document_id: int, campaign_id: int):
    doc = _document(document_id)
    form = AnswerForm()
    answered: list[int] = []
    tie_version, _suggested = comparison.group_suggestions(doc)
    if form.validate_on_submit() and commit_or_refuse(lambda: answered.append(answers.answer_campaign(
            doc, current_user, campaign_id, decision=form.decision.data, reason=form.reason.data,
            articles=form.articles.data if tie_version else None))):
        flash(_("The same answer was given to the %(n)d comments of the group.", n=answered[0]), "success")
        return redirect(url_for("workspace.campaigns", document_id=doc.id))
    return _campaigns_page(doc, form, failed_campaign=campaign_id, status=400)


@bp.route("/documents/<int:document_id>/revise", methods=["GET", "POST"])
def revise(document_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, "revise_draft")
    form = RevisionForm()
    if request.method == "GET":
        form.body.data, form.explanation.data = doc.current_version.body, doc.current_version.explanation
    def save() -> None:
        body, filename = _draft_text(form)
        drafting.revise_draft(doc, current_user, body=body, explanation=form.explanation.data, source_filename=filename)

    if form.validate_on_submit() and commit_or_refuse(save):
        flash(_("The review draft was saved."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    return render_template("workspace/revise.html", document=doc, form=form)


@bp.route("/documents/<int:document_id>/signoff", methods=["GET", "POST"])
def signoff(document_id: int):
    doc = _document(document_id)
    if not review.may_sign(doc, current_user):  # an organ's reviewer, or a co-unit's head
        engine.require_action(current_user, doc, "sign_off")
    form = SignoffForm()
    labels = {ReviewOrgan.GOVERNMENT_OFFICE.value: _("Government office (市政府办公室)"),
              ReviewOrgan.JUSTICE.value: _("Justice bureau (市司法局)")}
    organs = review.signers_for(doc, current_user)
    rounds = review.rounds_of(doc)
    if rounds and rounds[-1].status == "pending":  # an organ signs a round once: offer only those still to sign
        organs = review.organs_to_sign(doc, current_user)
        if not organs:
            flash(_("This organ has already signed this review round."), "info")
            return redirect(url_for("workspace.document", document_id=doc.id) + "#rounds")
    form.organ.choices = [SelectChoice(o, labels.get(o) or signers.label(o)) for o in organs]
    if (choices := signers.outcome_choices(organs)) is not None:  # each signer's own words (合法 / 同意)
        form.outcome.choices = [SelectChoice(value, label) for value, label in choices]
        # An outcome not offered to this signer (不合法 for the government office) reaches the service, which
        # says who may take it, instead of a bare "not a valid choice".
        form.outcome.validate_choice = False
    if (opinion_label := signers.opinion_label(organs)) is not None:  # a co-unit's 会签意见
        form.opinion.label.text = opinion_label

    def sign() -> None:
        organ = form.organ.data  # a signer's key: gov_office, justice, openness_office or unit:<department_id>
        if form.outcome.data == "approve":
            review.approve(doc, current_user, organ, form.opinion.data or "")
        elif form.outcome.data == "reject":  # 不合法: the legality review's outcome only
            review.reject_as_unlawful(doc, current_user, form.opinion.data or "")
        elif form.outcome.data == "return":
            review.return_for_revision(doc, current_user, organ, form.opinion.data or "")
        else:
            raise FieldRefused("outcome", _("Choose the outcome of the review."))

    # A return or 不合法 without an opinion is refused by the service beside the opinion field; the outcome stays.
    if form.validate_on_submit() and commit_or_refuse(sign, form):
        flash(_("Your signature was recorded."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    return render_template("workspace/signoff.html", document=doc, form=form, rounds=rounds,
                           may_reject=ReviewOrgan.JUSTICE in organs,
                           awaited=[signers.label(k) for k in review.awaited(doc)])


@bp.route("/documents/<int:document_id>/decision", methods=["GET", "POST"])
def decision(document_id: int):
    doc = _document(document_id)
    form, rejection = DecisionForm(prefix="adopt"), RejectionForm(prefix="reject")
    form.prefix.choices = [SelectChoice(k, v) for k, v in current_app.config["ISSUING_ORGANS"].items()]
    if "adopt-submit" in request.form and form.validate_on_submit() and commit_or_refuse(
            lambda: publication.record_adoption(doc, current_user, decision=form.decision.data,
                                                decision_date=form.decision_date.data, prefix=form.prefix.data,
                                                note=form.note.data or ""), form):
        flash(_("Decision recorded; document number %(number)s.", number=doc.document_number), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    if "reject-submit" in request.form and rejection.validate_on_submit() and commit_or_refuse(
            lambda: publication.record_rejection(doc, current_user, decision_date=rejection.decision_date.data,
                                                 note=rejection.note.data), rejection):
        flash(_("Non-adoption recorded."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    return (render_template("workspace/decision.html", document=doc, form=form, rejection=rejection),
            400 if request.method == "POST" else 200)


@bp.route("/documents/<int:document_id>/publish", methods=["GET", "POST"])
def publish(document_id: int):
    doc = _document(document_id)
    form = PublishForm()
    form.topic.choices = [SelectChoice("", "—")] + [SelectChoice(t, t) for t in library.topics()]
    if request.method == "GET":
        # The reviewed text, without the draft's mark on its title line: the final text is no longer a draft.
        title_line, newline, rest = doc.current_version.body.partition("\n")
        for mark in ("（征求意见稿）", "（送审稿）"):
            title_line = title_line.replace(mark, "")
        form.final_text.data = title_line + newline + rest
        form.effective_date.data = utcnow().astimezone(consultations.SHANGHAI).date() + timedelta(days=30)
        form.validity_years.data = publication.max_validity_years(doc.title)
    if form.validate_on_submit() and commit_or_refuse(lambda: publication.publish(
            doc, current_user, final_text=form.final_text.data,
            policy_interpretation=form.policy_interpretation.data or "",
            effective_date=form.effective_date.data, validity_years=form.validity_years.data,
            signed_date=form.signed_date.data, topic=form.topic.data or ""), form):
        flash(_("Published. The feedback PDF is being generated."), "success")
        return redirect(url_for("workspace.document", document_id=doc.id))
    return render_template("workspace/publish.html", document=doc, form=form), \
        (400 if request.method == "POST" else 200)


@bp.route("/documents/<int:document_id>/library", methods=["GET", "POST"])
def library_record(document_id: int):
    """The openness office keeps the library record and records amendments and repeals."""
    doc = _document(document_id)
    if not library.may_keep(current_user):
        abort(403)
    if publication.library_status(doc) is None:
        abort(404)
    record = LibraryRecordForm(prefix="record", obj=doc if request.method == "GET" else None)
    record.topic.choices = [SelectChoice("", "—")] + [SelectChoice(t, t) for t in library.topics()]
    change = LibraryChangeForm(prefix="change")
    change.by_document.choices = [SelectChoice(0, "—")] + [
        SelectChoice(d.id, f"{d.document_number or ''} {d.title}") for d in library.published_documents() if d.id != doc.id]
    if record.submit.data and record.validate_on_submit() and commit_or_refuse(lambda: library.update_record(
            doc, current_user, registration_number=record.registration_number.data or "",
            topic=record.topic.data or "", signed_date=record.signed_date.data), record):
        flash(_("The library record was saved."), "success")
        return redirect(url_for("workspace.library_record", document_id=doc.id))
    if change.submit.data and change.validate_on_submit() and commit_or_refuse(lambda: library.record_change(
            doc, current_user, change=change.change.data, effective_on=change.effective_on.data,
            by_document_id=change.by_document.data or None, by_reference=change.by_reference.data or "",
            note=change.note.data or "")):
        flash(_("The change was recorded."), "success")
        return redirect(url_for("workspace.library_record", document_id=doc.id))
    return render_template("workspace/library.html", document=doc, record=record, change=change,
                           status=publication.library_status(doc), history=library.history(doc)), \
        (400 if request.method == "POST" else 200)
