"""The adoption feedback (意见采纳情况反馈) by stage: public from the stage each procedure file names, updated at final
publication, and published with the outcome when the meeting does not adopt the draft or the department withdraws
it (services/feedback_stage.py). Nothing is public before its time, and nothing personal ever is."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from consultation.errors import InvalidInput
from consultation.extensions import db
from consultation.models import AuditEvent, BackgroundJob, Document, Mailing, ReviewOrgan, User, utcnow
from consultation.services import feedback_stage, mailings, moderation, notifications, publication, review
from consultation.workflow.definition import WorkflowFileError, load_procedure

from . import factories
from .test_mail import smtp  # noqa: F401 (the real SMTP server fixture)
from .test_pdf_job import _run_worker
from .test_workflow_files import KNOWN_ARTEFACTS, KNOWN_CONDITIONS, edit, original, start, write

PERSON = {"name": "张三丰", "organisation": "华城市某某科技有限公司", "phone": "13900001111",
          "email": "zhang.sanfeng@example.net"}
REASON = "上位法正在修订，暂缓出台。"
# The meeting decides today: after the consultation closed, never in the future (publication.check_decision_date).
DECIDED = date.today()
DECIDED_ZH = f"{DECIDED.year}年{DECIDED.month}月{DECIDED.day}日"
WITHDRAWN = "情况发生变化，起草单位申请撤回。"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def events(doc_id: int, action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.document_id == doc_id,
                                                            AuditEvent.action == action)))


def payload(event: AuditEvent) -> dict:
    return json.loads(event.payload) if isinstance(event.payload, str) else event.payload


def feedback_jobs(doc_id: int) -> int:
    return db.session.scalar(select(db.func.count(BackgroundJob.id)).where(
        BackgroundJob.document_id == doc_id, BackgroundJob.kind == "feedback_pdf"))


def in_joint_review_with_a_commenter(city) -> tuple[Document, str]:
    """A document in joint review; one comment carries the commenter's personal data, one does not."""
    doc = factories.in_consultation(city, opens_at=utcnow() - factories.timedelta(days=50))
    receipt = factories.comment(doc, body="建议第二条写明适用范围。", article_seq=2, **PERSON).receipt_number
    factories.comment(doc, body="建议整体上减少审批环节。")
    factories.engine.settle(doc)
    factories.answer_all(doc, city["drafter"])
    factories.drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()
    assert doc.stage == "joint_review"
    return doc, receipt


def approve_both(doc: Document, city) -> None:
    review.approve(doc, city["govoffice"], ReviewOrgan.GOVERNMENT_OFFICE, "同意。")
    review.approve(doc, city["justice"], ReviewOrgan.JUSTICE, "合法。")  # joint_approval follows by itself
    db.session.commit()


def look_up(browser, receipt: str) -> str:
    return text_of(browser.post("/receipt", {"receipt": receipt}))


def assert_nothing_personal(*texts: str) -> None:
    for text in texts:
        for value in PERSON.values():
            assert value not in text


# --- the procedure files -------------------------------------------------------------------------

def test_both_procedure_files_publish_the_feedback_when_the_draft_goes_to_the_meeting(app):
    procedures = app.extensions["procedures"]
    assert {p.feedback_public_from for p in procedures.values()} == {"deliberation"}
    for procedure in procedures.values():
        withdraw = procedure.transitions["withdraw"]
        assert withdraw.roles == ("department_head",) and withdraw.note_required
        assert procedure.stages[withdraw.to].final and "publication" not in withdraw.from_stages
        assert set(withdraw.from_stages) == {s.id for s in procedure.stages.values() if not s.final} - {"publication"}


