"""The whole procedure through the web pages, one role after another, with CSRF on."""
from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine
from docx import Document as DocxFile

from consultation.extensions import db
from consultation.services import notifications
from consultation.models import BackgroundJob, Comment, Consultation, Document, ReviewRound, Signoff

from . import factories
from .factories import EXPLANATION, REVISED

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME, PHONE, EMAIL = "欧阳测试人", "13912345678", "ouyang.private@example.org"


def beijing(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def docx_upload() -> tuple[io.BytesIO, str]:
    docx = DocxFile()
    for line in ["华城市网络预约出租汽车管理办法（征求意见稿）", "第一章 总则",
                 "第一条 为了规范网络预约出租汽车经营服务行为，制定本办法。",
                 "第二条 本办法适用于本市行政区域内的网约车经营服务。",
                 "第二章 附则", "第三条 本办法自发布之日起施行。"]:
        docx.add_paragraph(line)
    data = io.BytesIO()
    docx.save(data)
    data.seek(0)
    return data, "draft.docx"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def stage(doc_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Document, doc_id).stage


def test_one_document_from_draft_to_published_feedback(as_user, browser, app):
    with time_machine.travel(beijing(2025, 9, 29, 8, 30), tick=False) as clock:
        # Sessions are signed with the time: sign in on the travelled clock.
        drafter, head, openness = as_user("drafter"), as_user("head"), as_user("openness")
        gov, justice = as_user("govoffice"), as_user("justice")
        # Drafting: upload a .docx; articles are parsed one by one.
        r = drafter.post("/staff/documents/new", {
            "title": "华城市网络预约出租汽车管理办法", "docx": docx_upload(), "body": "",
            "explanation": EXPLANATION, "affects_public_rights": "y",
        }, content_type="multipart/form-data")
        assert r.status_code == 302, text_of(r)
        doc_id = int(re.search(r"/staff/documents/(\d+)", r.headers["Location"]).group(1))
        doc = db.session.get(Document, doc_id)
        assert [a.label for a in doc.current_version.articles] == ["第一条", "第二条", "第三条"]
        assert doc.current_version.articles[0].chapter == "第一章 总则"
        page = f"/staff/documents/{doc_id}"

        # Confidentiality review: the department head, then the openness office.
        assert drafter.post(f"{page}/steps/request_predisclosure", {"note": ""}, form_page=page).status_code == 302
        assert head.post(f"{page}/steps/head_approve_predisclosure", {"note": "同意"}, form_page=page).status_code == 302
        assert stage(doc_id) == "confidentiality_review"

        # A window of fewer than 7 working days across the National Day holiday is refused.
        schedule = f"{page}/consultation"
        contacts = {"contact_person": "王科员", "contact_phone": "0571-87001234",
                    "contact_email": "yijian@example.gov.cn", "postal_address": "华城市人民路1号市交通局"}
        r = openness.post(schedule, {"opens_at": "2025-09-29T09:00", "closes_at": "2025-10-14T17:00",
                                     "notice": "欢迎提出意见。", **contacts}, follow_redirects=True)
        assert "2025-10-15" in text_of(r)
        assert stage(doc_id) == "confidentiality_review"
        r = openness.post(schedule, {"opens_at": "2025-09-29T09:00", "closes_at": "2025-10-15T17:00",
                                     "notice": "欢迎提出意见。"})
        assert r.status_code == 400 and stage(doc_id) == "confidentiality_review"  # the notice needs a contact
        r = openness.post(schedule, {"opens_at": "2025-09-29T09:00", "closes_at": "2025-10-15T17:00",
                                     "notice": "欢迎提出意见。", **contacts})
        assert r.status_code == 302
        assert stage(doc_id) == "consultation"

        # Not public before its opening time.
        consultation_id = db.session.scalar(db.select(Consultation.id).where(Consultation.document_id == doc_id))
        assert browser.get(f"/consultations/{consultation_id}").status_code == 404
        assert "华城市网络预约出租汽车管理办法" not in text_of(browser.get("/"))

        # The public comments while the consultation is open.
        clock.move_to(beijing(2025, 10, 9, 10, 0))
        home = text_of(browser.get("/"))
        assert f"/consultations/{consultation_id}" in home
        public_page = f"/consultations/{consultation_id}"
        notice = text_of(browser.get(public_page))
        assert "第二条" in notice
        for value in contacts.values():
            assert value in notice
        article_two = db.session.get(Document, doc_id).versions[0].articles[1].id
        r = browser.post(public_page, {"article_id": str(article_two), "body": "建议明确网约车平台的安全责任。",
                                       "name": NAME, "organisation": "某某出行公司", "phone": PHONE,
                                       "email": EMAIL, "show_masked_name": "y"}, follow_redirects=True)
        receipt_text = text_of(r)
        receipt = re.search(r'id="receipt-number">([A-Z0-9-]+)<', receipt_text).group(1)
        assert len(receipt.replace("-", "")) == 12
        r = browser.post(public_page, {"article_id": "0", "body": "建议整体上减少审批环节。"}, follow_redirects=True)
        assert r.status_code == 200
        lookup = text_of(browser.post("/receipt", {"receipt": receipt.lower()}))
        assert "建议明确网约车平台的安全责任" in lookup and PHONE not in lookup and NAME not in lookup

        # Nothing is shown before the openness office has read it; then it publishes one and hides one.
        assert "建议明确网约车平台的安全责任" not in text_of(browser.get(public_page))
        queue = f"{page}/moderation"
        waiting = text_of(openness.get(queue))
        assert "建议明确网约车平台的安全责任" in waiting and "建议整体上减少审批环节" in waiting
        first, second = db.session.scalars(db.select(Comment.id).order_by(Comment.id)).all()
        r = openness.post(queue, {"comments": [str(second)], "action": "hide", "reason": ""})
        assert r.status_code == 400  # hiding needs a reason
        assert openness.post(queue, {"comments": [str(first)], "action": "publish"}).status_code == 302
        assert openness.post(queue, {"comments": [str(second)], "action": "hide", "reason": "off_topic",
                                     "note": "与本办法无关"}).status_code == 302
        shown = text_of(browser.get(public_page))
        assert "第二条已公开的意见（1）" in shown and "建议整体上减少审批环节" not in shown
        shown = text_of(browser.get(f"{public_page}?comments={article_two}"))  # the article's comments, paged
        assert "建议明确网约车平台的安全责任" in shown and "建议整体上减少审批环节" not in shown

        # Closed by the clock: no background job has run, and still nothing is accepted.
        clock.move_to(beijing(2025, 10, 15, 17, 0, 1))
        r = browser.post(public_page, {"article_id": "0", "body": "迟到的意见。"})
        assert db.session.scalar(db.select(db.func.count(Comment.id))) == 2
        assert "迟到的意见" not in text_of(r)
        assert stage(doc_id) == "consultation"  # stored stage lags; what counts is the clock
        drafter.get(page)
        assert stage(doc_id) == "handling"

        # Nothing moves on while a comment is unanswered.
        r = drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page, follow_redirects=True)
        assert stage(doc_id) == "handling"
        comments = db.session.scalars(db.select(Comment).order_by(Comment.id)).all()
        drafter.post(f"{page}/comments/{comments[0].id}", {"decision": "adopted", "reason": "已增加平台安全责任条款。"})
        r = drafter.post(f"{page}/revise", {"body": REVISED, "explanation": EXPLANATION})
        assert r.status_code == 302
        drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page)
        assert stage(doc_id) == "handling"
        drafter.post(f"{page}/comments/{comments[1].id}", {"decision": "not_adopted", "reason": "审批环节由上位法规定。"})
        drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page)
        assert stage(doc_id) == "head_submission"
        head.post(f"{page}/steps/head_approve_submission", {"note": ""}, form_page=page)
        assert stage(doc_id) == "joint_review"

        # Joint review, round 1: the government office returns it with an opinion.
        r = gov.post(f"{page}/signoff", {"organ": "gov_office", "outcome": "return", "opinion": "请补充风险评估说明。"})
        assert r.status_code == 302
        assert stage(doc_id) == "handling"
        r = justice.post(f"{page}/signoff", {"organ": "justice", "outcome": "approve", "opinion": "合法"},
                         form_page=page)
        assert r.status_code in (302, 403, 409) and stage(doc_id) == "handling"
        # The same version cannot simply go back: a new version is needed.
        drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page)
        assert stage(doc_id) == "handling"
        drafter.post(f"{page}/revise", {"body": REVISED + "\n第四条 补充条款。", "explanation": EXPLANATION + "已补充风险评估。"})
        # Not before the returning opinion has its answer.
        r = drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page, follow_redirects=True)
        assert stage(doc_id) == "handling" and "审核意见尚未答复" in text_of(r)
        opinion = db.session.scalars(db.select(Signoff).where(Signoff.outcome == "return")).one()
        assert f"/opinions/{opinion.id}" in text_of(drafter.get(page))
        r = drafter.post(f"{page}/opinions/{opinion.id}", {"response": "已补充风险评估说明，见起草说明第三部分。"})
        assert r.status_code == 302
        assert "已补充风险评估说明" in text_of(gov.get(page))  # the reviewers see the answer
        drafter.post(f"{page}/steps/submit_for_review", {"note": ""}, form_page=page)
        head.post(f"{page}/steps/head_approve_submission", {"note": ""}, form_page=page)
        assert stage(doc_id) == "joint_review"

        # Round 2: both approve the same version.
        gov.post(f"{page}/signoff", {"organ": "gov_office", "outcome": "approve", "opinion": "同意"})
        assert stage(doc_id) == "joint_review"
        justice.post(f"{page}/signoff", {"organ": "justice", "outcome": "approve", "opinion": "合法"})
        assert stage(doc_id) == "deliberation"
        rounds = db.session.scalars(db.select(ReviewRound).order_by(ReviewRound.seq)).all()
        assert [r.status for r in rounds] == ["returned", "approved"]

        # Deliberation and the document number (a month later: sign in again).
        clock.move_to(beijing(2025, 11, 3, 9, 0))
        gov = as_user("govoffice")
        # The meeting's outcome reads 通过 / 修改后通过 / 未通过, not the comment answers' 采纳.
        assert "采纳" not in text_of(gov.get(f"{page}/decision"))
        r = gov.post(f"{page}/decision", {"adopt-decision": "adopted", "adopt-decision_date": "2025-11-01",
                                          "adopt-prefix": "华政办发", "adopt-note": "", "adopt-submit": "1"})
        assert r.status_code == 302
        doc = db.session.get(Document, doc_id)
        db.session.refresh(doc)
        assert doc.document_number == "华政办发〔2025〕1号"

        # Publication: the feedback is public since the meeting's deliberation (services/feedback_stage.py);
        # the number and the final text are not, until published.
        before = browser.get(f"/feedback/{doc_id}")
        assert before.status_code == 200 and "华政办发〔2025〕1号" not in text_of(before)
        assert "常务会议已审议通过" in text_of(before)
        r = gov.post(f"{page}/publish", {"final_text": REVISED, "policy_interpretation": "本办法主要内容解读。",
                                         "effective_date": "2025-12-01", "validity_years": "5"})
        assert r.status_code == 302
        assert stage(doc_id) == "published"
        # The feedback PDF at each publication event (before the meeting, after its adoption, with the final
        # text); the review packets of the two joint-review rounds were asked for earlier; the commenter who
        # left an email address is told by the worker's clock, once per event. (Mails: the receipt at
        # submission, then the feedback before the meeting and the published feedback, to the one address.)
        assert sorted(db.session.scalars(db.select(BackgroundJob.kind))) == [
            "feedback_pdf", "feedback_pdf", "feedback_pdf", "mail", "review_packet_pdf", "review_packet_pdf"]
        assert notifications.tick()["mailed"] == 2
        assert sorted(db.session.scalars(db.select(BackgroundJob.kind))) == [
            "feedback_pdf", "feedback_pdf", "feedback_pdf", "mail", "mail", "mail", "review_packet_pdf",
            "review_packet_pdf"]

        feedback = text_of(browser.get(f"/feedback/{doc_id}"))
        assert "共收到意见2条，采纳1条，部分采纳0条，未采纳1条" in feedback
        assert "第二条" in feedback and "已增加平台安全责任条款" in feedback and "审批环节由上位法规定" in feedback
        assert "建议整体上减少审批环节" not in feedback, feedback[feedback.find("建议整体上减少审批环节") - 300:][:600]
        assert "与征求意见内容无关1条" in feedback
        assert "欧***人" in feedback  # masked, with consent
        for private in (NAME, PHONE, EMAIL, "某某出行公司", "127.0.0.1"):
            assert private not in feedback
        assert "第三条" in feedback and "2027年1月1日" in feedback  # the final text
        lookup = text_of(browser.post("/receipt", {"receipt": receipt}))
        assert "已增加平台安全责任条款" in lookup

        timeline = text_of(gov.get(page))
        for action in ("request_predisclosure", "open_consultation", "close_consultation", "return_for_revision",
                       "joint_approval", "record_adoption", "publish"):
            assert f'data-action="{action}"' in timeline


