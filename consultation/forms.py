"""WTForms for every page; CSRF comes with FlaskForm."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField, DateField, DateTimeLocalField, HiddenField, IntegerField, PasswordField, RadioField, SelectField,
    SelectChoice, SelectMultipleField, StringField, SubmitField, TextAreaField,
)
from wtforms.fields import EmailField, TelField
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import (
    DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional, Regexp, StopValidation,
    ValidationError,
)

from .services import accounts
from .text import CONTROL_CHARACTERS, one_line_break

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(value: datetime) -> datetime:
    """A datetime-local field gives Beijing wall-clock time; make it timezone-aware."""
    return value.replace(tzinfo=SHANGHAI)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    # No password is longer than the policy's maximum: a longer one is refused before any hashing.
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Sign in"))


class _DraftFields(FlaskForm):
    body = TextAreaField(_l("Text of the draft"), validators=[Optional(), Length(max=500_000)],
                         description=_l("Paste the text, or upload a .docx file below. Each article starts on its own line: 第一条 …"))
    docx = FileField(_l("Or upload a Word file (.docx)"), validators=[FileAllowed(["docx"], _l("Only .docx files."))])
    explanation = TextAreaField(_l("Drafting explanation (起草说明)"), validators=[DataRequired(), Length(max=100_000)])


class DocumentForm(_DraftFields):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    procedure = SelectField(_l("Procedure"), choices=[], default="normative_document")
    affects_public_rights = BooleanField(_l("Affects the rights and obligations of the public (涉及公众权益)"), default=True)
    concerns_market_entities = BooleanField(_l("Mainly concerns market entities (涉及市场主体)"))
    submit = SubmitField(_l("Save"))


class RevisionForm(_DraftFields):
    submit = SubmitField(_l("Save the review draft"))


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note or opinion"), validators=[Optional(), Length(max=20_000)])
    submit = SubmitField(_l("Confirm"))


class ScheduleForm(FlaskForm):
    opens_at = DateTimeLocalField(_l("Opens at (Beijing time)"), validators=[InputRequired()], format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Closes at (Beijing time)"), validators=[InputRequired()], format="%Y-%m-%dT%H:%M")
    notice = TextAreaField(_l("Consultation notice (征求意见公告)"), validators=[DataRequired(), Length(max=20_000)])
    short_period_reason = TextAreaField(
        _l("Justification for a period shorter than the minimum"), validators=[Optional(), Length(max=5_000)],
        description=_l("Only when the consultation closes before the legal minimum. The notice shows it to the public."))
    contact_person = StringField(_l("Contact person (联系人)"), validators=[DataRequired(), Length(max=60)])
    contact_phone = StringField(_l("Contact telephone (联系电话)"), validators=[DataRequired(), Length(max=40),
                                Regexp(r"^[0-9+()\- ]{5,40}$", message=_l("Digits, spaces, +, - and brackets only."))])
    contact_email = StringField(_l("Email address for comments (电子邮箱)"),
                                validators=[Optional(), Length(max=200), Email()])
    postal_address = StringField(_l("Postal address for letters (通信地址)"), validators=[Optional(), Length(max=300)])
    submit = SubmitField(_l("Pass the review and publish the consultation"))


class ExtendForm(FlaskForm):
    closes_at = DateTimeLocalField(_l("New closing time (Beijing time)"), validators=[InputRequired()], format="%Y-%m-%dT%H:%M")
    reason = TextAreaField(_l("Reason for the extension (announced on the consultation page)"),
                           validators=[DataRequired(), Length(max=5_000)])
    submit = SubmitField(_l("Extend the consultation"))


class AssessmentForm(FlaskForm):
    kind = RadioField(_l("Kind"), validators=[InputRequired()], choices=[
        SelectChoice("expert_argument", _l("Expert argument (专家论证)")),
        SelectChoice("risk_assessment", _l("Risk assessment (风险评估)")),
        # 事前评估 is no longer recorded as free text: invitations (views/invitations.py); old records stay readable.
    ])
    held_on = DateField(_l("Held on"), validators=[InputRequired()])
    participants = TextAreaField(_l("Participants (experts, bodies, enterprise representatives)"),
                                 validators=[DataRequired(), Length(max=10_000)])
    conclusion = TextAreaField(_l("Conclusion and main opinions"), validators=[DataRequired(), Length(max=50_000)])
    submit = SubmitField(_l("Save the record"))


class OpinionAnswerForm(FlaskForm):
    response = TextAreaField(_l("How the opinion was handled"), validators=[DataRequired(), Length(max=20_000)])
    submit = SubmitField(_l("Save the answer"))


def no_control_characters(form, field) -> None:
    """Tabs and line breaks are text; other control characters are not (PostgreSQL refuses NUL)."""
    if field.data and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError(_l("Contains characters that are not allowed."))


class CommentForm(FlaskForm):
    article_id = SelectField(_l("Which part does your comment concern?"), coerce=int, default=0)
    body = TextAreaField(_l("Your comment"), filters=[one_line_break], validators=[
        DataRequired(_l("Please write your comment.")), Length(max=5000), no_control_characters])
    name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=100), no_control_characters],
                       render_kw={"autocomplete": "name"})
    organisation = StringField(_l("Organisation (optional)"), validators=[
        Optional(), Length(max=200), no_control_characters], render_kw={"autocomplete": "organization"})
    phone = TelField(_l("Telephone (optional)"), validators=[
        Optional(), Length(max=40), Regexp(r"^[0-9+\-() ]+$", message=_l("Use digits only for the telephone number."))],
        render_kw={"autocomplete": "tel"})
    email = EmailField(_l("Email (optional)"), validators=[
        Optional(), Length(max=200), Email(_l("This email address is not valid."))], render_kw={"autocomplete": "email"})
    show_masked_name = BooleanField(_l("Show my name in masked form (for example 张*祥) next to my comment in the published feedback"))
    # Against simple bots (consultation/antibot.py): a field people never see, and when the form was served.
    website = StringField(_l("Leave this field empty"), validators=[Optional()])  # any value refuses the comment (antibot)
    started = HiddenField()
    submit = SubmitField(_l("Submit comment"))


class SubscribeForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Please give your email address.")), Length(max=200),
                                                Email(_l("This email address is not valid."))],
                       render_kw={"autocomplete": "email"})
    department = SelectField(_l("New consultations of"), coerce=int, default=0)
    submit = SubmitField(_l("Subscribe"))


class ReceiptForm(FlaskForm):
    receipt = StringField(_l("Receipt number"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Look up"))


class AnswerForm(FlaskForm):
    decision = RadioField(_l("Decision"), validators=[InputRequired()], choices=[
        SelectChoice("adopted", _l("Adopted")), SelectChoice("partly_adopted", _l("Partly adopted")),
        SelectChoice("not_adopted", _l("Not adopted")), SelectChoice("explained", _l("Answered without change")),
    ])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=10_000)])
    # 修改说明: the articles of the revised version that an adopted answer changed (choices set by the view).
    articles = SelectMultipleField(_l("Articles this answer changed"), coerce=int, choices=[], validate_choice=False,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    submit = SubmitField(_l("Save answer"))


class ModerationForm(FlaskForm):
    comments = SelectMultipleField(_l("Comments"), coerce=int, choices=[], validate_choice=False,
                                   widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    action = RadioField(_l("Moderation decision"), validators=[InputRequired()], choices=[
        SelectChoice("publish", _l("Publish")), SelectChoice("hide", _l("Hide")),
    ])
    reason = SelectField(_l("Reason for hiding"), choices=[
        SelectChoice("", "—"), SelectChoice("spam", _l("spam or meaningless content")),
        SelectChoice("abuse", _l("abuse")), SelectChoice("personal_data", _l("someone else's personal data")),
        SelectChoice("off_topic", _l("off-topic")),
    ], default="")
    note = TextAreaField(_l("Note (internal)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Apply to the selected comments"))


class SignoffForm(FlaskForm):
    organ = SelectField(_l("Signing for"), choices=[])
    outcome = RadioField(_l("Outcome"), validators=[InputRequired()], choices=[
        SelectChoice("approve", _l("Approve (同意 / 合法)")), SelectChoice("return", _l("Return for revision (退回修改 / 应当予以修改)")),
        SelectChoice("reject", _l("Unlawful: back to drafting (不合法)")),
    ])
    opinion = TextAreaField(_l("Written opinion (审核意见)"), validators=[Optional(), Length(max=20_000)])
    submit = SubmitField(_l("Sign"))


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision of the executive meeting"), validators=[InputRequired()], choices=[
        # The meeting's words (通过 / 修改后通过), not the comment answers' (采纳).
        SelectChoice("adopted", _l("Approved")), SelectChoice("adopted_with_changes", _l("Adopted with changes")),
    ])
    decision_date = DateField(_l("Meeting date"), validators=[InputRequired()])
    prefix = SelectField(_l("Issuing organ"), choices=[])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=20_000)])
    submit = SubmitField(_l("Record the decision and assign the number"))


class RejectionForm(FlaskForm):
    decision_date = DateField(_l("Meeting date"), validators=[InputRequired()])
    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=20_000)])
    submit = SubmitField(_l("Record non-adoption"))


class CalendarFileForm(FlaskForm):
    upload = FileField(_l("Year file (.txt)"), validators=[FileAllowed(["txt"], _l("Only .txt files."))])
    text = TextAreaField(_l("Or paste the year's schedule"), validators=[Optional(), Length(max=20_000)])
    submit = SubmitField(_l("Load the year"))


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired()])
    kind = RadioField(_l("Status"), validators=[InputRequired()], choices=[
        SelectChoice("holiday", _l("Holiday (rest day)")),
        SelectChoice("workday", _l("Make-up working day (调休上班)")),
        SelectChoice("normal", _l("No correction (as the official schedule or the weekend says)")),
    ])
    name = StringField(_l("Name, for example 春节"), validators=[Optional(), Length(max=60)])
    submit = SubmitField(_l("Save the day"))


class PublishForm(FlaskForm):
    final_text = TextAreaField(_l("Final text (正式文本)"), validators=[DataRequired(), Length(max=500_000)])
    policy_interpretation = TextAreaField(_l("Policy interpretation (政策解读)"), validators=[Optional(), Length(max=100_000)])
    effective_date = DateField(_l("Effective date (施行日期)"), validators=[InputRequired()])
    validity_years = IntegerField(_l("Validity in years (有效期)"), default=5, validators=[InputRequired(), NumberRange(1, 5)])
    signed_date = DateField(_l("Date of signing (成文日期)"), validators=[Optional()],
                            description=_l("Leave empty to use the date of the executive meeting's decision."))
    topic = SelectField(_l("Topic (主题分类)"), choices=[], validators=[Optional()])
    submit = SubmitField(_l("Publish"))


class LibraryRecordForm(FlaskForm):
    registration_number = StringField(_l("Registration number (备案登记号)"), validators=[Optional(), Length(max=60)])
    topic = SelectField(_l("Topic (主题分类)"), choices=[], validators=[Optional()])
    signed_date = DateField(_l("Date of signing (成文日期)"), validators=[Optional()])
    submit = SubmitField(_l("Save the library record"))


class LibraryChangeForm(FlaskForm):
    change = RadioField(_l("Change"), validators=[InputRequired()], choices=[
        SelectChoice("amended", _l("Amended (已修改)")), SelectChoice("repealed", _l("Repealed (已废止)")),
    ])
    effective_on = DateField(_l("Takes effect on"), validators=[InputRequired()])
    by_document = SelectField(_l("By the published document"), coerce=int, choices=[], validators=[Optional()])
    by_reference = StringField(_l("Or by (document number and title, when not in this library)"),
                               validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Note (shown in the public history)"), validators=[Optional(), Length(max=2_000)])
    submit = SubmitField(_l("Record the change"))


class LibraryFilterForm(FlaskForm):
    """The library's filters, read from the query string."""

    status = SelectField(_l("Status"), validators=[Optional()], choices=[
        SelectChoice("", _l("All statuses")), SelectChoice("in_force", _l("in force (现行有效)")),
        SelectChoice("not_yet_in_force", _l("not yet in force (尚未生效)")), SelectChoice("amended", _l("amended (已修改)")),
        SelectChoice("repealed", _l("repealed (已废止)")), SelectChoice("expired", _l("expired (已失效)")),
    ])
    topic = SelectField(_l("Topic"), choices=[], validators=[Optional()])
    department = SelectField(_l("Department"), coerce=int, choices=[], validators=[Optional()])
    year = SelectField(_l("Year"), coerce=int, choices=[], validators=[Optional()])
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(1, 10_000)])