@pytest.mark.parametrize("broken, fault", [
    ('public_from = "deliberaton"', "unknown stage 'deliberaton'"),
    ('public_from = "drafting"', "the stage 'drafting' is internal"),
    ("public_from = 3", "must be the name of a stage"),
])
def test_a_broken_public_from_is_refused_naming_the_file_and_the_entry(tmp_path, broken, fault):
    path = write(tmp_path, edit(original(), 'public_from = "deliberation"', broken))
    with pytest.raises(WorkflowFileError) as caught:
        load_procedure(path, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)
    assert str(caught.value) == f"normative_document.toml: [feedback] public_from: {caught.value.problem}"
    assert fault in str(caught.value)
    with pytest.raises(WorkflowFileError, match="normative_document.toml: \\[feedback\\] public_from"):
        start(tmp_path)  # the service does not start with it


def test_a_misspelt_key_of_the_feedback_section_is_refused(tmp_path):
    path = write(tmp_path, edit(original(), "public_from =", "public_form ="))
    with pytest.raises(WorkflowFileError, match=r"\[feedback\]: unknown key 'public_form'"):
        load_procedure(path, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)


# --- the boundary ------------------------------------------------------------------------------

def test_the_feedback_is_absent_in_joint_review_and_public_once_the_draft_goes_to_the_meeting(city, browser):
    doc, receipt = in_joint_review_with_a_commenter(city)
    doc_id = doc.id
    for url in (f"/feedback/{doc_id}", f"/feedback/{doc_id}/feedback.csv", f"/feedback/{doc_id}/feedback.pdf",
                f"/api/v1/feedback/{doc_id}"):
        assert browser.get(url).status_code == 404, url
    assert "已答复" not in look_up(browser, receipt) and "第二条写明" in look_up(browser, receipt)
    jobs_before = feedback_jobs(doc_id)

    approve_both(doc, city)  # the automatic joint_approval publishes it, inside the stage change
    assert doc.stage == "deliberation" and doc.feedback_published_at is not None
    [published] = events(doc_id, "publish_feedback")
    assert payload(published)["stage"] == "deliberation" and payload(published)["first"]
    assert feedback_jobs(doc_id) == jobs_before + 1
    assert db.session.scalars(select(Mailing.event).where(Mailing.document_id == doc_id)).all() == [
        mailings.FEEDBACK_BEFORE_DECISION]

    page = browser.get(f"/feedback/{doc_id}")
    html = text_of(page)
    assert page.status_code == 200
    assert "送审稿已提交常务会议审议；意见采纳情况如下。" in html and "答复仍可能调整" in html
    assert "共收到意见2条，采纳2条" in html and "已据此修改。" in html
    assert f"/library/{doc_id}" not in html and f"/feedback/{doc_id}/comparison" not in html  # no final text yet
    assert browser.get(f"/feedback/{doc_id}/comparison").status_code == 404  # with the final text only
    answer = look_up(browser, receipt)
    assert "已据此修改。" in answer and "答复仍可能调整" in answer
    api = json.loads(browser.get(f"/api/v1/feedback/{doc_id}").data)
    assert api["stage"]["status"] == "before_decision" and api["stage"]["stage"] == "deliberation"
    assert api["published_at"] is None and api["links"]["library"] is None and api["document_number"] is None
    assert api["stage"]["outcome"] is None
    rows = list(csv.reader(io.StringIO(text_of(browser.get(f"/feedback/{doc_id}/feedback.csv")).lstrip("\ufeff"))))
    assert rows[-1][0] == "说明" and "送审稿已提交常务会议审议" in rows[-1][2]
    feed = text_of(browser.get("/feed.atom"))
    assert f"feedback-early-{doc_id}" in feed and "答复仍可能调整" in feed
    listed = browser.client.get("/api/v1/consultations?status=feedback").get_json()["items"]
    assert [(i["document_id"], i["status"]) for i in listed] == [(doc_id, "feedback")]
    assert listed[0]["feedback_api_url"].endswith(f"/api/v1/feedback/{doc_id}")
    receipt_api = browser.client.get(f"/api/v1/receipts/{receipt}").get_json()
    assert receipt_api["progress"] == "answered" and receipt_api["answer"]["reason"] == "已据此修改。"
    assert_nothing_personal(html, answer, json.dumps(api, ensure_ascii=False),
                            feed, text_of(browser.get(f"/feedback/{doc_id}/feedback.csv")))


