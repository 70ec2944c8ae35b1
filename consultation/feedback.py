"""The public adoption feedback (意见采纳情况反馈): one builder for the page, the PDF, the CSV and the API.

The feedback is a summary (counts from the counters, the articles that received comments) and rows,
grouped by article: a page of one article's rows (keyset), or every row as a stream (constant memory),
never every row in a list. A campaign group is one row with its size while its members share the
answer of its first text; a member answered otherwise has a row of its own (``Comment.own_row``).

Only what may be public leaves this module: no name, phone, email, organisation or address of a
commenter; a masked name where the commenter agreed.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .audit import Checkpoint, publication_checkpoint
from .extensions import db
from .models import (
    AnswerDecision, Article, Comment, CommentAnswer, CommentCampaign, Consultation, Document, HiddenReason, Moderation,
)
from .privacy import mask_name
from .services import offline, tallies
from .services.comment_lists import PAGE, Page
from .services.publication import final_version

DECISION_LABELS = {
    AnswerDecision.ADOPTED.value: _l("Adopted"),
    AnswerDecision.PARTLY_ADOPTED.value: _l("Partly adopted"),
    AnswerDecision.NOT_ADOPTED.value: _l("Not adopted"),
    AnswerDecision.EXPLAINED.value: _l("Answered without change"),
}


HIDDEN_REASON_LABELS = {
    HiddenReason.SPAM.value: _l("spam or meaningless content"),
    HiddenReason.ABUSE.value: _l("abuse"),
    HiddenReason.PERSONAL_DATA.value: _l("someone else's personal data"),
    HiddenReason.OFF_TOPIC.value: _l("off-topic"),
}
STREAM_CHUNK = 1000


@dataclass(frozen=True)
class AnswerCounts:
    total: int
    adopted: int
    partly_adopted: int
    not_adopted: int
    explained: int
    unanswered: int


def answer_counts(counts: tallies.Counts) -> AnswerCounts:
    by = counts.by_decision
    return AnswerCounts(total=counts.total, adopted=by.get(AnswerDecision.ADOPTED.value, 0),
                        partly_adopted=by.get(AnswerDecision.PARTLY_ADOPTED.value, 0),
                        not_adopted=by.get(AnswerDecision.NOT_ADOPTED.value, 0),
                        explained=by.get(AnswerDecision.EXPLAINED.value, 0), unanswered=counts.unanswered)


@dataclass(frozen=True)
class ChangedArticle:
    """An article of the final text that an adopted answer changed (修改对照表)."""
    seq: int
    label: str


@dataclass(frozen=True)
class PublicComment:
    number: int
    body: str
    decision: str | None
    decision_label: str
    reason: str
    masked_name: str | None
    count: int = 1  # a campaign group: one representative text for this many comments
    hidden: bool = False
    changed_articles: tuple[ChangedArticle, ...] = ()  # the change an adopted answer caused in the final text


@dataclass(frozen=True)
class ArticleGroup:
    key: int  # the article's id, 0 for the draft as a whole
    label: str  # 第三条, or the whole draft
    anchor: str
    text: str
    comments: int  # how many comments concern it (a group counts each of its members)


@dataclass(frozen=True)
class FinalArticle:
    label: str
    chapter: str | None
    text: str


@dataclass(frozen=True)
class Feedback:
    """Everything of the feedback but its rows, which are paged (``rows``) or streamed (``stream``)."""

    document_id: int
    title: str
    document_number: str | None
    department: str
    published_at: datetime | None
    counts: AnswerCounts
    groups: list[ArticleGroup]
    final_articles: list[FinalArticle]
    policy_interpretation: str | None
    hidden: dict[str, int] = field(default_factory=dict)  # reason label -> how many comments were hidden
    checkpoint: Checkpoint | None = None  # the audit trail's signed head that covers the publication
    channels: dict[str, int] = field(default_factory=dict)  # web, letter, email, meeting -> how many comments
    prior_assessments: object | None = None  # services/invitations.PublicSummary: invited 事前评估, counted apart

    @property
    def hidden_total(self) -> int:
        return sum(self.hidden.values())

    def group(self, key: int | None) -> ArticleGroup | None:
        return next((g for g in self.groups if g.key == key), self.groups[0] if key is None and self.groups else None)


def channel_line(channels: dict[str, int]) -> str:
    """其中网上x条、信函y条、电子邮件z条、座谈会等w条 (how the comments came in, kept in Chinese)."""
    return (f"其中网上{channels.get('web', 0)}条、信函{channels.get('letter', 0)}条、"
            f"电子邮件{channels.get('email', 0)}条、座谈会等{channels.get('meeting', 0)}条")


def summary_line(counts: AnswerCounts) -> str:
    """共收到意见N条，采纳a条，部分采纳p条，未采纳n条 (the official wording, kept in Chinese)."""
    line = (f"共收到意见{counts.total}条，采纳{counts.adopted}条，"
            f"部分采纳{counts.partly_adopted}条，未采纳{counts.not_adopted}条")
    if counts.explained:
        line += f"，作出说明{counts.explained}条"
    return line


def _consultation_ids(document: Document) -> list[int]:
    return list(db.session.scalars(select(Consultation.id).where(Consultation.document_id == document.id)))


def article_groups(document: Document) -> list[ArticleGroup]:
    """The articles that received comments, in the order of the draft; the whole draft first."""
    per_article: dict[int, int] = {}
    for consultation_id in _consultation_ids(document):
        for key, n in tallies.per_article(consultation_id).items():
            per_article[key or 0] = per_article.get(key or 0, 0) + n
    per_article = {k: n for k, n in per_article.items() if n > 0}
    articles = db.session.scalars(select(Article).where(Article.id.in_([k for k in per_article if k]))).all()
    groups = [ArticleGroup(0, str(_l("The draft as a whole")), "general", "", per_article[0])] if 0 in per_article else []
    groups += [ArticleGroup(a.id, a.label, a.anchor, a.text, per_article[a.id])
               for a in sorted(articles, key=lambda a: (a.seq, a.id))]
    return groups


def build_feedback(document: Document) -> Feedback:
    """The feedback's summary: counters and one query per kind of thing, whatever the number of comments."""
    counts = tallies.counts(document=document)
    hidden: dict[str, int] = {}
    for reason, n in sorted(counts.hidden_by_reason.items()):
        label = str(HIDDEN_REASON_LABELS.get(reason, _l("not yet moderated")))
        hidden[label] = hidden.get(label, 0) + n
    if pending := counts.by_moderation.get(Moderation.PENDING.value, 0):
        label = str(_l("not yet moderated"))
        hidden[label] = hidden.get(label, 0) + pending
    final = final_version(document)
    return Feedback(
        document_id=document.id, title=document.title,
        document_number=document.document_number if document.published_at else None,  # public with the final text
        department=document.department.name, published_at=document.published_at, counts=answer_counts(counts),
        groups=article_groups(document),
        final_articles=[FinalArticle(a.label, a.chapter, a.text) for a in (final.articles if final else [])],
        policy_interpretation=document.policy_interpretation, hidden=hidden,
        checkpoint=publication_checkpoint(document),
        channels=offline.channel_counts(document, counts.total),
        prior_assessments=_prior_assessments(document),
    )


