"""A government website by the book: the site's identity, the PDFs' footers, the site map."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from flask import render_template
from flask_babel import force_locale, gettext
from pypdf import PdfReader

from consultation import pdf
from consultation.config import DefaultConfig, finalize
from consultation.feedback import AnswerCounts, ArticleGroup, Feedback, PublicComment
from consultation.models import utcnow

IDENTITY = ("SITE_ORGANISER", "SITE_OPERATOR", "SITE_CODE", "SITE_ICP", "SITE_PSB", "SITE_CONTACT")


def zh(msgid: str) -> str:
    """The Simplified Chinese interface's text for a message id (主办单位： for "Organiser:")."""
    with force_locale("zh_Hans_CN"):
        return gettext(msgid)


def test_every_page_names_the_organiser_operator_codes_filings_and_contact(app, browser, as_user):
    with app.test_request_context():
        organiser, operator, code = zh("Organiser:"), zh("Operator:"), zh("Website identification code:")
    for page in ("/", "/library", "/search", "/receipt", "/sitemap", "/auth/login", "/no-such-page"):
        html = browser.get(page).get_data(as_text=True)
        assert f"{organiser} 华城市人民政府办公室" in html, page
        assert f"{operator} 华城市政务公开办公室" in html
        assert f"{code} 9901000001" in html
        assert '<a href="https://beian.miit.gov.cn/" rel="noopener">华ICP备20260001号-1</a>' in html
        assert ('<a href="https://beian.mps.gov.cn/#/query/webSearch?code=99010002000001" rel="noopener">'
                "华公网安备99010002000001号</a>") in html
        assert "联系电话：0571-87000000" in html
        assert "conac" not in html  # no 党政机关 identifier: not registered in the demo configuration
    staff = as_user("drafter").get("/staff/").get_data(as_text=True)
    assert f"{organiser} 华城市人民政府办公室" in staff


def test_the_identity_follows_the_configuration_and_an_empty_setting_hides_its_line(app, browser, monkeypatch):
    monkeypatch.setitem(app.config, "SITE_ORGANISER", "东岭市人民政府办公厅")
    monkeypatch.setitem(app.config, "SITE_ICP", "")
    monkeypatch.setitem(app.config, "SITE_CONAC_URL", "https://bszs.conac.cn/sitename?method=show&id=1234")
    html = browser.get("/").get_data(as_text=True)
    assert "东岭市人民政府办公厅" in html and "华城市人民政府办公室" not in html.split("site-footer")[1]
    assert "beian.miit.gov.cn" not in html and "ICP备" not in html
    assert '<a class="conac" href="https://bszs.conac.cn/sitename?method=show&amp;id=1234" rel="noopener">' in html
    english = browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    html = browser.get("/").get_data(as_text=True)
    assert english.status_code == 302
    assert "Organiser: 东岭市人民政府办公厅" in html and "Website identification code: 9901000001" in html


def test_the_environment_overrides_the_identity(monkeypatch, tmp_path):
    monkeypatch.setenv("SITE_ORGANISER", "华城市人民政府")
    monkeypatch.setenv("SITE_CODE", "9901000002")
    config = {name: getattr(DefaultConfig, name) for name in IDENTITY}
    finalize(config, str(tmp_path))
    assert config["SITE_ORGANISER"] == "华城市人民政府" and config["SITE_CODE"] == "9901000002"
    assert config["SITE_OPERATOR"] == DefaultConfig.SITE_OPERATOR


def _feedback_report(rows: int) -> tuple[Feedback, list[pdf.Slice]]:
    comments = [PublicComment(number=n, body=f"第{n}条意见：建议明确适用范围。" * 6, decision="adopted",
                              decision_label="采纳", reason="已采纳。", count=1, masked_name=None)
                for n in range(1, rows + 1)]
    counts = AnswerCounts(total=rows, adopted=rows, partly_adopted=0, not_adopted=0, explained=0, unanswered=0)
    groups = [ArticleGroup(key=0, label="对文件整体", anchor="whole", text="", comments=rows)]
    feedback = Feedback(document_id=1, title="华城市测试管理办法", document_number="华政规〔2026〕1号",
                        department="华城市司法局", published_at=datetime.now(timezone.utc), counts=counts,
                        groups=groups, final_articles=[], policy_interpretation=None)
    return feedback, [pdf.Slice("对文件整体", comments)]


