"""The public site of issue 4: moderation, campaign groups, the rate limit, the notice's channels and the
library (规范性文件库) with its statuses, history and download."""
from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultation import campaigns
from consultation.errors import InvalidInput, NotAllowed
from consultation.extensions import db
from consultation.models import AuditEvent, BackgroundJob, Comment, LibraryEvent
from consultation.services import answers, consultations, library, moderation, publication
from consultation.services.publication import SHANGHAI, LibraryStatus

from . import factories


def text_of(response) -> str:
    return response.get_data(as_text=True)


def _page(doc) -> str:
    return f"/consultations/{consultations.consultation_of(doc).id}"


def _ids(doc) -> list[int]:
    return [c.id for c in factories.comments(doc)]


# --- moderation ---------------------------------------------------------------------------------

def test_a_comment_is_public_only_once_the_openness_office_publishes_it(city, browser, as_user):
    doc = factories.in_consultation(city)
    browser.post(_page(doc), {"article_id": "0", "body": "建议在第二条中写明投诉渠道。"})
    [comment] = factories.comments(doc)
    assert comment.moderation == "pending"
    assert "建议在第二条中写明投诉渠道" not in text_of(browser.get(_page(doc)))
    officer = as_user("openness")
    queue = f"/staff/documents/{doc.id}/moderation"
    assert "建议在第二条中写明投诉渠道" in text_of(officer.get(queue))
    assert officer.post(queue, {"comments": [str(comment.id)], "action": "publish"}).status_code == 302
    assert "建议在第二条中写明投诉渠道" in text_of(browser.get(_page(doc)))
    [event] = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "moderate_comment")).all()
    payload = json.loads(event.payload)
    assert payload["to"] == "published" and payload["comment_id"] == comment.id


@pytest.mark.parametrize("username", ["drafter", "head", "govoffice", "justice"])
def test_only_the_openness_office_moderates(city, as_user, username):
    doc = factories.in_consultation(city)
    factories.comment(doc, body="待审核的意见。")
    with pytest.raises(NotAllowed):
        moderation.moderate(doc, city[username], _ids(doc), publish=True)
    db.session.rollback()
    r = as_user(username).post(f"/staff/documents/{doc.id}/moderation",
                               {"comments": [str(i) for i in _ids(doc)], "action": "publish"})
    assert r.status_code in (403, 404)
    assert {c.moderation for c in factories.comments(doc)} == {"pending"}


def test_hiding_needs_one_of_the_recorded_reasons_and_keeps_the_typed_note(city, as_user):
    doc = factories.in_consultation(city)
    factories.comment(doc, body="某某公司电话13900000000，欢迎来电。")
    with pytest.raises(InvalidInput):
        moderation.moderate(doc, city["openness"], _ids(doc), publish=False, reason="dislike")
    db.session.rollback()
    r = as_user("openness").post(f"/staff/documents/{doc.id}/moderation",
                                 {"comments": [str(i) for i in _ids(doc)], "action": "hide", "reason": "",
                                  "note": "广告"})
    assert r.status_code == 400 and "请选择不予公开的原因" in text_of(r) and "广告" in text_of(r)
    moderation.moderate(doc, city["openness"], _ids(doc), publish=False, reason="spam", note="广告")
    db.session.commit()
    [c] = factories.comments(doc)
    assert (c.moderation, c.hidden_reason, c.moderation_note) == ("hidden", "spam", "广告")