def _prior_assessments(document: Document):
    from .services import invitations  # 事前评估: counts, decisions, and an expert's name only with consent

    return invitations.public_summary(document)


def _hidden_text(reason: str | None) -> str:
    label = HIDDEN_REASON_LABELS.get(reason or "", _l("not yet moderated"))
    return str(_l("[Not shown publicly: %(reason)s]", reason=label))


_ROW_COLUMNS = (Comment.id, Comment.body, Comment.moderation, Comment.hidden_reason, Comment.name,
                Comment.show_masked_name, Comment.campaign_id, CommentAnswer.decision, CommentAnswer.reason)


def _row_query(document_id: int, article_key: int):
    query = (select(*_ROW_COLUMNS).outerjoin(CommentAnswer, CommentAnswer.comment_id == Comment.id)
             .where(Comment.document_id == document_id, Comment.own_row))
    return query.where(Comment.article_id.is_(None) if article_key == 0 else Comment.article_id == article_key)


def _public_rows(rows: list, first_number: int, document_id: int) -> list[PublicComment]:
    """Turn one batch of rows into public rows: a few more queries for the batch, not one per row."""
    from .services.comparison import ADOPTING, changes_by_comment

    changed = changes_by_comment(document_id, [r.id for r in rows if r.decision in ADOPTING])
    campaign_ids = {r.campaign_id for r in rows if r.campaign_id is not None}
    groups: dict[int, tuple[int, int, int | None]] = {}
    split: dict[int, int] = {}
    shown: dict[int, tuple] = {}
    if campaign_ids:
        groups = {g.id: (g.representative_id, g.size, g.shown_id) for g in db.session.execute(
            select(CommentCampaign.id, CommentCampaign.representative_id, CommentCampaign.size,
                   CommentCampaign.shown_id).where(CommentCampaign.id.in_(campaign_ids)))}
        # Members with a row of their own (answered otherwise) are not counted in their group's row.
        split = dict(db.session.execute(
            select(Comment.campaign_id, func.count()).where(Comment.campaign_id.in_(campaign_ids), Comment.own_row)
            .group_by(Comment.campaign_id)).all())
        shown_ids = {g[2] for g in groups.values() if g[2] is not None}
        shown = {r.id: r for r in db.session.execute(
            select(Comment.id, Comment.body, Comment.name, Comment.show_masked_name)
            .where(Comment.id.in_(shown_ids)))} if shown_ids else {}
    result = []
    for number, r in enumerate(rows, start=first_number):
        count, text = 1, r if r.moderation == Moderation.PUBLISHED.value else None
        group = groups.get(r.campaign_id)
        if group is not None and group[0] == r.id:  # the group's row: its first published text, its size
            count = max(1, group[1] - split.get(r.campaign_id, 1) + 1)
            if count > 1:
                text = shown.get(group[2]) if group[2] is not None else None
        result.append(PublicComment(
            number=number,
            body=text.body if text is not None else _hidden_text(r.hidden_reason),
            decision=r.decision,
            decision_label=str(DECISION_LABELS[r.decision]) if r.decision else str(_l("Not yet answered")),
            reason=r.reason or "",
            masked_name=mask_name(text.name) if text is not None and text.show_masked_name and count == 1 else None,
            count=count, hidden=text is None,
            changed_articles=tuple(ChangedArticle(a.seq, a.label) for a in changed.get(r.id, ())),
        ))
    return result


