"""No personal data of a commenter anywhere public: a crawl of the whole public site, the open-data API,
the Atom feed, the CSV and Word downloads and the feedback PDF."""
from __future__ import annotations

import io
import re
from urllib.parse import urljoin, urlparse

import docx
from pypdf import PdfReader

from consultation.extensions import db
from consultation.models import Comment

from . import factories

PEOPLE = [
    {"name": "诸葛隐名", "organisation": "隐秘咨询有限公司", "phone": "13512345678",
     "email": "zhuge.hidden@example.org", "show_masked_name": True},
    {"name": "上官不显", "organisation": "不显律师事务所", "phone": "021-87654321",
     "email": "shangguan.hidden@example.org", "show_masked_name": False},
]
# Distinct wording: identical comments would form a campaign group, shown without any name.
OPINIONS = ["建议延长公示期限至三十日。", "第一条的适用范围应当包括郊区。"]
SECRETS = [v for p in PEOPLE for k, v in p.items() if k != "show_masked_name"] + ["上官", "127.0.0.1"]
# Two more commenters who write through the web form and through the API, from their own addresses.
FORM_PERSON = {"name": "欧阳秘藏", "organisation": "秘藏科技工作室", "phone": "13900001111",
               "email": "ouyang.secret@example.org"}
API_PERSON = {"name": "司马无影", "organisation": "无影研究所", "phone": "0571-66665555",
              "email": "sima.secret@example.org"}
ADDRESSES = ["203.0.113.77", "198.51.100.88"]
ALL_SECRETS = SECRETS + [v for p in (FORM_PERSON, API_PERSON) for v in p.values()] + ADDRESSES + ["欧阳", "司马"]


def _text(response) -> str:
    """What a reader of this answer sees: pages, JSON, feeds and CSV as text; PDF and Word files opened."""
    mimetype = response.mimetype
    if mimetype == "application/pdf":
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    if mimetype.endswith("wordprocessingml.document"):
        return "\n".join(p.text for p in docx.Document(io.BytesIO(response.data)).paragraphs)
    if mimetype.startswith("text/") or mimetype.endswith(("json", "xml")):
        return response.get_data(as_text=True)
    return ""


def _crawl(browser, start_urls: list[str], posts: list[tuple[str, dict]]) -> dict[str, str]:
    """Fetch every public page reachable by links (never /staff or /auth), plus the given form posts."""
    seen: dict[str, str] = {}
    todo = list(start_urls)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = browser.get(url)
        body = _text(response)
        seen[url] = body
        # Links in pages and feeds, and the absolute addresses the API answers with.
        for href in re.findall(r'href="([^"#]+)', body) + re.findall(r'"(http://localhost/[^"#]+)"', body):
            target = urlparse(urljoin("http://localhost" + url, href))
            if target.netloc == "localhost" and not target.path.startswith(("/staff", "/auth", "/static", "/lang")):
                todo.append(target.path + (f"?{target.query}" if target.query else ""))
    for url, data in posts:
        seen[f"POST {url} {data}"] = browser.post(url, data).get_data(as_text=True)
    return seen


def test_no_public_page_shows_a_commenters_personal_data(city, browser):
    open_doc = factories.in_consultation(city, title="开放中的办法")
    for person, wish in zip(PEOPLE, OPINIONS, strict=True):
        factories.comment(open_doc, body=f"对开放中的草案：{wish}", article_seq=2, **person)
    doc = factories.in_handling(city, comments=0, title="已公布的办法")
    for person, wish in zip(PEOPLE, OPINIONS, strict=True):
        factories.comment(doc, body=f"对已公布草案：{wish}", article_seq=1, **person)
    factories.answer_all(doc, city["drafter"])
    # Finish the procedure on the same document through the services.
    from consultation.services import publication
    factories.adopt(doc, city, prefix="华政发")
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=5), validity_years=1)
    db.session.commit()

    receipts = [c.receipt_number for c in db.session.scalars(db.select(Comment))]
    pages = _crawl(browser, ["/"], [("/receipt", {"receipt": r}) for r in receipts])

    assert f"/feedback/{doc.id}" in pages and any(u.startswith("/consultations/") for u in pages)
    assert "诸**名" in pages[f"/feedback/{doc.id}"]  # consented: masked only
    for url, body in pages.items():
        for secret in SECRETS:
            assert secret not in body, f"{secret!r} leaked on {url}"


