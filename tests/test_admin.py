"""The administration pages: the procedures drawn from their files, and the holiday calendar."""
from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from consultation import working_days
from consultation.extensions import db
from consultation.models import AuditEvent, CalendarOverride, CalendarYear
from consultation.workflow import engine


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["drafter", "head", "govoffice", "justice", "openness"])
def test_only_administrators_reach_the_admin_pages(as_user, username):
    browser = as_user(username)
    for page in ("/admin/", "/admin/procedures/normative_document", "/admin/calendar?year=2026"):
        assert browser.get(page).status_code == 403, page
    assert "/admin/" not in text_of(browser.get("/staff/"))


def test_anonymous_visitors_are_sent_to_sign_in(browser):
    response = browser.get("/admin/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_admin_index_lists_both_procedures(as_user):
    html = text_of(as_user("admin").get("/admin/"))
    assert "/admin/procedures/normative_document" in html and "/admin/procedures/major_decision" in html


@pytest.mark.parametrize("procedure_id", ["normative_document", "major_decision"])
def test_each_procedure_is_drawn_from_its_file(app, as_user, procedure_id):
    html = text_of(as_user("admin").get(f"/admin/procedures/{procedure_id}"))
    svg = html[html.index("<svg"):html.index("</svg>")]
    procedure = app.extensions["procedures"][procedure_id]
    # Every stage is a node and every transition an edge, labelled in Chinese by default.
    nodes = re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]+)</title>', svg)
    assert set(nodes) == set(procedure.stages)
    for stage in procedure.stages.values():
        assert stage.title in svg
    edges = set(re.findall(r'<g id="t(?:-|&#45;)([a-z_]+)(?:-|&#45;)[a-z_]+" class="edge">', svg))
    assert edges == set(procedure.transitions)
    assert svg.count("stroke-dasharray") == 2  # the two automatic steps are dashed
    # Who acts is written on the arrows and in the table below.
    assert "司法局审核人员" in html or "justice-bureau reviewer" in html


def test_the_diagram_follows_the_language(as_user):
    admin = as_user("admin")
    admin.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    html = text_of(admin.get("/admin/procedures/major_decision"))
    assert "Expert argument" in html or "Joint review (legality review)" in html
    assert "Joint review (legality review)" in html[html.index("<svg"):]


def test_an_unknown_procedure_is_404(as_user):
    assert as_user("admin").get("/admin/procedures/nothing").status_code == 404


# --- the calendar ----------------------------------------------------------------------------

YEAR_2031 = """# 国务院办公厅关于2031年部分节假日安排的通知 (an example schedule)
year 2031
2031-01-01 holiday 元旦
2031-01-19 workday 春节调休
2031-01-22..2031-01-28 holiday 春节
2031-02-08 workday 春节调休
"""


def test_a_year_without_data_is_estimated_until_its_schedule_is_loaded_on_the_page(city, as_user):
    admin = as_user("admin")
    assert 'data-source="estimated"' in text_of(admin.get("/admin/calendar?year=2031"))
    assert working_days.add_working_days(date(2031, 1, 20), 3).estimated
    response = admin.post("/admin/calendar?year=2031", {"file-text": YEAR_2031, "file-submit": "1"})
    assert response.status_code == 302, text_of(response)
    working_days.forget()
    assert db.session.scalar(select(CalendarYear.year)) == 2031
    assert not working_days.is_working_day(date(2031, 1, 1))      # Wednesday, 元旦
    assert working_days.is_working_day(date(2031, 1, 19))         # Sunday, make-up day
    assert not working_days.is_working_day(date(2031, 1, 27))     # Monday, 春节
    assert working_days.is_working_day(date(2031, 2, 8))          # Saturday, make-up day
    assert not working_days.add_working_days(date(2031, 1, 20), 3).estimated
    # Monday 20 January + 2 working days: the 21st, then the holiday until the 28th, so 29 January.
    assert working_days.add_working_days(date(2031, 1, 20), 2).day == date(2031, 1, 29)
    page = text_of(admin.get("/admin/calendar?year=2031"))
    assert 'data-source="loaded"' in page and "2031-01-19" in page and "春节调休" in page
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_loaded")).all()
    assert event.actor_id == city["admin"].id and '"year": 2031' in event.payload


def test_loading_a_year_again_replaces_its_corrections(city):
    from consultation.holiday_calendar import load_year

    load_year(YEAR_2031, city["admin"])
    load_year("year 2031\n2031-10-01..2031-10-07 holiday 国庆节\n", city["admin"])
    working_days.forget()
    assert working_days.is_working_day(date(2031, 1, 27))   # the Spring Festival lines are gone
    assert not working_days.is_working_day(date(2031, 10, 1))
    assert db.session.scalar(select(db.func.count(CalendarYear.id))) == 1


def test_a_file_with_bad_lines_is_refused_whole_naming_each_line(city, as_user):
    admin = as_user("admin")
    broken = "year 2031\n2031-01-01 holiday 元旦\n2031-02-30 holiday 无此日\n2031-01-27 workday 周一调休\n"
    response = admin.post("/admin/calendar?year=2031", {"file-text": broken, "file-submit": "1"})
    html = text_of(response)
    assert response.status_code == 400
    assert "第3行" in html and "第4行" in html
    assert "2031-02-30 holiday 无此日" in html  # the pasted text is kept for correction
    assert db.session.scalar(select(CalendarOverride.id)) is None
    assert db.session.scalar(select(CalendarYear.id)) is None