def test_the_english_page_says_the_stage_too(city, browser):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    approve_both(doc, city)
    browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    html = text_of(browser.get(f"/feedback/{doc.id}"))
    assert "submitted to the executive meeting" in html and "may still change" in html


def test_a_document_whose_consultation_never_opened_has_no_feedback_to_publish(city, browser):
    doc = factories.in_confidentiality_review(city)
    feedback_stage.withdraw(doc, city["head"], WITHDRAWN)
    db.session.commit()
    assert doc.stage == "withdrawn" and doc.withdrawn_on is not None and doc.feedback_published_at is None
    assert not events(doc.id, "publish_feedback") and events(doc.id, "record_withdrawal")
    assert browser.get(f"/feedback/{doc.id}").status_code == 404
    assert browser.get(f"/api/v1/feedback/{doc.id}").status_code == 404


# --- the outcome -------------------------------------------------------------------------------

def test_non_adoption_is_published_with_its_date_and_reason_above_the_feedback(city, as_user, browser, app):
    doc, receipt = in_joint_review_with_a_commenter(city)
    approve_both(doc, city)
    doc_id = doc.id
    page = f"/staff/documents/{doc_id}"
    r = as_user("govoffice").post(f"{page}/decision", {"reject-decision_date": DECIDED.isoformat(), "reject-note": REASON,
                                                       "reject-submit": "1"})
    assert r.status_code == 302
    doc = db.session.get(Document, doc_id)
    db.session.refresh(doc)
    assert doc.stage == "not_adopted"
    [decided] = events(doc_id, "record_decision")
    assert payload(decided) == {"decision": "not_adopted", "decision_date": DECIDED.isoformat()} and decided.note == REASON
    assert [payload(e)["first"] for e in events(doc_id, "publish_feedback")] == [True, False]

    html = text_of(browser.get(f"/feedback/{doc_id}"))
    assert "审议未通过" in html and DECIDED_ZH in html and REASON in html
    assert html.index(REASON) < html.index('id="answers"')  # the outcome above the feedback
    answer = look_up(browser, receipt)
    assert "审议未通过" in answer and REASON in answer and "已据此修改。" in answer
    assert "正在研究处理" not in answer
    api = json.loads(browser.get(f"/api/v1/feedback/{doc_id}").data)
    assert api["stage"]["status"] == "outcome"
    assert api["stage"]["outcome"] == {"stage": "not_adopted", "label": "审议未通过", "date": DECIDED.isoformat(),
                                       "reason": REASON}
    assert browser.client.get(f"/api/v1/receipts/{receipt}").get_json()["outcome"]["reason"] == REASON
    rows = list(csv.reader(io.StringIO(text_of(browser.get(f"/feedback/{doc_id}/feedback.csv")).lstrip("\ufeff"))))
    assert rows[-1] == ["说明", "", f"审议未通过（{DECIDED_ZH}）：{REASON}", "", "", ""]
    feed = text_of(browser.get("/feed.atom"))
    assert f"feedback-outcome-{doc_id}" in feed and "【审议未通过】" in feed and REASON in feed
    assert_nothing_personal(html, json.dumps(api, ensure_ascii=False), feed)

    _run_worker(app)  # the PDF carries the outcome
    pdf = browser.get(f"/feedback/{doc_id}/feedback.pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "审议未通过" in text and "上位法正在修订" in text
    assert_nothing_personal(text)


def test_a_withdrawal_publishes_the_feedback_and_the_reason_even_with_answers_missing(city, as_user, browser):
    doc = factories.in_handling(city, comments=2)
    doc_id = doc.id
    first = factories.comments(doc)[0]
    receipt = first.receipt_number
    page = f"/staff/documents/{doc_id}"
    assert as_user("drafter").post(f"{page}/steps/withdraw", {"note": WITHDRAWN},
                                   form_page=page).status_code == 403  # the department head's step
    head = as_user("head")
    assert head.post(f"{page}/steps/withdraw", {"note": " "}, form_page=page).status_code in (302, 400)
    db.session.refresh(doc)
    assert doc.stage == "handling"  # a reason is required
    r = head.post(f"{page}/steps/withdraw", {"note": WITHDRAWN}, form_page=page)
    assert r.status_code == 302
    doc = db.session.get(Document, doc_id)
    db.session.refresh(doc)
    assert doc.stage == "withdrawn" and doc.withdrawal_reason == WITHDRAWN
    assert doc.withdrawn_on == utcnow().astimezone(feedback_stage.SHANGHAI).date()
    assert events(doc_id, "withdraw") and events(doc_id, "record_withdrawal") and events(doc_id, "publish_feedback")

    html = text_of(browser.get(f"/feedback/{doc_id}"))
    assert "已撤回" in html and WITHDRAWN in html and "尚未答复" in html
    lookup = look_up(browser, receipt)
    assert "已撤回" in lookup and WITHDRAWN in lookup and "未答复" in lookup
    api = json.loads(browser.get(f"/api/v1/feedback/{doc_id}").data)
    assert api["stage"]["outcome"]["stage"] == "withdrawn" and api["stage"]["outcome"]["reason"] == WITHDRAWN
    assert browser.client.get(f"/api/v1/receipts/{receipt}").get_json()["progress"] == "ended"
    # A withdrawn document never enters the library or the search.
    assert browser.get(f"/library/{doc_id}").status_code == 404
    assert f"/library/{doc_id}" not in text_of(browser.get("/library"))


# --- the final publication and later changes -----------------------------------------------------

def test_the_final_publication_updates_the_feedback_once_public_before_the_meeting(city, browser):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    approve_both(doc, city)
    first_public = doc.feedback_published_at
    publication.record_adoption(doc, city["govoffice"], decision="adopted", decision_date=date.today(),
                                prefix="华政办发")
    db.session.commit()
    assert "常务会议已审议通过" in text_of(browser.get(f"/feedback/{doc.id}"))
    assert doc.document_number not in text_of(browser.get(f"/feedback/{doc.id}"))  # the number with the text
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读。",
                        effective_date=utcnow().date() + factories.timedelta(days=30), validity_years=5)
    db.session.commit()
    assert doc.feedback_published_at == first_public
    html = text_of(browser.get(f"/feedback/{doc.id}"))
    assert doc.document_number in html and 'id="feedback-stage"' not in html and "第三条" in html
    assert f"/feedback/{doc.id}/comparison" in html
    api = json.loads(browser.get(f"/api/v1/feedback/{doc.id}").data)
    assert api["stage"]["status"] == "final" and api["links"]["library"]
    assert [payload(e)["stage"] for e in events(doc.id, "publish_feedback")] == ["deliberation", "published"]
    # Mailings: one per event (before the meeting; the final text).
    assert sorted(db.session.scalars(select(Mailing.event).where(Mailing.document_id == doc.id))) == sorted(
        [mailings.FEEDBACK_BEFORE_DECISION, mailings.FEEDBACK_PUBLISHED])


