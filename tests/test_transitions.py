"""Who may take each step of each procedure, read from the files in workflows/ themselves.

The table is every file's transitions crossed with the demo city's accounts, so a transition or a
procedure file added is covered without touching this module. The expected answer comes from the file's
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
from consultation.models import AuditEvent, Document, ReviewOrgan, User, utcnow
from consultation.services import consultations, publication, review, steps
from consultation.workflow import engine

from . import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The procedures as the application loads them (default WORKFLOWS_DIR, as in the `app` fixture), read
# once at collection so that the parametrised table follows the files.
PROCEDURES = create_app({
    "TESTING": True, "SECRET_KEY": "collect", "SQLALCHEMY_DATABASE_URI": "sqlite://",
}).extensions["procedures"]


def _each(select_):
    return [(pid, t.name) for pid, proc in PROCEDURES.items() for t in proc.transitions.values() if select_(t)]


MANUAL = _each(lambda t: not t.automatic)
AUTOMATIC = _each(lambda t: t.automatic)
NOTE_REQUIRED = _each(lambda t: not t.automatic and t.note_required)
NO_NOTE_NEEDED = _each(lambda t: not t.automatic and not t.note_required)
NOTE_ONLY = [(p, n) for p, n in MANUAL if n not in steps.FORM_PAGES]   # taken with the note form on the page
ON_FORM_PAGE = [(p, n) for p, n in MANUAL if n in steps.FORM_PAGES]    # taken on their own page
STAGES = [(pid, sid) for pid, proc in PROCEDURES.items() for sid in proc.stages]
INTERNAL_STAGES = [(pid, sid) for pid, proc in PROCEDURES.items() for sid, s in proc.stages.items() if s.internal]

# The demo accounts: username -> (department name, roles).
ACCOUNTS = {username: (dept, frozenset(r.value for r in roles)) for username, _n, dept, roles in demo.ACCOUNTS}
USERS = list(ACCOUNTS)
HOME = ACCOUNTS["drafter"][0]  # the factories create every document as "drafter": its department


def holds_role(proc: str, username: str, name: str) -> bool:
    """The account holds one of the transition's roles, whatever its department."""
    return bool(ACCOUNTS[username][1] & set(PROCEDURES[proc].transitions[name].roles))


def may_take(proc: str, username: str, name: str) -> bool:
    """What the file says: one of the roles, and in the document's department for department roles."""
    dept, roles = ACCOUNTS[username]
    procedure = PROCEDURES[proc]
    return any(
        role in roles and (role not in procedure.department_roles or dept == HOME)
        for role in procedure.transitions[name].roles
    )


ALLOWED_CASES = [(p, n, u) for p, n in MANUAL for u in USERS if may_take(p, u, n)]
REFUSED_CASES = [(p, n, u) for p, n in MANUAL for u in USERS if not may_take(p, u, n)]
# Holders of a department role in another department (drafter2, head2): refused all the same.
OTHER_DEPARTMENT_CASES = [
    (p, n, u) for p, n in MANUAL for u in USERS
    if ACCOUNTS[u][0] != HOME
    and ACCOUNTS[u][1] & PROCEDURES[p].department_roles & set(PROCEDURES[p].transitions[n].roles)
]
# The service-level table: every stage a manual transition leaves, crossed with every demo user.
FROM_CASES = [(p, n, s, u) for p, n in MANUAL for s in PROCEDURES[p].transitions[n].from_stages for u in USERS]


def first_allowed(proc: str, name: str) -> str:
    return next(u for u in USERS if may_take(proc, u, name))


# --- documents at each stage, through the services -------------------------------------------------

def _drafting(city, **kw):
    """A draft that does not affect public rights, so that both ways out of drafting are open."""
    return factories.document(city, public_rights=False, **kw)


def _head_review(city, **kw):
    doc = factories.document(city, **kw)
    engine.perform(doc, "request_predisclosure", city["drafter"])
    db.session.commit()
    return doc


def _head_submission(city, **kw):
    doc = factories.ready_for_submission(city, comments=2, **kw)
    review.submit_for_review(doc, city["drafter"])
    db.session.commit()
    return doc