def test_a_year_file_can_be_uploaded(city, as_user):
    data = {"file-upload": (io.BytesIO(YEAR_2031.encode()), "2031.txt"),
            "file-submit": "1"}
    response = as_user("admin").post("/admin/calendar?year=2031", data, content_type="multipart/form-data")
    assert response.status_code == 302
    assert db.session.scalar(select(CalendarYear.source)) == "2031.txt"


def test_one_day_can_be_corrected_and_the_correction_removed(city, as_user):
    admin = as_user("admin")
    # An extra rest day decided locally (for example a typhoon closure) on Monday 30 November 2026.
    monday = date(2026, 11, 30)
    assert working_days.is_working_day(monday)
    r = admin.post("/admin/calendar?year=2026", {"day-day": monday.isoformat(), "day-kind": "holiday",
                                                 "day-name": "台风停工", "day-submit": "1"})
    assert r.status_code == 302
    working_days.forget()
    assert not working_days.is_working_day(monday)
    assert "台风停工" in text_of(admin.get("/admin/calendar?year=2026"))
    refused = admin.post("/admin/calendar?year=2026", {"day-day": "2026-12-01", "day-kind": "workday",
                                                       "day-name": "", "day-submit": "1"})
    assert refused.status_code == 400 and "周末" in text_of(refused)
    admin.post("/admin/calendar?year=2026", {"day-day": monday.isoformat(), "day-kind": "normal",
                                             "day-name": "", "day-submit": "1"})
    working_days.forget()
    assert working_days.is_working_day(monday)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("calendar_day_changed") == 2


def test_a_deadline_follows_the_corrected_calendar(city):
    from consultation.holiday_calendar import set_day

    before = working_days.add_working_days(date(2026, 11, 27), 1).day   # Friday → Monday 30 November
    assert before == date(2026, 11, 30)
    set_day(date(2026, 11, 30), "holiday", "台风停工", city["admin"])
    assert working_days.add_working_days(date(2026, 11, 27), 1).day == date(2026, 12, 1)


def test_the_calendar_commands(app, city, tmp_path):
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["calendar", "show", "2026"])
    assert shown.exit_code == 0 and "chinesecalendar" in shown.output
    assert "2026-02-14 Sat workday 春节" in shown.output
    exported = runner.invoke(args=["calendar", "export", "2031"])
    assert exported.output.splitlines()[1] == "year 2031" and len(exported.output.splitlines()) == 2
    path = tmp_path / "2031.txt"
    path.write_text(YEAR_2031, encoding="utf-8")
    loaded = runner.invoke(args=["calendar", "load", str(path)])
    assert loaded.exit_code == 0 and "Loaded 2031" in loaded.output
    assert "loaded by an administrator" in runner.invoke(args=["calendar", "show", "2031"]).output
    path.write_text("year 2031\n2031-13-01 holiday 坏日期\n", encoding="utf-8")
    broken = runner.invoke(args=["calendar", "load", str(path)])
    assert broken.exit_code == 1 and "第2行" in broken.output


def test_the_export_of_every_official_year_loads_back_to_the_same_calendar(city):
    from consultation.holiday_calendar import export_year, parse

    for year in range(2020, 2027):
        parsed_year, entries = parse(export_year(year))
        assert parsed_year == year
        marked = {e.day: e.kind.value == "workday" for e in entries}
        day = date(year, 1, 1)
        while day.year == year:
            expected = working_days.is_working_day(day)
            assert marked.get(day, day.weekday() < 5) == expected, day
            day = date.fromordinal(day.toordinal() + 1)


def test_the_procedures_are_the_engine_s(app):
    with app.test_request_context():
        assert set(engine.procedures()) == {"normative_document", "major_decision"}


def test_without_graphviz_the_page_names_the_package_and_still_shows_the_procedure(as_user, monkeypatch):
    from consultation import diagrams

    diagrams._render.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")  # as on a machine where Debian's graphviz is not installed
    try:
        response = as_user("admin").get("/admin/procedures/normative_document")
    finally:
        diagrams._render.cache_clear()
    html = text_of(response)
    assert response.status_code == 200 and "<svg" not in html
    assert "graphviz" in html and "联合审查" in html


def test_the_calendar_page_says_in_words_that_an_unknown_year_is_estimated(as_user):
    admin = as_user("admin")
    admin.get("/lang/en", headers={"Referer": "http://localhost/admin/"})
    html = text_of(admin.get("/admin/calendar?year=2031"))
    assert "weekends only" in html and "estimated" in html
    assert "chinesecalendar" in text_of(admin.get("/admin/calendar?year=2026"))


def test_a_year_file_saved_by_windows_notepad_can_be_uploaded(city, as_user):
    data = {"file-upload": (io.BytesIO(YEAR_2031.replace("\n", "\r\n").encode("utf-8-sig")), "2031.txt"),
            "file-submit": "1"}
    response = as_user("admin").post("/admin/calendar?year=2031", data, content_type="multipart/form-data")
    assert response.status_code == 302, text_of(response)
    assert db.session.scalar(select(CalendarOverride.name).where(CalendarOverride.day == date(2031, 1, 1))) == "元旦"


def test_calendar_show_counts_the_working_days(app):
    output = app.test_cli_runner().invoke(args=["calendar", "show", "2025"]).output
    # 2025 has 261 weekdays; 18 are holidays (元旦 1, 春节 6, 清明 1, 劳动节 3, 端午 1, 国庆中秋 6) and
    # 5 weekend days are worked: 261 - 18 + 5 = 248.
    assert "2025: official schedule from the chinesecalendar package" in output
    assert output.splitlines()[1] == "248 working days, 18 holidays on weekdays, 5 make-up working days"
