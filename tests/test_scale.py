"""The rules that let a consultation hold a million comments: counters that never drift from the rows,
lists paged by keyset, intake without a shared lock (comments sealed into the chain afterwards), and
safe retries with an Idempotency-Key."""
from __future__ import annotations

from sqlalchemy import func, select, text

from consultation import audit
from consultation.extensions import db
from consultation.feedback import build_feedback
from consultation.models import AuditEvent, Comment, CommentCampaign, CommentTally
from consultation.recount import recount_all
from consultation.services import answers, comment_lists, moderation, tallies

from . import factories

API = "/api/v1"
CAMPAIGN = "坚决反对第二条关于夜间施工的规定，请延长禁止施工的时段，保障居民休息。"


def _snapshot() -> tuple:
    rows = db.session.execute(
        select(CommentTally.consultation_id, CommentTally.article_key, CommentTally.moderation,
               CommentTally.hidden_reason, CommentTally.decision, func.sum(CommentTally.n))
        .group_by(CommentTally.consultation_id, CommentTally.article_key, CommentTally.moderation,
                  CommentTally.hidden_reason, CommentTally.decision)).all()
    cells = sorted(tuple(r) for r in rows if r[-1])
    groups = sorted(db.session.execute(select(CommentCampaign.id, CommentCampaign.size, CommentCampaign.answered,
                                              CommentCampaign.shown_id)).all())
    flags = sorted(db.session.execute(select(Comment.id, Comment.listed, Comment.own_row, Comment.is_copy,
                                             Comment.decision)).all())
    return cells, groups, flags


def test_counters_group_sizes_and_list_flags_kept_by_the_services_equal_a_recount_from_the_rows(city):
    doc = factories.in_consultation(city)
    made = [factories.comment(doc, body=CAMPAIGN, article_seq=2) for _ in range(4)]
    made.append(factories.comment(doc, body=CAMPAIGN.replace("坚决", "强烈"), article_seq=2))
    made += [factories.comment(doc, body=f"第{i}条意见：建议补充第{i}项内容。", article_seq=(i % 2) + 1 or None)
             for i in range(5)]
    made.append(factories.comment(doc, body="对整体的意见。"))
    moderation.moderate(doc, city["openness"], [made[0].id, made[6].id, made[10].id], publish=True)
    moderation.moderate(doc, city["openness"], [made[7].id], publish=False, reason="spam")
    db.session.commit()
    kept = _snapshot()
    with db.engine.begin() as conn:
        recount_all(conn)
    db.session.expire_all()
    assert _snapshot() == kept
    counts = tallies.counts(document=doc)
    assert counts.total == 11 and counts.moderation("published") == 3 and counts.hidden_by_reason == {"spam": 1}
    [group] = factories.groups(doc)
    assert (group.size, group.shown_id) == (5, made[0].id)


def test_answering_a_group_is_a_few_statements_and_keeps_the_counters(city):
    doc = factories.in_handling(city, comments=0)
    from datetime import timedelta
    consultation = factories.consultations.consultation_of(doc)
    for _ in range(30):
        factories.consultations.submit_comment(consultation, body=CAMPAIGN,
                                               now=consultation.opens_at + timedelta(hours=2))
    factories.take_in()
    [group] = factories.groups(doc)
    assert group.size == 30
    assert answers.answer_campaign(doc, city["drafter"], group.id, decision="not_adopted", reason="已有规定。") == 30
    db.session.commit()
    assert tallies.counts(document=doc).unanswered == 0
    assert db.session.get(CommentCampaign, group.id).answered == 30
    kept = _snapshot()
    with db.engine.begin() as conn:
        recount_all(conn)
    db.session.expire_all()
    assert _snapshot() == kept
    # The feedback: one row for the group, with its size.
    feedback = build_feedback(doc)
    from consultation.feedback import rows
    page = rows(doc.id, feedback.groups[0].key)
    assert [(r.count, r.decision) for r in page.items] == [(30, "not_adopted")]
    # One member answered otherwise has a row of its own, and the group's row counts one fewer.
    member = factories.members(group)[5]
    answers.answer_comment(doc, city["drafter"], member.id, decision="adopted", reason="采纳。")
    db.session.commit()
    assert sorted((r.count, r.decision) for r in rows(doc.id, feedback.groups[0].key).items) == [
        (1, "adopted"), (29, "not_adopted")]


