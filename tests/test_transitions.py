"""Who may take each step of the procedure, read from workflows/normative_document.toml itself.

The table is the file's transitions crossed with the demo city's accounts, so a transition added
to the file is covered without touching this module. The expected answer comes from the file's
``roles`` and ``department_roles`` and from the demo accounts' roles and departments
(``consultation.demo.ACCOUNTS``), not from the engine under test.
"""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import gettext
from sqlalchemy import select

from consultation import create_app, demo
from consultation.errors import InvalidInput, NotAllowed
from consultation.extensions import db
from consultation.models import AuditEvent, Document, ReviewOrgan, utcnow
from consultation.services import consultations, drafting, publication, review, steps
from consultation.workflow import engine

from . import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The procedure as the application loads it (default WORKFLOWS_DIR, as in the `app` fixture), read
# once at collection so that the parametrised table follows the file.
PROCEDURE = create_app({
    "TESTING": True, "SECRET_KEY": "collect", "SQLALCHEMY_DATABASE_URI": "sqlite://",
}).extensions["procedures"]["normative_document"]

MANUAL = [t.name for t in PROCEDURE.transitions.values() if not t.automatic]
AUTOMATIC = [t.name for t in PROCEDURE.transitions.values() if t.automatic]
NOTE_REQUIRED = [n for n in MANUAL if PROCEDURE.transitions[n].note_required]
NO_NOTE_NEEDED = [n for n in MANUAL if not PROCEDURE.transitions[n].note_required]
NOTE_ONLY = [n for n in MANUAL if n not in steps.FORM_PAGES]   # taken with the note form on the page
ON_FORM_PAGE = [n for n in MANUAL if n in steps.FORM_PAGES]    # taken on their own page
INTERNAL_STAGES = [sid for sid, s in PROCEDURE.stages.items() if s.internal]

# The demo accounts: username -> (department name, roles).
ACCOUNTS = {username: (dept, frozenset(r.value for r in roles)) for username, _n, dept, roles in demo.ACCOUNTS}
USERS = list(ACCOUNTS)
HOME = ACCOUNTS["drafter"][0]  # the factories create every document as "drafter": its department


def holds_role(username: str, name: str) -> bool:
    """The account holds one of the transition's roles, whatever its department."""
    return bool(ACCOUNTS[username][1] & set(PROCEDURE.transitions[name].roles))


def may_take(username: str, name: str) -> bool:
    """What the file says: one of the roles, and in the document's department for department roles."""
    dept, roles = ACCOUNTS[username]
    return any(
        role in roles and (role not in PROCEDURE.department_roles or dept == HOME)
        for role in PROCEDURE.transitions[name].roles
    )


ALLOWED_CASES = [(n, u) for n in MANUAL for u in USERS if may_take(u, n)]
REFUSED_CASES = [(n, u) for n in MANUAL for u in USERS if not may_take(u, n)]
# Holders of a department role in another department (drafter2, head2): refused all the same.
OTHER_DEPARTMENT_CASES = [
    (n, u) for n in MANUAL for u in USERS
    if ACCOUNTS[u][0] != HOME and ACCOUNTS[u][1] & PROCEDURE.department_roles & set(PROCEDURE.transitions[n].roles)
]
# The service-level table: every stage a manual transition leaves, crossed with every demo user.
FROM_CASES = [(n, s, u) for n in MANUAL for s in PROCEDURE.transitions[n].from_stages for u in USERS]


def first_allowed(name: str) -> str:
    return next(u for u in USERS if may_take(u, name))


# --- documents at each stage, through the services -------------------------------------------------

def _head_review(city):
    doc = factories.document(city)
    engine.perform(doc, "request_predisclosure", city["drafter"])
    db.session.commit()
    return doc


def _handling(city):
    """Consultation over, every comment answered, the review draft prepared: ready to submit."""
    doc = factories.in_handling(city, comments=2)
    factories.answer_all(doc, city["drafter"])
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    db.session.commit()
    return doc


def _head_submission(city):
    doc = _handling(city)
    review.submit_for_review(doc, city["drafter"])
    db.session.commit()
    return doc


def _not_adopted(city):
    doc = factories.in_deliberation(city)
    publication.record_rejection(doc, city["govoffice"], decision_date=beijing_today(), note="暂缓出台。")
    db.session.commit()
    return doc


BUILD = {
    "drafting": factories.document,
    "head_review": _head_review,
    "confidentiality_review": factories.in_confidentiality_review,
    "consultation": factories.in_consultation,  # open now for 30 days: the clock has not closed it
    "handling": _handling,
    "head_submission": _head_submission,
    "joint_review": factories.in_joint_review,
    "deliberation": factories.in_deliberation,
    "publication": factories.in_publication,
    "published": factories.published,
    "not_adopted": _not_adopted,
}


