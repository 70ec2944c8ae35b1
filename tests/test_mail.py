"""Notifications reach the people they concern, through a real SMTP server on localhost (aiosmtpd) and a
real RQ worker; without a server they are written as .eml files."""
from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from consultation.extensions import db
from consultation.models import BackgroundJob, JobState, Notification, ReviewOrgan, User, utcnow
from consultation.receipts import display
from consultation.services import notifications, review

from . import factories
from .test_pdf_job import _run_worker

EMAILS = {"drafter": "wang.drafter@zjj.huacheng.gov.cn", "drafter2": "zhao@scjg.huacheng.gov.cn",
          "govoffice": "chen@zfb.huacheng.gov.cn", "justice": "zhou@sfj.huacheng.gov.cn",
          "head": "li.head@zjj.huacheng.gov.cn"}


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler hook name
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()


@pytest.fixture
def addressed(city):
    """The demo staff with email addresses."""
    for username, address in EMAILS.items():
        db.session.scalars(select(User).where(User.username == username)).one().email = address
    db.session.commit()
    return city


def test_the_clock_records_a_closing_and_tells_the_drafting_department_once(app, addressed, smtp):
    doc = factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50))
    doc_id, title = doc.id, doc.title
    assert doc.stage == "consultation"  # nobody has looked since the closing time
    assert notifications.tick()["settled"] == 1
    assert notifications.tick()["settled"] == 0  # the next tick finds nothing to do
    _run_worker(app)
    received = smtp.to(EMAILS["drafter"])
    assert len(received) == 1 and len(smtp.messages) == 1  # drafter2 is in another department
    message = received[0]
    assert title in message["Subject"] and "征求意见已截止" in message["Subject"]
    assert f"/staff/documents/{doc_id}" in message.get_content()
    notification = db.session.scalars(select(Notification)).one()
    assert notification.sent_at is not None and notification.transport.startswith("smtp 127.0.0.1")


def test_a_page_view_that_notices_the_closing_first_notifies_the_same_once(app, addressed, smtp, as_user):
    doc = factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50))
    assert as_user("drafter").get(f"/staff/documents/{doc.id}").status_code == 200  # settles on view
    notifications.tick()
    _run_worker(app)
    assert len(smtp.to(EMAILS["drafter"])) == 1


def test_reviewers_hear_of_a_submission_and_the_drafter_of_a_return(app, addressed, smtp):
    doc = factories.in_joint_review(addressed)
    doc_id, title = doc.id, doc.title
    db.session.commit()
    _run_worker(app)
    for reviewer in ("govoffice", "justice"):
        [message] = [m for m in smtp.to(EMAILS[reviewer]) if "收到送审材料" in m["Subject"]]
        assert title in message["Subject"]
    doc = db.session.get(factories.Document, doc_id)
    govoffice = db.session.scalars(select(User).where(User.username == "govoffice")).one()
    review.return_for_revision(doc, govoffice, ReviewOrgan.GOVERNMENT_OFFICE, "请补充依据。")
    db.session.commit()
    _run_worker(app)
    [returned] = [m for m in smtp.to(EMAILS["drafter"]) if "送审稿被退回" in m["Subject"]]
    assert "逐条答复" in returned.get_content()
    assert not [m for m in smtp.to(EMAILS["drafter2"])]


def test_commenters_who_left_an_address_hear_that_the_feedback_is_published(app, addressed, smtp):
    from consultation.services import publication

    doc = factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50))
    receipt = factories.comment(doc, body="建议一。", email="citizen.one@example.net").receipt_number
    factories.comment(doc, body="建议二。")  # no address: nobody to tell
    factories.engine.settle(doc)
    factories.answer_all(doc, addressed["drafter"])
    doc_id = factories.adopt(doc, addressed).id
    notifications.tick()
    _run_worker(app)
    # The receipt at once; then the feedback, public before the executive meeting (services/feedback_stage.py).
    receipt_mail, before_meeting = smtp.to("citizen.one@example.net")
    assert "意见回执" in receipt_mail["Subject"] and receipt[:4] in receipt_mail.get_content()
    assert "提交常务会议审议前" in before_meeting["Subject"] and display(receipt) in before_meeting.get_content()
    doc = db.session.get(factories.Document, doc_id)
    govoffice = db.session.scalars(select(User).where(User.username == "govoffice")).one()
    publication.publish(doc, govoffice, final_text=factories.REVISED, policy_interpretation="",
                        effective_date=utcnow().date() + factories.timedelta(days=5), validity_years=5)
    db.session.commit()
    notifications.tick()  # the worker's clock tells the commenters, a page at a time
    _run_worker(app)
    [message] = [m for m in smtp.to("citizen.one@example.net") if "意见采纳情况已公布" in m["Subject"]]
    assert "意见采纳情况已公布" in message["Subject"] and display(receipt) in message.get_content()
    assert f"/feedback/{doc_id}" in message.get_content()
    told = [rcpts for rcpts, m in smtp.messages if "意见采纳情况已公布" in m["Subject"]]
    assert told == [["citizen.one@example.net"]]


