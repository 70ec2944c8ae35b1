"""Comments by letter, email and at meetings (线下意见): logged by the drafting department into the same queue
as the web comments, with the rule of time, private scans, receipts, moderation, answers, campaigns and the
counts by channel in the public feedback; the senders' details and the scans never public."""
from __future__ import annotations

import io
import os
import stat
from datetime import date, datetime, time, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from consultation.errors import FieldRefused, NotAllowed
from consultation.extensions import db
from consultation.models import (
    AuditEvent, ChannelTally, Comment, OfflineAttachment, OfflineComment, OfflineMeeting, utcnow,
)
from consultation.services import answers, consultations, moderation, offline, statistics, tallies

from . import factories
from .test_mail import smtp  # noqa: F401 - the SMTP server fixture
from .test_pdf_job import _run_worker
from .test_privacy import _crawl

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SENDER = {"name": "慕容来信", "organisation": "来信人商贸有限公司", "phone": "13787654321",
          "email": "murong.letter@example.org"}
ADDRESS = "华城市幽居巷九十九号"
ATTENDEE = "东方与会"
ATTENDEE_CONTACT = "dongfang.attendee@example.org 13911112222"  # typed into the attendees by mistake
MINUTES = "纪要正文：与会代表一致建议增加社区听证环节。"
SCAN_NAME = "慕容来信扫描件.pdf"


def _day(moment: datetime) -> date:
    return moment.astimezone(consultations.SHANGHAI).date()


def _window(doc):
    return offline.window_days(consultations.consultation_of(doc))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _log_form(**overrides) -> dict:
    data = {"channel": "letter", "received_on": "", "postmarked_on": "", "received_time": "", "article_id": "0",
            "body": "来信建议：第二条应当明确适用范围。", **SENDER, "postal_address": ADDRESS}
    data.update(overrides)
    return data


# --- the web form of the staff -----------------------------------------------------------------------------

def test_a_drafter_logs_a_letter_with_a_scan_and_gets_a_receipt_counted_sealed_and_audited(city, as_user, app):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    drafter = as_user("drafter")
    today = _day(utcnow())
    r = drafter.post(f"/staff/documents/{doc.id}/offline/new", _log_form(
        received_on=today.isoformat(), postmarked_on=(today - timedelta(days=1)).isoformat(),
        files=[(io.BytesIO(PDF), SCAN_NAME), (io.BytesIO(PNG), "第二页.png")]))
    assert r.status_code == 302, r.get_data(as_text=True)
    page = drafter.get(r.headers["Location"]).get_data(as_text=True)
    comment = db.session.scalars(select(Comment).where(Comment.document_id == doc.id)).one()
    assert comment.channel == "letter" and comment.logged_by_id == city["drafter"].id
    assert comment.name == SENDER["name"] and comment.moderation == "pending"
    assert "意见已登记" in page and comment.receipt_number[:4] in page and "信函" in page
    details = db.session.get(OfflineComment, comment.id)
    assert details.received_on == today and details.postmarked_on == today - timedelta(days=1)
    assert details.postal_address == ADDRESS
    # Counted at once, grouped and sealed by the clock like a web comment.
    assert tallies.counts(document=doc).total == 1
    factories.take_in()
    assert db.session.get(Comment, comment.id).chained_in_id is not None
    # The scans: real types, stored owner-only by content hash, each upload audited without its name.
    files = db.session.scalars(select(OfflineAttachment).where(OfflineAttachment.comment_id == comment.id)
                               .order_by(OfflineAttachment.id)).all()
    assert [f.content_type for f in files] == ["application/pdf", "image/png"]
    path = offline.path_of(files[0])
    assert path.read_bytes() == PDF and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path.parent.parent).st_mode) == 0o700
    [logged] = _events("log_offline_comment")
    assert '"channel": "letter"' in logged.payload and SENDER["name"] not in logged.payload
    uploads = _events("upload_offline_attachment")
    assert len(uploads) == 2 and all(SCAN_NAME not in e.payload and files[0].sha256 in uploads[0].payload
                                     for e in uploads[:1])