def _at_most(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters."))


DEPARTMENT_KINDS = {
    "drafting": _l("Drafting department"),
    "gov_office": _l("Government office"),
    "justice": _l("Justice bureau"),
    "openness": _l("Openness office"),
}


class DepartmentForm(FlaskForm):
    name = StringField(_l("Name of the department"), validators=[
        DataRequired(_l("Give the department's name.")), _at_most(accounts.DEPARTMENT_NAME_MAX),
        no_control_characters], description=_l("The full official name, for example 华城市住房和城乡建设局."))
    kind = SelectField(_l("Kind"), choices=[SelectChoice("", _l("— choose the kind —")),
                                            *(SelectChoice(k, label) for k, label in DEPARTMENT_KINDS.items())],
                       validators=[InputRequired(_l("Choose the kind of department."))])
    submit = SubmitField(_l("Save the department"))


class _NewPassword(FlaskForm):
    # The length is checked here too; the rest of the policy (consultation/passwords.py) in the service.
    password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Give a password.")),
        Length(accounts.PASSWORD_MIN, accounts.PASSWORD_MAX,
               _l("The password needs %(min)d to %(max)d characters.")),
    ], description=_l("%(min)d to %(max)d characters; spaces and any characters are allowed. Several unrelated "
                      "words are easy to remember and hard to guess. Common or leaked passwords, and passwords "
                      "containing the username or the name, are refused.",
                      min=accounts.PASSWORD_MIN, max=accounts.PASSWORD_MAX),
        render_kw={"autocomplete": "new-password"})
    password_confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(_l("Type the password a second time.")),
        EqualTo("password", _l("The two passwords are not the same.")),
    ], render_kw={"autocomplete": "new-password"})