def test_a_published_draft_tells_each_address_once_in_pages_read_by_the_clock(app, addressed, smtp, monkeypatch):
    from consultation.models import Mailing
    from consultation.services import publication

    doc = factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50))
    addresses = [f"person{i}@example.net" for i in range(5)] + ["Person0@Example.NET"]  # the same person twice
    for i, address in enumerate(addresses):
        factories.comment(doc, body=f"第{i}条建议。", email=address)
    factories.engine.settle(doc)
    factories.answer_all(doc, addressed["drafter"])
    doc_id = factories.adopt(doc, addressed).id
    notifications.tick()  # the mailing of the feedback before the meeting (services/feedback_stage.py) goes first
    doc = db.session.get(factories.Document, doc_id)
    govoffice = db.session.scalars(select(User).where(User.username == "govoffice")).one()
    publication.publish(doc, govoffice, final_text=factories.REVISED, policy_interpretation="",
                        effective_date=utcnow().date() + factories.timedelta(days=5), validity_years=5)
    db.session.commit()
    # The publishing request queued no mail for the commenters: it only recorded the mailing.
    assert not db.session.scalars(select(Notification).where(Notification.event == "feedback_published")).all()
    monkeypatch.setitem(app.config, "MAILING_BATCH", 2)
    monkeypatch.setitem(app.config, "MAILING_BATCHES_PER_TICK", 1)
    told = []
    for _ in range(5):  # 6 comments, 2 per page, 1 page per tick: three ticks, then nothing more
        told.append(notifications.tick()["mailed"])
    assert told == [2, 2, 1, 0, 0]
    mailing = db.session.scalars(select(Mailing).where(Mailing.document_id == doc_id,
                                                       Mailing.event == "feedback_published")).one()
    assert mailing.finished_at is not None and mailing.sent == 5
    _run_worker(app)
    published = [rcpts for rcpts, m in smtp.messages if "意见采纳情况已公布" in m["Subject"]]
    assert sorted(r for [r] in published) == sorted(addresses[:5])


def test_the_justice_bureau_is_reminded_once_when_the_legality_review_is_due_soon(app, addressed, smtp):
    from consultation.workflow import deadlines, engine

    doc = factories.in_joint_review(addressed)
    deadline = engine.procedure_of(doc).deadlines["legality_review"]
    entered = utcnow()
    while deadlines.state(doc, deadline).working_days_left > 2:
        entered -= factories.timedelta(days=1)
        doc.stage_entered_at = entered
    title = doc.title
    db.session.commit()
    assert notifications.tick()["reminded"] == 1
    assert notifications.tick()["reminded"] == 0
    _run_worker(app)
    [reminder] = [m for m in smtp.to(EMAILS["justice"]) if "即将到期" in m["Subject"]]
    assert title in reminder["Subject"]
    assert not [m for m in smtp.to(EMAILS["govoffice"]) if "即将到期" in m["Subject"]]


def test_without_a_mail_server_mails_are_written_as_eml_files(app, addressed, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path / "mail"))
    factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50))
    notifications.tick()
    _run_worker(app)
    [written] = list((tmp_path / "mail").glob("*.eml"))
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == EMAILS["drafter"] and "征求意见已截止" in message["Subject"]
    assert db.session.scalars(select(Notification.transport)).one() == str(written)


