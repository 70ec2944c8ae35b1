"""The two reviewer roles in a real browser: the justice bureau returns a draft with a written opinion after
reading the review packet the worker made; the government office and the justice bureau both approve the
same version; the government office records the executive meeting's adoption with its document number and
publishes, after which the public reads the feedback and downloads its PDF. At desktop and phone size."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import (
    AuditEvent, Document, ReviewOrgan, ReviewRound, Signoff, utcnow,
)
from consultation.services.publication import SHANGHAI
from consultation.workflow import deadlines, engine

from .. import factories
from .conftest import wait_for_jobs
from .helpers import check_page, city, current_stage, document_titled, sign_in, sign_out, zh

PARKING = "华城市中心城区停车收费标准调整方案"  # the demo's major decision, in the legality review


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"  # as the pages show a date in Chinese


def _open_document(page: Page, axe, title: str) -> None:
    """From the workspace, open a document listed as waiting for the signed-in user."""
    page.goto("/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Workspace"))
    check_page(page, axe)
    page.locator("ul.cards").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    check_page(page, axe)


def _events(document: Document, action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.document_id == document.id, AuditEvent.action == action).order_by(AuditEvent.id)))


def _sign(page: Page, outcome: str, opinion: str) -> None:
    page.get_by_label(outcome, exact=True).check()  # "合法" is also inside "不合法"
    page.get_by_label(zh("Written opinion (审核意见)")).fill(opinion)
    page.get_by_role("button", name=zh("Sign"), exact=True).click()


def test_the_justice_bureau_reads_the_packet_and_returns_the_draft_with_an_opinion(page: Page, demo, axe, shoot,
                                                                                    tmp_path):
    sign_in(page, "justice")
    page.goto("/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Workspace"))
    # Waiting for the justice bureau: the major decision, with the legality review's due date (17 calendar
    # days in; how many of its 15 working days are left depends on the calendar).
    doc = document_titled(PARKING)
    [limit] = deadlines.of_document(doc, engine.procedure_of(doc), utcnow())
    due = zh("due %(day)s", day=_chinese_date(limit.due))
    expect(page.locator("ul.cards li").filter(has_text=PARKING)).to_contain_text(due)
    limits = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name=zh("Time limit"), exact=True))
    deadline_row = limits.get_by_role("row").filter(has_text=PARKING)
    expect(deadline_row).to_contain_text(f"合法性审查期限：{due}")  # the title comes from major_decision.toml
    check_page(page, axe)
    shoot(page, "review-dashboard")

    _open_document(page, axe, PARKING)
    expect(current_stage(page)).to_contain_text("联合审查")

    # The review packet (送审材料): the worker made it; the job page says so and the PDF downloads.
    [packet] = [j for j in wait_for_jobs("review_packet_pdf") if j.document_id == doc.id]
    page.get_by_role("link", name=zh("Job page")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Background jobs"))
    row = page.locator(f'tr[data-job="{packet.id}"]')
    expect(row).to_contain_text(zh("Review packet PDF (internal)"))
    expect(row.locator('[data-field="state"]')).to_have_text(zh("Done"))
    check_page(page, axe)
    with page.expect_download() as download:
        row.get_by_role("link", name="PDF").click()
    pdf = tmp_path / "packet.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF") and download.value.suggested_filename.endswith(".pdf")

    # Return for revision: a written opinion is required; without it the choice stays and nothing is signed.
    page.get_by_role("link", name=PARKING).click()
    page.get_by_role("link", name=zh("Sign the joint review")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Joint review: sign"))
    expect(page.get_by_label(zh("Signing for"))).to_have_value(ReviewOrgan.JUSTICE.value)
    check_page(page, axe)
    returned = zh("Should be amended (应当予以修改)")  # the justice bureau's own words
    page.get_by_label(returned).check()
    page.get_by_role("button", name=zh("Sign"), exact=True).click()
    opinion_box = page.get_by_label(zh("Written opinion (审核意见)"))
    expect(opinion_box).to_have_attribute("aria-invalid", "true")
    expect(opinion_box).to_have_accessible_description(zh("A return needs a written opinion."))
    expect(page.get_by_label(returned)).to_be_checked()
    assert document_titled(PARKING).stage == "joint_review"
    check_page(page, axe)

    opinion = "第二条“分时段收费”的时段划分和收费上限未予明确，应当予以修改；请补充价格听证情况。"
    opinion_box.fill(opinion)
    shoot(page, "signoff")
    page.get_by_role("button", name=zh("Sign"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(zh("Your signature was recorded."))
    expect(current_stage(page)).to_contain_text("意见处理")
    rounds = page.locator("#rounds")
    expect(rounds).to_contain_text(opinion)

    doc = document_titled(PARKING)
    assert doc.stage == "handling"
    [signoff] = db.session.scalars(db.select(Signoff).join(ReviewRound).where(ReviewRound.document_id == doc.id))
    assert (signoff.organ, signoff.outcome, signoff.opinion) == (ReviewOrgan.JUSTICE.value, "return", opinion)
    assert signoff.round.status == "returned"
    [signed] = _events(doc, "sign_off")
    assert signed.note == opinion and json.loads(signed.payload)["outcome"] == "return"
    assert _events(doc, "return_for_revision")  # the stage change, with the same opinion
    sign_out(page)

    # The drafting department sees the opinion in the review rounds and in the timeline, and must answer it.
    sign_in(page, "drafter")
    _open_document(page, axe, PARKING)
    rounds = page.locator("#rounds")
    expect(rounds).to_contain_text(opinion)
    expect(page.locator("ol.timeline")).to_contain_text(opinion)
    rounds.get_by_role("link", name=zh("Answer this opinion")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Answer a review opinion"))
    expect(page.locator("main")).to_contain_text(opinion)
    expect(page.get_by_label(zh("How the opinion was handled"))).to_be_editable()
    check_page(page, axe)


def test_both_organs_approve_the_same_version(page: Page, demo, axe):
    title = "华城市测试管理办法（联合审查）"
    doc = factories.in_joint_review(city(), title=title)
    version_id = doc.current_version.id

    sign_in(page, "govoffice")
    _open_document(page, axe, title)
    page.get_by_role("link", name=zh("Sign the joint review")).click()
    expect(page.get_by_label(zh("Signing for"))).to_have_value(ReviewOrgan.GOVERNMENT_OFFICE.value)
    # The government office does not judge legality: no “unlawful” outcome for it.
    expect(page.get_by_label(zh("Unlawful: back to drafting (不合法)"))).to_have_count(0)
    check_page(page, axe)
    _sign(page, zh("Agree (同意)"), "程序完备，同意。")  # the government office agrees; legality is not its call
    expect(page.get_by_role("status")).to_contain_text(zh("Your signature was recorded."))
    # One signature is not enough: the document stays in the joint review.
    expect(current_stage(page)).to_contain_text("联合审查")
    already = zh("This organ has already signed this review round.")
    expect(page.get_by_role("link", name=zh("Sign the joint review"))).to_have_count(0)
    expect(page.get_by_role("link", name="退回修改", exact=True)).to_have_count(0)  # the step, from the .toml
    expect(page.get_by_text(already)).to_be_visible()
    page.goto(f"/staff/documents/{doc.id}/signoff")  # the form itself, by its address: not a second signature
    expect(page.get_by_role("status")).to_have_text(already)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert document_titled(title).stage == "joint_review"
    sign_out(page)

    sign_in(page, "justice")
    _open_document(page, axe, title)
    page.get_by_role("link", name=zh("Sign the joint review")).click()
    check_page(page, axe)
    _sign(page, zh("Lawful (合法)"), "经审核，合法。")
    expect(current_stage(page)).to_contain_text("常务会议审议")
    expect(page.locator("#rounds")).to_contain_text("经审核，合法。")

    doc = document_titled(title)
    assert doc.stage == "deliberation"
    [rnd] = db.session.scalars(db.select(ReviewRound).where(ReviewRound.document_id == doc.id))
    assert rnd.status == "approved" and rnd.version_id == version_id
    office, justice = ReviewOrgan.GOVERNMENT_OFFICE.value, ReviewOrgan.JUSTICE.value
    assert sorted((s.organ, s.outcome, s.version_id) for s in rnd.signoffs) == [
        (office, "approve", version_id), (justice, "approve", version_id)]
    assert [json.loads(e.payload)["organ"] for e in _events(doc, "sign_off")] == [office, justice]


def test_the_government_office_records_the_adoption_and_the_number(page: Page, demo, axe):
    title = "华城市测试管理办法（审议）"
    factories.in_deliberation(city(), title=title)
    meeting = (utcnow() - timedelta(days=2)).astimezone(SHANGHAI).date()

    sign_in(page, "govoffice")
    _open_document(page, axe, title)
    page.get_by_role("link", name="记录审议通过并编号").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Executive-meeting decision"))
    check_page(page, axe)
    adopt = page.get_by_role("form", name=zh("Approved"), exact=True)
    adopt.get_by_label(zh("Approved"), exact=True).check()
    adopt.get_by_label(zh("Meeting date")).fill(meeting.isoformat())
    adopt.get_by_label(zh("Issuing organ")).select_option("华政办发")
    adopt.get_by_role("button", name=zh("Record the decision and assign the number")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(current_stage(page)).to_contain_text("待公布")

    doc = document_titled(title)
    number = doc.document_number
    assert re.fullmatch(rf"华政办发〔{meeting.year}〕[1-9]\d*号", number), number
    expect(page.get_by_role("status")).to_have_text(zh("Decision recorded; document number %(number)s.", number=number))
    expect(page.locator("main p.meta strong")).to_have_text(number)
    assert doc.stage == "publication" and doc.decision == "adopted"
    assert doc.decision_date == meeting
    # The workspace lists it with its number; the next step is the publication.
    page.goto("/staff/")
    row = page.get_by_role("table").filter(has=page.get_by_role("columnheader", name=zh("Number"))) \
        .get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text(number)
    expect(page.locator("ul.cards").get_by_role("link", name=title)).to_be_visible()


def test_the_government_office_publishes_and_the_public_reads_the_feedback(page: Page, demo, axe, shoot, tmp_path):
    title = "华城市测试管理办法（公布）"
    doc = factories.in_publication(city(), title=title)
    number = doc.document_number
    effective = (utcnow() + timedelta(days=40)).astimezone(SHANGHAI).date()

    sign_in(page, "govoffice")
    _open_document(page, axe, title)
    page.get_by_role("link", name="公布正式文本及意见采纳情况").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Publish %(number)s", number=number))
    final_text = page.get_by_label(zh("Final text (正式文本)"))
    expect(final_text).to_have_value(re.compile(r"^华城市测试管理办法\n(.*\n)*第三条 本办法自2027年1月1日起施行。"))
    expect(final_text).not_to_have_value(re.compile("征求意见稿"))  # the adopted text is no longer a draft
    check_page(page, axe)
    page.get_by_label(zh("Policy interpretation (政策解读)")).fill("一、制定背景。二、主要内容：规范测试活动。")
    page.get_by_label(zh("Effective date (施行日期)")).fill(effective.isoformat())
    shoot(page, "publish")
    page.get_by_role("button", name=zh("Publish"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(zh("Published. The feedback PDF is being generated."))
    expect(current_stage(page)).to_contain_text("已公布")
    doc = document_titled(title)
    assert doc.stage == "published" and doc.effective_date == effective
    sign_out(page)

    # The public: the feedback page with the number and every answer, and its PDF once the worker made it.
    wait_for_jobs("feedback_pdf")
    page.goto("/")
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.locator("main p.meta").first).to_contain_text(number)
    expect(page.locator("main")).to_contain_text("已据此修改。")
    expect(page.locator("#interpretation")).to_contain_text("规范测试活动")
    check_page(page, axe)
    with page.expect_download() as download:
        page.get_by_role("link", name=zh("Download as PDF")).click()
    pdf = tmp_path / "feedback.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
