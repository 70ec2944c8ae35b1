"""The check against simple bots on the comment form: a honeypot, and a minimum time to fill the form.
A refused comment keeps what was typed; nothing is stored."""
from __future__ import annotations

import re

import time_machine
from sqlalchemy import func, select

from consultation.extensions import db
from consultation.models import Comment

from . import factories


def _page(doc) -> str:
    from consultation.services import consultations

    return f"/consultations/{consultations.consultation_of(doc).id}"


def _count() -> int:
    return db.session.scalar(select(func.count(Comment.id)))


def test_a_form_posted_at_once_is_refused_and_keeps_the_text(app, city, browser, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_MIN_SECONDS", 3)
    doc = factories.in_consultation(city)
    with time_machine.travel(factories.utcnow(), tick=False):
        r = browser.post(_page(doc), {"article_id": "0", "body": "机器人式的极速提交。"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "请检查后重新提交" in html and "机器人式的极速提交。" in html
    assert _count() == 0


def test_a_person_who_takes_a_few_seconds_is_accepted(app, city, browser, monkeypatch):
    monkeypatch.setitem(app.config, "COMMENT_MIN_SECONDS", 3)
    doc = factories.in_consultation(city)
    page = _page(doc)
    with time_machine.travel(factories.utcnow(), tick=False) as clock:
        browser.get(page)
        clock.shift(20)  # reading and writing
        r = browser.client.post(page, data={"article_id": "0", "body": "认真写下的意见。", "csrf_token": browser._token,
                                             **browser._hidden})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert _count() == 1


def test_the_honeypot_field_filled_by_a_bot_is_refused(city, browser):
    doc = factories.in_consultation(city)
    r = browser.post(_page(doc), {"article_id": "0", "body": "自动填写了所有字段。", "website": "http://spam.example"})
    assert r.status_code == 400 and "请刷新页面后重试" in r.get_data(as_text=True)
    assert _count() == 0


def test_a_missing_or_forged_time_stamp_is_refused(city, browser):
    doc = factories.in_consultation(city)
    for stamp in ("", "forged.stamp.value"):
        r = browser.post(_page(doc), {"article_id": "0", "body": "伪造的时间戳。", "started": stamp})
        assert r.status_code == 400
    assert _count() == 0


def test_a_form_left_open_for_a_day_asks_to_submit_again(city, browser):
    doc = factories.in_consultation(city)
    page = _page(doc)
    with time_machine.travel(factories.utcnow(), tick=False) as clock:
        browser.get(page)
        clock.shift(13 * 3600)
        r = browser.client.post(page, data={"article_id": "0", "body": "隔天才提交。", "csrf_token": browser._token,
                                             **browser._hidden})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "隔天才提交。" in html
    # The page served again carries a fresh stamp: submitting now works.
    fresh = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
    assert fresh != browser._hidden["started"]


def test_the_honeypot_is_hidden_from_people_and_from_keyboard_navigation(city, browser):
    doc = factories.in_consultation(city)
    html = browser.get(_page(doc)).get_data(as_text=True)
    honeypot = html[html.index('class="hp"'):]
    assert 'aria-hidden="true"' in html[html.index('class="hp"') - 30:html.index('class="hp"') + 40]
    assert 'tabindex="-1"' in honeypot[:400] and 'autocomplete="off"' in honeypot[:400]