def _not_adopted(city, **kw):
    doc = factories.in_deliberation(city, **kw)
    publication.record_rejection(doc, city["govoffice"], decision_date=beijing_today(), note="暂缓出台。")
    db.session.commit()
    return doc


def _withdrawn(city, **kw):
    doc = factories.in_deliberation(city, **kw)
    steps.take(doc, "withdraw", city["head"], note="情况发生变化，暂不出台。")
    db.session.commit()
    return doc


BUILD = {
    "drafting": _drafting,
    "head_review": _head_review,
    "skip_review": factories.in_skip_review,
    "confidentiality_review": factories.in_confidentiality_review,
    "consultation": factories.in_consultation,  # open now for 45 days: the clock has not closed it
    "handling": lambda city, **kw: factories.ready_for_submission(city, comments=2, **kw),
    "head_submission": _head_submission,
    "joint_review": factories.in_joint_review,
    "deliberation": factories.in_deliberation,
    "publication": factories.in_publication,
    "published": factories.published,
    "not_adopted": _not_adopted,
    "withdrawn": _withdrawn,
}


def at_stage(city, stage: str, proc: str = "normative_document") -> Document:
    assert stage in BUILD, f"no builder for the stage '{stage}' of the procedure files: add one to BUILD"
    doc = BUILD[stage](city, procedure=proc)
    db.session.commit()
    assert (doc.procedure, doc.stage) == (proc, stage)
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
        consultations.open_consultation(doc, user, opens_at=now, closes_at=now + timedelta(days=45),
                                        notice="征求意见公告", now=now)
    elif name == "return_for_revision":
        organ = (review.organs_of(user) or [ReviewOrgan.GOVERNMENT_OFFICE])[0]
        review.return_for_revision(doc, user, organ, note)
    elif name == "reject_as_unlawful":
        review.reject_as_unlawful(doc, user, note)
    elif name == "record_adoption":
        publication.record_adoption(doc, user, decision="adopted", decision_date=today, prefix="华政办发", note=note)
    elif name == "record_rejection":
        publication.record_rejection(doc, user, decision_date=today, note=note)
    elif name == "publish":
        publication.publish(doc, user, final_text=factories.REVISED, policy_interpretation="政策解读。",
                            effective_date=today + timedelta(days=30), validity_years=5)
    else:
        steps.take(doc, name, user, note=note)


# --- the table itself ---------------------------------------------------------------------------

def test_the_table_is_the_procedures_the_app_runs(app):
    """The collected table and the `app` fixture read the same files, with the same transitions."""
    assert set(app.extensions["procedures"]) == set(PROCEDURES) == {"normative_document", "major_decision"}
    for pid, loaded in app.extensions["procedures"].items():
        assert loaded.transitions == PROCEDURES[pid].transitions
        assert loaded.department_roles == PROCEDURES[pid].department_roles


def test_every_stage_of_every_file_can_be_built():
    for procedure in PROCEDURES.values():
        assert set(procedure.stages) <= set(BUILD)


def test_every_manual_step_has_someone_in_the_demo_city_who_may_take_it():
    assert all(any(may_take(p, u, n) for u in USERS) for p, n in MANUAL)
    assert OTHER_DEPARTMENT_CASES, "the demo city has no second drafting department to test the scoping"
    assert {u for _p, _n, u in OTHER_DEPARTMENT_CASES} == {"drafter2", "head2"}


# --- roles, through the services --------------------------------------------------------------

@pytest.mark.parametrize("proc, name, stage, username", [c for c in FROM_CASES if may_take(c[0], c[3], c[1])])
def test_a_step_is_taken_by_a_user_holding_its_role(app, city, proc, name, stage, username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, stage, proc)
    before, user = doc.stage, city[username]
    take(doc, name, user)
    db.session.commit()
    assert stored_stage(doc.id) == transition.to
    [event] = transition_events(doc.id, name)
    assert (event.actor_id, event.from_stage, event.to_stage) == (user.id, before, transition.to)


@pytest.mark.parametrize("proc, name, stage, username",
                         [c for c in FROM_CASES if not may_take(c[0], c[3], c[1])])
def test_a_step_is_refused_to_a_user_without_its_role_in_the_documents_department(app, city, proc, name, stage,
                                                                                   username):
    doc = at_stage(city, stage, proc)
    before = doc.stage
    with pytest.raises(NotAllowed):
        take(doc, name, city[username])
    db.session.rollback()
    assert stored_stage(doc.id) == before
    assert not transition_events(doc.id, name)


