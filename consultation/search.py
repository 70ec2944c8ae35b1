"""Search over consultations and the library: an n-gram index in plain SQL, the same on SQLite and PostgreSQL.

Chinese has no spaces between words, so a run of Chinese characters is indexed as its overlapping
character pairs (停车管理 → 停车, 车管, 管理) and a query matches an entry that holds every pair of the
query. Latin words and numbers are indexed whole, so 华政办发〔2026〕7号 is found by "2026".
"""
from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import and_, case, delete, distinct, func, insert, not_, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.routing import BuildError

from .errors import InvalidInput
from .extensions import db
from .models import Consultation, Department, Document, DocumentVersion, SearchEntry, SearchTerm, utcnow
from .services.status import LibraryStatus, feedback_public, final_version, library_status, status_expression

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_TERM_LENGTH = 40  # SearchTerm.term is String(40)
MAX_QUERY_TERMS = 16
# A title match always outranks a match in the text alone: 5 against at most 4 for any number of repeats.
TITLE_WEIGHT = 5
TEXT_WEIGHT_CAP = 4
SNIPPET_BEFORE, SNIPPET_LENGTH = 30, 120

# Han ideographs (with 〇 and the extensions) and kana: scripts written without spaces.
_CJK = "\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_IS_CJK = re.compile(rf"[{_CJK}]")
_IS_WORD = re.compile(rf"[^\W_{_CJK}]")


class Kind(str, enum.Enum):
    CONSULTATION = "consultation"
    LIBRARY = "library"


class ConsultationStatus(str, enum.Enum):
    """Where a consultation stands for the public."""

    OPEN = "open"          # 正在征求意见
    CLOSED = "closed"      # 已截止, feedback not yet public
    FEEDBACK = "feedback"  # 已公布采纳情况: public from the procedure's stage, with an outcome or the final text
    # (services/status.feedback_public, as the API's listing: api/listing.py)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def terms(text: str) -> dict[str, int]:
    """Count the index terms of a text: Chinese character pairs (a lone character stays single) and words."""
    counts: Counter[str] = Counter()
    for run in _RUN.findall(_normalise(text)):
        if not _IS_CJK.match(run):
            counts[run[:MAX_TERM_LENGTH]] += 1
        elif len(run) == 1:
            counts[run] += 1
        else:
            counts.update(run[i:i + 2] for i in range(len(run) - 1))
    return dict(counts)


def _weights(title: str, text: str) -> dict[str, int]:
    in_title, in_text = terms(title), terms(text)
    return {term: TITLE_WEIGHT * (term in in_title) + min(in_text.get(term, 0), TEXT_WEIGHT_CAP)
            for term in in_title.keys() | in_text.keys()}


def _shanghai_year(moment: datetime) -> int:
    return moment.astimezone(SHANGHAI).year


def _store(kind: Kind, ref_id: int, document: Document, *, visible_from: datetime, text: str) -> SearchEntry:
    """Create or refresh one entry and its terms; flush only, the caller owns the transaction."""
    entry = db.session.scalars(
        select(SearchEntry).where(SearchEntry.kind == kind.value, SearchEntry.ref_id == ref_id)
    ).first()
    if entry is None:
        entry = SearchEntry(kind=kind.value, ref_id=ref_id)
        db.session.add(entry)
    entry.document_id, entry.department_id = document.id, document.department_id
    entry.year, entry.visible_from = _shanghai_year(visible_from), visible_from
    entry.title, entry.text = document.title, text
    db.session.flush()
    db.session.execute(delete(SearchTerm).where(SearchTerm.entry_id == entry.id))
    rows = [{"term": t, "entry_id": entry.id, "weight": w} for t, w in _weights(document.title, text).items()]
    if rows:  # a Core executemany: the ORM's bulk path costs more than the insert itself here
        db.session.execute(insert(SearchTerm.__table__), rows)
    return entry


