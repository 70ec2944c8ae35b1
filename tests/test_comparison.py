"""The comparison table (修改对照表): alignment on real-shaped drafts, the staff page, the answers' ties,
the public page and the Word file."""
from __future__ import annotations

import io

import pytest
from docx import Document as DocxFile
from hypothesis import given, settings
from hypothesis import strategies as st

from consultation.articles import parse_articles
from consultation.comparison import ChangeKind, Op, compare
from consultation.extensions import db
from consultation.models import CommentAnswer
from consultation.models.comparison import AnswerArticle
from consultation.services import comparison, drafting, publication
from tests import factories

# A real-shaped draft: three chapters, nine articles of the length offices write.
BASE = """华城市停车管理办法（征求意见稿）
第一章 总则
第一条 为了加强本市停车设施的规划、建设和管理，规范停车秩序，根据有关法律法规，结合本市实际，制定本办法。
第二条 本办法适用于本市行政区域内停车设施的规划、建设、使用和管理活动。
第三条 市交通运输主管部门负责全市停车管理工作，区人民政府负责本辖区内停车设施的建设和管理工作。
第二章 停车设施建设
第四条 新建、改建、扩建建筑物应当按照停车设施配建标准配建停车位，并与主体工程同步设计、同步施工、同步交付使用。
第五条 鼓励单位和个人利用自有土地、地下空间建设公共停车场，依法享受相关优惠政策。
第六条 新建住宅小区的停车位应当全部预留充电设施安装条件，并按照规定比例建设充电设施。
第三章 停车管理
第七条 公共停车场经营者应当在停车场入口显著位置公示收费标准、服务时间和监督电话。
第八条 任何单位和个人不得擅自在城市道路上设置停车位或者设置障碍物阻碍他人停车。
第九条 本办法自2027年1月1日起施行。
"""


def articles(body: str):
    return parse_articles(body)


def kinds(result) -> list[tuple[str, list[str], list[str]]]:
    return [(r.kind.value, [a.label for a in r.old], [a.label for a in r.new]) for r in result.rows]


def test_an_inserted_article_renumbers_the_rest_without_changing_them():
    new = BASE.replace("第五条 鼓励", "第五条 停车设施建设应当符合国土空间规划，优先利用地下空间。\n第六条 鼓励")
    new = new.replace("第六条 新建住宅", "第七条 新建住宅").replace("第七条 公共", "第八条 公共")
    new = new.replace("第八条 任何", "第九条 任何").replace("第九条 本办法", "第十条 本办法")
    result = compare(articles(BASE), articles(new))
    assert result.counts == {ChangeKind.UNCHANGED: 9, ChangeKind.INSERTED: 1}
    rows = kinds(result)
    assert rows[4] == ("inserted", [], ["第五条"])
    assert rows[5] == ("unchanged", ["第五条"], ["第六条"]) and result.rows[5].renumbered
    assert not any(r.moved for r in result.rows)


def test_a_split_article_is_one_row_with_both_new_articles():
    new = BASE.replace(
        "第四条 新建、改建、扩建建筑物应当按照停车设施配建标准配建停车位，并与主体工程同步设计、同步施工、同步交付使用。",
        "第四条 新建、改建、扩建建筑物应当按照停车设施配建标准配建停车位。\n"
        "第五条 配建的停车位应当与主体工程同步设计、同步施工、同步交付使用。")
    for old_n, new_n in (("九", "十"), ("八", "九"), ("七", "八"), ("六", "七"), ("五", "六")):
        new = new.replace(f"第{old_n}条 ", f"第{new_n}条 ", 1) if old_n != "五" else new.replace("第五条 鼓励", "第六条 鼓励")
    result = compare(articles(BASE), articles(new))
    split = [r for r in result.rows if r.kind is ChangeKind.SPLIT]
    assert len(split) == 1 and [a.label for a in split[0].old] == ["第四条"]
    assert [a.label for a in split[0].new] == ["第四条", "第五条"]
    assert result.counts[ChangeKind.INSERTED] == 0 and result.counts[ChangeKind.DELETED] == 0
    # Inside the row, the text that was kept is equal, and what was added is marked per new article.
    second = split[0].new[1]
    assert any(s.op is Op.INSERT for s in second.segments) and any(s.op is Op.EQUAL for s in second.segments)


