"""The public figures page in the browser: filters used with the keyboard alone, axe-core in both languages, a
360-px phone, print, and the CSV download."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from consultation.services import statistics

from .helpers import check_page, sign_in


def test_a_reader_filters_the_figures_with_the_keyboard_and_downloads_them(page: Page, demo, axe, shoot):
    department = statistics.drafting_departments()[1]
    for lang in ("zh_Hans_CN", "en"):
        page.goto(f"/lang/{lang}")
        response = page.goto("/statistics")
        assert response.ok
        check_page(page, axe)
        expect(page.locator("svg.chart-svg")).to_have_count(3)
        expect(page.locator("figure.chart table")).to_have_count(3)
    page.locator("#charts-h").scroll_into_view_if_needed()
    shoot(page, "statistics")

    # Keyboard only: the department list, the grain, then Enter on the button.
    page.locator("#department").focus()
    page.keyboard.press("ArrowDown")  # from "All departments" to the first department
    page.keyboard.press("ArrowDown")
    page.locator("#grain").focus()
    page.keyboard.press("ArrowDown")  # month -> quarter
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/statistics?*department={department.id}*")
    assert "grain=quarter" in page.url
    check_page(page, axe)
    expect(page.locator("#periods-h")).to_contain_text(department.name)
    expect(page.locator("figure.chart").nth(2).locator("tbody tr")).to_have_count(4)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the figures (CSV)").click()
    data = open(download.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf") and department.name in data.decode("utf-8-sig")

    # Printed on A4 (about 680 CSS pixels between the margins), by month: nothing wider than the paper.
    page.goto(page.url.replace("grain=quarter", "grain=month"))
    page.set_viewport_size({"width": 680, "height": 960})
    page.emulate_media(media="print")
    check_page(page, axe)


def test_the_openness_office_reads_the_ranking_and_the_documents_due_for_review(page: Page, demo, axe, tmp_path):
    from .test_html_valid import _nu_check

    sign_in(page, "openness")
    page.get_by_role("link", name="月度考核排名").click()
    expect(page.locator("#standings-h")).to_be_visible()
    check_page(page, axe)
    # Keyboard only: a month typed into the month field, then Enter.
    page.locator("#month").focus()
    page.locator("#month").fill("2026-01")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ranking?month=2026-01")
    check_page(page, axe)
    files = [tmp_path / "ranking.html"]
    files[0].write_text(page.content(), encoding="utf-8")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载通报（Word）").click()
    assert open(download.value.path(), "rb").read(2) == b"PK"  # a .docx is a zip file

    page.goto("/staff/")
    page.get_by_role("link", name="待清理文件").click()
    check_page(page, axe)
    files.append(tmp_path / "due.html")
    files[1].write_text(page.content(), encoding="utf-8")
    assert not _nu_check(files)