def test_the_receipt_goes_out_by_mail_like_for_a_web_comment(city, app, smtp):  # noqa: F811
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    comment = offline.log_comment(doc, city["drafter"], channel="email", body="邮件意见：建议增加过渡期。",
                                  received_on=_day(utcnow()), received_time=time(0, 0), email="mail.sender@example.net")
    db.session.commit()
    receipt = comment.receipt_number
    _run_worker(app)
    [message] = smtp.to("mail.sender@example.net")
    assert "意见回执" in message["Subject"]
    from consultation.receipts import display
    assert display(receipt) in message.get_content() and "登记时间" in message.get_content()


# --- the rule of time ----------------------------------------------------------------------------------------

def test_a_letter_postmarked_by_the_closing_day_counts_though_it_arrives_after_the_closing(city, as_user):
    doc = factories.in_handling(city, comments=0)
    first, last = _window(doc)
    today = _day(utcnow())
    assert today > last  # closed five days ago
    drafter = as_user("drafter")
    r = drafter.post(f"/staff/documents/{doc.id}/offline/new", _log_form(
        received_on=today.isoformat(), postmarked_on=last.isoformat()))
    assert r.status_code == 302
    # Postmarked the day after the closing day: refused, in Chinese, beside the postmark field.
    r = drafter.post(f"/staff/documents/{doc.id}/offline/new", _log_form(
        received_on=today.isoformat(), postmarked_on=(last + timedelta(days=1)).isoformat()))
    assert r.status_code == 400
    assert f"晚于征求意见截止日（{last.isoformat()}），不能作为意见登记" in r.get_data(as_text=True)
    # No postmark and arrived after the closing day: refused, asking for the postmark.
    r = drafter.post(f"/staff/documents/{doc.id}/offline/new", _log_form(received_on=today.isoformat()))
    assert r.status_code == 400 and "请填写邮戳日期" in r.get_data(as_text=True)
    # No postmark, arrived on the closing day: counts.
    r = drafter.post(f"/staff/documents/{doc.id}/offline/new", _log_form(received_on=last.isoformat(), body="另一封信。"))
    assert r.status_code == 302
    assert db.session.scalar(select(db.func.count()).select_from(Comment).where(Comment.document_id == doc.id)) == 2


def test_an_email_must_have_arrived_by_the_closing_time(city, as_user):
    doc = factories.in_handling(city, comments=0)
    closes = consultations.consultation_of(doc).closes_at.astimezone(consultations.SHANGHAI)
    before, after = closes - timedelta(minutes=1), closes + timedelta(minutes=1)
    drafter = as_user("drafter")
    url = f"/staff/documents/{doc.id}/offline/new"
    r = drafter.post(url, _log_form(channel="email", received_on=after.date().isoformat(),
                                    received_time=after.strftime("%H:%M")))
    assert r.status_code == 400 and "晚于征求意见截止时间" in r.get_data(as_text=True)
    r = drafter.post(url, _log_form(channel="email", received_on=before.date().isoformat()))
    assert r.status_code == 400 and "请填写电子邮件的收到时间" in r.get_data(as_text=True)
    r = drafter.post(url, _log_form(channel="email", received_on=before.date().isoformat(),
                                    received_time=before.strftime("%H:%M")))
    assert r.status_code == 302
    assert db.session.scalars(select(Comment)).one().channel == "email"


def test_dates_before_the_opening_or_in_the_future_are_refused(city):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    first, _last = _window(doc)
    today = _day(utcnow())
    cases = [
        ("letter", {"received_on": today + timedelta(days=1)}, "received_on"),
        ("letter", {"received_on": first - timedelta(days=1)}, "received_on"),
        ("letter", {"received_on": today, "postmarked_on": first - timedelta(days=1)}, "postmarked_on"),
        ("letter", {"received_on": today - timedelta(days=1), "postmarked_on": today}, "postmarked_on"),
        ("email", {"received_on": today, "received_time": time(23, 59)}, "received_time"),
    ]
    now = datetime.combine(today, time(12, 0), consultations.SHANGHAI)
    for channel, dates, field in cases:
        with pytest.raises(FieldRefused) as refused:
            offline.log_comment(doc, city["drafter"], channel=channel, body="意见。", now=now, **dates)
        assert refused.value.field == field, (channel, dates)
        db.session.rollback()
    assert db.session.scalar(select(db.func.count()).select_from(Comment)) == 0