def test_an_organ_that_signed_is_not_offered_the_form_again(as_user, city, app):
    """Found by the reviewers' browser journey: after its signature the government office was still offered
    the signing form (and the return step), which could only refuse it; a return without an opinion is said
    at the field, with the chosen outcome kept; the review packet downloads as a file."""
    from . import factories

    doc = factories.in_joint_review(city)
    page = f"/staff/documents/{doc.id}"
    gov, justice = as_user("govoffice"), as_user("justice")
    r = gov.post(f"{page}/signoff", {"organ": "gov_office", "outcome": "return", "opinion": "  "})
    assert r.status_code == 200 and 'aria-invalid="true"' in text_of(r) and 'id="opinion-error-1"' in text_of(r)
    assert re.search(r'<input checked[^>]*value="return"', text_of(r))
    r = gov.post(f"{page}/signoff", {"organ": "gov_office", "outcome": "approve", "opinion": "同意"})
    assert r.status_code == 302
    assert f"{page}/signoff" not in text_of(gov.get(page))
    r = gov.get(f"{page}/signoff")
    assert r.status_code == 302 and r.location.endswith(f"{page}#rounds")
    assert f"{page}/signoff" in text_of(justice.get(page))  # the other organ still signs

    assert app.test_cli_runner().invoke(args=["worker", "--burst"]).exit_code == 0
    job = db.session.scalars(db.select(BackgroundJob).where(BackgroundJob.kind == "review_packet_pdf")).one()
    r = justice.get(f"/staff/jobs/{job.id}/file")
    assert r.data[:5] == b"%PDF-" and r.headers["Content-Disposition"].startswith("attachment;")


def test_chinese_pages_use_full_width_brackets_and_commas(city, as_user):
    """当前文本（第1稿，征求意见稿）in Chinese; "Current text (version 1, …)" in English."""
    doc = factories.document(city)
    drafter = as_user("drafter")
    page = text_of(drafter.get(f"/staff/documents/{doc.id}"))
    heading = re.search(r'<h2 id="versions-h">(.*?)</h2>', page).group(1)
    assert re.fullmatch(r"当前文本（第1稿，[^(),（）]+）", heading), heading
    drafter.get("/lang/en", headers={"Referer": "http://localhost/"})
    page = text_of(drafter.get(f"/staff/documents/{doc.id}"))
    heading = re.search(r'<h2 id="versions-h">(.*?)</h2>', page).group(1)
    assert re.fullmatch(r"Current text \(version 1, [^,（）]+\)", heading), heading
    assert "0 comments; 0 without an answer." in page