def test_two_merged_articles_are_one_row_with_both_old_articles():
    new = BASE.replace(
        "第七条 公共停车场经营者应当在停车场入口显著位置公示收费标准、服务时间和监督电话。\n"
        "第八条 任何单位和个人不得擅自在城市道路上设置停车位或者设置障碍物阻碍他人停车。",
        "第七条 公共停车场经营者应当在停车场入口显著位置公示收费标准、服务时间和监督电话；任何单位和个人不得擅自"
        "在城市道路上设置停车位或者设置障碍物阻碍他人停车。").replace("第九条 本办法", "第八条 本办法")
    result = compare(articles(BASE), articles(new))
    merged = [r for r in result.rows if r.kind is ChangeKind.MERGED]
    assert len(merged) == 1 and [a.label for a in merged[0].old] == ["第七条", "第八条"]
    assert [a.label for a in merged[0].new] == ["第七条"]
    assert result.counts[ChangeKind.DELETED] == 0 and result.counts[ChangeKind.INSERTED] == 0
    # The full stop that became a semicolon is a change of its own, not swallowed into a phrase.
    old_first = merged[0].old[0]
    assert Segment_texts(old_first, Op.DELETE) == ["。"]


def Segment_texts(side, op: Op) -> list[str]:
    return [s.text for s in side.segments if s.op is op]


def test_a_chapter_moved_before_another_marks_only_its_articles_as_moved():
    lines = BASE.splitlines()
    chapter2, chapter3 = lines[5:9], lines[9:12]
    new = "\n".join(lines[:5] + chapter3 + chapter2 + lines[12:])
    result = compare(articles(BASE), articles(new))
    moved = {a.text[:8] for r in result.rows if r.moved for a in r.old}
    assert len(moved) in (3, 4)  # the shorter run is the one that moved
    assert not any(r.kind in (ChangeKind.INSERTED, ChangeKind.DELETED) for r in result.rows)
    assert all(r.kind is ChangeKind.MOVED for r in result.rows if r.moved)


def test_an_article_moved_into_another_chapter_is_moved_even_in_the_same_order():
    new = BASE.replace("第六条 新建住宅小区的停车位应当全部预留充电设施安装条件，并按照规定比例建设充电设施。\n第三章 停车管理",
                       "第三章 停车管理\n第六条 新建住宅小区的停车位应当全部预留充电设施安装条件，并按照规定比例建设充电设施。")
    result = compare(articles(BASE), articles(new))
    moved = [r for r in result.rows if r.moved]
    assert [a.label for r in moved for a in r.old] == ["第六条"]
    assert moved[0].new[0].chapter.endswith("停车管理")


def test_a_whole_rewrite_pairs_nothing_by_accident():
    new = """华城市停车管理办法
第一条 机动车停放应当遵守道路交通安全法律法规。
第二条 停车收费实行政府指导价和市场调节价相结合。
第三条 违反本办法的，由有关部门依法处理。
"""
    result = compare(articles(BASE), articles(new))
    assert result.counts == {ChangeKind.DELETED: 9, ChangeKind.INSERTED: 3}


def test_a_deleted_article_stands_where_it_was():
    new = BASE.replace("第五条 鼓励单位和个人利用自有土地、地下空间建设公共停车场，依法享受相关优惠政策。\n", "")
    rows = kinds(compare(articles(BASE), articles(new)))
    assert rows[4] == ("deleted", ["第五条"], [])
    assert rows[3][1] == ["第四条"] and rows[5][1] == ["第六条"]