def test_staff_lists_page_by_keyset_without_losing_or_repeating_a_comment(city):
    doc = factories.in_consultation(city)
    made = [factories.comment(doc, body=f"意见{i}：建议第{i}项具体修改为某某内容。") for i in range(23)]
    seen, after = [], None
    while True:
        page = comment_lists.staff_comments(doc, after=after, limit=5)
        seen += [c.id for c in page.items]
        if page.next_after is None:
            break
        after = int(page.next_after)
    assert seen == [c.id for c in made]
    assert comment_lists.next_unanswered(doc, after=made[-1].id) == made[0].id


def test_comments_are_sealed_into_the_chain_in_batches_and_an_edit_shows(city):
    doc = factories.in_consultation(city)
    consultation = factories.consultations.consultation_of(doc)
    made = [factories.consultations.submit_comment(consultation, body=f"意见{i}。",
                                                   now=consultation.opens_at + factories.timedelta(hours=1))
            for i in range(3)]
    assert all(c.chained_in_id is None for c in made)  # stored and acknowledged without the chain's lock
    assert factories.take_in() == 3
    assert factories.take_in() == 0
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == audit.SEALED_ACTION)).all()
    assert event.document_id == doc.id and '"count": 3' in event.payload
    assert audit.verify_chain().first_broken_id is None
    db.session.execute(text("UPDATE comment SET body = '篡改后的意见。' WHERE id = :id"), {"id": made[1].id})
    db.session.commit()
    report = audit.verify_chain()
    assert report.first_broken_id == event.id and "changed or removed" in report.problem


def test_an_idempotency_key_gives_the_same_receipt_and_never_a_second_comment(city, browser):
    doc = factories.in_consultation(city)
    consultation_id = factories.consultations.consultation_of(doc).id
    url = f"{API}/consultations/{consultation_id}/comments"
    headers = {"Idempotency-Key": "3f1c2a9e-client-retry-1"}
    first = browser.client.post(url, json={"body": "建议第二条增加投诉电话。"}, headers=headers)
    again = browser.client.post(url, json={"body": "建议第二条增加投诉电话。"}, headers=headers)
    assert first.status_code == 201 and again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["receipt_number"] == again.get_json()["receipt_number"]
    assert db.session.scalar(select(func.count(Comment.id))) == 1
    other = browser.client.post(url, json={"body": "另一条意见。"}, headers=headers)
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    bad = browser.client.post(url, json={"body": "意见。"}, headers={"Idempotency-Key": "含中文"})
    assert bad.status_code == 400
    assert db.session.scalar(select(func.count(Comment.id))) == 1


def test_the_feedback_pages_through_every_article_numbered_through_and_an_article_link_starts_at_it(city, browser):
    doc = factories.in_handling(city, comments=0)
    for i in range(7):
        factories.comment(doc, body=f"第一条意见{i}：建议补充具体措施第{i}项。", article_seq=1)
    for i in range(4):
        factories.comment(doc, body=f"第二条意见{i}：建议明确责任单位第{i}个。", article_seq=2)
    factories.comment(doc, body="对整体的意见：建议简化程序。")
    factories.answer_all(doc, city["drafter"])
    factories.adopt(doc, city, prefix="华政发")
    from consultation.feedback import page
    from consultation.services import publication
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=5), validity_years=1)
    db.session.commit()
    groups = build_feedback(doc).groups
    seen, start, after = [], 0, None
    while True:
        result = page(doc, groups, start=start, after=after, limit=5)
        seen += [(s.group.label, r.number) for s in result.sections for r in s.rows]
        if result.next_after is None:
            break
        start, last_id, number = (int(p) for p in result.next_after.split("."))
        after = (last_id, number)
    assert [n for _, n in seen] == list(range(1, 13))
    assert [label for label, _ in seen][:1] == ["对文件整体"] or seen[0][0] == groups[0].label
    # A link to the second article starts there, numbered where it stands in the whole feedback.
    second = next(g for g in groups if g.label == "第二条")
    text = browser.get(f"/feedback/{doc.id}?article={second.key}").get_data(as_text=True)
    assert "第二条意见0" in text and "第一条意见0" not in text
    assert ">9</td>" in text  # after the whole draft's 1 and the first article's 7
