"""The adoption feedback by stage in a real browser: public before the executive meeting with its stage said; a
government-office reviewer records non-adoption with its date and reason; a department head withdraws another
document; a member of the public looks up a receipt and opens the feedback with the outcome. Both languages,
axe-core on every page, and the Nu HTML checker over the new states."""
from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import Document

from .. import factories
from ..conftest import Browser
from .helpers import check_page, city, sign_in, sign_out, zh
from .test_html_valid import _nu_check

REJECTED = "华城市测试反馈公开管理办法"
WITHDRAWN = "华城市测试撤回文件管理办法"
REASON = "上位法正在修订，暂缓出台。"
DECIDED = factories.date.today()  # after the consultation closed, never in the future
WITHDRAWAL = "情况发生变化，起草单位申请撤回。"


def _in_deliberation(title: str) -> tuple[int, str]:
    doc = factories.in_deliberation(city(), title=title)
    receipt = factories.comments(doc)[0].receipt_number
    db.session.commit()
    return doc.id, receipt


def consultation_of(doc_id: int) -> str:
    from consultation.services import consultations

    return f"/consultations/{consultations.consultation_of(db.session.get(Document, doc_id)).id}"


def _stage(doc_id: int) -> str:
    db.session.rollback()
    return db.session.get(Document, doc_id).stage


def _look_up(page: Page, receipt: str, english: bool = False) -> None:
    words = (lambda msgid: msgid) if english else zh
    page.goto("/receipt")
    page.get_by_label(words("Receipt number")).fill(receipt)
    page.get_by_role("button", name=words("Look up")).click()


def _public_reads_the_outcome(page: Page, axe, doc_id: int, receipt: str, titles: tuple[str, str],
                              reason: str) -> None:
    """A member of the public looks up the receipt and opens the feedback, in Chinese, then in English."""
    _look_up(page, receipt)
    expect(page.locator("#receipt-outcome")).to_contain_text(titles[0])
    expect(page.locator("main")).to_contain_text(reason)
    check_page(page, axe)
    page.get_by_role("link", name=zh("Read the full feedback")).click()
    expect(page.get_by_role("heading", name=titles[0])).to_be_visible()
    expect(page.locator("#feedback-stage")).to_contain_text(reason)
    check_page(page, axe)
    page.goto("/lang/en")
    _look_up(page, receipt, english=True)
    expect(page.locator("#receipt-outcome")).to_contain_text(titles[1])
    check_page(page, axe)
    page.goto(f"/feedback/{doc_id}")
    expect(page.get_by_role("heading", name=titles[1])).to_be_visible()
    check_page(page, axe)


def _public_finds_the_outcome_from_the_home_page_and_the_search(page: Page, axe, doc_id: int, title: str,
                                                                 outcome: tuple[str, str], reason: str) -> None:
    """The home page lists the document with its outcome (not as awaiting a final text); the search finds its
    consultation, whose page shows the outcome and links the feedback. In Chinese, then in English."""
    for lang, words, label in (("zh_Hans_CN", zh, outcome[0]), ("en", lambda msgid: msgid, outcome[1])):
        page.goto(f"/lang/{lang}")
        page.goto("/")
        card = page.locator("li.card", has=page.get_by_role("link", name=title))
        expect(card).to_contain_text(label)
        expect(card).to_contain_text(reason)
        expect(page.locator("main")).not_to_contain_text(zh("Adoption feedback, published before the final text"))
        check_page(page, axe)
        page.goto("/search")
        page.get_by_label(words("Search for")).fill(title)
        page.get_by_label(words("Search for")).press("Enter")
        expect(page.locator(".status-outcome")).to_have_text(label)
        check_page(page, axe)
        page.locator("ol.cards").get_by_role("link").first.click()
        expect(page.locator("#document-outcome")).to_contain_text(reason)
        expect(page.get_by_role("heading", name=label)).to_be_visible()
        check_page(page, axe)
        page.locator("#document-outcome").get_by_role("link", name=words(
            "How the comments were handled (adoption feedback)")).click()
        expect(page).to_have_url(re.compile(rf"/feedback/{doc_id}$"))
    page.goto("/lang/zh_Hans_CN")


