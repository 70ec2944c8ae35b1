"""The openness-assessment figures (services/statistics.py), checked against counts made by hand."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from consultation.extensions import db
from consultation.models import (
    ChannelTally, Comment, Consultation, Department, Document, LibraryEvent, ReviewOrgan, ReviewRound, Signoff, utcnow,
)
from consultation.services import answers, statistics
from consultation.services.status import SHANGHAI
from consultation.workflow import engine

from . import factories as f

YEAR = 2025


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=SHANGHAI)


def _dated(doc: Document, *, created: str, opens: str | None = None, closes: str | None = None) -> None:
    db.session.execute(update(Document).where(Document.id == doc.id).values(created_at=at(created)))
    if opens:
        db.session.execute(update(Consultation).where(Consultation.document_id == doc.id)
                           .values(opens_at=at(opens, 9), closes_at=at(closes, 17)))
    db.session.commit()


@pytest.fixture
def year(city) -> dict[str, Document]:
    """Three documents of one department in 2025, with every date set by hand.

    A: drafted 10 March; consulted 10-17 March (5 working days: short of 7, no reason); 3 comments answered
       采纳, 部分采纳, 未采纳; one of them came by letter.
    C: drafted 20 March; pre-disclosure skipped with a reason the openness office approved.
    B: drafted 1 April; consulted 1 April - 20 May (minimum met), 2 comments adopted; submitted for review
       2 June, signed by the justice bureau 30 June (20 working days: late, the limit is 15); adopted 1 July,
       published 10 July (7 working days: on time); repealed from 1 November.
    """
    a = f.in_handling(city, comments=3, title="华城市甲办法")
    for comment, decision in zip(f.comments(a), ("adopted", "partly_adopted", "not_adopted"), strict=True):
        answers.answer_comment(a, city["drafter"], comment.id, decision=decision, reason="答复的理由文字。")
    db.session.execute(update(Comment).where(Comment.id == f.comments(a)[0].id).values(channel="letter"))
    _dated(a, created="2025-03-10", opens="2025-03-10", closes="2025-03-17")

    c = f.in_skip_review(city, title="华城市丙规范")
    _dated(c, created="2025-03-20")
    waiting = statistics.report(YEAR, "year").totals[0]
    assert (waiting.drafted, waiting.skipped) == (2, 0)  # only asked for: not skipped yet
    engine.perform(c, "approve_skip_predisclosure", city["openness"])
    db.session.commit()

    b = f.published(city, title="华城市乙办法")
    _dated(b, created="2025-04-01", opens="2025-04-01", closes="2025-05-20")
    round_id = db.session.scalar(db.select(ReviewRound.id).where(ReviewRound.document_id == b.id))
    db.session.execute(update(ReviewRound).where(ReviewRound.id == round_id).values(submitted_at=at("2025-06-02")))
    db.session.execute(update(Signoff).where(Signoff.round_id == round_id, Signoff.organ == ReviewOrgan.JUSTICE.value)
                       .values(signed_at=at("2025-06-30")))
    db.session.execute(update(Document).where(Document.id == b.id).values(
        decision_date=date(2025, 7, 1), published_at=at("2025-07-10"), effective_date=date(2025, 7, 10),
        valid_until=utcnow().astimezone(SHANGHAI).date() + timedelta(days=60)))
    db.session.commit()
    assert statistics.fold_channels() == 5
    return {"a": a, "b": b, "c": c}


def _row(report: statistics.Report, period: str) -> statistics.Figures:
    return next(r for r in report.totals if r.period == period)


def test_monthly_figures_match_the_hand_count(year, city):
    report = statistics.report(YEAR, "month")
    march, april, june, july = (_row(report, f"2025-{m}") for m in ("03", "04", "06", "07"))
    assert (march.drafted, march.predisclosed, march.skipped) == (2, 1, 1)
    assert (march.consultations, march.consultations_minimum_met, march.consultations_short_unjustified,
            march.consultation_working_days) == (1, 0, 1, 5)
    assert (march.comments, march.answered, march.adopted, march.partly_adopted) == (3, 3, 1, 1)
    assert (march.channel_web, march.channel_letter) == (2, 1)
    assert march.adoption_rate == round(2 / 3, 4) and march.answered_share == 1.0
    assert (april.drafted, april.consultations, april.consultations_minimum_met, april.comments) == (1, 1, 1, 2)
    assert (april.adopted, april.adoption_rate) == (2, 1.0)
    assert (june.reviews, june.reviews_on_time, june.late) == (1, 0, 1)
    assert (july.publications, july.publications_on_time, july.feedback_published, july.feedback_on_time) == (1, 1, 1, 1)
    assert report.skip_reasons == [("本文件为内部工作规范，不涉及公众权利义务。", 1)]
    # The department's rows hold everything; the other drafting department nothing.
    drafting = {d.name: d.id for d in report.departments}
    own = [r for r in report.rows if r.department_id == drafting["华城市住房和城乡建设局"]]
    other = [r for r in report.rows if r.department_id == drafting["华城市市场监督管理局"]]
    assert sum(r.drafted for r in own) == 3 and sum(r.drafted for r in other) == 0
    assert len(report.rows) == 2 * 12


def test_quarters_and_the_year_fold_the_months(year):
    quarters = statistics.report(YEAR, "quarter")
    assert [r.drafted for r in quarters.totals] == [2, 1, 0, 0]
    assert [r.reviews for r in quarters.totals] == [0, 1, 0, 0]
    whole = statistics.report(YEAR, "year").totals[0]
    assert (whole.period, whole.drafted, whole.comments, whole.adopted + whole.partly_adopted, whole.answered) == (
        "2025", 3, 5, 4, 5)
    assert whole.adoption_rate == 0.8


def test_a_department_filter_keeps_its_own_documents(year, city):
    other = db.session.scalar(db.select(Department.id).where(Department.name == "华城市市场监督管理局"))
    report = statistics.report(YEAR, "year", department_id=other)
    assert [d.id for d in report.departments] == [other]
    assert report.totals[0].drafted == 0 and report.skip_reasons == []


def test_library_and_annual_table(year, city):
    own = year["b"].department_id
    assert statistics.library_figures()[own] == {"in_force": 1, "expiring": 1}
    rows = statistics.annual_table(YEAR)
    assert [(r.department.name if r.department else None, r.made, r.repealed, r.in_force) for r in rows] == [
        ("华城市住房和城乡建设局", 1, 0, 1), ("华城市市场监督管理局", 0, 0, 0), (None, 1, 0, 1)]
    db.session.add(LibraryEvent(document_id=year["b"].id, change="repealed", effective_on=date(2025, 11, 1),
                                note="", recorded_by_id=city["openness"].id))
    db.session.commit()
    assert statistics.library_figures()[own] == {"repealed": 1}
    assert [(r.made, r.repealed, r.in_force) for r in statistics.annual_table(YEAR)][-1] == (1, 1, 0)
    assert [(r.made, r.repealed, r.in_force) for r in statistics.annual_table(2024)][-1] == (0, 0, 0)


def test_the_clock_folds_each_comment_once(year, city, monkeypatch):
    assert statistics.fold_channels() == 0
    doc = f.in_consultation(city, title="华城市丁办法")
    f.comment(doc, at=utcnow())
    assert statistics.fold_channels() == 0  # too fresh: an earlier id may still be committing
    f.comment(doc, at=utcnow())
    f.comment(doc, at=utcnow())
    later = utcnow() + statistics.FOLD_DELAY + timedelta(seconds=1)
    monkeypatch.setattr(statistics, "FOLD_BATCH", 2)  # a long backlog is folded a batch per sweep
    assert [statistics.fold_channels(later) for _ in range(3)] == [2, 1, 0]
    assert sum(t.n for t in db.session.scalars(db.select(ChannelTally))) == 8


# --- the public page and the downloads ------------------------------------------------------------------------

def test_the_page_shows_the_figures_charts_and_tables(year, browser):
    page = browser.get("/statistics?year=2025&grain=quarter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<svg class="chart-svg"') == 3 and html.count("<caption") == 3
    assert "2025-Q2" in html and "66.7%" in html  # the first quarter: 2 of 3 comments adopted in part or whole
    assert "80.0%" in html  # the year's adoption rate of the department (4 of 5)
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]


def test_the_page_refuses_a_year_it_does_not_offer(year, browser):
    assert browser.get("/statistics?year=1800").status_code == 400
    assert browser.get("/statistics?grain=week").status_code == 400


def test_the_csv_is_utf8_with_bom_and_holds_no_personal_data(year, browser, city):
    db.session.execute(update(Comment).where(Comment.document_id == year["a"].id).values(
        name="张三丰", phone="13800000000", email="zhang@example.com"))
    db.session.commit()
    answer = browser.get("/statistics.csv?year=2025&grain=month")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    raw = answer.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    lines = text.splitlines()
    assert len(lines) == 1 + 2 * 12 + 12  # header, 12 months of 2 departments, 12 months of the totals
    assert lines[3].split(",")[:4] == ["2025-03", "华城市住房和城乡建设局", "2", "1"]
    for secret in ("张三丰", "13800000000", "zhang@example.com", "答复的理由文字"):
        assert secret not in text
    annual = browser.get("/statistics/annual-report.csv?year=2025").get_data()
    assert annual.startswith(b"\xef\xbb\xbf") and annual.decode("utf-8-sig").splitlines()[-1].endswith(",1,0,1")


def test_both_csv_files_stream_whole_and_in_chinese_from_a_real_server(year, live_server):
    """Over real HTTP the rows are written after the view has returned: they still read the database and the
    page's language (the test client would keep the context open and hide a missing one)."""
    from urllib.request import urlopen

    for path, header, last in (("/statistics.csv?year=2025&grain=month", "期间,", None),
                               ("/statistics/annual-report.csv?year=2025", None, ",1,0,1")):
        with urlopen(f"{live_server}{path}", timeout=30) as answer:
            lines = answer.read().decode("utf-8-sig").splitlines()
        assert len(lines) > 1, path
        assert not any(c.isascii() and c.isalpha() for c in lines[0]), lines[0]  # the header is in Chinese
        if header:
            assert lines[0].startswith(header), lines[0]
        if last:
            assert lines[-1].endswith(last), lines[-1]