def test_hidden_comments_are_counted_answered_and_explained_on_the_feedback(city, browser):
    doc = factories.in_handling(city, comments=0)
    factories.comment(doc, body="建议增加对老年人的优惠措施。", article_seq=1)
    factories.comment(doc, body="点击链接领取红包 http://spam.example", article_seq=1)
    factories.comment(doc, body="张三住在某小区，电话13812345678。", article_seq=2)
    kept, spam, personal = _ids(doc)
    moderation.moderate(doc, city["openness"], [kept], publish=True)
    moderation.moderate(doc, city["openness"], [spam], publish=False, reason="spam")
    db.session.commit()
    # Publication waits for every comment to be moderated (answered here without the factory, which moderates).
    for cid in (kept, spam, personal):
        answers.answer_comment(doc, city["drafter"], cid, decision="not_adopted", reason="不予采纳的理由。")
    db.session.commit()
    from consultation.workflow.conditions import all_comments_moderated
    assert "1" in all_comments_moderated(doc, factories.utcnow())
    moderation.moderate(doc, city["openness"], [personal], publish=False, reason="personal_data")
    db.session.commit()
    assert all_comments_moderated(doc, factories.utcnow()) is None
    doc = _publish(doc, city)

    page = text_of(browser.get(f"/feedback/{doc.id}"))
    assert "共收到意见3条" in page and "未采纳3条" in page
    assert "建议增加对老年人的优惠措施" in page
    assert "红包" not in page and "13812345678" not in page and "张三" not in page
    assert "其中2条意见已计入并答复，但内容不予公开显示" in page
    assert "广告或无意义内容1条" in page and "含他人个人信息1条" in page
    assert page.count("不予采纳的理由") == 3  # the hidden ones still have their answer
    rows = list(csv.reader(io.StringIO(text_of(browser.get(f"/feedback/{doc.id}/feedback.csv")).lstrip("\ufeff"))))
    assert len(rows) == 4 and not any("红包" in cell or "13812345678" in cell for row in rows for cell in row)
    assert sum("不予公开显示" in row[2] for row in rows[1:]) == 2


def _publish(doc, city):
    factories.adopt(doc, city)
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读。",
                        effective_date=factories.utcnow().date() + timedelta(days=30), validity_years=5)
    db.session.commit()
    return doc


def test_hiding_after_publication_updates_the_feedback_and_asks_for_a_new_pdf(city, browser):
    doc = factories.in_handling(city, comments=0)
    factories.comment(doc, body="我邻居李四的身份证号是……", article_seq=1)
    factories.answer_all(doc, city["drafter"])  # published by the openness office in the factory
    doc = _publish(doc, city)
    assert "李四" in text_of(browser.get(f"/feedback/{doc.id}"))
    pdf_jobs = db.session.scalar(db.select(db.func.count(BackgroundJob.id)).where(BackgroundJob.kind == "feedback_pdf"))
    moderation.moderate(doc, city["openness"], _ids(doc), publish=False, reason="personal_data")
    db.session.commit()
    assert "李四" not in text_of(browser.get(f"/feedback/{doc.id}"))
    assert db.session.scalar(db.select(db.func.count(BackgroundJob.id)).where(
        BackgroundJob.kind == "feedback_pdf")) == pdf_jobs + 1


def test_the_public_pdf_is_always_the_one_made_from_the_current_moderation(app, city, browser):
    """Hidden, published by mistake, hidden again: the PDF offered is never one that shows a hidden text."""
    import io

    from pypdf import PdfReader

    from .test_pdf_job import _run_worker

    doc = factories.in_handling(city, comments=0)
    factories.comment(doc, body="我邻居李四的电话是……", article_seq=1)
    factories.comment(doc, body="建议第二条写明期限。", article_seq=2)
    factories.answer_all(doc, city["drafter"])
    doc_id, officer_id = _publish(doc, city).id, city["openness"].id
    secret = next(c.id for c in factories.comments(doc) if "李四" in c.body)

    def pdf_text() -> str | None:
        r = browser.get(f"/feedback/{doc_id}/feedback.pdf")
        if r.status_code == 404:
            assert "PDF版本正在生成中" in text_of(browser.get(f"/feedback/{doc_id}"))
            return None
        return "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.data)).pages)

    def moderate(publish: bool) -> None:
        document = db.session.get(factories.Document, doc_id)
        officer = db.session.get(factories.User, officer_id)
        moderation.moderate(document, officer, [secret], publish=publish,
                            reason=None if publish else "personal_data")
        db.session.commit()

    _run_worker(app)
    assert "李四" in pdf_text()
    moderate(publish=False)
    assert pdf_text() is None  # the old PDF is withdrawn at once, not after the worker's turn
    _run_worker(app)
    assert "李四" not in pdf_text()
    moderate(publish=True)  # by mistake: every change is a new version of the feedback, made again by the worker
    assert pdf_text() is None
    _run_worker(app)
    assert "李四" in pdf_text()
    moderate(publish=False)
    _run_worker(app)
    text = pdf_text()
    assert text is not None and "李四" not in text and "建议第二条写明期限" in text
    assert browser.get(f"/api/v1/feedback/{doc_id}").get_json()["links"]["pdf"] is not None


