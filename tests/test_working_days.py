"""Working days on the Chinese calendar: holidays, make-up days (调休), the first day not counted."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consultation.working_days import (
    add_calendar_days, add_working_days, is_covered, is_working_day, working_days_between,
)


# The State Council's notices (国务院办公厅关于20XX年部分节假日安排的通知), typed from the notices themselves:
# for each year, the holiday ranges (rest days, weekends inside them included) and the make-up working days.
OFFICIAL = {
    2020: {  # 国办发明电〔2019〕16号; the Spring Festival extended to 2 February by 国办发明电〔2020〕1号,
             # which also cancelled the make-up day of Saturday 1 February.
        "holidays": [("2020-01-01", "2020-01-01"), ("2020-01-24", "2020-02-02"), ("2020-04-04", "2020-04-06"),
                     ("2020-05-01", "2020-05-05"), ("2020-06-25", "2020-06-27"), ("2020-10-01", "2020-10-08")],
        "workdays": ["2020-01-19", "2020-04-26", "2020-05-09", "2020-06-28", "2020-09-27", "2020-10-10"],
    },
    2021: {  # 国办发明电〔2020〕27号
        "holidays": [("2021-01-01", "2021-01-03"), ("2021-02-11", "2021-02-17"), ("2021-04-03", "2021-04-05"),
                     ("2021-05-01", "2021-05-05"), ("2021-06-12", "2021-06-14"), ("2021-09-19", "2021-09-21"),
                     ("2021-10-01", "2021-10-07")],
        "workdays": ["2021-02-07", "2021-02-20", "2021-04-25", "2021-05-08", "2021-09-18", "2021-09-26",
                     "2021-10-09"],
    },
    2022: {  # 国办发明电〔2021〕11号
        "holidays": [("2022-01-01", "2022-01-03"), ("2022-01-31", "2022-02-06"), ("2022-04-03", "2022-04-05"),
                     ("2022-04-30", "2022-05-04"), ("2022-06-03", "2022-06-05"), ("2022-09-10", "2022-09-12"),
                     ("2022-10-01", "2022-10-07")],
        "workdays": ["2022-01-29", "2022-01-30", "2022-04-02", "2022-04-24", "2022-05-07", "2022-10-08",
                     "2022-10-09"],
    },
    2023: {  # 国办发明电〔2022〕16号 (New Year: 31 December 2022 to 2 January 2023)
        "holidays": [("2023-01-01", "2023-01-02"), ("2023-01-21", "2023-01-27"), ("2023-04-05", "2023-04-05"),
                     ("2023-04-29", "2023-05-03"), ("2023-06-22", "2023-06-24"), ("2023-09-29", "2023-10-06")],
        "workdays": ["2023-01-28", "2023-01-29", "2023-04-23", "2023-05-06", "2023-06-25", "2023-10-07",
                     "2023-10-08"],
    },
    2024: {  # 国办发明电〔2023〕7号
        "holidays": [("2024-01-01", "2024-01-01"), ("2024-02-10", "2024-02-17"), ("2024-04-04", "2024-04-06"),
                     ("2024-05-01", "2024-05-05"), ("2024-06-10", "2024-06-10"), ("2024-09-15", "2024-09-17"),
                     ("2024-10-01", "2024-10-07")],
        "workdays": ["2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14",
                     "2024-09-29", "2024-10-12"],
    },
    2025: {  # 国办发明电〔2024〕12号
        "holidays": [("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
                     ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08")],
        "workdays": ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    },
    2026: {  # 国办发明电〔2025〕7号
        "holidays": [("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
                     ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
                     ("2026-10-01", "2026-10-07")],
        "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
    },
}


def _days(first: str, last: str):
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    while day <= end:
        yield day
        day += timedelta(days=1)


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_every_day_of_the_official_schedules_2020_to_2026(year):
    holidays = {d for first, last in OFFICIAL[year]["holidays"] for d in _days(first, last)}
    workdays = {date.fromisoformat(d) for d in OFFICIAL[year]["workdays"]}
    assert all(d.weekday() >= 5 for d in workdays), "a make-up working day is always a weekend day"
    wrong = [
        d for d in _days(f"{year}-01-01", f"{year}-12-31")
        if is_working_day(d) != (d not in holidays and (d.weekday() < 5 or d in workdays))
    ]
    assert not wrong, f"differs from the official {year} schedule on {wrong}"
    assert is_covered(date(year, 6, 1))


def test_seven_working_days_from_29_september_2025_end_on_15_october():
    # 1–8 October 2025 are holidays; Saturday 11 October is a make-up working day.
    assert add_working_days(date(2025, 9, 29), 7).day == date(2025, 10, 15)


@pytest.mark.parametrize("day, working", [
    (date(2025, 10, 1), False),   # National Day
    (date(2025, 10, 8), False),   # Mid-Autumn joined to National Day
    (date(2025, 10, 11), True),   # Saturday make-up day
    (date(2025, 9, 28), True),    # Sunday make-up day
    (date(2026, 2, 14), True),    # Saturday make-up day before the Spring Festival
    (date(2026, 2, 17), False),   # Spring Festival
    (date(2025, 10, 12), False),  # an ordinary Sunday
    (date(2025, 10, 13), True),   # an ordinary Monday
])
def test_official_schedule(day, working):
    assert is_working_day(day) is working


def test_the_first_day_is_not_counted():
    # Monday 13 October 2025: one working day later is Tuesday, not Monday itself.
    assert add_working_days(date(2025, 10, 13), 1).day == date(2025, 10, 14)
    assert add_working_days(date(2025, 10, 13), 0).day == date(2025, 10, 13)


def test_a_year_without_official_data_counts_weekends_only_and_says_so():
    far = date(2031, 3, 3)  # a Monday
    assert not is_covered(far)
    deadline = add_working_days(far, 5)
    assert deadline.day == date(2031, 3, 10) and deadline.estimated
    assert not add_working_days(date(2025, 3, 3), 5).estimated


def test_a_deadline_that_crosses_into_an_unknown_year_is_marked_estimated():
    assert add_working_days(date(2026, 12, 28), 7).estimated


def test_thirty_calendar_days_move_off_a_rest_day():
    # 2025-09-06 + 30 days = Monday 6 October (a holiday): moves to Thursday 9 October.
    assert add_calendar_days(date(2025, 9, 6), 30).day == date(2025, 10, 9)


def test_no_date_makes_it_fail():
    for day in (date(1, 1, 1), date(1990, 1, 1), date(9999, 12, 1)):
        assert is_working_day(day) in (True, False)
    assert add_working_days(date(9999, 12, 1), 5).estimated


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2040, 12, 31)), st.integers(min_value=0, max_value=60))
def test_the_deadline_is_a_working_day_exactly_n_working_days_later(start, n):
    deadline = add_working_days(start, n).day
    assert working_days_between(start, deadline) == n
    if n:
        assert is_working_day(deadline)
        assert working_days_between(start, deadline - timedelta(days=1)) == n - 1


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2040, 12, 31)), st.integers(min_value=0, max_value=30))
def test_more_working_days_never_end_earlier(start, n):
    assert add_working_days(start, n + 1).day > add_working_days(start, n).day


@given(
    st.dates(min_value=date(2019, 1, 1), max_value=date(2032, 12, 31)),
    st.integers(min_value=0, max_value=40),
    st.dictionaries(st.dates(min_value=date(2019, 1, 1), max_value=date(2033, 12, 31)), st.booleans(), max_size=30),
    st.frozensets(st.integers(min_value=2027, max_value=2033), max_size=3),
)
def test_the_invariants_hold_with_any_administrator_corrections(start, n, overrides, loaded):
    from flask import g

    from consultation.working_days import Calendar

    g._working_day_calendar = Calendar(overrides, loaded)
    try:
        deadline = add_working_days(start, n)
        assert working_days_between(start, deadline.day) == n
        if n:
            assert is_working_day(deadline.day)
        for day, working in overrides.items():
            assert is_working_day(day) is working  # a correction always wins
        if deadline.estimated:
            assert any(not is_covered(start + timedelta(days=i)) for i in range((deadline.day - start).days + 1))
        calendar_deadline = add_calendar_days(start, n)
        assert is_working_day(calendar_deadline.day) and calendar_deadline.day >= start + timedelta(days=n)
    finally:
        g.pop("_working_day_calendar")


def test_no_date_at_the_end_of_the_calendar_makes_it_fail():
    assert add_working_days(date.max, 1) == add_working_days(date(9999, 12, 30), 5)
    assert add_working_days(date.max, 1).estimated
    assert add_calendar_days(date(9999, 12, 31), 1).day == date.max
    assert add_calendar_days(date(9999, 12, 25), 6).day == date.max  # a Saturday: no next working day
    assert add_calendar_days(date(1, 1, 2), -5).day == date.min
    assert working_days_between(date(9999, 12, 1), date.max) >= 0


def test_without_an_application_the_package_alone_answers():
    # Outside any app context (a script, an import-time default) nothing is read from a database.
    assert not is_working_day(date(2025, 10, 1))
    assert is_working_day(date(2025, 10, 11))
    assert add_working_days(date(2031, 3, 3), 5).estimated


def test_before_the_calendar_tables_exist_the_package_alone_answers(tmp_path):
    from consultation import create_app

    fresh = create_app({"TESTING": True, "SECRET_KEY": "x",
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
                        "EMBEDDED_REDIS_FILE": str(tmp_path / "r.rdb")})
    with fresh.app_context():  # no `flask db upgrade` yet
        assert add_working_days(date(2025, 9, 29), 7).day == date(2025, 10, 15)
        assert add_working_days(date(2031, 3, 3), 5).estimated


# --- the administrator's corrections ---------------------------------------------------------

def test_a_loaded_year_is_no_longer_estimated(city):
    from consultation import working_days
    from consultation.holiday_calendar import load_year

    assert add_working_days(date(2031, 9, 29), 5).estimated
    load_year("year 2031\n2031-10-01..2031-10-07 holiday 国庆节\n2031-09-28 workday 国庆节调休\n", city["admin"])
    working_days.forget()
    assert is_covered(date(2031, 6, 1))
    deadline = add_working_days(date(2031, 9, 26), 3)  # Friday: Sunday 28th (make-up), Mon 29th, Tue 30th
    assert deadline == working_days.Deadline(date(2031, 9, 30), estimated=False)
    assert add_working_days(date(2031, 9, 30), 1).day == date(2031, 10, 8)


def test_a_correction_wins_over_the_package(city):
    from consultation import working_days
    from consultation.holiday_calendar import set_day

    assert not is_working_day(date(2026, 10, 4))
    set_day(date(2026, 10, 4), "workday", "国庆节调休", city["admin"])  # a Sunday inside the holiday
    set_day(date(2026, 11, 30), "holiday", "台风停工", city["admin"])   # a Monday
    set_day(date(2026, 2, 28), "holiday", "取消调休", city["admin"])    # a make-up Saturday cancelled
    working_days.forget()
    assert is_working_day(date(2026, 10, 4))
    assert not is_working_day(date(2026, 11, 30))
    assert not is_working_day(date(2026, 2, 28))
    assert is_working_day(date(2026, 12, 1))  # the days around are untouched
    assert is_covered(date(2026, 11, 30))


def test_a_loaded_package_year_is_the_file_alone(city):
    """Correcting a year by editing its export: a line taken out is a day that is no longer special."""
    from consultation import working_days
    from consultation.holiday_calendar import export_year, load_year

    exported = export_year(2026)
    assert "2026-02-28 workday" in exported
    edited = "\n".join(line for line in exported.splitlines() if not line.startswith("2026-02-28"))
    load_year(edited, city["admin"], source="2026 corrected")
    working_days.forget()
    assert not is_working_day(date(2026, 2, 28))       # the Saturday is a plain weekend day again
    assert not is_working_day(date(2026, 2, 17))       # the rest of the schedule is as before
    assert is_working_day(date(2026, 2, 14))
    assert working_days.current().source(2026) == "loaded"


def test_a_bad_file_is_refused_naming_the_line_and_nothing_changes(city):
    from consultation import working_days
    from consultation.holiday_calendar import CalendarFileError, load_year
    from consultation.extensions import db
    from consultation.models import CalendarOverride, CalendarYear

    load_year("year 2031\n2031-01-01 holiday 元旦\n", city["admin"])
    with pytest.raises(CalendarFileError) as refused:
        load_year("# comment\nyear 2031\n2031-05-01..2031-05-05 holiday 劳动节\n2031-05-10 rest 劳动节\n",
                  city["admin"])
    assert refused.value.problems[0][0] == 4 and len(refused.value.problems) == 1
    assert "第4行" in refused.value.message
    working_days.forget()
    assert db.session.query(CalendarOverride).count() == 1 and db.session.query(CalendarYear).count() == 1
    assert is_working_day(date(2031, 5, 1)) and not is_working_day(date(2031, 1, 1))


@pytest.mark.parametrize("text, line", [
    ("2031-01-01 holiday 元旦\n", 1),                          # no year line
    ("year 2031\n2031-01-01 holliday 元旦\n", 2),              # unknown kind
    ("year 2031\n2031-02-29 holiday 无此日\n", 2),             # not a real date
    ("year 2031\n2032-01-01 holiday 元旦\n", 2),               # another year
    ("year 2031\n2031-01-07..2031-01-01 holiday 倒序\n", 2),   # a range backwards
    ("year 2031\n2031-01-01 holiday 元旦\n\n2031-01-01 holiday 重复\n", 4),  # a day twice
    ("year 2031\n2031-01-06 workday 周一\n", 2),               # a weekday cannot be a make-up day
    ("year 2031\n1 Jan holiday\n", 2),                        # not the format
])
def test_each_kind_of_bad_line_is_named(text, line):
    from consultation.holiday_calendar import CalendarFileError, parse

    with pytest.raises(CalendarFileError) as refused:
        parse(text)
    assert refused.value.problems[0][0] == line


def test_files_from_windows_notepad_are_read():
    from consultation.holiday_calendar import decode, parse

    text = "year 2031\r\n2031-01-01 holiday 元旦\r\n"
    for data in (text.encode("utf-8-sig"), text.encode("gb18030"), text.encode("utf-8")):
        year, [entry] = parse(decode(data))
        assert (year, entry.day, entry.name) == (2031, date(2031, 1, 1), "元旦")
