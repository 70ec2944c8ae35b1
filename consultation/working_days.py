"""Working days on the Chinese calendar: statutory holidays and make-up working days (调休).

Known years come from the maintained ``chinesecalendar`` package; an administrator may correct single
days or load a whole year's official schedule (``consultation.holiday_calendar``), and those corrections
win. A loaded year is the administrator's file alone: a day it does not list follows the plain week, so
that deleting a line from an export and loading it again really removes that day. For a year that no data
covers, weekends alone are counted and every result says so (``estimated``), so that the page showing the
date can warn. No date makes this module fail.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from flask import current_app, g, has_app_context
from sqlalchemy import inspect, select


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
        if PACKAGE_FIRST_YEAR <= day.year <= PACKAGE_LAST_YEAR and day.year not in self.loaded_years:
            # The package's own is_workday() recomputes its date range on every call: 20 times slower.
            if day in chinese_calendar.workdays:
                return True
            if day in chinese_calendar.holidays:
                return False
        return day.weekday() < 5


PACKAGE_ONLY = Calendar()


def current() -> Calendar:
    """The calendar in force: read once per application context (a request, a job, a command)."""
    if not has_app_context():
        return PACKAGE_ONLY
    calendar = g.get("_working_day_calendar")
    if calendar is None:
        calendar = g._working_day_calendar = _read_corrections()
    return calendar


def _read_corrections() -> Calendar:
    from .extensions import db
    from .models import CalendarOverride, CalendarYear, DayKind

    # Before `flask db upgrade` has created the tables, count from the package alone. Once seen, the
    # tables are taken to exist for the life of the process, so the check costs nothing per request.
    state = current_app.extensions.setdefault("working_days", {})
    if not state.get("tables"):
        if not inspect(db.session.connection()).has_table(CalendarYear.__tablename__):
            return PACKAGE_ONLY
        state["tables"] = True
    overrides = {day: kind == DayKind.WORKDAY.value
                 for day, kind in db.session.execute(select(CalendarOverride.day, CalendarOverride.kind))}
    return Calendar(overrides, frozenset(db.session.scalars(select(CalendarYear.year))))


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
        if day == date.max:
            return Deadline(day, True)
        day += timedelta(days=1)
        estimated = estimated or not calendar.is_covered(day)
        if calendar.is_working_day(day):
            left -= 1
    return Deadline(day, estimated)


def add_calendar_days(start: date, count: int) -> Deadline:
    """Return ``start`` plus ``count`` days, moved to the next working day if it falls on a rest day."""
    calendar = current()
    try:
        day = start + timedelta(days=count)
    except OverflowError:
        return Deadline(date.max if count > 0 else date.min, True)
    estimated = not calendar.is_covered(day)
    while not calendar.is_working_day(day):
        if day == date.max:
            return Deadline(day, True)
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
