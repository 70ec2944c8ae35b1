"""The government-site features in Chromium: the elder-friendly reading mode (switched without JavaScript, kept
across pages, every public page accessible, on a 360-px phone too, and valid HTML in that mode), the new pages
(site map, error report, the openness office's queue), and printing the consultation page, the feedback and
the library record to A4 (read back with pdftotext)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser as PlaywrightBrowser
from playwright.sync_api import Page, expect

from consultation.extensions import db
from consultation.services import consultations, error_reports

from ..conftest import Browser
from .helpers import _catalogue, check_page, document_titled, sign_in, zh
from .test_html_valid import _nu_check

OPEN_TITLE = "华城市住宅小区电动自行车停放充电管理规定"
CLOSED_TITLE = "华城市小微企业首次轻微违法行为免予处罚清单（试行）"
PUBLISHED_TITLE = "华城市城市道路临时占用管理办法"


def ui(msgid: str) -> str:
    """The interface's Chinese for a message id of these features, as the catalogue has it (the English id
    until it is translated)."""
    return _catalogue().gettext(msgid)


def _public_urls() -> list[str]:
    open_doc, closed_doc, published = (document_titled(t) for t in (OPEN_TITLE, CLOSED_TITLE, PUBLISHED_TITLE))
    open_c, closed_c = consultations.consultation_of(open_doc), consultations.consultation_of(closed_doc)
    return ["/", f"/consultations/{open_c.id}", f"/consultations/{closed_c.id}", "/receipt",
            f"/feedback/{published.id}", "/library", f"/library/{published.id}", "/search", "/search?q=停车",
            "/subscribe", "/sitemap", f"/error-report?page=/library/{published.id}", "/auth/login"]


def test_the_elder_friendly_mode_is_switched_without_javascript_and_kept_across_pages(
        browser: PlaywrightBrowser, base_url: str, demo):
    context = browser.new_context(base_url=base_url, java_script_enabled=False, locale="zh-CN",
                                  viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.goto("/library")
    html = page.locator("html")
    expect(html).not_to_have_class("elder")
    standard_size = page.evaluate("() => getComputedStyle(document.body).fontSize")
    page.get_by_role("link", name=ui("Elder-friendly mode")).click()
    expect(page).to_have_url(f"{base_url}/library")  # back where the reader was
    expect(html).to_have_class("elder")
    assert standard_size == "16px"
    expect(page.locator("body")).to_have_css("font-size", "20px")  # waits for the style sheet on a busy machine
    page.get_by_role("link", name=ui("Site map")).click()  # another page: the choice is kept
    expect(html).to_have_class("elder")
    page.get_by_role("link", name=ui("Standard mode")).click()
    expect(page).to_have_url(f"{base_url}/sitemap")
    expect(html).not_to_have_class("elder")
    context.close()


def test_every_public_page_is_accessible_in_the_elder_friendly_mode(page: Page, demo, axe):
    urls = _public_urls()
    page.goto("/")
    page.get_by_role("link", name=ui("Elder-friendly mode")).click()
    for lang in ("zh_Hans_CN", "en"):
        page.goto(f"/lang/{lang}")
        for url in urls:
            response = page.goto(url)
            assert response.ok, (url, response.status)
            expect(page.locator("html")).to_have_class("elder")
            check_page(page, axe)  # axe-core, and nothing wider than the window (360 px on the phone)
    # The error report form's refusal, in the same mode (in Chinese again).
    page.goto("/lang/zh_Hans_CN")
    page.goto(urls[-2])
    page.get_by_role("button", name=ui("Send the report")).click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    check_page(page, axe)


def test_the_new_pages_and_the_elder_friendly_mode_pass_the_nu_html_checker(app: Flask, demo, tmp_path):
    error_reports.receive("/library", "第二行日期有误。", contact="13900001234")
    db.session.commit()
    files = []
    for elder in (False, True):
        for lang in ("zh_Hans_CN", "en"):
            client = Browser(app.test_client())
            client.get(f"/lang/{lang}")
            if elder:
                client.get("/reading-mode/elder")
            pages = {url: client.get(url) for url in _public_urls()}
            pages["report-errors"] = client.post("/error-report", {"page": "/library", "body": ""},
                                                 form_page="/error-report?page=/library")
            staff = Browser(app.test_client()).login("openness")
            staff.get(f"/lang/{lang}")
            if elder:
                staff.get("/reading-mode/elder")
            pages["error-reports"] = staff.get("/staff/error-reports")
            pages["error-reports-answered"] = staff.get("/staff/error-reports?show=answered")
            for n, (url, response) in enumerate(pages.items()):
                assert response.status_code in (200, 400), (url, response.status_code)
                html = response.get_data(as_text=True)
                assert ('class="elder"' in html) == elder, url
                path = tmp_path / f"{n:02d}-{'elder' if elder else 'standard'}.{lang}.html"
                path.write_text(html, encoding="utf-8")
                files.append(path)
            db.session.rollback()
    errors = _nu_check(files)
    assert not errors, "\n".join(
        f"{Path(e.get('url', '')).name}:{e.get('lastLine')}: {e.get('message')} [{e.get('extract', '').strip()[:80]}]"
        for e in errors)


def test_the_openness_office_answers_an_error_report_sent_from_a_page(page: Page, demo, axe):
    published = document_titled(PUBLISHED_TITLE)
    page.goto(f"/library/{published.id}")
    page.get_by_role("link", name=ui("Report an error on this page")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ui("Report an error on this page"))
    check_page(page, axe)
    page.get_by_label(ui("What is wrong on this page?")).fill("施行日期与正文不一致。")
    page.get_by_label(ui("Telephone or email, if you want an answer (optional)")).fill("reader@example.net")
    page.get_by_role("button", name=ui("Send the report")).click()
    expect(page).to_have_url(re.compile(rf"/library/{published.id}$"))
    expect(page.locator(".flash-success")).to_be_visible()
    sign_in(page, "openness")
    page.get_by_role("link", name=ui("Error reports"), exact=True).click()
    row = page.locator("tbody tr").filter(has_text="施行日期与正文不一致。")
    expect(row).to_contain_text("reader@example.net")
    expect(row.get_by_role("link", name=f"/library/{published.id}")).to_be_visible()
    check_page(page, axe)
    row.get_by_label(ui("How it was dealt with")).fill("已核对并更正施行日期。")
    row.get_by_role("button", name=ui("Record the answer")).click()
    expect(page.locator(".flash-success")).to_be_visible()
    page.get_by_role("link", name=ui("Answered")).click()
    expect(page.locator("tbody")).to_contain_text("已核对并更正施行日期。")
    check_page(page, axe)


def _printed(browser: PlaywrightBrowser, base_url: str, url: str, tmp_path: Path, *, elder: bool = False) -> list[str]:
    """Print the page to an A4 PDF in Chromium; return each sheet's text (pdftotext, layout kept)."""
    context = browser.new_context(base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    if elder:
        page.goto("/reading-mode/elder")
    page.goto(url)
    pdf = tmp_path / (re.sub(r"\W+", "-", url).strip("-") + ".pdf")
    page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
    context.close()
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext (Debian's poppler-utils) is missing"
    text = subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [sheet for sheet in text.split("\f") if sheet.strip()]


@pytest.mark.parametrize("elder", [False, True])
def test_the_consultation_feedback_and_library_record_print_cleanly_on_a4(
        browser: PlaywrightBrowser, base_url: str, demo, tmp_path, elder):
    open_c = consultations.consultation_of(document_titled(OPEN_TITLE))
    published = document_titled(PUBLISHED_TITLE)
    chapters = {f"/consultations/{open_c.id}": ["第一章 总则", "第二章 业主大会", "第三章 物业服务", "第四章 附则"],
                f"/feedback/{published.id}": ["第一章 总则", "第二章 附则"],
                f"/library/{published.id}": ["第一章 总则", "第二章 附则"]}
    for url, headings in chapters.items():
        sheets = _printed(browser, base_url, url, tmp_path, elder=elder)
        whole = "".join(sheets)
        # No navigation, no footer links, no forms; the content is there.
        for absent in (zh("Look up a receipt"), zh("Staff sign-in"), ui("Site map"), zh("Submit comment"),
                       ui("Report an error on this page")):
            assert absent not in whole, (url, absent)
        assert PUBLISHED_TITLE in whole or OPEN_TITLE in whole
        # Every sheet names the page's address, the time and its number in the footer.
        for number, sheet in enumerate(sheets, start=1):
            assert f"{base_url}{url}" in sheet, (url, number)
            assert re.search(rf"\d{{4}}-\d{{2}}-\d{{2}} · {number} / {len(sheets)}", sheet), (url, sheet[-200:])
        # Each chapter after the first starts a new sheet.
        flat = [re.sub(r"\s+", "", sheet) for sheet in sheets]
        where = [next(n for n, sheet in enumerate(flat) if re.sub(r"\s+", "", heading) in sheet) for heading in headings]
        assert where == sorted(where) and len(set(where)) == len(where), (url, where)
