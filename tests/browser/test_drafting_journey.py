"""Staff journeys in a real browser, at desktop and phone size: the drafter (a project from a .docx, the
pre-disclosure request, answering a campaign group and the other comments after the clock closed the
consultation, resubmitting after a joint-review return), the department head (approving pre-disclosure and a
submission) and the openness officer (the confidentiality review that opens the consultation, moderation).

The starting state of each journey is built with the services; every step of the role under test goes
through the browser. Each step is then checked in the database and in the audit trail."""
from __future__ import annotations

import io
import re
from datetime import timedelta

from docx import Document as WordDocument
from playwright.sync_api import Locator, Page, expect

from consultation.extensions import db
from consultation.models import (
    AuditEvent, Comment, Document, ReviewOrgan, ReviewRound, Signoff, utcnow,
)
from consultation.services import consultations, review
from consultation.services.consultations import SHANGHAI
from consultation.workflow import engine

from .. import factories
from .helpers import check_page, city, current_stage, document_titled, sign_in, stage_title, step_title, zh, zh_plural

OPEN_TITLE = "华城市住宅小区电动自行车停放充电管理规定"  # the demo's open consultation, with a campaign group
DRAFTING_TITLE = "华城市住宅小区物业管理办法"  # the demo's draft still in its department


# --- helpers --------------------------------------------------------------------------------------------

def flash(page: Page, text: str) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def trail(doc: Document) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.document_id == doc.id).order_by(AuditEvent.id)))


def last_event_id() -> int:
    return db.session.scalar(db.select(db.func.max(AuditEvent.id))) or 0


def actions_by(doc: Document, username: str, after: int = 0) -> list[str]:
    """What the user did to the document, in order (since the audit event ``after``)."""
    return [e.action for e in trail(doc) if e.id > after and e.actor is not None and e.actor.username == username]


def open_from_dashboard(page: Page, axe, title: str) -> None:
    """From the workspace, open a document listed under "Waiting for you"."""
    if not page.url.endswith("/staff/"):  # (signing in leads there; clicking again would race the reload)
        page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Workspace")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Workspace"))
    check_page(page, axe)
    waiting = page.locator("ul.cards")
    waiting.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def step_form(page: Page, name: str) -> Locator:
    """The box of one transition under "Next steps"."""
    return page.locator("section[aria-labelledby=next-h] .step").filter(
        has=page.get_by_role("heading", level=3, name=step_title(name), exact=True))


def take_step(page: Page, name: str, note: str) -> None:
    box = step_form(page, name)
    box.get_by_role("textbox").fill(note)
    box.get_by_role("button", name=step_title(name), exact=True).click()
    flash(page, zh("Done: %(step)s.", step=step_title(name)))


def timeline(page: Page) -> Locator:
    return page.locator("section[aria-labelledby=timeline-h]")


def make_docx(title: str, articles: list[str]) -> bytes:
    word = WordDocument()
    word.add_heading(title, level=1)
    word.add_paragraph("第一章 总则")
    for number, text in zip("一二三四五六七八九", articles, strict=False):
        word.add_paragraph(f"第{number}条 {text}")
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


# --- the drafter ----------------------------------------------------------------------------------------

NEW_TITLE = "华城市既有住宅加装电梯管理办法"
NEW_ARTICLES = [
    "为了改善既有住宅居住条件，规范加装电梯活动，制定本办法。",
    "本办法适用于本市行政区域内已建成投入使用、未设电梯的四层以上住宅。",
    "加装电梯应当经本单元房屋专有部分面积占比三分之二以上的业主参与表决。",
    "本办法自2027年1月1日起施行，有效期5年。",
]