def test_a_moderation_after_the_feedback_is_public_asks_for_the_pdf_again(city, browser):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    approve_both(doc, city)
    before = feedback_jobs(doc.id)
    shown = next(c for c in factories.comments(doc) if c.body.startswith("建议整体"))
    moderation.moderate(doc, city["openness"], [shown.id], publish=False, reason="off_topic")
    db.session.commit()
    assert feedback_jobs(doc.id) == before + 1
    assert "建议整体上减少审批环节" not in text_of(browser.get(f"/feedback/{doc.id}"))  # the page reads live data


def test_commenters_hear_once_per_event_through_the_worker_clock(app, city, smtp):  # noqa: F811
    doc, receipt = in_joint_review_with_a_commenter(city)
    approve_both(doc, city)
    doc_id = doc.id
    notifications.tick()
    notifications.tick()  # the second tick finds nothing new
    _run_worker(app)
    before = [m for m in smtp.to(PERSON["email"]) if "提交常务会议审议前" in m["Subject"]]
    assert len(before) == 1
    body = before[0].get_content()
    assert "送审稿已提交常务会议审议" in body and f"/feedback/{doc_id}" in body and "仍可能调整" in body
    doc = db.session.get(Document, doc_id)
    govoffice = db.session.scalars(select(User).where(User.username == "govoffice")).one()
    publication.record_rejection(doc, govoffice, decision_date=DECIDED, note=REASON)
    db.session.commit()
    notifications.tick()
    notifications.tick()
    _run_worker(app)
    [outcome] = [m for m in smtp.to(PERSON["email"]) if "【审议未通过】" in m["Subject"]]
    assert REASON in outcome.get_content() and DECIDED_ZH in outcome.get_content()
    assert len(smtp.to(PERSON["email"])) == 3  # the receipt, the feedback before the meeting, the outcome
    assert all(PERSON["name"] not in m.get_content() for m in smtp.to(PERSON["email"]))


