"""The figures of the openness assessment (政务公开考核), per drafting department and month, quarter or year.

Every figure is a SQL aggregate grouped by department and month (at most departments × 12 rows), folded into
quarters and the year in Python. Where a figure needs working days (a consultation's length, a review's or a
publication's time), the query groups by the pair of days, so that the calendar is consulted once per distinct
pair, never once per row. Comments are counted from the counters: ``comment_tally`` (answers, decisions) and
``channel_tally`` (channels, folded in by the worker's clock with :func:`fold_channels`).

A document counts in its drafting department; a month is a Beijing-time month. Cohorts:
drafted, pre-disclosed, skipped — the month the document was created; consultations and their comments —
the month the consultation opened; legality reviews — the month the justice bureau signed; publications and
feedback — the month of publication; late items still open — counted today against their time limit.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from sqlalchemy import Date, Integer, and_, cast, exists, func, literal_column, select

from .. import working_days
from ..extensions import db
from ..models import (
    AnswerDecision, ChannelTally, ChannelTallyCursor, Comment, CommentChannel, CommentTally, Consultation, Department,
    DepartmentKind, Document, LibraryChange, LibraryEvent, ReviewOrgan, ReviewRound, RoundStatus, Signoff, utcnow,
)
from ..workflow import engine
from .status import SHANGHAI, LibraryStatus, status_expression

GRAINS = ("month", "quarter", "year")
CHANNELS = tuple(c.value for c in CommentChannel)
EXPIRY_WINDOW = timedelta(days=90)
# The stages before the pre-disclosure is decided: a request to skip it is still waiting (or was refused).
NOT_YET_DISCLOSED = ("drafting", "head_review", "confidentiality_review", "skip_review")
# A comment is folded by the clock once it is this old: a transaction that took an id earlier and commits later
# (ids are not handed out in commit order) is then visible, and no comment is skipped.
FOLD_DELAY = timedelta(minutes=5)
FOLD_BATCH = 200_000  # comments per fold at most: the first fold after the migration spreads over a few sweeps

# The fields of one department in one period; every one is a count.
FIELDS = (
    "drafted", "predisclosed", "skipped",
    "consultations", "consultations_minimum_met", "consultations_short_justified", "consultations_short_unjustified",
    "consultation_working_days",
    "comments", "answered", "adopted", "partly_adopted",
    *(f"channel_{c}" for c in CHANNELS),
    "feedback_published", "feedback_on_time",
    "reviews", "reviews_on_time", "reviews_late_open",
    "publications", "publications_on_time", "publications_late_open",
)


@dataclass
class Figures:
    """The counts of one department (None: all of them) in one period ("2026-03", "2026-Q1" or "2026")."""

    department_id: int | None
    period: str
    counts: Counter = field(default_factory=Counter)

    def __getattr__(self, name: str) -> int:
        if name in FIELDS:
            return self.counts.get(name, 0)
        raise AttributeError(name)

    @staticmethod
    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    @property
    def answered_share(self) -> float | None:
        return self.rate(self.answered, self.comments)

    @property
    def adoption_rate(self) -> float | None:
        """采纳 and 部分采纳 over every answered comment."""
        return self.rate(self.adopted + self.partly_adopted, self.answered)

    @property
    def feedback_on_time_rate(self) -> float | None:
        return self.rate(self.feedback_on_time, self.feedback_published)

    @property
    def reviews_on_time_rate(self) -> float | None:
        return self.rate(self.reviews_on_time, self.reviews)

    @property
    def publications_on_time_rate(self) -> float | None:
        return self.rate(self.publications_on_time, self.publications)

    @property
    def average_consultation_days(self) -> float | None:
        """Average consultation length in working days."""
        return round(self.consultation_working_days / self.consultations, 1) if self.consultations else None

    @property
    def late(self) -> int:
        """Late items: reviews and publications past their limit, done late or still open."""
        return ((self.reviews - self.reviews_on_time) + self.reviews_late_open
                + (self.publications - self.publications_on_time) + self.publications_late_open)

    def as_dict(self) -> dict:
        return {"department_id": self.department_id, "period": self.period,
                **{name: self.counts.get(name, 0) for name in FIELDS},
                "answered_share": self.answered_share, "adoption_rate": self.adoption_rate,
                "feedback_on_time_rate": self.feedback_on_time_rate, "reviews_on_time_rate": self.reviews_on_time_rate,
                "publications_on_time_rate": self.publications_on_time_rate,
                "average_consultation_days": self.average_consultation_days, "late": self.late}


@dataclass(frozen=True)
class Report:
    """The figures of one year: one row per department and period, and the all-departments rows."""

    year: int
    grain: str
    departments: list[Department]
    rows: list[Figures]  # by department (in ``departments`` order), then period
    totals: list[Figures]  # all departments, by period
    skip_reasons: list[tuple[str, int]]  # the reasons given for skipping pre-disclosure, most frequent first


# --- SQL pieces -----------------------------------------------------------------------------------------------

# Literals, not bound parameters: PostgreSQL matches a GROUP BY expression to the SELECT list's only when both
# are written the same, and two parameters are two different expressions to it.
_ZONE, _MONTH, _SHIFT = literal_column("'Asia/Shanghai'"), literal_column("'%m'"), literal_column("'+8 hours'")


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _month(column, moment: bool = True):
    """The Beijing-time month (1-12) of a stored UTC moment, or of a date column."""
    if _postgres():
        return cast(func.extract("month", func.timezone(_ZONE, column) if moment else column), Integer)
    return cast(func.strftime(_MONTH, column, _SHIFT) if moment else func.strftime(_MONTH, column), Integer)


def _local_day(column):
    """The Beijing-time day of a stored UTC moment."""
    if _postgres():
        return cast(func.timezone(_ZONE, column), Date)
    return func.date(column, _SHIFT)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """The UTC moments where the Beijing-time year begins and ends."""
    return (datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(timezone.utc),
            datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(timezone.utc))


def _in_year(column, year: int):
    start, end = year_bounds(year)
    return and_(column >= start, column < end)


def _department_filter(department_id: int | None):
    return (Document.department_id == department_id,) if department_id else ()


# --- working-day checks, once per distinct pair of days ------------------------------------------------------

@lru_cache(maxsize=4096)
def _working_days(start: date, end: date) -> int:
    return working_days.working_days_between(start, end) if end > start else 0


def working_day_limit(deadline: str) -> int:
    """The working-day limit of a deadline in the normative-document procedure file."""
    return engine.procedures()["normative_document"].deadlines[deadline].working_days


def _earliest_close(procedure: str, market: bool, opened: date) -> date:
    """The procedure file's minimum consultation period, as ``services.consultations.minimum_window`` has it."""
    periods = engine.procedures()[procedure].periods
    period = periods.get("consultation_min_market" if market else "consultation_min") or periods["consultation_min"]
    if period.working_days:
        return working_days.add_working_days(opened, period.working_days).day
    return working_days.add_calendar_days(opened, period.calendar_days).day