@pytest.mark.parametrize("rows", [5, 60])  # one chunk, and three chunks merged with stamped footers
def test_every_page_of_a_pdf_names_the_organiser_in_its_footer(app, monkeypatch, rows):
    monkeypatch.setattr(pdf, "ROWS_PER_CHUNK", 25)
    feedback, chunks = _feedback_report(rows)
    result = pdf.render_report("pdf/feedback.html", {"feedback": feedback, "summary": "共收到意见"}, chunks,
                               rows=rows, processes=1)
    pages = [re.sub(r"\s+", "", page.extract_text()) for page in PdfReader(io.BytesIO(result.data)).pages]
    assert len(pages) == result.pages
    for number, text in enumerate(pages, start=1):
        assert f"主办单位：华城市人民政府办公室·第{number}页/共{len(pages)}页" in text, text[-60:]


def test_a_pdf_laid_out_in_one_pass_names_the_organiser_too(app):
    """WeasyPrint's own margin boxes (the fallback for a report the merge cannot carry over)."""
    from weasyprint import HTML

    feedback, _ = _feedback_report(1)
    html = render_template("pdf/feedback.html", feedback=feedback, summary="共收到意见", generated_at=utcnow())
    data = HTML(string=html, base_url=app.root_path).write_pdf()
    text = re.sub(r"\s+", "", PdfReader(io.BytesIO(data)).pages[0].extract_text())
    assert "主办单位：华城市人民政府办公室·第1页/共1页" in text


def test_the_site_map_lists_the_public_pages_and_links_open_consultations_and_feedback(app, browser, city):
    from consultation.demo import PARKING_DRAFT, doc_consultation
    from consultation.extensions import db
    from consultation.models import User
    from consultation.services import consultations, drafting
    from consultation.workflow import engine

    drafter, head, openness = (db.session.scalars(db.select(User).where(User.username == name)).one()
                               for name in ("drafter", "head", "openness"))
    doc = drafting.create_document(drafter, title="华城市停车管理办法", body=PARKING_DRAFT, explanation="说明。",
                                   affects_public_rights=True)
    now = utcnow() - timedelta(hours=1)
    engine.perform(doc, "request_predisclosure", drafter, now=now)
    engine.perform(doc, "head_approve_predisclosure", head, now=now)
    consultations.open_consultation(doc, openness, opens_at=now, closes_at=now + timedelta(days=30),
                                    notice="欢迎提出意见。", contact_person="王科员", contact_phone="0571-87000000",
                                    contact_email="a@demo.huacheng.gov.cn", postal_address="人民路1号", now=now)
    db.session.commit()
    html = browser.get("/").get_data(as_text=True)
    assert '<a href="/sitemap">' in html.split('class="site-footer')[1]
    html = browser.get("/sitemap").get_data(as_text=True)
    links = re.findall(r'<li><a href="([^"]+)">', html)
    for url in ("/", "/library", "/search", "/receipt", "/subscribe", "/feed.atom", "/sitemap"):
        assert url in links
    assert not any("<" in url or "/staff" in url or "/admin" in url or "/auth" in url for url in links)
    assert "/print.css" not in links and "/assess" not in links and "/error-report" in links
    assert f"/consultations/{doc_consultation(doc).id}" in links and "华城市停车管理办法" in html


@pytest.mark.parametrize("weekday", range(7))
def test_the_demo_legality_review_is_due_within_3_working_days_whatever_the_weekday(app, weekday):
    from consultation.demo import LEGALITY_REVIEW_DAYS_SPENT, working_days_ago
    from consultation.models import Document
    from consultation.workflow import deadlines, engine

    now = datetime(2026, 11, 30, 2, tzinfo=timezone.utc) + timedelta(days=weekday)  # Monday 10:00 in Beijing, …
    procedure = engine.procedures()["major_decision"]
    limit = procedure.deadlines["legality_review"]
    document = Document(stage="joint_review", stage_entered_at=working_days_ago(LEGALITY_REVIEW_DAYS_SPENT, now))
    state = deadlines.state(document, limit, now)
    assert state.status == deadlines.DeadlineStatus.DUE_SOON and state.working_days_left == 2