@pytest.mark.parametrize("procedure_id", ["normative_document", "major_decision"])
def test_the_procedure_page_says_from_which_stage_the_feedback_is_public(as_user, procedure_id):
    html = text_of(as_user("admin").get(f"/admin/procedures/{procedure_id}"))
    assert "公开起始阶段：常务会议审议" in html and "已撤回" in html


def test_withdrawal_is_possible_everywhere_but_puts_nothing_on_the_heads_waiting_list(city, as_user):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    page = text_of(as_user("head").get("/staff/"))
    assert doc.title not in page.split('id="mine-h"', 1)[1].split("<h2", 1)[0]  # the "waiting for you" list
    assert "note-withdraw" in text_of(as_user("head").get(f"/staff/documents/{doc.id}"))  # the step is offered
    assert "note-withdraw" not in text_of(as_user("drafter").get(f"/staff/documents/{doc.id}"))


def test_a_transition_key_waits_must_be_known_to_the_loader(tmp_path):
    path = write(tmp_path, edit(original(), "waits = false", "waits = false\nwait = true"))
    with pytest.raises(WorkflowFileError, match="unknown key 'wait'"):
        load_procedure(path, KNOWN_CONDITIONS, KNOWN_ARTEFACTS)


def test_the_staff_page_links_the_feedback_public_before_the_final_text(city, as_user):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    page = f"/staff/documents/{doc.id}"
    assert 'id="feedback-public"' not in text_of(as_user("drafter").get(page))
    approve_both(doc, city)
    html = text_of(as_user("drafter").get(page))
    assert 'id="feedback-public"' in html and f"/feedback/{doc.id}" in html and "早于正式文本" in html


def test_a_procedure_may_publish_during_handling_and_then_every_answer_shows_at_once(app, city, browser,
                                                                                      monkeypatch):
    import dataclasses

    from consultation.services import answers

    procedures = app.extensions["procedures"]
    monkeypatch.setitem(procedures, "normative_document",
                        dataclasses.replace(procedures["normative_document"], feedback_public_from="handling"))
    doc = factories.in_handling(city, comments=1)  # the clock closed the consultation: handling, public
    assert doc.feedback_published_at is not None
    html = text_of(browser.get(f"/feedback/{doc.id}"))
    assert "当前阶段：意见处理；意见采纳情况如下。" in html and "尚未答复" in html
    before = feedback_jobs(doc.id)
    [comment] = factories.comments(doc)
    answers.answer_comment(doc, city["drafter"], comment.id, decision="not_adopted", reason="与上位法不一致。")
    db.session.commit()
    assert "与上位法不一致。" in text_of(browser.get(f"/feedback/{doc.id}"))  # the page reads live data
    assert feedback_jobs(doc.id) == before + 1  # and the PDF is made again


