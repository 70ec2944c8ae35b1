"""The public: find an open consultation, comment on an article, keep and look up the receipt; be refused
after the closing time; read the published feedback and download its PDF. At desktop and phone size."""
from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.models import Comment, utcnow
from consultation.services import consultations

from .conftest import assert_accessible, pdf_page_png, wait_for_jobs
from .helpers import document_titled, zh

OPEN_TITLE = "华城市住宅小区电动自行车停放充电管理规定"
PUBLISHED_TITLE = "华城市城市道路临时占用管理办法"


def test_a_member_of_the_public_comments_on_an_article_and_looks_up_the_receipt(page: Page, demo, axe, shoot):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Drafts open for public comment"))
    assert_accessible(axe, page)
    shoot(page, "home")

    page.get_by_role("link", name=re.compile(OPEN_TITLE)).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(OPEN_TITLE)
    article = page.locator("article.article").filter(has_text="第六条")
    expect(article).to_contain_text("物业服务人应当按照物业服务合同的约定提供服务")
    article.get_by_role("link", name=zh("Comment on %(label)s", label="第六条")).click()
    expect(page.get_by_label(zh("Which part does your comment concern?"))).to_have_value(re.compile(r"\d+"))
    assert "第六条" in page.get_by_label(zh("Which part does your comment concern?")).evaluate(
        "s => s.options[s.selectedIndex].text")
    assert_accessible(axe, page)
    shoot(page, "consultation")

    # An empty comment is refused with a message next to the field; what was typed elsewhere stays.
    page.get_by_label(zh("Name (optional)")).fill("张小祥")
    page.get_by_role("button", name=zh("Submit comment")).click()
    expect(page.get_by_text(zh("Please write your comment."))).to_be_visible()
    expect(page.get_by_label(zh("Name (optional)"))).to_have_value("张小祥")
    assert_accessible(axe, page)

    body = "建议在第六条中明确物业服务人公示收费标准的期限和方式。"
    page.get_by_role("textbox", name=zh("Your comment")).fill(body)
    page.get_by_label(zh("Telephone (optional)")).fill("13800001234")
    # The optional telephone field is as wide as the other fields of the form.
    widths = {page.get_by_label(zh(label)).bounding_box()["width"]
              for label in ("Name (optional)", "Telephone (optional)", "Email (optional)")}
    assert len(widths) == 1, widths
    page.get_by_role("button", name=zh("Submit comment")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Thank you, your comment was received"))
    receipt = page.locator("#receipt-number").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z-]{12,16}", receipt), receipt

    # The receipt names a comment that is in the database, with the personal data kept apart.
    stored = db.session.scalars(db.select(Comment).where(Comment.body == body)).one()
    assert stored.article.label == "第六条" and stored.phone == "13800001234"

    page.get_by_role("link", name=zh("Look up a receipt")).first.click()
    page.get_by_label(zh("Receipt number")).fill(receipt.lower().replace("-", " "))
    page.get_by_role("button", name=zh("Look up")).click()
    result = page.get_by_role("region", name=zh("Comment %(number)s", number=receipt))
    expect(result).to_contain_text(body)
    expect(result).to_contain_text(zh("Received; the consultation is still open."))
    expect(page.locator("main")).not_to_contain_text("13800001234")
    assert_accessible(axe, page)
    shoot(page, "receipt")


def test_a_comment_sent_after_the_closing_time_is_refused_and_its_text_is_shown_back(page: Page, demo, axe):
    doc = document_titled(OPEN_TITLE)
    consultation = consultations.consultation_of(doc)
    page.goto(f"/consultations/{consultation.id}")
    page.get_by_role("textbox", name=zh("Your comment")).fill("晚到的意见：建议增设电动自行车集中充电设施。")

    # While the page is open, the closing time passes.
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    before = db.session.scalar(db.select(db.func.count(Comment.id)))

    page.get_by_role("button", name=zh("Submit comment")).click()
    expect(page.get_by_role("alert")).to_contain_text(zh("The consultation closed on %(when)s; comments are no longer accepted.", when="")[:6])
    expect(page.get_by_text(zh("The consultation closed on %(when)s; comments are no longer accepted.", when="")[:6])).to_have_count(1)
    expect(page.locator("main")).to_contain_text("晚到的意见：建议增设电动自行车集中充电设施。")
    expect(page.get_by_role("button", name=zh("Submit comment"))).to_have_count(0)
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == before
    assert_accessible(axe, page)


def test_the_public_reads_the_published_feedback_and_downloads_its_pdf(page: Page, demo, axe, shoot, tmp_path,
                                                                       viewport, screenshot_dir):
    wait_for_jobs("feedback_pdf")
    page.goto("/")
    page.get_by_role("link", name=PUBLISHED_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PUBLISHED_TITLE)
    expect(page.locator("main")).to_contain_text("已在第二条增加夜间作业时间限制。")
    expect(page.locator("main")).to_contain_text("李*华")  # masked, as the commenter asked
    expect(page.locator("main")).not_to_contain_text("李明华")
    expect(page.locator("main")).not_to_contain_text("加微信领取免费停车券")  # moderated out
    assert_accessible(axe, page)
    shoot(page, "feedback")

    with page.expect_download() as download:
        page.get_by_role("link", name=zh("Download as PDF")).click()
    pdf = tmp_path / "feedback.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename.endswith(".pdf")
    # Its first page, as a picture beside the screenshots (the README shows it).
    png = pdf_page_png(pdf, screenshot_dir / "feedback-pdf.png" if viewport == "desktop" else tmp_path / "p.png")
    assert png.stat().st_size > 10_000
