"""The monthly ranking of the openness assessment (按负积分制考核，按月考核排名通报).

The rules are data (``workflows/assessment/scoring.toml``): which events cost points, how many, and whom they
are charged to. Every point lost is an :class:`Event` naming the document, the rule and the dates behind it,
so that a department can check each one. A month's events come from the documents whose time limit ran out
in that month (or that were published in it): a bounded set, each checked against the calendar once.
"""
from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, exists, func, select

from .. import working_days
from ..extensions import db
from ..models import (
    Assessment, AssessmentKind, AuditEvent, Consultation, Department, DepartmentKind, Document, ReviewOrgan,
    ReviewRound, RoundStatus, Signoff, utcnow,
)
from .statistics import EXPIRY_WINDOW, working_day_limit
from .status import SHANGHAI, LibraryStatus, status_expression

RULES = ("late_answer", "late_review", "late_publication", "skipped_predisclosure", "missing_prior_assessment")
CHARGES = ("drafting_department", *(k.value for k in DepartmentKind if k is not DepartmentKind.DRAFTING))
DEFAULT_CHARGE = {"late_review": DepartmentKind.JUSTICE.value}


class ScoringFileError(Exception):
    """The scoring file is broken; the message names the file, the entry and the fault."""

    def __init__(self, path: Path, entry: str, problem: str) -> None:
        super().__init__(f"{path.name}: {entry}: {problem}")


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    title_en: str
    points: int
    charged_to: str
    working_days: int | None = None
    only_market_entities: bool = False


@dataclass(frozen=True)
class Scoring:
    title: str
    title_en: str
    rules: dict[str, Rule]


def scoring_path() -> Path:
    return Path(current_app.config["WORKFLOWS_DIR"]) / "assessment" / "scoring.toml"


