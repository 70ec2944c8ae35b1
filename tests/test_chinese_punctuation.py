"""Chinese text uses full-width punctuation: no ASCII brackets, commas or semicolons inside a Chinese sentence."""
from __future__ import annotations

import re

from . import factories

# An ASCII mark between two Chinese characters (or a Chinese character and a digit): a sentence mixing the two.
MIXED = re.compile(r"[\u4e00-\u9fff][ ]?[(),;:][ ]?[\u4e00-\u9fff0-9]|[\u4e00-\u9fff0-9][ ]?[(),;:][ ]?[\u4e00-\u9fff]")


def _visible_text(html: str) -> str:
    main = html[html.find("<main"):html.find("</main>")]
    main = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", main, flags=re.S)
    return re.sub(r"<[^>]+>", "", main)


def test_the_procedure_pages_time_limits_read_in_full_width_punctuation(as_user):
    admin = as_user("admin")
    for procedure in ("normative_document", "major_decision"):
        text = _visible_text(admin.get(f"/admin/procedures/{procedure}").get_data(as_text=True))
        limits = text[text.find("时限"):]
        assert "公布期限：不超过20个工作日（待公布；" in limits, limits[:600]
        assert not MIXED.search(limits), MIXED.search(limits)
    admin.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    english = _visible_text(admin.get("/admin/procedures/normative_document").get_data(as_text=True))
    assert "Publication time limit: at most 20 working days (Awaiting publication; " in english


def test_the_feedback_pages_tamper_evidence_line_reads_in_full_width_punctuation(city, browser):
    doc = factories.published(city)
    html = browser.get(f"/feedback/{doc.id}").get_data(as_text=True)
    section = html[html.find('id="audit-checkpoint"'):]
    section = _visible_text("<main>" + section[:section.find("</section>")] + "</main>")
    assert "，签名" in section and "（Ed25519，" in section and "）。" in section, section
    assert not MIXED.search(section), MIXED.search(section)


def test_a_time_limit_on_the_document_page_reads_in_full_width_punctuation(city, as_user):
    doc = factories.in_joint_review(city)
    text = _visible_text(as_user("justice").get(f"/staff/documents/{doc.id}").get_data(as_text=True))
    assert "合法性审核期限：" in text, text[:2000]
    assert "合法性审核期限:" not in text


def test_a_refused_step_lists_its_reasons_as_chinese_sentences(city, as_user):
    """Two conditions fail: the reasons follow each other as Chinese sentences, with no ASCII space between."""
    doc = factories.in_handling(city)
    drafter = as_user("drafter")
    r = drafter.post(f"/staff/documents/{doc.id}/steps/submit_for_review", {"note": ""},
                     form_page=f"/staff/documents/{doc.id}")
    page = drafter.get(f"/staff/documents/{doc.id}").get_data(as_text=True) if r.status_code == 302 else \
        r.get_data(as_text=True)
    flashes = re.findall(r'class="flash[^"]*error[^"]*"[^>]*>(.*?)</', page, flags=re.S)
    assert flashes, page[page.find("<main"):][:1500]
    message = flashes[0].strip()
    assert "。" in message and "。 " not in message, message


def test_no_page_mixes_ascii_punctuation_into_chinese(city, as_user, browser):
    """A crawl of the public and staff pages, as each role, of documents published, in joint review and in
    handling, following the links into each document's pages: no ASCII bracket, comma, colon or semicolon
    between Chinese words."""
    docs = [factories.published(city), factories.in_joint_review(city, title="华城市审查测试办法"),
            factories.in_handling(city, title="华城市处理测试办法")]
    found = set()
    users = {u: as_user(u) for u in ("drafter", "head", "govoffice", "justice", "openness", "admin")}
    seen = set()
    for user, b in [*users.items(), ("public", browser)]:
        queue = ["/", "/staff/", "/admin/", "/library", "/statistics", "/sitemap", "/receipt", "/search?q=办法"] + \
                [f"/staff/documents/{d.id}" for d in docs] + [f"/feedback/{docs[0].id}", f"/library/{docs[0].id}"] + \
                [f"/staff/documents/{docs[2].id}/{x}" for x in ("offline", "offline/new", "meetings/new", "invitations",
                 "invitations/new", "co-units", "comments", "moderation", "campaigns", "revise", "waiver")] + \
                [f"/staff/documents/{docs[1].id}/signoff", f"/staff/documents/{docs[1].id}/co-units", "/auth/sessions",
                 "/statistics?year=2026", "/staff/assessment/ranking", "/staff/error-reports", "/subscribe", "/error-report"]
        count = 0
        while queue and count < 80:
            url = queue.pop(0)
            if (user, url) in seen:
                continue
            seen.add((user, url))
            r = b.get(url)
            count += 1
            if r.status_code != 200 or "text/html" not in r.content_type:
                continue
            html = r.get_data(as_text=True)
            text = _visible_text(html)
            for m in MIXED.finditer(text):
                found.add((url.split("?")[0], text[max(0, m.start() - 25):m.end() + 25].replace("\n", " ")))
            for link in re.findall(r'href="(/[^"#]*)"', html):
                if link.startswith(("/staff/documents", "/admin", "/feedback", "/consultations", "/library/")) \
                        and not link.endswith((".pdf", ".csv", ".docx")) and "/lang/" not in link and "logout" not in link:
                    queue.append(link.replace("&amp;", "&"))
    assert not found, sorted(found)