def test_the_api_gives_the_same_figures(year, browser):
    data = browser.get("/api/v1/statistics?year=2025&grain=year").get_json()
    assert (data["year"], data["grain"], data["department_id"]) == (2025, "year", None)
    whole = data["periods"][0]
    assert (whole["period"], whole["drafted"], whole["comments"], whole["adoption_rate"]) == ("2025", 3, 5, 0.8)
    assert [d["department"]["name"] for d in data["departments"]] == ["华城市住房和城乡建设局", "华城市市场监督管理局"]
    assert data["annual_report"][-1] == {"department": None, "made": 1, "repealed": 0, "in_force": 1}
    assert browser.get("/api/v1/statistics?grain=week").status_code == 400


# --- expiry reminders by the clock ---------------------------------------------------------------------------

def test_the_drafting_department_is_told_90_and_30_days_before_expiry_once(year, city):
    from consultation.models import Notification
    from consultation.services import notifications

    for user in (city["drafter"], city["head"], city["drafter2"]):
        user.email = f"{user.username}@example.gov.cn"
    db.session.commit()
    assert notifications.tick()["expiring"] == 2  # 60 days left: the 90-day reminder to the drafter and the head
    assert notifications.tick()["expiring"] == 0
    today = utcnow().astimezone(SHANGHAI).date()
    db.session.execute(update(Document).where(Document.id == year["b"].id).values(valid_until=today + timedelta(days=20)))
    db.session.commit()
    assert notifications.tick()["expiring"] == 2
    assert notifications.tick()["expiring"] == 0
    sent = db.session.execute(db.select(Notification.event, Notification.recipient).order_by(Notification.id)).all()
    assert sorted(sent) == sorted([("expiry_90", "drafter@example.gov.cn"), ("expiry_90", "head@example.gov.cn"),
                                   ("expiry_30", "drafter@example.gov.cn"), ("expiry_30", "head@example.gov.cn")])