def test_only_the_drafting_department_logs_and_only_during_consultation_and_handling(city, as_user):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    for who in ("openness", "govoffice"):
        with pytest.raises(NotAllowed):
            offline.log_comment(doc, city[who], channel="letter", body="意见。", received_on=_day(utcnow()))
    assert as_user("drafter2").get(f"/staff/documents/{doc.id}/offline/new").status_code == 404
    assert as_user("openness").get(f"/staff/documents/{doc.id}/offline/new").status_code == 403
    drafting = factories.document(city, title="起草中的办法")
    assert as_user("drafter").get(f"/staff/documents/{drafting.id}/offline/new").status_code == 403


# --- the scans -----------------------------------------------------------------------------------------------

def test_a_file_is_judged_by_its_content_and_its_size_in_chinese(city, as_user, app, monkeypatch):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    drafter = as_user("drafter")
    url = f"/staff/documents/{doc.id}/offline/new"
    today = _day(utcnow()).isoformat()
    fake = b"<html><script>alert(1)</script></html>"
    r = drafter.post(url, _log_form(received_on=today, files=[(io.BytesIO(fake), "scan.pdf")]))
    assert r.status_code == 400 and "不是PDF或图片" in r.get_data(as_text=True)
    monkeypatch.setitem(app.config, "OFFLINE_ATTACHMENT_MAX_BYTES", 1024 * 1024)
    big = PDF + b"0" * (1024 * 1024)
    r = drafter.post(url, _log_form(received_on=today, files=[(io.BytesIO(big), "big.pdf")]))
    assert r.status_code == 400 and "过大，每个文件不得超过1 MB" in r.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Comment)) == 0
    # A PNG named .txt is a PNG.
    r = drafter.post(url, _log_form(received_on=today, files=[(io.BytesIO(PNG), "page.txt")]))
    assert r.status_code == 302
    assert db.session.scalars(select(OfflineAttachment)).one().content_type == "image/png"


def test_a_scan_is_downloaded_only_by_signed_in_staff_who_may_see_the_document(city, as_user, browser):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    comment = offline.log_comment(doc, city["drafter"], channel="letter", body="来信。", received_on=_day(utcnow()),
                                  files=[offline.Upload(SCAN_NAME, PDF)])
    db.session.commit()
    attachment = db.session.scalars(select(OfflineAttachment)).one()
    url = f"/staff/documents/{doc.id}/offline/files/{attachment.id}"
    r = browser.get(url)
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert as_user("drafter2").get(url).status_code == 404  # another drafting department
    assert as_user("drafter2").get(f"/staff/documents/{doc.id}/offline/comments/{comment.id}").status_code == 404
    for who in ("drafter", "openness", "justice"):
        r = as_user(who).get(url)
        assert r.status_code == 200 and r.data == PDF, who
        assert r.headers["Content-Disposition"].startswith("attachment")
        assert "no-store" in r.headers["Cache-Control"] and r.headers["X-Content-Type-Options"] == "nosniff"
        assert SCAN_NAME not in r.headers["Content-Disposition"]
    other = factories.in_consultation(city, title="另一份办法", opens_at=utcnow() - timedelta(days=3))
    assert as_user("drafter").get(f"/staff/documents/{other.id}/offline/files/{attachment.id}").status_code == 404


# --- meetings ------------------------------------------------------------------------------------------------

