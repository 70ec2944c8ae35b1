"""The administrator's holiday calendar: load a year's official schedule, correct a day, export a year.

A year file is plain text an administrator can write from the State Council's notice
(国务院办公厅关于XXXX年部分节假日安排的通知)::

    # comments start with #
    year 2027
    2027-01-01 holiday 元旦
    2027-02-06..2027-02-12 holiday 春节
    2027-02-14 workday 春节调休

``holiday`` marks rest days (a range may include the weekend days of the holiday), ``workday`` a weekend
day that is worked (调休). Loading a file replaces every correction of that year and marks the year as
officially known; a file with any bad line is refused whole, naming each line and its fault.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from flask_babel import gettext as _
from sqlalchemy import delete, extract, select

from . import audit, working_days
from .errors import InvalidInput
from .extensions import db
from .models import CalendarOverride, CalendarYear, DayKind, User

_LINE = re.compile(
    r"^(?P<start>\d{4}-\d{2}-\d{2})(?:\s*\.\.\s*(?P<end>\d{4}-\d{2}-\d{2}))?\s+(?P<kind>\S+)(?:\s+(?P<name>.+))?$"
)
_YEAR = re.compile(r"^year\s+(?P<year>\d{4})$")
MAX_RANGE_DAYS = 31


@dataclass(frozen=True)
class DayEntry:
    day: date
    kind: DayKind
    name: str


class CalendarFileError(InvalidInput):
    """A year file with faults; ``problems`` lists (line number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = "; ".join(_("line %(n)d: %(problem)s", n=n, problem=p) for n, p in problems[:20])
        super().__init__(_("The calendar file was not loaded: %(lines)s", lines=lines))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def decode(data: bytes) -> str:
    """The text of an uploaded year file: UTF-8 (with or without the BOM Windows Notepad writes) or GB18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def parse(text: str) -> tuple[int, list[DayEntry]]:
    """Read a year file; raise CalendarFileError naming every bad line."""
    problems: list[tuple[int, str]] = []
    year: int | None = None
    entries: dict[date, DayEntry] = {}
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if year is None:
            match = _YEAR.match(line)
            if not match:
                problems.append((number, _("the file must start with a line such as “year 2027”")))
                break
            year = int(match["year"])
            continue
        match = _LINE.match(line)
        if not match:
            problems.append((number, _("expected “YYYY-MM-DD holiday|workday name” or a range “YYYY-MM-DD..YYYY-MM-DD”")))
            continue
        start, end = _date(match["start"]), _date(match["end"] or match["start"])
        if start is None or end is None:
            problems.append((number, _("not a real date")))
            continue
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            problems.append((number, _("the range must run forwards and span at most %(n)d days", n=MAX_RANGE_DAYS)))
            continue
        if start.year != year or end.year != year:
            problems.append((number, _("the date is not in %(year)d", year=year)))
            continue
        try:
            kind = DayKind(match["kind"])
        except ValueError:
            problems.append((number, _("the kind must be “holiday” or “workday”")))
            continue
        name = (match["name"] or "").strip()[:60]
        day = start
        while day <= end:
            if day in entries:
                problems.append((number, _("%(day)s is listed twice", day=day.isoformat())))
            elif kind is DayKind.WORKDAY and day.weekday() < 5:
                problems.append((number, _("%(day)s is a weekday: only a weekend day can be a make-up working day",
                                           day=day.isoformat())))
            else:
                entries[day] = DayEntry(day, kind, name)
            day += timedelta(days=1)
    if year is None and not problems:
        problems.append((1, _("the file is empty")))
    if problems:
        raise CalendarFileError(problems)
    return year, sorted(entries.values(), key=lambda e: e.day)


def load_year(text: str, user: User | None, *, source: str = "") -> tuple[int, int]:
    """Replace the corrections of the file's year with its days; return (year, number of days)."""
    year, entries = parse(text)
    db.session.execute(delete(CalendarOverride).where(extract("year", CalendarOverride.day) == year))
    db.session.add_all(CalendarOverride(day=e.day, kind=e.kind.value, name=e.name,
                                        created_by_id=user.id if user else None) for e in entries)
    marker = db.session.scalars(select(CalendarYear).where(CalendarYear.year == year)).first()
    if marker is None:
        marker = CalendarYear(year=year)
        db.session.add(marker)
    marker.source, marker.loaded_by_id = source[:500], user.id if user else None
    db.session.flush()
    working_days.forget()
    audit.record("calendar_loaded", actor=user, payload={
        "year": year, "days": len(entries), "source": source,
        "holidays": sum(e.kind is DayKind.HOLIDAY for e in entries),
        "workdays": sum(e.kind is DayKind.WORKDAY for e in entries),
    })
    return year, len(entries)


def set_day(day: date, kind: str, name: str, user: User | None) -> None:
    """Correct one day: 'holiday', 'workday', or 'normal' to remove the correction."""
    if kind not in ("holiday", "workday", "normal"):
        raise InvalidInput(_("Choose holiday, make-up working day or no correction."))
    existing = db.session.scalars(select(CalendarOverride).where(CalendarOverride.day == day)).first()
    before = existing.kind if existing else None
    if kind == "normal":
        if existing is not None:
            db.session.delete(existing)
    else:
        if kind == DayKind.WORKDAY.value and day.weekday() < 5:
            raise InvalidInput(_("%(day)s is a weekday: only a weekend day can be a make-up working day.",
                                 day=day.isoformat()))
        existing = existing or CalendarOverride(day=day)
        existing.kind, existing.name = kind, name.strip()[:60]
        existing.created_by_id = user.id if user else None
        db.session.add(existing)
    db.session.flush()
    working_days.forget()
    audit.record("calendar_day_changed", actor=user,
                 payload={"day": day.isoformat(), "from": before, "to": None if kind == "normal" else kind,
                          "name": name.strip()})


@dataclass(frozen=True)
class SpecialDay:
    """A day that differs from the plain Monday-to-Friday week, for the calendar page and the export."""

    day: date
    working: bool
    name: str
    corrected: bool  # set by the administrator


def _package_name(day: date) -> str:
    _is_holiday, name = chinese_calendar.get_holiday_detail(day)
    holiday = next((h for h in chinese_calendar.Holiday if h.value == name), None)
    return holiday.chinese if holiday else ""


def special_days(year: int) -> list[SpecialDay]:
    """The holidays (with their weekends) and make-up working days of a year, as the system counts them."""
    calendar = working_days.current()
    from_package = calendar.source(year) == "package"
    names = {o.day: o.name for o in db.session.scalars(
        select(CalendarOverride).where(extract("year", CalendarOverride.day) == year))}
    found = []
    for ordinal in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
        day = date.fromordinal(ordinal)
        working, weekend = calendar.is_working_day(day), day.weekday() >= 5
        name = names.get(day) or (_package_name(day) if from_package else "")
        if working == weekend or (not working and name):
            found.append(SpecialDay(day, working, name, day in calendar.overrides))
    return found


def export_year(year: int) -> str:
    """Write the year in the file format, as the system counts it now (package and corrections)."""
    lines = [f"# {year}: {working_days.current().source(year)}", f"year {year}"]
    days = special_days(year)
    i = 0
    while i < len(days):
        first = days[i]
        j = i
        while (j + 1 < len(days) and days[j + 1].day == days[j].day + timedelta(days=1)
               and days[j + 1].working == first.working and days[j + 1].name == first.name):
            j += 1
        span = first.day.isoformat() if i == j else f"{first.day.isoformat()}..{days[j].day.isoformat()}"
        lines.append(f"{span} {'workday' if first.working else 'holiday'} {first.name}".rstrip())
        i = j + 1
    return "\n".join(lines) + "\n"
