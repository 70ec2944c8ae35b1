"""The drafter logs what came off the web form, in a real browser and with the keyboard: a letter with its scan,
then a symposium with two opinions. Every staff page of it passes axe-core in both languages and the Nu HTML
checker; each step is checked in the database."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import Comment, OfflineAttachment, OfflineComment, OfflineMeeting, utcnow
from consultation.services import consultations

from ..conftest import Browser
from .helpers import check_page, document_titled, sign_in, zh
from .test_html_valid import _nu_check

OPEN_TITLE = "华城市住宅小区电动自行车停放充电管理规定"  # the demo's open consultation, of the drafter's department
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _today() -> str:
    return utcnow().astimezone(consultations.SHANGHAI).date().isoformat()


def _press(page: Page, selector) -> None:
    """Reach a link or a button and use it with the keyboard."""
    selector.focus()
    page.keyboard.press("Enter")


def _type(page: Page, element_id: str, text: str) -> None:
    page.locator(f"#{element_id}").focus()
    page.keyboard.type(text)


def _tab_order(page: Page, start: str, count: int) -> list[str]:
    """The next ``count`` controls the Tab key reaches from ``start`` (a date field takes a Tab per part)."""
    page.locator(f"#{start}").focus()
    order = [start]
    for _ in range(count * 4):
        page.keyboard.press("Tab")
        current = page.evaluate("() => document.activeElement.id || document.activeElement.name")
        if current != order[-1]:
            order.append(current)
        if len(order) > count:
            break
    return order


def test_a_drafter_logs_a_letter_and_a_meeting_with_the_keyboard(page: Page, demo, axe, tmp_path: Path):
    doc = document_titled(OPEN_TITLE)
    doc_id = doc.id
    sign_in(page, "drafter")
    page.goto(f"/staff/documents/{doc_id}")
    _press(page, page.get_by_role("link", name=zh("Letters, emails and meetings")))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Letters, emails and meetings"))
    check_page(page, axe)

    # A letter with its scan.
    _press(page, page.get_by_role("link", name=zh("Log a letter or email")))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Log a letter or email"))
    check_page(page, axe)
    # The form's controls follow one another in the Tab order.
    assert _tab_order(page, "received_on", 3) == ["received_on", "postmarked_on", "received_time", "article_id"]
    page.locator("#received_on").fill(_today())
    page.locator("#postmarked_on").fill(_today())
    page.locator("#article_id").focus()
    page.keyboard.press("ArrowDown")
    for field, text in (("body", "来信建议：充电桩应当配备自动断电装置。"), ("name", "纸质来信人"),
                        ("organisation", "某小区业主委员会"), ("phone", "13600002222"),
                        ("postal_address", "华城市某小区一号楼")):
        _type(page, field, text)
    scan = tmp_path / "来信扫描件.pdf"
    scan.write_bytes(PDF)
    page.locator("#files").set_input_files(str(scan))
    _press(page, page.get_by_role("button", name=zh("Log the comment")))
    expect(page.locator("#receipt-number")).to_be_visible()
    check_page(page, axe)
    db.session.rollback()
    letter = db.session.scalars(db.select(Comment).where(Comment.body == "来信建议：充电桩应当配备自动断电装置。")).one()
    assert letter.channel == "letter" and letter.article_id is not None and letter.name == "纸质来信人"
    assert letter.receipt_number[:4] in page.locator("#receipt-number").inner_text()
    assert db.session.scalars(db.select(OfflineAttachment).where(OfflineAttachment.comment_id == letter.id)).one()
    assert page.get_by_role("link", name="来信扫描件.pdf").is_visible()
    # Full-width punctuation in Chinese (review finding 7).
    assert page.locator("#receipt-number").inner_text().startswith("回执编号：")
    assert "（application/pdf，" in page.locator("ul.attachments").inner_text()

    # The sender looks the receipt up: the date received and the postmark, not the time it was logged (finding 5).
    page.goto("/receipt")
    page.locator("#receipt").fill(letter.receipt_number)
    _press(page, page.get_by_role("button", name=zh("Look up")))
    expect(page.locator("#receipt-received")).to_have_text(_today())
    expect(page.locator("#receipt-postmark")).to_have_text(_today())
    check_page(page, axe)

    # A refusal reads in Chinese beside its field, and the page stays accessible.
    page.goto(f"/staff/documents/{doc_id}/offline/new")
    # The time field is styled like the date field beside it (finding 15).
    style = "e => [getComputedStyle(e).borderTopColor, getComputedStyle(e).width]"
    assert page.locator("#received_time").evaluate(style) == page.locator("#received_on").evaluate(style)
    page.locator("#received_on").fill((utcnow() + timedelta(days=3)).astimezone(consultations.SHANGHAI).date().isoformat())
    _type(page, "body", "未来日期的来信。")
    _press(page, page.get_by_role("button", name=zh("Log the comment")))
    expect(page.locator("#received_on-error-1")).to_have_text(zh("The date received cannot be in the future."))
    check_page(page, axe)

    # A symposium, then two opinions raised there.
    page.goto(f"/staff/documents/{doc_id}/offline")
    _press(page, page.get_by_role("link", name=zh("Record a meeting")))
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Record a meeting"))
    check_page(page, axe)
    page.locator("#held_on").fill(_today())
    for field, text in (("place", "小区会所"), ("host", "市住建局"), ("attendees", "业主代表甲\n物业公司代表乙"),
                        ("minutes", "会议纪要：与会代表建议分时段充电。")):
        _type(page, field, text)
    _press(page, page.get_by_role("button", name=zh("Record the meeting")))
    expect(page.locator("h2#opinions")).to_contain_text(zh("Opinions raised"))
    expect(page.locator(".minutes")).to_have_text("会议纪要：与会代表建议分时段充电。")
    check_page(page, axe)
    for text in ("座谈会意见：建议分时段充电。", "座谈会意见：建议增加监控。"):
        page.locator("#article_id").focus()
        page.keyboard.press("ArrowDown")
        _type(page, "body", text)
        _press(page, page.get_by_role("button", name=zh("Add the opinion")))
        expect(page.locator("table").get_by_text(text)).to_be_visible()
    check_page(page, axe)
    db.session.rollback()
    meeting = db.session.scalars(db.select(OfflineMeeting).where(OfflineMeeting.document_id == doc_id)).one()
    opinions = db.session.scalars(db.select(Comment).join(OfflineComment, OfflineComment.comment_id == Comment.id)
                                  .where(OfflineComment.meeting_id == meeting.id)).all()
    assert sorted(c.body for c in opinions) == ["座谈会意见：建议分时段充电。", "座谈会意见：建议增加监控。"]
    assert {c.channel for c in opinions} == {"meeting"}
    assert meeting.minutes == "会议纪要：与会代表建议分时段充电。"

    # Every page of it in English too.
    page.goto("/lang/en")
    for url in (f"/staff/documents/{doc_id}/offline", f"/staff/documents/{doc_id}/offline/new",
                f"/staff/documents/{doc_id}/offline/comments/{letter.id}", f"/staff/documents/{doc_id}/meetings/new",
                f"/staff/documents/{doc_id}/meetings/{meeting.id}", f"/staff/documents/{doc_id}/comments?channel=letter"):
        assert page.goto(url).ok, url
        check_page(page, axe)
    page.goto("/lang/zh_Hans_CN")


def test_the_offline_staff_pages_pass_the_nu_html_checker(app: Flask, demo, tmp_path: Path):
    doc = document_titled(OPEN_TITLE)
    files = []
    for lang in ("zh_Hans_CN", "en"):
        client = Browser(app.test_client()).login("drafter")
        client.get(f"/lang/{lang}")
        base = f"/staff/documents/{doc.id}"
        pages = {"index": client.get(f"{base}/offline"), "form": client.get(f"{base}/offline/new"),
                 "form-errors": client.post(f"{base}/offline/new", {"channel": "email", "received_on": "2000-01-01",
                                                                    "body": "意见。", "article_id": "0"})}
        sent = client.post(f"{base}/offline/new", {"channel": "letter", "received_on": _today(), "article_id": "0",
                                                   "body": f"Nu检查来信（{lang}）。", "files": []})
        assert sent.status_code == 302, sent.get_data(as_text=True)
        pages["comment"] = client.get(sent.headers["Location"])
        pages["meeting-form"] = client.get(f"{base}/meetings/new")
        made = client.post(f"{base}/meetings/new", {"kind": "argument", "held_on": _today(), "place": "会议室",
                                                    "host": "市住建局", "attendees": "专家甲",
                                                    "minutes": "纪要第一段。\n纪要第二段。"})
        assert made.status_code == 302
        pages["meeting"] = client.get(made.headers["Location"])
        pages["comments-by-channel"] = client.get(f"{base}/comments?channel=letter")
        for name, response in pages.items():
            assert response.status_code in (200, 400), (name, response.status_code)
            path = tmp_path / f"offline-{name}.{lang}.html"
            path.write_text(response.get_data(as_text=True), encoding="utf-8")
            files.append(path)
        db.session.rollback()
    errors = _nu_check(files)
    assert not errors, "\n".join(
        f"{Path(e.get('url', '')).name}:{e.get('lastLine')}: {e.get('message')} [{e.get('extract', '').strip()[:80]}]"
        for e in errors)