def test_inside_an_article_the_diff_is_by_character_and_keeps_punctuation_apart():
    new = BASE.replace("服务时间和监督电话", "服务时间、监督电话和投诉方式")
    row = next(r for r in compare(articles(BASE), articles(new)).rows if r.kind is ChangeKind.MODIFIED)
    assert "".join(s.text for s in row.old[0].segments) == row.old[0].text
    assert "".join(s.text for s in row.new[0].segments) == row.new[0].text
    assert Segment_texts(row.new[0], Op.INSERT) and Segment_texts(row.old[0], Op.DELETE) == ["和"]


# --- the staff page and the answers' ties -----------------------------------------------------------------

REVISION = factories.DRAFT.replace("第一条 为了规范测试活动，制定本办法。",
                                   "第一条 为了规范测试活动，保障参与者的合法权益，制定本办法。")


def _revised(city):
    doc = factories.in_handling(city)
    drafting.revise_draft(doc, city["drafter"], body=REVISION, explanation=factories.EXPLANATION)
    db.session.commit()
    return doc


def test_the_staff_page_compares_the_consultation_draft_with_the_latest_version(city, as_user):
    doc = _revised(city)
    drafter = as_user("drafter")
    assert "comparison" in drafter.get(f"/staff/documents/{doc.id}").get_data(as_text=True)
    page = drafter.get(f"/staff/documents/{doc.id}/comparison")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<ins><span class="vh">' in html and "保障参与者的合法权益" in html
    assert 'name="old"' in html and 'value="1" selected' in html and 'value="2" selected' in html
    # The change has no adopted answer tied to it yet: listed for the drafter.
    assert "#cmp-n1" in html
    # Any two versions: the same version against itself has nothing to explain.
    same = drafter.get(f"/staff/documents/{doc.id}/comparison?old=2&new=2").get_data(as_text=True)
    assert "<ins>" not in same and "<del>" not in same
    assert drafter.get(f"/staff/documents/{doc.id}/comparison?old=9").status_code == 404
    # Only the changed articles, on request: the unchanged 第二条 is left out.
    changed = drafter.get(f"/staff/documents/{doc.id}/comparison?old=1&new=2&changed=1").get_data(as_text=True)
    assert 'id="cmp-n1"' in changed and 'id="cmp-n2"' not in changed and 'id="cmp-n2"' in html


def test_the_staff_page_is_not_shown_to_another_department_nor_signed_out(city, as_user, app):
    doc = _revised(city)
    assert as_user("drafter2").get(f"/staff/documents/{doc.id}/comparison").status_code == 404
    assert as_user("drafter2").get(f"/staff/documents/{doc.id}/comparison.docx").status_code == 404
    assert app.test_client().get(f"/staff/documents/{doc.id}/comparison").status_code == 302


def test_an_adopted_answer_is_tied_to_the_suggested_article_and_explains_the_change(city, as_user):
    doc = _revised(city)
    on_first = next(c for c in factories.comments(doc) if c.article is not None and c.article.seq == 1)
    drafter = as_user("drafter")
    form = drafter.get(f"/staff/documents/{doc.id}/comments/{on_first.id}").get_data(as_text=True)
    revised_first = next(a for a in doc.current_version.articles if a.seq == 1)
    assert f'value="{revised_first.id}" id="articles-{revised_first.id}" checked' in form
    answer = drafter.post(f"/staff/documents/{doc.id}/comments/{on_first.id}",
                          {"decision": "adopted", "reason": "已采纳。", "articles": [revised_first.id]})
    assert answer.status_code == 302
    assert db.session.scalars(db.select(AnswerArticle.article_id)).all() == [revised_first.id]
    html = drafter.get(f"/staff/documents/{doc.id}/comparison").get_data(as_text=True)
    receipt = "-".join(on_first.receipt_number[i:i + 4] for i in range(0, len(on_first.receipt_number), 4))
    assert receipt in html and "#cmp-n1" not in html  # explained now
    # The same answer tied to an article whose text did not change is flagged to the drafter.
    third = next(a for a in doc.current_version.articles if a.seq == 3)
    drafter.post(f"/staff/documents/{doc.id}/comments/{on_first.id}",
                 {"decision": "adopted", "reason": "已采纳。", "articles": [third.id]})
    table = comparison.table(doc, *comparison.default_pair(doc))
    assert [r.row.new[0].seq for r in table.adopted_without_change] == [3]
    assert [r.row.new[0].seq for r in table.without_reason] == [1]
    html = drafter.get(f"/staff/documents/{doc.id}/comparison").get_data(as_text=True)
    assert f"{third.label}：{receipt}" in html  # full-width colon in the Chinese page
    # Not adopted after all: the tie goes.
    drafter.post(f"/staff/documents/{doc.id}/comments/{on_first.id}",
                 {"decision": "not_adopted", "reason": "不采纳。", "articles": [third.id]})
    assert db.session.scalar(db.select(db.func.count()).select_from(AnswerArticle)) == 0