def at_stage(city, stage: str) -> Document:
    assert stage in BUILD, f"no builder for the stage '{stage}' of the procedure file: add one to BUILD"
    doc = BUILD[stage](city)
    db.session.commit()
    assert doc.stage == stage
    return doc


def beijing_today():
    return utcnow().astimezone(SHANGHAI).date()


def transition_events(doc_id: int, name: str) -> list[AuditEvent]:
    """The audit entries of a stage change (services may log an entry of the same name without one)."""
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.document_id == doc_id, AuditEvent.action == name, AuditEvent.to_stage.is_not(None))))


def stored_stage(doc_id: int) -> str:
    """The stage as saved in the database, not as held by the session."""
    return db.session.scalar(select(Document.stage).where(Document.id == doc_id))


def take(doc: Document, name: str, user, note: str = "意见") -> None:
    """Take the step the way its page does: the service for steps with a form, the engine otherwise."""
    today = beijing_today()
    if name == "open_consultation":
        now = utcnow()
        consultations.open_consultation(doc, user, opens_at=now, closes_at=now + timedelta(days=30),
                                        notice="征求意见公告", now=now)
    elif name == "return_for_revision":
        organ = (review.organs_of(user) or [ReviewOrgan.GOVERNMENT_OFFICE])[0]
        review.return_for_revision(doc, user, organ, note)
    elif name == "record_adoption":
        publication.record_adoption(doc, user, decision="adopted", decision_date=today, prefix="华政办发", note=note)
    elif name == "record_rejection":
        publication.record_rejection(doc, user, decision_date=today, note=note)
    elif name == "publish":
        publication.publish(doc, user, final_text=factories.REVISED, policy_interpretation="政策解读。",
                            effective_date=today + timedelta(days=30), validity_years=5)
    else:
        engine.perform(doc, name, user, note=note)


# --- the table itself ---------------------------------------------------------------------------

def test_the_table_is_the_procedure_the_app_runs(app):
    """The collected table and the `app` fixture read the same file, with the same transitions."""
    loaded = app.extensions["procedures"]["normative_document"]
    assert loaded.transitions == PROCEDURE.transitions
    assert loaded.department_roles == PROCEDURE.department_roles


def test_every_stage_of_the_file_can_be_built():
    assert set(BUILD) == set(PROCEDURE.stages)


def test_every_manual_step_has_someone_in_the_demo_city_who_may_take_it():
    assert all(any(may_take(u, n) for u in USERS) for n in MANUAL)
    assert OTHER_DEPARTMENT_CASES, "the demo city has no second drafting department to test the scoping"
    assert {u for _n, u in OTHER_DEPARTMENT_CASES} == {"drafter2", "head2"}


# --- roles, through the services --------------------------------------------------------------

@pytest.mark.parametrize("name, stage, username", [c for c in FROM_CASES if may_take(c[2], c[0])])
def test_a_step_is_taken_by_a_user_holding_its_role(app, city, name, stage, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, stage)
    before, user = doc.stage, city[username]
    take(doc, name, user)
    db.session.commit()
    assert stored_stage(doc.id) == transition.to
    [event] = transition_events(doc.id, name)
    assert (event.actor_id, event.from_stage, event.to_stage) == (user.id, before, transition.to)


@pytest.mark.parametrize("name, stage, username", [c for c in FROM_CASES if not may_take(c[2], c[0])])
def test_a_step_is_refused_to_a_user_without_its_role_in_the_documents_department(app, city, name, stage, username):
    doc = at_stage(city, stage)
    before = doc.stage
    with pytest.raises(NotAllowed):
        take(doc, name, city[username])
    db.session.rollback()
    assert stored_stage(doc.id) == before
    assert not transition_events(doc.id, name)


@pytest.mark.parametrize("name, username", OTHER_DEPARTMENT_CASES)
def test_a_department_role_of_another_department_is_refused(app, city, name, username):
    """drafter2 and head2 hold the role, but the document belongs to the drafter's department."""
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    assert holds_role(username, name) and city[username].department_id != city["drafter"].department_id
    doc = at_stage(city, transition.from_stages[0])
    with pytest.raises(NotAllowed):
        take(doc, name, city[username])
    db.session.rollback()
    assert stored_stage(doc.id) == transition.from_stages[0]


# --- stages, automatic steps, notes ---------------------------------------------------------------