def test_a_mail_job_that_cannot_reach_the_server_fails_visibly_and_is_sent_on_rerun(app, addressed, smtp,
                                                                                     monkeypatch, as_user):
    working_port = app.config["MAIL_PORT"]
    monkeypatch.setitem(app.config, "MAIL_PORT", _free_port())  # the mail server is away: nothing listens
    monkeypatch.setitem(app.config, "RQ_RETRIES", 0)
    doc_id = factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50)).id
    notifications.tick()
    _run_worker(app)
    job = db.session.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail")).one()
    assert job.state == JobState.FAILED.value and "Connection" in job.error
    page = as_user("drafter").get(f"/staff/documents/{doc_id}/jobs").get_data(as_text=True)
    assert "征求意见已截止" in page and f"/staff/jobs/{job.id}/rerun" in page
    monkeypatch.setitem(app.config, "MAIL_PORT", working_port)  # the mail server is back
    r = as_user("drafter").post(f"/staff/jobs/{job.id}/rerun", {}, form_page=f"/staff/documents/{doc_id}/jobs")
    assert r.status_code == 302
    _run_worker(app)
    assert len(smtp.to(EMAILS["drafter"])) == 1


def test_no_mail_goes_out_twice_for_the_same_event(app, addressed, smtp):
    factories.in_consultation(addressed, opens_at=utcnow() - factories.timedelta(days=50))
    notifications.tick()
    _run_worker(app)
    job = db.session.scalars(select(BackgroundJob).where(BackgroundJob.kind == "mail")).one()
    from consultation import queue as queues
    from consultation.tasks import run_background_job

    queues.queue("mail").enqueue(run_background_job, job.id)  # a stray second delivery of the same job
    _run_worker(app)
    assert len(smtp.messages) == 1


# --- subscriptions to new consultations (seed item 十八) ----------------------------------------------

def _link_in(message, path: str) -> str:
    import re

    return re.search(rf"https?://[^\s]+({re.escape(path)}[^\s]+)", message.get_content()).group(1)


def test_a_subscriber_confirms_then_hears_of_new_consultations_of_the_department_and_can_end_it(
        app, city, smtp, browser):
    from consultation.models import Department

    housing = db.session.scalars(select(Department.id).where(Department.name == "华城市住房和城乡建设局")).one()
    r = browser.post("/subscribe", {"email": "reader@example.org", "department": str(housing)})
    assert r.status_code == 200 and "确认" in r.get_data(as_text=True)
    other = browser.post("/subscribe", {"email": "everything@example.org", "department": "0"})
    assert other.status_code == 200
    _run_worker(app)
    [confirmation] = smtp.to("reader@example.org")
    # Not confirmed yet: a consultation opening now is not announced.
    city = {u.username: u for u in db.session.scalars(select(User))}  # the worker ended the test's session
    doc = factories.in_consultation(city)
    title = doc.title
    notifications.tick()
    _run_worker(app)
    assert len(smtp.to("reader@example.org")) == 1
    assert browser.get(_link_in(confirmation, "/subscribe/confirm/")).status_code == 200
    notifications.tick()
    notifications.tick()  # once only
    _run_worker(app)
    announcements = [m for m in smtp.to("reader@example.org") if "公开征求意见】" in m["Subject"]]
    assert len(announcements) == 1 and title in announcements[0]["Subject"]
    assert "/consultations/" in announcements[0].get_content()
    assert not [m for m in smtp.to("everything@example.org") if "公开征求意见】" in m["Subject"]]  # unconfirmed
    # A draft of another department is not announced to a subscriber of the housing bureau.
    market = drafting_document_of(city, "drafter2")
    notifications.tick()
    _run_worker(app)
    assert not [m for m in smtp.to("reader@example.org") if market in m["Subject"]]
    # Ending: the link shows a button; opening it alone ends nothing.
    end = _link_in(announcements[0], "/subscribe/end/")
    assert browser.get(end).status_code == 200
    assert db.session.scalars(select(factories.Subscription)).first().ended_at is None
    assert browser.post(end, {}).status_code == 200
    db.session.expire_all()
    ended = db.session.scalars(select(factories.Subscription).where(
        factories.Subscription.email == "reader@example.org")).one()
    assert ended.ended_at is not None