def test_no_page_api_answer_feed_download_or_pdf_shows_personal_data(app, city, browser):
    """Comments from the form, the API and the services, with distinctive personal data; then every public
    page, API answer, the feed, the CSV, the Word file and the PDF are fetched and searched for it."""
    from consultation.services import consultations, publication

    from .test_pdf_job import _run_worker

    open_doc = factories.in_consultation(city, title="开放中的办法")
    open_id = consultations.consultation_of(open_doc).id
    for person, wish in zip(PEOPLE, OPINIONS, strict=True):
        factories.comment(open_doc, body=f"对开放中的草案：{wish}", article_seq=2, **person)
    r = browser.post(f"/consultations/{open_id}", {"article_id": "0", "body": "网页表单：建议公布收费依据。",
                                                   "show_masked_name": "y", **FORM_PERSON},
                     environ_base={"REMOTE_ADDR": ADDRESSES[0]})
    assert r.status_code == 302
    r = browser.client.post(f"/api/v1/consultations/{open_id}/comments",
                            json={"body": "开放接口：建议增加夜间巡查。", "show_masked_name": True, **API_PERSON},
                            environ_base={"REMOTE_ADDR": ADDRESSES[1]})
    assert r.status_code == 201
    factories.moderate_all(open_doc)  # published comments show on the consultation page and in the API

    doc = factories.in_handling(city, comments=0, title="已公布的办法")
    for person, wish in zip(PEOPLE, OPINIONS, strict=True):
        factories.comment(doc, body=f"对已公布草案：{wish}", article_seq=1, **person)
    factories.comment(doc, body="对已公布草案：另一条意见。", article_seq=3, **FORM_PERSON, show_masked_name=True)
    factories.answer_all(doc, city["drafter"])
    factories.adopt(doc, city, prefix="华政发")
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=5), validity_years=1)
    db.session.commit()
    doc_id = doc.id
    _run_worker(app)  # the feedback PDF

    receipts = [c.receipt_number for c in db.session.scalars(db.select(Comment))]
    starts = ["/", "/library", "/feed.atom", "/search?q=办法", "/search?q=草案", "/api/v1/openapi.json",
              "/api/v1/consultations", "/api/v1/library", "/api/v1/departments"]
    starts += [f"/api/v1/receipts/{r}" for r in receipts]
    pages = _crawl(browser, starts, [("/receipt", {"receipt": r}) for r in receipts])

    fetched = set(pages)
    for expected in (f"/consultations/{open_id}", f"/api/v1/consultations/{open_id}", f"/feedback/{doc_id}",
                     f"/feedback/{doc_id}/feedback.csv", f"/feedback/{doc_id}/feedback.pdf", f"/api/v1/feedback/{doc_id}",
                     f"/library/{doc_id}", f"/api/v1/library/{doc_id}", "/feed.atom"):
        assert expected in fetched, f"the crawl missed {expected}"
    assert any(u.endswith(".docx") for u in fetched)
    # The crawl really read the contents: the public texts are there, the masked names only with consent.
    assert "网页表单：建议公布收费依据" in pages[f"/consultations/{open_id}"]
    assert "开放接口：建议增加夜间巡查" in pages[f"/api/v1/consultations/{open_id}/comments"]  # the paged comments
    assert "对已公布草案" in pages[f"/feedback/{doc_id}/feedback.pdf"]
    assert "诸**名" in pages[f"/feedback/{doc_id}/feedback.csv"] and "欧**藏" in pages[f"/api/v1/feedback/{doc_id}"]
    for url, body in pages.items():
        for secret in ALL_SECRETS:
            assert secret not in body, f"{secret!r} leaked on {url}"