def test_a_meeting_within_the_window_with_two_opinions_each_a_comment(city, as_user):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    first, last = _window(doc)
    drafter = as_user("drafter")
    form = {"kind": "hearing", "place": "市政府三楼会议室", "host": "市住建局", "attendees": f"{ATTENDEE}\n西门列席"}
    r = drafter.post(f"/staff/documents/{doc.id}/meetings/new", {**form, "held_on": (first - timedelta(days=1)).isoformat()})
    assert r.status_code == 400 and "会议日期必须在征求意见期间内" in r.get_data(as_text=True)
    r = drafter.post(f"/staff/documents/{doc.id}/meetings/new",
                     {**form, "held_on": first.isoformat(), "files": [(io.BytesIO(PDF), "纪要.pdf")]})
    assert r.status_code == 302
    meeting = db.session.scalars(select(OfflineMeeting)).one()
    assert meeting.kind == "hearing" and meeting.held_on == first
    article = consultations.consultation_of(doc).version.articles[1]
    for body, article_id in (("听证会意见一：建议降低收费标准。", article.id), ("听证会意见二：建议设置过渡期。", 0)):
        r = drafter.post(f"/staff/documents/{doc.id}/meetings/{meeting.id}", {"article_id": str(article_id), "body": body, "name": ATTENDEE, "organisation": ""})
        assert r.status_code == 302
    opinions = db.session.scalars(select(Comment).where(Comment.document_id == doc.id).order_by(Comment.id)).all()
    assert [c.channel for c in opinions] == ["meeting", "meeting"]
    assert opinions[0].article_id == article.id and opinions[1].article_id is None
    assert all(db.session.get(OfflineComment, c.id).meeting_id == meeting.id for c in opinions)
    page = drafter.get(f"/staff/documents/{doc.id}/meetings/{meeting.id}").get_data(as_text=True)
    assert "听证会意见一" in page and "听证会意见二" in page and ATTENDEE in page and "纪要.pdf" in page
    assert len(_events("record_offline_meeting")) == 1 and len(_events("log_offline_comment")) == 2
    assert tallies.counts(document=doc).total == 2
    # The staff list filters by channel.
    listed = drafter.get(f"/staff/documents/{doc.id}/comments?channel=meeting").get_data(as_text=True)
    assert "听证会意见一" in listed
    assert "听证会意见一" not in drafter.get(f"/staff/documents/{doc.id}/comments?channel=letter").get_data(as_text=True)
    # The answer page says where an opinion came from and links to its record.
    answer_page = drafter.get(f"/staff/documents/{doc.id}/comments/{opinions[0].id}").get_data(as_text=True)
    assert f"/staff/documents/{doc.id}/offline/comments/{opinions[0].id}" in answer_page


# --- the same queue: campaigns, moderation, answers, counts by channel --------------------------------------

def test_a_letter_joins_the_campaign_of_its_web_copy_and_is_moderated_and_answered_with_it(city):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    text = "强烈建议取消第二条中的收费规定，减轻居民负担。"
    web = factories.comment(doc, body=text, article_seq=2)
    article_id = web.article_id
    letter = offline.log_comment(doc, city["drafter"], channel="letter", body=text, article_id=article_id,
                                 received_on=_day(utcnow()), **SENDER)
    db.session.commit()
    factories.take_in()
    letter = db.session.get(Comment, letter.id)
    web = db.session.get(Comment, web.id)
    assert letter.campaign_id is not None and letter.campaign_id == web.campaign_id
    moderation.moderate(doc, city["openness"], [letter.id], publish=True)
    db.session.commit()
    assert db.session.get(Comment, letter.id).moderation == "published"
    factories.engine.settle(doc, utcnow() + timedelta(days=60))
    db.session.commit()
    answers.answer_campaign(doc, city["drafter"], letter.campaign_id, decision="not_adopted", reason="收费依据法规。")
    db.session.commit()
    assert db.session.get(Comment, letter.id).answer.decision == "not_adopted"
    assert tallies.counts(document=doc).unanswered == 0