def test_a_repealed_document_is_not_reminded_of(year, city):
    from consultation.services import notifications

    city["drafter"].email = "drafter@example.gov.cn"
    db.session.add(LibraryEvent(document_id=year["b"].id, change="repealed", effective_on=date(2025, 11, 1),
                                note="", recorded_by_id=city["openness"].id))
    db.session.commit()
    assert notifications.expiry_reminders() == 0


# --- the monthly ranking (负积分制) ----------------------------------------------------------------------------

def test_the_ranking_charges_each_late_or_missing_step_to_its_department(year, city):
    from consultation.services import ranking

    today = utcnow().astimezone(SHANGHAI).date()
    db.session.execute(update(Document).where(Document.id == year["c"].id).values(
        published_at=at("2025-06-16"), predisclosure_skip_reason=None))
    db.session.execute(update(Document).where(Document.id == year["b"].id).values(concerns_market_entities=True))
    db.session.commit()
    names = {d.id: d.name for d in db.session.scalars(db.select(Department))}

    def events(month: int) -> list[tuple]:
        return [(names[e.department_id], e.rule.name, e.title, e.day, e.done, e.points)
                for e in ranking.ranking(2025, month).events]

    # A: closed 17 March, 15 working days to answer (Qingming 4 April) ran out 8 April; never sent for review.
    assert events(4) == [("华城市住房和城乡建设局", "late_answer", "华城市甲办法", date(2025, 4, 8), None, 2)]
    # B: closed 20 May, due 11 June (Dragon Boat 2 June), sent for review today; the justice bureau signed
    # on 30 June a review submitted on 2 June, due 23 June. C: published 16 June without pre-disclosure or reason.
    assert sorted(events(6)) == sorted([
        ("华城市住房和城乡建设局", "late_answer", "华城市乙办法", date(2025, 6, 11), today, 2),
        ("华城市住房和城乡建设局", "skipped_predisclosure", "华城市丙规范", date(2025, 6, 16), date(2025, 6, 16), 5),
        ("华城市司法局", "late_review", "华城市乙办法", date(2025, 6, 23), date(2025, 6, 30), 2)])
    # B concerns market entities and was published on 10 July without a prior assessment (on time: 7 working days).
    assert events(7) == [("华城市住房和城乡建设局", "missing_prior_assessment", "华城市乙办法", date(2025, 7, 10), None, 3)]
    june = ranking.ranking(2025, 6)
    assert [(s.rank, s.department.name, s.points) for s in june.standings] == [
        (1, "华城市市场监督管理局", 0), (2, "华城市司法局", 2), (3, "华城市住房和城乡建设局", 7)]
    assert june.standings[2].by_rule == {"late_answer": 1, "skipped_predisclosure": 1}