def test_non_adoption_is_recorded_and_the_public_reads_the_outcome_with_its_receipt(page: Page, demo, axe):
    doc_id, receipt = _in_deliberation(REJECTED)
    # Before the meeting decides, the feedback is public and says where the document stands.
    page.goto(f"/feedback/{doc_id}")
    expect(page.locator("#feedback-stage")).to_contain_text(zh(
        "The review draft has been submitted to the executive meeting for deliberation; the adoption of the "
        "public's comments is as follows."))
    check_page(page, axe)

    sign_in(page, "govoffice")
    page.goto(f"/staff/documents/{doc_id}/decision")
    form = page.locator("form[aria-labelledby=reject-h]")
    form.get_by_label(zh("Meeting date")).fill(DECIDED.isoformat())
    form.get_by_label(zh("Reason")).fill(REASON)
    form.get_by_role("button", name=zh("Record non-adoption")).click()
    expect(page).to_have_url(re.compile(rf"/staff/documents/{doc_id}$"))
    assert _stage(doc_id) == "not_adopted"
    sign_out(page)

    _public_reads_the_outcome(page, axe, doc_id, receipt, ("审议未通过", "Not adopted"), REASON)
    expect(page.locator("#feedback-stage")).to_contain_text(DECIDED.isoformat())
    page.goto("/lang/zh_Hans_CN")
    _look_up(page, receipt)
    expect(page.locator("#receipt-outcome")).to_contain_text(f"（{DECIDED.year}年{DECIDED.month}月{DECIDED.day}日）")
    expect(page.locator("main")).to_contain_text(zh("Answered; the feedback has been published with the outcome below."))
    _public_finds_the_outcome_from_the_home_page_and_the_search(page, axe, doc_id, REJECTED,
                                                                ("审议未通过", "Not adopted"), REASON)


def test_a_department_head_withdraws_a_document_and_the_public_sees_why(page: Page, demo, axe):
    doc_id, receipt = _in_deliberation(WITHDRAWN)
    sign_in(page, "head")
    page.goto(f"/staff/documents/{doc_id}")
    page.locator("#note-withdraw").fill(WITHDRAWAL)
    page.get_by_role("button", name="撤回", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/staff/documents/{doc_id}$"))
    assert _stage(doc_id) == "withdrawn"
    check_page(page, axe)
    sign_out(page)

    _public_reads_the_outcome(page, axe, doc_id, receipt, ("已撤回", "Withdrawn"), WITHDRAWAL)
    _public_finds_the_outcome_from_the_home_page_and_the_search(page, axe, doc_id, WITHDRAWN,
                                                                ("已撤回", "Withdrawn"), WITHDRAWAL)


def test_the_feedback_in_each_new_state_passes_the_nu_html_checker(app: Flask, demo, tmp_path):
    before_id, before_receipt = _in_deliberation("华城市测试审议前反馈办法")
    ended_id, ended_receipt = _in_deliberation("华城市测试审议未通过办法")
    people = city()
    factories.publication.record_rejection(db.session.get(Document, ended_id), people["govoffice"],
                                           decision_date=DECIDED, note=REASON)
    db.session.commit()
    files = []
    for lang in ("zh_Hans_CN", "en"):
        client = Browser(app.test_client())
        client.get(f"/lang/{lang}")
        pages = {
            "feedback-before-meeting": client.get(f"/feedback/{before_id}"),
            "feedback-not-adopted": client.get(f"/feedback/{ended_id}"),
            "receipt-before-meeting": client.post("/receipt", {"receipt": before_receipt}),
            "receipt-not-adopted": client.post("/receipt", {"receipt": ended_receipt}),
            "consultation-before-meeting": client.get(consultation_of(before_id)),
            "consultation-not-adopted": client.get(consultation_of(ended_id)),
            "home-with-an-outcome": client.get("/"),
            "search-with-an-outcome": client.get("/search?q=审议未通过办法"),
        }
        for name, response in pages.items():
            assert response.status_code == 200, (name, response.status_code)
            path = tmp_path / f"{name}.{lang}.html"
            path.write_text(response.get_data(as_text=True), encoding="utf-8")
            files.append(path)
    errors = _nu_check(files)
    assert not errors, "\n".join(f"{e.get('url', '')}:{e.get('lastLine')}: {e.get('message')}" for e in errors)