# --- the figures ---------------------------------------------------------------------------------------------

Key = tuple[int, int]  # department, month


def _monthly(year: int, department_id: int | None, today: date) -> tuple[dict[Key, Counter], list[tuple[str, int]]]:
    cells: dict[Key, Counter] = defaultdict(Counter)
    only = _department_filter(department_id)
    _working_days.cache_clear()  # the administrator may have corrected the calendar since

    # Drafted, pre-disclosed, skipped: the month the document was created.
    month = _month(Document.created_at)
    consulted = exists().where(Consultation.document_id == Document.id)
    # Skipped: the openness office approved the request (the document moved on without a consultation).
    skipped = and_(~consulted, Document.predisclosure_skip_reason.is_not(None), Document.stage.not_in(NOT_YET_DISCLOSED))
    for dept, m, n, pre, skip in db.session.execute(
            select(Document.department_id, month, func.count(),
                   func.sum(cast(consulted, Integer)), func.sum(cast(skipped, Integer)))
            .where(_in_year(Document.created_at, year), *only).group_by(Document.department_id, month)):
        cells[dept, m].update(drafted=n, predisclosed=int(pre or 0), skipped=int(skip or 0))
    reasons = db.session.execute(
        select(Document.predisclosure_skip_reason, func.count()).where(
            _in_year(Document.created_at, year), skipped, *only)
        .group_by(Document.predisclosure_skip_reason).order_by(func.count().desc()).limit(20)).all()

    # Consultations: the month they opened; their length against the procedure's minimum.
    month = _month(Consultation.opens_at)
    opened, closed = _local_day(Consultation.opens_at), _local_day(Consultation.closes_at)
    justified = Consultation.short_period_reason.is_not(None)
    for dept, m, procedure, market, has_reason, first, last, n in db.session.execute(
            select(Document.department_id, month, Document.procedure, Document.concerns_market_entities, justified,
                   opened, closed, func.count())
            .join(Document, Document.id == Consultation.document_id)
            .where(_in_year(Consultation.opens_at, year), *only)
            .group_by(Document.department_id, month, Document.procedure, Document.concerns_market_entities,
                      justified, opened, closed)):
        first, last = _as_date(first), _as_date(last)
        cell = cells[dept, m]
        cell["consultations"] += n
        cell["consultation_working_days"] += n * _working_days(first, last)
        if last >= _earliest_close(procedure, bool(market), first):
            cell["consultations_minimum_met"] += n
        elif has_reason:
            cell["consultations_short_justified"] += n
        else:
            cell["consultations_short_unjustified"] += n

    # Comments, answers and decisions from comment_tally; channels from channel_tally.
    for dept, m, decision, n in db.session.execute(
            select(Document.department_id, month, CommentTally.decision, func.sum(CommentTally.n))
            .join(Consultation, Consultation.id == CommentTally.consultation_id)
            .join(Document, Document.id == Consultation.document_id)
            .where(_in_year(Consultation.opens_at, year), *only)
            .group_by(Document.department_id, month, CommentTally.decision)):
        n, cell = int(n or 0), cells[dept, m]
        cell["comments"] += n
        if decision:
            cell["answered"] += n
        if decision == AnswerDecision.ADOPTED.value:
            cell["adopted"] += n
        elif decision == AnswerDecision.PARTLY_ADOPTED.value:
            cell["partly_adopted"] += n
    for dept, m, channel, n in db.session.execute(
            select(Document.department_id, month, ChannelTally.channel, func.sum(ChannelTally.n))
            .join(Consultation, Consultation.id == ChannelTally.consultation_id)
            .join(Document, Document.id == Consultation.document_id)
            .where(_in_year(Consultation.opens_at, year), *only)
            .group_by(Document.department_id, month, ChannelTally.channel)):
        cells[dept, m][f"channel_{channel}"] += int(n or 0)

    # Legality reviews: the month the justice bureau signed; on time within the procedure file's limit.
    review_limit = working_day_limit("legality_review")
    month = _month(Signoff.signed_at)
    for dept, m, first, last, n in db.session.execute(
            select(Document.department_id, month, _local_day(ReviewRound.submitted_at), _local_day(Signoff.signed_at),
                   func.count())
            .join(ReviewRound, ReviewRound.id == Signoff.round_id).join(Document, Document.id == ReviewRound.document_id)
            .where(Signoff.organ == ReviewOrgan.JUSTICE.value, _in_year(Signoff.signed_at, year), *only)
            .group_by(Document.department_id, month, _local_day(ReviewRound.submitted_at),
                      _local_day(Signoff.signed_at))):
        cell = cells[dept, m]
        cell["reviews"] += n
        if _working_days(_as_date(first), _as_date(last)) <= review_limit:
            cell["reviews_on_time"] += n
    # Still waiting for the justice bureau and past the limit today: the month the round was submitted.
    month = _month(ReviewRound.submitted_at)
    signed = exists().where(Signoff.round_id == ReviewRound.id, Signoff.organ == ReviewOrgan.JUSTICE.value)
    for dept, m, first, n in db.session.execute(
            select(Document.department_id, month, _local_day(ReviewRound.submitted_at), func.count())
            .join(Document, Document.id == ReviewRound.document_id)
            .where(ReviewRound.status == RoundStatus.PENDING.value, ~signed,
                   _in_year(ReviewRound.submitted_at, year), *only)
            .group_by(Document.department_id, month, _local_day(ReviewRound.submitted_at))):
        if working_days.add_working_days(_as_date(first), review_limit).day < today:
            cells[dept, m]["reviews_late_open"] += n

    # Publications (and the adoption feedback published with them): the month of publication.
    publication_limit = working_day_limit("publication")
    month = _month(Document.published_at)
    for dept, m, decided, published, n, with_feedback in db.session.execute(
            select(Document.department_id, month, Document.decision_date, _local_day(Document.published_at),
                   func.count(), func.sum(cast(consulted, Integer)))
            .where(_in_year(Document.published_at, year), Document.decision_date.is_not(None), *only)
            .group_by(Document.department_id, month, Document.decision_date, _local_day(Document.published_at))):
        on_time = _working_days(_as_date(decided), _as_date(published)) <= publication_limit
        with_feedback, cell = int(with_feedback or 0), cells[dept, m]
        cell["publications"] += n
        cell["publications_on_time"] += n if on_time else 0
        cell["feedback_published"] += with_feedback
        cell["feedback_on_time"] += with_feedback if on_time else 0
    # Adopted, not yet published, past the limit today: the month of the decision.
    month = _month(Document.decision_date, moment=False)
    for dept, m, decided, n in db.session.execute(
            select(Document.department_id, month, Document.decision_date, func.count())
            .where(Document.stage == "publication", Document.published_at.is_(None),
                   Document.decision_date >= date(year, 1, 1), Document.decision_date <= date(year, 12, 31), *only)
            .group_by(Document.department_id, month, Document.decision_date)):
        if working_days.add_working_days(decided, publication_limit).day < today:
            cells[dept, m]["publications_late_open"] += n
    return cells, [(reason, n) for reason, n in reasons]