def test_a_group_answer_ties_the_suggested_article_to_the_group_first_text(city, as_user):
    doc = _revised(city)
    copies = [factories.comment(doc, body="建议第一条增加保障参与者合法权益的内容。", article_seq=1) for _ in range(3)]
    factories.take_in()
    [group] = factories.groups(doc)
    drafter = as_user("drafter")
    page = drafter.get(f"/staff/documents/{doc.id}/campaigns").get_data(as_text=True)
    revised_first = next(a for a in doc.current_version.articles if a.seq == 1)
    assert f'name="articles" value="{revised_first.id}" checked' in page
    answered = drafter.post(f"/staff/documents/{doc.id}/campaigns/{group.id}",
                            {"decision": "adopted", "reason": "已采纳。", "articles": [revised_first.id]},
                            form_page=f"/staff/documents/{doc.id}/campaigns")
    assert answered.status_code == 302
    tied = db.session.execute(db.select(CommentAnswer.comment_id, AnswerArticle.article_id).join(
        AnswerArticle, AnswerArticle.answer_id == CommentAnswer.id)).all()
    assert tied == [(group.representative_id, revised_first.id)]
    assert copies[0].id == group.representative_id
    # The group's answer changed to not adopted: the tie goes.
    drafter.post(f"/staff/documents/{doc.id}/campaigns/{group.id}",
                 {"decision": "not_adopted", "reason": "不采纳。", "articles": [revised_first.id]},
                 form_page=f"/staff/documents/{doc.id}/campaigns")
    assert db.session.scalar(db.select(db.func.count()).select_from(AnswerArticle)) == 0


def test_a_tie_names_only_articles_of_the_latest_version(city):
    doc = _revised(city)
    comment = factories.comments(doc)[0]
    consulted = next(a for a in doc.versions[0].articles if a.seq == 1)
    from consultation.errors import InvalidInput
    from consultation.services import answers
    with pytest.raises(InvalidInput):
        answers.answer_comment(doc, city["drafter"], comment.id, decision="adopted", reason="好。",
                               articles=[consulted.id])


def test_the_word_file_has_the_three_columns_with_underline_and_strike(city, as_user):
    doc = _revised(city)
    response = as_user("drafter").get(f"/staff/documents/{doc.id}/comparison.docx?old=1&new=2")
    assert response.status_code == 200
    word = DocxFile(io.BytesIO(response.data))
    grid = word.tables[0]
    assert [c.text for c in grid.rows[0].cells] == ["原条文", "修改后条文", "修改说明"]
    runs = [run for row in grid.rows[1:] for cell in row.cells for p in cell.paragraphs for run in p.runs]
    assert any(run.underline and "保障参与者的合法权益" in run.text for run in runs)


# --- the public page --------------------------------------------------------------------------------------

PERSONAL = ("张三丰", "13800138000", "zhang@example.com", "李四", "私下意见不公开")