def test_a_broken_scoring_file_is_refused_with_its_entry(tmp_path):
    from consultation.services import ranking

    path = tmp_path / "scoring.toml"
    path.write_text('[rules.late_answer]\ntitle = "超期"\npoints = -1\nworking_days = 15\n', encoding="utf-8")
    with pytest.raises(ranking.ScoringFileError, match=r"scoring.toml: \[rules.late_answer\]: points"):
        ranking.load_scoring(path)
    path.write_text('[rules.late_lunch]\ntitle = "午餐"\npoints = 1\n', encoding="utf-8")
    with pytest.raises(ranking.ScoringFileError, match="unknown rule"):
        ranking.load_scoring(path)


def test_the_openness_office_reads_and_downloads_the_ranking(year, as_user):
    from docx import Document as DocxFile

    officer = as_user("openness")
    page = officer.get("/staff/assessment/ranking?month=2025-04")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "华城市甲办法" in html and "2025年4月8日" in html
    csv_bytes = officer.get("/staff/assessment/ranking.csv?month=2025-04").get_data()
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    lines = csv_bytes.decode("utf-8-sig").splitlines()
    assert lines[1].startswith("1,华城市市场监督管理局,0") and lines[-1].endswith(",2")
    word = officer.get("/staff/assessment/ranking.docx?month=2025-04")
    tables = DocxFile(io.BytesIO(word.get_data())).tables
    assert [len(t.rows) for t in tables] == [1 + 2, 1 + 1]  # the two drafting departments ranked; one event
    assert tables[1].rows[1].cells[3].text == "华城市甲办法"
    assert officer.get("/staff/assessment/ranking?month=2025-13").status_code == 400
    assert as_user("drafter").get("/staff/assessment/ranking").status_code == 403


def test_the_due_for_review_list_shows_each_department_its_own(year, as_user):
    assert "华城市乙办法" in as_user("drafter").get("/staff/assessment/due-for-review").get_data(as_text=True)
    assert "华城市乙办法" in as_user("openness").get("/staff/assessment/due-for-review").get_data(as_text=True)
    assert "华城市乙办法" not in as_user("drafter2").get("/staff/assessment/due-for-review").get_data(as_text=True)
