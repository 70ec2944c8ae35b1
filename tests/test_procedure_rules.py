"""The legal rules of the procedure, each seen working where the role it concerns works.

Minimum consultation periods (and the written justification for a shorter one), extensions that are
announced and never shorten, skipping pre-disclosure, the legality review's outcomes and its time limit,
answers to review opinions, the publication time limit and the library status that follows the dates.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from consultation.errors import InvalidInput, NotAllowed
from consultation.extensions import db
from consultation.models import (
    AuditEvent, Consultation, ConsultationExtension, Document, ReviewOrgan, RoundStatus, Signoff, SignoffOutcome,
    utcnow,
)
from consultation.services import consultations, drafting, publication, review
from consultation.workflow import deadlines, engine

from . import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
GOV, JUSTICE = ReviewOrgan.GOVERNMENT_OFFICE, ReviewOrgan.JUSTICE


def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def events(doc: Document, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.document_id == doc.id, AuditEvent.action == action).order_by(AuditEvent.id)))


# --- minimum consultation periods ------------------------------------------------------------

# Opening on Monday 29 September 2025 at 09:00, before the National Day holidays (1–8 October) and the
# make-up Saturday 11 October: (procedure, market, first closing day allowed).
MINIMUMS = [
    # 7 working days, the first not counted: 30 Sep, 9, 10, 11 (Sat, make-up), 13, 14, 15 October.
    ("normative_document", False, date(2025, 10, 15)),
    # 30 calendar days: 29 October (a Wednesday, a working day).
    ("normative_document", True, date(2025, 10, 29)),
    ("major_decision", False, date(2025, 10, 29)),
]


@pytest.mark.parametrize("procedure, market, earliest", MINIMUMS)
def test_the_minimum_period_is_enforced_to_the_day(city, procedure, market, earliest):
    opens = beijing(2025, 9, 29, 9, 0)
    with time_machine.travel(opens, tick=False):
        doc = factories.in_confidentiality_review(city, procedure=procedure, market=market)
        assert consultations.minimum_window(doc, opens).earliest_close_day == earliest
        with pytest.raises(InvalidInput, match=earliest.isoformat()):
            consultations.open_consultation(doc, city["openness"], opens_at=opens, notice="公告",
                                            closes_at=beijing(*(earliest - timedelta(days=1)).timetuple()[:3], 17))
        db.session.rollback()
        consultations.open_consultation(doc, city["openness"], opens_at=opens, notice="公告",
                                        closes_at=beijing(*earliest.timetuple()[:3], 0, 0))
        db.session.commit()
        assert doc.stage == "consultation"


def test_a_shorter_period_needs_a_written_justification_which_the_public_notice_shows(city, browser):
    doc = factories.in_confidentiality_review(city)
    now = utcnow()
    with pytest.raises(InvalidInput, match="书面说明理由"):
        consultations.open_consultation(doc, city["openness"], opens_at=now, closes_at=now + timedelta(days=3),
                                        notice="公告", short_period_reason="紧急")  # too short to be a reason
    db.session.rollback()
    reason = "因防汛紧急需要，须在汛期前出台，征求意见期限缩短为3日。"
    consultation = consultations.open_consultation(doc, city["openness"], opens_at=now,
                                                   closes_at=now + timedelta(days=3), notice="公告",
                                                   short_period_reason=reason)
    db.session.commit()
    assert consultation.short_period_reason == reason
    [scheduled] = events(doc, "schedule_consultation")
    assert '"shortened": true' in scheduled.payload and reason in scheduled.payload
    assert reason in text_of(browser.get(f"/consultations/{consultation.id}"))


def test_a_justification_is_not_kept_for_a_period_that_meets_the_minimum(city):
    doc = factories.in_confidentiality_review(city)
    now = utcnow()
    consultation = consultations.open_consultation(doc, city["openness"], opens_at=now,
                                                   closes_at=now + timedelta(days=45), notice="公告",
                                                   short_period_reason="无需说明的说明文字。")
    assert consultation.short_period_reason is None


def test_the_openness_officer_gives_the_justification_on_the_scheduling_page(city, as_user):
    doc = factories.in_confidentiality_review(city)
    page = f"/staff/documents/{doc.id}/consultation"
    start = (utcnow() + timedelta(hours=1)).astimezone(SHANGHAI)
    form = {"opens_at": start.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (start + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"), "notice": "征求意见公告",
            "contact_person": "王科员", "contact_phone": "0571-87000000"}
    officer = as_user("openness")
    refused = officer.post(page, form)
    assert refused.status_code == 400 and "征求意见公告" in text_of(refused)  # the input is kept
    assert db.session.scalar(select(Consultation.id)) is None
    accepted = officer.post(page, dict(form, short_period_reason="上级文件要求限期出台，征求意见期限相应缩短。"))
    assert accepted.status_code == 302
    assert db.session.scalar(select(Consultation.short_period_reason)).startswith("上级文件要求")


# --- extensions: announced, logged, never shortening ----------------------------------------------

def test_an_open_consultation_is_extended_and_the_public_page_announces_it(city, as_user, browser):
    doc = factories.in_consultation(city)
    consultation = consultations.consultation_of(doc)
    old_close = consultation.closes_at
    new_close = (old_close + timedelta(days=10)).astimezone(SHANGHAI).replace(second=0, microsecond=0)
    page = f"/staff/documents/{doc.id}"
    drafter = as_user("drafter")
    assert f"{page}/consultation/extend" in text_of(drafter.get(page))
    r = drafter.post(f"{page}/consultation/extend", {"closes_at": new_close.strftime("%Y-%m-%dT%H:%M"),
                                                     "reason": "应社会各界要求，延长征求意见期限。"})
    assert r.status_code == 302
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.closes_at == new_close
    [extension] = consultation.extensions
    assert extension.previous_closes_at == old_close and extension.extended_by_id == city["drafter"].id
    [logged] = events(doc, "extend_consultation")
    assert logged.actor_id == city["drafter"].id and "延长征求意见期限" in logged.note
    public = text_of(browser.get(f"/consultations/{consultation.id}"))
    assert "应社会各界要求" in public and new_close.strftime("%Y-%m-%d %H:%M") in public


@pytest.mark.parametrize("delta", [timedelta(days=-1), timedelta(0)])
def test_shortening_or_keeping_the_closing_time_is_refused(city, delta):
    doc = factories.in_consultation(city)
    consultation = consultations.consultation_of(doc)
    old_close = consultation.closes_at
    with pytest.raises(InvalidInput, match="Shortening|shortening|缩短"):
        consultations.extend_consultation(doc, city["drafter"], closes_at=old_close + delta, reason="调整")
    db.session.rollback()
    assert db.session.get(Consultation, consultation.id).closes_at == old_close
    assert db.session.scalar(select(ConsultationExtension.id)) is None


def test_shortening_through_the_page_is_refused_with_the_reason(city, as_user):
    doc = factories.in_consultation(city)
    consultation = consultations.consultation_of(doc)
    earlier = (consultation.closes_at - timedelta(days=5)).astimezone(SHANGHAI)
    r = as_user("openness").post(f"/staff/documents/{doc.id}/consultation/extend",
                                 {"closes_at": earlier.strftime("%Y-%m-%dT%H:%M"), "reason": "提前结束"})
    assert r.status_code == 200 and "不得缩短" in text_of(r)
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).closes_at == consultation.closes_at


def test_a_closed_consultation_cannot_be_extended_and_other_roles_cannot_extend(city):
    open_doc = factories.in_consultation(city)
    later = consultations.consultation_of(open_doc).closes_at + timedelta(days=5)
    with pytest.raises(NotAllowed):
        consultations.extend_consultation(open_doc, city["govoffice"], closes_at=later, reason="延期")
    db.session.rollback()
    closed = factories.in_handling(city, comments=0)
    with pytest.raises(NotAllowed):  # the stage has moved on by the clock: no extension action there
        consultations.extend_consultation(closed, city["drafter"], closes_at=utcnow() + timedelta(days=5),
                                          reason="延期")


# --- skipping pre-disclosure --------------------------------------------------------------------

def test_a_document_that_affects_public_rights_can_never_skip_pre_disclosure(city, as_user):
    doc = factories.document(city, public_rights=True)
    with pytest.raises(InvalidInput, match="must be pre-disclosed|应当预公开"):
        drafting.request_skip_predisclosure(doc, city["drafter"], "不涉及。")
    db.session.rollback()
    page = f"/staff/documents/{doc.id}"
    html = text_of(as_user("drafter").get(page))
    assert "申请不予预公开" in html and "应当预公开" in html  # offered, with the reason it is blocked
    as_user("drafter").post(f"{page}/steps/request_skip_predisclosure", {"note": "理由"}, form_page=page)
    assert db.session.scalar(select(Document.stage).where(Document.id == doc.id)) == "drafting"


def test_skipping_needs_a_legal_reason_and_the_openness_office_approval(city, as_user):
    doc = factories.document(city, public_rights=False)
    page = f"/staff/documents/{doc.id}"
    reason = "本文件系机关内部工作规程，不涉及公民、法人和其他组织的权利义务。"
    r = as_user("drafter").post(f"{page}/steps/request_skip_predisclosure", {"note": reason}, form_page=page)
    assert r.status_code == 302
    db.session.expire_all()
    doc = db.session.get(Document, doc.id)
    assert (doc.stage, doc.predisclosure_skip_reason) == ("skip_review", reason)
    officer = as_user("openness")
    assert reason in text_of(officer.get(page))  # the openness office decides on the recorded reason
    officer.post(f"{page}/steps/approve_skip_predisclosure", {"note": ""}, form_page=page)
    db.session.expire_all()
    doc = db.session.get(Document, doc.id)
    assert doc.stage == "handling" and consultations.consultation_of(doc) is None
    [approval] = events(doc, "approve_skip_predisclosure")
    assert approval.actor_id == city["openness"].id


def test_the_openness_office_can_refuse_a_skip(city):
    doc = factories.in_skip_review(city)
    engine.perform(doc, "refuse_skip_predisclosure", city["openness"], note="涉及相对人权益，应当预公开。")
    assert doc.stage == "drafting"


def test_the_major_decision_procedure_has_no_way_to_skip_public_participation(city):
    doc = factories.document(city, public_rights=False, procedure="major_decision")
    with pytest.raises(NotAllowed):
        drafting.request_skip_predisclosure(doc, city["drafter"], "不涉及。")


# --- the legality review: outcomes, opinions, rounds ----------------------------------------------

def test_unlawful_sends_the_draft_back_to_drafting_with_the_reason(city, as_user):
    doc = factories.in_joint_review(city)
    page = f"/staff/documents/{doc.id}"
    justice = as_user("justice")
    assert 'value="reject"' in text_of(justice.get(f"{page}/signoff"))
    assert 'value="reject"' not in text_of(as_user("govoffice").get(f"{page}/signoff"))
    r = justice.post(f"{page}/signoff", {"organ": "justice", "outcome": "reject", "opinion": "第二条设定行政许可，违反上位法。"})
    assert r.status_code == 302
    db.session.expire_all()
    doc = db.session.get(Document, doc.id)
    assert doc.stage == "drafting"
    [rnd] = review.rounds_of(doc)
    assert rnd.status == RoundStatus.REJECTED.value
    assert rnd.signoff_of(JUSTICE).outcome == SignoffOutcome.REJECT.value
    [event] = events(doc, "reject_as_unlawful")
    assert "违反上位法" in event.note and event.to_stage == "drafting"


def test_the_government_office_cannot_find_a_draft_unlawful(city):
    doc = factories.in_joint_review(city)
    with pytest.raises(NotAllowed):
        review.reject_as_unlawful(doc, city["govoffice"], "不合法")


def test_every_returning_opinion_must_be_answered_before_the_draft_goes_back(city):
    doc = factories.in_joint_review(city)
    gov = review.return_for_revision(doc, city["govoffice"], GOV, "请补充第二条依据。")
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + "\n第四条 新增。", explanation="说明")
    db.session.commit()
    with pytest.raises(InvalidInput, match="1"):
        review.submit_for_review(doc, city["drafter"])
    db.session.rollback()
    review.answer_opinion(doc, city["drafter"], gov.id, "已补充依据。")
    review.submit_for_review(doc, city["drafter"])
    assert doc.stage == "head_submission"
    [answered] = events(doc, "answer_opinion")
    assert answered.actor_id == city["drafter"].id


def test_an_unlawful_finding_must_be_answered_before_pre_disclosure_is_asked_again(city):
    doc = factories.in_joint_review(city)
    rejection = review.reject_as_unlawful(doc, city["justice"], "违反上位法。")
    db.session.commit()
    with pytest.raises(InvalidInput):
        engine.perform(doc, "request_predisclosure", city["drafter"])
    db.session.rollback()
    review.answer_opinion(doc, city["drafter"], rejection.id, "已删除第二条。")
    engine.perform(doc, "request_predisclosure", city["drafter"])
    assert doc.stage == "head_review"


def test_an_approving_opinion_cannot_be_answered(city):
    doc = factories.in_joint_review(city)
    approval = review.approve(doc, city["justice"], JUSTICE, "合法。")
    review.return_for_revision(doc, city["govoffice"], GOV, "请修改。")
    with pytest.raises(InvalidInput):
        review.answer_opinion(doc, city["drafter"], approval.id, "收到。")


def test_each_submission_is_a_new_round_on_its_own_version_and_both_sign_the_same_one(city):
    doc = factories.in_joint_review(city)
    first = review.return_for_revision(doc, city["justice"], JUSTICE, "应当予以修改。")
    review.answer_opinion(doc, city["drafter"], first.id, "已修改。")
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + "\n第四条 新增。", explanation="说明")
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    review.approve(doc, city["govoffice"], GOV, "同意。")
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    rounds = review.rounds_of(doc)
    assert [r.seq for r in rounds] == [1, 2] and rounds[0].version_id != rounds[1].version_id
    assert rounds[1].version_id == doc.current_version.id
    assert {s.version_id for s in rounds[1].signoffs} == {doc.current_version.id}
    assert doc.stage == "deliberation"


# --- time limits: the legality review and the publication -------------------------------------

def legality(doc: Document):
    return engine.procedure_of(doc).deadlines["legality_review"]


@pytest.mark.parametrize("today, status, left", [
    (date(2025, 10, 17), deadlines.DeadlineStatus.RUNNING, 4),
    (date(2025, 10, 20), deadlines.DeadlineStatus.DUE_SOON, 3),
    (date(2025, 10, 23), deadlines.DeadlineStatus.DUE_SOON, 0),
    (date(2025, 10, 24), deadlines.DeadlineStatus.OVERDUE, -1),
    (date(2025, 10, 27), deadlines.DeadlineStatus.OVERDUE, -2),
])
def test_the_legality_review_has_15_working_days_across_the_holidays(city, today, status, left):
    doc = factories.in_joint_review(city)
    # Submitted on Friday 26 September 2025: the 28th (Sun) and 11 October (Sat) are make-up days,
    # 1–8 October are holidays, so the 15th working day is Thursday 23 October.
    doc.stage_entered_at = beijing(2025, 9, 26, 16, 0)
    state = deadlines.state(doc, legality(doc), now=beijing(*today.timetuple()[:3], 10))
    assert state.due == date(2025, 10, 23) and not state.estimated
    assert (state.status, state.working_days_left) == (status, left)


def test_the_legality_clock_stops_when_the_justice_bureau_has_signed(city):
    doc = factories.in_joint_review(city)
    doc.stage_entered_at = utcnow() - timedelta(days=60)
    assert deadlines.state(doc, legality(doc)).status is deadlines.DeadlineStatus.OVERDUE
    review.approve(doc, city["justice"], JUSTICE, "合法。")
    assert doc.stage == "joint_review"  # the government office has not signed yet
    assert deadlines.state(doc, legality(doc)).status is deadlines.DeadlineStatus.MET


def test_the_justice_dashboard_sorts_reviews_by_deadline_and_flags_them(city, as_user):
    late = factories.in_joint_review(city, title="逾期的办法")
    soon = factories.in_joint_review(city, title="临近的办法")
    fresh = factories.in_joint_review(city, title="刚送审的办法")
    now = utcnow()
    late.stage_entered_at = now - timedelta(days=60)
    fresh.stage_entered_at = now
    # Due within 3 working days: entered so that exactly 13 working days have passed today.
    entered = now
    while deadlines.state(soon, legality(soon), now).working_days_left != 2:
        entered -= timedelta(days=1)
        soon.stage_entered_at = entered
    db.session.commit()
    html = text_of(as_user("justice").get("/staff/"))
    table = html[html.index("<table"):html.index("</table>")]
    rows = re.findall(r"<tr class=\"([^\"]*)\">.*?>([^<]*办法)</a>.*?deadline-(\w+)", table, re.S)
    assert [(title, status) for _cls, title, status in rows] == [
        ("逾期的办法", "overdue"), ("临近的办法", "due_soon"), ("刚送审的办法", "running")]
    assert [cls for cls, _t, _s in rows] == ["flagged", "flagged", ""]
    # The legality review limit is the justice bureau's: the government office's dashboard does not list it.
    assert "deadline-" not in text_of(as_user("govoffice").get("/staff/"))


def test_a_deadline_in_a_year_without_an_official_schedule_says_it_is_estimated(city, as_user):
    doc = factories.in_joint_review(city)
    doc.stage_entered_at = beijing(2031, 3, 3, 9)
    state = deadlines.state(doc, legality(doc), now=beijing(2031, 3, 4, 9))
    assert state.estimated and state.due == date(2031, 3, 24)  # weekends only: 15 working days
    db.session.commit()
    html = text_of(as_user("justice").get(f"/staff/documents/{doc.id}"))
    assert "estimated" in html or "估算" in html


def test_publication_is_due_within_20_working_days_of_the_decision(city, as_user):
    doc = factories.in_publication(city)
    doc.decision_date = date(2025, 9, 26)
    state = deadlines.state(doc, engine.procedure_of(doc).deadlines["publication"], now=beijing(2025, 10, 1, 9))
    assert state.started_on == date(2025, 9, 26)
    # 20 working days from Friday 26 September 2025, with the National Day holidays and the two make-up
    # days (28 September, 11 October): Thursday 30 October.
    assert state.due == date(2025, 10, 30) and state.status is deadlines.DeadlineStatus.RUNNING
    db.session.commit()
    html = text_of(as_user("openness").get("/staff/"))
    assert "deadline-overdue" in html and doc.title in html  # long past by now: flagged on the dashboard


# --- gates: deliberation, publication, the library ------------------------------------------------

def test_no_deliberation_without_both_approvals_on_the_current_version(city):
    doc = factories.in_joint_review(city)
    review.approve(doc, city["govoffice"], GOV, "同意。")
    assert doc.stage == "joint_review"
    with pytest.raises(NotAllowed):
        engine.perform(doc, "record_adoption", city["govoffice"])


@pytest.mark.parametrize("title, limit", [("华城市测试管理办法", 5), ("华城市测试管理办法（试行）", 2),
                                          ("华城市测试管理暂行办法", 1)])
def test_the_validity_period_is_capped_by_the_kind_of_document(city, title, limit):
    doc = factories.in_publication(city, title=title)
    today = utcnow().astimezone(SHANGHAI).date()
    with pytest.raises(InvalidInput, match=str(limit)):
        publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="",
                            effective_date=today + timedelta(days=30), validity_years=limit + 1)
    db.session.rollback()
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="",
                        effective_date=today + timedelta(days=30), validity_years=limit)
    assert doc.valid_until == publication._add_years(today + timedelta(days=30), limit) - timedelta(days=1)


def test_the_library_status_follows_the_dates_without_any_job(city):
    doc = factories.published(city)
    effective, until = doc.effective_date, doc.valid_until
    at = lambda day: beijing(*day.timetuple()[:3], 12)  # noqa: E731
    assert publication.library_status(doc, at(effective - timedelta(days=1))) is publication.LibraryStatus.NOT_YET_IN_FORCE
    assert publication.library_status(doc, at(effective)) is publication.LibraryStatus.IN_FORCE
    assert publication.library_status(doc, at(until)) is publication.LibraryStatus.IN_FORCE
    assert publication.library_status(doc, at(until + timedelta(days=1))) is publication.LibraryStatus.EXPIRED
    assert publication.library_status(factories.in_publication(city)) is None


# --- the major-decision procedure ---------------------------------------------------------------------

def test_a_major_decision_needs_expert_argument_and_risk_assessment_before_the_legality_review(city, as_user):
    doc = factories.in_handling(city, procedure="major_decision", comments=1)
    factories.answer_all(doc, city["drafter"])
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation="说明")
    db.session.commit()
    page = f"/staff/documents/{doc.id}"
    drafter = as_user("drafter")
    html = text_of(drafter.get(page))
    assert "专家论证意见" in html and "风险评估报告" in html  # the stage's checklist names what is missing
    r = drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page, follow_redirects=True)
    assert db.session.scalar(select(Document.stage).where(Document.id == doc.id)) == "handling"
    assert "专家论证意见" in text_of(r)
    for kind in ("expert_argument", "risk_assessment"):
        r = drafter.post(f"{page}/assessments/new", {"kind": kind, "held_on": "2026-11-20",
                                                     "participants": "市法学会专家三名", "conclusion": "可行。"})
        assert r.status_code == 302
    factories.prior_assessments(doc, city["drafter"])  # 事前评估: [prior_assessment] in major_decision.toml
    assert drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page).status_code == 302
    assert db.session.scalar(select(Document.stage).where(Document.id == doc.id)) == "head_submission"
    assert ['"kind": "expert_argument"' in e.payload for e in events(doc, "record_assessment")] == [True, False]


def test_a_normative_document_goes_to_review_without_those_records(city):
    doc = factories.ready_for_submission(city)
    review.submit_for_review(doc, city["drafter"])
    assert doc.stage == "head_submission"


def test_the_drafter_chooses_the_procedure_when_creating_the_project(city, as_user):
    r = as_user("drafter").post("/staff/documents/new", {
        "title": "华城市重大项目决策方案", "procedure": "major_decision", "body": factories.DRAFT,
        "explanation": factories.EXPLANATION, "affects_public_rights": "y"})
    assert r.status_code == 302
    assert db.session.scalar(select(Document.procedure)) == "major_decision"


def test_signoffs_record_the_version_they_sign(city):
    doc = factories.in_deliberation(city)
    signed = db.session.scalars(select(Signoff)).all()
    assert {s.version_id for s in signed} == {doc.current_version.id}


def test_the_public_feedback_page_shows_the_library_status(city, browser):
    doc = factories.published(city)
    html = text_of(browser.get(f"/feedback/{doc.id}"))
    status = re.search(r'id="library-status">([^<]+)<', html).group(1)
    assert status == "尚未生效"  # effective in 30 days
    with time_machine.travel(beijing(*doc.effective_date.timetuple()[:3], 9), tick=False):
        html = text_of(browser.get(f"/feedback/{doc.id}"))
    assert re.search(r'id="library-status">([^<]+)<', html).group(1) == "现行有效"