def rows(document_id: int, article_key: int, *, after: tuple[int, int] | None = None,
         limit: int = PAGE) -> Page[PublicComment]:
    """One page of an article's rows; numbered within the article. ``after``: (last id, last number)."""
    query = _row_query(document_id, article_key)
    last_id, last_number = after or (0, 0)
    batch = db.session.execute(query.where(Comment.id > last_id).order_by(Comment.id).limit(limit + 1)).all()
    more = len(batch) > limit
    batch = batch[:limit]
    items = _public_rows(batch, last_number + 1, document_id)
    return Page(items, f"{batch[-1].id}.{items[-1].number}" if more and batch else None)


@dataclass(frozen=True)
class Section:
    group: ArticleGroup
    rows: list[PublicComment]


@dataclass(frozen=True)
class FeedbackPage:
    sections: list[Section]
    next_after: str | None  # "<group index>.<last id>.<last number>"


def rows_before(document: Document, groups: list[ArticleGroup], index: int) -> int:
    """How many feedback rows the articles before ``groups[index]`` have (counted on the partial index)."""
    keys = [g.key for g in groups[:index]]
    if not keys:
        return 0
    ids = [k for k in keys if k]
    condition = Comment.article_id.in_(ids)
    if 0 in keys:
        condition = condition | Comment.article_id.is_(None)
    return db.session.scalar(select(func.count()).select_from(Comment)
                             .where(Comment.document_id == document.id, Comment.own_row, condition)) or 0