def _remove(kind: Kind, ref_id: int) -> None:
    """Drop an entry with its terms (SQLite does not enforce the cascade)."""
    entry = select(SearchEntry.id).where(SearchEntry.kind == kind.value, SearchEntry.ref_id == ref_id)
    db.session.execute(delete(SearchTerm).where(SearchTerm.entry_id.in_(entry)))
    db.session.execute(delete(SearchEntry).where(SearchEntry.id.in_(entry)))


def _articles_text(version) -> str:
    lines: list[str] = []
    chapter = None
    for article in version.articles:
        if article.chapter and article.chapter != chapter:
            chapter = article.chapter
            lines.append(chapter)
        lines.append(f"{article.label} {article.text}")
    return "\n".join(lines) or version.body


def index_consultation(consultation: Consultation) -> None:
    """Add or refresh the entry of a consultation (visible from its opening time)."""
    version = consultation.version
    text = "\n".join(part for part in (consultation.notice, version.explanation, _articles_text(version)) if part)
    _store(Kind.CONSULTATION, consultation.id, consultation.document, visible_from=consultation.opens_at, text=text)


def index_document(document: Document) -> None:
    """Add or refresh the library entry of a published document (visible from its publication time)."""
    final = final_version(document)
    if document.published_at is None or final is None:
        _remove(Kind.LIBRARY, document.id)
        return
    parts = (document.document_number, _articles_text(final), document.policy_interpretation)
    _store(Kind.LIBRARY, document.id, document, visible_from=document.published_at,
           text="\n".join(part for part in parts if part))


def reindex_all() -> int:
    """Rebuild the whole index from the consultations and the published documents; return the entry count."""
    db.session.execute(delete(SearchTerm))
    db.session.execute(delete(SearchEntry))
    articles = selectinload(Consultation.version).selectinload(DocumentVersion.articles)
    consultations = db.session.scalars(
        select(Consultation).options(joinedload(Consultation.document), articles).order_by(Consultation.id)).all()
    for consultation in consultations:
        index_consultation(consultation)
    documents = db.session.scalars(
        select(Document).where(Document.published_at.is_not(None))
        .options(selectinload(Document.versions).selectinload(DocumentVersion.articles)).order_by(Document.id)).all()
    for document in documents:
        index_document(document)
    return db.session.scalar(select(func.count(SearchEntry.id)))


# Statuses -----------------------------------------------------------------------------------------------


def library_statuses() -> list[str]:

    return [s.value for s in LibraryStatus]


def statuses_of(kind: Kind) -> list[str]:
    return [s.value for s in ConsultationStatus] if kind is Kind.CONSULTATION else library_statuses()


def consultation_status(consultation: Consultation, now: datetime) -> ConsultationStatus:

    if feedback_public(consultation.document, now):
        return ConsultationStatus.FEEDBACK
    return ConsultationStatus.OPEN if consultation.is_open(now) else ConsultationStatus.CLOSED


def _consultation_status_clause(status: ConsultationStatus, now: datetime):
    """The SQL twin of ``consultation_status`` (tests hold them together)."""
    published = and_(Document.feedback_published_at.is_not(None), Document.feedback_published_at <= now)
    if status is ConsultationStatus.FEEDBACK:
        return published
    window = and_(Consultation.opens_at <= now, Consultation.closes_at > now)
    return and_(not_(published), window if status is ConsultationStatus.OPEN else not_(window))


# Searching ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    kind: str
    ref_id: int
    document_id: int
    title: Markup       # with the matched terms marked
    snippet: Markup     # a short excerpt around the first match, marked
    department: str
    date: datetime      # the opening or publication time
    status: str | None  # a ConsultationStatus or LibraryStatus value
    document_number: str | None = None
    outcome: str | None = None  # a consultation's document ended without a final text: 审议未通过 / 已撤回

    @property
    def url(self) -> str:
        if self.kind == Kind.CONSULTATION.value:
            return url_for("public.consultation", consultation_id=self.ref_id)
        try:
            return url_for("public.library_document", document_id=self.document_id)
        except BuildError:  # the library pages are not there yet
            return f"/library/{self.document_id}"