def test_the_migration_makes_the_feedback_of_documents_already_published_public_since_their_publication(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from consultation import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}",
                      "EMBEDDED_REDIS_FILE": str(tmp_path / "r.rdb")})
    with app.app_context():
        upgrade(revision="e9f0a1b2c3d4")  # the revision before this one
        db.session.execute(text("INSERT INTO department (id, name, kind) VALUES (1, '测试局', 'drafting')"))
        db.session.execute(text("INSERT INTO user (id, username, display_name, password_hash, department_id, active)"
                                " VALUES (1, 'u', 'u', 'x', 1, 1)"))
        for doc_id, stage, published in ((1, "published", "'2026-01-05 02:00:00+00:00'"), (2, "deliberation", "NULL")):
            db.session.execute(text(
                "INSERT INTO document (id, title, procedure, stage, department_id, affects_public_rights, "
                "concerns_market_entities, created_by_id, created_at, updated_at, stage_entered_at, published_at) "
                f"VALUES ({doc_id}, '文件{doc_id}', 'normative_document', '{stage}', 1, 1, 0, 1, "
                f"'2025-12-01 00:00:00', '2025-12-01 00:00:00', '2025-12-01 00:00:00', {published})"))
        db.session.commit()
        upgrade(revision="f0a1b2c3d4e5")
        rows = dict(db.session.execute(text("SELECT id, feedback_published_at FROM document")).all())
        assert rows[1] is not None and str(rows[1]).startswith("2026-01-05 02:00:00") and rows[2] is None
        downgrade(revision="e9f0a1b2c3d4")
        assert db.session.execute(text("SELECT count(*) FROM document")).scalar() == 2


def test_a_withdrawal_closes_an_open_consultation_and_keeps_a_scheduled_one_from_ever_opening(city, browser):
    from consultation.services import consultations

    running = factories.in_consultation(city, title="华城市测试征求意见中撤回办法")
    feedback_stage.withdraw(running, city["head"], WITHDRAWN)
    db.session.commit()
    consultation = consultations.consultation_of(running)
    assert not consultation.is_open() and consultation.has_closed()
    assert "已撤回" in text_of(browser.get(f"/feedback/{running.id}"))
    with pytest.raises(InvalidInput, match="截止"):  # a comment after the withdrawal is refused
        consultations.submit_comment(consultation, body="撤回后的意见。")

    scheduled = factories.in_consultation(city, title="华城市测试未开始即撤回办法",
                                          opens_at=utcnow() + factories.timedelta(days=3))
    later = consultations.consultation_of(scheduled)
    feedback_stage.withdraw(scheduled, city["head"], WITHDRAWN)
    db.session.commit()
    assert scheduled.feedback_published_at is None
    [ended] = payload(events(scheduled.id, "record_withdrawal")[0])["consultations"]
    assert ended["opened"] is False
    for url in (f"/consultations/{later.id}", f"/feedback/{scheduled.id}"):
        assert browser.get(url).status_code == 404
    with __import__("time_machine").travel(utcnow() + factories.timedelta(days=60), tick=False):
        assert browser.get(f"/consultations/{later.id}").status_code == 404  # never opens
        assert "华城市测试未开始即撤回办法" not in text_of(browser.get("/search?q=未开始即撤回"))
        assert "华城市测试未开始即撤回办法" not in text_of(browser.get("/feed.atom"))