def period_of(year: int, month: int, grain: str) -> str:
    if grain == "month":
        return f"{year}-{month:02d}"
    if grain == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return str(year)


def periods(year: int, grain: str) -> list[str]:
    return list(dict.fromkeys(period_of(year, m, grain) for m in range(1, 13)))


def drafting_departments() -> list[Department]:
    return list(db.session.scalars(
        select(Department).where(Department.kind == DepartmentKind.DRAFTING.value).order_by(Department.id)))


def reports(year: int, grains: tuple[str, ...] = ("month",), department_id: int | None = None,
            now: datetime | None = None) -> dict[str, Report]:
    """The figures of ``year`` by department and period, for each grain (month, quarter, year), from one set
    of queries."""
    if not set(grains) <= set(GRAINS):
        raise ValueError(grains)
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    cells, reasons = _monthly(year, department_id, today)
    departments = [d for d in drafting_departments() if department_id in (None, d.id)]
    return {grain: _fold(year, grain, departments, cells, reasons) for grain in grains}


def report(year: int, grain: str = "month", department_id: int | None = None, now: datetime | None = None) -> Report:
    return reports(year, (grain,), department_id, now)[grain]


def _fold(year: int, grain: str, departments: list[Department], cells: dict[Key, Counter],
          reasons: list[tuple[str, int]]) -> Report:
    names = periods(year, grain)
    by_key: dict[tuple[int | None, str], Figures] = {}
    for dept in [*(d.id for d in departments), None]:
        for period in names:
            by_key[dept, period] = Figures(dept, period)
    known = {d.id for d in departments}
    for (dept, month), counts in cells.items():
        period = period_of(year, month, grain)
        if dept in known:
            by_key[dept, period].counts.update(counts)
        by_key[None, period].counts.update(counts)
    rows = [by_key[d.id, p] for d in departments for p in names]
    return Report(year, grain, departments, rows, [by_key[None, p] for p in names], reasons)