def test_the_drafter_creates_a_project_from_a_word_file_and_asks_for_predisclosure(
        page: Page, demo, axe, shoot, tmp_path):
    sign_in(page, "drafter")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Workspace"))
    expect(page.get_by_role("main")).to_contain_text(OPEN_TITLE)
    check_page(page, axe)
    shoot(page, "drafter-dashboard")

    page.get_by_role("link", name=zh("New document")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("New document"))
    check_page(page, axe)
    explanation = "一、起草背景。二、主要内容：共四条。"
    page.get_by_label(zh("Title"), exact=True).fill(NEW_TITLE)
    page.get_by_label(zh("Drafting explanation (起草说明)")).fill(explanation)
    expect(page.get_by_label(zh("Affects the rights and obligations of the public (涉及公众权益)"))).to_be_checked()

    # A Word file without articles is refused with the reason; what was typed stays.
    outline = tmp_path / "提纲.docx"
    outline.write_bytes(make_docx(NEW_TITLE, []))
    page.get_by_label(zh("Or upload a Word file (.docx)")).set_input_files(outline)
    page.get_by_role("button", name=zh("Save"), exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        zh("No articles were found. Each article must start on its own line with 第一条, 第二条 …"))
    expect(page.get_by_label(zh("Title"), exact=True)).to_have_value(NEW_TITLE)
    expect(page.get_by_label(zh("Drafting explanation (起草说明)"))).to_have_value(explanation)
    check_page(page, axe)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Document.id)).where(Document.title == NEW_TITLE)) == 0

    upload = tmp_path / "加装电梯管理办法.docx"
    upload.write_bytes(make_docx(NEW_TITLE + "（征求意见稿）", NEW_ARTICLES))
    page.get_by_label(zh("Or upload a Word file (.docx)")).set_input_files(upload)
    page.get_by_role("button", name=zh("Save"), exact=True).click()

    flash(page, zh("The document was created with %(n)d articles.", n=4))
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_TITLE)
    expect(current_stage(page)).to_have_text(stage_title("drafting"))
    check_page(page, axe)
    doc = document_titled(NEW_TITLE)
    version = doc.current_version
    assert [a.label for a in version.articles] == ["第一条", "第二条", "第三条", "第四条"]
    assert version.articles[2].text == NEW_ARTICLES[2] and version.articles[0].chapter == "第一章 总则"
    assert version.source_filename == upload.name and doc.affects_public_rights
    # The articles read from the file are on the page.
    page.get_by_text(zh("%(n)d articles", n=4), exact=True).click()
    expect(page.get_by_text(NEW_ARTICLES[1])).to_be_visible()

    take_step(page, "request_predisclosure", "请审核，拟向社会公开征求意见。")
    expect(current_stage(page)).to_have_text(stage_title("head_review"))
    expect(timeline(page)).to_contain_text(step_title("request_predisclosure"))
    check_page(page, axe)
    doc = document_titled(NEW_TITLE)
    assert doc.stage == "head_review"
    assert actions_by(doc, "drafter") == ["create_document", "request_predisclosure"]
    event = trail(doc)[-1]
    assert (event.from_stage, event.to_stage, event.note) == ("drafting", "head_review", "请审核，拟向社会公开征求意见。")


