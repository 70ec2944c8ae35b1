"""Prior assessment (事前评估): the drafting department's invitations and answers, and the invitee's page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectChoice, StringField, SubmitField, TextAreaField
from wtforms.fields import EmailField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from .. import ratelimit
from ..errors import DomainError
from ..extensions import db
from ..feedback import DECISION_LABELS
from ..labels import AUDIT_ACTIONS
from ..models import AssessmentInvitation, AssessmentWaiver, Document, utcnow
from ..services import invitations
from ..services.status import feedback_public
from .refusals import commit_or_refuse

bp = Blueprint("invitations", __name__)

AUDIT_ACTIONS.update({
    "invite_assessor": _l("Prior assessment: person invited"),
    "send_assessment_invitation": _l("Prior assessment: invitation mailed"),
    "revoke_assessment_invitation": _l("Prior assessment: invitation revoked"),
    "open_assessment_invitation": _l("Prior assessment: link first opened"),
    "submit_prior_assessment": _l("Prior assessment submitted"),
    "answer_prior_assessment": _l("Prior assessment answered"),
    "request_assessment_waiver": _l("Reason for no prior assessment given"),
    "decide_assessment_waiver": _l("Reason for no prior assessment decided"),
})
DECISIONS = [SelectChoice(k, v) for k, v in DECISION_LABELS.items()]


@bp.record_once
def _settings(state) -> None:
    state.app.config.setdefault("ASSESSMENT_LINK_RATE_LIMIT", "30 per minute; 300 per hour")
    ratelimit.parsed("ASSESSMENT_LINK_RATE_LIMIT", state.app.config["ASSESSMENT_LINK_RATE_LIMIT"])

    state.app.jinja_env.filters["invitee_kind"] = lambda kind: str(invitations.KIND_LABELS.get(kind, kind))

    @state.app.template_global()
    def prior_assessment_state(document: Document):
        """The document page's small section: the requirement, its state, the link to the invitations."""
        if not invitations.may_manage(current_user, document):
            return None
        return invitations.requirement(document)


class InvitationForm(FlaskForm):
    kind = RadioField(_l("Whom you invite"), validators=[InputRequired()],
                      choices=[SelectChoice(k, v) for k, v in invitations.KIND_LABELS.items()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=200)])
    expires_on = DateField(_l("The link expires on"), validators=[InputRequired()],
                           description=_l("By default the consultation's closing day, else 30 days from today."))
    submit = SubmitField(_l("Invite and send the link"))


class WaiverForm(FlaskForm):
    reason = TextAreaField(_l("Why there is no prior assessment"), validators=[DataRequired(), Length(max=20_000)])
    submit = SubmitField(_l("Give the reason to the department head"))


class WaiverDecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), validators=[InputRequired()], choices=[
        SelectChoice("accept", _l("Accept the reason")), SelectChoice("refuse", _l("Refuse: an assessment is needed"))])
    note = TextAreaField(_l("Opinion (required when refusing)"), validators=[Optional(), Length(max=20_000)])
    submit = SubmitField(_l("Record the decision"))


class AssessForm(FlaskForm):
    necessity = TextAreaField(_l("Necessity (必要性)"), validators=[Length(max=20_000)])
    feasibility = TextAreaField(_l("Feasibility (可行性)"), validators=[Length(max=20_000)])
    market_impact = TextAreaField(_l("Cost and impact on market entities (对市场主体的成本和影响)"),
                                  validators=[Length(max=20_000)])
    fair_competition = TextAreaField(_l("Fair-competition concerns (公平竞争)"), validators=[Length(max=20_000)])
    interests = TextAreaField(_l("Declaration of interests (利益关系声明)"), validators=[DataRequired(), Length(max=20_000)],
                              description=_l("State any interest you or your organisation have in the matter "
                                             "(for example: none; or a company affected by the draft)."))
    consent_named = BooleanField(_l("I agree to be named as an expert in the published feedback"))
    submit = SubmitField(_l("Submit the assessment"))


class AnswerOverallForm(FlaskForm):
    decision = RadioField(_l("Decision"), validators=[Optional()], choices=DECISIONS)
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=20_000)])
    submit = SubmitField(_l("Save the answers"))


# --- staff --------------------------------------------------------------------------------------------------

