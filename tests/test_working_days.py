"""Working days on the Chinese calendar: holidays, make-up days (调休), the first day not counted."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consultation.working_days import (
    add_calendar_days, add_working_days, is_covered, is_working_day, working_days_between,
)


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
