"""Joint review: both organs must approve the same version; a return starts over on a new version."""
from __future__ import annotations

import pytest

from consultation.errors import DomainError, InvalidInput, NotAllowed
from consultation.extensions import db
from consultation.models import ReviewOrgan, RoundStatus
from consultation.services import drafting, publication, review
from consultation.workflow import engine
from consultation.workflow.conditions import both_organs_approved

from . import factories

GOV, JUSTICE = ReviewOrgan.GOVERNMENT_OFFICE, ReviewOrgan.JUSTICE


def _resubmit(doc, city, body_suffix: str) -> None:
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED + body_suffix, explanation="修改说明")
    review.submit_for_review(doc, city["drafter"])
    review.send_to_joint_review(doc, city["head"])
    db.session.commit()


def test_one_approval_is_not_enough(city):
    doc = factories.in_joint_review(city)
    review.approve(doc, city["justice"], JUSTICE, "合法")
    assert doc.stage == "joint_review"
    with pytest.raises(DomainError):
        publication.record_adoption(doc, city["govoffice"], decision="adopted",
                                    decision_date=factories.date.today(), prefix="华政办发")


def test_an_approval_on_an_earlier_version_does_not_count(city):
    doc = factories.in_joint_review(city)
    first_version = doc.current_version.id
    review.approve(doc, city["justice"], JUSTICE, "合法")
    returned = review.return_for_revision(doc, city["govoffice"], GOV, "请修改第二条。")
    assert doc.stage == "handling"
    review.answer_opinion(doc, city["drafter"], returned.id, "已修改第二条。")
    _resubmit(doc, city, "\n第四条 新增条款。")
    assert doc.current_version.id != first_version
    review.approve(doc, city["govoffice"], GOV, "同意")
    assert doc.stage == "joint_review"  # the justice bureau's approval was on the old version
    review.approve(doc, city["justice"], JUSTICE, "合法")
    assert doc.stage == "deliberation"
    rounds = review.rounds_of(doc)
    assert [(r.status, r.version_id == doc.current_version.id) for r in rounds] == [
        (RoundStatus.RETURNED.value, False), (RoundStatus.APPROVED.value, True)]


def test_the_same_version_cannot_be_sent_again_after_a_return(city):
    doc = factories.in_joint_review(city)
    review.return_for_revision(doc, city["justice"], JUSTICE, "应当予以修改：第二条缺少上位法依据。")
    with pytest.raises(InvalidInput):
        review.submit_for_review(doc, city["drafter"])


def test_a_return_needs_a_written_opinion(city):
    doc = factories.in_joint_review(city)
    with pytest.raises(InvalidInput):
        review.return_for_revision(doc, city["govoffice"], GOV, "  ")


def test_an_organ_signs_a_round_once_and_only_for_itself(city):
    doc = factories.in_joint_review(city)
    with pytest.raises(NotAllowed):
        review.approve(doc, city["govoffice"], JUSTICE, "冒签")
    review.approve(doc, city["govoffice"], GOV, "同意")
    with pytest.raises(InvalidInput):
        review.approve(doc, city["govoffice"], GOV, "再签")


def test_both_approvals_must_name_the_current_version(city):
    doc = factories.in_deliberation(city)
    assert both_organs_approved(doc, factories.utcnow()) is None
    # A later version (for example a final text) is not what the organs signed.
    drafting.add_final_text(doc, city["govoffice"], factories.REVISED + "\n第九条 未经审查的条款。")
    assert both_organs_approved(doc, factories.utcnow()) is not None
    with pytest.raises(InvalidInput):
        engine.perform(doc, "record_adoption", city["govoffice"])


def test_an_organ_that_has_signed_no_longer_finds_the_document_waiting_for_it(app, city, as_user):
    """After its signature the government office has nothing left to do in this round; the justice bureau has."""
    doc = factories.in_joint_review(city)
    db.session.commit()
    assert review.organs_to_sign(doc, city["govoffice"]) == [ReviewOrgan.GOVERNMENT_OFFICE]
    review.approve(doc, city["govoffice"], ReviewOrgan.GOVERNMENT_OFFICE, "同意。")
    db.session.commit()
    assert review.organs_to_sign(doc, city["govoffice"]) == []
    assert review.organs_to_sign(doc, city["justice"]) == [ReviewOrgan.JUSTICE]

    def waiting(username: str) -> str:
        page = as_user(username).get("/staff/").get_data(as_text=True)
        return page.split('id="mine-h"', 1)[1].split("<h2", 1)[0]  # the "waiting for you" list

    assert doc.title not in waiting("govoffice")
    assert doc.title in waiting("justice")
    document_page = as_user("govoffice").get(f"/staff/documents/{doc.id}").get_data(as_text=True)
    assert "return_for_revision" not in document_page  # no return step after its own signature