@pytest.mark.parametrize("proc, name, username", OTHER_DEPARTMENT_CASES)
def test_a_department_role_of_another_department_is_refused(app, city, proc, name, username):
    """drafter2 and head2 hold the role, but the document belongs to the drafter's department."""
    transition = app.extensions["procedures"][proc].transitions[name]
    assert holds_role(proc, username, name) and city[username].department_id != city["drafter"].department_id
    doc = at_stage(city, transition.from_stages[0], proc)
    with pytest.raises(NotAllowed):
        take(doc, name, city[username])
    db.session.rollback()
    assert stored_stage(doc.id) == transition.from_stages[0]


# --- stages, automatic steps, notes ---------------------------------------------------------------

@pytest.mark.parametrize("proc, stage", STAGES)
def test_no_step_is_taken_from_a_stage_it_does_not_leave(app, city, proc, stage):
    """One document per stage; every step that does not leave it is refused to a holder of its role."""
    doc = at_stage(city, stage, proc)
    tried, wrong = [], []
    for p, name in MANUAL:
        if p != proc or stage in PROCEDURES[proc].transitions[name].from_stages:
            continue
        username = first_allowed(proc, name)
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
    assert PROCEDURES["normative_document"].stages["drafting"].title in refused.value.message  # names the stage
    db.session.rollback()
    assert stored_stage(doc.id) == "drafting"


