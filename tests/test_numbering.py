"""Document numbers (发文字号): 华政办发〔2026〕7号, per issuing organ and year, no leading zeros."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from consultation.errors import InvalidInput
from consultation.extensions import db
from consultation.services.publication import assign_number

from . import factories


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
