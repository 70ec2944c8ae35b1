"""Public comments: the form, receipts, the clock, and what the public may see."""
from __future__ import annotations

import re
from datetime import timedelta

from consultation.extensions import db
from consultation.models import Comment
from consultation.receipts import ALPHABET
from consultation.services import consultations

from . import factories


def _page(doc) -> str:
    return f"/consultations/{consultations.consultation_of(doc).id}"


def test_a_comment_gets_an_unguessable_receipt_and_is_stored_first(city, browser):
    doc = factories.in_consultation(city)
    r = browser.post(_page(doc), {"article_id": "0", "body": "建议增加听证程序。"}, follow_redirects=True)
    receipt = re.search(r'id="receipt-number">([A-Z0-9-]+)<', r.get_data(as_text=True)).group(1).replace("-", "")
    assert len(receipt) >= 10 and set(receipt) <= set(ALPHABET)
    stored = db.session.scalars(db.select(Comment)).one()
    assert stored.receipt_number == receipt and stored.body == "建议增加听证程序。"
    assert stored.client_hash and "127.0.0.1" not in stored.client_hash


def test_an_empty_comment_is_refused_with_a_message_in_chinese(city, browser):
    doc = factories.in_consultation(city)
    r = browser.post(_page(doc), {"article_id": "0", "body": "   ", "email": "not-an-email"})
    text = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "请填写您的意见建议" in text
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_a_comment_longer_than_5000_characters_is_refused(city, browser):
    doc = factories.in_consultation(city)
    r = browser.post(_page(doc), {"article_id": "0", "body": "长" * 5001})
    assert r.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
    assert "长" * 100 in r.get_data(as_text=True)  # what was typed is kept in the form


def test_an_article_of_another_draft_is_refused(city, browser):
    doc = factories.in_consultation(city)
    other = factories.in_consultation(city, title="另一办法")
    foreign = consultations.consultation_of(other).version.articles[0].id
    r = browser.post(_page(doc), {"article_id": str(foreign), "body": "意见"})
    assert r.status_code == 400
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_after_the_closing_time_the_form_is_closed_and_posts_are_refused(city, browser):
    doc = factories.in_consultation(city, opens_at=factories.utcnow() - timedelta(days=31), days=30)
    assert doc.stage == "consultation"  # nothing has recorded the closing yet
    page = browser.get(_page(doc)).get_data(as_text=True)
    assert 'name="body"' not in page
    r = browser.post(_page(doc), {"article_id": "0", "body": "迟到的意见"}, form_page="/receipt", follow_redirects=True)
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0
    page = r.get_data(as_text=True)
    assert page.count("不再接受意见") == 1  # said once, where the form was
    assert "迟到的意见" in page  # and the text is given back


def test_a_draft_is_invisible_before_its_opening_time(city, browser):
    doc = factories.in_confidentiality_review(city)
    consultations.open_consultation(doc, city["openness"], opens_at=factories.utcnow() + timedelta(days=2),
                                    closes_at=factories.utcnow() + timedelta(days=40), notice="公告")
    db.session.commit()
    assert browser.get(_page(doc)).status_code == 404
    assert doc.title not in browser.get("/").get_data(as_text=True)


def test_an_unknown_receipt_says_so(city, browser):
    r = browser.post("/receipt", {"receipt": "ZZZZ-ZZZZ-ZZZZ"})
    assert "没有找到该回执编号" in r.get_data(as_text=True)


def test_the_answer_shows_on_the_receipt_only_once_feedback_is_published(city, browser):
    doc = factories.in_handling(city, comments=1)
    receipt = db.session.scalars(db.select(Comment)).one().receipt_number
    factories.answer_all(doc, city["drafter"])
    page = browser.post("/receipt", {"receipt": receipt}).get_data(as_text=True)
    assert "已据此修改" not in page


def test_the_draft_shows_how_many_comments_each_article_has(city, browser):
    doc = factories.in_consultation(city)
    for _ in range(2):
        factories.comment(doc, article_seq=2, at=factories.utcnow())
    factories.comment(doc, at=factories.utcnow())
    page = browser.get(_page(doc)).get_data(as_text=True)
    second = page[page.index('id="article-2"'):page.index('id="article-3"')]
    assert "2条意见" in second
    first = page[page.index('id="article-1"'):page.index('id="article-2"')]
    assert "0条意见" in first


def test_counts_of_one_are_singular_in_english(city, browser):
    """"1 comment", never "1 comments": the counts use the catalogue's plural forms."""
    doc = factories.in_consultation(city)
    factories.comment(doc, article_seq=2, at=factories.utcnow())
    for _ in range(2):
        factories.comment(doc, article_seq=3, at=factories.utcnow())
    browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    page = browser.get(_page(doc)).get_data(as_text=True)
    assert "1 comments" not in page
    assert "1 comment" in page[page.index('id="article-2"'):page.index('id="article-3"')]
    assert "2 comments" in page[page.index('id="article-3"'):]