# --- campaign groups ----------------------------------------------------------------------------

CAMPAIGN = "坚决反对提高停车收费标准，请保留夜间免费停车，照顾周边居民的实际困难！"


def test_identical_and_near_identical_comments_form_one_group_unrelated_ones_do_not(city):
    doc = factories.in_consultation(city)
    first = factories.comment(doc, body=CAMPAIGN, article_seq=2)
    same = factories.comment(doc, body=CAMPAIGN, article_seq=2)
    spaced = factories.comment(doc, body=" ".join(CAMPAIGN).replace("！", "。"), article_seq=2)  # spaces, punctuation
    edited = factories.comment(doc, body=CAMPAIGN.replace("坚决", "强烈"), article_seq=2)  # one word changed
    other = factories.comment(doc, body="建议第二条明确收费标准的听证程序和公示期限。", article_seq=2)
    elsewhere = factories.comment(doc, body=CAMPAIGN, article_seq=3)  # another article: its own group
    db.session.expire_all()
    group = db.session.get(Comment, first.id).campaign
    assert group is not None and group.representative_id == first.id
    assert {c.id for c in factories.members(group)} == {first.id, same.id, spaced.id, edited.id}
    assert db.session.get(Comment, other.id).campaign_id is None
    assert db.session.get(Comment, elsewhere.id).campaign_id is None


def test_a_large_campaign_keeps_one_text_to_compare_with(city):
    """Members are represented by the group's first text: a new comment meets one candidate per distinct
    text, however many thousands joined the campaign."""
    from consultation.models import CommentBand

    doc = factories.in_consultation(city)
    for i in range(40):
        factories.comment(doc, body=CAMPAIGN if i % 2 else CAMPAIGN.replace("坚决", "强烈"), article_seq=2)
    factories.comment(doc, body="建议第二条明确收费标准的听证程序和公示期限。", article_seq=2)
    [group] = factories.groups(doc)
    assert len(factories.members(group)) == 40
    banded = set(db.session.scalars(db.select(CommentBand.comment_id).distinct()))
    assert len(banded) == 2 and group.representative_id in banded  # the group's first text and the other one
    # Each carries its bands and the key of its exact wording, which finds a copy without MinHash.
    assert db.session.scalar(db.select(db.func.count()).select_from(CommentBand)) == 2 * (campaigns.BANDS + 1)
    assert db.session.scalar(db.select(db.func.count()).select_from(CommentBand)
                             .where(CommentBand.band == campaigns.exact_key("，" + CAMPAIGN.replace("坚决", "强烈") + "　"))) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4E80), min_size=12, max_size=80),
       noise=st.lists(st.sampled_from(["，", "。", " ", "！", "\u3000"]), max_size=6))
def test_a_copy_with_other_spaces_and_punctuation_is_always_recognised(text, noise):
    copy = "".join(noise) + text + "".join(noise)
    assert campaigns.similarity(campaigns.shingles(text), campaigns.shingles(copy)) == 1.0
    assert set(campaigns.bands(campaigns.shingles(text))) == set(campaigns.bands(campaigns.shingles(copy)))


def test_staff_answer_a_group_at_once_and_the_feedback_shows_one_text_with_the_count(city, as_user, browser):
    doc = factories.in_handling(city, comments=0)
    for _ in range(4):
        factories.comment(doc, body=CAMPAIGN, article_seq=2)
    factories.comment(doc, body="建议第二条明确听证程序。", article_seq=2)
    [group] = factories.groups(doc)
    drafter = as_user("drafter")
    page = text_of(drafter.get(f"/staff/documents/{doc.id}/campaigns"))
    assert CAMPAIGN in page and "统一答复本组4条意见" in page
    r = drafter.post(f"/staff/documents/{doc.id}/campaigns/{group.id}",
                     {"decision": "partly_adopted", "reason": "夜间免费时段予以保留。"},
                     form_page=f"/staff/documents/{doc.id}/campaigns")
    assert r.status_code == 302
    db.session.expire_all()
    assert {c.answer.decision for c in factories.members(group)} == {"partly_adopted"}
    # One audit event records the group's answer and how many comments it covered.
    [event] = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "answer_campaign")).all()
    assert '"count": 4' in event.payload and '"decision": "partly_adopted"' in event.payload
    factories.answer_all(doc, city["drafter"])
    doc = _publish(doc, city)
    feedback = text_of(browser.get(f"/feedback/{doc.id}"))
    assert feedback.count(CAMPAIGN) == 1 and "相同或相近意见4条" in feedback
    assert "共收到意见5条，采纳1条，部分采纳4条" in feedback


