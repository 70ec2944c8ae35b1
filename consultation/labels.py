"""What the pages and the API call things: stages, actions, roles, outcomes and states, in the page's language.

Views, templates and the API read their labels here; nothing here imports a view.
"""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .feedback import HIDDEN_REASON_LABELS
from .models import Document
from .workflow import engine

AUDIT_ACTIONS = {
    "create_document": _l("Document created"),
    "edit_draft": _l("Draft edited"),
    "revise_draft": _l("Review draft prepared"),
    "schedule_consultation": _l("Consultation window set"),
    "comment_received": _l("Comment received"),
    "comments_received": _l("Comments received, sealed into the audit trail"),
    "answer_campaign": _l("Group of comments answered"),
    "answer_comment": _l("Comment answered"),
    "open_review_round": _l("Review round opened"),
    "sign_off": _l("Signed in joint review"),
    "name_co_unit": _l("Co-responsible unit named"),
    "remove_co_unit": _l("Co-responsible unit removed"),
    "assign_number": _l("Document number assigned"),
    "file_generated": _l("File generated"),
    "rerun_job": _l("Job run again"),
    "extend_consultation": _l("Consultation extended"),
    "record_assessment": _l("Assessment recorded"),
    "answer_opinion": _l("Review opinion answered"),
    "calendar_loaded": _l("Holiday calendar loaded"),
    "request_report": _l("PDF requested"),
    "mail_sent": _l("Mail sent"),
    "subscription_requested": _l("Subscription requested"),
    "subscription_confirmed": _l("Subscription confirmed"),
    "subscription_ended": _l("Subscription ended"),
    "calendar_day_changed": _l("Holiday calendar corrected"),
    "sign_in": _l("Signed in"),
    "moderate_comment": _l("Comment moderated"),
    "record_library_change": _l("Library status changed"),
    "update_library_record": _l("Library record updated"),
    "sign_out": _l("Signed out"),
    "sign_in_locked": _l("Sign-in paused after wrong passwords"),
    "sessions_ended": _l("Sessions ended"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by an administrator"),
    "account_created": _l("Account created"),
    "account_updated": _l("Account updated"),
    "account_deactivated": _l("Account deactivated"),
    "account_reactivated": _l("Account reactivated"),
    "department_created": _l("Department created"),
    "department_updated": _l("Department updated"),
    "rotate_audit_key": _l("Audit signing key replaced"),
    "log_offline_comment": _l("Comment logged from a letter, an email or a meeting"),
    "upload_offline_attachment": _l("Scan attached to an offline comment"),
    "record_offline_meeting": _l("Meeting recorded"),
    "publish_feedback": _l("Adoption feedback published"),
    "record_decision": _l("Meeting decision recorded"),
    "record_withdrawal": _l("Withdrawal recorded"),
}

ORGANS = {"gov_office": _l("Government office"), "justice": _l("Justice bureau"),
          "openness_office": _l("Openness office"), "co_units": _l("Co-responsible units")}
ROLES = {
    "drafter": _l("drafter"),
    "department_head": _l("department head"),
    "gov_office_reviewer": _l("government-office reviewer"),
    "justice_reviewer": _l("justice-bureau reviewer"),
    "openness_officer": _l("openness office"),
    "admin": _l("administrator"),
}
OUTCOMES = {
    "approve": _l("approved (同意 / 合法)"),
    "return": _l("returned for changes (退回修改 / 应当予以修改)"),
    "reject": _l("unlawful (不合法)"),
}
ROUND_STATUSES = {
    "pending": _l("pending"), "approved": _l("approved"), "returned": _l("returned"), "rejected": _l("rejected"),
}
ASSESSMENTS = {
    "expert_argument": _l("Expert argument (专家论证)"),
    "risk_assessment": _l("Risk assessment (风险评估)"),
    "prior_assessment": _l("Prior assessment (事前评估)"),
}
LIBRARY_STATUSES = {
    "not_yet_in_force": _l("not yet in force (尚未生效)"),
    "in_force": _l("in force (现行有效)"),
    "amended": _l("amended (已修改)"),
    "repealed": _l("repealed (已废止)"),
    "expired": _l("expired (已失效)"),
}

VERSION_KINDS = {
    "consultation_draft": _l("consultation draft"),
    "review_draft": _l("review draft"),
    "final_text": _l("final text"),
}


def role_names() -> dict[str, str]:
    """Role identifiers as the page's language names them."""
    return {key: str(label) for key, label in ROLES.items()}


def localized(zh: str, en: str) -> str:
    """Pick the Chinese or English title that a procedure file gives."""
    return en if str(get_locale()).startswith("en") else zh


def action_label(document: Document, action: str) -> str:
    transition = engine.procedure_of(document).transitions.get(action)
    if transition:
        return localized(transition.title, transition.title_en)
    return str(AUDIT_ACTIONS.get(action, action))


def stage_name(document: Document, stage_id: str | None) -> str:
    if not stage_id:
        return "—"
    stage = engine.procedure_of(document).stages.get(stage_id)
    return localized(stage.title, stage.title_en) if stage else stage_id


MODERATION_STATES = {"pending": _l("waiting for moderation"), "published": _l("published"), "hidden": _l("hidden")}


def moderation_label(comment) -> str:
    label = str(MODERATION_STATES.get(comment.moderation, comment.moderation))
    if comment.hidden_reason:
        label += f" ({HIDDEN_REASON_LABELS.get(comment.hidden_reason, comment.hidden_reason)})"
    return label
