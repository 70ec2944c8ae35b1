"""Working days on the Chinese calendar: statutory holidays and make-up working days (调休).

Known years come from the maintained ``chinesecalendar`` package. For a year it does not
cover, weekends alone are counted and every result says so (``estimated``), so that the
page showing the date can warn; no date makes this module fail.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Deadline:
    day: date
    estimated: bool  # True when a year without official data was counted by weekends only


def _coverage() -> tuple[int, int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


_FIRST_YEAR, _LAST_YEAR = _coverage()


def is_covered(day: date) -> bool:
    """Tell whether the official schedule for the day's year is known."""
    return _FIRST_YEAR <= day.year <= _LAST_YEAR


def is_working_day(day: date) -> bool:
    """Tell whether the day is a working day (调休 make-up days included)."""
    if is_covered(day):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_working_days(start: date, count: int) -> Deadline:
    """Return the date ``count`` working days after ``start``; the start day is not counted."""
    if count < 0:
        raise ValueError("count must not be negative")
    day, left, estimated = start, count, not is_covered(start)
    while left:
        day += timedelta(days=1)
        estimated = estimated or not is_covered(day)
        if is_working_day(day):
            left -= 1
    return Deadline(day, estimated)


def add_calendar_days(start: date, count: int) -> Deadline:
    """Return ``start`` plus ``count`` days, moved to the next working day if it falls on a rest day."""
    day = start + timedelta(days=count)
    estimated = not is_covered(day)
    while not is_working_day(day):
        day += timedelta(days=1)
        estimated = estimated or not is_covered(day)
    return Deadline(day, estimated)


def working_days_between(start: date, end: date) -> int:
    """Count the working days after ``start`` up to and including ``end``."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
