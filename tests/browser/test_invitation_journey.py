"""Prior assessment (事前评估) in a real browser: the drafter invites an expert; the expert opens the personal
link (no account), reads the draft marked not public with their name, and assesses it overall and on one article
with the keyboard alone, getting a receipt; the drafter answers the assessment and the remark. Every page passes
axe-core, in Chinese and in English, and the Nu HTML checker. At desktop and phone size."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import AssessmentInvitation, InvitedAssessment
from consultation.receipts import display
from consultation.services import drafting, invitations

from .. import factories
from .helpers import check_page, city, document_titled, sign_in, sign_out, zh
from .test_html_valid import _nu_check

TITLE = "华城市市场主体事前评估测试办法"
EXPERT = "冯教授"


def test_the_drafter_invites_an_expert_who_assesses_with_the_keyboard_and_is_answered(
        page: Page, demo, axe, shoot, tmp_path):
    people = city()
    doc = factories.in_handling(people, market=True, title=TITLE)
    factories.answer_all(doc, people["drafter"])
    drafting.revise_draft(doc, people["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    db.session.commit()
    doc_page = f"/staff/documents/{doc.id}"
    saved: list = []

    def keep(name: str) -> None:
        path = tmp_path / f"{name}.html"
        path.write_text(page.content(), encoding="utf-8")
        saved.append(path)

    # The drafter sees the requirement on the document page and invites an expert.
    sign_in(page, "drafter")
    page.goto(doc_page)
    expect(page.locator("#prior-assessment")).to_contain_text(zh("not met yet"))
    check_page(page, axe)
    page.get_by_role("link", name=zh("Invitations and assessments")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Prior assessment by enterprises and experts (事前评估)"))
    check_page(page, axe)
    keep("invitations.zh")
    page.get_by_role("link", name=zh("Invite someone")).click()
    check_page(page, axe)
    page.get_by_label(zh("Expert (专家)")).check()
    page.get_by_label(zh("Name"), exact=True).fill(EXPERT)
    page.get_by_label(zh("Organisation")).fill("华城大学公共管理学院")
    page.get_by_label(zh("Email")).fill("feng.prof@univ.example.edu")
    keep("invite.zh")
    page.get_by_role("button", name=zh("Invite and send the link")).click()
    expect(page.locator("main")).to_contain_text(zh("The invitation was saved; the personal link goes out by mail."))
    expect(page.locator("table")).to_contain_text(EXPERT)
    expect(page.locator("table")).to_contain_text(zh("sent"))
    check_page(page, axe)
    shoot(page, "invitations")
    sign_out(page)

    # The expert follows the link from the mail: no account, the draft marked as not public, with their name.
    db.session.rollback()
    invitation = db.session.scalars(db.select(AssessmentInvitation).where(AssessmentInvitation.name == EXPERT)).one()
    page.goto(f"/assess/{invitations.token_of(invitation)}")
    expect(page).to_have_url(f"{page.url.split('/assess')[0]}/assess")
    expect(page.locator("#not-public")).to_contain_text(EXPERT)
    check_page(page, axe)
    keep("assess.zh")

    # With the keyboard alone: the four questions, one article's remark, the declaration, the consent, the button.
    page.get_by_label(zh("Necessity (必要性)")).focus()
    page.keyboard.type("确有必要。")
    for label, text in (("Feasibility (可行性)", "可行。"),
                        ("Cost and impact on market entities (对市场主体的成本和影响)", "成本较低。"),
                        ("Fair-competition concerns (公平竞争)", "未见限制竞争的内容。")):
        page.keyboard.press("Tab")
        expect(page.get_by_label(zh(label))).to_be_focused()
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # the first article, folded
    expect(page.locator("details.article summary").first).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    first_label = doc.current_version.articles[0].label
    expect(page.get_by_label(zh("Your remark on %(article)s", article=first_label))).to_be_focused()
    page.keyboard.type("建议写明上位法依据。")
    for _ in range(len(doc.current_version.articles) - 1):  # past the other, folded articles
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_label(zh("Declaration of interests (利益关系声明)"))).to_be_focused()
    page.keyboard.type("本人与本文件无利益关系。")
    page.keyboard.press("Tab")
    expect(page.get_by_label(zh("I agree to be named as an expert in the published feedback"))).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=zh("Submit the assessment"))).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#receipt")).to_be_visible()
    db.session.rollback()
    assessment = db.session.scalars(db.select(InvitedAssessment)
                                    .where(InvitedAssessment.invitation_id == invitation.id)).one()
    expect(page.locator("#receipt")).to_contain_text(display(assessment.receipt_number))
    assert (assessment.necessity, assessment.consent_named) == ("确有必要。", True)
    assert [r.body for r in assessment.remarks] == ["建议写明上位法依据。"]
    check_page(page, axe)
    keep("assess-received.zh")
    shoot(page, "assess-received")
    page.goto("/lang/en")
    page.goto("/assess")
    expect(page.locator("#not-public")).to_contain_text("Not public")
    check_page(page, axe)
    keep("assess.en")
    page.goto("/lang/zh_Hans_CN")

    # The drafter answers the assessment and its remark.
    sign_in(page, "drafter")
    page.goto(f"/staff/documents/{doc.id}/invitations")
    expect(page.locator("table")).to_contain_text(zh("submitted"))
    page.get_by_role("link", name=EXPERT).click()
    expect(page.locator("main")).to_contain_text("建议写明上位法依据。")
    check_page(page, axe)
    keep("answer.zh")
    page.locator("fieldset").first.get_by_label(zh("Adopted"), exact=True).check()
    page.get_by_label(zh("Reason"), exact=True).fill("已在起草说明中补充必要性论证。")
    remark = page.locator(".card").filter(has_text="建议写明上位法依据。")
    remark.get_by_label(zh("Partly adopted"), exact=True).check()
    remark.get_by_role("textbox").fill("已补充部分依据。")
    page.get_by_role("button", name=zh("Save the answers")).click()
    expect(page.locator("main")).to_contain_text(zh("The answers were saved."))
    check_page(page, axe)
    db.session.rollback()
    assessment = db.session.get(InvitedAssessment, assessment.id)
    assert assessment.decision == "adopted" and assessment.remarks[0].decision == "partly_adopted"
    assert invitations.status_of(assessment.invitation) == "answered"

    # The same pages in English.
    page.goto("/lang/en")
    page.goto(f"/staff/documents/{doc.id}/invitations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Prior assessment by enterprises and experts (事前评估)")
    expect(page.locator("table")).to_contain_text("answered")
    check_page(page, axe)
    keep("invitations.en")
    page.goto(f"/staff/documents/{doc.id}/invitations/new")
    check_page(page, axe)
    page.goto(doc_page)
    expect(page.locator("#prior-assessment")).to_contain_text("Prior assessment")
    check_page(page, axe)
    page.goto("/lang/zh_Hans_CN")
    sign_out(page)

    # The expert comes back: their own text and every answer (overall and per article), in Chinese punctuation;
    # the receipt lookup finds the assessment by its number (the answers wait for the public feedback).
    page.goto(f"/assess/{invitations.token_of(invitation)}")
    expect(page.locator("#your-assessment")).to_contain_text("确有必要。")
    expect(page.locator("#answer-overall")).to_contain_text(zh("Adopted") + "：已在起草说明中补充必要性论证。")
    expect(page.locator("#your-assessment .answer-remark")).to_contain_text("已补充部分依据。")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Prior assessment") + "：" + TITLE)
    check_page(page, axe)
    keep("assess-answered.zh")
    page.goto("/lang/en")
    page.goto("/assess")
    expect(page.locator("#answer-overall")).to_contain_text("Adopted: ")
    check_page(page, axe)
    page.goto("/lang/zh_Hans_CN")
    page.goto("/receipt")
    page.get_by_label(zh("Receipt number")).fill(display(assessment.receipt_number))
    page.get_by_role("button", name=zh("Look up")).click()
    expect(page.locator("#receipt-assessment")).to_contain_text(TITLE)
    expect(page.locator("#receipt-assessment")).not_to_contain_text(EXPERT)
    expect(page.locator("#receipt-assessment")).not_to_contain_text("已补充部分依据。")  # not public yet
    check_page(page, axe)
    keep("receipt-assessment.zh")

    errors = _nu_check(saved)
    assert not errors, [(e.get("url"), e.get("message")) for e in errors]
    assert document_titled(TITLE).stage == "handling"
