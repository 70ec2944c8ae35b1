"""Every manual transition of both procedures, taken by every role: allowed or refused.

The table below is typed by hand from the procedure as the law and the city describe it, independently of
the files in workflows/ (tests/test_transitions.py derives its table from the files themselves).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from consultation.errors import DomainError, NotAllowed
from consultation.extensions import db
from consultation.models import ReviewOrgan, utcnow
from consultation.services import consultations, drafting, feedback_stage, publication, review
from consultation.workflow import engine

from . import factories

USERS = ("drafter", "head", "drafter2", "head2", "govoffice", "justice", "openness", "admin")

# Who may take each step (the demo users; drafter/head belong to the document's department).
ALLOWED = {
    "request_predisclosure": {"drafter"},
    "head_approve_predisclosure": {"head"},
    "head_return_draft": {"head"},
    "open_consultation": {"openness"},
    "confidentiality_return": {"openness"},
    "submit_for_review": {"drafter"},
    "head_approve_submission": {"head"},
    "head_return_submission": {"head"},
    "return_for_revision": {"govoffice", "justice"},
    "record_adoption": {"govoffice"},
    "record_rejection": {"govoffice"},
    "publish": {"govoffice", "openness"},
    # Only a normative document that does not affect public rights may skip pre-disclosure.
    "request_skip_predisclosure": {"drafter"},
    "approve_skip_predisclosure": {"openness"},
    "refuse_skip_predisclosure": {"openness"},
    # 不合法 is the justice bureau's outcome alone.
    "reject_as_unlawful": {"justice"},
    # 撤回: the drafting department's head, until the meeting has decided.
    "withdraw": {"head"},
}
SKIP_STEPS = {"request_skip_predisclosure", "approve_skip_predisclosure", "refuse_skip_predisclosure"}
TABLE = {
    "normative_document": ALLOWED,
    "major_decision": {name: who for name, who in ALLOWED.items() if name not in SKIP_STEPS},
}
CASES = [(proc, name) for proc, table in TABLE.items() for name in sorted(table)]


def _head_review(city, **kw):
    doc = factories.document(city, **kw)
    engine.perform(doc, "request_predisclosure", city["drafter"])
    return doc


def _head_submission(city, **kw):
    doc = factories.ready_for_submission(city, comments=2, **kw)
    review.submit_for_review(doc, city["drafter"])
    return doc


BUILD = {
    "drafting": lambda city, **kw: factories.document(city, public_rights=False, **kw),
    "head_review": _head_review,
    "skip_review": factories.in_skip_review,
    "confidentiality_review": factories.in_confidentiality_review,
    "handling": lambda city, **kw: factories.ready_for_submission(city, comments=2, **kw),
    "head_submission": _head_submission,
    "joint_review": factories.in_joint_review,
    "deliberation": factories.in_deliberation,
    "publication": factories.in_publication,
}


def take(doc, name: str, user) -> None:
    """Take the step the way its page does, with whatever input it needs."""
    today = utcnow().date()
    if name == "open_consultation":
        consultations.open_consultation(doc, user, opens_at=utcnow(), closes_at=utcnow() + timedelta(days=30),
                                        notice="公告")
    elif name == "head_approve_submission":
        review.send_to_joint_review(doc, user)
    elif name == "return_for_revision":
        organ = (review.organs_of(user) or [ReviewOrgan.GOVERNMENT_OFFICE])[0]
        review.return_for_revision(doc, user, organ, "请修改。")
    elif name == "reject_as_unlawful":
        review.reject_as_unlawful(doc, user, "违反上位法。")
    elif name == "request_skip_predisclosure":
        drafting.request_skip_predisclosure(doc, user, "不涉及公众权利义务。")
    elif name == "record_adoption":
        publication.record_adoption(doc, user, decision="adopted", decision_date=today, prefix="华政办发")
    elif name == "record_rejection":
        publication.record_rejection(doc, user, decision_date=today, note="暂缓出台。")
    elif name == "publish":
        publication.publish(doc, user, final_text=factories.REVISED, policy_interpretation="解读",
                            effective_date=today + timedelta(days=30), validity_years=5)
    elif name == "withdraw":
        feedback_stage.withdraw(doc, user, "情况发生变化，暂不出台。")
    else:
        engine.perform(doc, name, user, note="意见")


@pytest.mark.parametrize("proc", sorted(TABLE))
def test_the_table_covers_every_manual_transition_of_the_file(app, proc):
    procedure = app.extensions["procedures"][proc]
    manual = {t.name for t in procedure.transitions.values() if not t.automatic}
    assert manual == set(TABLE[proc])


@pytest.mark.parametrize("proc, name", CASES)
@pytest.mark.parametrize("username", USERS)
def test_who_may_take_each_step(app, city, proc, name, username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = BUILD[transition.from_stages[0]](city, procedure=proc)
    db.session.commit()
    user = city[username]
    if username in TABLE[proc][name]:
        take(doc, name, user)
        db.session.commit()
        assert doc.stage == transition.to or (name == "head_approve_submission" and doc.stage == "joint_review")
    else:
        before = doc.stage
        with pytest.raises(NotAllowed):
            take(doc, name, user)
        db.session.rollback()
        db.session.refresh(doc)
        assert doc.stage == before


@pytest.mark.parametrize("proc, name", CASES)
def test_no_step_is_taken_from_a_stage_it_does_not_leave(app, city, proc, name):
    transition = app.extensions["procedures"][proc].transitions[name]
    wrong = next(s for s in ("drafting", "joint_review", "publication") if s not in transition.from_stages)
    doc = BUILD[wrong](city, procedure=proc)
    user = city[sorted(TABLE[proc][name])[0]]
    with pytest.raises(DomainError):
        take(doc, name, user)


@pytest.mark.parametrize("name", ["close_consultation", "joint_approval"])
@pytest.mark.parametrize("username", USERS)
def test_the_clock_and_the_signatures_move_on_by_themselves_never_by_hand(app, city, name, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = BUILD[transition.from_stages[0]](city) if transition.from_stages[0] != "consultation" \
        else factories.in_consultation(city)
    with pytest.raises(NotAllowed):
        engine.perform(doc, name, city[username])


@pytest.mark.parametrize("name, stage, username", [
    ("head_return_draft", "head_review", "head"),
    ("confidentiality_return", "confidentiality_review", "openness"),
    ("head_return_submission", "head_submission", "head"),
    ("record_rejection", "deliberation", "govoffice"),
])
def test_a_return_or_rejection_needs_a_written_reason(app, city, name, stage, username):
    doc = BUILD[stage](city)
    with pytest.raises(DomainError):
        engine.perform(doc, name, city[username], note="  ")
    assert doc.stage == stage
    engine.perform(doc, name, city[username], note="理由")
    assert doc.stage != stage


def test_a_step_posted_by_the_wrong_role_changes_nothing(city, as_user):
    doc = _head_submission(city)
    db.session.commit()
    page = f"/staff/documents/{doc.id}"
    response = as_user("govoffice").post(f"{page}/steps/head_approve_submission", {"note": ""}, form_page=page)
    assert response.status_code == 403
    db.session.refresh(doc)
    assert doc.stage == "head_submission"


def test_another_department_never_sees_an_internal_draft(city, as_user):
    doc = factories.document(city)
    page = f"/staff/documents/{doc.id}"
    assert as_user("drafter2").get(page).status_code == 404
    assert as_user("head2").post(f"{page}/steps/request_predisclosure", {"note": ""},
                                 form_page="/staff/").status_code == 404
    assert as_user("govoffice").get(page).status_code == 404  # still inside the department
    db.session.refresh(doc)
    assert doc.stage == "drafting"
