"""The comparison table (修改对照表) in a real browser: a drafter compares the consultation draft with the
review draft and then two other versions with the keyboard alone, downloads the Word file; the public reads
the draft against the final text from the feedback page. Every page checked with axe-core (and on a phone
for sideways scrolling), and the Nu HTML checker over both pages in both languages."""
from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from consultation.extensions import db

from ..conftest import Browser
from .helpers import check_page, document_titled, sign_in
from .test_html_valid import _nu_check

PARKING = "华城市中心城区停车收费标准调整方案"  # the demo's major decision: consultation draft and review draft
PUBLISHED = "华城市城市道路临时占用管理办法"  # the demo's published document


def test_a_drafter_compares_two_versions_with_the_keyboard(page: Page, demo, axe, shoot, tmp_path):
    doc = document_titled(PARKING)
    sign_in(page, "drafter")
    page.goto(f"/staff/documents/{doc.id}")
    page.locator(f'a[href="/staff/documents/{doc.id}/comparison"]').click()
    expect(page.locator("table.cmp")).to_be_visible()
    check_page(page, axe)
    # The default: the consultation draft (version 1) against the latest (version 2); the change is marked
    # by <ins>/<del> with words a screen reader reads out.
    expect(page.locator("select#old")).to_have_value("1")
    expect(page.locator("select#new")).to_have_value("2")
    inserted = page.locator("table.cmp ins").first
    expect(inserted).to_contain_text("夜间实行优惠")
    expect(inserted.locator(".vh")).to_have_count(2)
    assert page.locator("table.cmp ins").evaluate("e => getComputedStyle(e).textDecorationLine") == "underline"
    shoot(page, "comparison-staff")
    # The keyboard alone: the later version set to the first, then the form sent with Enter.
    page.locator("select#new").focus()
    page.keyboard.press("ArrowUp")
    expect(page.locator("select#new")).to_have_value("1")
    page.keyboard.press("Tab")  # to "only changed articles"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # to the button that sends the form
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/staff/documents/{doc.id}/comparison\?old=1&new=1&changed=1$"))
    expect(page.locator("table.cmp ins")).to_have_count(0)
    expect(page.locator("table.cmp tbody tr")).to_have_count(0)  # a version against itself: nothing changed
    check_page(page, axe)
    with page.expect_download() as download:
        page.locator(f'a[href^="/staff/documents/{doc.id}/comparison.docx"]').click()
    saved = tmp_path / "comparison.docx"
    download.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"


def test_the_public_reads_the_draft_against_the_final_text(page: Page, demo, axe, shoot):
    doc = document_titled(PUBLISHED)
    page.goto(f"/feedback/{doc.id}")
    page.locator(f'a[href="/feedback/{doc.id}/comparison"]').click()
    expect(page.locator("table.cmp ins").first).to_contain_text("夜间二十二时至次日六时不得施工")
    # Adopted comments are tied to no article in the demo: the column says what kind of change it is.
    expect(page.locator("table.cmp tr.cmp-modified")).to_have_count(1)
    expect(page.locator("body")).not_to_contain_text("李明华")
    check_page(page, axe)
    shoot(page, "comparison-public")


def test_the_comparison_pages_pass_the_nu_html_checker(app: Flask, demo, tmp_path: Path):
    files = []
    staff, public = Browser(app.test_client()).login("drafter"), Browser(app.test_client())
    parking, published = document_titled(PARKING), document_titled(PUBLISHED)
    for lang in ("zh_Hans_CN", "en"):
        for client in (staff, public):
            client.get(f"/lang/{lang}")
        for name, response in (("staff", staff.get(f"/staff/documents/{parking.id}/comparison")),
                               ("public", public.get(f"/feedback/{published.id}/comparison"))):
            assert response.status_code == 200, name
            path = tmp_path / f"comparison-{name}.{lang}.html"
            path.write_text(response.get_data(as_text=True), encoding="utf-8")
            files.append(path)
        db.session.rollback()
    errors = _nu_check(files)
    assert not errors, "\n".join(f"{Path(e.get('url', '')).name}:{e.get('lastLine')}: {e.get('message')}"
                                 for e in errors)


MARKET = "华城市小微企业首次轻微违法行为免予处罚清单（试行）"  # the demo's closed consultation, comments to answer


def test_a_drafter_ties_an_adopted_answer_to_the_article_it_changed(page: Page, demo, axe):
    from consultation.models import Comment
    from consultation.services import drafting

    from .helpers import city

    doc = document_titled(MARKET)
    consulted = doc.current_version
    body = "\n".join(f"{a.label} {a.text}" for a in consulted.articles).replace(
        consulted.articles[1].text, consulted.articles[1].text.rstrip("。") + "，首次是指两年内首次。", 1)
    drafting.revise_draft(doc, city()["drafter2"], body=body, explanation="修改稿。")
    db.session.commit()
    comment = db.session.scalars(db.select(Comment).where(Comment.body == "建议将“首次”界定为两年内首次。")).one()
    sign_in(page, "drafter2")
    page.goto(f"/staff/documents/{doc.id}/comments/{comment.id}")
    revised = doc.current_version.articles[1]
    suggested = page.locator(f"#articles-{revised.id}")
    expect(suggested).to_be_checked()  # the article the comment was about, as it stands in the review draft
    check_page(page, axe)
    page.locator("input[name=decision][value=adopted]").check()
    page.locator("textarea[name=reason]").fill("已采纳，明确为两年内首次。")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.goto(f"/staff/documents/{doc.id}/comparison")
    expect(page.locator(f"#cmp-n{revised.seq}")).to_contain_text("两年内首次")
    expect(page.locator(f"#cmp-n{revised.seq} .cmp-reasons")).to_contain_text("建议将“首次”界定为两年内首次")
    check_page(page, axe)