@pytest.mark.parametrize("proc, name", AUTOMATIC)
@pytest.mark.parametrize("username", USERS)
def test_an_automatic_step_cannot_be_taken_by_hand(app, city, proc, name, username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
    assert name not in [o.transition.name for o in engine.options(doc, city[username])]
    with pytest.raises(NotAllowed):
        engine.perform(doc, name, city[username], note="意见")
    db.session.rollback()
    assert stored_stage(doc.id) == transition.from_stages[0]


def test_both_automatic_steps_of_each_file_are_covered():
    for pid in PROCEDURES:
        assert {n for p, n in AUTOMATIC if p == pid} >= {"close_consultation", "joint_approval"}


@pytest.mark.parametrize("proc, name", NOTE_REQUIRED)
def test_a_step_with_note_required_is_refused_without_a_note_and_taken_with_one(app, city, proc, name):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
    user = city[first_allowed(proc, name)]
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


@pytest.mark.parametrize("proc, name", NO_NOTE_NEEDED)
def test_a_step_without_note_required_is_taken_without_a_note(app, city, proc, name):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
    take(doc, name, city[first_allowed(proc, name)], note="")
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


@pytest.mark.parametrize("proc, name, username", [c for c in REFUSED_CASES if c[:2] in NOTE_ONLY])
def test_a_step_posted_by_a_user_without_the_role_is_refused_and_changes_nothing(app, city, as_user, proc, name,
                                                                                  username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
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


@pytest.mark.parametrize("proc, name, username", [c for c in ALLOWED_CASES if c[:2] in NOTE_ONLY])
def test_a_step_posted_by_a_user_with_the_role_moves_the_document(app, city, as_user, proc, name, username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
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


@pytest.mark.parametrize("proc, name", AUTOMATIC)
def test_an_automatic_step_posted_by_hand_is_refused(app, city, as_user, proc, name):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
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
                                "notice": "征求意见公告", "contact_person": "王科员",
                                "contact_phone": "0571-87000000"}
    if name == "return_for_revision":
        organ = (review.organs_of(user) or [ReviewOrgan.GOVERNMENT_OFFICE])[0]
        return "signoff", {"organ": organ.value, "outcome": "return", "opinion": "请修改。"}
    if name == "reject_as_unlawful":
        organ = (review.organs_of(user) or [ReviewOrgan.GOVERNMENT_OFFICE])[0]
        return "signoff", {"organ": organ.value, "outcome": "reject", "opinion": "违反上位法规定。"}
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


@pytest.mark.parametrize("proc, name, username", [c for c in ALLOWED_CASES if c[:2] in ON_FORM_PAGE])
def test_a_step_with_its_own_page_is_taken_there_by_a_user_with_the_role(app, city, as_user, proc, name, username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
    page = f"/staff/documents/{doc.id}"
    browser = as_user(username)
    step = browser.post(f"{page}/steps/{name}", {"note": ""}, form_page=page)
    suffix, data = _form(name, doc, city[username])
    assert step.status_code == 302 and step.headers["Location"].endswith(f"{page}/{suffix}")
    response = browser.post(f"{page}/{suffix}", data)
    assert response.status_code == 302, error_flashes(text_of(response)) or text_of(response)
    assert stored_stage(doc.id) == transition.to


@pytest.mark.parametrize("proc, name, username", [c for c in REFUSED_CASES if c[:2] in ON_FORM_PAGE])
def test_a_step_with_its_own_page_is_refused_there_to_a_user_without_the_role(app, city, as_user, proc, name,
                                                                               username):
    transition = app.extensions["procedures"][proc].transitions[name]
    doc = at_stage(city, transition.from_stages[0], proc)
    page = f"/staff/documents/{doc.id}"
    browser = as_user(username)
    suffix, data = _form(name, doc, city[username])
    seen = browser.get(page).status_code
    response = browser.post(f"{page}/{suffix}", data, form_page=page)
    if seen == 404:
        assert response.status_code == 404
    elif response.status_code in (200, 400):  # the form is shown again with the reason
        assert role_refusal(app) in error_flashes(text_of(response)), text_of(response)
    else:  # the page itself is refused (the signing page needs a reviewer)
        assert response.status_code == 403, text_of(response)
        assert role_refusal(app) in text_of(response) or action_refusal(app) in text_of(response)
    assert stored_stage(doc.id) == transition.from_stages[0]


@pytest.mark.parametrize("proc, stage", INTERNAL_STAGES)
@pytest.mark.parametrize("username", ["drafter2", "head2"])
def test_another_department_gets_404_on_a_document_still_inside_its_department(app, city, as_user, proc, stage,
                                                                                username):
    doc = at_stage(city, stage, proc)
    page = f"/staff/documents/{doc.id}"
    assert as_user("drafter").get(page).status_code == 200  # the page exists
    outsider = as_user(username)
    assert outsider.get(page).status_code == 404
    for transition in PROCEDURES[proc].transitions_from(stage):
        response = outsider.post(f"{page}/steps/{transition.name}", {"note": "意见"}, form_page="/staff/")
        assert response.status_code == 404, transition.name
    assert stored_stage(doc.id) == stage


def test_drafting_is_an_internal_stage():
    assert ("normative_document", "drafting") in INTERNAL_STAGES and ("major_decision", "drafting") in INTERNAL_STAGES


# --- two actors who saw the same stage ----------------------------------------------------------------

def test_a_closing_seen_by_two_requests_at_once_is_recorded_once(app, city):
    """The worker's clock and a page view both find the consultation due: one closing, one notification."""
    doc = factories.in_consultation(city)
    consultation = consultations.consultation_of(doc)
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    stale = db.session.get(Document, doc.id)
    assert stale.stage == "consultation"  # this request read the stage before the other one moved it

    with app.app_context():  # another request (its own session and transaction) settles first
        engine.settle(db.session.get(Document, doc.id))
        db.session.commit()

    engine.settle(stale)
    db.session.commit()
    closings = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "close_consultation")).all()
    assert len(closings) == 1
    assert db.session.get(Document, doc.id).stage == stale.stage == "handling"


def test_a_step_on_a_stage_that_another_request_has_just_left_is_refused(app, city):
    doc = factories.in_skip_review(city)
    db.session.commit()
    stale, officer_id = db.session.get(Document, doc.id), city["openness"].id
    with app.app_context():  # a colleague's request approves first
        engine.perform(db.session.get(Document, doc.id), "approve_skip_predisclosure",
                       db.session.get(User, officer_id), note="同意")
        db.session.commit()
    with pytest.raises(InvalidInput, match=re.escape(gettext(
            "Someone else moved this document on in the meantime. Reload the page to see where it is now."))):
        engine.perform(stale, "refuse_skip_predisclosure", city["openness"], note="不同意")
    db.session.rollback()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.document_id == doc.id)).all()
    assert "approve_skip_predisclosure" in actions and "refuse_skip_predisclosure" not in actions