def _published_with_every_channel(city):
    doc = factories.in_handling(city, comments=0, title="线下意见测试办法")
    first, last = _window(doc)
    closes = consultations.consultation_of(doc).closes_at.astimezone(consultations.SHANGHAI)
    factories.comment(doc, body="网上意见：建议公开收费标准。", article_seq=1)
    drafter = city["drafter"]
    offline.log_comment(doc, drafter, channel="letter", body="信函意见：建议明确投诉渠道。", received_on=_day(utcnow()),
                        postmarked_on=last, files=[offline.Upload(SCAN_NAME, PDF)], postal_address=ADDRESS, **SENDER)
    early = closes - timedelta(hours=2)
    offline.log_comment(doc, drafter, channel="email", body="邮件意见：建议延长公示时间。", received_on=early.date(),
                        received_time=early.time().replace(second=0, microsecond=0), name="邮件寄件人甲",
                        email="jia.sender@example.org")
    meeting = offline.create_meeting(doc, drafter, kind="symposium", held_on=first + timedelta(days=1),
                                     place="社区活动中心", host="市住建局",
                                     attendees=f"{ATTENDEE}（市民代表）{ATTENDEE_CONTACT}\n西门列席", minutes=MINUTES,
                                     files=[offline.Upload("座谈会纪要.pdf", PDF)])
    offline.add_meeting_opinion(doc, drafter, meeting.id, body="座谈会意见：建议增加社区听证。", name=ATTENDEE)
    db.session.commit()
    factories.take_in()
    factories.answer_all(doc, drafter)
    factories.adopt(doc, city, prefix="华政发")
    from consultation.services import publication
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读",
                        effective_date=utcnow().date() + timedelta(days=5), validity_years=1)
    db.session.commit()
    return doc


def test_the_feedback_page_api_and_pdf_count_the_comments_by_channel(city, app, browser):
    doc = _published_with_every_channel(city)
    doc_id = doc.id
    line = "其中网上1条、信函1条、电子邮件1条、座谈会等1条"
    page = browser.get(f"/feedback/{doc_id}").get_data(as_text=True)
    assert line in page and "信函意见：建议明确投诉渠道" in page
    api = browser.get(f"/api/v1/feedback/{doc_id}").get_json()
    assert api["by_channel"] == {"web": 1, "letter": 1, "email": 1, "meeting": 1}
    _run_worker(app)
    pdf = browser.get(f"/feedback/{doc_id}/feedback.pdf")
    assert pdf.status_code == 200
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace("\n", "")
    assert line in text


def test_no_public_page_api_feed_csv_or_pdf_shows_a_senders_details_an_attendee_or_a_scan(city, app, browser):
    doc = _published_with_every_channel(city)
    open_doc = factories.in_consultation(city, title="开放中的线下办法", opens_at=utcnow() - timedelta(days=3))
    offline.log_comment(open_doc, city["drafter"], channel="letter", body="开放期间的来信。", received_on=_day(utcnow()),
                        files=[offline.Upload(SCAN_NAME, PDF)], postal_address=ADDRESS, **SENDER)
    db.session.commit()
    factories.take_in()
    factories.moderate_all(open_doc)
    db.session.commit()
    doc_id = doc.id
    _run_worker(app)
    receipts = [c.receipt_number for c in db.session.scalars(select(Comment))]
    starts = ["/", "/library", "/feed.atom", "/search?q=办法", "/api/v1/consultations", "/api/v1/library",
              f"/feedback/{doc_id}", f"/api/v1/feedback/{doc_id}", f"/feedback/{doc_id}/feedback.csv",
              f"/feedback/{doc_id}/feedback.pdf"] + [f"/api/v1/receipts/{r}" for r in receipts]
    pages = _crawl(browser, starts, [("/receipt", {"receipt": r}) for r in receipts])
    assert "开放期间的来信" in "".join(pages.values())  # the crawl read the published texts
    secrets = [*SENDER.values(), ADDRESS, ATTENDEE, SCAN_NAME, "座谈会纪要", "邮件寄件人甲", "jia.sender@example.org",
               "%PDF-1.4", MINUTES, "纪要正文", *ATTENDEE_CONTACT.split(), "西门列席"]
    for url, body in pages.items():
        for secret in secrets:
            assert secret not in body, f"{secret!r} leaked on {url}"
    assert not any("/offline/files/" in url for url in pages)


# --- the figures by channel ----------------------------------------------------------------------------------