def years(now: datetime | None = None) -> list[int]:
    """The years with documents, newest first (the current year always)."""
    first = db.session.scalar(select(func.min(Document.created_at)))
    current = (now or utcnow()).astimezone(SHANGHAI).year
    start = min(first.astimezone(SHANGHAI).year, current) if first else current
    return list(range(current, start - 1, -1))


# --- the library ---------------------------------------------------------------------------------------------

LIBRARY_FIELDS = ("in_force", "amended", "repealed", "expired", "not_yet_in_force", "expiring")


def library_figures(department_id: int | None = None, now: datetime | None = None) -> dict[int, Counter]:
    """The library today per department: counts by status, and those in force that expire within 90 days."""
    now = now or utcnow()
    today = now.astimezone(SHANGHAI).date()
    status = status_expression(today)
    expiring = and_(status.in_([LibraryStatus.IN_FORCE.value, LibraryStatus.AMENDED.value]),
                    Document.valid_until.is_not(None), Document.valid_until <= today + EXPIRY_WINDOW)
    result: dict[int, Counter] = defaultdict(Counter)
    for dept, state, soon, n in db.session.execute(
            select(Document.department_id, status, expiring, func.count())
            .where(Document.published_at.is_not(None), Document.published_at <= now,
                   Document.effective_date.is_not(None), *_department_filter(department_id))
            .group_by(Document.department_id, status, expiring)):
        result[dept][state] += n
        if soon:
            result[dept]["expiring"] += n
    return result


