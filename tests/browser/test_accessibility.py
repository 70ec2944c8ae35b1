"""Accessibility in the browser: axe-core over every public page and the staff pages of each role, no page
wider than a 360-px phone, and the comment form filled and sent with the keyboard alone."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import Comment, Document
from consultation.services import consultations

from .conftest import assert_accessible
from .helpers import check_page, document_titled, sign_in, zh

OPEN_TITLE = "华城市住宅小区电动自行车停放充电管理规定"
CLOSED_TITLE = "华城市小微企业首次轻微违法行为免予处罚清单（试行）"
PUBLISHED_TITLE = "华城市城市道路临时占用管理办法"


def _check(page: Page, axe, url: str) -> None:
    """Open the page, run axe in it and check it fits the screen."""
    response = page.goto(url)
    assert response.ok, (url, response.status)
    check_page(page, axe)


def test_public_pages_have_no_serious_accessibility_violation(page: Page, demo, axe):
    open_doc, closed_doc, published = (document_titled(t) for t in (OPEN_TITLE, CLOSED_TITLE, PUBLISHED_TITLE))
    open_c, closed_c = consultations.consultation_of(open_doc), consultations.consultation_of(closed_doc)
    urls = ["/", f"/consultations/{open_c.id}", f"/consultations/{closed_c.id}", "/receipt",
            f"/feedback/{published.id}", "/library", "/library?status=in_force", f"/library/{published.id}",
            "/search", "/search?q=停车", "/search?q=没有结果的词组", "/subscribe", "/auth/login"]
    urls += ["/statistics", "/statistics?grain=quarter"]  # the figures (issue 16)
    for lang in ("zh_Hans_CN", "en"):
        page.goto(f"/lang/{lang}")
        for url in urls:
            _check(page, axe, url)

    # The states a form takes: errors, a receipt found and not found, the subscription requested.
    page.goto(f"/consultations/{open_c.id}")
    page.get_by_role("button", name="Submit comment").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    assert_accessible(axe, page)
    page.goto("/receipt")
    page.get_by_label("Receipt number").fill("NOPE-NOPE-NOPE")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(axe, page)
    receipt = db.session.scalars(db.select(Comment.receipt_number).where(
        Comment.body == "建议明确占道施工的夜间作业时间限制。")).one()
    page.get_by_label("Receipt number").fill(receipt)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("main")).to_contain_text("已在第二条增加夜间作业时间限制。")
    assert_accessible(axe, page)
    page.goto("/subscribe")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    assert_accessible(axe, page)


@pytest.mark.parametrize("username", ["drafter", "head", "openness", "govoffice", "justice", "admin"])
def test_staff_pages_have_no_serious_accessibility_violation(page: Page, demo, axe, username):
    sign_in(page, username)
    check_page(page, axe)
    db.session.rollback()
    urls = ["/staff/documents/new", "/staff/assessment/ranking", "/staff/assessment/due-for-review"]
    for doc_id in db.session.scalars(db.select(Document.id).order_by(Document.id)):
        urls += [f"/staff/documents/{doc_id}", f"/staff/documents/{doc_id}/jobs",
                 f"/staff/documents/{doc_id}/moderation", f"/staff/documents/{doc_id}/campaigns",
                 f"/staff/documents/{doc_id}/offline",  # letters, emails and meetings (issue 14)
                 f"/staff/documents/{doc_id}/co-units",  # co-responsible units (issue 14)
                 f"/staff/documents/{doc_id}/invitations",  # prior assessment (issue 14)
                 f"/staff/documents/{doc_id}/invitations/new"]
    from consultation.models import AssessmentInvitation  # the demo's invited assessments, answered or not

    for invitation in db.session.scalars(db.select(AssessmentInvitation).order_by(AssessmentInvitation.id)):
        urls.append(f"/staff/documents/{invitation.document_id}/invitations/{invitation.id}")
    if username == "admin":
        urls += ["/admin/", "/admin/calendar", "/admin/procedures/normative_document",
                 "/admin/procedures/major_decision"]
    checked = []
    for url in urls:
        response = page.goto(url)
        if response.status in (403, 404):  # not this role's page
            continue
        assert response.ok, (url, response.status)
        check_page(page, axe)
        checked.append(url)
    assert len(checked) >= 4, checked


def test_the_comment_form_is_filled_and_sent_with_the_keyboard_alone(page: Page, demo):
    consultation = consultations.consultation_of(document_titled(OPEN_TITLE))
    page.goto(f"/consultations/{consultation.id}")

    def tab_to(element_id: str, limit: int = 150) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("() => document.activeElement && document.activeElement.id") == element_id:
                return
        raise AssertionError(f"#{element_id} is not reachable with the Tab key")

    # The first Tab reaches the skip link, which takes the keyboard past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == zh("Skip to content")
    tab_to("article_id")
    page.keyboard.press("ArrowDown")  # a choice in the list: the first part of the draft
    chosen = page.evaluate("() => document.activeElement.options[document.activeElement.selectedIndex].text")
    assert chosen and chosen != page.evaluate("() => document.activeElement.options[0].text")

    # Then each field in order, and nothing hidden (the trap for bots) on the way.
    order = []
    for text in ("建议在充电设施附近配备灭火器材。", "陈一", "华城市某小区业主委员会", "13900001111",
                 "chen.yi@example.net"):
        page.keyboard.press("Tab")
        order.append(page.evaluate("() => document.activeElement.id"))
        page.keyboard.type(text)
    page.keyboard.press("Tab")
    order.append(page.evaluate("() => document.activeElement.id"))
    page.keyboard.press("Space")  # tick: show the masked name
    page.keyboard.press("Tab")
    order.append(page.evaluate("() => document.activeElement.id"))
    assert order == ["body", "name", "organisation", "phone", "email", "show_masked_name", "submit"]
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Thank you, your comment was received"))
    receipt = page.locator("#receipt-number").inner_text().strip()
    db.session.rollback()
    comment = db.session.scalars(db.select(Comment).where(Comment.body == "建议在充电设施附近配备灭火器材。")).one()
    assert re.sub(r"\W", "", receipt) == re.sub(r"\W", "", comment.receipt_number)
    assert (comment.name, comment.organisation, comment.phone, comment.email, comment.show_masked_name) == (
        "陈一", "华城市某小区业主委员会", "13900001111", "chen.yi@example.net", True)
    assert comment.article is not None


def test_signing_in_works_with_the_keyboard_alone(page: Page, demo):
    page.goto("/auth/login")
    page.get_by_label(zh("Username")).focus()
    page.keyboard.type("openness")
    page.keyboard.press("Tab")
    page.keyboard.type(demo["password"])
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=zh("Sign out"))).to_be_attached()