def test_a_letter_logged_today_for_a_consultation_closed_last_week_is_counted_in_the_figures(city):
    doc = factories.in_handling(city, comments=1)
    _first, last = _window(doc)
    now = utcnow()
    statistics.fold_channels(now + timedelta(minutes=10))  # the web comment, folded long ago
    offline.log_comment(doc, city["drafter"], channel="letter", body="迟到的来信。", received_on=_day(now),
                        postmarked_on=last)
    db.session.commit()
    statistics.fold_channels(now + timedelta(minutes=1))  # too fresh: waits for the fold's delay
    statistics.fold_channels(now + timedelta(minutes=10))
    consultation_id = consultations.consultation_of(doc).id
    rows = dict(db.session.execute(select(ChannelTally.channel, ChannelTally.n)
                                   .where(ChannelTally.consultation_id == consultation_id)).all())
    assert rows == {"web": 1, "letter": 1}
    logged = db.session.scalars(select(Comment).where(Comment.channel == "letter")).one()
    assert logged.created_at >= now  # logged now, not back-dated: the fold's id watermark cannot skip it


# --- review findings: the receipt's dates, full-width punctuation, the review packet, the minutes -----------

def test_the_receipt_lookup_shows_when_a_logged_comment_came_not_when_it_was_logged(city, browser):
    doc = factories.in_handling(city, comments=0)
    first, last = _window(doc)
    closes = consultations.consultation_of(doc).closes_at.astimezone(consultations.SHANGHAI)
    drafter = city["drafter"]
    today = _day(utcnow())
    letter = offline.log_comment(doc, drafter, channel="letter", body="迟到的信。", received_on=today,
                                 postmarked_on=last)
    early = closes - timedelta(hours=2)
    email = offline.log_comment(doc, drafter, channel="email", body="截止前的邮件。", received_on=early.date(),
                                received_time=early.time().replace(second=0, microsecond=0))
    meeting = offline.create_meeting(doc, drafter, kind="hearing", held_on=first, place="礼堂", host="市住建局",
                                     attendees=ATTENDEE, minutes=MINUTES)
    opinion = offline.add_meeting_opinion(doc, drafter, meeting.id, body="听证会上的意见。")
    db.session.commit()
    from consultation.i18n import local_time

    def lookup(comment) -> str:
        page = browser.post("/receipt", {"receipt": comment.receipt_number}).get_data(as_text=True)
        assert comment.body in page and local_time(comment.created_at) not in page  # never the logging time
        assert "提交时间" not in page and ATTENDEE not in page and MINUTES not in page
        return page

    page = lookup(letter)
    assert f"<dt>收到日期</dt><dd id=\"receipt-received\">{today.isoformat()}</dd>" in page
    assert f"<dt>邮戳日期</dt><dd id=\"receipt-postmark\">{last.isoformat()}</dd>" in page
    page = lookup(email)
    assert f"<dd id=\"receipt-received\">{early.strftime('%Y-%m-%d %H:%M')}</dd>" in page and "邮戳日期" not in page
    page = lookup(opinion)
    assert f"<dt>会议日期</dt><dd id=\"receipt-received\">{first.isoformat()}</dd>" in page
    web = factories.comment(doc, body="网上的意见。")
    db.session.commit()
    page = browser.post("/receipt", {"receipt": web.receipt_number}).get_data(as_text=True)
    assert "提交时间" in page and "收到日期" not in page  # a web comment: its time of submission, as before
    browser.get("/lang/en")
    page = browser.post("/receipt", {"receipt": letter.receipt_number}).get_data(as_text=True)
    assert "<dt>Date received</dt>" in page and "<dt>Postmark date</dt>" in page and "收到日期" not in page


def test_the_logged_comment_page_uses_full_width_punctuation_in_chinese(city, as_user):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    comment = offline.log_comment(doc, city["drafter"], channel="letter", body="来信。", received_on=_day(utcnow()),
                                  files=[offline.Upload(SCAN_NAME, PDF + b"%" * 200)])
    db.session.commit()
    page = as_user("drafter").get(f"/staff/documents/{doc.id}/offline/comments/{comment.id}").get_data(as_text=True)
    from consultation.receipts import display
    assert f"回执编号：<strong>{display(comment.receipt_number)}</strong>" in page and "回执编号:" not in page
    assert "（application/pdf，0.2 KB）" in page and "application/pdf, " not in page


