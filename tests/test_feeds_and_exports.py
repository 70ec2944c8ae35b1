"""The feedback as CSV for spreadsheets, and the Atom feed of consultations and published feedback."""
from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from consultation.extensions import db

from . import factories

ATOM = "{http://www.w3.org/2005/Atom}"
PERSON = {"name": "上官保密", "organisation": "保密研究所", "phone": "13544448888", "email": "shangguan@example.com"}


def _published(city):
    doc = factories.in_handling(city, comments=0, title="华城市公开数据测试办法")
    factories.comment(doc, body="=SUM(A1:A9) 建议删除第一条。", article_seq=1, show_masked_name=True, **PERSON)
    factories.comment(doc, body="建议整体保留。")
    factories.answer_all(doc, city["drafter"], decision="not_adopted")
    factories.adopt(doc, city)
    from consultation.services import publication

    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读。",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=3), validity_years=5)
    db.session.commit()
    return doc


def test_the_feedback_csv_opens_in_excel_and_holds_only_public_data(city, browser):
    doc = _published(city)
    response = browser.get(f"/feedback/{doc.id}/feedback.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.data
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["序号", "条款", "意见建议", "意见人", "采纳情况", "理由"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    by_text = {r[2]: r for r in rows[1:]}
    assert by_text["'=SUM(A1:A9) 建议删除第一条。"][1] == "第一条"  # a formula is never run by the spreadsheet
    assert by_text["'=SUM(A1:A9) 建议删除第一条。"][3] == "上**密"  # masked, with consent
    assert {r[4] for r in rows[1:]} == {"未采纳"}
    text = data.decode("utf-8-sig")
    for value in PERSON.values():
        assert value not in text


def test_no_csv_before_publication(city, browser):
    doc = factories.in_handling(city, comments=1)
    assert browser.get(f"/feedback/{doc.id}/feedback.csv").status_code == 404


def test_the_atom_feed_lists_open_consultations_and_published_feedback_and_nothing_early(city, browser):
    published = _published(city)
    open_now = factories.in_consultation(city, title="华城市正在征求意见的办法")
    later = factories.in_confidentiality_review(city, title="华城市尚未开始的办法")
    from consultation.services import consultations

    start = factories.utcnow() + factories.timedelta(days=3)
    consultations.open_consultation(later, city["openness"], opens_at=start,
                                    closes_at=start + factories.timedelta(days=45), notice="公告")
    db.session.commit()
    response = browser.get("/feed.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert f"【意见采纳情况反馈】{published.title}" in titles
    assert f"【征求意见】{open_now.title}" in titles
    assert not [t for t in titles if "尚未开始" in t]  # nothing public before its time
    links = [e.find(f"{ATOM}link").get("href") for e in root.iter(f"{ATOM}entry")]
    assert any(link.endswith(f"/feedback/{published.id}") for link in links)
    ids = [e.findtext(f"{ATOM}id") for e in root.iter(f"{ATOM}entry")]
    assert len(ids) == len(set(ids)) and all(i.startswith("tag:") for i in ids)
    text = response.get_data(as_text=True)
    for value in PERSON.values():
        assert value not in text
    assert 'type="application/atom+xml"' in browser.get("/").get_data(as_text=True)