@dataclass(frozen=True)
class Page:
    items: list[SearchResult]
    total: int
    page: int
    pages: int
    per_page: int = 20


def query_terms(query: str) -> list[str]:
    """The distinct terms of a query in order, at most MAX_QUERY_TERMS."""
    return list(terms(query))[:MAX_QUERY_TERMS]


def _is_single_cjk(term: str) -> bool:
    return len(term) == 1 and bool(_IS_CJK.match(term))


def _matching(found: list[str]):
    """Select (entry id, score) of the entries holding every term, and the score expression.

    Pairs and words must all be there (GROUP BY … HAVING count = n). A lone Chinese character is not a term
    of its own inside a longer run, so it is looked for in the title and text themselves (LIKE).
    """
    exact = [t for t in found if not _is_single_cjk(t)]
    stmt, scores = select(SearchEntry.id), []
    if exact:
        hits = (
            select(SearchTerm.entry_id, func.sum(SearchTerm.weight).label("w")).where(SearchTerm.term.in_(exact))
            .group_by(SearchTerm.entry_id).having(func.count(distinct(SearchTerm.term)) == len(exact)).subquery()
        )
        stmt = stmt.join(hits, hits.c.entry_id == SearchEntry.id)
        scores.append(hits.c.w)
    for char in (t for t in found if _is_single_cjk(t)):
        in_title = SearchEntry.title.contains(char)
        stmt = stmt.where(or_(in_title, SearchEntry.text.contains(char)))
        scores.append(case((in_title, TITLE_WEIGHT), else_=1))
    if not scores:  # no terms: every entry, the most recent first
        return stmt, None
    score = sum(scores[1:], scores[0])
    return stmt.add_columns(score.label("score")), score


def _check_filters(kind: str | None, status: str | None) -> Kind | None:
    try:
        chosen = Kind(kind) if kind else None
    except ValueError:
        raise InvalidInput(_("Unknown kind of result.")) from None
    if status:
        owners = [k for k in Kind if status in statuses_of(k)]
        if not owners:
            raise InvalidInput(_("Unknown status."))
        if chosen is not None and chosen is not owners[0]:
            raise InvalidInput(_("This status does not apply to the kind of result chosen."))
        chosen = owners[0]
    return chosen


def search(
    query: str, *, kind: str | None = None, department_id: int | None = None, status: str | None = None,
    year: int | None = None, page: int = 1, per_page: int = 20, now: datetime | None = None,
) -> Page:
    """Find the public entries that hold every term of the query, best first, then the most recent."""
    now = now or utcnow()
    chosen = _check_filters(kind, status)
    page, per_page = max(1, page), min(max(1, per_page), 100)
    found = query_terms(query)
    stmt, score = _matching(found)
    stmt = stmt.where(SearchEntry.visible_from <= now)  # nothing public before its time
    if chosen is not None:
        stmt = stmt.where(SearchEntry.kind == chosen.value)
    if department_id is not None:
        stmt = stmt.where(SearchEntry.department_id == department_id)
    if year is not None:
        stmt = stmt.where(SearchEntry.year == year)
    if status and chosen is Kind.CONSULTATION:
        stmt = (stmt.join(Consultation, Consultation.id == SearchEntry.ref_id)
                .join(Document, Document.id == SearchEntry.document_id)
                .where(_consultation_status_clause(ConsultationStatus(status), now)))
    ranking = [score.desc()] if score is not None else []
    stmt = stmt.order_by(*ranking, SearchEntry.visible_from.desc(), SearchEntry.id.desc())

    if status and chosen is Kind.LIBRARY:
        stmt = (stmt.join(Document, Document.id == SearchEntry.document_id)
                .where(Document.effective_date.is_not(None),
                       status_expression(now.astimezone(SHANGHAI).date()) == status))
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page_ids = [row.id for row in db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))]
    return Page(items=_results(page_ids, found, now), total=total, page=page,
                pages=math.ceil(total / per_page), per_page=per_page)