def _published_with_ties(city, check_before=None):
    """A document published with two adopted answers tied to 第三条: one comment published, one hidden."""
    doc = factories.in_handling(city, comments=0)
    on_third = factories.comment(doc, body="建议明确施行日期。", article_seq=3, name="张三丰",
                                 phone="13800138000", email="zhang@example.com")
    hidden = factories.comment(doc, body="私下意见不公开。", article_seq=3, name="李四")
    from consultation.services import answers, moderation
    officer = city["openness"]
    moderation.moderate(doc, officer, [on_third.id], publish=True)
    moderation.moderate(doc, officer, [hidden.id], publish=False, reason="personal_data")
    drafting.revise_draft(doc, city["drafter"], body=factories.REVISED, explanation=factories.EXPLANATION)
    third = next(a for a in doc.current_version.articles if a.seq == 3)
    for c in (on_third, hidden):
        answers.answer_comment(doc, city["drafter"], c.id, decision="adopted", reason="已采纳。", articles=[third.id])
    db.session.commit()
    if check_before is not None:
        check_before(doc)
    factories.adopt(doc, city)
    publication.publish(doc, city["govoffice"], final_text=factories.REVISED, policy_interpretation="解读。",
                        effective_date=factories.utcnow().date() + factories.timedelta(days=30), validity_years=5)
    db.session.commit()
    return doc, on_third, hidden


def test_the_public_comparison_appears_with_the_feedback_and_shows_nothing_personal(city, browser):
    def not_public_yet(doc):
        assert browser.get(f"/feedback/{doc.id}/comparison").status_code == 404
        assert browser.get(f"/api/v1/feedback/{doc.id}/comparison").status_code == 404

    doc, on_third, hidden = _published_with_ties(city, not_public_yet)
    page = browser.get(f"/feedback/{doc.id}/comparison")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "建议明确施行日期" in html and "2027年1月1" in html
    for personal in (*PERSONAL, on_third.receipt_number, hidden.receipt_number):
        assert personal not in html
    assert f"/feedback/{doc.id}/comparison" in browser.get(f"/feedback/{doc.id}").get_data(as_text=True)
    api = browser.get(f"/api/v1/feedback/{doc.id}/comparison")
    assert api.status_code == 200 and api.json["old"] == {"seq": 1, "kind": "consultation_draft"}
    assert api.json["new"]["kind"] == "final_text" and api.json["counts"]["modified"] == 1
    changed = next(r for r in api.json["rows"] if r["kind"] == "modified")
    assert {"op": "insert", "text": "2027年1月1"} in changed["new"][0]["segments"]
    assert changed["reasons"] == [{"decision": "adopted", "comment": "建议明确施行日期。"},
                                  {"decision": "adopted", "comment": None}]
    for personal in (*PERSONAL, on_third.receipt_number, hidden.receipt_number):
        assert personal not in api.get_data(as_text=True)


def test_each_adopted_comment_on_the_feedback_shows_the_change_it_caused(city, browser):
    """The feedback page, its API and its PDF rows name the final text's article the answer changed, the page
    with a link to that row of the comparison table; an answer not tied names nothing."""
    from consultation.feedback import article_groups, page as feedback_page

    doc, on_third, hidden = _published_with_ties(city)
    rows = [r for section in feedback_page(doc, article_groups(doc)).sections for r in section.rows]
    third = next(a for a in comparison.final_version(doc).articles if a.seq == 3)
    assert [[(a.seq, a.label) for a in r.changed_articles] for r in rows] == [[(3, third.label)]] * 2
    html = browser.get(f"/feedback/{doc.id}").get_data(as_text=True)
    link = f'/feedback/{doc.id}/comparison#cmp-n3">{third.label}</a>'
    assert html.count(link) == 2
    assert 'id="cmp-n3"' in browser.get(f"/feedback/{doc.id}/comparison").get_data(as_text=True)
    api = browser.get(f"/api/v1/feedback/{doc.id}").json
    listed = [c["changed_articles"] for g in api["groups"] for c in g["comments"]]
    assert listed == [[{"seq": 3, "label": third.label}]] * 2