def drafting_document_of(city, username: str) -> str:
    """Open a consultation on a draft of another department; return its title."""
    from consultation.services import consultations, drafting
    from consultation.workflow import engine

    users = {u.username: u for u in db.session.scalars(select(User))}
    head = "head2" if username == "drafter2" else "head"
    doc = drafting.create_document(users[username], title="华城市市场主体登记办法", body=factories.DRAFT,
                                   explanation="说明", affects_public_rights=True)
    engine.perform(doc, "request_predisclosure", users[username])
    engine.perform(doc, "head_approve_predisclosure", users[head])
    now = utcnow()
    consultations.open_consultation(doc, users["openness"], opens_at=now, closes_at=now + factories.timedelta(days=45),
                                    notice="公告", now=now)
    db.session.commit()
    return doc.title


def test_a_bad_address_is_refused_in_chinese_and_a_bad_link_is_404(city, browser):
    r = browser.post("/subscribe", {"email": "not-an-address", "department": "0"})
    assert r.status_code == 400 and "电子邮箱地址格式不正确" in r.get_data(as_text=True)
    assert browser.get("/subscribe/confirm/nonsense").status_code == 404
    assert browser.get("/subscribe/end/nonsense").status_code == 404


def test_subscriber_addresses_never_appear_on_public_pages(app, city, browser):
    browser.post("/subscribe", {"email": "secret.reader@example.org", "department": "0"})
    for page in ("/", "/subscribe", "/receipt"):
        assert "secret.reader" not in browser.get(page).get_data(as_text=True)


def test_a_comment_sent_through_the_api_gets_its_receipt_by_mail(app, city, smtp):
    from consultation.services import consultations

    doc = factories.in_consultation(city)
    consultation_id = consultations.consultation_of(doc).id
    r = app.test_client().post(f"/api/v1/consultations/{consultation_id}/comments",
                               json={"body": "通过开放接口提交的意见。", "email": "api.user@example.net"})
    assert r.status_code == 201
    _run_worker(app)
    [message] = smtp.to("api.user@example.net")
    assert "意见回执" in message["Subject"] and r.get_json()["receipt_display"] in message.get_content()


def test_the_subscription_form_cannot_flood_an_inbox(app, city, smtp, browser, monkeypatch):
    """Asked again and again for one address, the form mails one confirmation a day; and each client
    address may ask only a few times an hour."""
    for _ in range(4):
        r = browser.post("/subscribe", {"email": "Victim@Example.org", "department": "0"})
        assert r.status_code == 200 and "确认" in r.get_data(as_text=True)  # the same page each time
    _run_worker(app)
    assert len(smtp.to("Victim@Example.org")) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(factories.Subscription)) == 1
    from consultation.models import Department
    from consultation.services import subscriptions

    monkeypatch.setattr(subscriptions, "CONFIRMATIONS_PER_ADDRESS_PER_DAY", 2)
    for department_id in db.session.scalars(db.select(Department.id).where(Department.kind == "drafting")):
        r = browser.post("/subscribe", {"email": "victim@example.org", "department": str(department_id)})
        assert r.status_code == 200
    _run_worker(app)  # one more choice was mailed, the next one not: two a day whatever the choice
    assert len(smtp.to("Victim@Example.org")) + len(smtp.to("victim@example.org")) == 2
    before = app.config["SUBSCRIBE_RATE_LIMIT"]
    app.config["SUBSCRIBE_RATE_LIMIT"] = "2 per hour"
    try:
        codes = [browser.post("/subscribe", {"email": f"reader{i}@example.org", "department": "0"},
                              environ_base={"REMOTE_ADDR": "198.51.100.40"}).status_code for i in range(3)]
    finally:
        app.config["SUBSCRIBE_RATE_LIMIT"] = before
    assert codes == [200, 200, 429]


def test_receipts_to_one_address_are_capped_per_day_and_the_comments_kept(app, city, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "RECEIPT_MAILS_PER_ADDRESS_PER_DAY", 2)
    doc = factories.in_consultation(city)
    receipts = [factories.comment(doc, body=f"第{i}条不同的意见：{'甲乙丙'[i]}。", email="Flooded@example.org").receipt_number
                for i in range(3)]
    factories.comment(doc, body="另一个地址的意见。", email="other@example.org")
    _run_worker(app)
    mails = smtp.to("Flooded@example.org")
    assert len(mails) == 2 and receipts[0][:4] in mails[0].get_content()
    assert len(smtp.to("other@example.org")) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(factories.Comment)) == 4