def test_a_group_answer_needs_a_reason_and_the_drafters_role(city, as_user):
    doc = factories.in_handling(city, comments=0)
    factories.comment(doc, body=CAMPAIGN, article_seq=2)
    factories.comment(doc, body=CAMPAIGN, article_seq=2)
    [group] = factories.groups(doc)
    url = f"/staff/documents/{doc.id}/campaigns/{group.id}"
    r = as_user("drafter").post(url, {"decision": "adopted", "reason": ""}, form_page=url.rsplit("/", 1)[0])
    assert r.status_code == 400
    r = as_user("govoffice").post(url, {"decision": "adopted", "reason": "理由"}, form_page=url.rsplit("/", 1)[0])
    assert r.status_code in (400, 403, 404)
    assert not any(c.answer for c in factories.comments(doc))


# --- the rate limit -----------------------------------------------------------------------------

@pytest.fixture
def low_limit(app):
    before = app.config["COMMENT_RATE_LIMIT"]
    app.config["COMMENT_RATE_LIMIT"] = "2 per minute"
    yield
    app.config["COMMENT_RATE_LIMIT"] = before


def test_the_rate_limit_refuses_a_third_comment_and_keeps_its_text(city, browser, low_limit):
    doc = factories.in_consultation(city)
    address = {"REMOTE_ADDR": "198.51.100.7"}
    for i in range(2):
        r = browser.post(_page(doc), {"article_id": "0", "body": f"第{i}条不同的意见：{'甲乙'[i]}。"},
                         environ_base=address)
        assert r.status_code == 302
    r = browser.post(_page(doc), {"article_id": "0", "body": "第三条意见，被限流。"}, environ_base=address)
    assert r.status_code == 429
    assert "您在短时间内提交的意见较多" in text_of(r) and "第三条意见，被限流。" in text_of(r)
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 2
    # Another address is not affected.
    r = browser.post(_page(doc), {"article_id": "0", "body": "另一个地址的意见。"},
                     environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert r.status_code == 302


def test_the_limit_stores_no_client_address(app, city, browser, low_limit):
    doc = factories.in_consultation(city)
    browser.post(_page(doc), {"article_id": "0", "body": "意见。"}, environ_base={"REMOTE_ADDR": "203.0.113.99"})
    from consultation import queue

    keys = [k.decode() for k in queue.connection(app).keys("*" + app.config["RATELIMIT_KEY_PREFIX"] + "*")]
    assert keys and not any("203.0.113.99" in k for k in keys)


def test_with_its_redis_away_the_limit_lets_the_public_comment(app, city, browser, low_limit):
    doc = factories.in_consultation(city)
    limiter = app.extensions["rate_limiter"]
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    healthy = limiter._limiter
    limiter._limiter = MovingWindowRateLimiter(storage_from_string("redis://127.0.0.1:1/0"))  # nothing listens
    try:
        for i in range(3):
            r = browser.post(_page(doc), {"article_id": "0", "body": f"Redis不可用时的意见{i}：{'甲乙丙'[i]}"},
                             environ_base={"REMOTE_ADDR": "198.51.100.9"})
            assert r.status_code == 302
    finally:
        limiter._limiter = healthy
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 3


def test_receipt_lookups_are_limited_with_retry_after(app, city, browser):
    before = app.config["RECEIPT_LOOKUP_RATE_LIMIT"]
    app.config["RECEIPT_LOOKUP_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [browser.post("/receipt", {"receipt": "ABCD-EFGH-JKMN"},
                              environ_base={"REMOTE_ADDR": "198.51.100.10"}).status_code for _ in range(4)]
    finally:
        app.config["RECEIPT_LOOKUP_RATE_LIMIT"] = before
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


# --- the notice and the home page ---------------------------------------------------------------

def test_the_notice_gives_the_offline_channels_and_the_home_lists_recently_closed(city, browser):
    doc = factories.in_consultation(city)
    page = text_of(browser.get(_page(doc)))
    for value in ("王科员", "0571-87000000", "zhengqiu@example.gov.cn", "华城市人民路1号"):
        assert value in page
    closed = factories.in_handling(city, title="华城市已截止的办法")
    home = text_of(browser.get("/"))
    assert "近期截止" in home and "华城市已截止的办法" in home
    assert f"/consultations/{consultations.consultation_of(closed).id}" in home