def test_reviewers_compare_each_round_with_the_last_and_with_the_consultation_draft(city, as_user):
    doc = factories.in_joint_review(city)
    justice = as_user("justice")
    page = justice.get(f"/staff/documents/{doc.id}").get_data(as_text=True)
    assert f"/staff/documents/{doc.id}/comparison?old=1&amp;new=2" in page
    table = justice.get(f"/staff/documents/{doc.id}/comparison?old=1&new=2").get_data(as_text=True)
    # The adopted answers name no article: the reviewers see the change listed without a reason.
    assert "2027年1月1" in table and "#cmp-n3" in table


def test_the_review_packet_prints_the_comparison_with_its_reasons(city):
    from consultation import reports
    from consultation.services import answers

    doc = _revised(city)
    on_first = next(c for c in factories.comments(doc) if c.article is not None and c.article.seq == 1)
    first = next(a for a in doc.current_version.articles if a.seq == 1)
    answers.answer_comment(doc, city["drafter"], on_first.id, decision="adopted", reason="已采纳。", articles=[first.id])
    db.session.commit()
    text = _pdf_text(reports.review_packet(doc))
    assert "六、修改对照表" in text and "其余2条未修改" in text
    assert "保障参与者的合法权益" in text and "采纳：第1条意见" in text
    assert on_first.receipt_number not in text


@settings(max_examples=60, deadline=None, database=None)
@given(edits=st.lists(st.tuples(st.sampled_from(["keep", "drop", "insert", "reword", "split", "merge"]),
                                st.integers(0, 20)), min_size=9, max_size=9),
       order=st.permutations(range(3)))
def test_every_article_is_in_exactly_one_row_and_the_segments_give_back_the_texts(edits, order):
    """Whatever the revision, each article of either version is shown once, and its text is whole."""
    old = articles(BASE)
    texts: list[str] = []
    for (action, n), a in zip(edits, old, strict=True):
        if action == "keep":
            texts.append(a.text)
        elif action == "insert":
            texts += [a.text, f"新增条文{n}：有关部门应当在{n}个工作日内作出决定，并告知申请人。"]
        elif action == "reword":
            texts.append(a.text[:n] + "依法" + a.text[n + 3:])
        elif action == "split":
            texts += [a.text[:len(a.text) // 2] + "。", a.text[len(a.text) // 2:]]
        elif action == "merge" and texts:
            texts[-1] = texts[-1].rstrip("。") + "；" + a.text
    chapters = [texts[i::3] for i in range(3)]
    body = "\n".join(f"第{k + 1}章 第{k + 1}部分\n" + "\n".join(f"第{n}条 {t}" for n, t in enumerate(chapters[k], 1))
                     for k in order)
    new = articles(body) if texts else []
    result = compare(old, new)
    shown_old = sorted(a.seq for r in result.rows for a in r.old)
    shown_new = sorted(a.seq for r in result.rows for a in r.new)
    assert shown_old == [a.seq for a in old] and shown_new == [b.seq for b in new]
    for row in result.rows:
        for side in row.old + row.new:
            assert "".join(s.text for s in side.segments) == side.text
        assert all(s.op is not Op.INSERT for side in row.old for s in side.segments)
        assert all(s.op is not Op.DELETE for side in row.new for s in side.segments)


def _pdf_text(report) -> str:
    from flask_babel import force_locale
    from pypdf import PdfReader

    from consultation import pdf

    with force_locale("zh_Hans_CN"):  # as the worker renders it (tasks._report_pdf): no request
        rendered = pdf.render_report(report.template, report.context, report.chunks(), processes=1)
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.data)).pages).replace("\n", "")


def test_the_public_feedback_pdf_prints_the_comparison_without_anything_personal(city):
    from consultation import reports

    doc, on_third, hidden = _published_with_ties(city)
    text = _pdf_text(reports.feedback(doc))
    assert "修改对照表" in text and "征求意见稿（第1版）与正式文本" in text
    assert "采纳：建议明确施行日期。" in text and "采纳：一条未公开的意见" in text
    for personal in (*PERSONAL, on_third.receipt_number, hidden.receipt_number):
        assert personal not in text