def test_the_home_page_links_the_feedback_of_a_recently_closed_consultation_once_public(city, browser):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    link = f'href="/feedback/{doc.id}"'
    assert link not in text_of(browser.get("/"))
    approve_both(doc, city)
    home = text_of(browser.get("/"))
    assert link in home and "正式文本公布前公布" in home


# --- the public pages follow the feedback and the outcome (review finding 2) ----------------------

def consultation_url(doc: Document) -> str:
    from consultation.services import consultations

    return f"/consultations/{consultations.consultation_of(doc).id}"


def test_the_consultation_page_links_the_feedback_once_public_and_shows_the_outcome_of_a_rejection(city, browser):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    url, link = consultation_url(doc), f'href="/feedback/{doc.id}"'
    html = text_of(browser.get(url))
    assert link not in html and 'id="document-outcome"' not in html  # nothing public yet

    approve_both(doc, city)
    html = text_of(browser.get(url))
    assert link in html and "送审稿已提交常务会议审议；意见采纳情况如下。" in html and "答复仍可能调整" in html
    assert 'id="outcome-badge"' not in html

    publication.record_rejection(doc, city["govoffice"], decision_date=DECIDED, note=REASON)
    db.session.commit()
    html = text_of(browser.get(url))
    section = html[html.index('id="document-outcome"'):]
    assert "审议未通过" in section and DECIDED_ZH in section and REASON in section and link in section
    assert "审议未通过" in html[html.index('id="outcome-badge"'):html.index('id="document-outcome"')]
    assert html.index('id="document-outcome"') < html.index('id="draft-h"')  # above the draft
    browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    english = text_of(browser.get(url))
    assert "Not adopted" in english and DECIDED.isoformat() in english and link in english
    assert_nothing_personal(html, english)


def test_the_consultation_page_shows_a_withdrawal_with_its_date_and_reason(city, browser):
    doc = factories.in_handling(city, comments=1)
    url = consultation_url(doc)
    feedback_stage.withdraw(doc, city["head"], WITHDRAWN)
    db.session.commit()
    html = text_of(browser.get(url))
    section = html[html.index('id="document-outcome"'):]
    withdrawn = doc.withdrawn_on
    assert "已撤回" in section and WITHDRAWN in section
    assert f"{withdrawn.year}年{withdrawn.month}月{withdrawn.day}日" in section
    assert f'href="/feedback/{doc.id}"' in section


def test_the_consultation_page_links_the_feedback_and_the_final_text_once_published(city, browser):
    doc = factories.published(city)
    html = text_of(browser.get(consultation_url(doc)))
    assert f'href="/feedback/{doc.id}"' in html and f'href="/library/{doc.id}"' in html
    assert "正式文本已公布" in html and 'id="outcome-badge"' not in html


def test_the_home_page_lists_an_ended_document_with_its_outcome_not_as_awaiting_a_final_text(city, browser):
    doc, _receipt = in_joint_review_with_a_commenter(city)
    approve_both(doc, city)
    publication.record_rejection(doc, city["govoffice"], decision_date=DECIDED, note=REASON)
    withdrawn = factories.in_handling(city, comments=1, title="华城市测试撤回首页办法")
    feedback_stage.withdraw(withdrawn, city["head"], WITHDRAWN)
    db.session.commit()
    home = text_of(browser.get("/"))
    assert "正式文本公布前公布" not in home
    assert "近期截止" not in home  # neither is being handled any more
    ended = home[home.index('id="outcomes-h"'):]
    for document, reason in ((doc, REASON), (withdrawn, WITHDRAWN)):
        assert f'href="/feedback/{document.id}"' in ended and reason in ended
    assert "审议未通过" in ended and f"（{DECIDED_ZH}）" in ended and "已撤回" in ended
    assert ended.index("华城市测试撤回首页办法") < ended.index(REASON)  # the most recent first
    assert_nothing_personal(home)