def at_least_one_role(form, field) -> None:
    """DataRequired would mark every checkbox as required, and the browser would then want them all."""
    if not field.data:
        raise StopValidation(_l("Give the account at least one role."))


class _AccountDetails(FlaskForm):
    display_name = StringField(_l("Name shown to colleagues"), validators=[
        DataRequired(_l("Give the name shown to colleagues.")), _at_most(accounts.DISPLAY_NAME_MAX),
        no_control_characters], description=_l("For example 王明（住建局）."))
    email = EmailField(_l("Email (optional)"), validators=[
        Optional(), _at_most(accounts.EMAIL_MAX), Email(_l("This email address is not valid."))],
        description=_l("Reminders and returned submissions are sent here."), render_kw={"autocomplete": "off"})
    department = SelectField(_l("Department"), choices=[], validators=[DataRequired(_l("Choose a department from the list."))],
                             coerce=lambda value: int(value) if value not in (None, "") else None)
    roles = SelectMultipleField(_l("Roles"), choices=[], widget=ListWidget(prefix_label=False),
                                option_widget=CheckboxInput(), validators=[at_least_one_role],
                                description=_l("One person may hold several roles. Drafters and department heads act "
                                               "only on the documents of their own department."))


class NewAccountForm(_AccountDetails, _NewPassword):
    username = StringField(_l("Username"), filters=[lambda value: value.strip() if value else value], validators=[
        DataRequired(_l("Give a username.")),
        Length(accounts.USERNAME_MIN, accounts.USERNAME_MAX,
               _l("%(min)d to %(max)d letters, digits, dots, hyphens or underscores.")),
        Regexp(accounts.USERNAME_PATTERN, message=_l("Letters, digits, dots, hyphens and underscores only."))],
        description=_l("Used to sign in; it cannot be changed later. Letters, digits, dots, hyphens and underscores."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    submit = SubmitField(_l("Create the account"))


class AccountForm(_AccountDetails):
    active = BooleanField(_l("Active: the account may sign in"),
                          description=_l("A deactivated account cannot sign in, and its open sessions end at once. "
                                         "Its records stay."))
    submit = SubmitField(_l("Save the account"))


class PasswordResetForm(_NewPassword):
    submit = SubmitField(_l("Set the new password"))


class PasswordChangeForm(_NewPassword):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Give your current password.")), Length(max=accounts.PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Change my password"))


class EndSessionsForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[
        DataRequired(_l("Give your current password.")), Length(max=accounts.PASSWORD_MAX)],
        description=_l("Asked again so that nobody at a computer you left signed in can do this."),
        render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Sign out everywhere else"))
