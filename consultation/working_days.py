"""Working days on the Chinese calendar: statutory holidays and make-up working days (调休).

Known years come from the maintained ``chinesecalendar`` package; an administrator may correct single
days or load a whole year's official schedule (``consultation.holiday_calendar``), and those corrections
win. For a year that neither covers, weekends alone are counted and every result says so
(``estimated``), so that the page showing the date can warn. No date makes this module fail.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from flask import g, has_app_context
from sqlalchemy import select


@dataclass(frozen=True)
class Deadline:
    day: date
    estimated: bool  # True when a year without official data was counted by weekends only


def _coverage() -> tuple[int, int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return min(years), max(years)


PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR = _coverage()


@dataclass(frozen=True)
class Calendar:
    """The package's schedule with the administrator's corrections on top."""

    overrides: Mapping[date, bool] = field(default_factory=dict)  # day -> is a working day
    loaded_years: frozenset[int] = frozenset()

    def source(self, year: int) -> str:
        """Where a year's schedule comes from: 'loaded', 'package' or 'estimated'."""
        if year in self.loaded_years:
            return "loaded"
        if PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR:
            return "package"
        return "estimated"

    def is_covered(self, day: date) -> bool:
        return self.source(day.year) != "estimated"

    def is_working_day(self, day: date) -> bool:
        known = self.overrides.get(day)
        if known is not None:
            return known
        if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR:
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5


PACKAGE_ONLY = Calendar()


def current() -> Calendar:
    """The calendar in force: read once per application context (a request, a job, a command)."""
    if not has_app_context():
        return PACKAGE_ONLY
    calendar = g.get("_working_day_calendar")
    if calendar is None:
        from .extensions import db
        from .models import CalendarOverride, CalendarYear, DayKind

        overrides = {day: kind == DayKind.WORKDAY.value
                     for day, kind in db.session.execute(select(CalendarOverride.day, CalendarOverride.kind))}
        years = frozenset(db.session.scalars(select(CalendarYear.year)))
        calendar = g._working_day_calendar = Calendar(overrides, years)
    return calendar


def forget() -> None:
    """Drop the calendar read in this context, after the administrator changed it."""
    if has_app_context():
        g.pop("_working_day_calendar", None)


def is_covered(day: date) -> bool:
    """Tell whether the official schedule for the day's year is known."""
    return current().is_covered(day)


def is_working_day(day: date) -> bool:
    """Tell whether the day is a working day (调休 make-up days included)."""
    return current().is_working_day(day)


def add_working_days(start: date, count: int) -> Deadline:
    """Return the date ``count`` working days after ``start``; the start day is not counted."""
    if count < 0:
        raise ValueError("count must not be negative")
    calendar = current()
    day, left, estimated = start, count, not calendar.is_covered(start)
    while left:
        day += timedelta(days=1)
        estimated = estimated or not calendar.is_covered(day)
        if calendar.is_working_day(day):
            left -= 1
    return Deadline(day, estimated)


def add_calendar_days(start: date, count: int) -> Deadline:
    """Return ``start`` plus ``count`` days, moved to the next working day if it falls on a rest day."""
    calendar = current()
    day = start + timedelta(days=count)
    estimated = not calendar.is_covered(day)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
        estimated = estimated or not calendar.is_covered(day)
    return Deadline(day, estimated)


def working_days_between(start: date, end: date) -> int:
    """Count the working days after ``start`` up to and including ``end``."""
    calendar = current()
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            count += 1
    return count
