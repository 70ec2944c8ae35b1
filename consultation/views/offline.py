"""Staff pages for comments received off the web form: letters, emails and meetings (线下意见)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, RadioField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField, TimeField
from wtforms.fields import EmailField, TelField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp

from ..errors import NotFound
from ..extensions import db
from ..feedback import channel_line
from ..models import Comment, CommentChannel, Document, MeetingKind
from ..services import comment_lists, consultations, offline
from ..text import one_line_break
from ..workflow import engine
from .refusals import commit_or_refuse
from .workspace import _document

bp = Blueprint("offline", __name__, url_prefix="/staff")

CHANNEL_LABELS = {
    CommentChannel.WEB.value: _l("online"),
    CommentChannel.LETTER.value: _l("letter"),
    CommentChannel.EMAIL.value: _l("email"),
    CommentChannel.MEETING.value: _l("meeting"),
}
MEETING_KINDS = {
    MeetingKind.SYMPOSIUM.value: _l("Symposium (座谈会)"),
    MeetingKind.HEARING.value: _l("Hearing (听证会)"),
    MeetingKind.ARGUMENT.value: _l("Expert argument meeting (论证会)"),
    MeetingKind.OTHER.value: _l("Other meeting"),
}


@bp.before_request
@login_required
def _signed_in():
    """Every page here needs a signed-in staff member."""


@bp.app_context_processor
def _labels() -> dict:
    return {"channel_label": lambda value: str(CHANNEL_LABELS.get(value, value)), "channel_line": channel_line,
            "meeting_kind_label": lambda value: str(MEETING_KINDS.get(value, value)),
            "offline_details": offline.details_of}


def _phone():
    return TelField(_l("Telephone (optional)"), validators=[
        Optional(), Length(max=40), Regexp(r"^[0-9+\-() ]+$", message=_l("Use digits only for the telephone number."))])


class OfflineCommentForm(FlaskForm):
    channel = RadioField(_l("Received by"), validators=[InputRequired()], default=CommentChannel.LETTER.value,
                         choices=[SelectChoice(CommentChannel.LETTER.value, _l("Letter (信函)")),
                                  SelectChoice(CommentChannel.EMAIL.value, _l("Email (电子邮件)"))])
    received_on = DateField(_l("Date received (收到日期)"), validators=[InputRequired()])
    received_time = TimeField(_l("Time received (emails only)"), validators=[Optional()],
                              description=_l("The time the email reached the consultation's mailbox, Beijing time. "
                                             "An email counts only if it arrived before the closing time."))
    postmarked_on = DateField(_l("Postmark date (邮戳日期, letters only)"), validators=[Optional()],
                              description=_l("A letter postmarked by the closing day counts even if it arrives "
                                             "later. Leave empty if the postmark cannot be read: the letter must "
                                             "then have arrived by the closing day."))
    article_id = SelectField(_l("Concerns"), coerce=int, default=0)
    body = TextAreaField(_l("Text of the comment"), filters=[one_line_break],
                         validators=[DataRequired(), Length(max=5000)],
                         description=_l("Type the comment as written. After moderation the text may be published, "
                                        "never the sender's details or the scan."))
    name = StringField(_l("Sender's name (optional)"), validators=[Optional(), Length(max=100)])
    organisation = StringField(_l("Organisation (optional)"), validators=[Optional(), Length(max=200)])
    phone = _phone()
    email = EmailField(_l("Email (optional)"), validators=[
        Optional(), Length(max=200), Email(_l("This email address is not valid."))],
        description=_l("If given, the receipt number is sent to this address."))
    postal_address = StringField(_l("Postal address (optional)"), validators=[Optional(), Length(max=300)])
    files = MultipleFileField(_l("Scan of the letter or email (PDF or image, optional)"))
    submit = SubmitField(_l("Log the comment"))


class MeetingForm(FlaskForm):
    kind = RadioField(_l("Kind of meeting"), validators=[InputRequired()], default=MeetingKind.SYMPOSIUM.value,
                      choices=[SelectChoice(k, v) for k, v in MEETING_KINDS.items()])
    held_on = DateField(_l("Held on"), validators=[InputRequired()],
                        description=_l("Within the consultation period."))
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)])
    host = StringField(_l("Hosted by"), validators=[DataRequired(), Length(max=200)])
    attendees = TextAreaField(_l("Attendees (one per line)"), validators=[DataRequired(), Length(max=5000)],
                              description=_l("Personal data: never published."))
    minutes = TextAreaField(_l("Minutes (会议纪要, optional)"), validators=[Optional(), Length(max=offline.MAX_MINUTES)],
                            description=_l("For the staff and the reviewers only: never published."))
    files = MultipleFileField(_l("Scan of the minutes (PDF or image, optional)"))
    submit = SubmitField(_l("Record the meeting"))


class OpinionForm(FlaskForm):
    article_id = SelectField(_l("Concerns"), coerce=int, default=0)
    body = TextAreaField(_l("Opinion raised"), filters=[one_line_break], validators=[DataRequired(), Length(max=5000)])
    name = StringField(_l("Raised by (optional)"), validators=[Optional(), Length(max=100)])
    organisation = StringField(_l("Organisation (optional)"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add the opinion"))


def _articles(document: Document, form) -> None:
    consultation = consultations.consultation_of(document)
    articles = consultation.version.articles if consultation else []
    form.article_id.choices = [(0, _("whole draft"))] + [(a.id, f"{a.label} {a.text[:30]}") for a in articles]


def _uploads(field) -> list[offline.Upload]:
    """The uploaded files, each read up to one byte past the limit (enough to refuse it)."""
    limit = offline.max_bytes()
    found = []
    for storage in field.data or []:
        if storage and getattr(storage, "filename", None):
            found.append(offline.Upload(storage.filename, storage.stream.read(limit + 1)))
    return found


def _limits() -> dict:
    return {"max_files": offline.MAX_FILES, "max_mb": offline.megabytes(offline.max_bytes())}


def _can_log(document: Document) -> bool:
    return engine.may_act(current_user, document, offline.ACTION)


def _found(call):
    try:
        return call()
    except NotFound:
        abort(404)


@bp.get("/documents/<int:document_id>/offline")
def index(document_id: int):
    doc = _document(document_id)
    meetings = offline.meetings_of(doc)
    consultation = consultations.consultation_of(doc)
    return render_template("workspace/offline_index.html", document=doc, meetings=meetings,
                           opinions=offline.opinion_counts([m.id for m in meetings]), can_log=_can_log(doc),
                           window=offline.window_days(consultation) if consultation else None,
                           counts=offline.channel_counts(doc))


@bp.route("/documents/<int:document_id>/offline/new", methods=["GET", "POST"])
def log_comment(document_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, offline.ACTION)
    form = OfflineCommentForm()
    _articles(doc, form)
    logged: list[Comment] = []
    if form.validate_on_submit() and commit_or_refuse(lambda: logged.append(offline.log_comment(
            doc, current_user, channel=form.channel.data, body=form.body.data, received_on=form.received_on.data,
            received_time=form.received_time.data, postmarked_on=form.postmarked_on.data,
            article_id=form.article_id.data or None, name=form.name.data or "",
            organisation=form.organisation.data or "", phone=form.phone.data or "", email=form.email.data or "",
            postal_address=form.postal_address.data or "", files=_uploads(form.files))), form):
        comment = logged[0]
        flash(_("The comment was logged. Receipt number: %(receipt)s", receipt=_receipt(comment)), "success")
        return redirect(url_for("offline.comment", document_id=doc.id, comment_id=comment.id))
    return render_template("workspace/offline_comment_form.html", document=doc, form=form, **_limits()), \
        (400 if request.method == "POST" else 200)


def _receipt(comment: Comment) -> str:
    from ..receipts import display
    return display(comment.receipt_number)


@bp.get("/documents/<int:document_id>/offline/comments/<int:comment_id>")
def comment(document_id: int, comment_id: int):
    doc = _document(document_id)
    found = db.session.get(Comment, comment_id)
    if found is None or found.document_id != doc.id or found.channel == CommentChannel.WEB.value:
        abort(404)
    details = offline.details_of(found)
    return render_template("workspace/offline_comment.html", document=doc, comment=found, details=details,
                           attachments=offline.attachments_of(comment=found),
                           can_log=_can_log(doc))


@bp.route("/documents/<int:document_id>/meetings/new", methods=["GET", "POST"])
def new_meeting(document_id: int):
    doc = _document(document_id)
    engine.require_action(current_user, doc, offline.ACTION)
    form = MeetingForm()
    created = []
    if form.validate_on_submit() and commit_or_refuse(lambda: created.append(offline.create_meeting(
            doc, current_user, kind=form.kind.data, held_on=form.held_on.data, place=form.place.data,
            host=form.host.data, attendees=form.attendees.data,
            minutes=form.minutes.data or "", files=_uploads(form.files))), form):
        flash(_("The meeting was recorded. Add the opinions raised there one by one."), "success")
        return redirect(url_for("offline.meeting", document_id=doc.id, meeting_id=created[0].id))
    return render_template("workspace/offline_meeting_form.html", document=doc, form=form, **_limits()), \
        (400 if request.method == "POST" else 200)


@bp.route("/documents/<int:document_id>/meetings/<int:meeting_id>", methods=["GET", "POST"])
def meeting(document_id: int, meeting_id: int):
    doc = _document(document_id)
    found = _found(lambda: offline.meeting_of(doc, meeting_id))
    can_log = _can_log(doc)
    form = OpinionForm()
    _articles(doc, form)
    if request.method == "POST":
        engine.require_action(current_user, doc, offline.ACTION)
        added: list[Comment] = []
        if form.validate_on_submit() and commit_or_refuse(lambda: added.append(offline.add_meeting_opinion(
                doc, current_user, found.id, body=form.body.data, article_id=form.article_id.data or None,
                name=form.name.data or "", organisation=form.organisation.data or "")), form):
            flash(_("The opinion was added. Receipt number: %(receipt)s", receipt=_receipt(added[0])), "success")
            return redirect(url_for("offline.meeting", document_id=doc.id, meeting_id=found.id) + "#opinions")
    after = comment_lists.parse_cursor(request.args.get("after"))
    page = offline.meeting_opinions(found, after=after[0] if after else None)
    return render_template("workspace/offline_meeting.html", document=doc, meeting=found, form=form, page=page,
                           after=after, can_log=can_log, attachments=offline.attachments_of(meeting=found),
                           opinions=offline.opinion_counts([found.id]).get(found.id, 0)), \
        (400 if request.method == "POST" else 200)


@bp.get("/documents/<int:document_id>/offline/files/<int:attachment_id>")
def attachment(document_id: int, attachment_id: int):
    """A scan, for staff who may see the document: always a download, never cached, never sniffed."""
    doc = _document(document_id)
    found = _found(lambda: offline.attachment_of(doc, attachment_id))
    path = offline.path_of(found)
    if not path.exists():
        abort(404)
    name = f"{doc.id}-{found.id}.{offline.EXTENSIONS.get(found.content_type, 'bin')}"
    response = make_response(send_file(path, mimetype=found.content_type, as_attachment=True, download_name=name,
                                       conditional=False, etag=False, max_age=0))
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