# --- the annual report (政府信息公开工作年度报告, 第二项 主动公开: 行政规范性文件) ----------------------------------

@dataclass(frozen=True)
class AnnualRow:
    department: Department | None  # None: the total
    made: int       # 本年制发件数
    repealed: int   # 本年废止件数
    in_force: int   # 现行有效件数 (at the end of the year, or today for the current year)


def annual_table(year: int, now: datetime | None = None) -> list[AnnualRow]:
    """The normative-document row of the yearly report's table, per drafting department and in total."""
    now = now or utcnow()
    _, end = year_bounds(year)
    as_of = min(end, now)
    last_day = as_of.astimezone(SHANGHAI).date() - (timedelta(days=1) if as_of == end else timedelta(0))
    made = dict(db.session.execute(
        select(Document.department_id, func.count()).where(_in_year(Document.published_at, year),
                                                           Document.published_at <= now)
        .group_by(Document.department_id)).all())
    repealed = dict(db.session.execute(
        select(Document.department_id, func.count(func.distinct(Document.id)))
        .join(LibraryEvent, LibraryEvent.document_id == Document.id)
        .where(LibraryEvent.change == LibraryChange.REPEALED.value,
               LibraryEvent.effective_on >= date(year, 1, 1), LibraryEvent.effective_on <= last_day)
        .group_by(Document.department_id)).all())
    status = status_expression(last_day)
    in_force = dict(db.session.execute(
        select(Document.department_id, func.count())
        .where(Document.published_at.is_not(None), Document.published_at < as_of, Document.effective_date.is_not(None),
               status.in_([LibraryStatus.IN_FORCE.value, LibraryStatus.AMENDED.value]))
        .group_by(Document.department_id)).all())
    rows = [AnnualRow(d, made.get(d.id, 0), repealed.get(d.id, 0), in_force.get(d.id, 0))
            for d in drafting_departments()]
    rows.append(AnnualRow(None, sum(r.made for r in rows), sum(r.repealed for r in rows),
                          sum(r.in_force for r in rows)))
    return rows


# --- comments by channel, folded in by the clock -------------------------------------------------------------

def fold_channels(now: datetime | None = None) -> int:
    """Add the comments received since the last fold to ``channel_tally``; return how many were added.

    One grouped query over an id range of the primary key (at most ``FOLD_BATCH`` comments), whatever the number
    of comments already folded.
    """
    from .tallies import _upsert

    now = now or utcnow()
    cursor = db.session.get(ChannelTallyCursor, 1, with_for_update=True)
    if cursor is None:
        cursor = ChannelTallyCursor(id=1, after_id=0)
        db.session.add(cursor)
        db.session.flush()
    settled = (Comment.id > cursor.after_id, Comment.created_at < now - FOLD_DELAY)
    upto = db.session.scalar(select(Comment.id).where(*settled).order_by(Comment.id)
                             .offset(FOLD_BATCH - 1).limit(1)) or db.session.scalar(
        select(func.max(Comment.id)).where(*settled))
    if upto is None:
        return 0
    rows = [{"consultation_id": cid, "channel": channel, "n": n} for cid, channel, n in db.session.execute(
        select(Comment.consultation_id, Comment.channel, func.count())
        .where(Comment.id > cursor.after_id, Comment.id <= upto)
        .group_by(Comment.consultation_id, Comment.channel).order_by(Comment.consultation_id, Comment.channel))]
    if rows:
        statement = _upsert()(ChannelTally).values(rows)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["consultation_id", "channel"], set_={"n": ChannelTally.n + statement.excluded.n}))
    cursor.after_id = upto
    db.session.commit()
    return sum(r["n"] for r in rows)
