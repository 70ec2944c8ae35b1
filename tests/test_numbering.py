"""Document numbers (发文字号): 华政办发〔2026〕7号, per issuing organ and year, no leading zeros."""
from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy.exc import IntegrityError

from consultation.errors import InvalidInput
from consultation.extensions import db
from consultation.services.publication import assign_number

from . import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_numbers_count_up_per_organ_and_year_without_leading_zeros(city):
    docs = [factories.document(city, title=f"办法{i}") for i in range(3)]
    assert assign_number(docs[0], "华政办发", 2026) == "华政办发〔2026〕1号"
    assert assign_number(docs[1], "华政办发", 2026) == "华政办发〔2026〕2号"
    assert assign_number(docs[2], "华政发", 2026) == "华政发〔2026〕1号"
    db.session.commit()
    later = factories.document(city, title="办法9")
    assert assign_number(later, "华政办发", 2027) == "华政办发〔2027〕1号"


def test_the_tenth_number_has_no_leading_zero(city):
    docs = [factories.document(city, title=f"规定{i}") for i in range(10)]
    numbers = [assign_number(d, "华政发", 2026) for d in docs]
    assert numbers[-1] == "华政发〔2026〕10号"
    assert len(set(numbers)) == 10


def test_the_database_refuses_a_duplicate_number(city):
    a, b = factories.document(city, title="甲"), factories.document(city, title="乙")
    assign_number(a, "华政办发", 2026)
    db.session.commit()
    b.number_prefix, b.number_year, b.number_seq = "华政办发", 2026, 1
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_unknown_issuing_organ_is_refused(city):
    with pytest.raises(InvalidInput):
        assign_number(factories.document(city), "伪造发", 2026)


def test_the_number_year_follows_the_decision_not_the_day_it_is_recorded(city, as_user):
    """Decided on 30 December, recorded on 4 January: 华政办发〔2026〕, and the 成文日期 stays in 2026."""
    with time_machine.travel(datetime(2026, 12, 28, 9, 0, tzinfo=SHANGHAI)):  # consulted in November and December
        doc = factories.in_deliberation(city, title="华城市跨年测试办法")
    page = f"/staff/documents/{doc.id}"
    with time_machine.travel(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI), tick=False):
        gov = as_user("govoffice")
        r = gov.post(f"{page}/decision", {"adopt-decision": "adopted", "adopt-decision_date": "2026-12-30",
                                          "adopt-prefix": "华政办发", "adopt-note": "", "adopt-submit": "1"})
        assert r.status_code == 302
        db.session.refresh(doc)
        assert doc.document_number == "华政办发〔2026〕1号"
        publish = {"final_text": factories.REVISED, "policy_interpretation": "", "effective_date": "2027-02-01",
                   "validity_years": "2"}
        # A 成文日期 in another year than the number's is refused beside its field; nothing is published.
        r = gov.post(f"{page}/publish", publish | {"signed_date": "2027-01-04"})
        assert r.status_code == 400
        page_text = r.get_data(as_text=True)
        assert re.search(r'id="signed_date-error-1"[^>]*>[^<]*华政办发〔2026〕1号', page_text), page_text[page_text.find("<main"):][:3000]
        db.session.refresh(doc)
        assert doc.published_at is None
        r = gov.post(f"{page}/publish", publish | {"signed_date": ""})
        assert r.status_code == 302
        db.session.refresh(doc)
        assert doc.published_at is not None and doc.signed_date == date(2026, 12, 30)