def test_a_meeting_keeps_its_typed_minutes_for_the_staff_only(city, as_user, browser):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=3))
    first, _last = _window(doc)
    drafter = as_user("drafter")
    form_page = drafter.get(f"/staff/documents/{doc.id}/meetings/new").get_data(as_text=True)
    assert 'name="minutes"' in form_page and "会议纪要（选填）" in form_page
    form = {"kind": "symposium", "held_on": first.isoformat(), "place": "社区活动中心", "host": "市住建局",
            "attendees": ATTENDEE}
    r = drafter.post(f"/staff/documents/{doc.id}/meetings/new", {**form, "minutes": "长" * (offline.MAX_MINUTES + 1)})
    assert r.status_code == 400 and not db.session.scalars(select(OfflineMeeting)).all()
    r = drafter.post(f"/staff/documents/{doc.id}/meetings/new", {**form, "minutes": MINUTES})
    assert r.status_code == 302
    meeting = db.session.scalars(select(OfflineMeeting)).one()
    assert meeting.minutes == MINUTES
    page = drafter.get(f"/staff/documents/{doc.id}/meetings/{meeting.id}").get_data(as_text=True)
    assert MINUTES in page
    [event] = _events("record_offline_meeting")
    assert '"minutes": true' in event.payload and MINUTES not in event.payload  # the trail says only that there are
    # Without minutes typed in, the page says so.
    r = drafter.post(f"/staff/documents/{doc.id}/meetings/new", form)
    page = drafter.get(r.headers["Location"]).get_data(as_text=True)
    assert "未录入会议纪要文字" in page
    # Another department's staff and visitors never see them.
    assert browser.get(f"/staff/documents/{doc.id}/meetings/{meeting.id}").status_code == 302


def test_the_time_field_is_styled_like_the_other_inputs(browser):
    css = browser.get("/static/site.css").get_data(as_text=True)
    rule = next(line for line in css.splitlines() if "input[type=date]" in line)
    assert "input[type=time]" in rule


def test_the_review_packet_shows_each_comments_channel_the_counts_by_channel_and_the_meetings(app, city):
    from consultation import reports

    from .test_comparison import _pdf_text

    doc = _published_with_every_channel(city)
    first, last = _window(doc)
    text = _pdf_text(reports.review_packet(doc)).replace(" ", "")
    assert "其中网上1条、信函1条、电子邮件1条、座谈会等1条。" in text
    assert "座谈会、听证会等会议情况" in text
    assert f"座谈会·{(first + timedelta(days=1)).isoformat()}·社区活动中心·主持：市住建局·提出意见1条" in text
    # The packet is for the reviewers: the attendees as recorded, never an email or telephone number; the minutes.
    assert f"参加人员：{ATTENDEE}（市民代表）（略）（略）西门列席" in text
    for contact in ATTENDEE_CONTACT.split():
        assert contact not in text
    assert MINUTES in text
    # Each comment says how it came, and an offline one when (not when it was logged).
    assert "来源：网站" in text and f"来源：信函（收到{_day(utcnow()).isoformat()}·邮戳{last.isoformat()}）" in text
    assert "来源：电子邮件（收到" in text and f"来源：座谈会等（会议日期{(first + timedelta(days=1)).isoformat()}）" in text
    # No sender's details, as before.
    for secret in (*SENDER.values(), ADDRESS, "邮件寄件人甲", "jia.sender@example.org"):
        assert secret not in text
    # The reviewers' comment summary has the sender's details, with the day the letter came, not its logging.
    summary = _pdf_text(reports.comment_summary(doc)).replace(" ", "")
    assert f"{SENDER['name']}·{SENDER['organisation']}" in summary
    assert f"收到{_day(utcnow()).isoformat()}·邮戳{last.isoformat()}·信函" in summary