def _results(entry_ids: list[int], found: list[str], now: datetime) -> list[SearchResult]:
    from .labels import localized
    from .services import feedback_stage

    if not entry_ids:
        return []
    rows = {entry.id: (entry, name) for entry, name in db.session.execute(
        select(SearchEntry, Department.name).join(Department, Department.id == SearchEntry.department_id)
        .where(SearchEntry.id.in_(entry_ids))
    )}
    documents = {d.id: d for d in db.session.scalars(
        select(Document).where(Document.id.in_([entry.document_id for entry, _name in rows.values()])))}
    consultations = {c.id: c for c in db.session.scalars(select(Consultation).where(Consultation.id.in_(
        [entry.ref_id for entry, _name in rows.values() if entry.kind == Kind.CONSULTATION.value])))}
    results = []
    for entry_id in entry_ids:
        entry, department = rows[entry_id]
        document = documents[entry.document_id]
        if entry.kind == Kind.CONSULTATION.value:
            consultation = consultations.get(entry.ref_id)
            state = consultation_status(consultation, now).value if consultation else None
            ended = feedback_stage.outcome(document) if state == ConsultationStatus.FEEDBACK.value else None
        else:
            state, ended = getattr(library_status(document, now), "value", None), None
        results.append(SearchResult(
            kind=entry.kind, ref_id=entry.ref_id, document_id=entry.document_id,
            title=highlight(entry.title, found), snippet=highlight(entry.text, found, excerpt=True),
            department=department, date=entry.visible_from, status=state,
            document_number=document.document_number if entry.kind == Kind.LIBRARY.value else None,
            outcome=localized(ended.title, ended.title_en) if ended else None,
        ))
    return results


# Highlighting -------------------------------------------------------------------------------------------


def _marked(text: str, found: list[str]) -> list[bool]:
    """Which characters of ``text`` belong to a match of one of the terms (compared normalised)."""
    normalised = _normalise(text)
    if len(normalised) == len(text):
        owner = range(len(text))
    else:  # NFKC or lower-casing changed a length: map each normalised character back to its source
        owner = [i for i, char in enumerate(text) for _char in _normalise(char)]
        normalised = "".join(_normalise(char) for char in text)
    marked = [False] * len(text)
    for term in found:
        whole_word = not _IS_CJK.match(term)
        start = normalised.find(term)
        while start != -1:
            end = start + len(term)
            if not whole_word or (
                (start == 0 or not _IS_WORD.match(normalised[start - 1]))
                and (end == len(normalised) or len(term) == MAX_TERM_LENGTH or not _IS_WORD.match(normalised[end]))
            ):
                for k in range(start, end):
                    marked[owner[k]] = True
            start = normalised.find(term, start + 1)
    return marked


def highlight(text: str, found: list[str], *, excerpt: bool = False) -> Markup:
    """Escape ``text`` and wrap the matches in <mark>; with ``excerpt``, only a short window around the first."""
    if excerpt:
        text = " ".join(text.split())
    marked = _marked(text, found)
    start, end = 0, len(text)
    if excerpt:
        first = marked.index(True) if True in marked else 0
        start = max(0, first - SNIPPET_BEFORE)
        end = min(len(text), start + SNIPPET_LENGTH)
    pieces: list[str] = ["…"] if start > 0 else []
    i = start
    while i < end:
        j = i
        while j < end and marked[j] == marked[i]:
            j += 1
        chunk = escape(text[i:j])
        pieces.append(Markup("<mark>{}</mark>").format(chunk) if marked[i] else chunk)
        i = j
    if end < len(text):
        pieces.append("…")
    return Markup("").join(pieces)