# --- the library --------------------------------------------------------------------------------

def test_the_library_lists_a_published_document_with_its_record_and_text(city, browser, as_user):
    doc = factories.published(city, title="华城市停车管理办法")
    officer = as_user("openness")
    url = f"/staff/documents/{doc.id}/library"
    r = officer.post(url, {"record-registration_number": "HCDR-2026-001", "record-topic": "城乡建设、环境保护",
                           "record-signed_date": "2026-11-20", "record-submit": "1"})
    assert r.status_code == 302
    index = text_of(browser.get("/library"))
    assert "华城市停车管理办法" in index and doc.document_number in index and "尚未生效" in index
    page = text_of(browser.get(f"/library/{doc.id}"))
    for value in ("HCDR-2026-001", "城乡建设、环境保护", "2026年11月20日", doc.document_number, "第三条", "华城市人民政府办公室",
                  "本办法自2027年1月1日起施行", f"/feedback/{doc.id}"):
        assert value in page
    assert f"/library/{doc.id}" in text_of(browser.get(f"/feedback/{doc.id}"))  # linked both ways
    docx = browser.get(f"/library/{doc.id}/{doc.title}.docx")
    assert docx.status_code == 200 and docx.mimetype.endswith("wordprocessingml.document")
    import docx as python_docx
    lines = [p.text for p in python_docx.Document(io.BytesIO(docx.data)).paragraphs]
    assert lines[-2:] == ["华城市人民政府办公室", "2026年11月20日"]  # 落款: the issuing organ and the date signed
    xml = zipfile.ZipFile(io.BytesIO(docx.data)).read("word/document.xml").decode()
    assert "华城市停车管理办法" in xml and "本办法自2027年1月1日起施行" in xml and doc.document_number in xml
    assert len(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "update_library_record")).all()) == 1


def test_nothing_is_in_the_library_before_publication(city, browser):
    doc = factories.in_publication(city)
    assert browser.get(f"/library/{doc.id}").status_code == 404
    assert browser.get(f"/library/{doc.id}/x.docx").status_code == 404
    assert doc.title not in text_of(browser.get("/library"))


def test_amendment_and_repeal_change_the_status_on_their_day_and_stay_in_the_history(city, browser):
    old = factories.published(city, title="华城市旧办法")
    new = factories.published(city, title="华城市新办法")
    now = factories.utcnow()
    today = now.astimezone(SHANGHAI).date()
    old.effective_date = today - timedelta(days=1)  # in force since yesterday
    db.session.commit()
    assert publication.library_status(old) is LibraryStatus.IN_FORCE
    library.record_change(old, city["openness"], change="amended", effective_on=today, by_document_id=new.id,
                          note="第三条修改。")
    db.session.commit()
    assert publication.library_status(old) is LibraryStatus.AMENDED
    library.record_change(old, city["openness"], change="repealed", effective_on=today + timedelta(days=10),
                          by_reference="华政发〔2027〕1号")
    db.session.commit()
    assert publication.library_status(old) is LibraryStatus.AMENDED  # the repeal is announced, not yet in effect
    assert publication.library_status(old, now + timedelta(days=11)) is LibraryStatus.REPEALED
    with pytest.raises(InvalidInput):
        library.record_change(old, city["openness"], change="amended", effective_on=today, by_reference="x")
    db.session.rollback()
    statuses = [h.status for h in library.history(old)]
    assert statuses == [LibraryStatus.IN_FORCE, LibraryStatus.AMENDED, LibraryStatus.REPEALED]  # no expiry after
    page = text_of(browser.get(f"/library/{old.id}"))
    assert "已修改" in page and "已废止" in page and "华政发〔2027〕1号" in page and f"/library/{new.id}" in page
    assert f"/library/{old.id}" in text_of(browser.get(f"/library/{new.id}"))  # "this document changed"
    assert {e.change for e in db.session.scalars(db.select(LibraryEvent))} == {"amended", "repealed"}
    assert len(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "record_library_change")).all()) == 2