def results_of(response) -> str:
    """The results of the search page, without its form (whose status list names every label)."""
    html = text_of(response)
    return html[html.index('id="result-count"'):]


def test_search_labels_a_consultation_by_its_feedback_and_outcome_as_the_api_listing_does(city, browser):
    from consultation import search

    doc, _receipt = in_joint_review_with_a_commenter(city)
    consultation_id = int(consultation_url(doc).rsplit("/", 1)[1])

    def seen() -> tuple[str, str | None, str, set[str]]:
        [result] = search.search("华城市测试管理办法", kind="consultation").items
        api = browser.client.get("/api/v1/consultations").get_json()["items"]
        filtered = {status for status in search.ConsultationStatus
                    if [r.ref_id for r in search.search("", status=status.value).items] == [consultation_id]}
        assert len(filtered) == 1  # the SQL filter agrees with the label
        return result.status, result.outcome, [i["status"] for i in api if i["id"] == consultation_id][0], \
            {s.value for s in filtered}

    assert seen() == ("closed", None, "closed", {"closed"})
    assert "已截止，待反馈" in results_of(browser.get("/search?q=华城市测试管理办法"))
    approve_both(doc, city)
    assert seen() == ("feedback", None, "feedback", {"feedback"})
    page = results_of(browser.get("/search?q=华城市测试管理办法"))
    assert "已截止，待反馈" not in page and "已公布反馈" in page
    publication.record_rejection(doc, city["govoffice"], decision_date=DECIDED, note=REASON)
    db.session.commit()
    assert seen() == ("feedback", "审议未通过", "feedback", {"feedback"})
    page = results_of(browser.get("/search?q=华城市测试管理办法"))
    assert "已截止，待反馈" not in page and "审议未通过" in page
    assert "已公布反馈" in results_of(browser.get("/search?q=华城市测试管理办法&kind=consultation&status=feedback"))


def test_search_shows_a_withdrawn_consultation_with_its_outcome(city, browser):
    doc = factories.in_consultation(city, title="华城市测试检索撤回办法")
    feedback_stage.withdraw(doc, city["head"], WITHDRAWN)
    db.session.commit()
    page = results_of(browser.get("/search?q=检索撤回"))
    assert "共1条结果" in page and 'status-outcome">已撤回<' in page and "已截止，待反馈" not in page
    assert f'href="{consultation_url(doc)}"' in page


# --- a refused step goes back to the document page (review finding 10) -----------------------------

def test_a_step_refused_by_a_condition_goes_back_to_the_document_page_with_the_reasons(city, as_user):
    doc = factories.in_handling(city, comments=1)  # the comment is not answered yet
    page = f"/staff/documents/{doc.id}"
    drafter = as_user("drafter")
    r = drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page)  # no Referer sent
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    html = text_of(drafter.get(page))
    flashes = re.findall(r'class="flash flash-error"[^>]*>(.*?)</div>', html, re.S)
    assert flashes == ["尚有1条意见未答复。请先准备修改后的送审稿。"]  # the blockers, as the page lists them
    db.session.refresh(doc)
    assert doc.stage == "handling"


def test_a_withdrawal_without_a_reason_goes_back_to_the_document_page_and_a_role_refusal_stays_403(city, as_user):
    doc = factories.in_handling(city, comments=1)
    page = f"/staff/documents/{doc.id}"
    head = as_user("head")
    r = head.post(f"{page}/steps/withdraw", {"note": " "}, form_page=page)
    assert r.status_code == 302 and r.headers["Location"].endswith(page)
    html = text_of(head.get(page))
    assert re.findall(r'class="flash flash-error"[^>]*>(.*?)</div>', html, re.S) == ["请填写书面理由或意见。"]
    assert as_user("drafter").post(f"{page}/steps/withdraw", {"note": WITHDRAWN}, form_page=page).status_code == 403
    db.session.refresh(doc)
    assert doc.stage == "handling" and not events(doc.id, "withdraw")