def test_the_demo_shows_what_the_readme_promises(app):
    from tests.conftest import Browser

    def as_user(username: str) -> Browser:
        return Browser(app.test_client()).login(username, "demo1234")

    from consultation.demo import seed
    from consultation.extensions import db
    from consultation.models import Document

    assert seed("demo1234") != "already present"
    db.session.commit()
    justice = as_user("justice").get("/staff/").get_data(as_text=True)
    table = justice.split("<tbody>")[1].split("</tbody>")[0]
    assert '<tr class="flagged"><td><a href="/staff/documents/' in table and "华城市中心城区停车收费标准调整方案" in table
    doc = db.session.scalars(db.select(Document).where(Document.title == "华城市住宅小区电动自行车停放充电管理规定")).one()
    queue = as_user("openness").get(f"/staff/documents/{doc.id}/moderation").get_data(as_text=True)
    rows = re.findall(r'<input type="checkbox" name="comments" value="(\d+)"', queue)
    assert len(rows) == 1 and "建议增加夜间充电安全巡查的要求。" in queue


def test_every_condition_and_period_the_engine_knows_has_a_name():
    from consultation.views.admin import DEADLINE_STARTS, PERIOD_TITLES
    from consultation.workflow.conditions import CONDITION_TITLES, KNOWN_CONDITIONS
    from consultation.workflow.definition import DEADLINE_ANCHORS

    assert set(CONDITION_TITLES) == set(KNOWN_CONDITIONS)
    assert set(DEADLINE_STARTS) == set(DEADLINE_ANCHORS)
    from consultation.workflow import engine
    assert {name for p in engine.procedures().values() for name in p.periods} <= set(PERIOD_TITLES)


@pytest.mark.parametrize("procedure_id", ["normative_document", "major_decision"])
def test_the_procedure_page_names_conditions_and_artefacts_in_the_interface_language(app, as_user, procedure_id):
    from consultation.workflow import engine
    from consultation.workflow.artefacts import ARTEFACTS
    from consultation.workflow.conditions import CONDITION_TITLES

    procedure = engine.procedures()[procedure_id]
    admin = as_user("admin")
    for locale in ("zh_Hans_CN", "en"):
        admin.get(f"/lang/{locale}", headers={"Referer": "http://localhost/"})
        html = admin.get(f"/admin/procedures/{procedure_id}").get_data(as_text=True)
        body = html.split('id="steps-h"')[1]
        with app.test_request_context(), force_locale(locale):
            names = {c: str(CONDITION_TITLES[c]) for t in procedure.transitions.values() for c in t.conditions}
            names.update({a: str(ARTEFACTS[a].title) for t in procedure.transitions.values() for a in t.requires})
            names.update({d.stops_when: str(CONDITION_TITLES[d.stops_when])
                          for d in procedure.deadlines.values() if d.stops_when})
        assert names
        for identifier, name in names.items():
            assert name in body, (locale, identifier)  # lazy strings are markup-safe (message ids are trusted)
            assert identifier not in body, identifier  # no raw identifier in the tables and time limits
        assert "<code>" not in body


# 我要纠错: error reports ------------------------------------------------------------------------------------

@pytest.fixture
def reports_allowed(app, monkeypatch):
    """Every test client comes from 127.0.0.1: the limit is lowered only where it is tested."""
    monkeypatch.setitem(app.config, "ERROR_REPORT_RATE_LIMIT", "10000 per minute")


def _reports():
    from consultation.extensions import db
    from consultation.models.error_reports import SiteErrorReport

    db.session.rollback()
    return list(db.session.scalars(db.select(SiteErrorReport).order_by(SiteErrorReport.id)))


def test_every_page_links_to_the_error_report_form_with_its_own_address(browser):
    html = browser.get("/library?topic=%E5%85%B6%E4%BB%96&page=2").get_data(as_text=True)
    footer = html.split('class="site-footer')[1]
    link = re.search(r'<a href="(/error-report\?page=[^"]+)">', footer).group(1)
    form = browser.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert '<a href="/library?topic=%E5%85%B6%E4%BB%96&amp;page=2">' in form
    assert 'name="page" type="hidden" value="/library?topic=%E5%85%B6%E4%BB%96&amp;page=2"' in form
    assert "/error-report?page=" not in form.split('class="site-footer')[1]  # no report on the report form
    sitemap = browser.get("/sitemap").get_data(as_text=True)
    assert '<li><a href="/error-report">' in sitemap


