"""The open-data API under /api/v1: every endpoint with good and bad input, its limits, its languages,
and the OpenAPI document checked against the live API over HTTP (schemathesis)."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultation.extensions import db
from consultation.models import AuditEvent, Comment, utcnow
from consultation.services import consultations, library
from consultation.services.consultations import SHANGHAI

from . import factories

API = "/api/v1"


def _consultation_id(doc) -> int:
    return consultations.consultation_of(doc).id


def _article_id(doc, seq: int) -> int:
    return next(a.id for a in consultations.consultation_of(doc).version.articles if a.seq == seq)


def _post(browser, consultation_id: int, payload, **kw):
    return browser.client.post(f"{API}/consultations/{consultation_id}/comments", json=payload, **kw)


def _error(response) -> dict:
    assert response.mimetype == "application/json", response.data[:200]
    return response.get_json()["error"]


# --- consultations ------------------------------------------------------------------------------

def test_the_list_gives_opened_consultations_with_status_and_counts(city, browser):
    open_doc = factories.in_consultation(city, title="华城市开放中的办法")
    factories.comment(open_doc, body="一条意见。")
    closed = factories.in_handling(city, title="华城市已截止的办法", comments=3)
    factories.in_consultation(city, title="华城市尚未开始的办法", opens_at=utcnow() + timedelta(days=2))
    r = browser.client.get(f"{API}/consultations")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Cache-Control"] == "public, max-age=60" and "Accept-Language" in r.headers["Vary"]
    data = r.get_json()
    by_title = {item["title"]: item for item in data["items"]}
    assert set(by_title) == {"华城市开放中的办法", "华城市已截止的办法"} and data["total"] == 2
    assert by_title["华城市开放中的办法"]["status"] == "open" and by_title["华城市开放中的办法"]["comment_count"] == 1
    assert by_title["华城市已截止的办法"]["status"] == "closed" and by_title["华城市已截止的办法"]["comment_count"] == 3
    assert by_title["华城市开放中的办法"]["opens_at"].endswith("+08:00")
    only_closed = browser.client.get(f"{API}/consultations?status=closed").get_json()
    assert [i["document_id"] for i in only_closed["items"]] == [closed.id]


def test_the_list_filters_by_department_year_and_pages(city, browser):
    docs = [factories.in_consultation(city, title=f"华城市第{i}号办法") for i in range(3)]
    department_id = docs[0].department_id
    this_year = utcnow().astimezone(SHANGHAI).year  # the filter counts in Beijing time
    r = browser.client.get(f"{API}/consultations?department_id={department_id}&year={this_year}&per_page=2&page=2")
    data = r.get_json()
    assert (data["page"], data["per_page"], data["total"], len(data["items"])) == (2, 2, 3, 1)
    assert browser.client.get(f"{API}/consultations?year={this_year - 5}").get_json()["total"] == 0
    assert browser.client.get(f"{API}/consultations?department_id=999999").get_json()["items"] == []


@pytest.mark.parametrize("query, field", [
    ("status=maybe", "status"), ("page=0", "page"), ("per_page=101", "per_page"), ("year=19999", "year"),
    ("department_id=-1", "department_id"), ("page=1e3", "page"), ("page=99999999999999999999", "page"),
])
def test_bad_query_parameters_are_named_in_a_400(city, browser, query, field):
    r = browser.client.get(f"{API}/consultations?{query}")
    assert r.status_code == 400
    error = _error(r)
    assert error["code"] == "invalid_parameters" and set(error["fields"]) == {field}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["status", "department_id", "year", "page", "per_page", "topic", "x"]),
                              st.text(max_size=30), max_size=4))
def test_any_query_string_gets_json_never_a_server_error(app, params):
    client = app.test_client()
    for path in ("/consultations", "/library"):
        r = client.get(API + path, query_string=params)
        assert r.status_code in (200, 400) and r.mimetype == "application/json"


def test_the_detail_gives_notice_contacts_articles_and_published_comments_only(city, browser):
    doc = factories.in_consultation(city)
    shown = factories.comment(doc, body="已公开的意见：第一条应写明目的。", article_seq=1)
    factories.comment(doc, body="尚未审核的意见。", article_seq=1)
    from consultation.services import moderation
    moderation.moderate(doc, city["openness"], [shown.id], publish=True)
    db.session.commit()
    data = browser.client.get(f"{API}/consultations/{_consultation_id(doc)}").get_json()
    assert data["contacts"] == {"contact_person": "王科员", "contact_phone": "0571-87000000",
                                "contact_email": "zhengqiu@example.gov.cn", "postal_address": "华城市人民路1号"}
    first = next(a for a in data["articles"] if a["seq"] == 1)
    assert first["comment_count"] == 2 and first["published_count"] == 1
    assert "尚未审核的意见" not in json.dumps(data, ensure_ascii=False)
    assert first["anchor"] and data["explanation"]
    # The comments themselves are a paged sub-resource: published ones only.
    page = browser.client.get(first["comments_url"]).get_json()
    assert [(c["text"], c["count"]) for c in page["items"]] == [("已公开的意见：第一条应写明目的。", 1)]
    assert page["next_cursor"] is None and "尚未审核的意见" not in json.dumps(page, ensure_ascii=False)


def test_published_comments_are_paged_by_cursor_with_each_group_once(city, browser):
    doc = factories.in_consultation(city)
    texts = [f"第{i}条意见：建议增加第{i}项具体措施，并明确责任部门{i}。" for i in range(7)]
    campaign = "坚决要求在第一条中明确公众参与的具体程序和期限，保障群众知情权。"
    made = [factories.comment(doc, body=t, article_seq=1) for t in texts[:3]]
    made += [factories.comment(doc, body=campaign, article_seq=1) for _ in range(4)]
    made += [factories.comment(doc, body=t, article_seq=1) for t in texts[3:]]
    from consultation.services import moderation
    moderation.moderate(doc, city["openness"], [c.id for c in made], publish=True)
    db.session.commit()
    url = f"{API}/consultations/{_consultation_id(doc)}/comments?article_id={_article_id(doc, 1)}&limit=3"
    seen, pages = [], 0
    while url:
        r = browser.client.get(url)
        assert r.status_code == 200
        page = r.get_json()
        assert len(page["items"]) <= 3
        seen += [(c["text"], c["count"]) for c in page["items"]]
        url, pages = page["next"], pages + 1
    assert seen == [(t, 1) for t in texts[:3]] + [(campaign, 4)] + [(t, 1) for t in texts[3:]]
    assert pages == 3
    bad = browser.client.get(f"{API}/consultations/{_consultation_id(doc)}/comments?cursor=abc")
    assert bad.status_code == 400


def test_a_consultation_is_not_served_before_it_opens(city, browser):
    doc = factories.in_consultation(city, opens_at=utcnow() + timedelta(hours=3))
    r = browser.client.get(f"{API}/consultations/{_consultation_id(doc)}")
    assert r.status_code == 404 and _error(r)["code"] == "not_found"
    r = _post(browser, _consultation_id(doc), {"body": "抢先提交。"})
    assert r.status_code == 404
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


# --- comments -----------------------------------------------------------------------------------

def test_a_comment_is_stored_before_the_receipt_is_sent(app, city, browser):
    doc = factories.in_consultation(city)
    r = _post(browser, _consultation_id(doc), {"body": "建议第二条增加投诉电话。", "article_id": _article_id(doc, 2),
                                               "name": "测试者", "email": "tester@example.com",
                                               "show_masked_name": True})
    assert r.status_code == 201
    body = r.get_json()
    assert re.fullmatch(r"[0-9A-Z]{10,}", body["receipt_number"]) and not set(body["receipt_number"]) & set("01IOL")
    assert r.headers["Location"].endswith(f"{API}/receipts/{body['receipt_number']}")
    db.session.expire_all()
    stored = consultations.find_by_receipt(body["receipt_number"])
    assert stored.body == "建议第二条增加投诉电话。" and stored.article.seq == 2 and stored.show_masked_name
    assert stored.moderation == "pending" and stored.client_hash and "127.0.0.1" not in stored.client_hash
    # Sealed into the audit chain by the clock moments later, in a batch, not under a lock on the way in.
    assert stored.chained_in_id is None
    from consultation import audit
    assert factories.take_in() == 1
    db.session.expire_all()
    event = db.session.get(AuditEvent, consultations.find_by_receipt(body["receipt_number"]).chained_in_id)
    assert event.action == "comments_received" and '"count": 1' in event.payload
    assert audit.verify_chain().first_broken_id is None
    # The receipt by mail: tests/test_mail.py, with a real SMTP server.


@pytest.mark.parametrize("payload, field", [
    ({"body": ""}, "body"),
    ({"body": "   \n "}, "body"),
    ({"body": "长" * 5001}, "body"),
    ({"body": 5}, "body"),
    ({"body": "正文", "article_id": "3"}, "article_id"),
    ({"body": "正文", "article_id": 0}, "article_id"),
    ({"body": "正文", "article_id": True}, "article_id"),
    ({"body": "正文", "phone": "call me"}, "phone"),
    ({"body": "正文", "email": "not-an-address"}, "email"),
    ({"body": "正文", "name": "名" * 101}, "name"),
    ({"body": "正文", "show_masked_name": "yes"}, "show_masked_name"),
    ({"body": "正文\x00"}, "body"),
    ({"body": "正文", "client_address": "1.2.3.4"}, "client_address"),
])
def test_bad_fields_get_a_422_naming_each_field_in_chinese(city, browser, payload, field):
    doc = factories.in_consultation(city)
    r = _post(browser, _consultation_id(doc), payload)
    assert r.status_code == 422
    error = _error(r)
    assert error["code"] == "invalid_input" and field in error["fields"]
    assert re.search(r"[\u4e00-\u9fff]", error["message"] + error["fields"][field])
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_messages_follow_accept_language(city, browser):
    doc = factories.in_consultation(city)
    r = _post(browser, _consultation_id(doc), {"body": "长" * 5001}, headers={"Accept-Language": "en"})
    assert _error(r)["fields"]["body"] == "The comment is too long: at most 5000 characters."
    r = _post(browser, _consultation_id(doc), {"body": "长" * 5001})
    assert "5000" in _error(r)["fields"]["body"] and "字" in _error(r)["fields"]["body"]


def test_an_article_of_another_draft_is_refused(city, browser):
    doc = factories.in_consultation(city)
    other = factories.in_consultation(city, title="华城市另一办法")
    r = _post(browser, _consultation_id(doc), {"body": "意见。", "article_id": _article_id(other, 1)})
    assert r.status_code == 422 and _error(r)["code"] == "rejected"
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 0


def test_after_the_closing_time_the_api_refuses_with_409(city, browser):
    doc = factories.in_handling(city, comments=0)
    r = _post(browser, _consultation_id(doc), {"body": "迟到的意见。"})
    assert r.status_code == 409 and _error(r)["code"] == "closed" and "不再接受意见" in _error(r)["message"]


@pytest.mark.parametrize("headers, data, status, code", [
    ({"Content-Type": "text/plain"}, "body=意见", 415, "unsupported_media_type"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, "body=x", 415, "unsupported_media_type"),
    ({"Content-Type": "application/json"}, "{not json", 400, "bad_request"),
    ({"Content-Type": "application/json"}, "[1, 2]", 400, "bad_request"),
    ({"Content-Type": "application/json"}, "[" * 5000 + "]" * 5000, 400, "bad_request"),
    ({"Content-Type": "application/json"}, json.dumps({"body": "x" * 70000}), 413, "payload_too_large"),
])
def test_a_body_that_is_not_a_json_object_is_refused(city, browser, headers, data, status, code):
    doc = factories.in_consultation(city)
    r = browser.client.post(f"{API}/consultations/{_consultation_id(doc)}/comments", data=data.encode(),
                            headers=headers)
    assert r.status_code == status and _error(r)["code"] == code


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=5), children, max_size=3), max_leaves=8)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({}, optional={"body": JSON_VALUES, "article_id": JSON_VALUES, "name": JSON_VALUES,
                                        "phone": JSON_VALUES, "email": JSON_VALUES, "show_masked_name": JSON_VALUES}),
))
def test_any_json_body_gets_201_or_a_json_4xx_and_only_a_201_stores(app, city, payload):
    doc = db.session.scalars(db.select(factories.Document)).first() or factories.in_consultation(city)
    client = app.test_client()
    before = db.session.scalar(db.select(db.func.count(Comment.id)))
    r = client.post(f"{API}/consultations/{_consultation_id(doc)}/comments", data=json.dumps(payload),
                    content_type="application/json")
    after = db.session.scalar(db.select(db.func.count(Comment.id)))
    assert r.mimetype == "application/json"
    if r.status_code == 201:
        assert after == before + 1 and consultations.find_by_receipt(r.get_json()["receipt_number"])
    else:
        assert r.status_code in (400, 422) and after == before and r.get_json()["error"]["message"]


def test_the_rate_limit_is_shared_with_the_web_form(app, city, browser):
    doc = factories.in_consultation(city)
    before = app.config["COMMENT_RATE_LIMIT"]
    app.config["COMMENT_RATE_LIMIT"] = "2 per minute"
    address = {"REMOTE_ADDR": "198.51.100.21"}
    try:
        page = f"/consultations/{_consultation_id(doc)}"
        assert browser.post(page, {"article_id": "0", "body": "网页提交的意见。"}, environ_base=address).status_code == 302
        assert _post(browser, _consultation_id(doc), {"body": "接口提交的意见。"},
                     environ_base=address).status_code == 201
        r = _post(browser, _consultation_id(doc), {"body": "第三条，超过限额。"}, environ_base=address)
        assert r.status_code == 429 and _error(r)["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
        assert _post(browser, _consultation_id(doc), {"body": "别的地址。"},
                     environ_base={"REMOTE_ADDR": "198.51.100.22"}).status_code == 201
    finally:
        app.config["COMMENT_RATE_LIMIT"] = before
    assert db.session.scalar(db.select(db.func.count(Comment.id))) == 3


def test_the_api_needs_no_csrf_token_and_sets_no_cookie(city, browser):
    doc = factories.in_consultation(city)
    r = _post(browser, _consultation_id(doc), {"body": "无需令牌。"})
    assert r.status_code == 201 and "Set-Cookie" not in r.headers


# --- receipts -----------------------------------------------------------------------------------

def test_a_receipt_shows_progress_and_the_answer_only_once_published(city, browser):
    doc = factories.in_consultation(city, opens_at=utcnow() - timedelta(days=50))
    comment = factories.comment(doc, body="请明确收费标准。", article_seq=2)
    db.session.commit()
    number = comment.receipt_number
    grouped = "-".join(number[i:i + 4] for i in range(0, len(number), 4)).lower()
    r = browser.client.get(f"{API}/receipts/{grouped}")
    data = r.get_json()
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert data["receipt_number"] == number and data["article"]["label"] == "第二条"
    assert data["progress"] == "being_considered" and data["answer"] is None and data["feedback_url"] is None
    from consultation.workflow import engine
    engine.settle(doc)
    factories.answer_all(doc, city["drafter"], decision="not_adopted")
    assert browser.client.get(f"{API}/receipts/{number}").get_json()["answer"] is None  # answered, not yet public
    factories.adopt(doc, city)
    from consultation.services import publication
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读。",
                        effective_date=utcnow().date() + timedelta(days=30), validity_years=5)
    db.session.commit()
    data = browser.client.get(f"{API}/receipts/{number}").get_json()
    assert data["progress"] == "answered" and data["answer"]["decision"] == "not_adopted"
    assert data["answer"]["reason"] == "已据此修改。" and data["feedback_url"].endswith(f"/feedback/{doc.id}")


def test_an_unknown_receipt_is_a_404_and_lookups_are_limited(app, city, browser):
    assert browser.client.get(f"{API}/receipts/ABCDEFGHJK").status_code == 404
    assert browser.client.get(f"{API}/receipts/{'A' * 300}").status_code == 404
    before = app.config["RECEIPT_LOOKUP_RATE_LIMIT"]
    app.config["RECEIPT_LOOKUP_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [browser.client.get(f"{API}/receipts/ABCDEFGHJK", environ_base={"REMOTE_ADDR": "198.51.100.30"})
                 for _ in range(3)]
    finally:
        app.config["RECEIPT_LOOKUP_RATE_LIMIT"] = before
    assert [c.status_code for c in codes] == [404, 404, 429]
    assert _error(codes[2])["code"] == "rate_limited" and codes[2].headers["Retry-After"]
    assert all(c.headers["Cache-Control"] == "no-store" for c in codes)  # no proxy keeps a refusal


# --- feedback and the library -------------------------------------------------------------------

def test_feedback_is_served_only_once_published_with_counts_and_hidden_reasons(city, browser):
    doc = factories.in_handling(city, comments=3)
    r = browser.client.get(f"{API}/feedback/{doc.id}")
    assert r.status_code == 404
    spam = factories.comments(doc)[0]
    from consultation.services import moderation
    moderation.moderate(doc, city["openness"], [spam.id], publish=False, reason="spam")
    factories.answer_all(doc, city["drafter"])
    factories.adopt(doc, city)
    from consultation.services import publication
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="政策解读正文。",
                        effective_date=utcnow().date() + timedelta(days=30), validity_years=5)
    db.session.commit()
    data = browser.client.get(f"{API}/feedback/{doc.id}").get_json()
    assert data["counts"]["total"] == 3 and data["counts"]["adopted"] == 3 and data["summary"].startswith("共收到意见3条")
    assert data["hidden"] == [{"reason": "spam", "label": "广告或无意义内容", "count": 1}] and data["hidden_total"] == 1
    rows = [row for group in data["groups"] for row in group["comments"]]
    assert sum(row["hidden"] for row in rows) == 1 and spam.body not in json.dumps(data, ensure_ascii=False)
    assert data["policy_interpretation"] == "政策解读正文。" and data["final_articles"]
    assert data["links"]["library"].endswith(f"/library/{doc.id}") and data["links"]["csv"].endswith(".csv")


def test_the_library_lists_and_serves_published_documents_only(city, browser):
    doc = factories.published(city, title="华城市停车管理办法")
    factories.in_publication(city, title="华城市尚未公布的办法", prefix="华政发")
    library.update_record(doc, city["openness"], registration_number="HCDR-2026-009", topic="城乡建设、环境保护",
                          signed_date=utcnow().date())
    db.session.commit()
    data = browser.client.get(f"{API}/library").get_json()
    assert [i["title"] for i in data["items"]] == ["华城市停车管理办法"] and data["total"] == 1
    item = data["items"][0]
    assert item["status"] == "not_yet_in_force" and item["status_label"] == "尚未生效"
    assert item["registration_number"] == "HCDR-2026-009" and item["document_number"] == doc.document_number
    assert item["issuing_organ"] == "华城市人民政府办公室"
    assert browser.client.get(f"{API}/library?status=in_force").get_json()["total"] == 0
    assert browser.client.get(f"{API}/library?topic=城乡建设、环境保护").get_json()["total"] == 1
    assert browser.client.get(f"{API}/library?topic=nonsense").status_code == 400
    detail = browser.client.get(f"{API}/library/{doc.id}").get_json()
    assert [a["label"] for a in detail["articles"]][:2] == ["第一条", "第二条"]
    assert detail["history"][0]["status"] == "not_yet_in_force" and detail["docx_url"].endswith(".docx")
    unpublished = db.session.scalars(db.select(factories.Document).where(factories.Document.id != doc.id)).all()
    for other in unpublished:
        assert browser.client.get(f"{API}/library/{other.id}").status_code == 404


def test_unknown_addresses_and_methods_answer_in_json(city, browser):
    r = browser.client.get(f"{API}/nothing-here")
    assert r.status_code == 404 and _error(r)["code"] == "not_found"
    r = browser.client.delete(f"{API}/library")
    assert r.status_code == 405 and _error(r)["code"] == "method_not_allowed" and "GET" in r.headers["Allow"]


# --- the OpenAPI document against the live API --------------------------------------------------

def test_the_openapi_document_is_valid_openapi_3_1(city, browser):
    from openapi_spec_validator import validate

    document = browser.client.get(f"{API}/openapi.json").get_json()
    validate(document)
    assert set(document["paths"]) == {
        "/departments", "/consultations", "/consultations/{consultation_id}",
        "/consultations/{consultation_id}/comments", "/receipts/{receipt_number}", "/feedback/{document_id}",
        "/library", "/library/{document_id}", "/audit/checkpoints", "/audit/checkpoints/latest", "/audit/keys",
        "/statistics", "/feedback/{document_id}/comparison"}


@pytest.fixture
def known(city) -> dict[str, list]:
    """A city with an open, a closed and a published consultation: real identifiers for the requests."""
    open_doc = factories.in_consultation(city)
    factories.comment(open_doc, body="已有的意见。", article_seq=1)
    published = factories.published(city, title="华城市已公布的办法")
    closed = factories.in_handling(city, title="华城市已截止的办法", comments=1)
    db.session.commit()
    return {"articles": {_consultation_id(d): [a.id for a in consultations.consultation_of(d).version.articles]
                         for d in (open_doc, published, closed)},
            "consultation_id": [_consultation_id(d) for d in (open_doc, published, closed)],
            "document_id": [published.id, open_doc.id],
            "receipt_number": [c.receipt_number for c in db.session.scalars(db.select(Comment))]}


def _cases(operation, mode, known: dict[str, list]):
    """Generated requests; where the path takes identifiers, half of them use real ones, so that the
    full answers are checked and not only the 404s."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    names = [parameter.name for parameter in operation.path_parameters]
    if names and all(known.get(name) for name in names):
        real = st.fixed_dictionaries({name: st.sampled_from(known[name]) for name in names})
        strategies.append(real.flatmap(lambda values: operation.as_strategy(generation_mode=mode,
                                                                            path_parameters=values)))
    cases = st.one_of(strategies)
    if operation.path.endswith("/comments") and operation.method.upper() == "POST" and mode.name == "POSITIVE":
        # What a schema cannot say: which articles belong to the draft, and which addresses
        # email-validator takes for deliverable. Valid comments get a real article and a real address.
        def realistic(case):
            articles = known["articles"].get(case.path_parameters["consultation_id"], [])
            if case.body.get("article_id") is not None:
                case.body["article_id"] = articles[int(case.body["article_id"]) % len(articles)] if articles else None
            if case.body.get("email"):
                case.body["email"] = "commenter@example.net"
            if case.headers and "Idempotency-Key" in case.headers:
                # A client's key names one comment: a new comment comes with a new key (a reused one is a 422).
                import uuid
                case.headers["Idempotency-Key"] = uuid.uuid4().hex
            return case
        cases = cases.map(realistic)
    return cases


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_the_live_api_matches_its_openapi_document(live_server, known, mode):
    """Over real HTTP: every documented operation, with valid and with invalid requests, answers with a
    documented status, content type and schema, and never a server error."""
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{live_server}{API}/openapi.json")
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14  # the published comments are a paged sub-resource (GET) beside the POST; statistics; comparison
    for operation in operations:
        if mode == "negative" and operation.path in ("/departments", "/audit/checkpoints/latest", "/audit/keys"):
            continue  # nothing to send, so nothing invalid to send
        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                         HealthCheck.filter_too_much])
        @given(case=_cases(operation, GenerationMode(mode), known))
        def check(case):
            case.call_and_validate(session=session)

        check()
