"""公布期限: a publication after the limit is recorded as late on the document, the library record and the figures."""
from __future__ import annotations

import json
from datetime import datetime

import time_machine

from consultation.extensions import db
from consultation.models import AuditEvent
from consultation.services import statistics
from consultation.services.status import SHANGHAI

from . import factories

PUBLISH = {"final_text": factories.REVISED, "policy_interpretation": "", "effective_date": "2027-01-01",
           "validity_years": "2", "signed_date": ""}


def _decide_and_publish(as_user, doc, *, decided: str, published: datetime):
    page = f"/staff/documents/{doc.id}"
    gov = as_user("govoffice")
    r = gov.post(f"{page}/decision", {"adopt-decision": "adopted", "adopt-decision_date": decided,
                                      "adopt-prefix": "华政办发", "adopt-note": "", "adopt-submit": "1"})
    assert r.status_code == 302
    with time_machine.travel(published, tick=False):
        r = gov.post(f"{page}/publish", PUBLISH)
        assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    db.session.refresh(doc)
    return gov


def test_a_publication_25_working_days_after_the_decision_is_recorded_as_late(city, as_user, browser):
    """Decided Monday 2 November 2026, published Monday 7 December: 25 working days, 5 beyond the 20 allowed."""
    with time_machine.travel(datetime(2026, 10, 30, 9, 0, tzinfo=SHANGHAI)):  # consulted in September and October
        doc = factories.in_deliberation(city, title="华城市逾期公布测试办法")
    published = datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    gov = _decide_and_publish(as_user, doc, decided="2026-11-02", published=published)
    assert (doc.publication_working_days, doc.publication_limit_days, doc.published_late_by) == (25, 20, 5)

    with time_machine.travel(published, tick=False):
        staff = gov.get(f"/staff/documents/{doc.id}").get_data(as_text=True)
        assert "逾期公布：审议决定后第25个工作日公布，超过20个工作日的公布期限5个工作日" in staff
        library = browser.get(f"/library/{doc.id}").get_data(as_text=True)
        assert "逾期公布：审议决定后第25个工作日公布，超过20个工作日的公布期限5个工作日" in library
        browser.get("/lang/en", headers={"Referer": "http://localhost/"})
        english = browser.get(f"/library/{doc.id}").get_data(as_text=True)
        browser.get("/lang/zh_Hans_CN", headers={"Referer": "http://localhost/"})
        assert "Published late: 25 working days after the decision, 5 beyond the limit of 20 working days" in english
        api = browser.get(f"/api/v1/library/{doc.id}").get_json()
        assert api["publication_time"] == {"working_days": 25, "limit_working_days": 20, "late_by_working_days": 5}

    payloads = [json.loads(e.payload) for e in db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.document_id == doc.id, AuditEvent.action == "publish"))]
    assert [(p["working_days"], p["late_by"]) for p in payloads if "working_days" in p] == [(25, 5)]
    # The figures count it among December's publications, not among those on time.
    report = statistics.report(2026, "month", department_id=doc.department_id, now=published)
    december = next(r for r in report.totals if r.period == "2026-12")
    assert (december.publications, december.publications_on_time, december.late) == (1, 0, 1)


def test_a_publication_within_the_limit_says_so_and_is_not_late(city, as_user, browser):
    """Decided 2 November, published 30 November: 20 working days, the last day allowed."""
    with time_machine.travel(datetime(2026, 10, 30, 9, 0, tzinfo=SHANGHAI)):
        doc = factories.in_deliberation(city, title="华城市按期公布测试办法")
    published = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
    _decide_and_publish(as_user, doc, decided="2026-11-02", published=published)
    assert (doc.publication_working_days, doc.published_late_by) == (20, 0)
    with time_machine.travel(published, tick=False):
        library = browser.get(f"/library/{doc.id}").get_data(as_text=True)
        assert "审议决定后第20个工作日公布，未超过20个工作日的公布期限" in library
        assert "逾期公布" not in library
        assert browser.get(f"/api/v1/library/{doc.id}").get_json()["publication_time"]["late_by_working_days"] == 0


def test_a_meeting_date_in_the_future_or_before_the_consultation_ended_is_refused(city, as_user):
    """The date carries into the number's year, the 成文日期 and the time limit: a typing error is refused."""
    with time_machine.travel(datetime(2026, 10, 30, 9, 0, tzinfo=SHANGHAI)):  # closed on 25 October
        doc = factories.in_deliberation(city, title="华城市会议日期测试办法")
    gov = as_user("govoffice")
    page = f"/staff/documents/{doc.id}/decision"
    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        for day, message in (("2026-12-05", "会议日期不能晚于今天"), ("2026-10-12", "征求意见于2026-10-25结束")):
            r = gov.post(page, {"adopt-decision": "adopted", "adopt-decision_date": day, "adopt-prefix": "华政办发",
                                "adopt-note": "", "adopt-submit": "1"})
            assert r.status_code == 400 and message in r.get_data(as_text=True), day
            r = gov.post(page, {"reject-decision_date": day, "reject-note": "暂缓。", "reject-submit": "1"})
            assert r.status_code == 400 and message in r.get_data(as_text=True), day
        db.session.refresh(doc)
        assert (doc.stage, doc.decision_date, doc.number_seq) == ("deliberation", None, None)
        r = gov.post(page, {"adopt-decision": "adopted", "adopt-decision_date": "2026-10-25", "adopt-prefix": "华政办发",
                            "adopt-note": "", "adopt-submit": "1"})
        assert r.status_code == 302