def test_library_changes_are_refused_with_reasons(city, as_user):
    doc = factories.published(city)
    today = factories.utcnow().astimezone(SHANGHAI).date()
    with pytest.raises(NotAllowed):
        library.record_change(doc, city["drafter"], change="repealed", effective_on=today, by_reference="某文件")
    with pytest.raises(InvalidInput):
        library.record_change(doc, city["openness"], change="repealed", effective_on=today - timedelta(days=400),
                              by_reference="某文件")
    with pytest.raises(InvalidInput):
        library.record_change(doc, city["openness"], change="repealed", effective_on=today)  # by whom?
    with pytest.raises(InvalidInput):
        library.record_change(doc, city["openness"], change="repealed", effective_on=today, by_document_id=doc.id)
    db.session.rollback()
    r = as_user("openness").post(f"/staff/documents/{doc.id}/library",
                                 {"change-change": "repealed", "change-effective_on": today.isoformat(),
                                  "change-by_document": "0", "change-by_reference": "", "change-note": "废止说明",
                                  "change-submit": "1"})
    assert r.status_code == 400 and "废止说明" in text_of(r)
    assert as_user("drafter").get(f"/staff/documents/{doc.id}/library").status_code in (403, 404)


def test_the_library_filters_and_pages(app, city, browser):
    docs = [factories.published(city, title=f"华城市第{i}号测试办法") for i in range(3)]
    docs[0].topic = "工业、交通"
    db.session.commit()
    assert re.search(r'id="library-total">共3件', text_of(browser.get("/library")))
    page = text_of(browser.get("/library?topic=工业、交通"))
    assert "华城市第0号测试办法" in page and "华城市第1号测试办法" not in page
    assert "华城市第0号测试办法" not in text_of(browser.get("/library?status=in_force"))
    assert "华城市第0号测试办法" in text_of(browser.get("/library?status=not_yet_in_force"))
    result = library.browse(per_page=2, page=2)
    assert result.total == 3 and result.pages == 2 and len(result.items) == 1
    for bad in ("status=nonsense", "page=-1", "year=abc", "department=x"):
        assert browser.get(f"/library?{bad}").status_code == 400


# --- the comment form in a browser's hands ------------------------------------------------------

def test_line_breaks_count_once_as_the_browser_counts_them(city, browser):
    doc = factories.in_consultation(city)
    body = "意见\r\n" * 1500  # 6,000 characters as sent, 4,500 as typed
    r = browser.post(_page(doc), {"article_id": "0", "body": body})
    assert r.status_code == 302
    [stored] = factories.comments(doc)
    assert "\r" not in stored.body and len(stored.body) == 4499  # the last line break is trimmed
    r = browser.client.post(f"/api/v1/consultations/{consultations.consultation_of(doc).id}/comments",
                            json={"body": body})
    assert r.status_code == 201


def test_the_form_fields_tell_phones_and_screen_readers_what_they_are(city, browser):
    doc = factories.in_consultation(city)
    page = text_of(browser.get(_page(doc)))
    assert '="None"' not in page and "aria-invalid" not in page  # nothing is invalid before sending
    assert re.search(r'<input[^>]*autocomplete="tel"[^>]*type="tel"', page)
    assert re.search(r'<input[^>]*autocomplete="email"[^>]*type="email"', page)
    refused = text_of(browser.post(_page(doc), {"article_id": "0", "body": "", "phone": "call me"}))
    for name in ("body", "phone"):
        control = re.search(rf'<(?:textarea|input)[^>]*id="{name}"[^>]*>', refused).group(0)
        assert 'aria-invalid="true"' in control and f'aria-describedby="{name}-error-1"' in control
        assert f'<p class="error" id="{name}-error-1" role="alert">' in refused


@pytest.mark.parametrize("url", ["/subscribe/confirm/abc%00def", "/subscribe/end/%00", "/library?topic=%00",
                                 "/search?q=%00", "/api/v1/receipts/AB%00CD", "/search?q=ok&q=%00", "/library?%00=1"])
def test_a_nul_anywhere_is_refused_at_the_door(city, browser, url):
    assert browser.get(url).status_code == 400


def test_the_word_download_works_whatever_the_title_holds(city, browser):
    doc = factories.published(city, title="华城市“停车/充电”设施管理办法")
    link = re.search(r'href="(/library/\d+/[^"]+\.docx)"', text_of(browser.get(f"/library/{doc.id}"))).group(1)
    r = browser.get(link)
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")