def test_a_report_lands_in_the_queue_with_its_page_text_and_due_day_and_the_contact_stays_private(
        app, browser, as_user, reports_allowed):
    from consultation import working_days
    from consultation.workflow.deadlines import local_day

    response = browser.post("/error-report", {"page": "/library", "body": "第3行的日期写错了。",
                                              "contact": "13900001234"}, form_page="/error-report?page=/library")
    assert response.status_code == 302 and response.headers["Location"] == "/library"
    (report,) = _reports()
    assert (report.page, report.body, report.contact, report.answered_at) == (
        "/library", "第3行的日期写错了。", "13900001234", None)
    assert report.due_on == working_days.add_working_days(local_day(report.received_at), 3).day
    html = browser.get("/library").get_data(as_text=True)
    assert 'class="flash flash-success"' in html and "13900001234" not in html
    for page in ("/", "/sitemap", "/search?q=日期写错", "/feed.atom", "/api/v1/consultations"):
        assert "13900001234" not in browser.get(page).get_data(as_text=True), page
    # Staff only, and of them the openness office (and administrators).
    assert browser.get("/staff/error-reports").status_code == 302  # to the sign-in page
    assert as_user("drafter").get("/staff/error-reports").status_code == 403
    queue = as_user("openness").get("/staff/error-reports").get_data(as_text=True)
    assert '<a href="/library">/library</a>' in queue and "第3行的日期写错了。" in queue and "13900001234" in queue
    assert '<a href="/staff/error-reports">' in queue.split("</header>")[0]  # the officer's menu


def test_a_report_due_today_is_flagged_and_a_late_one_is_overdue(app, as_user):
    from consultation.extensions import db
    from consultation.services import error_reports

    friday = datetime(2026, 11, 27, 2, tzinfo=timezone.utc)  # 10:00 in Beijing
    error_reports.receive("/sitemap", "链接失效", now=friday - timedelta(days=14))  # received first: overdue now
    report = error_reports.receive("/", "错别字", now=friday)
    db.session.commit()
    assert report.due_on == datetime(2026, 12, 2).date()  # Monday, Tuesday, Wednesday: the first day not counted
    assert error_reports.status(report, friday) == deadlines_status("RUNNING")
    assert error_reports.status(report, datetime(2026, 12, 1, 2, tzinfo=timezone.utc)) == deadlines_status("DUE_SOON")
    assert error_reports.status(report, datetime(2026, 12, 3, 2, tzinfo=timezone.utc)) == deadlines_status("OVERDUE")
    queue = as_user("openness").get("/staff/error-reports").get_data(as_text=True)
    rows = queue.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    assert "链接失效" in rows[0] and 'class="flagged"' in rows[0] and "flag-overdue" in rows[0]  # oldest first
    assert "错别字" in rows[1]


def deadlines_status(name: str):
    from consultation.workflow.deadlines import DeadlineStatus

    return DeadlineStatus[name]


def test_the_bot_check_and_the_rate_limit_refuse_a_report_and_keep_its_text(app, browser, monkeypatch):
    import uuid

    text = "附件链接打不开。"
    refused = browser.post("/error-report", {"page": "/", "body": text, "website": "http://spam.example"},
                           form_page="/error-report?page=/")
    assert refused.status_code == 400 and text in refused.get_data(as_text=True) and _reports() == []
    monkeypatch.setitem(app.config, "ERROR_REPORT_RATE_LIMIT", "2 per minute")
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX", f"test-reports-{uuid.uuid4().hex[:6]}")
    for n in range(2):
        assert browser.post("/error-report", {"page": "/", "body": f"{text}{n}"}).status_code == 302
    third = browser.post("/error-report", {"page": "/", "body": text + "第三次"})
    assert third.status_code == 429 and text + "第三次" in third.get_data(as_text=True)
    assert [r.body for r in _reports()] == [f"{text}0", f"{text}1"]