def _document(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or not invitations.may_manage(current_user, document):
        abort(404)
    return document


def _invitation(document: Document, invitation_id: int) -> AssessmentInvitation:
    invitation = db.session.get(AssessmentInvitation, invitation_id)
    if invitation is None or invitation.document_id != document.id:
        abort(404)
    return invitation


@bp.get("/staff/documents/<int:document_id>/invitations")
@login_required
def index(document_id: int):
    document = _document(document_id)
    page, next_before = invitations.invitations_page(document, before=request.args.get("before", type=int))
    now = utcnow()
    waiver = invitations.latest_waiver(document)
    return render_template(
        "workspace/invitations.html", document=document, invitations=page, next_before=next_before, now=now,
        status_of=invitations.status_of, statuses=invitations.STATUS_LABELS, kinds=invitations.KIND_LABELS,
        state=invitations.requirement(document), waiver=waiver,
        can_invite=invitations.may(current_user, document, invitations.INVITE_ACTION),
        can_waive=invitations.may(current_user, document, "waive_prior_assessment"),
        can_decide=invitations.may(current_user, document, "decide_assessment_waiver")
        and waiver is not None and waiver.decided_at is None,
        waiver_form=WaiverForm(), decision_form=WaiverDecisionForm())


@bp.route("/staff/documents/<int:document_id>/invitations/new", methods=["GET", "POST"])
@login_required
def new(document_id: int):
    document = _document(document_id)
    if not invitations.may(current_user, document, invitations.INVITE_ACTION):
        abort(403)
    form = InvitationForm()
    if request.method == "GET":
        form.expires_on.data = invitations.default_expiry(document, utcnow())
    if form.validate_on_submit() and commit_or_refuse(lambda: invitations.invite(
            document, current_user, kind=form.kind.data, name=form.name.data,
            organisation=form.organisation.data or "", email=form.email.data, expires_on=form.expires_on.data)):
        flash(_("The invitation was saved; the personal link goes out by mail."), "success")
        return redirect(url_for("invitations.index", document_id=document.id))
    return render_template("workspace/invitations_new.html", document=document, form=form), \
        (400 if request.method == "POST" else 200)


@bp.post("/staff/documents/<int:document_id>/invitations/<int:invitation_id>/<any(revoke, resend):what>")
@login_required
def change(document_id: int, invitation_id: int, what: str):
    document = _document(document_id)
    invitation = _invitation(document, invitation_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service = invitations.revoke if what == "revoke" else invitations.resend
    if commit_or_refuse(lambda: service(invitation, current_user)):
        flash(_("The invitation was revoked.") if what == "revoke" else _("A new link was sent; the old one no longer works."),
              "success")
    return redirect(url_for("invitations.index", document_id=document.id))


@bp.route("/staff/documents/<int:document_id>/invitations/<int:invitation_id>", methods=["GET", "POST"])
@login_required
def assessment(document_id: int, invitation_id: int):
    document = _document(document_id)
    invitation = _invitation(document, invitation_id)
    found = invitation.assessment
    can_answer = found is not None and invitations.may(current_user, document, "answer_assessment")
    form = AnswerOverallForm(obj=found) if request.method == "GET" else AnswerOverallForm()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and not can_answer:
        abort(403)
    if can_answer and form.validate_on_submit():
        overall = (form.decision.data, form.reason.data or "") if form.decision.data else None
        remarks = {}
        for remark in found.remarks:
            decision = request.form.get(f"decision-{remark.id}", "")
            reason = request.form.get(f"reason-{remark.id}", "")[:20_000]
            if decision:
                remarks[remark.id] = (decision, reason)
        try:
            invitations.answer(found, current_user, overall=overall, remarks=remarks)
        except DomainError as exc:  # refused: 400, the message beside its field (overall or a remark's)
            db.session.rollback()
            field = getattr(exc, "field", None)
            if field in form:
                form[field].errors = [*form[field].errors, exc.message]
            elif field:
                errors[field] = exc.message
            else:
                flash(exc.message, "error")
            status = 400
        else:
            db.session.commit()
            flash(_("The answers were saved."), "success")
            return redirect(url_for("invitations.assessment", document_id=document.id, invitation_id=invitation.id))
    elif request.method == "POST":
        status = 400
    return make_response(render_template("workspace/invitations_assessment.html", document=document, invitation=invitation,
                           assessment=found, form=form, can_answer=can_answer, decisions=DECISIONS,
                           decision_labels=DECISION_LABELS, kinds=invitations.KIND_LABELS, errors=errors,
                           status=invitations.STATUS_LABELS[invitations.status_of(invitation)]), status)


@bp.post("/staff/documents/<int:document_id>/invitations/waiver")
@login_required
def waiver(document_id: int):
    document = _document(document_id)
    form = WaiverForm()
    if form.validate_on_submit():
        if commit_or_refuse(lambda: invitations.request_waiver(document, current_user, form.reason.data)):
            flash(_("The reason was given to the department head."), "success")
    else:
        flash(_("Please give the reason or opinion in writing."), "error")
    return redirect(url_for("invitations.index", document_id=document.id) + "#waiver")


@bp.post("/staff/documents/<int:document_id>/invitations/waiver/<int:waiver_id>")
@login_required
def decide(document_id: int, waiver_id: int):
    document = _document(document_id)
    found = db.session.get(AssessmentWaiver, waiver_id)
    if found is None or found.document_id != document.id:
        abort(404)
    form = WaiverDecisionForm()
    if form.validate_on_submit():
        if commit_or_refuse(lambda: invitations.decide_waiver(found, current_user, accept=form.decision.data == "accept",
                                                             note=form.note.data or "")):
            flash(_("The decision was recorded."), "success")
    else:
        flash(_("Choose a decision."), "error")
    return redirect(url_for("invitations.index", document_id=document.id) + "#waiver")


# --- the invitee's page (no sign-in) ------------------------------------------------------------------------

def _private(response):
    """A personal page: never cached, never indexed, no address passed on."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/assess/<token>")
@ratelimit.limited("assess", "ASSESSMENT_LINK_RATE_LIMIT")
def link(token: str):
    """The mailed link: kept in the session and the address changed to /assess, so that the token never
    appears in the page (its links, a print or error-report address, a Referer)."""
    session["assess_token"] = token[:100]
    return _private(redirect(url_for("invitations.assess")))


@bp.route("/assess", methods=["GET", "POST"])
@ratelimit.limited("assess", "ASSESSMENT_LINK_RATE_LIMIT", methods=("POST",))
def assess():
    now = utcnow()
    try:
        invitation = invitations.by_token(session.get("assess_token", ""), now)
    except invitations.LinkInvalid as exc:
        session.pop("assess_token", None)
        return _private(make_response(render_template("public/assess_invalid.html", message=exc.message), 404))
    if invitations.opened(invitation, now):
        db.session.commit()
    found = invitation.assessment
    form = AssessForm(obj=found) if request.method == "GET" else AssessForm()
    remarks = {r.article_id: r.body for r in found.remarks} if found else {}
    status = 200
    if request.method == "POST" and (message := invitations.closed_message(invitation)):
        flash(message, "error")  # the form is gone: say why nothing was saved
        status = 400
    elif form.validate_on_submit():
        remarks = {a.id: request.form.get(f"remark-{a.id}", "")[:20_001] for a in invitation.version.articles}
        try:
            saved = invitations.submit(
                invitation, necessity=form.necessity.data or "", feasibility=form.feasibility.data or "",
                market_impact=form.market_impact.data or "", fair_competition=form.fair_competition.data or "",
                interests=form.interests.data or "", consent_named=form.consent_named.data, remarks=remarks, now=now)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            status = 400
        else:
            db.session.commit()  # saved before anything else may fail: the receipt shown exists
            flash(_("Your assessment was received. Receipt number: %(receipt)s", receipt=invitations.display(
                saved.receipt_number)), "success")
            return _private(redirect(url_for("invitations.assess") + "#receipt"))
    elif request.method == "POST":
        status = 400
    found = invitation.assessment
    return _private(make_response(render_template(
        "public/assess.html", invitation=invitation, assessment=found, form=form, remarks=remarks,
        kinds=invitations.KIND_LABELS, decision_labels=DECISION_LABELS,
        closed=invitations.closed_message(invitation) is not None,
        feedback_visible=feedback_public(invitation.document),
        is_expert=invitation.kind == "expert"), status))