def page(document: Document, groups: list[ArticleGroup], *, start: int = 0, after: tuple[int, int] | None = None,
         limit: int = PAGE) -> FeedbackPage:
    """One page of the whole feedback, article after article from ``groups[start]``, numbered through.

    ``after``: (last id, last number) inside ``groups[start]``; without it the page begins that article.
    """
    if not groups or start >= len(groups):
        return FeedbackPage([], None)
    last_id, number = after if after is not None else (0, rows_before(document, groups, start))
    sections: list[Section] = []
    left, index, cursor = limit, start, None
    while index < len(groups) and left > 0:
        group = groups[index]
        part = rows(document.id, group.key, after=(last_id, number), limit=left)
        if part.items:
            sections.append(Section(group, part.items))
            left -= len(part.items)
            number = part.items[-1].number
        if part.next_after is not None:
            cursor = f"{index}.{part.next_after}"
            break
        index, last_id = index + 1, 0
    else:
        if index < len(groups):
            cursor = f"{index}.0.{number}"
    return FeedbackPage(sections, cursor)


def stream(document: Document | int, groups: list[ArticleGroup] | None = None
           ) -> Iterator[tuple[ArticleGroup, list[PublicComment]]]:
    """Every row, article by article, in batches of at most STREAM_CHUNK rows (constant memory).

    Numbered through the whole feedback (the official table's 序号), where the page numbers each
    article's rows on their own."""
    # Only the document's id is used while streaming: the response is sent after the view has returned.
    document_id, offset = (document if isinstance(document, int) else document.id), 0
    for group in groups if groups is not None else article_groups(document):
        after = None
        while True:
            page = rows(document_id, group.key, after=after, limit=STREAM_CHUNK)
            if page.items:
                yield group, [replace(row, number=offset + row.number) for row in page.items]
            if page.next_after is None:
                offset += page.items[-1].number if page.items else 0
                break
            after = tuple(int(p) for p in page.next_after.split("."))


CSV_HEADER = ("序号", "条款", "意见建议", "意见人", "采纳情况", "理由")


def feedback_csv(document: Document, note: str | None = None) -> Iterator[bytes]:
    """The feedback table as CSV, streamed; UTF-8 with a BOM so that Excel opens the Chinese correctly.

    Only what the feedback page shows: a masked name where the commenter agreed, nothing else personal.
    Everything that needs the document is read before the first byte is sent. ``note``: a last row, where
    the feedback stands before the final text or the outcome (services/feedback_stage.py).
    """
    from itertools import chain

    from .services import invitations

    return chain(_csv_lines(document.id, article_groups(document), note),
                 invitations.csv_rows(invitations.public_summary(document), _cell))


def _csv_lines(document_id: int, groups: list[ArticleGroup], note: str | None = None) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(CSV_HEADER)
    yield "\ufeff".encode("utf-8") + flush()
    for group, batch in stream(document_id, groups):
        for c in batch:
            body = c.body if c.count == 1 else f"{c.body}（同类意见{c.count}条）"
            writer.writerow([c.number, group.label, _cell(body), c.masked_name or "", c.decision_label,
                             _cell(c.reason)])
        yield flush()
    if note:
        writer.writerow(["说明", "", _cell(note), "", "", ""])
        yield flush()


def _cell(text: str) -> str:
    """Keep a spreadsheet from running a comment as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