@pytest.mark.parametrize("address", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_a_report_never_links_outside_the_site(browser, reports_allowed, address):
    response = browser.post("/error-report", {"page": address, "body": "错误"}, form_page="/error-report")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert [r.page for r in _reports()] == [""]


def test_the_queue_is_paged_by_id_and_an_answer_is_recorded_once(app, as_user):
    from consultation.extensions import db
    from consultation.models import User
    from consultation.services import error_reports

    for n in range(error_reports.QUEUE_PAGE + 5):
        error_reports.receive(f"/library/{n}", f"第{n}号问题")
    db.session.commit()
    officer = as_user("openness")
    first = officer.get("/staff/error-reports").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'/staff/error-reports/(\d+)/answer', first)]
    assert len(ids) == error_reports.QUEUE_PAGE and ids == sorted(ids)
    after = re.search(r'href="/staff/error-reports\?after=(\d+)"', first).group(1)
    second = officer.get(f"/staff/error-reports?after={after}").get_data(as_text=True)
    later = [int(i) for i in re.findall(r'/staff/error-reports/(\d+)/answer', second)]
    assert len(later) == 5 and min(later) > max(ids) and "?after=" not in second.split("</table>")[1]
    response = officer.post(f"/staff/error-reports/{ids[0]}/answer", {"answer": "已更正。"},
                            form_page="/staff/error-reports")
    assert response.status_code == 302
    again = officer.post(f"/staff/error-reports/{ids[0]}/answer", {"answer": "再次答复"}, form_page="/staff/error-reports")
    assert again.status_code == 302
    officer_id = db.session.scalars(db.select(User.id).where(User.username == "openness")).one()
    assert [(r.id, r.answer, r.answered_by_id) for r in _reports() if r.answered_at] == [(ids[0], "已更正。", officer_id)]
    html = officer.get("/staff/error-reports?show=answered").get_data(as_text=True)
    assert "已更正。" in html and "再次答复" not in html
    assert officer.get("/staff/error-reports").get_data(as_text=True).count("/answer") == error_reports.QUEUE_PAGE


# 适老化: the elder-friendly reading mode ----------------------------------------------------------------------

def test_the_reading_mode_is_a_link_that_sets_a_cookie_and_goes_back_to_the_page(app):
    client = app.test_client()
    html = client.get("/library?page=2").get_data(as_text=True)
    assert "<html lang=\"zh-Hans\">" in html
    link = re.search(r'<a class="reading-mode" href="([^"]+)">', html).group(1).replace("&amp;", "&")
    assert link == "/reading-mode/elder?next=/library?page%3D2"
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"] == "/library?page=2"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("reading_mode=elder;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie
    for page in ("/", "/sitemap", "/error-report", "/auth/login"):  # kept across pages, no account
        assert '<html lang="zh-Hans" class="elder">' in client.get(page).get_data(as_text=True), page
    html = client.get("/").get_data(as_text=True)
    back = re.search(r'<a class="reading-mode" href="([^"]+)">', html).group(1)
    assert back == "/reading-mode/standard?next=/"
    response = client.get(back)
    assert response.headers["Location"] == "/" and "reading_mode=;" in response.headers["Set-Cookie"]
    assert 'class="elder"' not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", ""])
def test_the_reading_mode_switch_never_sends_elsewhere(app, target):
    response = app.test_client().get("/reading-mode/elder", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert app.test_client().get("/reading-mode/bigger").status_code == 404


def test_the_print_footer_names_the_page_address_and_date_in_a_css_string_that_cannot_be_broken_out_of(app):
    client = app.test_client()
    html = client.get("/library?page=2").get_data(as_text=True)
    href = re.search(r'<link rel="stylesheet" media="print" href="([^"]+)">', html).group(1).replace("&amp;", "&")
    assert href == "/print.css?page=/library?page%3D2"
    response = client.get(href)
    assert response.mimetype == "text/css" and "max-age=3600" in response.headers["Cache-Control"]
    css = response.get_data(as_text=True)
    assert '@bottom-left { content: "http://localhost/library?page=2"; }' in css
    assert re.search(r'@bottom-right \{ content: "\d{4}-\d{2}-\d{2} · " counter\(page\) " / " counter\(pages\); \}', css)
    hostile = client.get("/print.css", query_string={"page": '/x"; } body { display: none'}).get_data(as_text=True)
    assert '"http://localhost/x\\22 ; \\7d  body \\7b  display: none"' in hostile  # quote and braces escaped
    assert hostile.count('"') == css.count('"') and hostile.count("{") == css.count("{")
    assert client.get("/print.css", query_string={"page": "https://evil.example/"}).get_data(as_text=True).startswith(
        '@page { @bottom-left { content: "http://localhost/"; }')