@pytest.mark.parametrize("stage", list(PROCEDURE.stages))
def test_no_step_is_taken_from_a_stage_it_does_not_leave(app, city, stage):
    """One document per stage; every step that does not leave it is refused to a holder of its role."""
    doc = at_stage(city, stage)
    tried, wrong = [], []
    for name in MANUAL:
        if stage in PROCEDURE.transitions[name].from_stages:
            continue
        username = first_allowed(name)
        tried.append(name)
        try:
            take(doc, name, city[username])
        except NotAllowed:
            pass
        except Exception as exc:  # noqa: BLE001 - reported below with the step's name
            wrong.append(f"{name} by {username}: {type(exc).__name__}: {exc}")
        else:
            wrong.append(f"{name} by {username}: taken")
        db.session.rollback()
        if stored_stage(doc.id) != stage:
            wrong.append(f"{name} by {username}: moved the document to {stored_stage(doc.id)}")
    assert tried
    assert not wrong, "\n".join(wrong)


def test_publishing_a_draft_still_in_drafting_is_refused_to_the_government_office(app, city):
    doc = at_stage(city, "drafting")
    with pytest.raises(NotAllowed) as refused:
        take(doc, "publish", city["govoffice"])
    assert PROCEDURE.stages["drafting"].title in refused.value.message  # the reason names the stage
    db.session.rollback()
    assert stored_stage(doc.id) == "drafting"


