"""Which service takes each transition that needs more than a note."""
from __future__ import annotations

from ..models import Document, User
from ..workflow import engine
from . import drafting, feedback_stage, review

# Transitions taken on their own page with their own form (endpoint names in the workspace).
FORM_PAGES = {
    "open_consultation": "workspace.schedule",
    "return_for_revision": "workspace.signoff",
    "reject_as_unlawful": "workspace.signoff",
    "record_adoption": "workspace.decision",
    "record_rejection": "workspace.decision",
    "publish": "workspace.publish",
}


def take(document: Document, name: str, user: User, note: str = "") -> None:
    """Take a transition that needs only a note."""
    if name in FORM_PAGES:
        raise KeyError(name)
    if name == "head_approve_submission":
        review.send_to_joint_review(document, user)
    elif name == "request_skip_predisclosure":
        drafting.request_skip_predisclosure(document, user, note)
    elif name == "withdraw":
        feedback_stage.withdraw(document, user, note)
    else:
        engine.perform(document, name, user, note=note)