def load_scoring(path: Path) -> Scoring:
    """Read and check the scoring file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ScoringFileError(path, "file", str(error)) from error
    head = raw.get("scoring", {})
    rules: dict[str, Rule] = {}
    for name, entry in raw.get("rules", {}).items():
        where = f"[rules.{name}]"
        if name not in RULES:
            raise ScoringFileError(path, where, f"unknown rule; known: {', '.join(RULES)}")
        points, charged = entry.get("points"), entry.get("charged_to", DEFAULT_CHARGE.get(name, "drafting_department"))
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            raise ScoringFileError(path, where, "points must be a whole number, 0 or more")
        if charged not in CHARGES:
            raise ScoringFileError(path, where, f"charged_to must be one of: {', '.join(CHARGES)}")
        days = entry.get("working_days")
        if name == "late_answer" and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
            raise ScoringFileError(path, where, "working_days must be a whole number, 1 or more")
        if not isinstance(entry.get("title"), str) or not entry["title"].strip():
            raise ScoringFileError(path, where, "a title is needed")
        rules[name] = Rule(name, entry["title"], entry.get("title_en", entry["title"]), points, charged, days,
                           bool(entry.get("only_market_entities", False)))
    return Scoring(head.get("title", ""), head.get("title_en", head.get("title", "")), rules)


@dataclass(frozen=True)
class Event:
    """One point-losing event: the rule, the document, and the dates that make it one."""

    rule: Rule
    department_id: int
    document_id: int
    title: str
    number: str | None
    day: date           # the day it counts for: the limit's last day, or the publication day
    due: date | None    # the limit's last day, where there is one
    done: date | None   # when the work was done (None: still not done)

    @property
    def points(self) -> int:
        return self.rule.points


@dataclass(frozen=True)
class Standing:
    rank: int
    department: Department
    points: int
    by_rule: dict[str, int]  # events per rule


@dataclass(frozen=True)
class Ranking:
    year: int
    month: int
    scoring: Scoring
    standings: list[Standing]
    events: list[Event]  # by department, then day


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first day of the month and the first day of the next."""
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def _moment(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def _local(moment: datetime | None) -> date | None:
    return moment.astimezone(SHANGHAI).date() if moment else None


def _reach(days: int) -> timedelta:
    """How far before a month a limit of ``days`` working days may start and still end in it (long holidays)."""
    return timedelta(days=days * 2 + 14)


class _Collector:
    def __init__(self, scoring: Scoring, first: date, after: date, today: date) -> None:
        self.scoring, self.first, self.after, self.today = scoring, first, after, today
        self.events: list[Event] = []
        self._charged: dict[str, int | None] = {}

    def _department(self, rule: Rule, drafting_id: int) -> int | None:
        if rule.charged_to == "drafting_department":
            return drafting_id
        if rule.charged_to not in self._charged:
            self._charged[rule.charged_to] = db.session.scalar(
                select(Department.id).where(Department.kind == rule.charged_to).order_by(Department.id).limit(1))
        return self._charged[rule.charged_to]

    def limit(self, rule_name: str, row, start: date, days: int, done: date | None) -> None:
        """An event if the limit of ``days`` working days after ``start`` ends in the month and was missed."""
        rule = self.scoring.rules.get(rule_name)
        if rule is None:
            return
        due = working_days.add_working_days(start, days).day
        if not self.first <= due < self.after:
            return
        if (done is not None and done > due) or (done is None and due < self.today):
            self.add(rule, row, due, due, done)

    def add(self, rule: Rule, row, day: date, due: date | None, done: date | None) -> None:
        department = self._department(rule, row.department_id)
        if department is not None:
            number = f"{row.number_prefix}〔{row.number_year}〕{row.number_seq}号" if row.number_seq else None
            self.events.append(Event(rule, department, row.id, row.title, number, day, due, done))


_DOCUMENT = (Document.id, Document.title, Document.department_id, Document.number_prefix, Document.number_year,
             Document.number_seq)


def ranking(year: int, month: int, now: datetime | None = None) -> Ranking:
    """The month's events and the departments ranked by points lost (fewest first)."""
    scoring = load_scoring(scoring_path())
    first, after = month_bounds(year, month)
    today = (now or utcnow()).astimezone(SHANGHAI).date()
    found = _Collector(scoring, first, after, today)

    if (rule := scoring.rules.get("late_answer")) is not None:
        rows = db.session.execute(
            select(*_DOCUMENT, Consultation.closes_at).join(Consultation, Consultation.document_id == Document.id)
            .where(Consultation.closes_at >= _moment(first - _reach(rule.working_days)),
                   Consultation.closes_at < _moment(after))).all()
        sent: dict[int, list[datetime]] = defaultdict(list)
        for document_id, moment in db.session.execute(
                select(AuditEvent.document_id, AuditEvent.occurred_at).where(
                    AuditEvent.document_id.in_({r.id for r in rows}), AuditEvent.from_stage == "handling",
                    AuditEvent.to_stage == "head_submission")) if rows else ():
            sent[document_id].append(moment)
        for row in rows:
            done = min((m for m in sent[row.id] if m >= row.closes_at), default=None)
            found.limit("late_answer", row, _local(row.closes_at), rule.working_days, _local(done))

    limit = working_day_limit("legality_review")
    signed = (select(Signoff.signed_at).where(Signoff.round_id == ReviewRound.id,
                                              Signoff.organ == ReviewOrgan.JUSTICE.value)
              .limit(1).scalar_subquery())
    for row in db.session.execute(
            select(*_DOCUMENT, ReviewRound.submitted_at, ReviewRound.status, signed.label("signed_at"))
            .join(ReviewRound, ReviewRound.document_id == Document.id)
            .where(ReviewRound.submitted_at >= _moment(first - _reach(limit)),
                   ReviewRound.submitted_at < _moment(after))):
        if row.signed_at is not None or row.status == RoundStatus.PENDING.value:
            found.limit("late_review", row, _local(row.submitted_at), limit, _local(row.signed_at))

    limit = working_day_limit("publication")
    for row in db.session.execute(
            select(*_DOCUMENT, Document.decision_date, Document.published_at)
            .where(Document.decision_date >= first - _reach(limit), Document.decision_date < after,
                   Document.stage.in_(("publication", "published")))):
        found.limit("late_publication", row, row.decision_date, limit, _local(row.published_at))

    published = and_(Document.published_at >= _moment(first), Document.published_at < _moment(after),
                     Document.published_at <= (now or utcnow()))
    if (rule := scoring.rules.get("skipped_predisclosure")) is not None:
        for row in db.session.execute(
                select(*_DOCUMENT, Document.published_at).where(
                    published, ~exists().where(Consultation.document_id == Document.id),
                    func.coalesce(func.trim(Document.predisclosure_skip_reason), "") == "")):
            found.add(rule, row, _local(row.published_at), None, _local(row.published_at))
    if (rule := scoring.rules.get("missing_prior_assessment")) is not None:
        market = (Document.concerns_market_entities.is_(True),) if rule.only_market_entities else ()
        for row in db.session.execute(
                select(*_DOCUMENT, Document.published_at).where(
                    published, *market, ~exists().where(Assessment.document_id == Document.id,
                                                        Assessment.kind == AssessmentKind.PRIOR_ASSESSMENT.value))):
            found.add(rule, row, _local(row.published_at), None, None)

    events = [e for e in found.events if e.points > 0]
    return Ranking(year, month, scoring, _standings(events), sorted(
        events, key=lambda e: (e.department_id, e.day, e.document_id, e.rule.name)))


def _standings(events: list[Event]) -> list[Standing]:
    departments = list(db.session.scalars(select(Department).where(
        (Department.kind == DepartmentKind.DRAFTING.value) | Department.id.in_({e.department_id for e in events}))
        .order_by(Department.id)))
    points: Counter[int] = Counter()
    by_rule: dict[int, Counter[str]] = defaultdict(Counter)
    for event in events:
        points[event.department_id] += event.points
        by_rule[event.department_id][event.rule.name] += 1
    ordered = sorted(departments, key=lambda d: (points[d.id], d.id))
    standings, rank = [], 0
    for index, department in enumerate(ordered):
        if index == 0 or points[department.id] != points[ordered[index - 1].id]:
            rank = index + 1  # equal points, equal rank (1, 2, 2, 4)
        standings.append(Standing(rank, department, points[department.id], dict(by_rule[department.id])))
    return standings


def due_for_review(department_id: int | None, *, after: str = "", limit: int) -> tuple[list[Document], str | None]:
    """Documents in force whose validity ends within EXPIRY_WINDOW, soonest first, a keyset page at a time
    (``after``: "<valid until>.<id>"); ``department_id`` None: every department's."""
    now = utcnow()
    today = now.astimezone(SHANGHAI).date()
    query = select(Document).where(
        Document.published_at.is_not(None), Document.published_at <= now, Document.valid_until.is_not(None),
        Document.valid_until >= today, Document.valid_until <= today + EXPIRY_WINDOW,
        status_expression(today).in_([LibraryStatus.IN_FORCE.value, LibraryStatus.AMENDED.value]))
    if department_id is not None:
        query = query.where(Document.department_id == department_id)
    if match := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.(\d{1,10})", after):
        day, last = date.fromisoformat(match.group(1)), int(match.group(2))
        query = query.where((Document.valid_until > day) | ((Document.valid_until == day) & (Document.id > last)))
    documents = list(db.session.scalars(query.order_by(Document.valid_until, Document.id).limit(limit + 1)))
    more, documents = len(documents) > limit, documents[:limit]
    return documents, (f"{documents[-1].valid_until.isoformat()}.{documents[-1].id}" if more else None)