def test_a_campaign_is_one_row_and_one_decision_in_the_moderation_queue(city, as_user):
    """Exact copies are one row and one decision; a near-identical variant has its own row, so that no text
    is published or hidden unread; a copy already decided is left alone."""
    doc = factories.in_consultation(city)
    for _ in range(5):
        factories.comment(doc, body=CAMPAIGN, article_seq=2)
    variant = factories.comment(doc, body=CAMPAIGN.replace("坚决", "强烈"), article_seq=2)
    factories.comment(doc, body="建议第二条明确听证程序。", article_seq=2)
    [group] = factories.groups(doc)
    assert variant.campaign_id == group.id  # near-identical: the same group
    officer = as_user("openness")
    url = f"/staff/documents/{doc.id}/moderation"
    page = text_of(officer.get(url))
    assert page.count(variant.body) == 1 and "此行代表本组在此列表中的5条相同意见" in page
    assert page.count('name="comments"') == 3
    r = officer.post(url, {"comments": [str(group.representative_id)], "action": "publish"})
    assert r.status_code == 302
    db.session.expire_all()
    states = {c.body: c.moderation for c in factories.comments(doc)}
    assert states[CAMPAIGN] == "published" and states[variant.body] == "pending"
    assert sum(c.moderation == "published" for c in factories.comments(doc)) == 5
    # One audit event records the group's decision and how many comments it covered.
    [event] = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "moderate_comment")).all()
    assert '"count": 5' in event.payload and f'"campaign_id": {group.id}' in event.payload
    # In the "all" view, hiding the published copies does not touch the variant still waiting.
    r = officer.post(f"{url}?show=all", {"comments": [str(group.representative_id)], "action": "hide",
                                         "reason": "spam"}, form_page=f"{url}?show=all")
    assert r.status_code == 302
    db.session.expire_all()
    assert [c.moderation for c in factories.comments(doc)].count("hidden") == 5
    assert db.session.get(Comment, variant.id).moderation == "pending"


def test_the_english_feedback_page_gives_the_summary_in_english_beside_the_official_line(city, browser):
    doc = factories.in_handling(city, comments=2)
    factories.answer_all(doc, city["drafter"])
    doc = _publish(doc, city)
    browser.get("/lang/en", headers={"Referer": "http://localhost/"})
    page = text_of(browser.get(f"/feedback/{doc.id}"))
    assert "共收到意见2条，采纳2条" in page and 'lang="zh-Hans"' in page
    assert "2 comments received: 2 adopted, 0 partly adopted, 0 not adopted" in page


def _at_once(app, work, count: int) -> None:
    """Run ``work`` (a generator: its setup, ``yield``, then the part to run together) in ``count`` threads,
    each with its own app context and database connection, the second parts started at the same moment."""
    import threading

    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                steps = work()
                next(steps)
                start.wait()
                next(steps, None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def test_copies_arriving_at_once_end_in_one_group(app, city):
    """Eight threads post the same text at the same moment, on their own connections, and three sweepers
    take them in at once: one group holds them all, its first text among them (one sweeper at a time: an
    advisory lock on PostgreSQL, one writer on SQLite), and every comment is sealed once."""
    doc = factories.in_consultation(city)
    consultation_id = consultations.consultation_of(doc).id
    first = factories.comment(doc, body=CAMPAIGN, article_seq=2)
    db.session.commit()

    def post() -> None:
        from consultation.models import Consultation

        consultation = db.session.get(Consultation, consultation_id)
        article = next(a.id for a in consultation.version.articles if a.seq == 2)
        yield  # everyone ready: all at once
        consultations.submit_comment(consultation, body=CAMPAIGN, article_id=article)

    def sweep() -> None:
        from consultation.services.intake import take_in_all

        yield
        take_in_all()

    _at_once(app, post, 8)
    _at_once(app, sweep, 3)
    factories.take_in()  # a sweeper that found another at work left the rest to the next turn
    db.session.expire_all()
    groups = factories.groups(doc)
    assert len(groups) == 1 and groups[0].representative_id == first.id and len(factories.members(groups[0])) == 9
    assert all(c.chained_in_id is not None for c in factories.comments(doc))
    from consultation import audit
    assert audit.verify_chain().first_broken_id is None