def test_the_drafter_answers_a_campaign_group_at_once_and_the_other_comments_one_by_one(
        page: Page, demo, axe, shoot):
    doc = document_titled(OPEN_TITLE)
    consultation = consultations.consultation_of(doc)
    consultation.closes_at = utcnow() - timedelta(minutes=5)  # the period ended; nothing records it yet
    db.session.commit()
    assert doc.stage == "consultation"
    group = factories.groups(doc)[0]
    campaign_ids = sorted(c.id for c in factories.members(group))
    assert len(campaign_ids) == 3
    before = last_event_id()

    sign_in(page, "drafter")
    open_from_dashboard(page, axe, OPEN_TITLE)
    # The clock closed the consultation: the document is in comment handling, recorded by the system.
    expect(current_stage(page)).to_have_text(stage_title("handling"))
    expect(page.locator("#comments")).to_contain_text(zh_plural(
        "%(num)d comment; %(unanswered)d without an answer.", "%(num)d comments; %(unanswered)d without an answer.",
        5, unanswered=5))
    check_page(page, axe)
    closing = [e for e in trail(doc) if e.action == "close_consultation"]
    # Exactly one, although the worker's clock and this page view may both have found it due (compare-and-set).
    assert len(closing) == 1 and closing[0].actor_id is None and closing[0].to_stage == "handling"
    expect(timeline(page).locator("li").filter(has_text=step_title("close_consultation")).first).to_contain_text(
        zh("automatic"))

    # The group: one answer for its three comments.
    page.get_by_role("link", name=zh("Groups of identical comments")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Groups of identical or near-identical comments"))
    card = page.locator(f"#group-{group.id}")
    expect(card).to_contain_text(zh("%(a)d of %(n)d answered.", a=0, n=3))
    card.get_by_role("radio", name=zh("Partly adopted")).check()
    campaign_reason = "将在第六条增加小区集中充电设施建设的要求；楼道内充电已被禁止。"
    card.get_by_label(zh("Reason")).fill(campaign_reason)
    check_page(page, axe)
    shoot(page, "answer-campaign")
    card.get_by_role("button", name=zh("Answer all %(n)d comments of the group", n=3)).click()
    flash(page, zh("The same answer was given to the %(n)d comments of the group.", n=3))
    expect(page.locator(f"#group-{group.id}")).to_contain_text(zh("%(a)d of %(n)d answered.", a=3, n=3))
    db.session.rollback()
    grouped = db.session.scalars(db.select(Comment).where(Comment.id.in_(campaign_ids))).all()
    assert {(c.answer.decision, c.answer.reason) for c in grouped} == {("partly_adopted", campaign_reason)}

    # The two others, one after the other: saving one opens the next one still unanswered.
    page.get_by_role("link", name=OPEN_TITLE).click()
    page.get_by_role("link", name=zh("Answer the comments")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Answer a comment"))
    expect(page.get_by_role("main")).to_contain_text("建议明确充电设施的安装费用由谁承担。")
    expect(page.get_by_role("main")).to_contain_text("张小祥")  # staff see the commenter; the public never does
    check_page(page, axe)
    page.get_by_role("radio", name=zh("Adopted"), exact=True).check()
    page.get_by_label(zh("Reason")).fill("已在第六条明确安装费用由业主与物业服务人协商承担。")
    page.get_by_role("button", name=zh("Save answer")).click()
    flash(page, zh("The answer was saved."))
    expect(page.get_by_role("main")).to_contain_text("建议增加夜间充电安全巡查的要求。")
    # A reason left empty is refused by the browser; the choice made stays.
    page.get_by_role("radio", name=zh("Answered without change")).check()
    page.get_by_role("button", name=zh("Save answer")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Answer a comment"))
    expect(page.get_by_role("radio", name=zh("Answered without change"))).to_be_checked()
    page.get_by_label(zh("Reason")).fill("夜间巡查由物业服务合同约定，本规定不作统一要求。")
    page.get_by_role("button", name=zh("Save answer")).click()
    flash(page, zh("The answer was saved."))

    # Back on the document: nothing is left without an answer.
    expect(page.get_by_role("heading", level=1)).to_have_text(OPEN_TITLE)
    expect(page.locator("#comments")).to_contain_text(zh_plural(
        "%(num)d comment; %(unanswered)d without an answer.", "%(num)d comments; %(unanswered)d without an answer.",
        5, unanswered=0))
    expect(page.locator("#comments").get_by_text(zh("unanswered"), exact=True)).to_have_count(0)
    check_page(page, axe)
    db.session.rollback()
    decided = {c.body: c.answer.decision for c in factories.comments(doc)}
    assert decided["建议明确充电设施的安装费用由谁承担。"] == "adopted"
    assert decided["建议增加夜间充电安全巡查的要求。"] == "explained"
    assert all(decided.values())
    # The group's answer is one event with its count; the two others one each.
    assert actions_by(doc, "drafter", after=before) == ["answer_campaign", "answer_comment", "answer_comment"]


REVIEW_TITLE = "华城市测试管理办法"
OPINION = "第三条施行日期过近，请给相关单位留出准备时间，并补充过渡性规定。"


def test_the_drafter_answers_the_review_opinion_revises_and_submits_again(page: Page, demo, axe):
    people = city()
    doc = factories.in_joint_review(people, title=REVIEW_TITLE)
    review.return_for_revision(doc, people["govoffice"], ReviewOrgan.GOVERNMENT_OFFICE, OPINION)
    db.session.commit()
    returned_version = doc.current_version.seq
    before = last_event_id()

    sign_in(page, "drafter")
    open_from_dashboard(page, axe, REVIEW_TITLE)
    expect(current_stage(page)).to_have_text(stage_title("handling"))
    rounds = page.locator("#rounds")
    expect(rounds).to_contain_text(OPINION)
    # Submitting again waits for the answer to the opinion and for a new version.
    submit = step_form(page, "submit_for_review")
    expect(submit).to_contain_text(zh("%(count)d review opinion(s) still have no answer from the drafting department.",
                                      count=1))
    expect(submit).to_contain_text(zh("This version was returned in joint review; submit a revised version."))
    expect(submit.get_by_role("button")).to_have_count(0)
    check_page(page, axe)

    rounds.get_by_role("link", name=zh("Answer this opinion")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Answer a review opinion"))
    expect(page.get_by_role("main")).to_contain_text(OPINION)
    check_page(page, axe)
    response = "已将施行日期推迟至2027年7月1日，并在第三条增加过渡期规定。"
    page.get_by_label(zh("How the opinion was handled")).fill(response)
    page.get_by_role("button", name=zh("Save the answer")).click()
    flash(page, zh("The answer to the review opinion was saved."))
    expect(page.locator("#rounds")).to_contain_text(response)

    page.get_by_role("link", name=zh("Prepare the review draft (送审稿)")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Prepare the review draft (送审稿)"))
    check_page(page, axe)
    text = page.get_by_label(zh("Text of the draft"))
    revised = text.input_value().replace("本办法自2027年1月1日起施行。",
                                         "本办法自2027年7月1日起施行。本办法施行前已开展的测试活动，应当在施行之日起六个月内规范。")
    assert "2027年7月1日" in revised
    text.fill(revised)
    page.get_by_role("button", name=zh("Save the review draft")).click()
    flash(page, zh("The review draft was saved."))

    take_step(page, "submit_for_review", "已按审核意见修改，请审核后报送。")
    expect(current_stage(page)).to_have_text(stage_title("head_submission"))
    expect(timeline(page)).to_contain_text(response)
    check_page(page, axe)

    doc = document_titled(REVIEW_TITLE)
    assert doc.stage == "head_submission"
    version = doc.current_version
    assert version.seq == returned_version + 1 and version.kind == "review_draft"
    assert "六个月内规范" in version.articles[2].text
    signoff = db.session.scalars(db.select(Signoff).join(ReviewRound).where(ReviewRound.document_id == doc.id)).one()
    assert signoff.outcome == "return" and signoff.response.response == response
    assert actions_by(doc, "drafter", after=before) == ["answer_opinion", "revise_draft", "submit_for_review"]


# --- the department head --------------------------------------------------------------------------------

def test_the_department_head_approves_predisclosure_and_a_submission(page: Page, demo, axe):
    people = city()
    draft = document_titled(DRAFTING_TITLE)
    engine.perform(draft, "request_predisclosure", people["drafter"], note="请审核。")
    submission = factories.ready_for_submission(people, title=REVIEW_TITLE)
    review.submit_for_review(submission, people["drafter"])
    db.session.commit()
    before = last_event_id()

    sign_in(page, "head")
    waiting = page.locator("ul.cards")
    expect(waiting).to_contain_text(DRAFTING_TITLE)
    expect(waiting).to_contain_text(REVIEW_TITLE)
    check_page(page, axe)

    open_from_dashboard(page, axe, DRAFTING_TITLE)
    expect(current_stage(page)).to_have_text(stage_title("head_review"))
    expect(step_form(page, "head_return_draft")).to_be_visible()  # the head may also send it back
    check_page(page, axe)
    take_step(page, "head_approve_predisclosure", "同意预公开，请政务公开办进行保密审查。")
    expect(current_stage(page)).to_have_text(stage_title("confidentiality_review"))
    expect(page.get_by_text(zh("No step is waiting for you on this document."))).to_be_visible()
    draft = document_titled(DRAFTING_TITLE)
    assert draft.stage == "confidentiality_review"
    assert actions_by(draft, "head", after=before) == ["head_approve_predisclosure"]

    open_from_dashboard(page, axe, REVIEW_TITLE)
    expect(current_stage(page)).to_have_text(stage_title("head_submission"))
    check_page(page, axe)
    take_step(page, "head_approve_submission", "同意报送。")
    expect(current_stage(page)).to_have_text(stage_title("joint_review"))
    expect(page.locator("#rounds")).to_contain_text(zh("Round %(n)d on version %(v)d", n=1, v=2))
    check_page(page, axe)
    submission = document_titled(REVIEW_TITLE)
    assert submission.stage == "joint_review"
    rnd = db.session.scalars(db.select(ReviewRound).where(ReviewRound.document_id == submission.id)).one()
    assert rnd.version_id == submission.current_version.id and rnd.submitted_by.username == "head"
    assert actions_by(submission, "head", after=before) == ["head_approve_submission", "open_review_round"]
    # Nothing waits for the head any more.
    page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Workspace")).click()
    expect(page.get_by_text(zh("Nothing waits for you."))).to_be_visible()


# --- the openness officer -------------------------------------------------------------------------------

ELEVATOR_TITLE = "华城市既有住宅加装电梯管理办法"


def test_the_openness_officer_opens_the_consultation_and_moderates_its_comments(page: Page, demo, axe, shoot):
    people = city()
    doc = factories.in_confidentiality_review(people, title=ELEVATOR_TITLE)
    before = last_event_id()

    sign_in(page, "openness")
    open_from_dashboard(page, axe, ELEVATOR_TITLE)
    expect(current_stage(page)).to_have_text(stage_title("confidentiality_review"))
    check_page(page, axe)
    step_form(page, "open_consultation").get_by_role("link", name=step_title("open_consultation")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Confidentiality review and consultation window"))
    check_page(page, axe)
    now = utcnow().astimezone(SHANGHAI)
    opens, closes = page.get_by_label(zh("Opens at (Beijing time)")), page.get_by_label(zh("Closes at (Beijing time)"))
    proposed = closes.input_value()
    assert proposed, "the form proposes the earliest lawful closing time"
    opens.fill(now.strftime("%Y-%m-%dT%H:%M"))
    notice = "为广泛听取社会各界意见，现将草案公开征求意见。"
    page.get_by_label(zh("Consultation notice (征求意见公告)")).fill(notice)
    page.get_by_label(zh("Contact person (联系人)")).fill("吴科员")
    page.get_by_label(zh("Contact telephone (联系电话)")).fill("0571-87001234")
    page.get_by_label(zh("Email address for comments (电子邮箱)")).fill("zhengqiu@demo.huacheng.gov.cn")

    # Three days without a justification is too short: refused with the rule, nothing typed is lost.
    closes.fill((now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name=zh("Pass the review and publish the consultation")).click()
    too_short = zh("The consultation period is too short: the rule is %(rule)s, the first day not counted, so it "
                   "cannot close before %(day)s. A shorter period needs a written justification (at least %(n)d "
                   "characters), which the notice will show.")
    expect(page.get_by_role("alert")).to_contain_text(too_short.split("%(")[0])
    expect(page.get_by_label(zh("Consultation notice (征求意见公告)"))).to_have_value(notice)
    expect(page.get_by_label(zh("Contact person (联系人)"))).to_have_value("吴科员")
    expect(opens).to_have_value(now.strftime("%Y-%m-%dT%H:%M"))
    check_page(page, axe)
    assert document_titled(ELEVATOR_TITLE).stage == "confidentiality_review"

    closes.fill(proposed)
    page.get_by_role("button", name=zh("Pass the review and publish the consultation")).click()
    flash(page, zh("The consultation is scheduled."))
    expect(current_stage(page)).to_have_text(stage_title("consultation"))
    doc = document_titled(ELEVATOR_TITLE)
    consultation = consultations.consultation_of(doc)
    assert doc.stage == "consultation" and consultation.is_open(utcnow())
    assert consultation.contact_person == "吴科员" and consultation.approved_by.username == "openness"
    assert actions_by(doc, "openness", after=before) == ["open_consultation", "schedule_consultation"]

    # The public sees it on the home page.
    page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Consultations")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Drafts open for public comment"))
    expect(page.get_by_role("link", name=re.compile(ELEVATOR_TITLE))).to_be_visible()

    # Comments arrive.
    bodies = ["建议明确加装电梯的费用分摊办法。", "建议对低层住户给予适当补偿。",
              "三单元201室的张某某电话13900001111，他反对加装，大家去找他。"]
    for body in bodies:
        factories.comment(doc, body=body, at=utcnow())
    db.session.commit()

    open_from_dashboard(page, axe, ELEVATOR_TITLE)  # it now waits for the officer: comments to moderate
    page.get_by_role("link", name=zh("Moderation"), exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Moderation of public comments"))
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    check_page(page, axe)
    for body in bodies[:2]:
        rows.filter(has_text=body).get_by_role("checkbox").check()
    page.get_by_role("radio", name=zh("Publish"), exact=True).check()
    shoot(page, "moderation")
    page.get_by_role("button", name=zh("Apply to the selected comments")).click()
    flash(page, zh("%(n)d comment(s) updated.", n=2))
    expect(rows).to_have_count(1)

    rows.filter(has_text=bodies[2]).get_by_role("checkbox").check()
    page.get_by_role("radio", name=zh("Hide"), exact=True).check()
    page.get_by_label(zh("Reason for hiding")).select_option(label=zh("someone else's personal data"))
    page.get_by_label(zh("Note (internal)")).fill("含他人电话号码")
    page.get_by_role("button", name=zh("Apply to the selected comments")).click()
    flash(page, zh("%(n)d comment(s) updated.", n=1))
    expect(page.get_by_text(zh("Nothing here."))).to_be_visible()
    check_page(page, axe)

    db.session.rollback()
    states = {c.body: (c.moderation, c.hidden_reason) for c in factories.comments(doc)}
    assert states == {bodies[0]: ("published", None), bodies[1]: ("published", None),
                      bodies[2]: ("hidden", "personal_data")}
    assert actions_by(doc, "openness", after=before).count("moderate_comment") == 3

    # The public page shows the published comments only.
    page.get_by_role("navigation", name=zh("Main")).get_by_role("link", name=zh("Consultations")).click()
    page.get_by_role("link", name=re.compile(ELEVATOR_TITLE)).click()
    expect(page).to_have_url(re.compile(f"/consultations/{consultation.id}$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text(bodies[0])
    expect(main).to_contain_text(bodies[1])
    expect(main).not_to_contain_text("13900001111")
    expect(main).not_to_contain_text("张某某")