@pytest.mark.parametrize("name", AUTOMATIC)
@pytest.mark.parametrize("username", USERS)
def test_an_automatic_step_cannot_be_taken_by_hand(app, city, name, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    assert name not in [o.transition.name for o in engine.options(doc, city[username])]
    with pytest.raises(NotAllowed):
        engine.perform(doc, name, city[username], note="意见")
    db.session.rollback()
    assert stored_stage(doc.id) == transition.from_stages[0]


def test_both_automatic_steps_of_the_file_are_covered():
    assert set(AUTOMATIC) >= {"close_consultation", "joint_approval"}


@pytest.mark.parametrize("name", NOTE_REQUIRED)
def test_a_step_with_note_required_is_refused_without_a_note_and_taken_with_one(app, city, name):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    user = city[first_allowed(name)]
    for empty in ("", "  \n\t"):
        with pytest.raises(InvalidInput):
            take(doc, name, user, note=empty)
        db.session.rollback()
        assert stored_stage(doc.id) == transition.from_stages[0]
    take(doc, name, user, note="请补充依据。")
    db.session.commit()
    assert stored_stage(doc.id) == transition.to
    [event] = transition_events(doc.id, name)
    assert event.note == "请补充依据。"


@pytest.mark.parametrize("name", NO_NOTE_NEEDED)
def test_a_step_without_note_required_is_taken_without_a_note(app, city, name):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    take(doc, name, city[first_allowed(name)], note="")
    db.session.commit()
    assert stored_stage(doc.id) == transition.to


# --- through the web pages -------------------------------------------------------------------

def text_of(response) -> str:
    return response.get_data(as_text=True)


def role_refusal(app) -> str:
    with app.test_request_context():  # the default locale, as the pages use
        return gettext("Your role does not allow this step on this document.")


def action_refusal(app) -> str:
    with app.test_request_context():
        return gettext("You cannot do this at the current stage of the document.")


def error_flashes(html: str) -> list[str]:
    return [m.strip() for m in re.findall(r'class="flash flash-error"[^>]*>(.*?)</div>', html, re.S)]


@pytest.mark.parametrize("name, username", [(n, u) for n, u in REFUSED_CASES if n in NOTE_ONLY])
def test_a_step_posted_by_a_user_without_the_role_is_refused_and_changes_nothing(app, city, as_user, name, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    page = f"/staff/documents/{doc.id}"
    browser = as_user(username)
    seen = browser.get(page).status_code
    assert seen in (200, 404)
    response = browser.post(f"{page}/steps/{name}", {"note": "意见"}, form_page=page)
    if seen == 200:
        assert response.status_code == 403, text_of(response)
        assert role_refusal(app) in text_of(response)
    else:  # the document is not visible to this user at all
        assert response.status_code == 404
    assert stored_stage(doc.id) == transition.from_stages[0]


@pytest.mark.parametrize("name, username", [(n, u) for n, u in ALLOWED_CASES if n in NOTE_ONLY])
def test_a_step_posted_by_a_user_with_the_role_moves_the_document(app, city, as_user, name, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    page = f"/staff/documents/{doc.id}"
    response = as_user(username).post(f"{page}/steps/{name}", {"note": "意见"}, form_page=page)
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert stored_stage(doc.id) == transition.to


def test_a_refused_step_goes_back_to_the_page_with_the_reason_when_the_browser_sends_a_referrer(app, city, as_user):
    doc = at_stage(city, "head_submission")
    page = f"/staff/documents/{doc.id}"
    browser = as_user("govoffice")
    response = browser.post(f"{page}/steps/head_approve_submission", {"note": ""}, form_page=page,
                            headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(page)
    assert role_refusal(app) in error_flashes(text_of(browser.get(page)))
    assert stored_stage(doc.id) == "head_submission"


@pytest.mark.parametrize("name", AUTOMATIC)
def test_an_automatic_step_posted_by_hand_is_refused(app, city, as_user, name):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    page = f"/staff/documents/{doc.id}"
    for username in ("drafter", "govoffice", "justice", "admin"):
        response = as_user(username).post(f"{page}/steps/{name}", {"note": ""}, form_page=page)
        assert response.status_code == 403, (username, text_of(response))
    assert stored_stage(doc.id) == transition.from_stages[0]


def _form(name: str, doc: Document, user) -> tuple[str, dict]:
    """The page and the filled form that take each step that has its own page."""
    today = beijing_today()
    if name == "open_consultation":
        start = (utcnow() + timedelta(hours=1)).astimezone(SHANGHAI)
        return "consultation", {"opens_at": start.strftime("%Y-%m-%dT%H:%M"),
                                "closes_at": (start + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
                                "notice": "征求意见公告"}
    if name == "return_for_revision":
        organ = (review.organs_of(user) or [ReviewOrgan.GOVERNMENT_OFFICE])[0]
        return "signoff", {"organ": organ.value, "outcome": "return", "opinion": "请修改。"}
    if name == "record_adoption":
        return "decision", {"adopt-decision": "adopted", "adopt-decision_date": today.isoformat(),
                            "adopt-prefix": "华政办发", "adopt-note": "", "adopt-submit": "1"}
    if name == "record_rejection":
        return "decision", {"reject-decision_date": today.isoformat(), "reject-note": "暂缓出台。",
                            "reject-submit": "1"}
    if name == "publish":
        return "publish", {"final_text": factories.REVISED, "policy_interpretation": "解读",
                           "effective_date": (today + timedelta(days=30)).isoformat(), "validity_years": "5"}
    raise AssertionError(f"no form data for the step '{name}' on {steps.FORM_PAGES[name]}: add it to _form")


@pytest.mark.parametrize("name, username", [(n, u) for n, u in ALLOWED_CASES if n in ON_FORM_PAGE])
def test_a_step_with_its_own_page_is_taken_there_by_a_user_with_the_role(app, city, as_user, name, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    page = f"/staff/documents/{doc.id}"
    browser = as_user(username)
    step = browser.post(f"{page}/steps/{name}", {"note": ""}, form_page=page)
    suffix, data = _form(name, doc, city[username])
    assert step.status_code == 302 and step.headers["Location"].endswith(f"{page}/{suffix}")
    response = browser.post(f"{page}/{suffix}", data)
    assert response.status_code == 302, error_flashes(text_of(response)) or text_of(response)
    assert stored_stage(doc.id) == transition.to


@pytest.mark.parametrize("name, username", [(n, u) for n, u in REFUSED_CASES if n in ON_FORM_PAGE])
def test_a_step_with_its_own_page_is_refused_there_to_a_user_without_the_role(app, city, as_user, name, username):
    transition = app.extensions["procedures"]["normative_document"].transitions[name]
    doc = at_stage(city, transition.from_stages[0])
    page = f"/staff/documents/{doc.id}"
    browser = as_user(username)
    suffix, data = _form(name, doc, city[username])
    seen = browser.get(page).status_code
    response = browser.post(f"{page}/{suffix}", data, form_page=page)
    if seen == 404:
        assert response.status_code == 404
    elif response.status_code == 200:  # the form is shown again with the reason
        assert role_refusal(app) in error_flashes(text_of(response)), text_of(response)
    else:  # the page itself is refused (the signing page needs a reviewer)
        assert response.status_code == 403, text_of(response)
        assert role_refusal(app) in text_of(response) or action_refusal(app) in text_of(response)
    assert stored_stage(doc.id) == transition.from_stages[0]


@pytest.mark.parametrize("stage", INTERNAL_STAGES)
@pytest.mark.parametrize("username", ["drafter2", "head2"])
def test_another_department_gets_404_on_a_document_still_inside_its_department(app, city, as_user, stage, username):
    doc = at_stage(city, stage)
    page = f"/staff/documents/{doc.id}"
    assert as_user("drafter").get(page).status_code == 200  # the page exists
    outsider = as_user(username)
    assert outsider.get(page).status_code == 404
    for transition in PROCEDURE.transitions_from(stage):
        response = outsider.post(f"{page}/steps/{transition.name}", {"note": "意见"}, form_page="/staff/")
        assert response.status_code == 404, transition.name
    assert stored_stage(doc.id) == stage


def test_drafting_is_an_internal_stage():
    assert "drafting" in INTERNAL_STAGES
